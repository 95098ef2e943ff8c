"""Edit a file's frontmatter in place, changing only the lines an edit is about.

Everything else (key order, quoting, odd spacing, comments, the body, a missing trailing
newline) stays byte-identical. Values keep the style the file already uses: a quoted scalar
stays quoted, a flow list `[a, b]` grows as a flow list, a block list as a block list with
the same indentation and quoting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kbtui.formats.frontmatter import split_frontmatter

_KEY_RE = re.compile(r"^([A-Za-z_][\w\-]*)[ \t]*:(.*)$")
_PLAIN_SAFE_RE = re.compile(r"^[A-Za-z0-9][\w .,()'’%+\-—–/]*$")
_FLOW_UNSAFE = set(",[]{}#")


class EditError(ValueError):
    """The frontmatter cannot be edited safely; the message says why."""


@dataclass(slots=True)
class _Block:
    """The frontmatter of a text split into lines (each keeping its own line ending)."""

    head: str
    lines: list[str]
    tail: str
    newline: str


def _block(text: str) -> _Block:
    split = split_frontmatter(text)
    if not split.has_frontmatter or not split.closed:
        raise EditError("the file has no closed frontmatter to edit")
    block = split.frontmatter
    first_end = block.index("\n") + 1
    closing_start = block.rstrip("\r\n").rfind("\n") + 1
    inner = block[first_end:closing_start]
    newline = "\r\n" if block[:first_end].endswith("\r\n") else "\n"
    return _Block(
        head=split.prefix + block[:first_end],
        lines=inner.splitlines(keepends=True),
        tail=block[closing_start:] + split.body,
        newline=newline,
    )


def _join(block: _Block) -> str:
    return block.head + "".join(block.lines) + block.tail


def _find(block: _Block, key: str) -> tuple[int, int] | None:
    """Line span [start, end) of a top-level key and its indented continuation."""
    start = None
    for index, line in enumerate(block.lines):
        match = _KEY_RE.match(line.rstrip("\r\n"))
        if start is None:
            if match and match.group(1) == key:
                start = index
            continue
        if line.strip() and not line.startswith((" ", "\t", "-")):
            return start, index
        if line.startswith("-") and not line.startswith("- ") and line.strip() != "-":
            return start, index
    return None if start is None else (start, len(block.lines))


def _line_ending(line: str, default: str) -> str:
    if line.endswith("\r\n"):
        return "\r\n"
    if line.endswith("\n"):
        return "\n"
    return default


def _double_quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _scalar(value: str, style: str) -> str:
    """`value` written in the style the file uses (`"`, `'` or plain when that is safe)."""
    if style == "'" and "\n" not in value:
        return "'" + value.replace("'", "''") + "'"
    if style == "" and _PLAIN_SAFE_RE.match(value) and ": " not in value:
        return value
    return _double_quoted(value)


def _style_of(raw: str) -> str:
    raw = raw.strip()
    if raw.startswith('"'):
        return '"'
    if raw.startswith("'"):
        return "'"
    return ""


def set_scalar(text: str, key: str, value: str) -> str:
    """Set a top-level `key: value`, replacing only its line(s), or adding it at the end."""
    block = _block(text)
    span = _find(block, key)
    if span is None:
        last = block.lines[-1] if block.lines else ""
        if last and not last.endswith("\n"):
            block.lines[-1] = last + block.newline
        block.lines.append(f"{key}: {_scalar(value, '')}{block.newline}")
        return _join(block)
    start, end = span
    line = block.lines[start]
    ending = _line_ending(line, block.newline)
    match = _KEY_RE.match(line.rstrip("\r\n"))
    assert match is not None
    old = match.group(2)
    comment = ""
    if _style_of(old) == "" and " #" in old:
        value_part, _, rest = old.partition(" #")
        comment = value_part[len(value_part.rstrip()) :] + " #" + rest
        old = value_part.rstrip()
    if old.strip() == _scalar(value, _style_of(old)) and end == start + 1:
        return text
    prefix = line[: line.index(":") + 1]
    spacing = old[: len(old) - len(old.lstrip())] or " "
    block.lines[start:end] = [f"{prefix}{spacing}{_scalar(value, _style_of(old))}{comment}{ending}"]
    return _join(block)


def _items_style(lines: list[str]) -> tuple[str, str]:
    """(indent, quote style) of an existing block list's items."""
    for line in lines:
        stripped = line.lstrip(" \t")
        if stripped.startswith("- ") or stripped.rstrip("\r\n") == "-":
            indent = line[: len(line) - len(stripped)]
            return indent, _style_of(stripped[2:])
    return "  ", '"'


def add_to_list(text: str, key: str, items: list[str]) -> str:
    """Append `items` to a top-level list, keeping its flow or block style and quoting."""
    block = _block(text)
    span = _find(block, key)
    new = [item for item in items if item]
    if not new:
        return text
    if span is None:
        last = block.lines[-1] if block.lines else ""
        if last and not last.endswith("\n"):
            block.lines[-1] = last + block.newline
        block.lines.append(f"{key}:{block.newline}")
        block.lines += [f"  - {_double_quoted(item)}{block.newline}" for item in new]
        return _join(block)
    start, end = span
    line = block.lines[start]
    ending = _line_ending(line, block.newline)
    match = _KEY_RE.match(line.rstrip("\r\n"))
    assert match is not None
    inline = match.group(2).strip()
    prefix = line[: line.index(":") + 1]
    if inline.startswith("[") and inline.endswith("]") and end == start + 1:
        body = inline[1:-1].strip()
        style = _style_of(body) if body else '"'
        rendered = [
            _double_quoted(item)
            if style == "" and (_FLOW_UNSAFE & set(item))
            else _scalar(item, style)
            for item in new
        ]
        joined = ", ".join([body, *rendered] if body else rendered)
        spacing = match.group(2)[: len(match.group(2)) - len(match.group(2).lstrip())] or " "
        block.lines[start] = f"{prefix}{spacing}[{joined}]{ending}"
        return _join(block)
    if inline in ("", "|", ">") or inline.startswith("#"):
        continuation = block.lines[start + 1 : end]
        if (
            inline == ""
            and continuation
            and all(not c.strip() or c.lstrip(" \t").startswith("-") for c in continuation)
        ):
            indent, style = _items_style(continuation)
            last_item = max(i for i in range(start + 1, end) if block.lines[i].strip())
            if not block.lines[last_item].endswith("\n"):
                block.lines[last_item] += ending
            block.lines[last_item + 1 : last_item + 1] = [
                f"{indent}- {_scalar(item, style)}{ending}" for item in new
            ]
            return _join(block)
        if inline == "" and not continuation:
            block.lines[start + 1 : start + 1] = [
                f"  - {_double_quoted(item)}{ending}" for item in new
            ]
            return _join(block)
    # A scalar (`0`, `none`, a single title): the list replaces it, kept items first.
    kept = (
        []
        if inline.strip("'\"").lower() in ("", "0", "none", "null", "[]", "~")
        else [inline.strip().strip("'\"")]
    )
    block.lines[start:end] = [f"{prefix}{ending}"] + [
        f"  - {_double_quoted(item)}{ending}" for item in [*kept, *new]
    ]
    return _join(block)
