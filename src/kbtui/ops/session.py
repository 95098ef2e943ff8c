"""Open a KB for a command: workspace, index database, and an incremental re-index."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kbtui.ops.workspace import Workspace, open_workspace
from kbtui.store.db import Database, open_db

if TYPE_CHECKING:
    from kbtui.ops.report import IndexReport, Progress


@dataclass(slots=True)
class Session:
    """An open KB: where it is, its index, and what the last re-index changed."""

    workspace: Workspace
    db: Database
    note: str | None = None
    report: IndexReport | None = None

    def reindex(self, progress: Progress | None = None, full: bool = False) -> IndexReport:
        from kbtui.ops.indexer import index_kb  # the parsing stack loads only when needed

        self.report = index_kb(self.db, self.workspace.root, progress, full=full)
        return self.report

    def close(self) -> None:
        self.db.conn.close()


def open_session(kb: str | Path | None, db: str | Path | None) -> Session:
    """Open the KB (the demo KB when `kb` is None) and its index, without indexing yet."""
    workspace, note = open_workspace(kb, db)
    return Session(workspace, open_db(workspace.db_path), note)
