"""The desk driven as a curator would, with key presses, on a copy of the real corpus."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from textual.widgets import Markdown, OptionList

from kbtui.ops import desk
from kbtui.ui.screens.claims import ClaimsScreen
from kbtui.ui.screens.desk import DeskScreen
from kbtui.ui.screens.dialogs import FilterDialog, NullResultDialog
from kbtui.ui.screens.document import DocumentScreen
from kbtui.ui.screens.help import HelpScreen, binding_rows
from kbtui.ui.widgets.reader import Reader
from kbtui.ui.widgets.virtual_table import VirtualTable

from app_helpers import make_app, static_text
from corpus_cases import GLP1, RAMSTEAD

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")
    monkeypatch.setenv("KBTUI_CONFIG", str(tmp_path / "no-config.toml"))


def actions(db: Path) -> list[tuple[str, str, str | None, str | None, str | None, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT path, who, from_status, to_status, note, undone_at FROM actions ORDER BY id"
        ).fetchall()


async def test_curator_day_on_the_corpus(corpus_copy: Path) -> None:
    app = make_app(corpus_copy)
    db_path = corpus_copy / "kb.sqlite"
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, DeskScreen)
        queue = screen.query_one("#queue", VirtualTable)
        await pilot.press("1")
        assert screen.bucket == "unprocessed"
        unprocessed = desk.queue_counts(app.db)["unprocessed"]
        assert queue.row_count == unprocessed
        await pilot.press("j")
        assert queue.cursor == 1

        # Find a source by its text and read its handoff.
        await pilot.press("slash")
        assert isinstance(app.screen, FilterDialog)
        await pilot.press(*"schrodinger", "enter")
        assert queue.row_count == 1
        reader = screen.query_one(Reader)
        assert reader.view is not None and reader.view.path == RAMSTEAD
        assert "PRIMARY CONNECTION" in static_text(app, "#curator-fields")
        assert "Operationalization angle" in static_text(app, "#agent-fields")
        candidates = static_text(app, "#handoff-candidates")
        assert "1. ☐ Active inference operates at every scale" in candidates

        # Follow the PRIMARY CONNECTION to its claim, and come back.
        connections = screen.query_one("#connections", OptionList)
        connections.focus()
        await pilot.press("enter")
        assert isinstance(app.screen, DocumentScreen)
        claim = app.screen.view
        assert claim.kind == "claim" and claim.title.startswith("Markov blankets enable")
        assert any(b.path == RAMSTEAD for b in claim.backlinks)
        await pilot.press("escape")
        assert isinstance(app.screen, DeskScreen)
        assert reader.view is not None and reader.view.path == RAMSTEAD

        # Start it, then set null-result with a note, then undo.
        queue.focus()
        await pilot.press("s")
        assert actions(db_path)[-1][:4] == (RAMSTEAD, "tester", "unprocessed", "processing")
        assert desk.queue_counts(app.db, screen.filter)["processing"] == 1
        await pilot.press("2")
        assert queue.row_count == 1 and queue.current_key is not None
        await pilot.press("n")
        assert isinstance(app.screen, NullResultDialog)
        await pilot.press(*"only restates known results", "ctrl+s")
        assert actions(db_path)[-1][2:5] == (
            "processing",
            "null-result",
            "only restates known results",
        )
        await pilot.press("4")
        assert queue.row_count == 1
        await pilot.press("u")
        assert actions(db_path)[-1][5] is not None
        await pilot.press("2")
        assert queue.row_count == 1


async def test_filter_by_domain_with_keys(corpus_copy: Path) -> None:
    app = make_app(corpus_copy)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, DeskScreen)
        domains = desk.filter_options(app.db)["domain"]
        wanted = domains.index("health")
        await pilot.press("slash", "tab", "enter")
        await pilot.press(*["down"] * (wanted + 1), "enter")
        await pilot.press("ctrl+s")
        assert screen.filter.domain == "health"
        queue = screen.query_one("#queue", VirtualTable)
        expected = desk.queue_ids(
            app.db, "unprocessed", desk.QueueFilter(domain="health"), descending=True
        )
        assert queue.keys == expected and GLP1 in {
            r.path for r in desk.queue_rows(app.db, expected).values()
        }


async def test_help_and_claims_view(corpus_copy: Path) -> None:
    app = make_app(corpus_copy)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        rows = {row[2] for row in binding_rows(app.screen.under)}
        assert {"desk.start", "desk.null_result", "desk.undo", "app.quit"} <= rows
        await pilot.press("escape")
        await pilot.press("v")
        assert isinstance(app.screen, ClaimsScreen)
        table = app.screen.query_one("#claims", VirtualTable)
        assert table.row_count == len(desk.claim_ids(app.db))
        await pilot.press("enter")
        assert isinstance(app.screen, DocumentScreen) and app.screen.view.kind == "claim"
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, DeskScreen)


async def test_every_corpus_source_opens_in_the_reader(corpus_copy: Path) -> None:
    app = make_app(corpus_copy)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, DeskScreen)
        opened = 0
        for bucket in desk.BUCKETS:
            screen.action_bucket(bucket)
            await pilot.pause()
            for key in desk.queue_ids(app.db, bucket):
                screen.show_document(key)
                await pilot.pause()
                view = screen.query_one(Reader).view
                assert view is not None and view.id == key
                opened += 1
        total = app.db.conn.execute("SELECT count(*) FROM documents WHERE kind = 'source'")
        assert opened == total.fetchone()[0]


async def test_a_large_source_shows_its_beginning_and_how_to_read_the_rest(
    small_kb: Path,
) -> None:
    paragraph = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 8
    body = "".join(f"Paragraph {i}. {paragraph}\n\n" for i in range(12_000))  # 5.7 MB
    source = (small_kb / "inbox/archive/2026-01-03-battery-trial.md").read_text()
    (small_kb / "inbox/archive/2026-02-01-field-archive.md").write_text(
        source.replace("Battery trial results", "Field archive").replace("2026-01-03", "2026-02-01")
        + body,
        encoding="utf-8",
    )
    app = make_app(small_kb)
    async with app.run_test(size=SIZE) as pilot:
        reader = app.screen.query_one(Reader)
        await pilot.pause()
        assert reader.view is not None and reader.view.title == "Field archive"
        assert static_text(app, "#reader-note") == (
            "Showing the first 65 KB of 5.7 MB: o opens the whole file in $EDITOR."
        )
        await asyncio.wait_for(reader.body_rendered.wait(), timeout=30)
        shown = reader.query_one(Markdown).source
        assert "Paragraph 0. Lorem ipsum" in shown and "Paragraph 11999." not in shown
        # The next source is read whole, without the note.
        await pilot.press("j")
        await pilot.pause()
        assert reader.view is not None and reader.view.title == "Battery trial results"
        assert not app.screen.query_one("#reader-note").display
