"""The user's kbtui settings: a TOML file in the user config directory (keymap overrides)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import platformdirs


def config_path() -> Path:
    """`KBTUI_CONFIG`, else `config.toml` in the user's kbtui config directory."""
    override = os.environ.get("KBTUI_CONFIG")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir("kbtui")) / "config.toml"


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], str | None]:
    """Binding id -> keys from the `[keymap]` table; the second value is an error to show."""
    path = path or config_path()
    if not path.exists():
        return {}, None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, f"{path}: {exc}"
    keymap = data.get("keymap", {})
    if not isinstance(keymap, dict):
        return {}, f'{path}: [keymap] must be a table of binding id = "keys"'
    return {str(k): str(v) for k, v in keymap.items() if isinstance(v, str)}, None
