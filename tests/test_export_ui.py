"""The export preview driven with keys: it lists the diffs, ctrl+s writes them."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import OptionList

from kbtui.ui.screens.desk import DeskScreen
from kbtui.ui.screens.export import ExportPreview

from app_helpers import make_app

SOURCE = "inbox/archive/2026-03-08-maintainer-survey-open-source-funding.md"


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")
    monkeypatch.setenv("KBTUI_CONFIG", str(tmp_path / "no-config.toml"))


async def test_preview_then_write(seeds_copy: Path) -> None:
    before = (seeds_copy / SOURCE).read_text(encoding="utf-8")
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s", "e")
        preview = app.screen
        assert isinstance(preview, ExportPreview)
        assert [c.path for c in preview.plan.changes] == [SOURCE]
        assert "+status: processing" in preview.plan.changes[0].diff()
        assert (seeds_copy / SOURCE).read_text(encoding="utf-8") == before
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert preview.plan.changes == []
        assert preview.query_one(OptionList).option_count == 0
        await pilot.press("escape")
        assert isinstance(app.screen, DeskScreen)
    after = (seeds_copy / SOURCE).read_text(encoding="utf-8")
    assert after == before.replace("status: unprocessed", "status: processing", 1)
