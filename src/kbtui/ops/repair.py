"""`kbtui repair`: a damaged index moved aside (never deleted), a new one built from the
markdown, and the curator's work that can still be read carried over into it."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kbtui.formats.errors import KbtuiError
from kbtui.ops.gitcommit import UNCOMMITTED
from kbtui.ops.profile import load_profile
from kbtui.ops.session import open_session
from kbtui.ops.workspace import open_workspace
from kbtui.store import salvage as store

if TYPE_CHECKING:
    from kbtui.ops.report import Progress

SIDE_FILES = ("-wal", "-shm")
"""SQLite's files beside an index: its WAL holds the latest commits, so it moves with it."""


class RepairError(KbtuiError):
    """Repair could not start; the message says why in one line."""


class NothingToRepair(KbtuiError):
    """The index reads fine: it is left as it is."""


@dataclass(slots=True)
class RepairReport:
    db: Path
    moved_to: Path
    drafts: int = 0
    drafts_pending: int = 0
    actions: int = 0
    actions_pending: int = 0
    documents: int = 0
    not_saved: list[str] = field(default_factory=list)
    header_rewritten: bool = False
    damaged: bool = True
    """False when the index read fine and was rebuilt only because it was asked (--force)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "db": str(self.db),
            "moved_to": str(self.moved_to),
            "damaged": self.damaged,
            "drafts": self.drafts,
            "drafts_pending": self.drafts_pending,
            "actions": self.actions,
            "actions_pending": self.actions_pending,
            "documents": self.documents,
            "not_saved": self.not_saved,
        }


def aside_name(path: Path, what: str = "damaged") -> Path:
    """A free name beside `path` that says what the file is: `kb.sqlite.<what>-<time>`."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.name}.{what}-{stamp}")
    number = 1
    while any(Path(f"{candidate}{suffix}").exists() for suffix in ("", *SIDE_FILES)):
        number += 1
        candidate = path.with_name(f"{path.name}.{what}-{stamp}-{number}")
    return candidate


def repair(
    kb: str | Path | None,
    db: str | Path | None,
    progress: Progress | None = None,
    force: bool = False,
) -> RepairReport:
    """Move the index aside, build a new one, and carry the drafts and status changes
    over. Run it while no other kbtui uses the KB. An index that reads fine is left alone
    (`NothingToRepair`) unless `force`: an app using it would take it for replaced."""
    workspace, _ = open_workspace(kb, db)
    # The new index is built by the KB's profile: one that cannot be used stops repair
    # before anything is moved, or the index would be aside with nothing built in its place.
    load_profile(workspace.root)
    path = workspace.db_path
    if not path.is_file():
        raise RepairError(f"there is no index at {path}: nothing to repair")
    if store.looks_foreign(path):
        raise RepairError(
            f"{path} is a database of another program, not a kbtui index: left as it is"
        )
    damaged = not store.reads_fine(path)
    if not force and not damaged:
        raise NothingToRepair(
            f"the index {path} reads fine: nothing to repair, it is left as it is "
            "(--force rebuilds it anyway, while no other kbtui uses the KB)"
        )
    aside = aside_name(path, "damaged" if damaged else "old")
    try:
        for suffix in ("", *SIDE_FILES):
            side = Path(f"{path}{suffix}")
            if side.exists():
                os.rename(side, f"{aside}{suffix}")
    except OSError as exc:
        raise RepairError(f"cannot move {path} aside: {exc.strerror}") from exc
    report = RepairReport(path, aside, damaged=damaged)
    try:
        # An earlier export's files whose commit failed wait in the meta table for the next
        # `export --commit`: without them it would not know to commit them.
        saved = store.read_curator_work(aside, (UNCOMMITTED,))
    except OSError as exc:
        saved = store.Salvage(problems=[f"the damaged index cannot be read: {exc.strerror}"])
    session = open_session(kb, db)
    try:
        written = store.write_curator_work(session.db, saved)
        drafts = saved.rows.get("drafts", [])
        actions = saved.rows.get("actions", [])
        report.drafts = written["drafts"]
        report.actions = written["actions"]
        report.drafts_pending = sum(1 for d in drafts if d.get("exported_at") is None)
        report.actions_pending = sum(
            1 for a in actions if a.get("exported_at") is None and a.get("undone_at") is None
        )
        report.not_saved = saved.problems
        report.header_rewritten = saved.header_rewritten
        report.documents = session.reindex(progress, full=True).documents
    finally:
        session.close()
    return report
