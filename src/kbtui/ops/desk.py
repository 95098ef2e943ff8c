"""What the curator's desk reads: source queues, claim lists, one document with its context.

Queues return ids first (cheap even at 100,000 sources) and rows by page, so a list widget
only ever fetches what it shows.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Final

from kbtui.formats.kinds import SOURCE_QUEUE_AS, SOURCE_STATUSES
from kbtui.ops.queries import fts_query
from kbtui.store.db import Database
from kbtui.store.index import status_counts

BUCKETS: Final = (*SOURCE_STATUSES, "other")
BUCKET_LABELS: Final = {
    "unprocessed": "Unprocessed",
    "processing": "Processing",
    "processed": "Processed",
    "null-result": "Null result",
    "other": "Other status",
}
SORTS: Final = ("date", "priority", "title")
_STATUS_SQL = "coalesce(p.to_status, d.status)"
_PRIORITY_ORDER = (
    "CASE d.priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 WHEN 'low' THEN 2 ELSE 3 END"
)
_FROM = "FROM documents d LEFT JOIN pending_status p ON p.path = d.path"
READER_BODY_BYTES: Final = 64 * 1024
"""The most of a body the reader shows: laying out a file of tens of megabytes as markdown
would hold the app up and fill its memory. The rest is read in $EDITOR."""


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What narrows a queue: exact field values and free text."""

    domain: str | None = None
    priority: str | None = None
    format: str | None = None
    linked_set: str | None = None
    text: str = ""

    def is_empty(self) -> bool:
        return not (self.domain or self.priority or self.format or self.linked_set or self.text)


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One source as a queue shows it."""

    id: int
    path: str
    title: str
    date: str
    domain: str
    priority: str
    status: str
    pending: bool
    problems: int


def _pending(db: Database) -> dict[str, str]:
    """Sources with a pending status transition: path -> new status (few, even at 100k)."""
    rows = db.conn.execute("SELECT path, to_status FROM pending_status")
    return {path: status for path, status in rows}


def _bucket_of(status: str | None) -> str:
    status = SOURCE_QUEUE_AS.get(status or "", status)
    return status if status in SOURCE_STATUSES else "other"


def _bucket_sql(bucket: str, alias: str = "d") -> tuple[str, list[Any]]:
    """The indexed (on-disk) status condition of a bucket."""
    if bucket == "other":
        queued = [*SOURCE_STATUSES, *SOURCE_QUEUE_AS]
        marks = ", ".join("?" * len(queued))
        return f"({alias}.status IS NULL OR {alias}.status NOT IN ({marks}))", queued
    statuses = [bucket, *[s for s, shown in SOURCE_QUEUE_AS.items() if shown == bucket]]
    return f"{alias}.status IN ({', '.join('?' * len(statuses))})", statuses


def _filter_sql(flt: QueueFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column in ("domain", "priority", "format", "linked_set"):
        value = getattr(flt, column)
        if value:
            clauses.append(f"d.{column} = ?")
            params.append(value)
    text = flt.text.strip()
    query = fts_query(text) if text else None
    if text:
        # The words in the title, description or text; or, for plain words (not `-word`,
        # `word*` nor quoted), each in the author's name or the file's name without `.md`
        # (`ramstead`, `glp1`), which the full-text index does not hold.
        words = text.split()
        plain = all(w.replace("-", "").replace("_", "").isalnum() for w in words) and not any(
            w.startswith("-") for w in words
        )
        named = " AND ".join(
            "(d.author LIKE ? ESCAPE '\\' OR d.stem LIKE ? ESCAPE '\\')" for _ in words
        )
        patterns = [
            pattern for word in words for pattern in ["%" + word.replace("_", "\\_") + "%"] * 2
        ]
        alternatives = []
        if query is not None:
            alternatives.append(
                "d.id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)"
            )
            params.append(query)
        if plain:
            alternatives.append(f"({named})")
            params += patterns
        clauses.append("(" + " OR ".join(alternatives) + ")" if alternatives else "0")
    return "".join(f" AND {c}" for c in clauses), params


def queue_counts(db: Database, flt: QueueFilter | None = None) -> dict[str, int]:
    """How many sources each status bucket holds (pending transitions applied)."""
    extra, params = _filter_sql(flt or QueueFilter())
    counts = dict.fromkeys(BUCKETS, 0)
    stored = status_counts(db) if not extra else None  # kept by the indexer: no scan
    rows = (
        stored
        if stored is not None
        else db.conn.execute(
            f"SELECT d.status, count(*) FROM documents d WHERE d.kind = 'source'{extra} "
            "GROUP BY d.status",
            params,
        ).fetchall()
    )
    for status, count in rows:
        counts[_bucket_of(status)] += int(count)
    pending = _pending(db)
    if pending:
        marks = ", ".join("?" * len(pending))
        moved = db.conn.execute(
            f"SELECT d.path, d.status FROM documents d WHERE d.kind = 'source' "
            f"AND d.path IN ({marks}){extra}",
            [*pending, *params],
        ).fetchall()
        for path, status in moved:
            counts[_bucket_of(status)] -= 1
            counts[_bucket_of(pending[path])] += 1
    return counts


def queue_ids(
    db: Database,
    bucket: str,
    flt: QueueFilter | None = None,
    sort: str = "date",
    descending: bool = False,
    limit: int | None = None,
) -> list[int]:
    """Ids of the sources in a bucket, filtered and sorted (the first `limit` when given)."""
    pending = _pending(db)
    where, params = _bucket_sql(bucket)
    extra, more = _filter_sql(flt or QueueFilter())
    order = {
        "date": "d.date {dir}, d.path {dir}",
        "priority": f"{_PRIORITY_ORDER} {{dir}}, coalesce(d.date, '') DESC, d.path",
        "title": "d.title COLLATE NOCASE {dir}, d.path",
    }[sort if sort in SORTS else "date"].format(dir="DESC" if descending else "ASC")
    arriving = [path for path, status in pending.items() if _bucket_of(status) == bucket]
    leaving = [path for path, status in pending.items() if _bucket_of(status) != bucket]
    condition = f"({where}"
    if leaving:
        condition += f" AND d.path NOT IN ({', '.join('?' * len(leaving))})"
        params += leaving
    condition += ")"
    if arriving:
        condition = f"({condition} OR d.path IN ({', '.join('?' * len(arriving))}))"
        params += arriving
    rows = db.conn.execute(
        f"SELECT d.id FROM documents d WHERE d.kind = 'source' AND {condition}{extra} "
        f"ORDER BY {order}" + ("" if limit is None else f" LIMIT {int(limit)}"),
        params + more,
    )
    return [row[0] for row in rows]


def queue_rows(db: Database, ids: list[int]) -> dict[int, QueueRow]:
    """The rows for a page of source ids."""
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    rows = db.conn.execute(
        f"SELECT d.id, d.path, d.title, coalesce(d.date, ''), coalesce(d.domain, ''), "
        f"coalesce(d.priority, ''), coalesce({_STATUS_SQL}, ''), p.to_status IS NOT NULL, "
        "(SELECT count(*) FROM problems q WHERE q.doc_id = d.id AND q.severity != 'info') "
        f"{_FROM} WHERE d.id IN ({marks})",
        ids,
    ).fetchall()
    return {
        row[0]: QueueRow(
            id=row[0],
            path=row[1],
            title=row[2],
            date=row[3],
            domain=row[4],
            priority=row[5],
            status=row[6],
            pending=bool(row[7]),
            problems=int(row[8]),
        )
        for row in rows
    }


def filter_options(db: Database) -> dict[str, list[str]]:
    """The values each queue filter can take, from the sources in the index."""
    options: dict[str, list[str]] = {}
    for column in ("domain", "priority", "format", "linked_set"):
        rows = db.conn.execute(
            f"SELECT DISTINCT {column} FROM documents WHERE kind = 'source' AND {column} "
            f"IS NOT NULL AND {column} != '' ORDER BY {column} COLLATE NOCASE"
        )
        options[column] = [row[0] for row in rows]
    return options


@dataclass(frozen=True, slots=True)
class ClaimRow:
    """One claim as the claims view shows it."""

    id: int
    path: str
    title: str
    domain: str
    confidence: str
    problems: int


def claim_ids(
    db: Database,
    domain: str | None = None,
    confidence: str | None = None,
    text: str = "",
) -> list[int]:
    """Ids of claims, by domain then title, narrowed by domain, confidence and text."""
    clauses = ["d.kind = 'claim'"]
    params: list[Any] = []
    if domain:
        clauses.append("d.domain = ?")
        params.append(domain)
    if confidence:
        clauses.append("d.confidence = ?")
        params.append(confidence)
    if text.strip():
        query = fts_query(text)
        if query is None:
            return []
        clauses.append("d.id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)")
        params.append(query)
    rows = db.conn.execute(
        f"SELECT d.id FROM documents d WHERE {' AND '.join(clauses)} "
        "ORDER BY d.domain, d.title COLLATE NOCASE",
        params,
    )
    return [row[0] for row in rows]


def claim_rows(db: Database, ids: list[int]) -> dict[int, ClaimRow]:
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    rows = db.conn.execute(
        "SELECT d.id, d.path, d.title, coalesce(d.domain, ''), coalesce(d.confidence, ''), "
        "(SELECT count(*) FROM problems q WHERE q.doc_id = d.id AND q.severity != 'info') "
        f"FROM documents d WHERE d.id IN ({marks})",
        ids,
    ).fetchall()
    return {row[0]: ClaimRow(*row) for row in rows}


def claim_domains(db: Database) -> list[str]:
    """The domains the KB's claims have (the claims view's filter), unlike
    `drafting.claim_domains`, which also takes those of maps and divergences."""
    rows = db.conn.execute(
        "SELECT DISTINCT domain FROM documents WHERE kind = 'claim' AND domain IS NOT NULL "
        "ORDER BY domain"
    )
    return [row[0] for row in rows]


@dataclass(frozen=True, slots=True)
class LinkView:
    """A link as the reader shows it: where it points and whether it resolves."""

    raw: str
    target: str
    alias: str | None
    origin: str
    line: int | None
    resolved_path: str | None
    rule: str | None
    ambiguous: bool


@dataclass(frozen=True, slots=True)
class Backlink:
    """A document that links to the one being read."""

    path: str
    kind: str
    title: str
    origin: str
    line: int | None


@dataclass(slots=True)
class DocumentView:
    """One document with everything the reader and handoff panel show."""

    id: int
    path: str
    kind: str
    title: str
    fields: dict[str, Any]
    body: str
    size: int
    status: str | None
    pending: bool
    problems: list[dict[str, Any]]
    handoff: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    signals: list[dict[str, Any]] = field(default_factory=list)
    links: list[LinkView] = field(default_factory=list)
    backlinks: list[Backlink] = field(default_factory=list)
    drafts: list[dict[str, Any]] = field(default_factory=list)
    challenges: list[dict[str, Any]] = field(default_factory=list)
    """A claim's open challenges (files), and the challenge drafts of it not yet exported."""
    pending_note: str | None = None
    """The note of the pending status change (a null-result's reason)."""
    body_bytes: int = -1
    """The whole body's size in UTF-8 bytes, when `body` holds only its beginning (a view
    loaded with a `body_limit`); -1 when `body` is whole."""

    @property
    def body_cut(self) -> bool:
        """Whether `body` is only the beginning of the document's body."""
        return self.body_bytes >= 0

    def link_for(self, target: str) -> LinkView | None:
        return next((link for link in self.links if link.target == target), None)


def _dicts(db: Database, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = db.conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def doc_id_for_path(db: Database, path: str) -> int | None:
    row = db.conn.execute("SELECT id FROM documents WHERE path = ?", (path,)).fetchone()
    return None if row is None else int(row[0])


def _body_start(db: Database, doc_id: int, limit: int) -> tuple[str, int]:
    """The beginning of a document's body, at most `limit` bytes and ended at a line break
    when one is in its second half, and the whole body's size in bytes. Read through the
    blob API: SQLite reads the pages of that beginning only, not the whole value."""
    try:
        blob = db.conn.blobopen("documents", "body", doc_id, readonly=True)
    except sqlite3.OperationalError:  # gone since the row was read
        return "", 0
    with blob:
        size = len(blob)
        data = blob.read(min(size, limit))
    if len(data) < size:
        line_end = data.rfind(b"\n")
        if line_end >= limit // 2:
            data = data[: line_end + 1]
    return data.decode("utf-8", "ignore"), size  # (a character cut at the end is left out)


def load_document(db: Database, doc_id: int, body_limit: int | None = None) -> DocumentView | None:
    """Everything about one document, or None when it is no longer in the index.

    With `body_limit`, a body longer than that many bytes is read only up to there (the
    view's `body_cut`): what a reader shows of a file of tens of megabytes.
    """
    body = "d.body" if body_limit is None else "NULL"
    row = db.conn.execute(
        f"SELECT d.id, d.path, d.kind, d.title, d.fields_json, {body}, d.size, "
        f"{_STATUS_SQL}, p.to_status IS NOT NULL, p.note {_FROM} WHERE d.id = ?",
        (doc_id,),
    ).fetchone()
    if row is None:
        return None
    body_bytes = -1
    if body_limit is not None:
        text, size = _body_start(db, doc_id, body_limit)
        row = (*row[:5], text, *row[6:])
        if len(text.encode("utf-8")) < size:
            body_bytes = size
    view = DocumentView(
        id=row[0],
        path=row[1],
        kind=row[2],
        title=row[3],
        fields=json.loads(row[4]),
        body=row[5],
        size=row[6],
        status=row[7] if row[2] in ("source", "divergence", "challenge") else None,
        pending=bool(row[8]),
        pending_note=row[9],
        body_bytes=body_bytes,
        problems=_dicts(
            db,
            "SELECT code, severity, message, line FROM problems WHERE doc_id = ? "
            "ORDER BY CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 "
            "ELSE 2 END, line",
            [doc_id],
        ),
    )
    view.handoff = _dicts(
        db,
        "SELECT section, label, value, line FROM handoff_fields WHERE doc_id = ? ORDER BY ordinal",
        [doc_id],
    )
    view.candidates = _dicts(
        db,
        "SELECT ordinal, shape, text, raw, line, origin FROM candidates "
        "WHERE doc_id = ? ORDER BY ordinal",
        [doc_id],
    )
    view.signals = _dicts(
        db, "SELECT word, excerpt, line FROM signals WHERE doc_id = ? ORDER BY line", [doc_id]
    )
    view.links = [
        LinkView(
            raw=link[0],
            target=link[1],
            alias=link[2],
            origin=link[3],
            line=link[4],
            resolved_path=link[5],
            rule=link[6],
            ambiguous=bool(link[7]),
        )
        for link in db.conn.execute(
            "SELECT raw, target, alias, origin, line, resolved_path, rule, ambiguous FROM links "
            "WHERE doc_id = ? ORDER BY id",
            (doc_id,),
        )
    ]
    view.backlinks = backlinks(db, view.path)
    if view.kind == "source":
        view.drafts = _dicts(
            db,
            "SELECT id, kind, state, title, target_path, hint FROM drafts WHERE source_path = ? "
            "AND exported_at IS NULL ORDER BY id",
            [view.path],
        )
    if view.kind == "claim":
        from kbtui.ops.challenge import open_challenges  # challenges build on this module

        view.challenges = open_challenges(db, view.path) + [
            {
                "path": None,
                "title": title or "(no title yet)",
                "status": "draft",
                "challenge_type": kind or "",
                "draft": draft_id,
            }
            for draft_id, title, kind in db.conn.execute(
                "SELECT id, title, challenge_type FROM drafts WHERE kind = 'challenge' AND "
                "target_path = ? AND exported_at IS NULL ORDER BY id",
                (view.path,),
            )
        ]
    return view


def backlinks(db: Database, path: str) -> list[Backlink]:
    """Documents linking to `path` (sources, claims, divergences...), once each, with how."""
    rows = db.conn.execute(
        "SELECT d.path, d.kind, d.title, group_concat(DISTINCT l.origin), min(l.line) "
        "FROM links l JOIN documents d ON d.id = l.doc_id "
        "WHERE l.resolved_path = ? AND d.path != ? "
        "GROUP BY d.path ORDER BY d.kind, d.title",
        (path, path),
    ).fetchall()
    return [Backlink(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class KindQueueEntry:
    """A document of any kind in the queue of its status."""

    path: str
    title: str
    status: str | None


def kind_queues(db: Database, kind: str) -> dict[str, list[KindQueueEntry]]:
    """The documents of `kind` by the queue their status puts them in, as the KB's profile
    declares the kind's queues (`queues`, `queue_as`; else its status vocabulary), in that
    order, then `other` for any other status or none. What the desk does for sources, for
    any kind with a status."""
    from kbtui.ops.profile import schema_of  # the profile loads only for this question

    schema = schema_of(db)
    spec = schema.kind_spec(kind)
    names = spec.queues or (schema.vocabulary(kind, spec.status) if spec.status else ())
    queues: dict[str, list[KindQueueEntry]] = {name: [] for name in (*names, "other")}
    for path, title, status in db.conn.execute(
        "SELECT path, title, status FROM documents WHERE kind = ? ORDER BY title, path", (kind,)
    ):
        shown = spec.queue_as.get(status or "", status)
        queues[shown if shown in names else "other"].append(KindQueueEntry(path, title, status))
    return queues
