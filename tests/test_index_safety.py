"""The index file deleted or replaced under a running kbtui, --db over files that are not
indexes, and SQLite's failures said in one line that names the real cause."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbtui.cli import main
from kbtui.ops import curation, drafting
from kbtui.ops.session import Session, open_session
from kbtui.store.db import IndexLost

from app_helpers import make_app


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def first_source(session: Session) -> str:
    return str(
        session.db.conn.execute(
            "SELECT path FROM documents WHERE kind = 'source' ORDER BY path LIMIT 1"
        ).fetchone()[0]
    )


def delete_index(root: Path) -> None:
    """What `git clean -fdX` does to it."""
    for path in root.glob("kb.sqlite*"):
        path.unlink()


def pending(root: Path, db: Path | None = None) -> tuple[int, int]:
    """(drafts, actions) in the index at `db` (default: the KB's own)."""
    conn = sqlite3.connect(db or root / "kb.sqlite")
    try:
        drafts = conn.execute("SELECT count(*) FROM drafts").fetchone()[0]
        actions = conn.execute("SELECT count(*) FROM actions").fetchone()[0]
    finally:
        conn.close()
    return drafts, actions


# Point 3: the index deleted or replaced while kbtui runs ---------------------------------


def test_an_index_deleted_while_open_is_written_again_with_the_work(seeds_copy: Path) -> None:
    session = open_session(seeds_copy, None)
    session.reindex()
    told: list[str] = []
    session.db.listener = told.append
    source = first_source(session)
    drafting.new_claim_draft(session.db, source, None)
    delete_index(seeds_copy)
    curation.set_status(session.db, source, "processing", None, "tester")
    assert told and "was deleted while kbtui ran" in told[0] and "written again" in told[0]
    drafting.new_claim_draft(session.db, source, None)
    session.close()
    assert pending(seeds_copy) == (2, 1)
    assert (
        sqlite3.connect(seeds_copy / "kb.sqlite").execute("PRAGMA integrity_check").fetchone()[0]
        == "ok"
    )


def test_an_index_deleted_while_only_read_keeps_its_work_when_closed(seeds_copy: Path) -> None:
    session = open_session(seeds_copy, None)
    session.reindex()
    drafting.new_claim_draft(session.db, first_source(session), None)
    delete_index(seeds_copy)
    session.close()  # the last holder of the deleted file
    assert pending(seeds_copy) == (1, 0)


def test_an_index_replaced_while_open_is_never_written_over(seeds_copy: Path) -> None:
    session = open_session(seeds_copy, None)
    session.reindex()
    source = first_source(session)
    drafting.new_claim_draft(session.db, source, None)
    delete_index(seeds_copy)
    assert run("index", str(seeds_copy))[0] == 0  # another kbtui builds a new index there
    before = (seeds_copy / "kb.sqlite").read_bytes()
    with pytest.raises(IndexLost) as refused:
        curation.set_status(session.db, source, "processing", None, "tester")
    message = str(refused.value)
    assert "was replaced by another file" in message and "--db" in message
    rescued = [p for p in seeds_copy.iterdir() if p.name.startswith("kb.sqlite.rescued-")]
    assert len(rescued) == 1 and str(rescued[0]) in message
    with pytest.raises(IndexLost):  # and every later write, without another copy
        drafting.new_claim_draft(session.db, source, None)
    session.close()
    assert (seeds_copy / "kb.sqlite").read_bytes() == before
    assert pending(seeds_copy) == (0, 0)
    code, out, _ = run("drafts", "list", str(seeds_copy), "--db", str(rescued[0]), "--json")
    assert code == 0 and len(json.loads(out)) == 1


def test_a_cli_write_into_a_replaced_index_is_one_line(
    seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("index", str(seeds_copy))[0] == 0
    source = next((seeds_copy / "inbox" / "archive").glob("*.md"))

    real = curation.set_status

    def replaced_meanwhile(*args: object, **kwargs: object) -> object:
        delete_index(seeds_copy)
        (seeds_copy / "kb.sqlite").write_bytes(b"")  # someone else's file now
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("kbtui.ops.curation.set_status", replaced_meanwhile)
    code, out, err = run("status", str(source), "processing")
    assert code == 2 and out == ""
    assert "was replaced by another file" in err and "kb.sqlite.rescued-" in err
    assert (seeds_copy / "kb.sqlite").read_bytes() == b""


async def test_the_app_writes_a_deleted_index_again_and_says_so(seeds_copy: Path) -> None:
    app = make_app(seeds_copy)
    async with app.run_test() as pilot:
        drafting.new_claim_draft(app.db, first_source(app.session), None)
        delete_index(seeds_copy)
        assert app.watch_index_file()
        await pilot.pause()
        notes = [n.message for n in app._notifications]
        assert any("was deleted while kbtui ran" in note for note in notes), notes
        assert pending(seeds_copy) == (1, 0)
        await pilot.press("q")
    app.session.close()


async def test_the_app_stops_on_a_replaced_index_and_keeps_the_work(seeds_copy: Path) -> None:
    app = make_app(seeds_copy)
    async with app.run_test() as pilot:
        drafting.new_claim_draft(app.db, first_source(app.session), None)
        delete_index(seeds_copy)
        (seeds_copy / "kb.sqlite").write_bytes(b"not ours")
        app.action_reindex()  # looks before its child would open the path
        await pilot.pause()
    assert app.return_code == 2
    assert (seeds_copy / "kb.sqlite").read_bytes() == b"not ours"
    rescued = next(p for p in seeds_copy.iterdir() if p.name.startswith("kb.sqlite.rescued-"))
    assert pending(seeds_copy, rescued) == (1, 0)
    with pytest.raises(IndexLost, match="saved in"):
        app.session.db.check_file()  # what `kbtui` prints once the app has ended
    app.session.db.conn.close()


# Point 5: --db over a file that is not an index ---------------------------------------------


def test_db_never_writes_over_a_file_that_is_not_an_index(seeds_copy: Path, tmp_path: Path) -> None:
    empty_note = seeds_copy / "domains" / "empty.md"
    empty_note.write_bytes(b"")
    code, _, err = run("index", str(seeds_copy), "--db", str(empty_note))
    assert code == 2 and "not a kbtui index" in err
    assert empty_note.read_bytes() == b""
    empty_outside = tmp_path / "empty.sqlite"
    empty_outside.write_bytes(b"")
    code, _, err = run("index", str(seeds_copy), "--db", str(empty_outside))
    assert code == 2 and "is an empty file, not a kbtui index" in err
    assert empty_outside.read_bytes() == b""
    text = tmp_path / "notes.txt"
    text.write_text("my notes\n")
    code, _, err = run("index", str(seeds_copy), "--db", str(text))
    assert code == 2 and "not a SQLite database" in err and text.read_text() == "my notes\n"


def test_db_inside_the_kb_is_only_its_default_or_an_index(seeds_copy: Path, tmp_path: Path) -> None:
    inside = seeds_copy / "domains" / "index.sqlite"
    code, _, err = run("index", str(seeds_copy), "--db", str(inside))
    assert code == 2 and "is inside the KB" in err and not inside.exists()
    # An index made elsewhere and put there is used as it is.
    made = tmp_path / "made.sqlite"
    assert run("index", str(seeds_copy), "--db", str(made))[0] == 0
    shutil.move(made, inside)
    code, _, err = run("stats", str(seeds_copy), "--db", str(inside))
    assert code == 0, err
    assert run("stats", str(seeds_copy), "--db", str(seeds_copy / "kb.sqlite"))[0] == 0


# Point 11: SQLite's failures on opening, one line each ------------------------------------


def test_damage_near_the_start_of_the_index_is_one_line(seeds_copy: Path) -> None:
    assert run("index", str(seeds_copy))[0] == 0
    index = seeds_copy / "kb.sqlite"
    conn = sqlite3.connect(index)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = [row[0] for row in conn.execute("SELECT pageno FROM dbstat WHERE name = 'meta'")]
    conn.close()
    with index.open("r+b") as handle:
        for page in pages:
            handle.seek((page - 1) * page_size)
            handle.write(os.urandom(page_size))
    code, out, err = run("stats", str(seeds_copy))
    assert code == 2 and out == ""
    assert "is damaged" in err and "kbtui repair" in err and len(err.strip().splitlines()) == 1


def test_a_write_lock_held_on_a_copied_kb_is_one_line(seeds_copy: Path, tmp_path: Path) -> None:
    assert run("index", str(seeds_copy))[0] == 0
    copy = tmp_path / "copy"
    shutil.copytree(seeds_copy, copy)  # its index records the first KB: it is written on open
    holder = sqlite3.connect(copy / "kb.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        code, out, err = run("stats", str(copy))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 2 and out == ""
    assert "is busy in another program" in err and "try again" in err


# Point 12: what is really wrong --------------------------------------------------------------


def test_a_full_disk_is_called_so(seeds_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("index", str(seeds_copy))[0] == 0
    real = open_session

    def on_a_full_disk(*args: object) -> Session:
        session = real(*args)  # type: ignore[arg-type]
        pages = session.db.conn.execute("PRAGMA page_count").fetchone()[0]
        session.db.conn.execute(f"PRAGMA max_page_count = {pages}")  # no page more: full
        return session

    monkeypatch.setattr("kbtui.cli.base.open_session", on_a_full_disk)
    source = next((seeds_copy / "inbox" / "archive").glob("*.md"))
    code, out, err = run(
        "draft", "claim", "--source", str(source), "--argument", "x" * 200_000, "--json"
    )
    assert code == 2 and out == ""
    assert "is full: free some space" in err and "no transaction is active" not in err


def test_a_read_only_shm_file_is_named_not_the_index(
    seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("index", str(seeds_copy))[0] == 0
    shm = seeds_copy / "kb.sqlite-shm"

    def stale_shm(*args: object, **kwargs: object) -> None:
        # (As root, which writes any file, SQLite would not refuse it: its refusal is played.)
        shm.touch()
        shm.chmod(0o444)
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr("kbtui.ops.session.Session.reindex", stale_shm)
    code, _, err = run("check", str(seeds_copy))
    shm.chmod(0o644)
    assert code == 2 and "kb.sqlite-shm" in err and "not the index itself" in err
    assert "delete kb.sqlite-shm" in err.replace("\n", " ")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_a_utf16_file_is_not_called_binary(seeds_copy: Path, encoding: str) -> None:
    note = seeds_copy / "domains" / "windows note.md"
    note.write_bytes("---\ntype: claim\n---\n# A note saved by Notepad\n".encode(encoding))
    code, out, _ = run("check", str(seeds_copy), "--json")
    assert code == 1
    problems = next(f for f in json.loads(out)["files"] if f["path"].endswith("windows note.md"))
    assert [(p["code"], p["message"].split(":")[0]) for p in problems["problems"]] == [
        ("not-utf8", f"{encoding[:6].upper()} text, not UTF-8")
    ]
    assert "convert it to UTF-8" in problems["problems"][0]["message"]


def test_opening_the_index_again_in_the_same_process_keeps_its_locks(tmp_path: Path) -> None:
    """The app opens the index again in a worker (an export); closing that must not drop the
    app's own locks, or another process deletes the write-ahead log under the app, whose
    later writes then reach no one."""
    import subprocess
    import sys

    from kbtui.store.db import open_db

    path = tmp_path / "kb.sqlite"
    app = open_db(path)
    app.conn.execute("INSERT INTO meta VALUES ('first', '1')")
    again = open_db(path)  # as the export worker does
    again.close()
    reader = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "print(c.execute(\"SELECT count(*) FROM meta WHERE key IN ('first', 'second')\")"
        ".fetchone()[0]); c.close()"
    )
    subprocess.run([sys.executable, "-c", reader, str(path)], check=True, capture_output=True)
    app.conn.execute("INSERT INTO meta VALUES ('second', '2')")
    seen = subprocess.run(
        [sys.executable, "-c", reader, str(path)], check=True, capture_output=True, text=True
    )
    assert seen.stdout.strip() == "2"
    assert (tmp_path / "kb.sqlite-wal").exists()
    app.close()
