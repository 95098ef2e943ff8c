"""Turn one file's bytes into a `Document`: raw parts, fields, model, handoff, links, problems.

Pure: takes a KB-relative path and the file's bytes, touches nothing else. Problems that need
the rest of the KB (unresolved links, dangling provenance) are found by the indexer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from kbtui.formats.checks import Code
from kbtui.formats.frontmatter import decode_bytes, parse_yaml, split_frontmatter
from kbtui.formats.handoff import Handoff, parse_handoff
from kbtui.formats.kinds import EMPTY_MARKERS, ENTRY_NAME_KEYS
from kbtui.formats.links import WikiLink, bare_title_link, find_links
from kbtui.formats.models import model_values
from kbtui.formats.problems import Problem
from kbtui.formats.profile import Schema, active

ARCHIVE = "inbox/archive/"
"""Where sources are archived: every file there is a source, whatever its `type:` says."""

PARSER_VERSION = "13"
"""Changes whenever parsing the same bytes gives a different document (a fixed bug, a new
field): an index made by another version reads every file again on its next run. The
profile in force counts too (`parser_version`)."""


def parser_version(schema: Schema | None = None) -> str:
    """What read the indexed files: this parser and the profile it followed."""
    return f"{PARSER_VERSION}+{(schema or active()).digest}"


LARGE_FILE_BYTES = 100_000
LONG_LINE_CHARS = 10_000
_DATE_PREFIX_RE = re.compile(r"^\d{4}-\d{2}-\d{2}-")
_H1_RE = re.compile(r"^#[ \t]+(\S.*)$", re.MULTILINE)
_TOP_KEY_RE = re.compile(r"^([^\s#:\-][^:\n]*):(?=[ \t]|$)", re.MULTILINE)


@dataclass(slots=True)
class Document:
    """Everything kbtui knows about one file, before the rest of the KB is consulted."""

    path: str
    kind: str
    type: str | None
    title: str
    stem: str
    folder: str
    domain: str | None
    size: int
    encoding: str
    lossless: bool
    prefix: str
    raw_frontmatter: str
    raw_body: str
    has_frontmatter: bool
    fields: dict[str, Any]
    values: dict[str, Any] | None
    """What the typed model (`formats.models`) of a source, claim or divergence holds."""
    field_lines: dict[str, int]
    shadowed: list[tuple[str, int, Any]]
    handoff: Handoff | None
    links: list[WikiLink]
    problems: list[Problem] = field(default_factory=list)

    @property
    def status(self) -> str | None:
        name = active().kind_spec(self.kind).status
        return _text(self.fields.get(name)) if name else None

    @property
    def description(self) -> str:
        return _text(self.fields.get("description")) or ""

    def model_value(self, name: str) -> Any:
        return self.values.get(name) if self.values is not None else None

    def raw_text(self) -> str:
        return self.prefix + self.raw_frontmatter + self.raw_body


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def _field_lines(yaml_text: str, first_line: int) -> dict[str, int]:
    lines: dict[str, int] = {}
    for match in _TOP_KEY_RE.finditer(yaml_text):
        key = match.group(1).strip().strip("'\"")
        line = first_line + yaml_text.count("\n", 0, match.start())
        lines.setdefault(key, line)
    return lines


def _title(schema: Schema, kind: str, stem: str, fields: dict[str, Any], body: str) -> str:
    if schema.kind_spec(kind).title == "stem":
        return stem
    title = _text(fields.get("title"))
    if title and title.strip():
        return title.strip()
    heading = _H1_RE.search(body[:20_000])
    if heading:
        return heading.group(1).strip()
    return stem


def _size_problems(text: str, size: int) -> list[Problem]:
    problems = []
    if size > LARGE_FILE_BYTES:
        problems.append(Problem(Code.LARGE_FILE, f"large file ({size // 1024} KB)", None, "info"))
    if len(text) <= LONG_LINE_CHARS:
        return problems  # no line can be long
    longest, longest_line, line_no = 0, 0, 0
    for line_no, line in enumerate(text.split("\n"), start=1):
        if len(line) > longest:
            longest, longest_line = len(line), line_no
    if longest > LONG_LINE_CHARS:
        problems.append(
            Problem(Code.LONG_LINE, f"a {longest:,}-character line", longest_line, "info")
        )
    return problems


def _frontmatter_links(
    schema: Schema,
    kind: str,
    fields: dict[str, Any],
    field_lines: dict[str, int],
    bracketed: bool = True,
) -> list[WikiLink]:
    """The links in frontmatter values: `[[links]]` in any field, and every value of the
    fields the profile says name documents (bare titles included). `bracketed` False says
    no value holds `[[` (only the fields naming documents are then looked at)."""
    links: list[WikiLink] = []

    def walk(value: Any, origin: str, line: int, names: bool, typed: bool) -> None:
        """`names`: a bare string here names a document (false for a mapping entry's notes,
        such as `contribution:`, beside the `target:` that names its claim). `typed`: the
        entries are typed relations, whose `relation:` names the origin."""
        if isinstance(value, str):
            found = find_links(value, line, origin) if "[[" in value else []
            links.extend(found)
            if not found and names and value.strip().lower() not in EMPTY_MARKERS:
                links.append(bare_title_link(value, line, origin))
        elif isinstance(value, list):
            for item in value:
                walk(item, origin, line, names, typed)
        elif isinstance(value, dict):
            if typed and isinstance(value.get("relation"), str) and value["relation"].strip():
                origin = value["relation"].strip()
            for key, item in value.items():
                walk(item, origin, line, names and key in ENTRY_NAME_KEYS, False)

    for key, value in fields.items():
        relation = schema.link_relation(kind, key)
        if relation is not None:
            if not isinstance(value, list | str) and not (relation == "*" and value):
                continue
        elif not bracketed:
            continue
        # A legacy field's links count as the field's it stands for (`enrichments`).
        origin = schema.link_origins.get(key, key)
        walk(value, origin, field_lines.get(key, 1), relation is not None, relation == "*")
    return links


def _kind_problems(schema: Schema, doc: Document) -> list[Problem]:
    problems: list[Problem] = []
    line_of = doc.field_lines
    checked = schema.kind_spec(doc.kind).checked
    if checked and (doc.has_frontmatter or doc.fields):
        for name in schema.required.get(doc.kind, ()):
            present = doc.model_value(name)
            if present in (None, "", []):
                if name == "type" and doc.fields.get("type") is None and doc.kind == "source":
                    problems.append(
                        Problem(
                            Code.MISSING_FIELD,
                            "no 'type' field (source by path)",
                            1,
                            "warning",
                            "type",
                        )
                    )
                    continue
                problems.append(
                    Problem(
                        Code.MISSING_FIELD,
                        f"required field '{name}' is missing",
                        1,
                        "warning",
                        name,
                    )
                )
    said_type = doc.fields.get("type")
    if (
        checked
        and isinstance(said_type, str)
        and said_type.strip()
        and said_type.strip().lower() not in schema.type_kinds
    ):
        # The file keeps the kind its path gives it, but is never silently one.
        problems.append(
            Code.UNKNOWN_TYPE.problem(
                f"type: {said_type.strip()} names no kind of the profile "
                f"(read as a {doc.kind}, by its folder)",
                line_of.get("type"),
                "type",
            )
        )
    if doc.kind == "source":
        name = doc.path.rsplit("/", 1)[-1]
        said = doc.fields.get("type")
        if (
            doc.path.startswith(ARCHIVE)
            and isinstance(said, str)
            and schema.type_kinds.get(said.strip().lower(), "source") != "source"
        ):
            problems.append(
                Problem(
                    Code.TYPE_NOT_SOURCE,
                    f"type: {said}, but every file in inbox/archive/ is a source (read as one)",
                    line_of.get("type"),
                    "warning",
                    "type",
                )
            )
        if doc.path.startswith(ARCHIVE) and not _DATE_PREFIX_RE.match(name):
            problems.append(
                Problem(Code.NO_DATE_PREFIX, "no date prefix in the file name", None, "info")
            )
        domain = doc.model_value("domain")
        if domain in schema.vocabulary("source", "status"):
            problems.append(
                Problem(
                    Code.DOMAIN_IS_STATUS,
                    f"domain '{domain}' is a status value",
                    line_of.get("domain"),
                    "warning",
                    "domain",
                )
            )
        status = doc.model_value("status")
        extracted = doc.model_value("claims_extracted") or []
        enriched = doc.model_value("enrichments_applied") or []
        if status == "null-result":
            if not (doc.model_value("notes") or "").strip():
                problems.append(
                    Problem(
                        Code.MISSING_NOTES,
                        "null-result without 'notes' saying why",
                        line_of.get("status"),
                        "warning",
                        "notes",
                    )
                )
            if extracted or enriched:
                problems.append(
                    Problem(
                        Code.STATUS_DRIFT,
                        f"null-result yet {len(extracted)} claims extracted and "
                        f"{len(enriched)} enrichments applied",
                        line_of.get("status"),
                        "warning",
                        "status",
                    )
                )
        elif status == "processed" and not extracted and not enriched:
            problems.append(
                Problem(
                    Code.STATUS_DRIFT,
                    "processed, but no claims extracted nor enrichments applied",
                    line_of.get("status"),
                    "warning",
                    "status",
                )
            )
        elif status == "unprocessed" and (extracted or enriched):
            problems.append(
                Problem(
                    Code.STATUS_DRIFT,
                    "unprocessed, yet lists extracted claims",
                    line_of.get("status"),
                    "warning",
                    "status",
                )
            )
    if checked:
        known = schema.known.get(doc.kind, frozenset())
        unknown = sorted(
            k for k in doc.fields if k not in known and not k.startswith("flagged_for_")
        )
        if unknown:
            problems.append(
                Problem(
                    Code.UNKNOWN_FIELDS,
                    "fields outside the schema: " + ", ".join(unknown),
                    line_of.get(unknown[0]),
                    "info",
                )
            )
    return problems


def parse_document(path: str, data: bytes, schema: Schema | None = None) -> Document:
    """Parse a file's bytes (its KB-relative POSIX path decides its kind first) by `schema`
    (the profile in force when None)."""
    decoded = decode_bytes(data)
    problems = list(decoded.problems)
    split = split_frontmatter(decoded.text)
    fields: dict[str, Any] = {}
    shadowed: list[tuple[str, int, Any]] = []
    field_lines: dict[str, int] = {}
    if split.has_frontmatter:
        if not split.closed:
            problems.append(
                Problem(
                    Code.UNCLOSED_FRONTMATTER,
                    "frontmatter opened with '---' but never closed",
                    1,
                    "error",
                )
            )
        parsed = parse_yaml(split.yaml_text, split.yaml_first_line)
        fields, shadowed = parsed.fields, parsed.shadowed
        problems.extend(parsed.problems)
        if parsed.field_lines is not None:
            field_lines = parsed.field_lines
        else:
            field_lines = _field_lines(split.yaml_text, split.yaml_first_line)
    stem = path.rsplit("/", 1)[-1]
    stem = stem[:-3] if stem.endswith(".md") else stem
    schema = schema or active()
    kind = schema.kind_of(path, fields.get("type"))
    spec = schema.kind_spec(kind)
    if not split.has_frontmatter and spec.frontmatter and not decoded.binary:
        problems.append(
            Problem(Code.MISSING_FRONTMATTER, f"no frontmatter (a {kind} by its path)", 1, "error")
        )
    values, model_problems = model_values(kind, fields, schema)
    for problem in model_problems:
        line = field_lines.get(problem.field) if problem.field else None
        problems.append(
            Problem(problem.code, problem.message, line, problem.severity, problem.field)
        )
    body = split.body
    body_first = split.body_first_line
    handoff = parse_handoff(body, body_first, fields, field_lines) if kind == "source" else None
    links = find_links(body, body_first, "body")
    # `[[` can only be in a value if it is in the YAML text (or made by an escape or a tag).
    yaml_text = split.yaml_text
    bracketed = "[[" in yaml_text or "\\" in yaml_text or "!" in yaml_text
    links.extend(_frontmatter_links(schema, kind, fields, field_lines, bracketed))
    connection = None if handoff is None else handoff.primary_connection_field
    if connection is not None and connection.value:
        found = find_links(connection.value, connection.line, "primary_connection")
        if not found:
            value = connection.value.strip().strip("\"“”'").strip()
            if value and len(value) < 400:
                links.append(bare_title_link(value, connection.line, "primary_connection"))
        links.extend(found)
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    domain = schema.domain_of(path) if spec.domain == "path" or kind == "map" else None
    if domain is None:
        domain = _text(fields.get("domain"))
    doc = Document(
        path=path,
        kind=kind,
        type=_text(fields.get("type")),
        title=_title(schema, kind, stem, fields, body),
        stem=stem,
        folder=folder,
        domain=domain,
        size=len(data),
        encoding=decoded.encoding,
        lossless=decoded.lossless,
        prefix=split.prefix,
        raw_frontmatter=split.frontmatter,
        raw_body=body,
        has_frontmatter=split.has_frontmatter,
        fields=fields,
        values=values,
        field_lines=field_lines,
        shadowed=shadowed,
        handoff=handoff,
        links=links,
        problems=problems,
    )
    doc.problems.extend(_kind_problems(schema, doc))
    doc.problems.extend(_size_problems(decoded.text, len(data)))
    return doc
