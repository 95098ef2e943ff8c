"""The user's settings file (`config.toml` in the user config directory): name and keymap."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import platformdirs

from kbtui.formats.errors import KbtuiError


def config_path() -> Path:
    """`KBTUI_CONFIG`, else `config.toml` in the user's kbtui config directory."""
    override = os.environ.get("KBTUI_CONFIG")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir("kbtui")) / "config.toml"


def read_config(path: Path | None = None) -> tuple[dict[str, Any], str | None]:
    """The settings, and a one-line error when the file exists but cannot be read."""
    path = path or config_path()
    if not path.exists():
        return {}, None
    import tomllib  # only when there is a file: off the app's start-up path otherwise

    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, f"{path}: {exc}"


def configured_curator() -> str | None:
    """The curator name set in `[user] name`, if any."""
    data, _ = read_config()
    user = data.get("user")
    name = user.get("name") if isinstance(user, dict) else None
    return name.strip() if isinstance(name, str) and name.strip() else None


class SettingsError(KbtuiError):
    """The settings file cannot be changed; the message says why in one line."""


def save_curator(name: str) -> Path:
    """Record the curator's name as `[user] name`, changing nothing else in the file
    (tomlkit keeps its comments, order and layout).

    The new text must read back as the old settings plus this name before it replaces the
    file (atomically, keeping its permissions and any symlink to it); a file that does not
    parse, or where the name cannot go without touching anything else, is left alone.
    """
    import tomllib

    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    from kbtui.ops.atomic import atomic_write

    path = config_path()
    try:
        path = path.resolve() if path.is_symlink() else path
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        data = tomllib.loads(text)
        document = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, TOMLKitError) as exc:
        raise SettingsError(f"cannot record the name in {path}: {exc}") from exc
    user = data.get("user", {})
    if not isinstance(user, dict):
        raise SettingsError(f"cannot record the name in {path}: set [user] name there yourself")
    try:
        if "user" not in document:
            document["user"] = tomlkit.table()
        document["user"]["name"] = name  # type: ignore[index]  # a table, checked above
        new_text = tomlkit.dumps(document)
        saved = tomllib.loads(new_text)
    except (TOMLKitError, tomllib.TOMLDecodeError, TypeError, KeyError):
        saved = None
    if saved != {**data, "user": {**user, "name": name}}:
        raise SettingsError(f"cannot record the name in {path}: set [user] name there yourself")
    try:
        atomic_write(path, new_text.encode("utf-8"))
    except OSError as exc:
        raise SettingsError(f"cannot record the name in {path}: {exc.strerror or exc}") from exc
    return path
