"""The app's settings from the user's config file: keymap overrides, checked before use."""

from __future__ import annotations

import importlib
import pkgutil
import re
import unicodedata
from pathlib import Path

from textual.binding import Binding
from textual.keys import ASCII_KEY_NAMES, KEY_NAME_REPLACEMENTS, Keys, key_to_character

from kbtui.ops.settings import read_config

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
_FUNCTION_KEY = re.compile(r"f([1-9]|1[0-9]|2[0-4])")
_KEY_NAMES = frozenset(key.value for key in Keys) | frozenset(KEY_NAME_REPLACEMENTS.values())


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], str | None]:
    """Binding id -> keys from the `[keymap]` table; the second value is an error to show."""
    data, error = read_config(path)
    if error:
        return {}, error
    keymap = data.get("keymap", {})
    if not isinstance(keymap, dict):
        return {}, '[keymap] must be a table of binding id = "keys"'
    wrong = sorted(str(k) for k, v in keymap.items() if not isinstance(v, str))
    keys = {str(k): v for k, v in keymap.items() if isinstance(v, str)}
    if wrong:
        return keys, '[keymap] values must be quoted keys, as in "b"; not used: ' + ", ".join(wrong)
    return keys, None


def valid_key(key: str) -> bool:
    """Whether Textual can bind `key` (`b`, `ctrl+b`, `f5`, `question_mark`, `pageup`, …)."""
    *modifiers, name = key.split("+")
    if not name or any(modifier not in MODIFIERS for modifier in modifiers):
        return False
    return (
        len(name) == 1
        or name in _KEY_NAMES
        or bool(_FUNCTION_KEY.fullmatch(name))
        or key_to_character(name) is not None
    )


def _key_name(key: str) -> str:
    """A key as Textual names it in bindings: `?` is `question_mark`, `b` stays `b`."""
    if len(key) != 1 or key.isalnum():
        return key
    try:
        name = unicodedata.name(key).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        name = ASCII_KEY_NAMES.get(key, key)
    return KEY_NAME_REPLACEMENTS.get(name, name)


def _split(keys: str) -> list[str]:
    return [_key_name(key.strip()) for key in keys.split(",") if key.strip()]


def _bindings(cls: type) -> list[Binding]:
    """The bindings `cls` declares, its base classes' included."""
    found = []
    for klass in cls.__mro__:
        for item in vars(klass).get("BINDINGS", []):
            found.append(item if isinstance(item, Binding) else Binding(*item))
    return found


def _app_classes() -> tuple[type, list[type], list[type]]:
    """The app class, and the screen and the widget classes of kbtui with bindings."""
    from kbtui.ui import screens, widgets
    from kbtui.ui.app import KbApp

    found: list[list[type]] = []
    for package in (screens, widgets):
        classes: list[type] = []
        for module_info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{module_info.name}")
            classes += [
                value
                for value in vars(module).values()
                if isinstance(value, type)
                and value.__module__ == module.__name__
                and "BINDINGS" in vars(value)
            ]
        found.append(classes)
    return KbApp, found[0], found[1]


def check_keymap(keymap: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The rebindings that can be used, and a line for each one that cannot: an unknown
    binding id, a key Textual does not know, or a key that another binding of the same
    screen (or of the app, such as `q`, or of a list inside screens, such as `j`) already
    has: the focused list would take the key first, and the action could not be reached."""
    app, screen_classes, widget_classes = _app_classes()
    app_bindings = _bindings(app)
    widget_bindings = [b for cls in widget_classes for b in _bindings(cls)]
    owners: dict[str, list[Binding]] = {b.id: app_bindings for b in app_bindings if b.id}
    for cls in widget_classes:
        own = _bindings(cls)
        owners.update({b.id: own + app_bindings for b in own if b.id})
    for cls in screen_classes:
        own = _bindings(cls)
        owners.update({b.id: own + widget_bindings + app_bindings for b in own if b.id})
    usable: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in keymap.items():
        scope = owners.get(binding_id)
        if scope is None:
            problems.append(f"{binding_id}: no binding has this id (the help screen lists them)")
            continue
        wanted = [key.strip() for key in keys.split(",") if key.strip()]
        unknown = [key for key in wanted if not valid_key(key)]
        if not wanted or unknown:
            problems.append(f"{binding_id} = {keys!r}: not a key ({', '.join(unknown) or 'empty'})")
            continue
        taken = {
            key: binding.id or binding.description or binding.action
            for binding in scope
            if binding.id != binding_id
            for key in _split(keymap.get(binding.id or "", binding.key))
        }
        clashes = [key for key in _split(keys) if key in taken]
        if clashes:
            problems.append(f"{binding_id} = {keys!r}: {clashes[0]} is already {taken[clashes[0]]}")
            continue
        usable[binding_id] = keys
    return usable, problems
