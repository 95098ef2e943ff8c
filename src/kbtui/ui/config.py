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
    """The bindings `cls` declares, its base classes' included (up to a class that does not
    inherit them, as Textual reads them)."""
    found = []
    for klass in cls.__mro__:
        for item in vars(klass).get("BINDINGS", []):
            found.append(item if isinstance(item, Binding) else Binding(*item))
        if vars(klass).get("_inherit_bindings", True) is False:
            break
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


RESERVED = {
    "ctrl+p": "the command palette",
    "ctrl+q": "quit",
    "ctrl+c": "copy",
    "tab": "the next pane",
    "shift+tab": "the previous pane",
}
"""Keys Textual keeps for itself everywhere: a binding given one would never be reached."""


def _text_field_keys(names: tuple[str, ...]) -> set[str]:
    """The keys the text fields named (`Input`, `TextArea`) take when focused: their own
    bindings (printable keys, which they type, aside)."""
    from textual import widgets

    return {
        key
        for name in names
        for item in vars(getattr(widgets, name)).get("BINDINGS", [])
        if isinstance(item, Binding)
        for key in _split(item.key)
    } | ({"enter"} if "TextArea" in names else set())  # a new line, not a binding


def _typed(key: str) -> bool:
    character = key_to_character(key)
    return character is not None and len(character) == 1 and character.isprintable()


def check_keymap(keymap: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The rebindings that can be used, and a line for each one that cannot: an unknown
    binding id, a key Textual does not know, a key Textual keeps (`ctrl+p`), or a key that
    another binding already has where this one works: on its screen (the app's keys, such as
    `q`, and those of a list inside screens, such as `j`, included); for an app key, on any
    screen; on a screen whose text field has the focus (an editor, a note), a key the field
    takes (a printable key is typed, `ctrl+a` moves the cursor)."""
    from textual.screen import ModalScreen

    from kbtui.ui.widgets.lists import ENTER_ACTIONS, KeyList

    app, screen_classes, widget_classes = _app_classes()
    app_bindings = _bindings(app)
    widget_bindings = [b for cls in widget_classes for b in _bindings(cls)]
    list_bindings = _bindings(KeyList)
    # The app's keys work on every screen but in dialogs (Textual looks no further there).
    full_screens = [c for c in screen_classes if not issubclass(c, ModalScreen)]
    every = app_bindings + widget_bindings + [b for c in full_screens for b in _bindings(c)]
    # Every place a binding id works (a dialog's keys are inherited by every dialog), with
    # the keys taken there: a new key must be free in all of them.
    owners: dict[str, list[tuple[list[Binding], set[str] | None]]] = {}

    def own(binding_id: str | None, scope: list[Binding], fields: set[str] | None) -> None:
        if binding_id:
            owners.setdefault(binding_id, []).append((scope, fields))

    for binding in app_bindings:
        own(binding.id, every, None)
    for cls in widget_classes:
        for binding in _bindings(cls):
            own(binding.id, _bindings(cls) + app_bindings, None)
    by_name = {cls.__name__: cls for cls in screen_classes}
    for binding_id, (_, screen_name) in ENTER_ACTIONS.items():
        # Enter on a list, bound where the list is made: the focused list comes first, so
        # its key would hide the screen's own.
        if screen_name is not None:
            own(binding_id, list_bindings + _bindings(by_name[screen_name]) + app_bindings, None)
    for cls in screen_classes:
        bindings = _bindings(cls)
        if issubclass(cls, ModalScreen):
            # A dialog: its own keys, and its list's when the list has the focus.
            focused_list = bool(getattr(cls, "FOCUSED_LIST", False))
            scope = bindings + (list_bindings if focused_list else [])
        else:
            scope = bindings + widget_bindings + app_bindings
        fields = getattr(cls, "TEXT_FIELDS", ())
        field_keys = _text_field_keys(fields) if fields else None
        for binding in bindings:
            # (A priority binding is looked at before the focused field.)
            own(binding.id, scope, None if binding.priority else field_keys)
    usable: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in keymap.items():
        places = owners.get(binding_id)
        if places is None:
            problems.append(f"{binding_id}: no binding has this id (the help screen lists them)")
            continue
        wanted = [key.strip() for key in keys.split(",") if key.strip()]
        unknown = [key for key in wanted if not valid_key(key)]
        if not wanted or unknown:
            problems.append(f"{binding_id} = {keys!r}: not a key ({', '.join(unknown) or 'empty'})")
            continue
        names = _split(keys)
        reserved = [key for key in names if key in RESERVED]
        if reserved:
            problems.append(f"{binding_id} = {keys!r}: {reserved[0]} is {RESERVED[reserved[0]]}")
            continue
        problem = next(
            (
                found
                for scope, field_keys in places
                if (found := _taken(binding_id, names, scope, field_keys, keymap))
            ),
            None,
        )
        if problem:
            problems.append(f"{binding_id} = {keys!r}: {problem}")
            continue
        usable[binding_id] = keys
    return usable, problems


def _taken(
    binding_id: str,
    names: list[str],
    scope: list[Binding],
    field_keys: set[str] | None,
    keymap: dict[str, str],
) -> str | None:
    """Why one of `names` cannot be `binding_id`'s where `scope` is active, or None."""
    if field_keys is not None:
        taken_by_field = [key for key in names if key in field_keys or _typed(key)]
        if taken_by_field:
            return (
                f"{taken_by_field[0]} is the text field's (typed, or moving its cursor) on "
                "that screen"
            )
    taken = {
        key: binding.id or binding.description or binding.action
        for binding in scope
        if binding.id != binding_id
        for key in _split(keymap.get(binding.id or "", binding.key))
    }
    clashes = [key for key in names if key in taken]
    return f"{clashes[0]} is already {taken[clashes[0]]}" if clashes else None
