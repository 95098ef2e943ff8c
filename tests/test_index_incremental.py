"""An index brought up to date run by run holds exactly what a build from scratch holds."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from kbtui.ops.indexer import index_kb
from kbtui.store.db import open_db

from gen_kb import generate_kb

QUERIES = {
    "documents": "SELECT path, kind, title, fields_json, body FROM documents",
    "links": "SELECT d.path, l.target, l.resolved_path, l.rule, l.ambiguous, l.candidates_json "
    "FROM links l JOIN documents d ON d.id = l.doc_id",
    "problems": "SELECT d.path, p.scope, p.code, p.severity, p.message, p.line, p.target "
    "FROM problems p JOIN documents d ON d.id = p.doc_id",
}


def dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(db) as conn:
        return {
            name: sorted(conn.execute(sql).fetchall(), key=repr) for name, sql in QUERIES.items()
        }


def claim(title: str, body: str) -> str:
    return (
        f"---\ntype: claim\ndomain: energy\ndescription: {title}\nconfidence: likely\n"
        f"source: a test\ncreated: 2026-01-01\n---\n\n# {title}\n\n{body}\n"
    )


def test_changes_indexed_run_by_run_match_a_build_from_scratch(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    generate_kb(kb, 400, seed=5)
    db = tmp_path / "kb.sqlite"
    index_kb(open_db(db), kb, workers=2)
    claims = kb / "domains" / "energy"
    claims.mkdir(parents=True, exist_ok=True)
    sources = sorted((kb / "inbox" / "archive").glob("*.md"))

    # A link to a claim not yet written, then the claim itself: the link resolves.
    (claims / "grids need slack.md").write_text(claim("grids need slack", "See [[slack pays]]."))
    index_kb(open_db(db), kb)
    (claims / "slack pays.md").write_text(claim("slack pays", "Back to [[grids need slack]]."))
    # A second file with a source's name, in another folder: a duplicate, and ambiguous links.
    elsewhere = kb / "inbox" / "queue"
    elsewhere.mkdir(parents=True, exist_ok=True)
    (elsewhere / sources[0].name).write_bytes(sources[0].read_bytes())
    index_kb(open_db(db), kb)

    # A rename, a deletion, and an edit that links to what was deleted.
    os.rename(claims / "slack pays.md", claims / "slack pays off.md")
    sources[1].unlink()
    text = sources[2].read_text(encoding="utf-8")
    sources[2].write_text(text + f"\n[[{sources[1].stem}]] and [[slack pays]]\n", encoding="utf-8")
    index_kb(open_db(db), kb)

    fresh = tmp_path / "fresh.sqlite"
    index_kb(open_db(fresh), kb, workers=2)
    incremental, scratch = dump(db), dump(fresh)
    assert incremental == scratch
    codes = {row[2] for row in scratch["problems"]}
    assert {"unresolved-link", "duplicate-source"} <= codes


def test_an_index_read_by_another_parser_version_reads_every_file_again(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    generate_kb(kb, 40, seed=9)
    db = tmp_path / "kb.sqlite"
    first = index_kb(open_db(db), kb)
    assert first.added and not index_kb(open_db(db), kb).changed
    # As an index made by an older kbtui (whose parser gave other line numbers, say) would be.
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'parser_version'")
        conn.execute("UPDATE links SET line = -1")
    again = index_kb(open_db(db), kb)
    assert sorted(again.updated) == sorted(first.added)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM links WHERE line = -1").fetchone() == (0,)
    assert not index_kb(open_db(db), kb).changed


def test_a_change_that_keeps_size_and_modification_time_is_seen(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    folder = kb / "domains" / "energy"
    folder.mkdir(parents=True)
    first, second = folder / "a.md", folder / "b.md"
    first.write_text(claim("a", "zebra [[x]]"))
    second.write_text(claim("b", "lions [[y]]"))
    for path in (first, second):
        os.utime(path, ns=(1_700_000_000_000_000_000,) * 2)  # as an archive restore leaves them
    db = tmp_path / "kb.sqlite"
    index_kb(open_db(db), kb)
    # Rewritten with text of the same size, the modification time put back (`touch -r`) ...
    first.write_text(claim("a", "zorro [[x]]"))
    os.utime(first, ns=(1_700_000_000_000_000_000,) * 2)
    report = index_kb(open_db(db), kb)
    assert report.updated == ["domains/energy/a.md"]
    # ... and two such files swapped by name.
    first.rename(folder / "t.md")
    second.rename(first)
    (folder / "t.md").rename(second)
    index_kb(open_db(db), kb)
    fresh = tmp_path / "fresh.sqlite"
    index_kb(open_db(fresh), kb)
    assert dump(db) == dump(fresh)
    assert [row[4] for row in sorted(dump(db)["documents"])] == [
        "\n# b\n\nlions [[y]]\n",
        "\n# a\n\nzorro [[x]]\n",
    ]


def test_an_index_made_before_change_times_were_kept_reads_each_file_once(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    (kb / "domains" / "energy").mkdir(parents=True)
    (kb / "domains" / "energy" / "a.md").write_text(claim("a", "text"))
    db = tmp_path / "kb.sqlite"
    index_kb(open_db(db), kb)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE documents SET ctime_ns = 0")  # as migration 7 leaves them
    report = index_kb(open_db(db), kb)
    assert report.unchanged == 1 and not report.changed  # its hash was the same
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT ctime_ns FROM documents").fetchone()[0] > 0
