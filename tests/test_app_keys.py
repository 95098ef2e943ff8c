"""Keys, the command palette, the keymap file, $EDITOR and re-indexing, on a small KB."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.containers import VerticalScroll
from textual.events import Key
from textual.widgets import OptionList

from kbtui.ops import desk
from kbtui.ops.desk import DocumentView
from kbtui.ui.app import KbApp
from kbtui.ui.screens.desk import DeskScreen
from kbtui.ui.widgets.reader import Reader
from kbtui.ui.widgets.virtual_table import VirtualTable

from app_helpers import make_app

BATTERY = "inbox/archive/2026-01-03-battery-trial.md"


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")
    config = tmp_path / "config.toml"
    monkeypatch.setenv("KBTUI_CONFIG", str(config))
    return config


def reader_view(app: KbApp) -> DocumentView:
    view = app.screen.query_one(Reader).view
    assert view is not None
    return view


def last_status(kb: Path) -> tuple[str, str] | None:
    with sqlite3.connect(kb / "kb.sqlite") as conn:
        row = conn.execute(
            "SELECT path, to_status FROM actions WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()
    return None if row is None else (row[0], row[1])


async def test_queue_sorts_and_moves(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, DeskScreen)
        queue = screen.query_one("#queue", VirtualTable)
        assert queue.row_count == 2
        assert reader_view(app).path == BATTERY  # newest first
        await pilot.press("S")
        assert screen.sort == "priority"
        await pilot.press("S")
        assert screen.sort == "title"
        assert reader_view(app).title == "Battery trial results"
        await pilot.press("j")
        assert reader_view(app).title == "Tariff study"
        await pilot.press("k", "3")
        assert queue.row_count == 0 and screen.query_one(Reader).view is None


async def test_command_palette_offers_screen_actions(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Start")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert last_status(small_kb) == (BATTERY, "processing")


async def test_keymap_file_rebinds_keys(small_kb: Path, curator: Path) -> None:
    curator.write_text('[keymap]\n"desk.start" = "b"\n', encoding="utf-8")
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        assert last_status(small_kb) is None
        await pilot.press("b")
        assert last_status(small_kb) == (BATTERY, "processing")


async def test_keymap_entries_that_cannot_work_are_named_and_not_used(
    small_kb: Path, curator: Path
) -> None:
    curator.write_text(
        "[keymap]\n"
        '"desk.start" = "q"\n'  # the app's quit key: q must still quit
        '"desk.claims" = "j"\n'  # the queue's own key: the claims view could not be reached
        '"desk.strat" = "b"\n'  # no such binding id
        '"desk.sort" = "%% not a key !!"\n'
        '"desk.filter" = 5\n'  # not a quoted key
        '"desk.undo" = "ctrl+z"\n',  # fine
        encoding="utf-8",
    )
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        shown = "\n".join(str(n.message) for n in app._notifications)
        for name in ("desk.start", "desk.strat", "desk.sort", "desk.filter", "desk.claims"):
            assert name in shown
        assert "desk.claims = 'j': j is already table.down" in shown
        assert "desk.undo" not in shown
        await pilot.press("s")  # still what starts a source
        assert last_status(small_kb) == (BATTERY, "processing")
        await pilot.press("ctrl+z")  # the one rebinding used: undo
        assert last_status(small_kb) is None
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 and not app.is_running


def test_every_default_key_is_one_the_keymap_check_accepts() -> None:
    from kbtui.ui.config import _app_classes, _bindings, valid_key

    app, screens, widgets = _app_classes()
    classes = screens + widgets
    assert len(classes) > 10
    keys = [key for cls in (app, *classes) for b in _bindings(cls) for key in b.key.split(",")]
    assert [key for key in keys if not valid_key(key.strip())] == []


def test_the_default_keys_pass_the_keymap_check_and_unreachable_ones_do_not() -> None:
    from kbtui.ui.config import _app_classes, _bindings, check_keymap

    app, screens, widgets = _app_classes()
    defaults = {b.id: b.key for cls in (app, *screens, *widgets) for b in _bindings(cls) if b.id}
    usable, problems = check_keymap(defaults)
    assert problems == [] and usable == defaults
    _, problems = check_keymap(
        {
            "desk.export": "ctrl+p",  # the palette's
            "app.help": "x",  # deletes a draft on the drafts screen
            "editor.close": "ctrl+a",  # moves a field's cursor to the line start
            "divergence.close": "z",  # typed into the field
            "dialog.confirm": "enter",  # a new line in the note
            "dialog.apply": "enter",  # fine: the filter field's enter applies too
            "dialog.help": "escape",  # every dialog's cancel
            "drafts.open": "o",  # fine: enter on the drafts list, rebound
            "desk.show_queue": "s",  # the desk's start
        }
    )
    assert problems == [
        "desk.export = 'ctrl+p': ctrl+p is the command palette",
        "app.help = 'x': x is already drafts.delete",
        "editor.close = 'ctrl+a': ctrl+a is the text field's (typed, or moving its cursor) "
        "on that screen",
        "divergence.close = 'z': z is the text field's (typed, or moving its cursor) on that "
        "screen",
        "dialog.confirm = 'enter': enter is the text field's (typed, or moving its cursor) on "
        "that screen",
        "dialog.help = 'escape': escape is already dialog.cancel",
        "desk.show_queue = 's': s is already desk.start",
    ]


async def test_bad_config_is_a_notice_not_a_crash(small_kb: Path, curator: Path) -> None:
    curator.write_text("[keymap\n", encoding="utf-8")
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert any("Config not read" in (n.title or "") for n in app._notifications)


@pytest.fixture
def appending_editor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """$EDITOR appends a line to the file it is given, then exits."""
    editor = tmp_path / "editor.py"
    editor.write_text("import sys\nopen(sys.argv[1], 'a').write('\\nEdited by hand.\\n')\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    monkeypatch.delenv("VISUAL", raising=False)


@pytest.mark.usefixtures("appending_editor")
async def test_editor_then_reindex(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.last_report is not None and app.last_report.updated == [BATTERY]
        assert "Edited by hand." in reader_view(app).body


async def test_an_editor_setting_with_an_unbalanced_quote_is_a_warning(
    small_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", '"unterminated')
    monkeypatch.delenv("VISUAL", raising=False)
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        assert app.is_running
        assert any("cannot run" in str(n.message) for n in app._notifications)


async def test_ctrl_r_picks_up_new_files(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, DeskScreen)
        new = small_kb / "inbox/archive/2026-02-01-new-arrival.md"
        new.write_text(
            (small_kb / BATTERY).read_text().replace("Battery trial results", "New arrival")
        )
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.query_one("#queue", VirtualTable).row_count == 3


async def test_quitting_while_a_body_mounts_is_quiet(small_kb: Path) -> None:
    """A body still rendering when the reader goes away (the app quitting) is dropped, never
    a traceback."""
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        reader = app.screen.query_one(Reader)
        await pilot.pause()
        reader.show(reader_view(app))
        await reader.remove()
        await reader._render_body()  # what the pending timer would run
        assert not reader.is_attached


async def test_keys_typed_after_quit_are_dropped(small_kb: Path) -> None:
    """Keys arriving while the app quits (`q` then `e` typed fast) open nothing: the export
    screen used to mount on a closing app and fail with a traceback."""
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.post_message(Key("q", "q"))
        app.post_message(Key("e", "e"))
        app.post_message(Key("question_mark", "?"))
        await pilot.pause()
    assert app.return_code == 0


async def test_palette_tells_unprocess_from_the_unprocessed_queue(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s", "2")
        assert last_status(small_kb) == (BATTERY, "processing")
        queue = app.screen.query_one("#queue", VirtualTable)
        battery = desk.doc_id_for_path(app.db, BATTERY)
        assert battery is not None
        queue.cursor = queue.keys.index(battery)
        await pilot.pause()
        await pilot.press("ctrl+p", *"Unprocess")
        await pilot.pause(0.3)
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        hits = palette.query_one(OptionList)
        offered = [
            getattr(hits.get_option_at_index(i).prompt, "plain", "").split("\n")[0]
            for i in range(hits.option_count)
        ]
        assert "Unprocess" in offered and "Unprocessed queue" in offered
        await pilot.press("enter")
        await pilot.pause()
        assert last_status(small_kb) == (BATTERY, "unprocessed")


async def test_ctrl_x_clears_filters_while_typing_in_the_filter(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, DeskScreen)
        await pilot.press("slash", *"tariff", "ctrl+s")
        assert screen.filter.text == "tariff"
        await pilot.press("slash", "ctrl+x")
        assert screen.filter.is_empty()
        assert app.screen is screen
        assert screen.query_one("#queue", VirtualTable).row_count == 2


@pytest.mark.usefixtures("appending_editor")
async def test_a_document_screen_shows_the_file_edited_from_it(small_kb: Path) -> None:
    from kbtui.ui.screens.document import DocumentScreen

    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("v", "enter")
        document = app.screen
        assert isinstance(document, DocumentScreen)
        assert "Edited by hand." not in reader_view(app).body
        await pilot.press("o")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is document
        assert "Edited by hand." in reader_view(app).body


async def test_j_and_k_move_in_lists_as_in_the_queue(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        buckets = app.screen.query_one("#buckets", OptionList)
        buckets.focus()
        await pilot.pause()
        assert buckets.highlighted == 0
        await pilot.press("j", "j")
        assert buckets.highlighted == 2
        await pilot.press("k")
        assert buckets.highlighted == 1
        await pilot.press("G")
        assert buckets.highlighted == buckets.option_count - 1
        await pilot.press("g")
        assert buckets.highlighted == 0


async def test_palette_and_help_offer_actions_not_cursor_moves(small_kb: Path) -> None:
    from kbtui.ui.commands import ScreenActions
    from kbtui.ui.screens.help import HelpScreen, binding_rows

    app = make_app(small_kb)
    async with app.run_test(size=(80, 24)) as pilot:
        offered = [row[0] for row in ScreenActions(app.screen)._actions()]
        assert {"Start", "Null-result", "Export", "Help", "Quit", "Open"} <= set(offered)
        assert not {"Up", "Down", "Scroll Left", "Page Left", "Focus Next"} & set(offered)
        # Help: the screen's keys first, then moving in the list; no Textual extras.
        ids = [row[2] for row in binding_rows(app.screen)]
        assert ids[0] == "desk.bucket_unprocessed" and ids[-1].startswith("table.")
        assert all(ids)
        await pilot.press("c", "0")
        await pilot.pause()
        offered = [row[0] for row in ScreenActions(app.screen)._actions()]
        assert "Save" in offered and not {"Move cursor left", "Select all"} & set(offered)
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        scroll = app.screen.query_one(VerticalScroll)
        await pilot.press("j", "j")
        await pilot.pause()
        assert scroll.scroll_y == 2


def showing(app: KbApp, kind: type) -> bool:
    """Whether the app shows a screen of this kind (a call: mypy keeps app.screen's type)."""
    return isinstance(app.screen, kind)


async def test_help_is_one_key_away_in_editors_and_dialogs(seeds_copy: Path) -> None:
    from kbtui.ui.screens.drafts import DraftFrom, DraftsScreen
    from kbtui.ui.screens.editor import ClaimEditor
    from kbtui.ui.screens.help import HelpScreen, binding_rows

    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        assert showing(app, DraftFrom)
        await pilot.press("f1")  # in a dialog: its own keys, with what enter does
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        assert ("⏎", "Draft from it", "draft_from.pick") in [
            (keys.split(" / ")[0], description, binding_id)
            for keys, description, binding_id in binding_rows(help_screen.under)
        ]
        picks = [
            r[2] for r in binding_rows(help_screen.under) if r[2].startswith("draft_from.pick_")
        ]
        assert picks == ["draft_from.pick_0", "draft_from.pick_1", "draft_from.pick_2"]
        await pilot.press("escape", "1")
        assert showing(app, ClaimEditor)
        await pilot.press("question_mark")  # typed into the title, as a question mark
        assert showing(app, ClaimEditor)
        await pilot.press("f1")
        assert showing(app, HelpScreen)
        await pilot.press("f1", "escape", "d")
        assert showing(app, DraftsScreen)
        rows = {row[2]: row[1] for row in binding_rows(app.screen)}
        assert rows["drafts.open"] == "Reopen" and "list.down" in rows
        # A list's own moves come after the screen's keys.
        ids = [row[2] for row in binding_rows(app.screen)]
        assert ids.index("drafts.delete") < ids.index("list.down")


async def test_clearing_the_filter_keeps_the_chosen_source_in_view(seeds_copy: Path) -> None:
    app = make_app(seeds_copy)
    async with app.run_test(size=(100, 13)) as pilot:
        screen = app.screen
        assert isinstance(screen, DeskScreen)
        table = screen.query_one("#queue", VirtualTable)
        await pilot.pause()
        last = table.keys[-1]
        word = desk.queue_rows(app.db, [last])[last].title.split()[-1]
        await pilot.press("slash", *word, "ctrl+s")
        await pilot.pause()
        table.cursor = table.keys.index(last)
        await pilot.press("slash", "ctrl+x")
        await pilot.pause()
        assert table.current_key == last
        top = int(table.scroll_offset.y)
        assert top <= table.cursor < top + table._visible_rows()


async def test_the_demo_kb_s_first_use_is_said_in_the_app(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KBTUI_DATA_DIR", str(tmp_path / "data"))
    app = make_app(None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        shown = [str(n.message) for n in app._notifications]
        assert any("Copied the demo KB to" in message for message in shown), shown
