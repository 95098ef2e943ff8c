"""Export killed at random points: every file wholly old or wholly new; the next run finishes."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from kbtui.ops import curation, export
from kbtui.ops.atomic import TEMP_SUFFIX
from kbtui.ops.session import open_session

from gen_kb import generate_kb

TRIALS = 50
CHILD = """
import sys
from pathlib import Path
from kbtui.ops import export
from kbtui.ops.session import open_session

session = open_session(Path(sys.argv[1]), None)
plan = export.plan_export(session.db, session.workspace.root, "tester")
print("go", flush=True)
export.apply_export(session.db, session.workspace.root, plan)
print("done", flush=True)
"""


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*.md")}


def restore(pristine: Path, trial: Path) -> None:
    shutil.rmtree(trial, ignore_errors=True)
    shutil.copytree(pristine, trial)


def test_sigkill_during_export_never_leaves_a_torn_file(tmp_path: Path) -> None:
    pristine = tmp_path / "pristine"
    generate_kb(pristine, 200, seed=11)
    session = open_session(pristine, None)
    session.reindex()
    sources = [
        row[0]
        for row in session.db.conn.execute(
            "SELECT path FROM documents WHERE kind = 'source' AND status != 'processing'"
        )
    ]
    for path in sources:
        curation.set_status(session.db, path, "processing", who="tester")
    plan = export.plan_export(session.db, pristine, "tester")
    session.close()
    old = snapshot(pristine)
    new = {**old, **{c.path: c.after for c in plan.changes if c.skipped is None}}
    assert len(plan.writable) >= 150

    trial = tmp_path / "trial"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    rng = random.Random(5)
    killed_mid_way = 0
    for _ in range(TRIALS):
        restore(pristine, trial)
        child = subprocess.Popen(
            [sys.executable, str(script), str(trial)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "go"
        time.sleep(rng.uniform(0, 0.25))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        after = snapshot(trial)
        assert set(after) == set(old)
        for path, data in after.items():
            assert data in (old[path], new[path]), path
        changed = sum(1 for path in after if after[path] != old[path])
        if 0 < changed < len(plan.writable):
            killed_mid_way += 1
        resumed = open_session(trial, None)
        resumed.reindex()
        export.apply_export(resumed.db, trial, export.plan_export(resumed.db, trial, "tester"))
        assert resumed.db.conn.execute("SELECT count(*) FROM pending_status").fetchone()[0] == 0
        resumed.close()
        assert snapshot(trial) == new
        assert not list(trial.rglob(f"*{TEMP_SUFFIX}"))
    assert killed_mid_way >= 5, killed_mid_way
