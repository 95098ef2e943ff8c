"""Pictures of the screens (pytest-textual-snapshot): what a curator sees, pinned."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from kbtui.ui.app import KbApp
from kbtui.ui.screens.divergences import DivergenceEditor
from kbtui.ui.screens.editor import ClaimEditor
from kbtui.ui.widgets.reader import Reader
from test_divergence import PEAKERS, PRICING

from app_helpers import make_app

SnapCompare = Callable[..., bool]

SOURCE_WITH_PROBLEMS = """\
---
type: source
title: "Battery swap stations: a field report"
author: "Depot Review"
url: https://example.org/swap
date: 2025-09-00
domain: energy-storage
status: complete (draft)
status: processing
claims_extracted: 0
priority: high
---

## Content

A field report on swap stations, with a [[link to a claim nobody wrote]].
"""


@pytest.fixture(autouse=True)
def quiet_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")
    monkeypatch.setenv("KBTUI_CONFIG", str(tmp_path / "no-config.toml"))


async def bodies_rendered(pilot: Pilot[Any]) -> None:
    """Wait until every reader on the screen stack has rendered its body (load-independent)."""
    await pilot.pause()
    for screen in pilot.app.screen_stack:
        for reader in screen.query(Reader):
            await asyncio.wait_for(reader.body_rendered.wait(), timeout=30)
    await pilot.pause()


def settle(*keys: str) -> Callable[[Pilot[Any]], Any]:
    """Press keys, then wait until the readers' bodies have rendered."""

    async def run(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
        await bodies_rendered(pilot)

    return run


def test_main_screen(snap_compare: SnapCompare, seeds_copy: Path) -> None:
    """The desk on the demo KB: status buckets with counts, the unprocessed queue, the first
    source in the reader and its handoff (curator notes, candidates, connections)."""
    assert snap_compare(make_app(seeds_copy), terminal_size=(120, 40), run_before=settle())


def test_narrow_layout(snap_compare: SnapCompare, seeds_copy: Path) -> None:
    """The same desk at 80x24: all three panes still usable."""
    assert snap_compare(make_app(seeds_copy), terminal_size=(80, 24), run_before=settle())


def test_help_screen(snap_compare: SnapCompare, seeds_copy: Path) -> None:
    """Help lists every key on the desk with its action and binding id."""
    assert snap_compare(
        make_app(seeds_copy), terminal_size=(120, 40), run_before=settle("question_mark")
    )


def test_null_result_dialog(snap_compare: SnapCompare, seeds_copy: Path) -> None:
    """n opens the null-result dialog, asking for the note the KB requires."""
    assert snap_compare(
        make_app(seeds_copy), terminal_size=(120, 40), run_before=settle("n", *"already covered")
    )


def test_source_with_problems(snap_compare: SnapCompare, seeds_copy: Path) -> None:
    """A source whose file has problems shows them above its body, not hidden."""
    (seeds_copy / "inbox/archive/2025-09-00-depot-review-swap-stations.md").write_text(
        SOURCE_WITH_PROBLEMS, encoding="utf-8"
    )
    assert snap_compare(make_app(seeds_copy), terminal_size=(120, 40), run_before=settle("2"))


def test_claims_view(snap_compare: SnapCompare, seeds_copy: Path) -> None:
    """v lists every claim with domain and confidence; the reader previews the first."""
    assert snap_compare(make_app(seeds_copy), terminal_size=(120, 40), run_before=settle("v"))


async def settle_checks(pilot: Pilot[Any]) -> None:
    """Run the editor's pending checks now, so the picture does not depend on timing."""
    await pilot.pause()
    editor = pilot.app.screen
    assert isinstance(editor, ClaimEditor)
    editor.refresh_checks()
    await pilot.pause()


def editor_steps(*keys: str) -> Callable[[Pilot[Any]], Any]:
    """Open the claim editor from candidate 1 of the first source, then type."""

    async def run(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        await pilot.press("c", "1", *keys)
        await settle_checks(pilot)

    return run


def test_editor_checks_passing(snap_compare: SnapCompare, small_kb: Path) -> None:
    """The editor prefilled from a hint, with a description and confidence: every check ✓."""
    assert snap_compare(
        make_app(small_kb),
        terminal_size=(120, 40),
        run_before=editor_steps(
            *"Measured payback on 40 homes was seven to eight years.", "tab", *"likely"
        ),
    )


def test_editor_checks_failing(snap_compare: SnapCompare, small_kb: Path) -> None:
    """A blank draft with a topic-label title: the failing checks say what to fix."""

    async def run(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        await pilot.press("c", "0", *"Battery economics")
        await settle_checks(pilot)

    assert snap_compare(make_app(small_kb), terminal_size=(120, 40), run_before=run)


def test_editor_duplicate_panel(snap_compare: SnapCompare, small_kb: Path) -> None:
    """A title close to an existing claim: the similar-claims panel shows it as blocking."""

    async def run(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        await pilot.press("c", "0", *"home batteries flatten the evening peaks")
        await settle_checks(pilot)

    assert snap_compare(make_app(small_kb), terminal_size=(120, 40), run_before=run)


def test_divergence_editor(snap_compare: SnapCompare, seeds_copy: Path) -> None:
    """The divergence editor on two claims: question typed, checks, the prefilled body."""

    async def run(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        app = pilot.app
        assert isinstance(app, KbApp)
        app.draft_divergence([PEAKERS, PRICING])
        await pilot.pause()
        await pilot.press(*"Should evening peak money go to batteries or to road pricing?")
        editor = app.screen
        assert isinstance(editor, DivergenceEditor)
        editor.refresh_checks()
        await pilot.pause()

    assert snap_compare(make_app(seeds_copy), terminal_size=(120, 40), run_before=run)


def test_divergences_view(snap_compare: SnapCompare, seeds_copy: Path) -> None:
    """V lists the open divergence of the demo KB with its claims."""
    assert snap_compare(make_app(seeds_copy), terminal_size=(120, 40), run_before=settle("V"))
