"""Writing parsed documents into the index, and the queries the indexer needs."""

from __future__ import annotations

import json
import marshal
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, fields
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING, Any

from kbtui.store.db import Database

if TYPE_CHECKING:
    from kbtui.formats.document import Document
    from kbtui.formats.links import Resolution


@dataclass(frozen=True, slots=True)
class FileState:
    """What the index remembers of a file, to skip it when unchanged."""

    id: int
    mtime_ns: int
    size: int
    sha256: str
    ctime_ns: int = 0
    """The inode's change time: any write, chmod or rename moves it, even one that keeps the
    size and puts the modification time back (`touch -r`, an archive restore)."""

    def same_file(self, mtime_ns: int, size: int, ctime_ns: int) -> bool:
        """Whether a file with these stats can be skipped as the one indexed."""
        return (self.mtime_ns, self.size, self.ctime_ns) == (mtime_ns, size, ctime_ns)


@contextmanager
def transaction(db: Database) -> Iterator[None]:
    """One write transaction: all of it commits, or none of it.

    First the file is checked to be the one opened (`Database.check_file`): a transaction
    never goes into an index deleted or replaced meanwhile."""
    db.check_file()
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.conn.execute("COMMIT")
    except BaseException:
        _rollback(db)
        raise


def _rollback(db: Database) -> None:
    """Roll back what is left of the transaction. SQLite may have rolled it back already
    (a full disk does): the error that got here is the one to report, not "no transaction
    is active"."""
    if db.conn.in_transaction:
        with suppress(sqlite3.Error):
            db.conn.execute("ROLLBACK")


def file_states(db: Database) -> dict[str, FileState]:
    rows = db.conn.execute("SELECT path, id, mtime_ns, size, sha256, ctime_ns FROM documents")
    return {row[0]: FileState(*row[1:]) for row in rows}


_dump = json.JSONEncoder(ensure_ascii=False).encode
"""`json.dumps(value, ensure_ascii=False)` without building an encoder for each value."""
_dump_str: Callable[[str], str] = json.encoder.encode_basestring
"""`_dump` for a string, called directly (most field values are strings)."""


def _value_json(value: Any) -> str:
    return _dump_str(value) if type(value) is str else _dump(value)


DOCUMENT_COLUMNS = (
    "path, kind, type, title, stem, folder, domain, status, confidence, date, author, "
    "format, priority, linked_set, description, prefix, raw_frontmatter, body, raw_bytes, "
    "encoding, has_frontmatter, fields_json, size, mtime_ns, sha256, "
    "field_rows_json, ctime_ns"
)
FTS_DEFERRED = "fts_deferred"
"""Meta key set while the full-text index is stale (its triggers paused for a bulk write)."""
_CHILD_TABLES = ("links", "problems", "handoff_fields", "candidates", "signals")


@dataclass(slots=True)
class Rows:
    """Every row derived from a batch of parsed documents, ready to be written in bulk.

    Building them is pure (a worker process can do it); `write_rows` writes them.
    """

    inserts: list[tuple[Any, ...]] = dataclass_field(default_factory=list)
    updates: list[tuple[Any, ...]] = dataclass_field(default_factory=list)
    links: list[tuple[Any, ...]] = dataclass_field(default_factory=list)
    problems: list[tuple[Any, ...]] = dataclass_field(default_factory=list)
    handoff: list[tuple[Any, ...]] = dataclass_field(default_factory=list)
    candidates: list[tuple[Any, ...]] = dataclass_field(default_factory=list)
    signals: list[tuple[Any, ...]] = dataclass_field(default_factory=list)
    kb_problems: list[tuple[Any, ...]] = dataclass_field(default_factory=list)
    """Problems that depend on the rest of the KB (links): doc id, code, severity, message,
    line, target."""

    def pack(self) -> bytes:
        """The rows as bytes for another process: `marshal` (rows hold only strings, numbers,
        bytes and None) packs and unpacks them faster than pickle."""
        return marshal.dumps(tuple(getattr(self, item.name) for item in fields(self)))

    @classmethod
    def unpack(cls, packed: bytes) -> Rows:
        return cls(*marshal.loads(packed))

    def add(
        self,
        doc_id: int,
        doc: Document,
        data: bytes,
        mtime_ns: int,
        ctime_ns: int,
        sha256: str,
        resolutions: list[Resolution],
        *,
        existing: bool,
    ) -> None:
        """Add the rows of one document; `existing` replaces the document with that id."""
        fields_json, field_rows_json = _fields_json(doc)
        row = (
            doc.path,
            doc.kind,
            doc.type,
            doc.title,
            doc.stem,
            doc.folder,
            doc.domain,
            doc.status,
            _text(doc.model_value("confidence")),
            _text(doc.model_value("date")),
            _text(doc.model_value("author")),
            _text(doc.model_value("format")),
            _text(doc.model_value("priority")),
            _text(doc.model_value("linked_set")),
            doc.description,
            doc.prefix,
            *_raw_parts(doc, data),
            None if doc.lossless else data,
            doc.encoding,
            int(doc.has_frontmatter),
            fields_json,
            doc.size,
            mtime_ns,
            sha256,
            field_rows_json,
            ctime_ns,
        )
        if existing:
            self.updates.append((*row, doc_id))
        else:
            self.inserts.append((doc_id, *row))
        self.links += [
            (
                doc_id,
                link.origin,
                link.line,
                link.raw,
                link.target,
                link.alias,
                link.heading,
                res.path,
                res.rule,
                int(res.ambiguous),
                _dump(list(res.candidates)) if res.candidates else None,
                int(res.non_canonical),
            )
            for link, res in zip(doc.links, resolutions, strict=True)
        ]
        # Codes as plain text: an enum member (a `str` subclass) cannot be marshalled, and
        # the rows of a worker process come back marshalled.
        self.problems += [
            (doc_id, "file", str(p.code), p.severity, p.message, p.line) for p in doc.problems
        ]
        if doc.handoff is not None:
            self.handoff += [
                (doc_id, n, f.section, f.label, f.value, f.line)
                for n, f in enumerate(doc.handoff.fields)
            ]
            self.candidates += [
                (doc_id, n + 1, c.shape, c.text, c.raw, c.line, c.origin)
                for n, c in enumerate(doc.handoff.candidates)
            ]
            self.signals += [(doc_id, sg.word, sg.excerpt, sg.line) for sg in doc.handoff.signals]


def _fields_json(doc: Document) -> tuple[str, str]:
    """The fields as a JSON object, and the rows of the `fields` view (earlier values of
    duplicated keys, then the fields) as a JSON array: each value is encoded once, for both."""
    values = [(key, _value_json(value)) for key, value in doc.fields.items()]
    if all(type(key) is str for key, _ in values):
        # What `_dump(doc.fields)` gives, from the values already encoded.
        fields_json = "{" + ", ".join(f"{_dump_str(key)}: {value}" for key, value in values) + "}"
    else:  # keys YAML read as numbers or booleans: JSON's own conversion of them
        fields_json = _dump(doc.fields)
    rows = [[key, _value_json(value), line, 0] for key, line, value in doc.shadowed]
    rows += [[str(key), value, doc.field_lines.get(str(key)), 1] for key, value in values]
    return fields_json, _dump(rows)


def _raw_parts(doc: Document, data: bytes) -> tuple[str | bytes, str | bytes]:
    """The frontmatter block and the body as stored: for a UTF-8 file, slices of its bytes
    (stored as text by `write_rows`), which spares encoding them to pass them to another
    process, decoding them there, and encoding them again for SQLite."""
    if doc.encoding != "utf-8" or not doc.lossless or doc.size != len(data):
        # (A file kbtui failed to parse has an empty document, not parts of `data`.)
        return doc.raw_frontmatter, doc.raw_body
    start = len(doc.prefix.encode("utf-8"))
    end = start + len(doc.raw_frontmatter.encode("utf-8"))
    return data[start:end], data[end:]


_MARKS = [
    "CAST(? AS TEXT)" if name.strip() in ("raw_frontmatter", "body") else "?"
    for name in DOCUMENT_COLUMNS.split(",")
]
"""Placeholders of `DOCUMENT_COLUMNS`; the raw parts may come as UTF-8 bytes."""


_FTS_COLUMNS = tuple(
    [name.strip() for name in DOCUMENT_COLUMNS.split(",")].index(column) + 1
    for column in ("title", "description", "body")
)
"""Where the full-text columns are in a row of `Rows.inserts` (after its id)."""


def fts_rows(rows: Rows) -> list[tuple[Any, ...]]:
    """The id, title, description and body of each new document in `rows`."""
    title, description, body = _FTS_COLUMNS
    return [(row[0], row[title], row[description], row[body]) for row in rows.inserts]


def write_rows(db: Database, rows: Rows) -> None:
    """Write a batch of document rows (inside the caller's transaction)."""
    conn = db.conn
    marks = ", ".join(_MARKS)
    conn.executemany(
        f"INSERT INTO documents (id, {DOCUMENT_COLUMNS}) VALUES (?, {marks})", rows.inserts
    )
    if rows.updates:
        assignments = ", ".join(
            f"{name.strip()} = {mark}"
            for name, mark in zip(DOCUMENT_COLUMNS.split(","), _MARKS, strict=True)
        )
        conn.executemany(f"UPDATE documents SET {assignments} WHERE id = ?", rows.updates)
        replaced = [(row[-1],) for row in rows.updates]
        for table in _CHILD_TABLES:
            conn.executemany(f"DELETE FROM {table} WHERE doc_id = ?", replaced)
    _insert_many(
        conn,
        "INSERT INTO links (doc_id, origin, line, raw, target, alias, heading, "
        "resolved_path, rule, ambiguous, candidates_json, non_canonical) VALUES ",
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows.links,
    )
    _insert_many(conn, "INSERT INTO problems VALUES ", "(?, ?, ?, ?, ?, ?, NULL)", rows.problems)
    _insert_many(conn, "INSERT INTO problems VALUES ", "(?, 'kb', ?, ?, ?, ?, ?)", rows.kb_problems)
    _insert_many(conn, "INSERT INTO handoff_fields VALUES ", "(?, ?, ?, ?, ?, ?)", rows.handoff)
    _insert_many(conn, "INSERT INTO candidates VALUES ", "(?, ?, ?, ?, ?, ?, ?)", rows.candidates)
    _insert_many(conn, "INSERT INTO signals VALUES ", "(?, ?, ?, ?)", rows.signals)


ROWS_PER_STATEMENT = 50
"""Rows per INSERT of `_insert_many`: far less time than a statement per row for the
links (what a statement costs is spread over many rows), well under SQLite's bound on
parameters (32,766)."""


def _insert_many(
    conn: sqlite3.Connection, head: str, group: str, rows: Sequence[tuple[Any, ...]]
) -> None:
    """`executemany(head + group, rows)`, with `ROWS_PER_STATEMENT` rows per statement
    (`group` is the placeholders of one row; the rows have as many values as it has marks)."""
    if not rows:
        return
    width = len(rows[0])
    per = ROWS_PER_STATEMENT
    whole = len(rows) - len(rows) % per
    if whole:
        values = iter([value for row in rows[:whole] for value in row])
        # Each item of the zip is the next `width * per` values: one statement's parameters.
        statements = zip(*[values] * (width * per), strict=True)
        conn.executemany(head + ", ".join([group] * per), statements)
    if whole < len(rows):
        rest = rows[whole:]
        conn.execute(head + ", ".join([group] * len(rest)), [v for row in rest for v in row])


def next_document_id(db: Database) -> int:
    """The first id above every document's: ids given to new documents count up from it."""
    return int(db.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM documents").fetchone()[0])


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def update_file_state(db: Database, doc_id: int, mtime_ns: int, size: int, ctime_ns: int) -> None:
    db.conn.execute(
        "UPDATE documents SET mtime_ns = ?, size = ?, ctime_ns = ? WHERE id = ?",
        (mtime_ns, size, ctime_ns, doc_id),
    )


def follow_renames(db: Database, renamed: Iterable[tuple[str, str]]) -> None:
    """Curator work not yet exported follows its files to their new paths: drafts from a
    source, enrichments of a claim, and status changes (else export finds their file gone)."""
    pairs = [(new, old) for old, new in renamed]
    for sql in (
        "UPDATE drafts SET source_path = ? WHERE source_path = ? AND exported_at IS NULL",
        "UPDATE drafts SET target_path = ? WHERE target_path = ? AND exported_at IS NULL",
        "UPDATE actions SET path = ? WHERE path = ? AND exported_at IS NULL",
    ):
        db.conn.executemany(sql, pairs)


def delete_documents(db: Database, doc_ids: Iterable[int]) -> None:
    db.conn.executemany("DELETE FROM documents WHERE id = ?", [(i,) for i in doc_ids])


GENERATION = "generation"
"""Meta key: a token that changes whenever an indexing run changes the documents (for
caches of what was read from them)."""

STATUS_COUNTS = "source_status_counts"
"""Meta key: sources per indexed status, as JSON pairs; absent while documents change."""


def forget_status_counts(db: Database) -> None:
    delete_meta(db, STATUS_COUNTS)


def store_status_counts(db: Database) -> None:
    """Count sources per status once, so the desk paints its counts without a scan."""
    if get_meta(db, STATUS_COUNTS) is not None:
        return
    rows = db.conn.execute(
        "SELECT status, count(*) FROM documents WHERE kind = 'source' GROUP BY status"
    ).fetchall()
    set_meta(db, STATUS_COUNTS, json.dumps([list(row) for row in rows]))


def status_counts(db: Database) -> list[tuple[str | None, int]] | None:
    """The stored counts of `store_status_counts`, or None when they are not known."""
    saved = get_meta(db, STATUS_COUNTS)
    if saved is None:
        return None
    return [(status, int(count)) for status, count in json.loads(saved)]


def set_meta(db: Database, key: str, value: str) -> None:
    db.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


def delete_meta(db: Database, key: str) -> None:
    db.conn.execute("DELETE FROM meta WHERE key = ?", (key,))


def get_meta(db: Database, key: str) -> str | None:
    row = db.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


DEFERRED_INDEXES = {"links_resolved": "links(resolved_path)"}
"""Indexes a bulk write drops and builds again at its end: kept up to date row by row, the
index of link targets (long strings in no order) would slow the writing of links a good deal."""


def defer_indexes(db: Database) -> None:
    """Pause the FTS triggers and drop `DEFERRED_INDEXES` for a bulk write;
    `rebuild_deferred_indexes` must follow (and does, on the next run, after a crash)."""
    with transaction(db):
        set_meta(db, FTS_DEFERRED, "1")
        for name in DEFERRED_INDEXES:
            db.conn.execute(f"DROP INDEX IF EXISTS {name}")


def rebuild_deferred_indexes(db: Database, fts: bool = True) -> None:
    """Rebuild the full-text index in one pass if a bulk write paused it (unless `fts` is
    False), and create any of `DEFERRED_INDEXES` that is missing."""
    if fts and get_meta(db, FTS_DEFERRED) is not None:
        with transaction(db):
            db.conn.execute("INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')")
            delete_meta(db, FTS_DEFERRED)
    present = {row[0] for row in db.conn.execute("SELECT name FROM sqlite_schema")}
    for name, columns in DEFERRED_INDEXES.items():
        if name not in present:
            with transaction(db):
                db.conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {columns}")
