"""Turn one file's bytes into a `Document`: raw parts, fields, model, handoff, links, problems.

Pure: takes a KB-relative path and the file's bytes, touches nothing else. Problems that need
the rest of the KB (unresolved links, dangling provenance) are found by the indexer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from kbtui.formats.frontmatter import decode_bytes, parse_yaml, split_frontmatter
from kbtui.formats.handoff import Handoff, parse_handoff
from kbtui.formats.kinds import (
    EMPTY_MARKERS,
    ENTRY_NAME_KEYS,
    KINDS_WITH_FRONTMATTER,
    REQUIRED_FIELDS,
    SOURCE_STATUSES,
    TYPE_KINDS,
    domain_from_path,
    kind_from_path,
    refine_kind,
)
from kbtui.formats.links import WikiLink, bare_title_link, find_links
from kbtui.formats.models import model_values
from kbtui.formats.problems import Problem

ARCHIVE = "inbox/archive/"
"""Where sources are archived: every file there is a source, whatever its `type:` says."""

PARSER_VERSION = "10"
"""Changes whenever parsing the same bytes gives a different document (a fixed bug, a new
field): an index made by another version reads every file again on its next run."""
LARGE_FILE_BYTES = 100_000
LONG_LINE_CHARS = 10_000
_DATE_PREFIX_RE = re.compile(r"^\d{4}-\d{2}-\d{2}-")
_H1_RE = re.compile(r"^#[ \t]+(\S.*)$", re.MULTILINE)
_TOP_KEY_RE = re.compile(r"^([^\s#:\-][^:\n]*):(?=[ \t]|$)", re.MULTILINE)
PROVENANCE_FIELDS = ("claims_extracted", "enrichments_applied")
CLAIM_REF_FIELDS = ("depends_on", "challenged_by", "claims")
KNOWN_FIELDS = frozenset(
    {
        "type",
        "title",
        "author",
        "url",
        "date",
        "domain",
        "status",
        "format",
        "priority",
        "secondary_domains",
        "tags",
        "processed_by",
        "processed_date",
        "claims_extracted",
        "enrichments_applied",
        "enrichments",
        "extraction_model",
        "extraction_notes",
        "linked_set",
        "notes",
        "last_attempted",
        "source",
        "source_type",
        "date_published",
        "date_archived",
        "curator_notes",
        "extraction_hints",
        "description",
        "confidence",
        "created",
        "depends_on",
        "challenged_by",
        "last_evaluated",
        "claims",
        "surfaced_by",
    }
)


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
        return _text(self.fields.get("status")) if self.kind in ("source", "divergence") else None

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


def _title(kind: str, stem: str, fields: dict[str, Any], body: str) -> str:
    if kind == "claim":
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
        problems.append(Problem("large-file", f"large file ({size // 1024} KB)", None, "info"))
    if len(text) <= LONG_LINE_CHARS:
        return problems  # no line can be long
    longest, longest_line, line_no = 0, 0, 0
    for line_no, line in enumerate(text.split("\n"), start=1):
        if len(line) > longest:
            longest, longest_line = len(line), line_no
    if longest > LONG_LINE_CHARS:
        problems.append(Problem("long-line", f"a {longest:,}-character line", longest_line, "info"))
    return problems


REF_FIELDS = frozenset((*PROVENANCE_FIELDS, *CLAIM_REF_FIELDS, "enrichments"))
"""Fields whose values name other documents, bracketed or not."""


def _frontmatter_links(
    fields: dict[str, Any], field_lines: dict[str, int], bracketed: bool = True
) -> list[WikiLink]:
    """The links in frontmatter values; `bracketed` False says no value holds `[[` (only
    the fields naming documents by their bare titles are then looked at)."""
    links: list[WikiLink] = []

    def walk(value: Any, origin: str, line: int, names: bool = True) -> None:
        """`names`: a bare string here names a document (false for a mapping entry's notes,
        such as `contribution:`, beside the `target:` that names its claim)."""
        if isinstance(value, str):
            found = find_links(value, line, origin) if "[[" in value else []
            links.extend(found)
            if (
                not found
                and names
                and origin in (*PROVENANCE_FIELDS, *CLAIM_REF_FIELDS)
                and value.strip().lower() not in EMPTY_MARKERS
            ):
                links.append(bare_title_link(value, line, origin))
        elif isinstance(value, list):
            for item in value:
                walk(item, origin, line, names)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, origin, line, names and key in ENTRY_NAME_KEYS)

    for key, value in fields.items():
        if key in REF_FIELDS:
            if not isinstance(value, list | str):
                continue
        elif not bracketed:
            continue
        # A legacy `enrichments` field counts as `enrichments_applied`, on its own line.
        origin = "enrichments_applied" if key == "enrichments" else key
        walk(value, origin, field_lines.get(key, 1))
    return links


def _kind_problems(doc: Document) -> list[Problem]:
    problems: list[Problem] = []
    line_of = doc.field_lines
    if doc.kind in REQUIRED_FIELDS and (doc.has_frontmatter or doc.fields):
        for name in REQUIRED_FIELDS[doc.kind]:
            present = doc.model_value(name)
            if present in (None, "", []):
                if name == "type" and doc.fields.get("type") is None and doc.kind == "source":
                    problems.append(
                        Problem(
                            "missing-field",
                            "no 'type' field (source by path)",
                            1,
                            "warning",
                            "type",
                        )
                    )
                    continue
                problems.append(
                    Problem(
                        "missing-field", f"required field '{name}' is missing", 1, "warning", name
                    )
                )
    if doc.kind == "source":
        name = doc.path.rsplit("/", 1)[-1]
        said = doc.fields.get("type")
        if (
            doc.path.startswith(ARCHIVE)
            and isinstance(said, str)
            and TYPE_KINDS.get(said.strip().lower(), "source") != "source"
        ):
            problems.append(
                Problem(
                    "type-not-source",
                    f"type: {said}, but every file in inbox/archive/ is a source (read as one)",
                    line_of.get("type"),
                    "warning",
                    "type",
                )
            )
        if doc.path.startswith(ARCHIVE) and not _DATE_PREFIX_RE.match(name):
            problems.append(
                Problem("no-date-prefix", "no date prefix in the file name", None, "info")
            )
        domain = doc.model_value("domain")
        if domain in SOURCE_STATUSES:
            problems.append(
                Problem(
                    "domain-is-status",
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
                        "missing-notes",
                        "null-result without 'notes' saying why",
                        line_of.get("status"),
                        "warning",
                        "notes",
                    )
                )
            if extracted or enriched:
                problems.append(
                    Problem(
                        "status-drift",
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
                    "status-drift",
                    "processed, but no claims extracted nor enrichments applied",
                    line_of.get("status"),
                    "warning",
                    "status",
                )
            )
        elif status == "unprocessed" and (extracted or enriched):
            problems.append(
                Problem(
                    "status-drift",
                    "unprocessed, yet lists extracted claims",
                    line_of.get("status"),
                    "warning",
                    "status",
                )
            )
    if doc.kind in REQUIRED_FIELDS:
        unknown = sorted(
            k for k in doc.fields if k not in KNOWN_FIELDS and not k.startswith("flagged_for_")
        )
        if unknown:
            problems.append(
                Problem(
                    "unknown-fields",
                    "fields outside the schema: " + ", ".join(unknown),
                    line_of.get(unknown[0]),
                    "info",
                )
            )
    return problems


def parse_document(path: str, data: bytes) -> Document:
    """Parse a file's bytes (its KB-relative POSIX path decides its kind first)."""
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
                    "unclosed-frontmatter",
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
    path_kind = kind_from_path(path)
    kind = refine_kind(path_kind, fields.get("type"), path.startswith(ARCHIVE))
    if not split.has_frontmatter and kind in KINDS_WITH_FRONTMATTER and not decoded.binary:
        problems.append(
            Problem("missing-frontmatter", f"no frontmatter (a {kind} by its path)", 1, "error")
        )
    values, model_problems = model_values(kind, fields)
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
    links.extend(_frontmatter_links(fields, field_lines, bracketed))
    connection = None if handoff is None else handoff.primary_connection_field
    if connection is not None and connection.value:
        found = find_links(connection.value, connection.line, "primary_connection")
        if not found:
            value = connection.value.strip().strip("\"“”'").strip()
            if value and len(value) < 400:
                links.append(bare_title_link(value, connection.line, "primary_connection"))
        links.extend(found)
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    domain = domain_from_path(path) if kind in ("claim", "divergence", "map") else None
    if domain is None:
        domain = _text(fields.get("domain"))
    doc = Document(
        path=path,
        kind=kind,
        type=_text(fields.get("type")),
        title=_title(kind, stem, fields, body),
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
    doc.problems.extend(_kind_problems(doc))
    doc.problems.extend(_size_problems(decoded.text, len(data)))
    return doc
