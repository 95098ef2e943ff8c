"""The user's settings file (`config.toml` in the user config directory): name and keymap."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import platformdirs


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


def save_curator(name: str) -> Path:
    """Record the curator's name in the settings file, keeping everything else in it."""
    path = config_path()
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    line = f'name = "{escaped}"'
    if "[user]" in text:
        lines = text.splitlines()
        start = lines.index("[user]")
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines)
        )
        body = [entry for entry in lines[start + 1 : end] if not entry.strip().startswith("name")]
        lines[start + 1 : end] = [line, *body]
        text = "\n".join(lines) + "\n"
    else:
        text = text + ("\n" if text and not text.endswith("\n") else "") + f"[user]\n{line}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
