"""The user's settings file (`config.toml` in the user config directory): name and keymap."""

from __future__ import annotations

import os
import re
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


_USER_TABLE = re.compile(r"^[ \t]*\[[ \t]*user[ \t]*\][ \t]*(?:#.*)?$", re.MULTILINE)
_TABLE = re.compile(r"^[ \t]*\[")
_NAME_KEY = re.compile(r"^[ \t]*(?:name|\"name\"|'name')[ \t]*=")


def save_curator(name: str) -> Path:
    """Record the curator's name as `[user] name`, changing nothing else in the file.

    The new text must read back as the old settings plus this name before it replaces the
    file (atomically, keeping its permissions); a file that does not parse, or where the name
    cannot go without touching anything else, is left alone.
    """
    import tomllib

    path = config_path()
    try:
        path = path.resolve() if path.is_symlink() else path
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot record the name in {path}: {exc}") from exc
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    line = f'name = "{escaped}"'
    header = _USER_TABLE.search(text)
    if header is not None:
        lines = text.split("\n")
        start = text.count("\n", 0, header.start())
        end = next((i for i in range(start + 1, len(lines)) if _TABLE.match(lines[i])), len(lines))
        body = [entry for entry in lines[start + 1 : end] if not _NAME_KEY.match(entry)]
        lines[start + 1 : end] = [line, *body]
        new_text = "\n".join(lines)
    else:
        new_text = text + ("\n" if text and not text.endswith("\n") else "") + f"[user]\n{line}\n"
    expected = (
        {**data, "user": {**data.get("user", {}), "name": name}}
        if (isinstance(data.get("user", {}), dict))
        else None
    )
    try:
        saved = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError:
        saved = None
    if expected is None or saved != expected:
        raise SettingsError(f"cannot record the name in {path}: set [user] name there yourself")
    try:
        mode = path.stat().st_mode & 0o7777 if path.exists() else None
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.kbtui-tmp")
        temporary.write_text(new_text, encoding="utf-8")
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as exc:
        raise SettingsError(f"cannot record the name in {path}: {exc.strerror or exc}") from exc
    return path
