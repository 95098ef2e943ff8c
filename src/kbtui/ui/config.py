"""The app's settings from the user's config file: keymap overrides."""

from __future__ import annotations

from pathlib import Path

from kbtui.ops.settings import read_config


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], str | None]:
    """Binding id -> keys from the `[keymap]` table; the second value is an error to show."""
    data, error = read_config(path)
    if error:
        return {}, error
    keymap = data.get("keymap", {})
    if not isinstance(keymap, dict):
        return {}, '[keymap] must be a table of binding id = "keys"'
    return {str(k): str(v) for k, v in keymap.items() if isinstance(v, str)}, None
