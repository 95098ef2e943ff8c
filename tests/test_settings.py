"""The curator's name: `--as`, `KBTUI_CURATOR`, or `[user] name` in the settings file."""

from __future__ import annotations

from pathlib import Path

import pytest

from kbtui.ops import curation, settings


def test_name_saved_in_the_settings_file_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keymap]\n"desk.start" = "b"\n', encoding="utf-8")
    monkeypatch.setenv("KBTUI_CONFIG", str(config))
    monkeypatch.delenv("KBTUI_CURATOR", raising=False)
    settings.save_curator('Ana "the curator"')
    assert curation.curator_name() == 'Ana "the curator"'
    data, error = settings.read_config()
    assert error is None and data["keymap"] == {"desk.start": "b"}
    settings.save_curator("Ana")
    assert curation.curator_name() == "Ana"
    monkeypatch.setenv("KBTUI_CURATOR", "Bo")
    assert curation.curator_name() == "Bo"
