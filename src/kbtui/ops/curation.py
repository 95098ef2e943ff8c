"""Curator actions on sources: status transitions stored in SQLite, each one undoable.

The markdown files are not written here (export does that); queues and counts read the
pending status from the `pending_status` view at once.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from kbtui.formats.errors import KbtuiError
from kbtui.ops.provenance import source_provenance
from kbtui.ops.settings import configured_curator
from kbtui.store.db import Database
from kbtui.store.index import transaction

TRANSITIONS = ("processing", "null-result", "unprocessed")


class CurationError(KbtuiError, ValueError):
    """An action that cannot be taken; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class Action:
    """One curator action, as stored."""

    id: int
    path: str
    action: str
    who: str
    at: str
    from_status: str | None
    to_status: str | None
    note: str | None
    undone_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def curator_name() -> str:
    """Who the curator is: `KBTUI_CURATOR`, else `[user] name` in the settings, else login."""
    name = os.environ.get("KBTUI_CURATOR", "").strip() or configured_curator()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "curator"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def effective_status(db: Database, path: str) -> tuple[str | None, bool]:
    """A source's status with pending actions applied, and whether it is pending."""
    row = db.conn.execute(
        "SELECT d.status, p.to_status FROM documents d "
        "LEFT JOIN pending_status p ON p.path = d.path WHERE d.path = ?",
        (path,),
    ).fetchone()
    if row is None:
        raise CurationError(f"not in the index: {path}")
    return (row[1], True) if row[1] is not None else (row[0], False)


def _row_action(row: tuple[Any, ...]) -> Action:
    return Action(*row)


def check_transition(db: Database, path: str, to_status: str) -> str | None:
    """Raise `CurationError` if the source at `path` cannot move to `to_status` (a note
    aside); else return its current status. Lets the app refuse before asking for a note."""
    if to_status not in TRANSITIONS:
        raise CurationError(f"status must be one of {', '.join(TRANSITIONS)}, not {to_status!r}")
    kind = db.conn.execute("SELECT kind FROM documents WHERE path = ?", (path,)).fetchone()
    if kind is None:
        raise CurationError(f"not in the index: {path}")
    if kind[0] != "source":
        raise CurationError(f"not a source ({kind[0]}): {path}")
    current, pending = effective_status(db, path)
    if current == to_status and not (pending and _changed_on_disk(db, path)):
        raise CurationError(f"already {to_status}: {path}")
    if to_status in ("null-result", "unprocessed"):
        _refuse_drift(db, path, to_status)
        _refuse_saved_drafts(db, path, to_status)
    return current


def _refuse_saved_drafts(db: Database, path: str, to_status: str) -> None:
    """Claims or evidence drafted from the source and saved for export would make it
    processed at export: export would refuse the source, and with it those drafts."""
    saved = [
        int(row[0])
        for row in db.conn.execute(
            "SELECT id FROM drafts WHERE source_path = ? AND state = 'saved' "
            "AND kind IN ('claim', 'enrichment') AND exported_at IS NULL ORDER BY id",
            (path,),
        )
    ]
    if saved:
        ids = ", ".join(str(i) for i in saved)
        raise CurationError(
            f"cannot set {to_status}: draft{'s' if len(saved) > 1 else ''} {ids} drawn from "
            f"{path} {'are' if len(saved) > 1 else 'is'} saved for export (delete "
            f"{'them' if len(saved) > 1 else 'it'} first if the source yields nothing)"
        )


def status_base(db: Database, path: str) -> str | None:
    """The status the file said when the curator's pending change to it was made ('' for
    none), or None when nothing is pending: export refuses the file while it says another.
    That is the status under the first pending change, or, once the curator set theirs again
    over a change on disk, the status under that one."""
    rows = db.conn.execute(
        "SELECT from_status, to_status, file_status FROM actions WHERE path = ? "
        "AND action = 'status' AND undone_at IS NULL AND exported_at IS NULL ORDER BY id",
        (path,),
    ).fetchall()
    if not rows:
        return None
    again = [row for row in rows if row[0] == row[1]]  # set again: only ever over a drift
    chosen = again[-1] if again else rows[0]
    if chosen[2] is not None:
        return str(chosen[2])
    return str(rows[0][0] or "")  # recorded before migration 9: the status it changed


def _changed_on_disk(db: Database, path: str) -> bool:
    """Whether the file's status changed since the curator's pending change was made:
    setting theirs again then says to write it over the file's (export refuses until then)."""
    base = status_base(db, path)
    row = db.conn.execute("SELECT status FROM documents WHERE path = ?", (path,)).fetchone()
    return base is not None and row is not None and (row[0] or "") != base


def set_status(
    db: Database,
    path: str,
    to_status: str,
    note: str | None = None,
    who: str | None = None,
) -> Action:
    """Record a status transition for the source at `path` (KB-relative)."""
    current = check_transition(db, path, to_status)
    note = (note or "").strip() or None
    if to_status == "null-result" and note is None:
        raise CurationError("a null-result needs a note saying why the source yields no claim")
    who = who or curator_name()
    at = _now()
    with transaction(db):
        cursor = db.conn.execute(
            "INSERT INTO actions (path, action, who, at, from_status, to_status, note, "
            "file_status) VALUES (?, 'status', ?, ?, ?, ?, ?, "
            "(SELECT coalesce(status, '') FROM documents WHERE path = ?))",
            (path, who, at, current, to_status, note, path),
        )
    return Action(int(cursor.lastrowid or 0), path, "status", who, at, current, to_status, note)


def _refuse_drift(db: Database, path: str, to_status: str) -> None:
    """A source whose file lists claims drawn from it can be neither a null-result (a source
    that yields no claim) nor unprocessed: the health check would flag either as drift."""
    listed = source_provenance(db, path)
    extracted, enriched = len(listed.claims_extracted), len(listed.enrichments_applied)
    if extracted or enriched:
        raise CurationError(
            f"cannot set {to_status}: {path} lists {extracted} extracted "
            f"claim{'s' if extracted != 1 else ''} and {enriched} "
            f"enrichment{'s' if enriched != 1 else ''} (take them out of the file first "
            "if they are wrong)"
        )
    if listed.sourced:
        count = len(listed.sourced)
        named = sorted(listed.sourced)[0]
        raise CurationError(
            f"cannot set {to_status}: {count} claim{'s' if count != 1 else ''} "
            f"name{'' if count != 1 else 's'} {path} as {'their' if count != 1 else 'its'} "
            f"source (sourced_from), such as '{named}'"
        )


def undo_last(db: Database) -> Action | None:
    """Undo the most recent action not yet undone nor exported; None when there is none."""
    row = db.conn.execute(
        "SELECT id, path, action, who, at, from_status, to_status, note, undone_at "
        "FROM actions WHERE undone_at IS NULL AND exported_at IS NULL ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    at = _now()
    with transaction(db):
        db.conn.execute("UPDATE actions SET undone_at = ? WHERE id = ?", (at, row[0]))
    action = _row_action(row)
    return Action(
        action.id,
        action.path,
        action.action,
        action.who,
        action.at,
        action.from_status,
        action.to_status,
        action.note,
        at,
    )


def pending_work(db: Database) -> tuple[int, int]:
    """(drafts saved for export, status changes) not yet exported: the work only the index
    holds until `kbtui export`."""
    drafts = db.conn.execute(
        "SELECT count(*) FROM drafts WHERE state = 'saved' AND exported_at IS NULL"
    ).fetchone()[0]
    statuses = db.conn.execute("SELECT count(*) FROM pending_status").fetchone()[0]
    return int(drafts), int(statuses)
