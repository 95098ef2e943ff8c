"""A preview of the KB's merge gate ("tier 0"): the reasons it rejects a file, in its own
codes (`missing_field:created`, `invalid_type:analysis`, ...).

Pure: a parsed `Document`, the profile, and what the rest of the KB says (its domain
folders, whether a link resolves, which claims have a near title), given by the caller.
The gate is stricter than `kbtui check`: a field is looked for under its own name (a legacy
name does not stand for it), and it reads every file of the kinds the profile checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kbtui.formats.checks import GateCode
from kbtui.formats.claims import proposition_check
from kbtui.formats.document import Document
from kbtui.formats.kinds import EMPTY_MARKERS
from kbtui.formats.profile import Schema

_VOCABULARY_CODES = {"confidence": GateCode.INVALID_CONFIDENCE, "format": GateCode.INVALID_FORMAT}
"""The vocabularies the gate holds a file to, and the code of a value outside each."""
_DATE_RE = re.compile(r"\s*(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")


@dataclass(frozen=True, slots=True)
class GateFailure:
    """One reason the gate rejects a file: its code, what it is about, and where."""

    code: GateCode
    detail: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.code}:{self.detail}" if self.detail else str(self.code)

    def as_dict(self) -> dict[str, Any]:
        return {"code": str(self), "message": self.message, "line": self.line}


@dataclass(frozen=True, slots=True)
class GateContext:
    """What the gate needs to know of the rest of the KB."""

    domains: Collection[str]
    """The KB's domains: the folders under its domain roots."""
    resolves: Callable[[str, str], bool]
    """Whether a link target resolves, from the file at a path."""
    similar: Callable[[str, str], list[tuple[str, int]]]
    """The other claims whose title is near this one (title, path): (path, score 0-100)."""


def gated(schema: Schema, kind: str) -> bool:
    """Whether the gate reads files of `kind`: those whose fields the profile checks."""
    return schema.kind_spec(kind).checked


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def _empty(value: Any) -> bool:
    if isinstance(value, list | dict):
        return not value
    text = _text(value)
    return text is None or text.lower() in EMPTY_MARKERS - {"0"}


def _earlier(value: str, earliest: str) -> bool:
    """Whether a date as written (`2019-05-01`, `2019`) is before `earliest` (YYYY-MM-DD);
    a year or month alone counts as its last day."""
    match = _DATE_RE.match(value)
    if match is None:
        return False
    year, month, day = match.group(1), match.group(2) or "12", match.group(3) or "31"
    return f"{year}-{int(month):02d}-{int(day):02d}" < earliest


@lru_cache(maxsize=32)
def _quantifier_re(words: tuple[str, ...]) -> re.Pattern[str] | None:
    if not words:
        return None
    phrases = sorted((re.escape(w.strip()).replace(r"\ ", r"\s+") for w in words), key=len)
    return re.compile(r"(?<!\w)(" + "|".join(reversed(phrases)) + r")(?!\w)", re.IGNORECASE)


def quantifiers_in(title: str, words: tuple[str, ...]) -> list[str]:
    """The universal quantifiers of `words` in `title`, as whole words, lower-cased."""
    pattern = _quantifier_re(words)
    if pattern is None:
        return []
    found = [" ".join(m.group(1).lower().split()) for m in pattern.finditer(title)]
    return list(dict.fromkeys(found))


def gate_document(doc: Document, schema: Schema, context: GateContext) -> list[GateFailure]:
    """Every reason the gate would reject `doc` (none for a kind it does not read)."""
    if not gated(schema, doc.kind):
        return []
    gate = schema.model.gate
    fields = doc.fields
    line_of = doc.field_lines
    failures: list[GateFailure] = []
    said_type = _text(fields.get("type"))
    targeted = doc.kind in gate.target_claim_types or (
        said_type is not None and said_type.lower() in gate.target_claim_types
    )
    for name in schema.required.get(doc.kind, ()):
        if name == "target_claim" and targeted:
            continue  # said once, as the missing target below
        if _empty(fields.get(name)):
            failures.append(
                GateFailure(GateCode.MISSING_FIELD, name, f"required field '{name}' is missing", 1)
            )
    if said_type is not None and said_type.lower() not in schema.type_kinds:
        failures.append(
            GateFailure(
                GateCode.INVALID_TYPE,
                said_type,
                f"type '{said_type}' is not a type of the profile",
                line_of.get("type"),
            )
        )
    for name, allowed in schema.vocabularies.get(doc.kind, {}).items():
        code = _VOCABULARY_CODES.get(name)
        value = _text(fields.get(name))
        if code is not None and value is not None and value not in allowed:
            failures.append(
                GateFailure(
                    code,
                    value,
                    f"{name} '{value}' is not one of {', '.join(allowed)}",
                    line_of.get(name),
                )
            )
    failures.extend(_domain_failures(doc, schema, context))
    for name in gate.date_fields:
        value = _text(fields.get(name))
        if value is not None and _earlier(value, gate.earliest_date):
            failures.append(
                GateFailure(
                    GateCode.DATE_TOO_EARLY,
                    name,
                    f"{name} {value} is before {gate.earliest_date}",
                    line_of.get(name),
                )
            )
    if doc.kind in gate.title_kinds:
        failures.extend(_title_failures(doc, schema, context))
    broken: dict[str, int] = {}
    for link in doc.links:
        if (
            link.raw.startswith("[[")
            and link.target
            and link.target not in broken
            and not context.resolves(link.target, doc.path)
        ):
            broken[link.target] = link.line
    failures.extend(
        GateFailure(GateCode.BROKEN_WIKI_LINK, target, f"[[{target}]] resolves to nothing", line)
        for target, line in broken.items()
    )
    if targeted and _empty(fields.get("target_claim")):
        failures.append(
            GateFailure(
                GateCode.MISSING_TARGET_CLAIM,
                "",
                f"a {said_type or doc.kind} must name its claim in target_claim",
                1,
            )
        )
    return failures


def _domain_failures(doc: Document, schema: Schema, context: GateContext) -> list[GateFailure]:
    value = _text(doc.fields.get("domain"))
    if value is None:
        return []  # a missing domain is a missing field, when the kind requires one
    line = doc.field_lines.get("domain")
    failures = []
    if value not in context.domains:
        failures.append(
            GateFailure(
                GateCode.INVALID_DOMAIN, value, f"domain '{value}' is no domain folder", line
            )
        )
    folder = schema.domain_of(doc.path)
    if folder is not None and folder != value:
        failures.append(
            GateFailure(
                GateCode.DOMAIN_MISMATCH,
                value,
                f"domain '{value}', but the file is in the folder of '{folder}'",
                line,
            )
        )
    return failures


def _title_failures(doc: Document, schema: Schema, context: GateContext) -> list[GateFailure]:
    gate = schema.model.gate
    failures = []
    # A slug (`words-joined-by-hyphens`) is read as the words it joins.
    words = doc.title if " " in doc.title.strip() else re.sub(r"[-_]+", " ", doc.title)
    if proposition_check(words).status == "fail":
        failures.append(
            GateFailure(
                GateCode.NOT_A_PROPOSITION,
                "",
                f"the title '{doc.title}' reads as a topic, not a proposition",
            )
        )
    failures.extend(
        GateFailure(
            GateCode.UNIVERSAL_QUANTIFIER, word, f"the title says '{word}': a universal claim"
        )
        for word in quantifiers_in(doc.title, gate.quantifiers)
    )
    failures.extend(
        GateFailure(GateCode.NEAR_DUPLICATE, other, f"the title is {score}% like that of {other}")
        for other, score in context.similar(doc.title, doc.path)
    )
    return failures
