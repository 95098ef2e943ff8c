"""Split a markdown file into its raw parts and parse its YAML frontmatter losslessly.

The raw parts (prefix, frontmatter block, body) joined give back the file byte for byte;
parsing never raises: whatever is wrong becomes a `Problem` with a line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from kbtui.formats.checks import Code
from kbtui.formats.fastyaml import Duplicate, reader_for
from kbtui.formats.problems import Problem

BOM = "\ufeff"
_OPEN_RE = re.compile(r"---[ \t]*\r?\n")
_CLOSE_RE = re.compile(r"^---[ \t]*(?:\r?\n|\Z)", re.MULTILINE)
_KEY_LINE_RE = re.compile(r"^([A-Za-z_][\w\-]*)[ \t]*:(?:[ \t]+(.*)|[ \t]*)$")
BINARY_SNIFF = 8192


@dataclass(slots=True)
class DecodedText:
    """A file's bytes decoded to text, with how that went."""

    text: str
    encoding: str
    lossless: bool
    problems: list[Problem] = field(default_factory=list)
    binary: bool = False


def decode_bytes(data: bytes) -> DecodedText:
    """Decode file bytes: UTF-8 (BOM kept as a character), else a lossy fallback, reported."""
    wide = _wide_encoding(data)
    if wide is not None:
        return DecodedText(
            text="",
            encoding=wide.lower(),
            lossless=False,
            binary=True,
            problems=[
                Code.NOT_UTF8.problem(
                    f"{wide} text, not UTF-8: convert it to UTF-8 "
                    f"(iconv -f {wide} -t UTF-8); not indexed as text until then",
                    1,
                )
            ],
        )
    if data.find(b"\x00", 0, BINARY_SNIFF) >= 0:
        return DecodedText(
            text="",
            encoding="binary",
            lossless=False,
            binary=True,
            problems=[
                Code.BINARY_FILE.problem("binary content (NUL bytes): not indexed as text", 1)
            ],
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        text = data.decode("cp1252", errors="replace")
        return DecodedText(
            text=text,
            encoding="non-utf-8",
            lossless=False,
            problems=[
                Code.NOT_UTF8.problem(
                    f"not valid UTF-8 (byte {exc.start}); read as "
                    "Windows-1252, original bytes kept",
                    line,
                )
            ],
        )
    problems: list[Problem] = []
    if text.startswith(BOM):
        problems.append(Code.BOM.problem("file starts with a UTF-8 byte-order mark", 1))
    if "\r\n" in text:
        problems.append(Code.CRLF.problem("CRLF line endings", 1))
    return DecodedText(text=text, encoding="utf-8", lossless=True, problems=problems)


_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def _wide_encoding(data: bytes) -> str | None:
    """ "UTF-16" or "UTF-32" for text in those encodings (NUL bytes, which would make it
    look binary): by its byte-order mark, else by NULs at every other byte (UTF-16 of
    mostly ASCII text, as Windows editors save it)."""
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            return name
    sample = data[: BINARY_SNIFF - BINARY_SNIFF % 4]
    half = len(sample) // 2
    if half < 2 or sample.count(0) < half // 2:
        return None
    if max(sample[0::2].count(0), sample[1::2].count(0)) >= 0.9 * half:
        return "UTF-16"
    return None


@dataclass(slots=True)
class SplitText:
    """The raw parts of a markdown text: `prefix + frontmatter + body == text`."""

    prefix: str
    frontmatter: str
    body: str
    has_frontmatter: bool
    closed: bool
    yaml_text: str
    yaml_first_line: int
    body_first_line: int


def split_frontmatter(text: str) -> SplitText:
    """Find the `---` frontmatter block at the top of `text`, if any."""
    prefix = BOM if text.startswith(BOM) else ""
    rest = text[len(prefix) :]
    opening = _OPEN_RE.match(rest)
    if opening is None:
        return SplitText(prefix, "", rest, False, False, "", 0, 1)
    closing = _CLOSE_RE.search(rest, opening.end())
    if closing is None:
        # Unclosed: the whole text stays body so nothing is lost; YAML is attempted on it all.
        return SplitText(prefix, "", rest, True, False, rest[opening.end() :], 2, 1)
    block = rest[: closing.end()]
    yaml_text = rest[opening.end() : closing.start()]
    return SplitText(
        prefix=prefix,
        frontmatter=block,
        body=rest[closing.end() :],
        has_frontmatter=True,
        closed=True,
        yaml_text=yaml_text,
        yaml_first_line=2,
        body_first_line=block.count("\n") + 1,
    )


MAX_INT_BITS = 4000 * 3
"""Longer integers (past about 3,600 decimal digits) keep their text: Python refuses to turn
an integer of more than 4,300 digits into text, so JSON could not store it."""

_BaseLoader: type[yaml.SafeLoader]
try:
    _BaseLoader = yaml.CSafeLoader  # type: ignore[assignment]  # no SafeLoader in the stubs
except AttributeError:  # pragma: no cover - libyaml missing
    _BaseLoader = yaml.SafeLoader


class _KBLoader(_BaseLoader):  # type: ignore[misc,valid-type]  # mypy takes no variable as a base
    """Safe loader keeping dates as written and recording duplicate keys."""

    duplicates: list[Duplicate]

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)  # merge keys (`<<: *base`) as PyYAML does
        seen: dict[Any, Any] = {}
        lines: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                key = str(key)
            line = key_node.start_mark.line + 1
            if key in seen:
                self.duplicates.append((str(key), line, lines[key], seen[key]))
            value = self.construct_object(value_node, deep=deep)
            seen[key] = value
            lines[key] = line
        return seen


_KBLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
_KBLoader.add_constructor("tag:yaml.org,2002:map", _KBLoader.construct_mapping)


def _scalar_or_text(kind: str) -> Any:
    """A constructor for `kind` that keeps the written text when the value cannot be built
    (a 5,000-digit number, `!!int abc`, `!!int ""`, `!!bool maybe`): never an exception."""
    base = getattr(yaml.constructor.SafeConstructor, f"construct_yaml_{kind}")

    def construct(loader: _KBLoader, node: Any) -> Any:
        try:
            value = base(loader, node)
        except Exception:  # PyYAML's scalar constructors fail in many ways on odd text
            return str(node.value)
        if isinstance(value, int) and abs(value).bit_length() > MAX_INT_BITS:
            return str(node.value)  # `0x` and 5,000 digits: Python could not write it back
        return value

    return construct


for _kind in ("int", "float", "bool", "binary"):
    _KBLoader.add_constructor(f"tag:yaml.org,2002:{_kind}", _scalar_or_text(_kind))
# Dates stay the strings that were written, even when tagged explicitly.
_KBLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: str(node.value))


@dataclass(slots=True)
class ParsedYaml:
    """Fields parsed from frontmatter, with earlier values of duplicated keys and problems."""

    fields: dict[str, Any]
    ok: bool
    problems: list[Problem] = field(default_factory=list)
    shadowed: list[tuple[str, int, Any]] = field(default_factory=list)
    recovered: bool = False
    field_lines: dict[str, int] | None = None
    """The line each top-level key is first on, when the reader already knows them."""


MAX_VALUES = 100_000
"""Values a file's frontmatter may hold once its YAML aliases are expanded: a few hundred
bytes of nested aliases ("billion laughs") expand to billions, which would take the memory
of the machine (a real frontmatter holds hundreds)."""


class TooManyValues(ValueError):
    """The frontmatter expands to more than `MAX_VALUES` values."""


def _jsonable(value: Any, budget: list[int] | None = None) -> Any:
    """Make a YAML value JSON-safe without losing its text (at most `MAX_VALUES` values)."""
    if budget is None:
        budget = [MAX_VALUES]
    budget[0] -= 1
    if budget[0] < 0:
        raise TooManyValues
    if isinstance(value, dict):
        return {str(k): _jsonable(v, budget) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v, budget) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


_SIMPLE = reader_for(_KBLoader)


def parse_yaml(yaml_text: str, first_line: int) -> ParsedYaml:
    """Parse frontmatter YAML: dates stay strings; duplicates and errors become problems."""
    simple = _SIMPLE.read(yaml_text)
    if simple is not None:  # plain `key: value` lines, read without building YAML nodes
        fields, duplicates, lines = simple
        return ParsedYaml(
            fields,
            True,
            *_duplicates(duplicates, first_line),
            field_lines={key: first_line + line - 1 for key, line in lines.items()},
        )
    loader = _KBLoader(yaml_text)
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first_line + mark.line if mark is not None else first_line
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        fields, recovery_problems = recover_fields(yaml_text, first_line)
        problem = Code.MALFORMED_FRONTMATTER.problem(
            f"frontmatter YAML does not parse: {reason}", line
        )
        return ParsedYaml(fields, False, [problem, *recovery_problems], recovered=True)
    except RecursionError:
        return ParsedYaml(
            {},
            False,
            [Code.MALFORMED_FRONTMATTER.problem("frontmatter nests too deeply", first_line)],
        )
    except Exception as exc:  # any other failure of the YAML library is this file's problem
        fields, recovery_problems = recover_fields(yaml_text, first_line)
        problem = Code.MALFORMED_FRONTMATTER.problem(
            f"frontmatter YAML has a value that cannot be read: {str(exc)[:200]}", first_line
        )
        return ParsedYaml(fields, False, [problem, *recovery_problems], recovered=True)
    finally:
        loader.dispose()
    try:
        problems, shadowed = _duplicates(loader.duplicates, first_line)
        fields = _jsonable(data)
    except TooManyValues:
        problem = Code.MALFORMED_FRONTMATTER.problem(
            f"frontmatter YAML expands to over {MAX_VALUES:,} values through its aliases "
            "(nested & and * references); not read",
            first_line,
        )
        return ParsedYaml({}, False, [problem])
    except RecursionError:
        problem = Code.MALFORMED_FRONTMATTER.problem(
            "frontmatter refers to itself (a recursive alias) or nests too deeply", first_line
        )
        return ParsedYaml({}, False, [problem])
    if data is None:
        return ParsedYaml({}, True, problems, shadowed)
    if not isinstance(data, dict):
        problems.append(
            Code.FRONTMATTER_NOT_MAPPING.problem(
                f"frontmatter is a {type(data).__name__}, not a mapping of fields", first_line
            )
        )
        return ParsedYaml({}, False, problems, shadowed)
    return ParsedYaml(fields, True, problems, shadowed)


def _duplicates(
    duplicates: list[Duplicate], first_line: int
) -> tuple[list[Problem], list[tuple[str, int, Any]]]:
    """The problems of duplicated keys, and the values the last ones shadow."""
    shadowed = [(k, first_line + old - 1, _jsonable(v)) for k, _, old, v in duplicates]
    problems = [
        Code.DUPLICATE_KEY.problem(
            f"duplicate key '{key}' (first on line "
            f"{first_line + earlier - 1}): the last value wins",
            first_line + line - 1,
            key,
        )
        for key, line, earlier, _ in duplicates
    ]
    return problems, shadowed


def recover_fields(yaml_text: str, first_line: int) -> tuple[dict[str, Any], list[Problem]]:
    """Recover what top-level `key: value` lines can be read one by one from broken YAML."""
    fields: dict[str, Any] = {}
    lines = yaml_text.splitlines()
    index = 0
    while index < len(lines):
        match = _KEY_LINE_RE.match(lines[index])
        index += 1
        if match is None:
            continue
        key, value = match.group(1), match.group(2)
        if key in fields:
            continue
        if value is None or value.strip() in ("", "|", ">", "|-", ">-"):
            block: list[str] = [lines[index - 1]]
            while index < len(lines) and (
                lines[index].startswith((" ", "\t", "- ")) or not lines[index].strip()
            ):
                block.append(lines[index])
                index += 1
            fields[key] = _load_fragment("\n".join(block), key)
        else:
            fields[key] = _load_fragment(lines[index - 1], key)
    problems = []
    if fields:
        problems.append(
            Code.RECOVERED_FIELDS.problem(
                f"{len(fields)} field(s) recovered line by line: " + ", ".join(sorted(fields)),
                first_line,
            )
        )
    return fields, problems


def _load_fragment(fragment: str, key: str) -> Any:
    loader = _KBLoader(fragment)
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    except Exception:  # whatever the YAML library makes of the line, its text is kept
        value = fragment.split(":", 1)[1].strip() if ":" in fragment else fragment
        return value
    finally:
        loader.dispose()
    if isinstance(data, dict) and key in data:
        try:
            return _jsonable(data[key])
        except (TooManyValues, RecursionError):
            return fragment.split(":", 1)[1].strip() if ":" in fragment else fragment
    return None
