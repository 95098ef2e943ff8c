"""Writing parsed documents into the index, and the queries the indexer needs."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlite_utils

if TYPE_CHECKING:
    from kbtui.formats.document import Document
    from kbtui.formats.links import Resolution, WikiLink
    from kbtui.formats.problems import Problem


@dataclass(frozen=True, slots=True)
class FileState:
    """What the index remembers of a file, to skip it when unchanged."""

    id: int
    mtime_ns: int
    size: int
    sha256: str


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One write transaction: all of it commits, or none of it."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def file_states(db: sqlite_utils.Database) -> dict[str, FileState]:
    rows = db.conn.execute("SELECT path, id, mtime_ns, size, sha256 FROM documents")
    return {row[0]: FileState(row[1], row[2], row[3], row[4]) for row in rows}


def all_paths(db: sqlite_utils.Database) -> list[str]:
    return [row[0] for row in db.conn.execute("SELECT path FROM documents")]


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _model_json(doc: Document) -> str | None:
    return doc.model.model_dump_json() if doc.model is not None else None


def write_document(
    db: sqlite_utils.Database,
    doc: Document,
    data: bytes,
    mtime_ns: int,
    sha256: str,
    resolutions: list[Resolution],
    existing_id: int | None,
) -> int:
    """Insert or replace one document and all rows derived from it; returns its id."""
    conn = db.conn
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
        doc.raw_frontmatter,
        doc.raw_body,
        None if doc.lossless else data,
        doc.encoding,
        int(doc.has_frontmatter),
        _dump(doc.fields),
        _model_json(doc),
        doc.size,
        mtime_ns,
        sha256,
    )
    columns = (
        "path, kind, type, title, stem, folder, domain, status, confidence, date, author, "
        "format, priority, linked_set, description, prefix, raw_frontmatter, body, raw_bytes, "
        "encoding, has_frontmatter, fields_json, model_json, size, mtime_ns, sha256"
    )
    marks = ", ".join("?" * len(row))
    if existing_id is None:
        cursor = conn.execute(f"INSERT INTO documents ({columns}) VALUES ({marks})", row)
        doc_id = int(cursor.lastrowid or 0)
    else:
        doc_id = existing_id
        assignments = ", ".join(f"{name.strip()} = ?" for name in columns.split(","))
        conn.execute(f"UPDATE documents SET {assignments} WHERE id = ?", (*row, doc_id))
        for table in ("fields", "links", "problems", "handoff_fields", "candidates", "signals"):
            conn.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc_id,))
    field_rows = [(doc_id, key, _dump(value), line, 0) for key, line, value in doc.shadowed] + [
        (doc_id, str(key), _dump(value), doc.field_lines.get(str(key)), 1)
        for key, value in doc.fields.items()
    ]
    conn.executemany("INSERT INTO fields VALUES (?, ?, ?, ?, ?)", field_rows)
    insert_links(db, doc_id, doc.links, resolutions)
    insert_problems(db, doc_id, "file", doc.problems)
    if doc.handoff is not None:
        conn.executemany(
            "INSERT INTO handoff_fields VALUES (?, ?, ?, ?, ?, ?)",
            [
                (doc_id, n, f.section, f.label, f.value, f.line)
                for n, f in enumerate(doc.handoff.fields)
            ],
        )
        conn.executemany(
            "INSERT INTO candidates VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (doc_id, n + 1, c.shape, c.text, c.raw, c.line, c.origin)
                for n, c in enumerate(doc.handoff.candidates)
            ],
        )
        conn.executemany(
            "INSERT INTO signals VALUES (?, ?, ?, ?)",
            [(doc_id, s.word, s.excerpt, s.line) for s in doc.handoff.signals],
        )
    return doc_id


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def insert_links(
    db: sqlite_utils.Database, doc_id: int, links: list[WikiLink], resolutions: list[Resolution]
) -> None:
    db.conn.executemany(
        "INSERT INTO links (doc_id, origin, line, raw, target, alias, heading, resolved_path, "
        "rule, ambiguous, candidates_json, non_canonical) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
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
            for link, res in zip(links, resolutions, strict=True)
        ],
    )


def insert_problems(
    db: sqlite_utils.Database, doc_id: int, scope: str, problems: Iterable[Problem]
) -> None:
    db.conn.executemany(
        "INSERT INTO problems VALUES (?, ?, ?, ?, ?, ?, NULL)",
        [(doc_id, scope, p.code, p.severity, p.message, p.line) for p in problems],
    )


def update_file_state(db: sqlite_utils.Database, doc_id: int, mtime_ns: int, size: int) -> None:
    db.conn.execute(
        "UPDATE documents SET mtime_ns = ?, size = ? WHERE id = ?", (mtime_ns, size, doc_id)
    )


def rename_document(db: sqlite_utils.Database, doc_id: int, new_path: str) -> None:
    db.conn.execute("UPDATE documents SET path = ? WHERE id = ?", (new_path, doc_id))


def delete_documents(db: sqlite_utils.Database, doc_ids: Iterable[int]) -> None:
    db.conn.executemany("DELETE FROM documents WHERE id = ?", [(i,) for i in doc_ids])


def set_meta(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


def get_meta(db: sqlite_utils.Database, key: str) -> str | None:
    row = db.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def defer_fts(db: sqlite_utils.Database) -> None:
    """Pause the FTS triggers for a bulk write; `rebuild_fts` must follow (even after a crash)."""
    with transaction(db):
        set_meta(db, "fts_deferred", "1")


def rebuild_fts_if_deferred(db: sqlite_utils.Database) -> None:
    """Rebuild the full-text index in one pass if a bulk write paused it."""
    if get_meta(db, "fts_deferred") is None:
        return
    with transaction(db):
        db.conn.execute("INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')")
        db.conn.execute("DELETE FROM meta WHERE key = 'fts_deferred'")
