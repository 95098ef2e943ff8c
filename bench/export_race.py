"""Another program appends to a source while export rewrites it: no line may be lost.

Usage:
    python bench/export_race.py [--trials N] [--megabytes M] [--seed S]

A small KB is made in a temporary folder, with one long source. Each trial sets a status
change on it, plans the export, asks a writer process to append one numbered line after a
random delay, and writes. Every line written so far must then be in the source, or in the
`.conflict-*` file export keeps beside it when the line landed while it wrote. Prints how
each trial ended (written, refused before the rename, caught at the rename).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

WRITER = textwrap.dedent(
    """
    import sys, time
    for number, line in enumerate(sys.stdin):
        path, delay = line.split("\\t")
        time.sleep(float(delay))
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"appended line {number}\\n")
        print("done", flush=True)
    """
)

SOURCE = """\
---
type: source
title: "Tariff study"
url: https://example.org/tariff-study
date: 2025-11-20
domain: energy
format: report
status: unprocessed
---

# Tariff study

"""


def make_kb(root: Path, megabytes: float) -> Path:
    """A KB of one source whose body is about `megabytes` long; returns the source."""
    archive = root / "inbox" / "archive"
    archive.mkdir(parents=True)
    source = archive / "2025-11-20-tariff-study.md"
    line = "Measured load, hour by hour, across the winter.\n"
    source.write_text(SOURCE + line * int(megabytes * 1e6 / len(line)), encoding="utf-8")
    return source


class LostLine(AssertionError):
    """A line the other program appended is nowhere to be found."""


def race(root: Path, trials: int, megabytes: float, seed: int = 17) -> dict[str, int]:
    """Run the race `trials` times in a new KB at `root`; how the trials ended, counted."""
    from kbtui.ops import curation, export
    from kbtui.ops.session import open_session

    target = make_kb(root, megabytes)
    relative = str(target.relative_to(root))
    session = open_session(root, None)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert writer.stdin is not None and writer.stdout is not None
    rng = random.Random(seed)
    # Delays up to about the time export takes to read the file twice: the line lands
    # before, during and after the write.
    spread = 0.002 + 0.006 * megabytes
    outcomes: dict[str, int] = {}
    try:
        for trial in range(trials):
            session.reindex()
            if curation.pending_work(session.db) == (0, 0):
                text = target.read_text(encoding="utf-8")
                wanted = "unprocessed" if "status: processing" in text else "processing"
                curation.set_status(session.db, relative, wanted, who="bench")
            plan = export.plan_export(session.db, root, "bench")
            writer.stdin.write(f"{target}\t{rng.uniform(0, spread)}\n")
            writer.stdin.flush()
            export.apply_export(session.db, root, plan)
            if writer.stdout.readline().strip() != "done":
                raise RuntimeError("the writer stopped")
            [change] = plan.changes
            outcome = "written" if change.written else str(change.skipped).split(":")[0]
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            kept = target.read_text(encoding="utf-8") + "".join(
                aside.read_text(encoding="utf-8")
                for aside in target.parent.glob(f"{target.name}.conflict-*")
            )
            for number in range(trial + 1):
                if f"appended line {number}\n" not in kept:
                    raise LostLine(f"trial {trial}: line {number} is lost ({outcomes})")
    finally:
        writer.stdin.close()
        writer.wait(timeout=10)
        session.close()
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--megabytes", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        try:
            outcomes = race(Path(folder) / "kb", args.trials, args.megabytes, args.seed)
        except LostLine as exc:
            print(f"LOST: {exc}")
            return 1
    print(f"{args.trials} trials on a {args.megabytes} MB source, no line lost:")
    for outcome, count in sorted(outcomes.items(), key=lambda item: -item[1]):
        print(f"  {count:4}  {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
