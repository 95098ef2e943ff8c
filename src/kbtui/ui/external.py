"""Running the curator's `$EDITOR` on a file, with the app suspended."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

from textual.app import App, SuspendNotSupported


def editor_command() -> str:
    return os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"


def run_editor(app: App[Any], path: Path) -> str | None:
    """Edit `path` in `$VISUAL`/`$EDITOR`; returns a one-line problem, or None when it ran.

    Where the terminal cannot be handed over (tests, headless), the editor runs without it
    (no input, its output discarded), the app waiting for it as ever.
    """
    editor = editor_command()
    try:
        command = [*shlex.split(editor), str(path)]  # an unbalanced quote: ValueError
        try:
            with app.suspend():
                code = subprocess.call(command)
        except SuspendNotSupported:
            code = subprocess.call(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
    except (OSError, ValueError) as exc:
        return f"cannot run {editor!r}: {getattr(exc, 'strerror', None) or exc}"
    return f"{editor} exited with {code}" if code != 0 else None
