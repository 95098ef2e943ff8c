"""The claim editor driven with keys: draft from a hint, autosave, reopen, survive a kill."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, TextArea

from kbtui.ui.screens.desk import DeskScreen
from kbtui.ui.screens.drafts import DraftFrom, DraftsScreen, LinkPicker
from kbtui.ui.screens.editor import ClaimEditor

from app_helpers import make_app

HINT_TITLE = "Time-of-use tariffs make home batteries pay back within eight years"
DESCRIPTION = "Measured payback on 40 homes was seven to eight years on evening tariffs."


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")
    monkeypatch.setenv("KBTUI_CONFIG", str(tmp_path / "no-config.toml"))


def draft_rows(kb: Path) -> list[dict[str, object]]:
    with sqlite3.connect(kb / "kb.sqlite") as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute("SELECT * FROM drafts ORDER BY id")]


async def test_draft_from_hint_in_four_keys(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.screen, DeskScreen)
        await pilot.press("c")
        assert isinstance(app.screen, DraftFrom)
        await pilot.press("1")
        editor = app.screen
        assert isinstance(editor, ClaimEditor)
        assert editor.query_one("#title", Input).value == HINT_TITLE
        assert app.focused is editor.query_one("#description", Input)
        await pilot.press(*DESCRIPTION, "tab", *"likely", "ctrl+s")
        assert isinstance(app.screen, DeskScreen)
    [row] = draft_rows(small_kb)
    assert row["title"] == HINT_TITLE and row["description"] == DESCRIPTION
    assert row["confidence"] == "likely" and row["domain"] == "energy"
    assert row["state"] == "saved" and row["hint"] == 1 and row["who"] == "tester"
    assert row["source_path"] == "inbox/archive/2026-01-03-battery-trial.md"
    assert str(row["body"]).startswith(f"# {HINT_TITLE}\n")


async def test_text_typed_in_one_burst_with_tab_goes_to_the_next_field(small_kb: Path) -> None:
    """As a fast typist or a paste sends them: every key queued before any is handled."""
    from textual import events

    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c", "1")
        editor = app.screen
        assert isinstance(editor, ClaimEditor)
        for key, character in [("x", "x"), ("tab", None), ("l", "l"), ("y", "y")]:
            app.post_message(events.Key(key, character))
        await pilot.pause()
        await pilot.pause()
        assert editor.query_one("#description", Input).value == "x"
        assert editor.query_one("#confidence", Input).value == "ly"


async def test_failing_checks_keep_the_editor_open(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c", "0")
        assert isinstance(app.screen, ClaimEditor)
        await pilot.press(*"Batteries", "ctrl+s")
        assert isinstance(app.screen, ClaimEditor)
        assert any("Not saved yet" in (n.title or "") for n in app._notifications)
    [row] = draft_rows(small_kb)
    assert row["title"] == "Batteries" and row["state"] == "draft"


async def test_the_body_heading_follows_the_title(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c", "0")  # a blank claim: its heading is the placeholder
        await pilot.press(*"Tariffs pay", "backspace", *"y back")
        await pilot.pause()
        body = app.screen.query_one("#body", TextArea)
        assert app.screen.query_one("#title", Input).value == "Tariffs pay back"
        assert body.text.startswith("# Tariffs pay back\n")
    [row] = draft_rows(small_kb)
    assert str(row["body"]).startswith(f"# {row['title']}\n")


async def test_tabbing_into_a_filled_field_and_typing_keeps_its_text(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c", "1")
        await pilot.press(*"Forty homes.", "shift+tab")
        await pilot.pause()
        await pilot.press("X")
        title = app.screen.query_one("#title", Input)
        assert len(title.value) == len(HINT_TITLE) + 1 and "X" in title.value


async def test_reopen_from_drafts_view_restores_fields(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c", "1", *"Half-typed description", "escape")
        assert isinstance(app.screen, DeskScreen)
        await pilot.press("d")
        assert isinstance(app.screen, DraftsScreen)
        await pilot.press("enter")
        editor = app.screen
        assert isinstance(editor, ClaimEditor)
        assert editor.query_one("#description", Input).value == "Half-typed description"
        assert editor.query_one("#title", Input).value == HINT_TITLE
        await pilot.press("escape", "x", "y")
    assert draft_rows(small_kb) == []


KILLER = """
import asyncio, os, signal, sys
sys.path.insert(0, {tests!r})
from app_helpers import make_app
from pathlib import Path

async def main():
    app = make_app(Path({kb!r}))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c", "1", *"The last edit before the crash")
        os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


def test_killed_mid_edit_keeps_the_last_edit(small_kb: Path, tmp_path: Path) -> None:
    script = tmp_path / "killer.py"
    script.write_text(
        textwrap.dedent(KILLER).format(tests=str(Path(__file__).parent), kb=str(small_kb))
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, timeout=120, check=False
    )
    assert result.returncode == -9, result.stderr.decode()[-2000:]
    [row] = draft_rows(small_kb)
    assert row["description"] == "The last edit before the crash"
    shown = subprocess.run(
        [sys.executable, "-m", "kbtui.cli", "drafts", "list", str(small_kb), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(shown.stdout)[0]["description"] == "The last edit before the crash"


async def test_double_bracket_offers_claim_titles(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c", "1")
        editor = app.screen
        assert isinstance(editor, ClaimEditor)
        body = editor.query_one("#body", TextArea)
        body.focus()
        body.move_cursor((2, 0))
        await pilot.press("[", "[")
        assert isinstance(app.screen, LinkPicker)
        await pilot.press(*"flatten", "enter")
        assert isinstance(app.screen, ClaimEditor)
        assert "[[home batteries flatten the evening peak]]" in body.text
    [row] = draft_rows(small_kb)
    assert "[[home batteries flatten the evening peak]]" in str(row["body"])


async def test_a_burst_of_keys_ending_in_brackets_opens_one_link_picker(small_kb: Path) -> None:
    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c", "1")
        body = app.screen.query_one("#body", TextArea)
        body.focus()
        body.move_cursor((2, 0))
        for text in ("Q", "[", "["):  # all in before their changes are seen, as typed fast
            body.insert(text)
        await pilot.pause()
        assert sum(isinstance(screen, LinkPicker) for screen in app.screen_stack) == 1
        await pilot.press("escape")
        assert isinstance(app.screen, ClaimEditor)


async def test_demo_kb_hint_two_saved_and_reopened(seeds_copy: Path) -> None:
    """On the demo KB: an unprocessed source, hint 2, description, confidence, save, reopen."""
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("1", "j", "c", "2")
        editor = app.screen
        assert isinstance(editor, ClaimEditor)
        title = editor.query_one("#title", Input).value
        assert title.startswith("Moving time-of-use windows with the season")
        await pilot.press(
            *"Winter peaks run past 8 pm, after today's fixed windows end.",
            "tab",
            *"experimental",
            "ctrl+s",
        )
        assert isinstance(app.screen, DeskScreen)
        await pilot.press("d", "enter")
        reopened = app.screen
        assert isinstance(reopened, ClaimEditor)
        assert reopened.query_one("#confidence", Input).value == "experimental"
        assert reopened.query_one("#description", Input).value.startswith("Winter peaks")
    [row] = draft_rows(seeds_copy)
    assert row["title"] == title and row["hint"] == 2 and row["state"] == "saved"
    assert row["source_path"] == "inbox/archive/2026-03-01-grid-operator-quarterly-evening-peak.md"
    assert row["domain"] == "energy-storage" and row["confidence"] == "experimental"
    assert (
        row["source"] == "Regional Grid Operator, Quarterly system report: the evening peak (2026)"
    )
    assert row["created"] and row["who"] == "tester" and row["saved_at"]
    assert "[[2026-03-01-grid-operator-quarterly-evening-peak]]" in str(row["body"])


async def test_enrich_instead_with_a_chosen_kind_exports_the_block(small_kb: Path) -> None:
    from kbtui.ops import export

    app = make_app(small_kb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c", "0", *"home batteries flatten the evening peaks")
        editor = app.screen
        assert isinstance(editor, ClaimEditor)
        editor.refresh_checks()
        await pilot.press("ctrl+n")  # which claim: the most similar is offered first
        picker = app.screen
        assert isinstance(picker, LinkPicker)
        await pilot.press("enter", "ctrl+n")
        assert editor.draft.kind == "enrichment" and editor.draft.enrichment_kind == "confirm"
        # No evidence written yet (the body is the template's line): saving is refused.
        await pilot.press("ctrl+s")
        assert app.screen is editor
        editor.query_one("#body", TextArea).focus()
        await pilot.press("f7", *"Trial homes cut their peak draw by 31 percent.", "ctrl+s")
        assert isinstance(app.screen, DeskScreen)
    plan = export.apply_export(app.db, small_kb, export.plan_export(app.db, small_kb, "tester"))
    assert sorted(c.path for c in plan.changes if c.written) == [
        "domains/energy/home batteries flatten the evening peak.md",
        "inbox/archive/2026-01-03-battery-trial.md",
    ]
    claim = (small_kb / "domains/energy/home batteries flatten the evening peak.md").read_text()
    assert (
        "\n### Additional Evidence (confirm)\n*Source: [[2026-01-03-battery-trial]] | Added: "
        in claim
    )
    assert "| Extractor: tester*\n\nTrial homes cut their peak draw by 31 percent.\n" in claim
    source = (small_kb / "inbox/archive/2026-01-03-battery-trial.md").read_text()
    assert 'enrichments_applied:\n  - "home batteries flatten the evening peak"' in source


async def test_any_claim_can_be_chosen_to_enrich(seeds_copy: Path) -> None:
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c", "0", *"Tolls cut peak traffic")
        editor = app.screen
        assert isinstance(editor, ClaimEditor)
        await pilot.press("ctrl+n", *"lithium storage", "enter")
        assert editor.draft.kind == "enrichment"
        assert str(editor.draft.target_path).startswith("domains/energy-storage/four-hour lithium")
        assert app.screen is editor


async def test_delete_in_drafts_acts_on_the_highlighted_draft_after_a_cancel(
    small_kb: Path,
) -> None:
    from kbtui.ops import drafting

    app = make_app(small_kb)
    source = "inbox/archive/2026-01-03-battery-trial.md"
    first = drafting.new_claim_draft(app.db, source, None)
    second = drafting.new_claim_draft(app.db, source, None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("d", "down")
        drafts = app.screen.query_one(OptionList)
        highlighted = int(drafts.get_option_at_index(drafts.highlighted or 0).id or 0)
        assert drafts.highlighted == 1 and highlighted in (first.id, second.id)
        await pilot.press("x", "n")
        assert isinstance(app.screen, DraftsScreen) and drafts.highlighted == 1
        await pilot.press("x", "y")
        await pilot.pause()
    assert [row["id"] for row in draft_rows(small_kb)] == [
        d.id for d in (first, second) if d.id != highlighted
    ]


async def test_after_a_delete_the_next_draft_is_highlighted(small_kb: Path) -> None:
    from kbtui.ops import drafting

    app = make_app(small_kb)
    source = "inbox/archive/2026-01-03-battery-trial.md"
    for _ in range(3):
        drafting.new_claim_draft(app.db, source, None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("d", "down")
        drafts = app.screen.query_one(OptionList)
        below = drafts.get_option_at_index(2).id
        await pilot.press("x", "y")
        await pilot.pause()
        assert drafts.option_count == 2 and drafts.highlighted == 1
        assert drafts.get_option_at_index(1).id == below


async def test_a_draft_deleted_elsewhere_keeps_what_is_typed_as_a_new_draft(
    small_kb: Path,
) -> None:
    from kbtui.ops import drafting

    app = make_app(small_kb)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.press("c", "1", *"Measured on 40 homes")
        editor = app.screen
        assert isinstance(editor, ClaimEditor)
        first = editor.draft.id
        drafting.delete_draft(app.db, first)  # `kbtui drafts rm 1` in a shell
        await pilot.press(*" over a winter")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, ClaimEditor)
        assert [n.message for n in app._notifications if n.title == "Draft deleted elsewhere"] == [
            f"Draft {first} was deleted outside this editor. What is here is kept as a new "
            f"draft, {editor.draft.id} (d lists the drafts; x there deletes one)."
        ]
        assert editor.draft.id != first
        assert f"Draft {editor.draft.id} · draft" in str(editor.query_one("#draft-state").render())
        await pilot.press("tab", *"likely", "ctrl+s")
        assert isinstance(app.screen, DeskScreen)
    [row] = draft_rows(small_kb)
    assert row["id"] == editor.draft.id and row["title"] == HINT_TITLE
    assert row["description"] == "Measured on 40 homes over a winter"
    assert row["confidence"] == "likely" and row["state"] == "saved"
    assert row["source_path"] == "inbox/archive/2026-01-03-battery-trial.md"
    assert str(row["body"]).startswith(f"# {HINT_TITLE}\n")
