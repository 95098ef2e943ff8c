"""Parsing in worker processes gives exactly the index a serial parse gives."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from kbtui.ops.indexer import index_kb
from kbtui.store.db import open_db

from gen_kb import generate_kb

QUERIES = {
    "documents": "SELECT path, kind, title, fields_json, field_rows_json, body FROM documents",
    "links": "SELECT d.path, l.target, l.resolved_path, l.rule FROM links l "
    "JOIN documents d ON d.id = l.doc_id",
    "problems": "SELECT d.path, p.code, p.message, p.line FROM problems p "
    "JOIN documents d ON d.id = p.doc_id",
    "candidates": "SELECT d.path, c.shape, c.text FROM candidates c "
    "JOIN documents d ON d.id = c.doc_id",
}


def dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(db) as conn:
        return {
            name: sorted(conn.execute(sql).fetchall(), key=repr) for name, sql in QUERIES.items()
        }


def test_worker_processes_match_serial_parse(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    generate_kb(kb, 600, seed=3)
    serial, parallel = tmp_path / "serial.sqlite", tmp_path / "parallel.sqlite"
    first = index_kb(open_db(serial), kb, workers=0)
    second = index_kb(open_db(parallel), kb, workers=2)
    assert first.documents == second.documents > 600
    assert dump(serial) == dump(parallel)


def test_worker_processes_do_the_parsing_not_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows a worker prepared come back (marshalled): a value marshal refuses (an enum
    member, say) made the run parse every batch again itself, at twice the time."""
    from kbtui.ops import indexer

    kb = tmp_path / "kb"
    generate_kb(kb, 400, seed=5)
    prepared_here: list[int] = []
    real = indexer._prepare

    def counting(tasks: Any, resolver: Any = None) -> Any:
        prepared_here.append(len(tasks))  # in a forked worker, its own copy of this list
        return real(tasks, resolver)

    monkeypatch.setattr(indexer, "_prepare", counting)
    db = open_db(tmp_path / "kb.sqlite")
    try:
        report = index_kb(db, kb, workers=2)
    finally:
        db.close()
    assert report.documents > 400
    assert prepared_here == []
