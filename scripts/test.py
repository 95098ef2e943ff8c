"""Run every check the project has: ruff (lint and format), mypy, then pytest.

Usage: python scripts/test.py [extra pytest arguments]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*command: str) -> int:
    print("$", " ".join(command), flush=True)
    return subprocess.call(command, cwd=ROOT)


def main() -> int:
    python = sys.executable
    failures = 0
    failures += run(python, "-m", "ruff", "check", "src", "tests", "bench", "scripts") != 0
    failures += (
        run(python, "-m", "ruff", "format", "--check", "src", "tests", "bench", "scripts") != 0
    )
    failures += run(python, "-m", "mypy") != 0
    extra = sys.argv[1:]
    # Every CPU the machine has (both, on the 2-CPU machines CI runs on), unless the
    # caller chose (`-n 0` runs in one process).
    parallel = [] if any(a.startswith(("-n", "--numprocesses")) for a in extra) else ["-n", "auto"]
    code = run(python, "-m", "pytest", *parallel, *extra)
    failures += code != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
