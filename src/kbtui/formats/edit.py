"""Edit a file's frontmatter in place, changing only the lines an edit is about.

Everything else (key order, quoting, odd spacing, comments, the body, a missing trailing
newline) stays byte-identical. Values keep the style the file already uses: a quoted scalar
stays quoted, a flow list `[a, b]` grows as a flow list, a block list as a block list with
the same indentation and quoting.

Only shapes known to be safe are edited: a top-level `key:` written plainly in a block
mapping, a one-line flow list, a block list of one-line `- item` scalars. Anything else
raises `EditError`, and every edit is checked by parsing the result: the edited key must read
back as exactly the value written and every other field as it was, or `EditError` is raised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from kbtui.formats.errors import KbtuiError
from kbtui.formats.frontmatter import parse_yaml, split_frontmatter
from kbtui.formats.kinds import EMPTY_MARKERS, ENTRY_NAME_KEYS

_KEY_RE = re.compile(r"^([A-Za-z_][\w\-]*)[ \t]*:(.*)$")
_ITEM_RE = re.compile(r"^([ ]*)- (.*)$")
_DOCUMENT_END_RE = re.compile(r"^\.\.\.(?:[ \t]+(?:#.*)?)?\r?\n?$")
_PLAIN_SAFE_RE = re.compile(r"^[A-Za-z0-9][\w .,()'’%+\-—–/]*$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FLOW_UNSAFE = set(",[]{}#")
# Characters YAML reads as they are; anything else is written as an escape.
_PRINTABLE_RE = re.compile("[\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\0": "\\0",
    "\x07": "\\a",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\x0b": "\\v",
    "\x0c": "\\f",
    "\r": "\\r",
    "\x1b": "\\e",
    "\x85": "\\N",
    "\u2028": "\\L",
    "\u2029": "\\P",
}
_MISSING = object()


class EditError(KbtuiError, ValueError):
    """The frontmatter cannot be edited safely; the message says why."""


@dataclass(slots=True)
class _Block:
    """The frontmatter of a text split into lines (each keeping its own line ending)."""

    head: str
    lines: list[str]
    tail: str
    newline: str


@dataclass(slots=True)
class _Parsed:
    """The fields of the frontmatter before an edit, and the keys written twice."""

    fields: dict[str, Any]
    duplicated: set[str]


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
        lines=_lines_kept(inner),
        tail=block[closing_start:] + split.body,
        newline=newline,
    )


def _lines_kept(text: str) -> list[str]:
    """The lines of `text` with their endings, broken at `\n` only: the line an edit replaces
    ends as it did. (YAML also breaks lines at a lone `\r`, U+2028 and the like; a file using
    them is refused by the read-back check rather than changed beside the edit.)"""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def _join(block: _Block) -> str:
    return block.head + "".join(block.lines) + block.tail


def _parse(yaml_text: str) -> _Parsed | None:
    parsed = parse_yaml(yaml_text, 2)
    if not parsed.ok:
        return None
    return _Parsed(parsed.fields, {str(key) for key, _, _ in parsed.shadowed})


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


def _locate(block: _Block, key: str) -> tuple[_Parsed, tuple[int, int] | None]:
    """The fields before the edit and the span of `key`; `EditError` if it cannot be edited."""
    before = _parse("".join(block.lines))
    if before is None:
        raise EditError("the frontmatter does not parse as YAML")
    significant = [
        line for line in block.lines if line.strip() and not line.lstrip().startswith("#")
    ]
    if significant and not _KEY_RE.match(significant[0].rstrip("\r\n")):
        raise EditError("the frontmatter is not a plain block of `key: value` lines")
    if key in before.duplicated:
        raise EditError(f"'{key}' is written more than once")
    span = _find(block, key)
    if span is None and key in before.fields:
        raise EditError(f"'{key}' is written in a form kbtui does not edit (a quoted key?)")
    return before, span


def _verify(text: str, out: str, key: str, expected: Any, before: _Parsed) -> str:
    """`out`, once its frontmatter is shown to read back as `before` with `key` = `expected`."""
    old, new = split_frontmatter(text), split_frontmatter(out)
    after = _parse(new.yaml_text) if new.closed else None
    problem = (
        after is None
        or (new.prefix, new.body) != (old.prefix, old.body)
        or after.duplicated != before.duplicated
        or after.fields.get(key, _MISSING) != expected
        or {k: v for k, v in after.fields.items() if k != key}
        != {k: v for k, v in before.fields.items() if k != key}
    )
    if problem:
        raise EditError(f"the edit of '{key}' would not read back as written")
    return out


def _line_ending(line: str, default: str) -> str:
    if line.endswith("\r\n"):
        return "\r\n"
    if line.endswith("\n"):
        return "\n"
    return default


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if _PRINTABLE_RE.match(char):
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02X}"
    if code <= 0xFFFF:
        return f"\\u{code:04X}"
    return f"\\U{code:08X}"


def double_quoted(value: str) -> str:
    """`value` as a YAML double-quoted scalar that reads back identical: quotes, backslashes,
    line breaks and characters YAML cannot hold raw (controls, for one) escaped."""
    return '"' + "".join(_escape(char) for char in value) + '"'


def _plain_ok(value: str) -> bool:
    """Whether `value` written bare reads back as the same string."""
    if not _PLAIN_SAFE_RE.match(value) or value != value.strip() or "\n" in value:
        return False
    if ": " in value or " #" in value:
        return False
    if _DATE_RE.match(value):
        return True  # dates stay the text written (the KB reads them so)
    try:
        return bool(yaml.safe_load(value) == value)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError):
        return False


def _scalar(value: str, style: str) -> str:
    """`value` written in the style the file uses (`"`, `'` or plain when that is safe)."""
    if style == "'" and all(_PRINTABLE_RE.match(char) for char in value):
        return "'" + value.replace("'", "''") + "'"
    if style == "" and _plain_ok(value):
        return value
    return double_quoted(value)


def _style_of(raw: str) -> str:
    raw = raw.strip()
    if raw.startswith('"'):
        return '"'
    if raw.startswith("'"):
        return "'"
    return ""


def _quoted_end(value: str) -> int | None:
    """Where the quoted scalar opening `value` ends (just past its closing quote), or None
    when it goes on over the next lines: `\\` escapes in double quotes, `''` in single ones."""
    quote = value[0]
    escape = "\\" if quote == '"' else "''"
    index = 1
    while index < len(value):
        if value.startswith(escape, index):
            index += 2
        elif value[index] == quote:
            return index + 1
        else:
            index += 1
    return None


def _split_comment(raw: str) -> tuple[str, str]:
    """`raw` (what follows `key:`) as (value, what follows it on the line: a comment)."""
    value = raw.lstrip()
    lead = raw[: len(raw) - len(value)]
    end = len(value)
    if value[:1] in ("'", '"'):
        closed = _quoted_end(value)
        if closed is None:
            return raw, ""  # the quoted value goes on over the next lines
        end = closed
    elif value.startswith("#"):
        end = 0
    else:
        match = re.search(r"[ \t]#", value)
        end = match.start() if match else len(value)
        end = len(value[:end].rstrip())
    rest = value[end:]
    if rest.strip() and not rest.lstrip().startswith("#"):
        raise EditError("a value is followed by more text than a comment")
    return lead + value[:end], rest


def _is_note(line: str) -> bool:
    """A blank or comment-only line."""
    return not line.strip() or line.lstrip().startswith("#")


def _insert_after(block: _Block, index: int, ending: str, lines: list[str]) -> None:
    """Insert `lines` after line `index`, each ending as that line does (`ending` if it has
    no line break, which it then gets)."""
    line_ending = _line_ending(block.lines[index], ending)
    if not block.lines[index].endswith("\n"):
        block.lines[index] += line_ending
    block.lines[index + 1 : index + 1] = [line + line_ending for line in lines]


def _add_lines(block: _Block, lines: list[str]) -> None:
    """Add lines for a new key at the end of the YAML: before a closing `...` (the document
    end marker, after which YAML reads nothing), else after the last line."""
    content = [i for i, line in enumerate(block.lines) if line.strip()]
    if content and _DOCUMENT_END_RE.match(block.lines[content[-1]]):
        block.lines[content[-1] : content[-1]] = lines
        return
    last = block.lines[-1] if block.lines else ""
    if last and not last.endswith("\n"):
        block.lines[-1] = last + block.newline
    block.lines += lines


def set_scalar(text: str, key: str, value: str, new_style: str = "") -> str:
    """Set a top-level `key: value`, replacing only its line(s), or adding it at the end
    (written plain when that is safe, or in quotes when `new_style` is `"`)."""
    block = _block(text)
    before, span = _locate(block, key)
    if span is None:
        _add_lines(block, [f"{key}: {_scalar(value, new_style)}{block.newline}"])
        return _verify(text, _join(block), key, value, before)
    if before.fields.get(key, _MISSING) == value:
        return text
    start, end = span
    line = block.lines[start]
    ending = _line_ending(line, block.newline)
    match = _KEY_RE.match(line.rstrip("\r\n"))
    assert match is not None
    old, comment = _split_comment(match.group(2))
    prefix = line[: line.index(":") + 1]
    spacing = old[: len(old) - len(old.lstrip())] or " "
    if comment and not comment[:1].isspace():
        comment = " " + comment
    kept = [extra for extra in block.lines[start + 1 : end] if _is_note(extra)]
    literal = _literal(value, ending) if "\n" in value else None
    if literal is not None:
        # A text of several lines stays readable: a literal block (`|`), as the KB writes
        # its longer notes. Blank lines inside the old block were its text, not notes.
        head, *lines = literal
        if old.lstrip()[:1] in ("|", ">"):
            kept = [extra for extra in kept if extra.strip()]
        new_lines = [f"{prefix}{spacing}{head}{comment}{ending}", *lines]
        block.lines[start:end] = [*new_lines, *kept]
        return _verify(text, _join(block), key, value, before)
    new_line = f"{prefix}{spacing}{_scalar(value, _style_of(old))}{comment}{ending}"
    block.lines[start:end] = [new_line, *kept]
    return _verify(text, _join(block), key, value, before)


def _literal(value: str, ending: str, indent: str = "  ") -> list[str] | None:
    """`value` as a literal block: its indicator (`|`, `|-` or `|+`, by how many line
    breaks end it), then its lines; None when a block cannot hold it as it is (a first line
    starting with a space, characters YAML cannot hold raw, a lone carriage return)."""
    body = value.rstrip("\n")
    if not body or body[0] in " \t" or "\r" in value:
        return None
    if not all(char == "\t" or _PRINTABLE_RE.match(char) for char in body.replace("\n", "")):
        return None
    breaks = len(value) - len(body)
    indicator = "|-" if breaks == 0 else "|" if breaks == 1 else "|+"
    lines = [f"{indent}{line}{ending}" if line else ending for line in body.split("\n")]
    lines += [ending] * max(0, breaks - 1)
    return [indicator, *lines]


def _items_style(lines: list[str]) -> tuple[str, str]:
    """(indent, quote style) of an existing block list's items."""
    for line in lines:
        match = _ITEM_RE.match(line.rstrip("\r\n"))
        if match:
            return match.group(1), _style_of(match.group(2))
    return "  ", '"'


def _simple_item(text: str) -> bool:
    """Whether a block list item is a whole one-line scalar (not a mapping, nor wrapped)."""
    if not text.strip() or text.lstrip()[:1] in "|>[{?:-#&*!%@`":
        return False
    try:
        loaded = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError):
        return False
    return not isinstance(loaded, dict | list)


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, int) and not isinstance(value, bool):
        return value == 0
    return isinstance(value, str) and value.strip().lower() in EMPTY_MARKERS


def _entry_name_key(value: Any) -> str | None:
    """The key every entry of a list of mappings names its claim by (as some sources record
    their enrichments, each with its contribution), or None for any other value."""
    if not isinstance(value, list) or not value:
        return None
    for name in ENTRY_NAME_KEYS:
        if all(isinstance(entry, dict) and name in entry for entry in value):
            return name
    return None


def add_to_list(text: str, key: str, items: list[str]) -> str:
    """Append `items` to a top-level list, keeping its flow or block style and quoting."""
    new = [item for item in items if item]
    if not new:
        return text
    block = _block(text)
    before, span = _locate(block, key)
    if span is None:
        _add_lines(
            block,
            [f"{key}:{block.newline}"]
            + [f"  - {double_quoted(item)}{block.newline}" for item in new],
        )
        return _verify(text, _join(block), key, new, before)
    current = before.fields.get(key)
    start, end = span
    line = block.lines[start]
    ending = _line_ending(line, block.newline)
    match = _KEY_RE.match(line.rstrip("\r\n"))
    assert match is not None
    inline = match.group(2).strip()
    prefix = line[: line.index(":") + 1]
    filled = [i for i in range(start + 1, end) if block.lines[i].strip()]
    if inline.startswith("[") and inline.endswith("]") and not filled:
        if not isinstance(current, list):
            raise EditError(f"'{key}' is not a list kbtui can grow")
        body = inline[1:-1].strip()
        style = _style_of(body) if body else '"'
        rendered = [
            double_quoted(item)
            if style == "" and (_FLOW_UNSAFE & set(item))
            else _scalar(item, style)
            for item in new
        ]
        joined = ", ".join([body, *rendered] if body else rendered)
        spacing = match.group(2)[: len(match.group(2)) - len(match.group(2).lstrip())] or " "
        block.lines[start] = f"{prefix}{spacing}[{joined}]{ending}"
        return _verify(text, _join(block), key, [*current, *new], before)
    name_key = _entry_name_key(current) if inline == "" and filled else None
    if name_key is not None:
        # Entries written as mappings (`- target: "title"` and maybe more keys): a new one
        # takes the same shape (its name only), after the last line of the last entry.
        first = _ITEM_RE.match(block.lines[filled[0]].rstrip("\r\n"))
        if first is None:
            raise EditError(f"'{key}' is a list of entries kbtui does not recognise")
        _insert_after(
            block,
            filled[-1],
            ending,
            [f"{first.group(1)}- {name_key}: {double_quoted(item)}" for item in new],
        )
        assert isinstance(current, list)
        entries = [*current, *({name_key: item} for item in new)]
        return _verify(text, _join(block), key, entries, before)
    if inline == "" and filled:
        matches = [_ITEM_RE.match(block.lines[i].rstrip("\r\n")) for i in filled]
        indents = {m.group(1) for m in matches if m}
        if (
            not isinstance(current, list)
            or len(indents) != 1
            or not all(m and _simple_item(m.group(2)) for m in matches)
        ):
            raise EditError(
                f"'{key}' is not a plain list of one-line items (a comment, a mapping or "
                "a wrapped item): not rewritten"
            )
        indent, style = _items_style([block.lines[i] for i in filled])
        _insert_after(
            block, filled[-1], ending, [f"{indent}- {_scalar(item, style)}" for item in new]
        )
        return _verify(text, _join(block), key, [*current, *new], before)
    if filled or inline.startswith(("#", "|", ">", "[", "{", "&", "*", "!")):
        raise EditError(f"'{key}' is written in a shape kbtui does not rewrite")
    _, comment = _split_comment(match.group(2))
    if comment.strip():
        raise EditError(f"'{key}' has a comment kbtui would lose")
    if inline == "":
        block.lines[start + 1 : start + 1] = [f"  - {double_quoted(item)}{ending}" for item in new]
        return _verify(text, _join(block), key, new, before)
    # A scalar (`0`, `none`, a single title): the list replaces it, a kept title first.
    if _is_empty(current):
        kept: list[str] = []
    elif isinstance(current, str) and "\n" not in current:
        kept = [current]
    else:
        raise EditError(f"'{key}' holds a value kbtui cannot turn into a list")
    block.lines[start] = f"{prefix}{ending}"
    block.lines[start + 1 : start + 1] = [
        f"  - {double_quoted(item)}{ending}" for item in [*kept, *new]
    ]
    return _verify(text, _join(block), key, [*kept, *new], before)


@dataclass(frozen=True, slots=True)
class Collapsed:
    """An earlier occurrence of a key written twice, which a collapse removes."""

    key: str
    line: int
    """Its first line in the file (1-based)."""
    text: str
    """The lines removed, as written."""
    same: bool
    """Its value is the one kept (the last occurrence's, which every YAML reader uses)."""


def _spans(block: _Block) -> list[tuple[str, int, int]]:
    """Every top-level key with its line span [start, end), in order."""
    found: list[tuple[str, int, int]] = []
    for index, line in enumerate(block.lines):
        match = _KEY_RE.match(line.rstrip("\r\n"))
        if match and not line[:1].isspace():
            if found:
                key, start, _ = found[-1]
                found[-1] = (key, start, index)
            found.append((match.group(1), index, len(block.lines)))
    return found


def collapse_duplicate_keys(text: str) -> tuple[str, list[Collapsed]]:
    """`text` with each key written more than once kept only where it is last written (the
    value every YAML reader already takes), and what was removed. Every field reads back as
    before, or `EditError`; nothing else changes."""
    block = _block(text)
    before = _parse("".join(block.lines))
    if before is None:
        raise EditError("the frontmatter does not parse as YAML")
    if not before.duplicated:
        return text, []
    first_line = block.head.count("\n") + 1
    spans = _spans(block)
    last = {key: start for key, start, _ in spans}
    removed: list[Collapsed] = []
    drop: set[int] = set()
    for key, start, end in spans:
        if key not in before.duplicated or start == last[key]:
            continue
        # Comment and blank lines at its end belong to what follows, and stay.
        while end > start + 1 and _is_note(block.lines[end - 1]):
            end -= 1
        lines = block.lines[start:end]
        value = _parse("".join(lines))
        same = value is not None and value.fields.get(key, _MISSING) == before.fields.get(key)
        removed.append(Collapsed(key, first_line + start, "".join(lines), same))
        drop.update(range(start, end))
    missing = before.duplicated - {c.key for c in removed}
    if missing:
        raise EditError(f"'{sorted(missing)[0]}' is written twice in a form kbtui does not edit")
    block.lines = [line for index, line in enumerate(block.lines) if index not in drop]
    out = _join(block)
    old, new = split_frontmatter(text), split_frontmatter(out)
    after = _parse(new.yaml_text) if new.closed else None
    if (
        after is None
        or after.duplicated
        or after.fields != before.fields
        or (new.prefix, new.body) != (old.prefix, old.body)
    ):
        raise EditError("removing the earlier copies would not read back as the file reads now")
    return out, removed
