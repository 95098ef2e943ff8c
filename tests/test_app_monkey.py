"""Random key presses on every screen they reach: the app may refuse a key, never crash."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from app_helpers import make_app

KEYS = [
    *"jkJKsSnuU12345/oeEcdDvVhHlLgGpPaAtTrRwWxXyYzZ",
    *("tab", "shift+tab", "enter", "escape", "up", "down", "left", "right", "pageup"),
    *("pagedown", "home", "end", "ctrl+r", "ctrl+s", "ctrl+g", "ctrl+p", "question_mark"),
    *("space", "backspace", "delete"),
]


@pytest.fixture(autouse=True)
def quiet_editor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "monkey")
    monkeypatch.setenv("KBTUI_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("EDITOR", "true")
    monkeypatch.delenv("VISUAL", raising=False)


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_keys_never_crash_the_app(seeds_copy: Path, seed: int) -> None:
    rng = random.Random(seed)
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for n in range(150):
            await pilot.press(rng.choice(KEYS))
            if n % 25 == 0:
                await pilot.pause()
        await pilot.pause()
    # Leaving run_test re-raises whatever a handler raised: reaching here is the assertion.
    assert app.return_code in (None, 0)
