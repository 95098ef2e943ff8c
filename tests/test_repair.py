"""`kbtui repair` on indexes damaged for real (bytes overwritten in the file): the drafts and
status changes that can still be read survive, and what could not be read is named."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from kbtui.cli import main
from kbtui.ops import curation, drafting
from kbtui.ops.session import open_session

DRAFTS = 40


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def kb_with_work(root: Path) -> str:
    """Index `root`, save `DRAFTS` drafts (a few to a page) and a status change; returns the
    source they come from. The index is closed, its WAL checkpointed into the file."""
    session = open_session(root, None)
    session.reindex()
    source = session.db.conn.execute(
        "SELECT path FROM documents WHERE kind = 'source' ORDER BY path LIMIT 1"
    ).fetchone()[0]
    for number in range(DRAFTS):
        draft = drafting.new_claim_draft(session.db, source, None)
        drafting.update_draft(session.db, draft.id, title=f"draft {number}", body="b" * 3000)
    curation.set_status(session.db, source, "processing", None, "tester")
    session.close()
    return str(source)


def overwrite_pages(index: Path, *tables: str, pick: slice = slice(None)) -> None:
    """Garbage over the pages of these tables (found with SQLite's dbstat)."""
    conn = sqlite3.connect(index)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = [
        row[0]
        for table in tables
        for row in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = ? ORDER BY pageno", (table,)
        ).fetchall()[pick]
    ]
    conn.close()
    with index.open("r+b") as handle:
        for page in pages:
            handle.seek((page - 1) * page_size)
            handle.write(os.urandom(page_size))


def drafts_in(root: Path) -> list[str]:
    code, out, _ = run("drafts", "list", str(root), "--json")
    assert code == 0
    return sorted(draft["title"] for draft in json.loads(out))


def test_a_damaged_full_text_index_is_repaired_with_every_draft(seeds_copy: Path) -> None:
    kb_with_work(seeds_copy)
    index = seeds_copy / "kb.sqlite"
    overwrite_pages(index, "documents", "documents_fts_data")
    code, out, err = run("stats", str(seeds_copy))
    assert code == 2 and "damaged" in err and "kbtui repair" in err
    assert "move it aside" not in err
    code, out, err = run("repair", str(seeds_copy), "--json")
    report = json.loads(out)
    assert code == 0, err
    assert (report["drafts"], report["drafts_pending"]) == (DRAFTS, DRAFTS)
    assert (report["actions"], report["actions_pending"]) == (1, 1)
    assert report["not_saved"] == [] and report["documents"] > 30
    moved = Path(report["moved_to"])
    assert moved.name.startswith("kb.sqlite.damaged-") and moved.stat().st_size > 0
    assert len(drafts_in(seeds_copy)) == DRAFTS
    code, out, _ = run("stats", str(seeds_copy), "--json")
    assert code == 0 and json.loads(out)["sources_by_status"]
    code, out, _ = run("undo", str(seeds_copy), "--json")
    assert code == 0 and json.loads(out)["undone"]["to_status"] == "processing"


def test_a_damaged_page_of_drafts_loses_only_its_own(seeds_copy: Path) -> None:
    kb_with_work(seeds_copy)
    overwrite_pages(seeds_copy / "kb.sqlite", "drafts", pick=slice(3, 4))
    code, out, err = run("repair", str(seeds_copy))
    assert code == 1
    saved = drafts_in(seeds_copy)
    assert DRAFTS - 4 <= len(saved) < DRAFTS  # the page held a few drafts
    assert "not saved: drafts with id" in err and "could not be read" in err
    assert f"Saved {len(saved)} draft(s)" in out
    # A new draft never takes the id of one that was lost.
    session = open_session(seeds_copy, None)
    source = session.db.conn.execute("SELECT source_path FROM drafts LIMIT 1").fetchone()[0]
    assert drafting.new_claim_draft(session.db, source, None).id == DRAFTS + 1
    session.close()


def test_garbage_over_the_header_is_repaired(seeds_copy: Path) -> None:
    kb_with_work(seeds_copy)
    index = seeds_copy / "kb.sqlite"
    with index.open("r+b") as handle:
        handle.write(os.urandom(100))
    code, _, err = run("stats", str(seeds_copy))
    assert code == 2 and "not a SQLite database" in err and "kbtui repair" in err
    code, out, err = run("repair", str(seeds_copy), "--json")
    assert code == 0, err
    assert json.loads(out)["drafts"] == DRAFTS and len(drafts_in(seeds_copy)) == DRAFTS


def test_repair_leaves_another_programs_database_alone(tmp_path: Path, seeds_copy: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER)")
    code, _, err = run("repair", str(seeds_copy), "--db", str(other))
    assert code == 2 and "another program" in err and other.exists()


def test_repair_without_an_index_says_so(seeds_copy: Path) -> None:
    code, _, err = run("repair", str(seeds_copy))
    assert code == 2 and "nothing to repair" in err and not (seeds_copy / "kb.sqlite").exists()


def test_an_index_that_reads_fine_is_left_alone(seeds_copy: Path) -> None:
    """An app using it would take a rebuilt index for another file and stop."""
    kb_with_work(seeds_copy)
    index = seeds_copy / "kb.sqlite"
    before = index.stat().st_ino
    code, _, err = run("repair", str(seeds_copy))
    assert code == 0 and "reads fine: nothing to repair" in err
    assert index.stat().st_ino == before
    assert not list(seeds_copy.glob("kb.sqlite.damaged-*"))
    code, _, _ = run("repair", str(seeds_copy), "--force")
    assert code == 0 and list(seeds_copy.glob("kb.sqlite.old-*"))
    assert not list(seeds_copy.glob("kb.sqlite.damaged-*"))


def test_a_broken_profile_stops_repair_before_anything_moves(seeds_copy: Path) -> None:
    kb_with_work(seeds_copy)
    index = seeds_copy / "kb.sqlite"
    overwrite_pages(index, "documents")
    (seeds_copy / "kbtui.toml").write_text("[kinds.claim\n", encoding="utf-8")
    code, _, err = run("repair", str(seeds_copy))
    assert code == 2 and "kbtui.toml: not valid TOML" in err
    assert index.is_file() and not list(seeds_copy.glob("kb.sqlite.*-*"))


def test_a_forced_repair_of_a_sound_index_does_not_call_it_damaged(seeds_copy: Path) -> None:
    kb_with_work(seeds_copy)
    code, out, _ = run("repair", str(seeds_copy), "--force")
    assert code == 0 and "Moved the index (it read fine) aside" in out
    assert "damaged" not in out


def test_repair_keeps_the_files_an_earlier_export_could_not_commit(seeds_copy: Path) -> None:
    from kbtui.ops.gitcommit import UNCOMMITTED
    from kbtui.store import index as store

    kb_with_work(seeds_copy)
    session = open_session(seeds_copy, None)
    with store.transaction(session.db):
        store.set_meta(session.db, UNCOMMITTED, json.dumps({"paths": ["a.md"], "branch": "b"}))
    session.close()
    overwrite_pages(seeds_copy / "kb.sqlite", "documents")
    code, _, err = run("repair", str(seeds_copy))
    assert code == 0, err
    code, _, err = run("export", str(seeds_copy), "--dry-run")
    assert "1 file(s) an earlier export wrote wait to be committed" in err
