"""Divergences driven with keys: mark two claims, D, fill in, save, export into a copy."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static, TextArea

from kbtui.formats.document import parse_document
from kbtui.ops import desk, export
from kbtui.ui.screens.claims import ClaimsScreen
from kbtui.ui.screens.desk import DeskScreen
from kbtui.ui.screens.divergences import DivergenceEditor, DivergencesScreen, PickClaims
from kbtui.ui.widgets.virtual_table import VirtualTable
from test_divergence import PEAKERS, PRICING

from app_helpers import make_app


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")
    monkeypatch.setenv("KBTUI_CONFIG", str(tmp_path / "no-config.toml"))


def index_of(table: VirtualTable, app_db: object, stem: str) -> int:
    rows = desk.claim_rows(app_db, table.keys)  # type: ignore[arg-type]
    return next(i for i, key in enumerate(table.keys) if rows[key].title == stem)


async def test_mark_two_claims_and_draft_a_divergence(seeds_copy: Path) -> None:
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("v")
        claims = app.screen
        assert isinstance(claims, ClaimsScreen)
        table = claims.query_one("#claims", VirtualTable)
        for stem in (PEAKERS, PRICING):
            table.cursor = index_of(table, app.db, stem)
            await pilot.press("space")
        assert len(claims.marked) == 2
        await pilot.press("D")
        editor = app.screen
        assert isinstance(editor, DivergenceEditor)
        await pilot.press(
            *"Should evening peak money go to batteries or to road pricing?",
            "tab",
            *"Both claim the cheapest peak relief from one budget.",
            "ctrl+s",
        )
        assert isinstance(app.screen, ClaimsScreen)
    plan = export.apply_export(app.db, seeds_copy, export.plan_export(app.db, seeds_copy, "tester"))
    [change] = [c for c in plan.changes if c.written]
    doc = parse_document(change.path, (seeds_copy / change.path).read_bytes())
    assert doc.fields["type"] == "divergence" and doc.fields["claims"] == [PEAKERS, PRICING]
    for key in ("title", "domain", "description", "status", "claims", "surfaced_by", "created"):
        assert doc.fields.get(key), key
    impact = doc.raw_body.split("## Cascade Impact", 1)[1]
    assert "reform-tariffs-before-subsidising-home-batteries]] (position)" in impact


async def test_divergence_from_a_source_signal_and_the_list(seeds_copy: Path) -> None:
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("1", "j")
        assert isinstance(app.screen, DeskScreen)
        await pilot.press("D")
        assert isinstance(app.screen, PickClaims), [n.message for n in app._notifications]
        await pilot.press("escape", "V")
        listing = app.screen
        assert isinstance(listing, DivergencesScreen)
        assert [r["status"] for r in listing.rows] == ["open"]
        await pilot.press("r", *"A year of metered data.", "ctrl+s")
        assert listing.rows[0]["resolution_pending"]


async def test_existing_divergence_is_opened_instead(seeds_copy: Path) -> None:
    from kbtui.ops import divergence as divergence_ops
    from kbtui.ui.screens.document import DocumentScreen

    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        [row] = divergence_ops.divergences(app.db)
        paths = divergence_ops.resolve_claims(app.db, row["claims"])
        app.draft_divergence(paths)
        await pilot.pause()
        assert isinstance(app.screen, DocumentScreen)
        assert app.screen.view.path == row["path"]


async def test_marks_are_gone_once_their_divergence_is_drafted(seeds_copy: Path) -> None:
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("v", "space", "j", "space")
        claims = app.screen
        assert isinstance(claims, ClaimsScreen)
        assert "2 marked" in str(claims.query_one("#claims-info", Static).content)
        await pilot.press("D")
        editor = app.screen
        assert isinstance(editor, DivergenceEditor)
        await pilot.press("escape")
        assert claims.marked == set()
        assert "marked" not in str(claims.query_one("#claims-info", Static).content)
        table = claims.query_one("#claims", VirtualTable)
        assert all("●" not in str(table.cells(i)) for i in range(table.row_count))
        await pilot.press("space")
        assert len(claims.marked) == 1
        assert app.screen is claims


async def test_a_divergence_takes_one_resolution_whose_note_reopens(seeds_copy: Path) -> None:
    from kbtui.ops import drafting
    from kbtui.ui.screens.dialogs import NoteDialog
    from kbtui.ui.screens.drafts import DraftsScreen

    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("V", "r", *"A year of metered data.", "ctrl+s")
        listing = app.screen
        assert isinstance(listing, DivergencesScreen) and listing.rows[0]["resolution_pending"]
        await pilot.press("r")
        assert app.screen is listing
        assert "pending export" in list(app._notifications)[-1].message
        await pilot.press("escape", "d")
        assert isinstance(app.screen, DraftsScreen)
        await pilot.press("enter")
        dialog = app.screen
        assert isinstance(dialog, NoteDialog)
        assert dialog.query_one(TextArea).text == "A year of metered data."
        await pilot.press("end", *" And a second winter.", "ctrl+s")
        assert isinstance(app.screen, DraftsScreen)
    [draft] = [d for d in drafting.list_drafts(app.db) if d.kind == "resolution"]
    assert draft.body == "A year of metered data. And a second winter."


async def test_the_divergences_list_keeps_its_place_when_it_refreshes(seeds_copy: Path) -> None:
    from textual.widgets import OptionList

    from kbtui.ops import divergence

    app = make_app(seeds_copy)
    divergence.new_divergence_draft(app.db, [PEAKERS, PRICING])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("V")
        await pilot.pause()
        listing = app.screen
        assert isinstance(listing, DivergencesScreen)
        options = listing.query_one(OptionList)
        assert options.option_count == 2
        await pilot.press("down")
        await pilot.press("question_mark", "escape")  # leave and come back: a refresh
        await pilot.pause()
        assert options.highlighted == 1


async def test_escape_from_the_filter_goes_back_to_the_list_with_the_marks(
    seeds_copy: Path,
) -> None:
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("v")
        claims = app.screen
        assert isinstance(claims, ClaimsScreen)
        table = claims.query_one("#claims", VirtualTable)
        table.cursor = index_of(table, app.db, PEAKERS)
        await pilot.press("space", "slash", *"grid", "escape")
        assert len(claims.marked) == 1
        assert app.screen is claims and app.focused is table
        await pilot.press("escape")  # from the list: back to the desk
        assert app.screen is not claims


async def test_a_divergence_draft_deleted_elsewhere_keeps_what_is_typed(
    seeds_copy: Path,
) -> None:
    from kbtui.ops import drafting

    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.press("v")
        claims = app.screen
        assert isinstance(claims, ClaimsScreen)
        table = claims.query_one("#claims", VirtualTable)
        for stem in (PEAKERS, PRICING):
            table.cursor = index_of(table, app.db, stem)
            await pilot.press("space")
        await pilot.press("D", *"Batteries or road pricing")
        editor = app.screen
        assert isinstance(editor, DivergenceEditor)
        first = editor.draft.id
        drafting.delete_draft(app.db, first)  # `kbtui drafts rm` in a shell
        await pilot.press(*" for the evening peak?")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, DivergenceEditor)
        assert editor.draft.id != first
        assert f"Draft {first} was deleted outside this editor." in [
            n.message.split(" What")[0] for n in app._notifications
        ]
    [kept] = [d for d in drafting.list_drafts(app.db) if d.kind == "divergence"]
    assert kept.id == editor.draft.id
    assert kept.title == "Batteries or road pricing for the evening peak?"
    assert kept.claims == [PEAKERS, PRICING]
