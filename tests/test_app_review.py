"""Crashes and wrong targets a review found in the app, each driven by keys as a curator would."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from textual.content import Content
from textual.widgets import Label, Select

from kbtui.ops import curation, desk, divergence, drafting
from kbtui.ui.app import KbApp
from kbtui.ui.screens.claims import ClaimsScreen
from kbtui.ui.screens.desk import PRIORITY_MARK, DeskScreen
from kbtui.ui.screens.dialogs import FilterDialog, NullResultDialog
from kbtui.ui.screens.document import DocumentScreen
from kbtui.ui.screens.drafts import ConfirmDialog
from kbtui.ui.widgets.handoff import HandoffPanel
from kbtui.ui.widgets.reader import Reader
from kbtui.ui.widgets.virtual_table import VirtualTable

from app_helpers import make_app, static_text

BATTERY = "inbox/archive/2026-01-03-battery-trial.md"
TARIFF = "inbox/archive/2025-11-20-tariff-study.md"


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")
    monkeypatch.setenv("KBTUI_CONFIG", str(tmp_path / "config.toml"))


def statuses(kb: Path) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(kb / "kb.sqlite") as conn:
        return conn.execute(
            "SELECT path, to_status, note FROM actions WHERE undone_at IS NULL ORDER BY id"
        ).fetchall()


def select(app: KbApp, path: str) -> None:
    queue = app.screen.query_one("#queue", VirtualTable)
    doc_id = desk.doc_id_for_path(app.db, path)
    assert doc_id is not None
    queue.cursor = queue.keys.index(doc_id)


async def test_names_that_look_like_markup_show_in_notifications(small_kb: Path) -> None:
    # Notifications carry paths and titles: `[/b]` in a file name used to end the app with a
    # MarkupError (tests run with notifications off unless asked, so they never saw it).
    odd = "inbox/archive/batch[/b] notes [draft].md"  # a folder `batch[` holds the file
    (small_kb / odd).parent.mkdir()
    (small_kb / odd).write_text((small_kb / BATTERY).read_text().replace("Battery", "[/b]Odd"))
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        select(app, odd)
        await pilot.press("s", "u")
        await pilot.pause()
        assert app.is_running
        shown = [n.message for n in app._notifications]
        assert f"Undid unprocessed → processing on {odd} (it is unprocessed again)" in shown
    assert statuses(small_kb) == []


async def test_the_filter_dialog_opens_on_a_value_no_source_has_any_more(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, DeskScreen)
        screen.filter = desk.QueueFilter(format="article")
        for path in small_kb.glob("inbox/archive/*.md"):
            path.write_text(path.read_text().replace("format: article", "format: essay"))
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("slash")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, FilterDialog)
        assert dialog.query_one("#filter-format", Select).value == "article"


async def test_a_null_result_goes_to_the_source_its_dialog_named(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        select(app, BATTERY)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NullResultDialog)
        # The cursor moves under the dialog (a re-index finishing, say).
        desk_screen = app.screen_stack[-2]
        queue = desk_screen.query_one("#queue", VirtualTable)
        tariff = desk.doc_id_for_path(app.db, TARIFF)
        assert tariff is not None
        queue.cursor = queue.keys.index(tariff)
        await pilot.press(*"nothing here", "ctrl+s")
        await pilot.pause()
    assert statuses(small_kb) == [(BATTERY, "null-result", "nothing here")]


async def test_enter_in_a_delete_confirmation_keeps_the_draft(small_kb: Path) -> None:
    app = make_app(small_kb)
    draft = drafting.new_claim_draft(app.db, BATTERY, hint=1)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        await pilot.pause()
    assert drafting.get_draft(app.db, draft.id).id == draft.id


async def test_x_on_a_draft_deleted_elsewhere_says_so_and_the_list_follows(
    small_kb: Path,
) -> None:
    app = make_app(small_kb)
    draft = drafting.new_claim_draft(app.db, BATTERY, hint=1)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.press("d")
        await pilot.pause()
        drafting.delete_draft(app.db, draft.id)  # `kbtui drafts rm` in another shell
        await pilot.press("x", "y")
        await pilot.pause()
        assert app.is_running
        shown = [str(n.message) for n in app._notifications]
        assert f"Draft {draft.id} was already deleted elsewhere." in shown
        assert "No drafts yet" in str(app.screen.query_one("#drafts-info").render())


async def test_a_divergence_draft_deleted_elsewhere_is_a_warning(seeds_copy: Path) -> None:
    app = make_app(seeds_copy)
    claims = [
        row[0]
        for row in app.db.conn.execute(
            "SELECT path FROM documents WHERE kind = 'claim' ORDER BY path LIMIT 2"
        )
    ]
    draft = divergence.new_divergence_draft(app.db, claims)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        drafting.delete_draft(app.db, draft.id)
        app.open_divergence_draft(draft.id)
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, DeskScreen)
        assert any(f"no draft {draft.id}" in n.message for n in app._notifications)
    assert curation.undo_last(app.db) is None


async def test_a_marked_claim_deleted_then_reindexed_is_unmarked(seeds_copy: Path) -> None:
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("v")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ClaimsScreen)
        await pilot.press("space", "j", "space")
        assert len(screen.marked) == 2
        first = min(screen.marked)
        [row] = desk.claim_rows(app.db, [first]).values()
        (seeds_copy / row.path).unlink()
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(screen.marked) == 1
        assert "1 marked" in static_text(app, "#claims-info")
        await pilot.press("D")  # one claim: no divergence, and the mark stays
        await pilot.pause()
        assert len(screen.marked) == 1


async def test_edit_on_an_empty_queue_says_why_nothing_opens(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.press("4")  # the null-result queue: empty in this KB
        await pilot.press("o")
        await pilot.pause()
        assert "Select a source first." in [str(n.message) for n in app._notifications]


async def test_a_claim_deleted_while_open_says_it_is_no_longer_indexed(seeds_copy: Path) -> None:
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DocumentScreen)
        (seeds_copy / screen.view.path).unlink()
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert static_text(app, "#reader-title") == "This file is no longer indexed."
        assert static_text(app, "#backlinks-heading") == "Backlinks: none"


async def test_a_tiny_terminal_keeps_queue_and_reader_readable(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        reader = app.screen.query_one("#reader")
        queue = app.screen.query_one("#queue-pane")
        assert reader.region.width >= 15 and queue.region.width >= 15
        assert reader.region.right <= 40
        assert not app.screen.query_one("#handoff").display
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert app.screen.query_one("#handoff").display


async def test_the_desk_comes_back_laid_out_for_a_size_changed_under_another_screen(
    small_kb: Path,
) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        desk_screen = app.screen
        await pilot.press("v")  # the claims view over the desk
        await pilot.pause()
        await pilot.resize_terminal(50, 16)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is desk_screen
        assert not desk_screen.query_one("#handoff").display
        assert desk_screen.query_one("#reader").region.width >= 15
        await pilot.press("v")
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not desk_screen.has_class("-narrow")
        assert desk_screen.query_one("#handoff").display


async def test_null_result_on_a_source_with_extracted_claims_is_refused_before_the_note(
    seeds_copy: Path,
) -> None:
    processed = "inbox/archive/2025-09-30-grid-operator-peaker-dispatch-data.md"
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.press("3")  # the processed queue
        await pilot.pause()
        select(app, processed)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, DeskScreen)  # no dialog asking for a note in vain
        shown = [n.message for n in app._notifications]
        assert any(m.startswith(f"cannot set null-result: {processed} lists") for m in shown)
        await pilot.press("U")
        await pilot.pause()
    assert statuses(seeds_copy) == []


async def test_help_over_a_claim_with_markup_in_its_title_shows_it_as_written(
    small_kb: Path,
) -> None:
    name = "costs fall [bold] when [draft] grids share reserves"
    claim = small_kb / "domains" / "energy" / f"{name}.md"
    claim.write_text(
        "---\ntype: claim\ndomain: energy\ndescription: d\nconfidence: likely\n---\n\n# x\n",
        encoding="utf-8",
    )
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("v")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ClaimsScreen)
        table = screen.query_one(VirtualTable)
        doc_id = desk.doc_id_for_path(app.db, f"domains/energy/{name}.md")
        assert doc_id is not None
        table.cursor = table.keys.index(doc_id)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DocumentScreen)
        await pilot.press("question_mark")
        await pilot.pause()
        # Read as markup, the title lost its brackets (and `[/]` in a title ended the app).
        title = app.screen.query_one(".dialog-title", Label).render()
        assert isinstance(title, Content) and title.plain == f"Keys: {name}"


async def test_a_row_deleted_under_the_queue_shows_as_gone(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        queue = app.screen.query_one("#queue", VirtualTable)
        # The queue still holds the id of a source another terminal's run deleted.
        queue.set_keys([*queue.keys, 999_999])
        queue.cursor = len(queue.keys) - 1
        await pilot.pause()
        assert app.is_running
        assert queue.cells(len(queue.keys) - 1) == ("(gone)", "", "", "")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_queue_and_claims_columns_line_up_under_their_headers(
    seeds_copy: Path, size: tuple[int, int]
) -> None:
    app = make_app(seeds_copy)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        queue = app.screen.query_one("#queue", VirtualTable)
        lines = [queue.render_line(y).text for y in range(1 + len(queue.keys))]
        header = lines[0]
        assert "  " in header  # padded cells (runs of spaces used to be squeezed to one)
        priority = header.index(" P ") + 1
        assert {line[priority] for line in lines[1:]} <= {*PRIORITY_MARK.values(), " "}, lines
        assert any(line[priority] != " " for line in lines[1:])
        if "Date" in header:
            at = header.index("Date")
            assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", line[at : at + 10]) for line in lines[1:])
        await pilot.press("v")
        await pilot.pause()
        claims = app.screen.query_one("#claims", VirtualTable)
        rows = [claims.render_line(y).text for y in range(1, 1 + len(claims.keys))]
        # The title column keeps room to tell claims apart (it had 8 cells at 80x24).
        assert all(len(row.split("…")[0].strip()) >= 18 for row in rows), rows
        await pilot.press("slash", *"zzzqqq", "enter")
        await pilot.pause()
        assert claims.render_line(1).text.strip() == "No claims match."


async def test_handoff_panel_starts_each_source_at_its_top_and_ticks_drafted_candidates(
    seeds_copy: Path,
) -> None:
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        panel = app.screen.query_one(HandoffPanel)
        panel.scroll_end(animate=False)
        await pilot.pause()
        assert panel.scroll_y > 0
        await pilot.press("j")
        await pilot.pause()
        assert panel.scroll_y == 0
        await pilot.press("c", "1", "escape")  # a draft from candidate 1, kept
        await pilot.pause()
        text = static_text(app, "#handoff-candidates")
        assert text.startswith("1. ☑ ") and "(drafted)" in text.split("\n")[0]
        assert "☐" in text.split("\n")[1]
        await pilot.press("slash", *"zzzqqq", "enter")  # a filter nothing matches
        await pilot.pause()
        assert static_text(app, "#curator-fields") == "No source selected."
        assert not app.screen.query_one("#candidates-heading").display
        assert not app.screen.query_one("#connections-heading").display


async def test_the_reader_keeps_its_place_over_dialogs(
    seeds_copy: Path,
) -> None:
    app = make_app(seeds_copy)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        reader = app.screen.query_one(Reader)
        await reader.body_rendered.wait()
        await pilot.pause()
        reader.scroll_to(y=8, animate=False)
        await pilot.pause()
        assert reader.scroll_y == 8
        await pilot.press("question_mark")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert reader.scroll_y == 8  # it used to render again, from the top
        await pilot.press("j")  # another source starts at its top
        await pilot.pause()
        assert reader.scroll_y == 0


async def test_drafting_a_candidate_again_reopens_its_draft(seeds_copy: Path) -> None:
    from kbtui.ui.screens.editor import ClaimEditor

    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.press("c", "1")
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, ClaimEditor)
        first = editor.draft.id
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("c", "1")
        await pilot.pause()
        again = app.screen
        assert isinstance(again, ClaimEditor) and again.draft.id == first
        assert f"Reopened draft {first}, started from candidate 1." in [
            n.message for n in app._notifications
        ]
    count = sqlite3.connect(seeds_copy / "kb.sqlite").execute("SELECT count(*) FROM drafts")
    assert count.fetchone()[0] == 1


async def test_j_and_k_scroll_the_reader_and_x_on_no_draft_says_so(seeds_copy: Path) -> None:
    app = make_app(seeds_copy)
    async with app.run_test(size=(100, 24), notifications=True) as pilot:
        await pilot.pause()
        reader = app.screen.query_one(Reader)
        await reader.body_rendered.wait()
        await pilot.pause()
        reader.focus()
        await pilot.press("j", "j", "j")
        await pilot.pause()
        assert reader.scroll_y == 3
        await pilot.press("k")
        await pilot.pause()
        assert reader.scroll_y == 2
        await pilot.press("d", "x")
        await pilot.pause()
        assert "No draft to delete." in [n.message for n in app._notifications]


async def test_a_pending_null_result_shows_its_note_in_the_reader(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        select(app, BATTERY)
        await pilot.press("n", *"nothing new in it", "ctrl+s", "4")
        await pilot.pause()
        meta = static_text(app, "#reader-meta")
        assert "null-result  pending" in meta and "note: nothing new in it" in meta


async def test_the_drafts_list_says_when_a_saved_draft_no_longer_passes(seeds_copy: Path) -> None:
    from textual.widgets import OptionList

    app = make_app(seeds_copy)
    source = "inbox/archive/2026-03-01-grid-operator-quarterly-evening-peak.md"
    draft = drafting.new_claim_draft(app.db, source, hint=1)
    drafting.update_draft(
        app.db, draft.id, description="Operators report the shift.", confidence="likely"
    )
    drafting.save_draft(app.db, draft.id)
    drafting.update_draft(app.db, draft.id, confidence="")  # edited after saving
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("d")
        await pilot.pause()
        prompt = app.screen.query_one(OptionList).get_option_at_index(0).prompt
        text = getattr(prompt, "plain", str(prompt))
        assert "edited since saved: Choose a confidence" in text
        assert "Export skips it until it passes." in text
