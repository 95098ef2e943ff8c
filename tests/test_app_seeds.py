"""The curator's day on the demo KB, driven with keys; asserts widgets and SQLite rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from textual.widgets import OptionList

from kbtui.ops import desk
from kbtui.ui.screens.desk import DeskScreen
from kbtui.ui.screens.document import DocumentScreen
from kbtui.ui.widgets.reader import Reader
from kbtui.ui.widgets.virtual_table import VirtualTable

from app_helpers import make_app, static_text

GRID_REPORT = "inbox/archive/2026-03-01-grid-operator-quarterly-evening-peak.md"
PEAKER_CLAIM = (
    "domains/energy-storage/four-hour lithium storage displaces gas peakers first because "
    "peaker run-hours cluster in short evening windows.md"
)


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")
    monkeypatch.setenv("KBTUI_CONFIG", str(tmp_path / "no-config.toml"))


def rows(db: Path) -> list[tuple[str, str | None, str | None, str | None, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT path, from_status, to_status, note, undone_at FROM actions ORDER BY id"
        ).fetchall()


async def test_curator_day_on_the_demo_kb(seeds_copy: Path) -> None:
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, DeskScreen)
        queue = screen.query_one("#queue", VirtualTable)
        reader = screen.query_one(Reader)
        await pilot.press("1")
        assert queue.row_count == 7
        await pilot.press("j")
        assert reader.view is not None and reader.view.path == GRID_REPORT
        assert "PRIMARY CONNECTION" in static_text(app, "#curator-fields")
        assert "Divergence signal" in static_text(app, "#handoff-signals")
        assert "1. ☐ Grid-scale batteries deliver" in static_text(app, "#handoff-candidates")

        screen.query_one("#connections", OptionList).focus()
        await pilot.press("enter")
        assert isinstance(app.screen, DocumentScreen)
        assert app.screen.view.path == PEAKER_CLAIM
        kinds = {b.kind for b in app.screen.view.backlinks}
        assert {"source", "claim", "divergence", "map"} <= kinds
        await pilot.press("escape")
        assert isinstance(app.screen, DeskScreen)

        # Filter by domain with keys: the energy-storage sources only.
        domains = desk.filter_options(app.db)["domain"]
        await pilot.press("slash", "tab", "enter")
        await pilot.press(*["down"] * (domains.index("energy-storage") + 1), "enter", "ctrl+s")
        assert screen.filter.domain == "energy-storage"
        assert queue.row_count == 3

        queue.focus()
        await pilot.press("g", "s")
        db = seeds_copy / "kb.sqlite"
        assert rows(db)[-1][:3] == (GRID_REPORT, "unprocessed", "processing")
        assert queue.row_count == 2
        await pilot.press("2")
        assert reader.view is not None and reader.view.pending
        await pilot.press("n", *"covered by the dispatch data", "ctrl+s")
        assert rows(db)[-1][1:4] == ("processing", "null-result", "covered by the dispatch data")
        await pilot.press("u")
        assert rows(db)[-1][4] is not None
        assert desk.queue_counts(app.db, screen.filter)["processing"] == 2
