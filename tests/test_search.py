"""Search on large documents: snippets cut from the text around the match, ctrl+c at once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ctrl_c_as_at_a_terminal
from kbtui.cli import main
from kbtui.ops import snippets
from kbtui.ops.interrupt import interruptible
from kbtui.store.db import open_db

SENTENCE = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. "
SOURCE = """\
---
type: source
title: "{title}"
author: "Field Notes"
url: https://example.org/{slug}
date: 2026-01-03
domain: energy
format: article
status: unprocessed
---

## Content

{body}
"""
ENDLESS = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"


def write_source(kb: Path, slug: str, title: str, body: str) -> None:
    path = kb / "inbox" / "archive" / f"2026-01-03-{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SOURCE.format(title=title, slug=slug, body=body), encoding="utf-8")


def search(kb: Path, *words: str) -> list[dict[str, str]]:
    result = CliRunner().invoke(main, ["search", str(kb), *words, "--json"])
    assert result.exit_code == 0, result.output
    hits: list[dict[str, str]] = json.loads(result.stdout)["hits"]
    return hits


@pytest.fixture(scope="module")
def large_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A source of 3 MB repeating a sentence, with other words only near its end."""
    kb = tmp_path_factory.mktemp("large") / "kb"
    repeated = SENTENCE * (3_000_000 // len(SENTENCE))
    write_source(
        kb,
        "large",
        "Large field archive",
        repeated + "\n\nThe closing word is Zanzibar, near the café's Ærø terrace.\n\n" + SENTENCE,
    )
    write_source(kb, "small", "Small note", "A short note on eiusmod tempor only.")
    return kb


def test_a_snippet_shows_the_match_far_into_a_large_document(large_kb: Path) -> None:
    (hit,) = search(large_kb, "zanzibar")
    assert hit["path"] == "inbox/archive/2026-01-03-large.md"
    assert " ".join(hit["snippet"].split()) == (
        "…The closing word is [Zanzibar], near the café's Ærø terrace. Lorem…"
    )
    # The tokenizer's folding: any case, and letters with or without their diacritics.
    (hit,) = search(large_kb, "CAFE")
    assert "[café]'s" in hit["snippet"]
    (hit,) = search(large_kb, "ærø")
    assert "[Ærø]" in hit["snippet"]
    (hit,) = search(large_kb, "zanz*")
    assert "[Zanzibar]" in hit["snippet"]


def test_a_word_repeated_through_a_large_document_is_shown_at_its_first_place(
    large_kb: Path,
) -> None:
    hits = search(large_kb, "dolor")
    assert [hit["path"] for hit in hits] == ["inbox/archive/2026-01-03-large.md"]
    assert " ".join(hits[0]["snippet"].split()) == (
        "## Content Lorem ipsum [dolor] sit amet, consectetur adipiscing elit, sed do eiusmod…"
    )
    # Words ANDed: each one is marked, the nearest to the start first.
    hits = search(large_kb, "tempor", "eiusmod")
    assert {hit["path"] for hit in hits} == {
        "inbox/archive/2026-01-03-small.md",
        "inbox/archive/2026-01-03-large.md",
    }
    assert all("[eiusmod] [tempor]" in hit["snippet"] for hit in hits)


def test_a_word_left_out_is_left_out_of_every_column(tmp_path: Path) -> None:
    """A document naming the word in its title and the left-out word in its body is not a
    hit, and the page is still filled by the others."""
    kb = tmp_path / "kb"
    write_source(kb, "titled", "Kiwi orchards", "Notes on the voting rules of the orchard.")
    for i in range(3):
        write_source(kb, f"plain-{i}", f"Note {i}", "The kiwi harvest came early.")
    hits = search(kb, "kiwi", "-voting", "--limit", "3")
    assert sorted(hit["path"] for hit in hits) == [
        f"inbox/archive/2026-01-03-plain-{i}.md" for i in range(3)
    ]


def test_the_snippet_tokenizer_is_the_index_tokenizer(tmp_path: Path) -> None:
    db = open_db(tmp_path / "kb.sqlite")
    try:
        (sql,) = db.conn.execute(
            "SELECT sql FROM sqlite_schema WHERE name = 'documents_fts'"
        ).fetchone()
    finally:
        db.close()
    assert f"tokenize='{snippets.TOKENIZER}'" in sql


@pytest.mark.usefixtures("terminal_ctrl_c")
def test_ctrl_c_stops_a_long_sqlite_statement() -> None:
    conn = sqlite3.connect(":memory:")
    # Without the progress handler the statement would run on: SQLite is then told to stop,
    # and the test fails on the OperationalError this gives instead of KeyboardInterrupt.
    backstop = threading.Timer(20, conn.interrupt)
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
    backstop.start()
    try:
        with pytest.raises(KeyboardInterrupt), interruptible(conn):
            conn.execute(ENDLESS).fetchone()
    finally:
        backstop.cancel()
        conn.close()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


SLOW_SEARCH = f"""
import sys
from kbtui.ops import queries

def endless(db, *args):
    print("searching", file=sys.stderr, flush=True)
    db.conn.execute({ENDLESS!r}).fetchone()

queries.search = endless  # any command's statement, the search's own guard left out
from kbtui.cli import main
main(["search", sys.argv[1], "dolor"])
"""


def test_ctrl_c_stops_a_search_at_once_with_one_line(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    write_source(kb, "note", "A note", "Lorem ipsum dolor.")
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_SEARCH, str(kb)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_as_at_a_terminal,
    )
    try:
        assert child.stderr is not None
        assert child.stderr.readline() == "searching\n"
        time.sleep(0.3)  # inside the statement
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 130
    assert stderr == "kbtui: interrupted\n"


def test_an_ignored_ctrl_c_stays_ignored() -> None:
    """A command run in the background (or under nohup) keeps running on ctrl+c."""
    conn = sqlite3.connect(":memory:")
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with interruptible(conn):
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        signal.signal(signal.SIGINT, previous)
        conn.close()
