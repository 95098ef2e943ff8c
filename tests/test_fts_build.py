"""A cold build indexes the text beside the index while it writes: the result must be exactly
what SQLite's own rebuild gives, seen alike by every connection, with nothing left behind."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from kbtui.ops.indexer import index_kb
from kbtui.ops.queries import search
from kbtui.store import fts
from kbtui.store.db import Database, open_db
from kbtui.store.index import get_meta

from gen_kb import generate_kb

WORDS = ("grid storage", "battery", "tension", "regulatory capture", "orbital*", "nothing-like-it")


def _results(db: Database) -> list[list[tuple[str, str]]]:
    return [[(hit.path, hit.snippet) for hit in search(db, words)] for words in WORDS]


def _check(db_path: Path) -> None:
    """SQLite's own check of the FTS index against the documents' text."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("INSERT INTO documents_fts(documents_fts) VALUES ('integrity-check')")
    finally:
        conn.close()


def _rebuilt(db_path: Path, tmp_path: Path) -> list[list[tuple[str, str]]]:
    """The search results once SQLite has rebuilt the FTS index itself (on a copy)."""
    copy = tmp_path / "rebuilt.sqlite"
    source = sqlite3.connect(db_path)
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.execute("INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')")
    target.commit()
    target.close()
    return _results(open_db(copy))


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fts") / "kb"
    generate_kb(root, 400, seed=5)
    return root


def test_a_cold_build_gives_the_index_a_rebuild_gives_to_every_connection(
    kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed: list[bool] = []
    install = fts.FtsBuilder.install

    def spy(self: fts.FtsBuilder) -> bool:
        installed.append(install(self))
        return installed[-1]

    monkeypatch.setattr(fts.FtsBuilder, "install", spy)
    db_path = tmp_path / "kb.sqlite"
    db = open_db(db_path)
    app = open_db(db_path)  # the app's connection, open (and searching) while it builds
    assert _results(db) == _results(app) == [[] for _ in WORDS]
    report = index_kb(db, kb)
    assert report.documents > 400
    assert installed == [True]  # built beside the index, not rebuilt
    _check(db_path)
    assert get_meta(db, "fts_deferred") is None
    expected = _rebuilt(db_path, tmp_path)
    assert any(expected), "the queries must find something"
    assert _results(db) == _results(app) == expected
    assert not Path(f"{db_path}{fts.SCRATCH_SUFFIX}").exists()


def test_when_the_scratch_index_cannot_be_copied_the_text_is_rebuilt(
    kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fts, "SHADOW_TABLES", (*fts.SHADOW_TABLES, "missing"))
    db_path = tmp_path / "kb.sqlite"
    db = open_db(db_path)
    index_kb(db, kb)
    _check(db_path)
    assert get_meta(db, "fts_deferred") is None
    assert _results(db) == _rebuilt(db_path, tmp_path)
    assert not Path(f"{db_path}{fts.SCRATCH_SUFFIX}").exists()


def test_a_scratch_index_left_by_a_killed_run_is_deleted_by_the_next_run(
    kb: Path, tmp_path: Path
) -> None:
    root = tmp_path / "kb"
    root.symlink_to(kb, target_is_directory=True)
    db_path = tmp_path / "kb.sqlite"
    db = open_db(db_path)
    index_kb(db, root)
    # A cold build killed after some batches: its documents are there, its scratch file too.
    scratch = Path(f"{db_path}{fts.SCRATCH_SUFFIX}")
    scratch.write_bytes(b"left by a run that was killed")
    index_kb(db, root)
    assert not scratch.exists()
    _check(db_path)


def test_a_failing_scratch_commit_falls_back_to_a_rebuild_without_hanging(
    kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scratch index's last commit writes its pending terms: a full disk fails there."""
    connect = sqlite3.connect

    class FailingCommit:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self._conn = conn

        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            if sql.startswith("COMMIT"):
                raise sqlite3.OperationalError("database or disk is full")
            return self._conn.execute(sql, *args)

        def close(self) -> None:
            self._conn.close()

    def fake_connect(path: str, *args: Any, **kwargs: Any) -> object:
        conn = connect(path, *args, **kwargs)
        return FailingCommit(conn) if str(path).endswith(fts.SCRATCH_SUFFIX) else conn

    monkeypatch.setattr(sqlite3, "connect", fake_connect)  # the scratch index's only
    db_path = tmp_path / "kb.sqlite"
    db = open_db(db_path)
    run = threading.Thread(target=index_kb, args=(db, kb), daemon=True)
    run.start()
    run.join(timeout=120)
    assert not run.is_alive(), "the index run hung"
    monkeypatch.undo()
    _check(db_path)
    assert get_meta(db, "fts_deferred") is None
    assert _results(db) == _rebuilt(db_path, tmp_path)
    assert not Path(f"{db_path}{fts.SCRATCH_SUFFIX}").exists()


def test_a_scratch_index_inside_the_kb_is_not_one_of_its_files(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    generate_kb(root, 250, seed=2)
    others = sum(1 for p in root.rglob("*") if p.is_file() and p.suffix != ".md")
    db_path = root / "kb.sqlite"
    Path(f"{db_path}{fts.SCRATCH_SUFFIX}").write_bytes(b"stale")
    report = index_kb(open_db(db_path), root)
    assert report.other_files == others
