"""Helpers for driving the app in tests: open a KB, wait for the index, read widgets."""

from __future__ import annotations

from pathlib import Path

from textual.content import Content
from textual.widgets import Static

from kbtui.ops.session import open_session
from kbtui.ui.app import KbApp


def make_app(kb: Path | None, db: Path | None = None) -> KbApp:
    """An app over `kb` (None: the demo KB) whose index is built before it starts."""
    session = open_session(kb, db)
    session.reindex()
    return KbApp(session, index_on_start=False)


def static_text(app: KbApp, selector: str) -> str:
    """The plain text a Static shows on the current screen."""
    widget = app.screen.query_one(selector, Static)
    content = widget.content
    if isinstance(content, str):
        return Content.from_markup(content).plain
    return str(getattr(content, "plain", content))
