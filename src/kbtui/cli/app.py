"""`kbtui open`: the curator's app (also `kbtui` and `kbtui KB`). The app, and Textual with
it, is imported only when this command runs."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from rich.markup import escape

from kbtui.cli.base import db_option, err, fail, kb_argument, main, root_db, say
from kbtui.ops import curation
from kbtui.ops.session import open_session
from kbtui.store.db import StoreError


@main.command("open")
@kb_argument
@db_option
def open_app(kb: str | None, db_path: str | None) -> None:
    """Open the curator's app on KB (default: the demo KB)."""
    try:
        from kbtui.ui.app import KbApp
    except ImportError as exc:  # pragma: no cover - broken installation
        fail(f"the app cannot start: {exc}")
    db_path = db_path or root_db()
    try:
        session = open_session(kb, db_path)
    except OSError as exc:
        fail(f"{exc.filename or 'file'}: {exc.strerror}")
    if session.note:
        err.print(session.note)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        session.close()
        fail("the app needs a terminal (for scripts, see the commands: kbtui --help)")
    KbApp(session).run()
    session.db.listener = say
    try:
        session.db.check_file()  # deleted meanwhile: written again before saying it holds work
    except StoreError as exc:
        session.db.conn.close()
        fail(str(exc))
    drafts, statuses = curation.pending_work(session.db)
    session.close()
    if drafts or statuses:
        # Safe in the index, but not yet in the markdown files (nor in a pull request).
        command = "kbtui export"
        if not session.workspace.is_demo:
            command += f" {shlex.quote(str(session.workspace.root))}"
        if db_path and Path(db_path).resolve() != session.workspace.root / "kb.sqlite":
            command += f" --db {shlex.quote(str(Path(db_path).resolve()))}"
        err.print(
            f"{drafts} saved draft{'s' if drafts != 1 else ''} and {statuses} status "
            f"change{'s' if statuses != 1 else ''} wait for export: {escape(command)}"
        )
