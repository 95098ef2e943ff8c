"""ctrl+c during a long index run: one line, exit 130, no traceback from any process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import ctrl_c_as_at_a_terminal

from gen_kb import generate_kb


def test_ctrl_c_at_the_terminal_stops_an_index_run_with_one_line(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    generate_kb(kb, 1500, seed=3)
    child = subprocess.Popen(
        [sys.executable, "-c", "from kbtui.entry import main; main()", "index", str(kb)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job is
        preexec_fn=ctrl_c_as_at_a_terminal,
    )
    try:
        deadline = time.monotonic() + 30
        while not (kb / "kb.sqlite").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # the parser workers are running
        os.killpg(child.pid, signal.SIGINT)  # what ctrl+c does: every process of the job
        _, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert "Traceback" not in stderr, stderr
    if child.returncode == 0:
        return  # finished before the signal came: nothing to say about it
    assert child.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "kbtui: interrupted"
