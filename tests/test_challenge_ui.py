"""Challenges driven with keys: shown on their claim, drafted with `c`, saved, listed with `C`
on the desk, reopened, and exported into a copy of the demo KB."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from textual.content import Content
from textual.widgets import OptionList

from kbtui.ops import desk, export
from kbtui.ui.app import KbApp
from kbtui.ui.commands import ScreenActions
from kbtui.ui.screens.challenges import ChallengeEditor, ChallengesScreen
from kbtui.ui.screens.claims import ClaimsScreen
from kbtui.ui.screens.desk import DeskScreen
from kbtui.ui.screens.document import DocumentScreen
from kbtui.ui.screens.help import binding_rows
from kbtui.ui.widgets.virtual_table import VirtualTable
from test_challenge import HOME, SEED_CHALLENGE, SEED_CHALLENGE_TITLE

from app_helpers import make_app, static_text

TITLE = "Home batteries on flat tariffs still shift load when prices spike"
FILE = (
    "domains/energy-storage/challenge-home-batteries-on-flat-tariffs-still-shift-load-when-"
    "prices-spike.md"
)


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")
    monkeypatch.setenv("KBTUI_CONFIG", str(tmp_path / "no-config.toml"))


def showing(app: KbApp, kind: type) -> bool:
    """Whether the app shows a screen of this kind (a call: mypy keeps app.screen's type)."""
    return isinstance(app.screen, kind)


def options(app: KbApp, selector: str) -> list[str]:
    lines = app.screen.query_one(selector, OptionList)
    return [
        Content.from_markup(str(lines.get_option_at_index(i).prompt)).plain
        for i in range(lines.option_count)
    ]


async def highlight(app: KbApp, stem: str) -> None:
    table = app.screen.query_one("#claims", VirtualTable)
    rows = desk.claim_rows(app.db, table.keys)
    table.cursor = next(i for i, key in enumerate(table.keys) if rows[key].title == stem)


async def test_a_claim_shows_its_open_challenge_and_c_drafts_another(seeds_copy: Path) -> None:
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("v")
        assert showing(app, ClaimsScreen)
        await highlight(app, HOME)
        await pilot.pause()
        assert static_text(app, "#reader-challenges") == (
            f"Open challenges: 1\n  ◆ {SEED_CHALLENGE_TITLE} (boundary)"
        )
        # The key is the screen's: in its help and its palette.
        assert "claims.challenge" in [row[2] for row in binding_rows(app.screen)]
        assert "Challenge" in [row[0] for row in ScreenActions(app.screen)._actions()]
        await pilot.press("c")
        assert showing(app, ChallengeEditor)
        await pilot.press(
            *TITLE,
            "tab",
            *"Real-time price alerts moved evening use in two pilots with no tariff change",
            "tab",
            *"refutation",
            "ctrl+s",
        )
        await pilot.pause()
        assert showing(app, ClaimsScreen), [n.message for n in app._notifications]
        assert static_text(app, "#reader-challenges").splitlines()[0] == (
            "Open challenges: 1 (and 1 drafted)"
        )
        assert f"◆ draft 1: {TITLE} (refutation)" in static_text(app, "#reader-challenges")
        # The drafts (d on the desk) name the claim it challenges.
        await pilot.press("escape", "d")
        [listed] = options(app, "#drafts")
        assert listed.startswith(f"  1 challenge  saved  {TITLE}\n     of {HOME} · ")
    plan = export.apply_export(app.db, seeds_copy, export.plan_export(app.db, seeds_copy, "tester"))
    # The challenge, and the claim that now names it in its challenged_by.
    assert [c.path for c in plan.changes if c.written] == [
        FILE,
        f"domains/energy-storage/{HOME}.md",
    ]
    assert (seeds_copy / FILE).read_text(encoding="utf-8") == (
        "---\n"
        "type: challenge\n"
        f'target_claim: "{HOME}"\n'
        "challenge_type: refutation\n"
        "status: open\n"
        f"created: {date.today().isoformat()}\n"
        'description: "Real-time price alerts moved evening use in two pilots with no tariff '
        'change"\n'
        "---\n\n"
        f"# {TITLE}\n\n"
        "---\n\n"
        "Relevant Notes:\n"
        f"- [[{HOME}]] — the claim challenged\n\n"
        "Topics:\n- [[_map]]\n"
    )


async def test_the_challenges_list_opens_files_and_reopens_drafts(seeds_copy: Path) -> None:
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        assert showing(app, DeskScreen)
        assert "desk.challenges" in [row[2] for row in binding_rows(app.screen)]
        await pilot.press("C")
        assert showing(app, ChallengesScreen)
        assert static_text(app, "#challenges-info").startswith("1 open, 0 draft(s)")
        assert options(app, "#challenges") == [
            f"open      boundary     {SEED_CHALLENGE_TITLE}\n     → {HOME}"
        ]
        await pilot.press("enter")
        assert showing(app, DocumentScreen)
        document = app.screen
        assert isinstance(document, DocumentScreen) and document.view.path == SEED_CHALLENGE
        # A challenge is no claim: `c` is not offered, and does nothing.
        assert "Challenge" not in [row[0] for row in ScreenActions(document)._actions()]
        await pilot.press("c")
        assert showing(app, DocumentScreen)
        # Its target claim, opened from its links: `c` starts a challenge of it.
        app.open_path(f"domains/energy-storage/{HOME}.md")
        await pilot.pause()
        assert showing(app, DocumentScreen)
        await pilot.press("c")
        assert showing(app, ChallengeEditor)
        await pilot.press(*"Tariffs matter less than dispatch contracts", "escape")
        assert showing(app, DocumentScreen)  # esc keeps the draft
        await pilot.press("escape", "escape")
        assert showing(app, ChallengesScreen)
        assert options(app, "#challenges")[1] == (
            "draft     ?            Tariffs matter less than dispatch contracts (draft)\n"
            f"     → {HOME}"
        )
        await pilot.press("j", "enter")
        editor = app.screen
        assert isinstance(editor, ChallengeEditor)
        assert editor.draft.title == "Tariffs matter less than dispatch contracts"
        assert "✗ Choose the challenge type" in static_text(app, "#checks")
