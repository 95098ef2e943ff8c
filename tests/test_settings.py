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


@pytest.mark.parametrize(
    "existing",
    [
        '[user]  \ntheme = "dark"\n',
        '[user] # me\nname = "Old"\n\n[keymap]\n"desk.start" = "b"\n',
        '# a note about [user]\n[keymap]\n"desk.start" = "b"\n',
        '[ user ]\nname = "Old"\n',
        "",
        'user = { name = "x" }\n',
        'user.name = "x"\n',
        '[user]\nbio = """\nname = old\n"""\n',
        'note = """\n[user]\n"""\n',
    ],
)
def test_the_name_goes_into_any_user_table_and_nothing_else_changes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, existing: str
) -> None:
    import tomllib

    config = tmp_path / "config.toml"
    config.write_text(existing, encoding="utf-8")
    monkeypatch.setenv("KBTUI_CONFIG", str(config))
    before = tomllib.loads(existing)
    settings.save_curator("Ana")
    after = tomllib.loads(config.read_text(encoding="utf-8"))
    assert after["user"]["name"] == "Ana"
    after["user"].pop("name")
    before.setdefault("user", {}).pop("name", None)
    assert after == before


@pytest.mark.parametrize(
    ("existing", "reason"),
    [
        ("[user\nname = 1\n", "cannot record the name"),
        ('user = "me"\n', "set [user] name there yourself"),
    ],
)
def test_a_settings_file_the_name_cannot_go_into_is_left_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, existing: str, reason: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(existing, encoding="utf-8")
    monkeypatch.setenv("KBTUI_CONFIG", str(config))
    with pytest.raises(settings.SettingsError, match=reason.replace("[", r"\[")):
        settings.save_curator("Ana")
    assert config.read_text(encoding="utf-8") == existing


def test_a_settings_path_that_is_a_folder_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KBTUI_CONFIG", str(tmp_path))
    with pytest.raises(settings.SettingsError, match="cannot record the name"):
        settings.save_curator("Ana")


def test_the_settings_file_keeps_its_permissions_and_its_symlink(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = tmp_path / "real.toml"
    real.write_text('[keymap]\n"desk.start" = "b"\n', encoding="utf-8")
    real.chmod(0o600)
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    monkeypatch.setenv("KBTUI_CONFIG", str(link))
    settings.save_curator("Ana")
    assert link.is_symlink() and (real.stat().st_mode & 0o777) == 0o600
    assert 'name = "Ana"' in real.read_text(encoding="utf-8")


def test_the_name_replaces_only_its_value(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[user] # me\nname = "Old"   # who I am\n\n[keymap]\n"desk.start" = "b"\n', "utf-8"
    )
    monkeypatch.setenv("KBTUI_CONFIG", str(config))
    settings.save_curator("Ana")
    assert config.read_text(encoding="utf-8") == (
        '[user] # me\nname = "Ana"   # who I am\n\n[keymap]\n"desk.start" = "b"\n'
    )
