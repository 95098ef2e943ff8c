"""The SQLite schema of `kb.sqlite`, versioned with `PRAGMA user_version` migrations."""

from __future__ import annotations

import sqlite3
from typing import Final

from kbtui.formats.errors import KbtuiError

MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: the index of documents and everything parsed out of them. The FTS triggers pause while
    # meta 'fts_deferred' is set: a bulk build then rebuilds the FTS index once, which is faster.
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
    CREATE TABLE documents (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        type TEXT,
        title TEXT NOT NULL,
        stem TEXT NOT NULL,
        folder TEXT NOT NULL,
        domain TEXT,
        status TEXT,
        confidence TEXT,
        date TEXT,
        author TEXT,
        format TEXT,
        priority TEXT,
        linked_set TEXT,
        description TEXT NOT NULL DEFAULT '',
        prefix TEXT NOT NULL DEFAULT '',
        raw_frontmatter TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL DEFAULT '',
        raw_bytes BLOB,
        encoding TEXT NOT NULL,
        has_frontmatter INTEGER NOT NULL,
        fields_json TEXT NOT NULL,
        model_json TEXT,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256 TEXT NOT NULL
    );
    CREATE INDEX documents_kind ON documents(kind, status);
    CREATE INDEX documents_stem ON documents(stem);
    CREATE INDEX documents_domain ON documents(domain);
    CREATE TABLE fields (
        doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value_json TEXT NOT NULL,
        line INTEGER,
        effective INTEGER NOT NULL
    );
    CREATE INDEX fields_doc ON fields(doc_id);
    CREATE INDEX fields_key ON fields(key);
    CREATE TABLE links (
        id INTEGER PRIMARY KEY,
        doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        origin TEXT NOT NULL,
        line INTEGER,
        raw TEXT NOT NULL,
        target TEXT NOT NULL,
        alias TEXT,
        heading TEXT,
        resolved_path TEXT,
        rule TEXT,
        ambiguous INTEGER NOT NULL DEFAULT 0,
        candidates_json TEXT,
        non_canonical INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX links_doc ON links(doc_id);
    CREATE INDEX links_resolved ON links(resolved_path);
    CREATE TABLE problems (
        doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        scope TEXT NOT NULL,
        code TEXT NOT NULL,
        severity TEXT NOT NULL,
        message TEXT NOT NULL,
        line INTEGER,
        target TEXT
    );
    CREATE INDEX problems_doc ON problems(doc_id);
    CREATE TABLE handoff_fields (
        doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        section TEXT NOT NULL,
        label TEXT NOT NULL,
        value TEXT NOT NULL,
        line INTEGER
    );
    CREATE INDEX handoff_fields_doc ON handoff_fields(doc_id);
    CREATE TABLE candidates (
        doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        shape TEXT NOT NULL,
        text TEXT NOT NULL,
        raw TEXT NOT NULL,
        line INTEGER,
        origin TEXT NOT NULL
    );
    CREATE INDEX candidates_doc ON candidates(doc_id);
    CREATE TABLE signals (
        doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        word TEXT NOT NULL,
        excerpt TEXT NOT NULL,
        line INTEGER
    );
    CREATE INDEX signals_doc ON signals(doc_id);
    CREATE VIRTUAL TABLE documents_fts USING fts5(
        title, description, body, content='documents', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER documents_ai AFTER INSERT ON documents
    WHEN (SELECT value FROM meta WHERE key = 'fts_deferred') IS NULL BEGIN
        INSERT INTO documents_fts(rowid, title, description, body)
        VALUES (new.id, new.title, new.description, new.body);
    END;
    CREATE TRIGGER documents_ad AFTER DELETE ON documents
    WHEN (SELECT value FROM meta WHERE key = 'fts_deferred') IS NULL BEGIN
        INSERT INTO documents_fts(documents_fts, rowid, title, description, body)
        VALUES ('delete', old.id, old.title, old.description, old.body);
    END;
    CREATE TRIGGER documents_au AFTER UPDATE OF title, description, body ON documents
    WHEN (SELECT value FROM meta WHERE key = 'fts_deferred') IS NULL BEGIN
        INSERT INTO documents_fts(documents_fts, rowid, title, description, body)
        VALUES ('delete', old.id, old.title, old.description, old.body);
        INSERT INTO documents_fts(rowid, title, description, body)
        VALUES (new.id, new.title, new.description, new.body);
    END;
    """,
    # 2: curator actions (status transitions), kept across re-indexing and keyed by path.
    """
    CREATE TABLE actions (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        action TEXT NOT NULL,
        who TEXT NOT NULL,
        at TEXT NOT NULL,
        from_status TEXT,
        to_status TEXT,
        note TEXT,
        undone_at TEXT,
        exported_at TEXT
    );
    CREATE INDEX actions_path ON actions(path);
    CREATE INDEX documents_queue ON documents(kind, status, date, path);
    CREATE VIEW pending_status AS
        SELECT a.path, a.to_status, a.from_status, a.note, a.id AS action_id
        FROM actions a
        WHERE a.action = 'status' AND a.undone_at IS NULL AND a.exported_at IS NULL
          AND a.id = (SELECT max(b.id) FROM actions b WHERE b.path = a.path
                      AND b.action = 'status' AND b.undone_at IS NULL
                      AND b.exported_at IS NULL);
    """,
    # 3: drafts (claims and enrichments), saved on every change so nothing is lost.
    """
    CREATE TABLE drafts (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        source_path TEXT,
        hint INTEGER,
        title TEXT NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT '',
        domain TEXT NOT NULL DEFAULT '',
        confidence TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        depends_on_json TEXT NOT NULL DEFAULT '[]',
        challenged_by_json TEXT NOT NULL DEFAULT '[]',
        secondary_domains_json TEXT NOT NULL DEFAULT '[]',
        body TEXT NOT NULL DEFAULT '',
        target_path TEXT,
        enrichment_kind TEXT,
        different_from_json TEXT NOT NULL DEFAULT '[]',
        state TEXT NOT NULL DEFAULT 'draft',
        who TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        saved_at TEXT,
        exported_at TEXT
    );
    CREATE INDEX drafts_source ON drafts(source_path);
    """,
    # 4: divergence drafts name their claims; resolutions carry the resolution note.
    """
    ALTER TABLE drafts ADD COLUMN claims_json TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE drafts ADD COLUMN status TEXT;
    """,
    # 5: the FTS index buffers up to 64 MB of terms per transaction before writing a segment
    # (the default, 1 MB, makes a bulk build write and merge many small segments).
    """
    INSERT INTO documents_fts(documents_fts, rank) VALUES ('hashsize', 67108864);
    """,
    # 6: each document keeps its field rows as one JSON array, and `fields` becomes a view
    # with the same columns: a row per field would be a large share of a bulk build's writes.
    # The typed model is built from the fields when needed, not stored beside them.
    # Every file is read again on the next run, to fill the new column.
    """
    DROP TABLE fields;
    ALTER TABLE documents DROP COLUMN model_json;
    ALTER TABLE documents ADD COLUMN field_rows_json TEXT NOT NULL DEFAULT '[]';
    CREATE VIEW fields AS
        SELECT d.id AS doc_id,
               json_extract(r.value, '$[0]') AS key,
               json_extract(r.value, '$[1]') AS value_json,
               json_extract(r.value, '$[2]') AS line,
               json_extract(r.value, '$[3]') AS effective
        FROM documents d, json_each(d.field_rows_json) AS r;
    UPDATE documents SET sha256 = '', mtime_ns = -1;
    """,
    # 7: a file is skipped only if its change time is also the one indexed (a write that keeps
    # the size and puts the modification time back, or a chmod, changes only that). Each file's
    # hash is checked once on the next run, which fills the column.
    """
    ALTER TABLE documents ADD COLUMN ctime_ns INTEGER NOT NULL DEFAULT 0;
    """,
    # 8: a deleted draft's id is never given again (a `drafts rm N` from an old listing could
    # delete the draft that took its number): the table is made again with AUTOINCREMENT.
    """
    CREATE TABLE drafts_new (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        source_path TEXT,
        hint INTEGER,
        title TEXT NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT '',
        domain TEXT NOT NULL DEFAULT '',
        confidence TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        depends_on_json TEXT NOT NULL DEFAULT '[]',
        challenged_by_json TEXT NOT NULL DEFAULT '[]',
        secondary_domains_json TEXT NOT NULL DEFAULT '[]',
        body TEXT NOT NULL DEFAULT '',
        target_path TEXT,
        enrichment_kind TEXT,
        different_from_json TEXT NOT NULL DEFAULT '[]',
        state TEXT NOT NULL DEFAULT 'draft',
        who TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        saved_at TEXT,
        exported_at TEXT,
        claims_json TEXT NOT NULL DEFAULT '[]',
        status TEXT
    );
    INSERT INTO drafts_new (
        id, kind, source_path, hint, title, description, domain, confidence, source, created,
        depends_on_json, challenged_by_json, secondary_domains_json, body, target_path,
        enrichment_kind, different_from_json, state, who, updated_at, saved_at, exported_at,
        claims_json, status
    )
    SELECT
        id, kind, source_path, hint, title, description, domain, confidence, source, created,
        depends_on_json, challenged_by_json, secondary_domains_json, body, target_path,
        enrichment_kind, different_from_json, state, who, updated_at, saved_at, exported_at,
        claims_json, status
    FROM drafts;
    DROP TABLE drafts;
    ALTER TABLE drafts_new RENAME TO drafts;
    CREATE INDEX drafts_source ON drafts(source_path);
    """,
    # 9: a status change keeps the status the file said when it was made: export refuses a
    # file whose status changed on disk since, until the curator sets theirs again.
    """
    ALTER TABLE actions ADD COLUMN file_status TEXT;
    """,
    # 10: a challenge draft's type (refutation, boundary, reframe, evidence-gap).
    """
    ALTER TABLE drafts ADD COLUMN challenge_type TEXT;
    """,
)
SCHEMA_VERSION: Final = len(MIGRATIONS)


class SchemaTooNew(KbtuiError):
    """The database was written by a newer kbtui."""


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database up to `SCHEMA_VERSION`, one transaction per migration."""
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if current > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"the index was written by a newer kbtui (schema {current} > {SCHEMA_VERSION})"
        )
    while current < SCHEMA_VERSION:
        # Take the write lock, then read the version again: another process opening the same
        # new index at the same moment may have migrated it meanwhile.
        conn.execute("BEGIN IMMEDIATE")
        current = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if current >= SCHEMA_VERSION:
            conn.execute("COMMIT")
            break
        try:
            for statement in _statements(MIGRATIONS[current]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {current + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        current += 1
    return SCHEMA_VERSION


def _statements(script: str) -> list[str]:
    """The statements of a migration script, split where SQLite says they end."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())
    return statements
