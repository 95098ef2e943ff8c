"""Open a KB for a command: workspace, index database, and an incremental re-index."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kbtui.ops.workspace import DB_NAME, Workspace, WorkspaceError, open_workspace
from kbtui.store import index as store
from kbtui.store.db import Database, IndexLost, StoreError, describe_error, open_db

__all__ = ["IndexLost", "Session", "StoreError", "open_session"]
"""`IndexLost` and `StoreError` are the index's failures the front ends say."""

if TYPE_CHECKING:
    from kbtui.ops.report import IndexReport, Progress


@dataclass(slots=True)
class Session:
    """An open KB: where it is, its index, and what the last re-index changed."""

    workspace: Workspace
    db: Database
    note: str | None = None
    report: IndexReport | None = None

    def reindex(
        self,
        progress: Progress | None = None,
        full: bool = False,
        waiting: Callable[[], None] | None = None,
    ) -> IndexReport:
        """Index the KB; `waiting` is called if another run holds the index meanwhile."""
        from kbtui.ops.indexer import index_kb  # the parsing stack loads only when needed

        self.report = index_kb(self.db, self.workspace.root, progress, full=full, waiting=waiting)
        return self.report

    def close(self) -> None:
        self.db.close()


KB_ROOT = "kb_root"
"""Meta key: the folder of the KB an index was built for."""


def open_session(kb: str | Path | None, db: str | Path | None) -> Session:
    """Open the KB (the demo KB when `kb` is None) and its index, without indexing yet.

    An index belongs to one KB: given another KB's (`--db`), it is refused, since its drafts
    and status changes would be exported into the wrong files. A KB moved elsewhere (its old
    folder gone) takes its index along, and so does a KB copied with the index inside it."""
    workspace, note = open_workspace(kb, db)
    database = open_db(workspace.db_path)
    try:
        root = str(workspace.root.resolve())
        recorded = store.get_meta(database, KB_ROOT)
        if recorded != root:
            # An index inside the KB is that KB's, wherever the KB was moved or copied to.
            own = workspace.db_path.resolve() == workspace.root.resolve() / DB_NAME
            if recorded is not None and Path(recorded).is_dir() and not own:
                raise WorkspaceError(
                    f"the index {workspace.db_path} belongs to the KB at {recorded}, not "
                    f"{root}: open that KB, or give this one an index of its own (--db)"
                )
            with store.transaction(database):
                store.set_meta(database, KB_ROOT, root)
    except sqlite3.Error as exc:
        # Damage the first reads found (past the header), or another process's write lock.
        database.conn.close()
        raise StoreError(describe_error(exc, workspace.db_path, opening=True)) from exc
    except BaseException:
        database.close()
        raise
    return Session(workspace, database, note)
