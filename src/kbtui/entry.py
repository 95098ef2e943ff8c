"""The `kbtui` command's entry point: ctrl+c while the command is still loading ends it
with one line, as it does once the command runs."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from kbtui.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("kbtui: interrupted\n")
        raise SystemExit(130) from None
    run()
