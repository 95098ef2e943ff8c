"""A fast reader for the plain frontmatter most files have, giving what libyaml would give.

Frontmatter is nearly always top-level `key: value` lines whose values are plain or quoted
scalars, one-line flow lists (`[a, b]`) or block lists (`- item`). Reading those lines here
costs a fraction of building YAML nodes in Python. Anything else (nested mappings, block
scalars, anchors, tags, escapes, comments after values, continuation lines, tabs, unusual
characters) makes `SimpleReader.read` return None, and the caller uses the full YAML loader: this
module never decides a case it is not sure of. Scalars are resolved and built by the same
resolvers and constructors as the full loader, so `1:30`, `0x1F`, `yes` and `~` come out alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import yaml

_KEY_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_\-]*):(?: +(.*))?")
_ITEM_RE = re.compile(r"( *)- +(.*)")
_UNUSUAL_RE = re.compile(
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
"""Characters outside what libyaml reads as plain text on one line (tabs, CR, NEL, the
Unicode line and paragraph separators, a byte-order mark)."""
MAX_KEY = 1024
"""libyaml refuses a longer simple key."""
_STR = "tag:yaml.org,2002:str"
_BUILT = frozenset("tag:yaml.org,2002:" + kind for kind in ("null", "bool", "int", "float"))
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
"""Characters that cannot start a plain scalar (taken as not simple, `-5` aside)."""


class _NotSimple(Exception):
    """The text needs the full YAML loader."""


Duplicate = tuple[str, int, int, Any]
"""(key, line, line of the earlier value, earlier value), lines counted in the YAML text."""


class SimpleReader:
    """Reads simple frontmatter with the resolvers and scalar constructors of `loader`."""

    def __init__(
        self,
        resolvers: Mapping[Any, list[tuple[str, re.Pattern[str]]]],
        construct: Callable[[str, str], Any],
    ) -> None:
        self._resolvers = resolvers
        self._construct = construct
        self._patterns: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        self._keys: dict[str, bool] = {}
        """Whether a key is a plain string (most files use the same few keys)."""

    def read(self, text: str) -> tuple[dict[str, Any], list[Duplicate], dict[str, int]] | None:
        """The fields of `text`, its duplicated keys and the line each key is first on
        (counted in `text`, from 1), or None when it is not simple."""
        if not text or _UNUSUAL_RE.search(text) is not None:
            return None
        try:
            return self._read(text.split("\n"))
        except _NotSimple:
            return None

    def _read(self, lines: list[str]) -> tuple[dict[str, Any], list[Duplicate], dict[str, int]]:
        # Blank means spaces only, as YAML has it: a line of no-break or other Unicode spaces
        # is content to YAML (though `str.strip` would remove it), so it is not simple.
        fields: dict[str, Any] = {}
        key_lines: dict[str, int] = {}
        first_lines: dict[str, int] = {}
        duplicates: list[Duplicate] = []
        index, count = 0, len(lines)
        while index < count:
            line = lines[index]
            index += 1
            if not line.strip(" ") or line.startswith("#"):
                continue
            match = _KEY_RE.fullmatch(line)
            if match is None:
                raise _NotSimple
            key, rest = match.group(1), match.group(2)
            line_number = index  # 1-based: `index` already points past this line
            plain_key = self._keys.get(key)
            if plain_key is None:
                plain_key = self._keys[key] = len(key) <= MAX_KEY and self._tag(key) == _STR
            if not plain_key:
                raise _NotSimple
            value: Any
            rest = (rest or "").rstrip(" ")
            if rest:
                value = self._block_scalar(rest)
                # A value continued on indented lines (maybe after blank ones) is not simple.
                if _next_content(lines, index).startswith(" "):
                    raise _NotSimple
            else:
                items: list[Any] = []
                indent: int | None = None
                while index < count:
                    item = _ITEM_RE.fullmatch(lines[index])
                    if item is None:
                        # The list ends at the next key; anything indented or a later item
                        # (maybe after blank lines) is not simple.
                        if _next_content(lines, index).startswith((" ", "-")):
                            raise _NotSimple
                        break
                    if indent is None:
                        indent = len(item.group(1))
                    elif len(item.group(1)) != indent:
                        raise _NotSimple
                    text = item.group(2).rstrip(" ")
                    if not text:
                        raise _NotSimple
                    items.append(self._block_scalar(text))
                    index += 1
                value = items if indent is not None else None
            if key in fields:
                duplicates.append((key, line_number, key_lines[key], fields[key]))
            else:
                first_lines[key] = line_number
            fields[key] = value
            key_lines[key] = line_number
        if not fields:
            raise _NotSimple
        return fields, duplicates, first_lines

    def _tag(self, plain: str) -> str:
        """The tag YAML gives a plain scalar (the implicit resolvers, as PyYAML applies them)."""
        first = plain[0] if plain else ""
        patterns = self._patterns.get(first)
        if patterns is None:  # those for this first character, then those for any
            patterns = [*self._resolvers.get(first, []), *self._resolvers.get(None, [])]
            self._patterns[first] = patterns
        for tag, pattern in patterns:
            if pattern.match(plain):
                return tag
        return _STR

    def _plain(self, text: str) -> Any:
        tag = self._tag(text)
        if tag == _STR:
            return text
        if tag not in _BUILT:
            raise _NotSimple
        return self._construct(tag, text)

    def _block_scalar(self, text: str) -> Any:
        """A value on a key's line or a block list item (trailing spaces already gone)."""
        first = text[0]
        if first in "\"'":
            return _quoted(text)
        if first == "[":
            return self._flow_list(text)
        if first in _INDICATORS and not (first == "-" and text[1:2].isdigit()):
            raise _NotSimple
        if ": " in text or text.endswith(":") or " #" in text:
            raise _NotSimple
        return self._plain(text)

    def _flow_list(self, text: str) -> list[Any]:
        if not text.endswith("]"):
            raise _NotSimple
        inner = text[1:-1]
        if any(mark in inner for mark in "[]{}#"):
            raise _NotSimple
        items: list[Any] = []
        position, end = 0, len(inner)
        while True:
            while position < end and inner[position] == " ":
                position += 1
            if position >= end:
                break  # the end, or a trailing comma
            first = inner[position]
            if first in "\"'":
                close = inner.find(first, position + 1)
                if close < 0:
                    raise _NotSimple
                items.append(_quoted(inner[position : close + 1]))
                position = close + 1
            else:
                comma = inner.find(",", position)
                stop = end if comma < 0 else comma
                token = inner[position:stop].rstrip(" ")
                if not token or first in _INDICATORS or ":" in token or "?" in token:
                    raise _NotSimple
                items.append(self._plain(token))
                position = stop
            while position < end and inner[position] == " ":
                position += 1
            if position >= end:
                break
            if inner[position] != ",":
                raise _NotSimple
            position += 1
        return items


def _next_content(lines: list[str], index: int) -> str:
    """The first line from `index` on that is not blank ("" when there is none)."""
    while index < len(lines):
        if lines[index].strip(" "):
            return lines[index]
        index += 1
    return ""


def _quoted(text: str) -> str:
    """A quoted scalar with nothing to unescape (else not simple)."""
    quote = text[0]
    inner = text[1:-1]
    if len(text) < 2 or text[-1] != quote or quote in inner or (quote == '"' and "\\" in inner):
        raise _NotSimple
    return inner


def reader_for(loader: type[yaml.SafeLoader]) -> SimpleReader:
    """A reader resolving and building scalars exactly as `loader` does."""
    instance = loader("")

    def construct(tag: str, text: str) -> Any:
        return loader.yaml_constructors[tag](instance, yaml.ScalarNode(tag, text))

    return SimpleReader(loader.yaml_implicit_resolvers, construct)
