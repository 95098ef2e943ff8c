"""The index's schema: the `fields` view, and migrating an index written by an older kbtui."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from kbtui.ops.indexer import index_kb
from kbtui.store import schema
from kbtui.store.db import StoreError, open_db

DUPLICATED = (
    b"---\ntype: claim\nconfidence: likely\ndepends_on: [a, b]\nconfidence: proven\n---\nx\n"
)


def _kb(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    (root / "domains" / "d").mkdir(parents=True)
    (root / "domains" / "d" / "a claim.md").write_bytes(DUPLICATED)
    return root


def _fields(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    return conn.execute(
        "SELECT f.key, f.value_json, f.line, f.effective FROM fields f "
        "JOIN documents d ON d.id = f.doc_id WHERE d.path = 'domains/d/a claim.md'"
    ).fetchall()


def test_fields_view_has_a_row_per_field_with_its_line_and_the_shadowed_value(
    tmp_path: Path,
) -> None:
    root = _kb(tmp_path)
    db = open_db(tmp_path / "kb.sqlite")
    index_kb(db, root)
    rows = _fields(db.conn)
    assert rows == [
        ("confidence", '"likely"', 3, 0),  # the earlier value of the duplicated key
        ("type", '"claim"', 2, 1),
        ("confidence", '"proven"', 3, 1),
        ("depends_on", '["a", "b"]', 4, 1),
    ]
    assert json.loads(str(rows[3][1])) == ["a", "b"]


def test_an_index_from_schema_4_is_migrated_and_its_fields_filled_on_the_next_run(
    tmp_path: Path,
) -> None:
    root = _kb(tmp_path)
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    for script in schema.MIGRATIONS[:4]:
        for statement in schema._statements(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 4")
    # Indexed as it is now (same mtime, size and digest): only the migration can make the
    # next run read it again.
    info = (root / "domains" / "d" / "a claim.md").stat()
    conn.execute(
        "INSERT INTO documents (id, path, kind, title, stem, folder, encoding, has_frontmatter, "
        "fields_json, size, mtime_ns, sha256) VALUES (1, 'domains/d/a claim.md', 'claim', 't', "
        "'a claim', 'domains/d', 'utf-8', 1, '{}', ?, ?, ?)",
        (info.st_size, info.st_mtime_ns, hashlib.sha256(DUPLICATED).hexdigest()),
    )
    conn.execute("INSERT INTO fields VALUES (1, 'type', '\"claim\"', 2, 1)")
    conn.close()

    db = open_db(path)
    assert db.conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    kind = db.conn.execute("SELECT type FROM sqlite_schema WHERE name = 'fields'").fetchone()
    assert kind == ("view",)
    report = index_kb(db, root)
    assert report.updated == ["domains/d/a claim.md"]
    assert len(_fields(db.conn)) == 4


def _backlink_plan(db_path: Path) -> str:
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "EXPLAIN QUERY PLAN SELECT doc_id FROM links WHERE resolved_path = 'x'"
        ).fetchall()
    return " ".join(str(row[-1]) for row in rows)


def test_a_bulk_build_leaves_its_deferred_indexes_built(tmp_path: Path) -> None:
    from gen_kb import generate_kb

    kb = tmp_path / "kb"
    generate_kb(kb, 300, seed=1)
    db_path = tmp_path / "kb.sqlite"
    index_kb(open_db(db_path), kb)
    assert "links_resolved" in _backlink_plan(db_path)


def test_indexes_dropped_by_an_interrupted_bulk_build_are_rebuilt_by_the_next_run(
    tmp_path: Path,
) -> None:
    from kbtui.store.index import defer_indexes, get_meta

    kb = _kb(tmp_path)
    db_path = tmp_path / "kb.sqlite"
    db = open_db(db_path)
    index_kb(db, kb)
    defer_indexes(db)  # as a bulk build does first, before it was killed
    assert "links_resolved" not in _backlink_plan(db_path)
    index_kb(db, kb)
    assert "links_resolved" in _backlink_plan(db_path)
    assert get_meta(db, "fts_deferred") is None


def test_a_new_index_has_large_pages_and_an_older_one_keeps_its_own(tmp_path: Path) -> None:
    from kbtui.store.db import PAGE_SIZE

    kb = _kb(tmp_path)
    new = open_db(tmp_path / "new.sqlite")
    index_kb(new, kb)
    assert new.conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE == 8192
    old_path = tmp_path / "old.sqlite"
    with sqlite3.connect(old_path) as conn:  # an index made before: 4096-byte pages
        conn.execute("PRAGMA page_size = 4096")
        conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    old = open_db(old_path)
    report = index_kb(old, kb)
    assert old.conn.execute("PRAGMA page_size").fetchone()[0] == 4096
    assert report.documents == 1


def test_a_file_kbtui_fails_to_parse_is_stored_empty_and_stays_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kbtui.ops import indexer

    root = tmp_path / "kb"
    root.mkdir()
    (root / "bad.md").write_bytes(b"---\ntitle: caf\xe9\n---\nbody \xff\n")
    (root / "good.md").write_bytes(b"# good\n")
    parse = indexer.parse_document  # type: ignore[attr-defined]

    def failing(path: str, data: bytes) -> object:
        if path == "bad.md" and data:
            raise RuntimeError("a bug in kbtui")
        return parse(path, data)

    monkeypatch.setattr(indexer, "parse_document", failing)
    db = open_db(tmp_path / "kb.sqlite")
    index_kb(db, root)
    rows = db.conn.execute(
        "SELECT path, typeof(body), body, raw_frontmatter FROM documents ORDER BY path"
    ).fetchall()
    assert rows == [("bad.md", "text", "", ""), ("good.md", "text", "# good\n", "")]
    codes = [row[0] for row in db.conn.execute("SELECT code FROM problems")]
    assert "internal-error" in codes


def test_a_database_of_another_program_is_refused_untouched(tmp_path: Path) -> None:
    other = tmp_path / "notes.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes (text) VALUES ('mine')")
    conn.close()
    before = other.read_bytes()
    with pytest.raises(StoreError, match="database of another program"):
        open_db(other)
    assert other.read_bytes() == before
    assert not Path(f"{other}-wal").exists()


def test_an_index_path_under_a_file_names_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("x")
    with pytest.raises(StoreError, match=f"{blocker} is a file, not a folder"):
        open_db(blocker / "kb.sqlite")


def test_draft_ids_are_never_given_twice_and_older_indexes_keep_their_drafts(
    tmp_path: Path,
) -> None:

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    for script in schema.MIGRATIONS[:7]:  # an index made before migration 8
        for statement in schema._statements(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 7")
    conn.execute(
        "INSERT INTO drafts (id, kind, title, created, who, updated_at, claims_json) "
        "VALUES (5, 'claim', 'kept draft', '2026-01-01', 'ana', 'now', '[\"a\"]')"
    )
    conn.close()
    db = open_db(path)
    assert db.conn.execute("SELECT id, title, claims_json FROM drafts").fetchall() == [
        (5, "kept draft", '["a"]')
    ]
    db.conn.execute("DELETE FROM drafts WHERE id = 5")
    db.conn.execute(
        "INSERT INTO drafts (kind, title, created, who, updated_at) "
        "VALUES ('claim', 'new', '2026-01-02', 'ana', 'now')"
    )
    assert db.conn.execute("SELECT id FROM drafts").fetchone()[0] == 6


def test_the_queue_filter_finds_sources_by_author_and_file_name(small_kb: Path) -> None:
    from kbtui.ops import desk
    from kbtui.ops.session import open_session

    source = small_kb / "inbox" / "archive" / "2025-11-20-tariff-study.md"
    source.write_text(source.read_text().replace('author: "Field Notes"', 'author: "Ramstead"'))
    session = open_session(small_kb, None)
    session.reindex()

    def found(text: str) -> list[str]:
        ids = desk.queue_ids(session.db, "unprocessed", desk.QueueFilter(text=text))
        return [row.path for row in desk.queue_rows(session.db, ids).values()]

    assert found("ramstead") == ["inbox/archive/2025-11-20-tariff-study.md"]
    assert found("battery-trial") == ["inbox/archive/2026-01-03-battery-trial.md"]
    assert found("100%_off") == []  # LIKE's own characters are text
    assert found("archive") == []  # the file's name, not its folder's
    assert found("tariff study") == ["inbox/archive/2025-11-20-tariff-study.md"]
    assert found("-battery") == []  # an exclusion is never a name to look for
    assert found("md") == []  # nor the `.md` every file name ends with
