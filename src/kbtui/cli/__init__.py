"""The `kbtui` command line: the same operations as the app, for scripts and tests.

`base` holds the `main` group and what every command shares, `render` the printing; each
other module is a group of commands, registered on `main` when it is imported here. A
command parses its arguments, calls an operation (`kbtui.ops`) and renders the result.
"""

from __future__ import annotations

from kbtui.cli import app, check, curation, drafts, export, index  # noqa: F401 (registers)
from kbtui.cli.base import main

__all__ = ["main"]
