"""The registry of checks: every problem code `kbtui check` can report, and every check a
draft goes through, each declared once with what it means.

Codes are `StrEnum` members, so they are their text wherever text is expected: the index
stores them as such, JSON prints them as such, and `problem.code == "missing-field"` holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from kbtui.formats.problems import Problem, Severity

Scope = Literal["file", "kb"]
"""Where a check looks: "file" reads one file alone; "kb" needs the rest of the KB (links,
duplicates across folders, the folders themselves), and is done by the indexer once every
file is read."""
DraftKind = Literal["claim", "enrichment", "divergence", "challenge"]


class Code(StrEnum):
    """A problem code, as `kbtui check` reports it and the index stores it."""

    NOT_UTF8 = "not-utf8"
    BINARY_FILE = "binary-file"
    BOM = "bom"
    CRLF = "crlf"
    UNREADABLE = "unreadable"
    UNENCODABLE_NAME = "unencodable-name"
    SYMLINK_OUTSIDE = "symlink-outside"
    INTERNAL_ERROR = "internal-error"
    LARGE_FILE = "large-file"
    LONG_LINE = "long-line"
    MISSING_FRONTMATTER = "missing-frontmatter"
    UNCLOSED_FRONTMATTER = "unclosed-frontmatter"
    MALFORMED_FRONTMATTER = "malformed-frontmatter"
    RECOVERED_FIELDS = "recovered-fields"
    FRONTMATTER_NOT_MAPPING = "frontmatter-not-mapping"
    DUPLICATE_KEY = "duplicate-key"
    MISSING_FIELD = "missing-field"
    UNKNOWN_FIELDS = "unknown-fields"
    LEGACY_FIELD = "legacy-field"
    COERCED_VALUE = "coerced-value"
    OFF_VOCABULARY = "off-vocabulary"
    TYPE_NOT_SOURCE = "type-not-source"
    NO_DATE_PREFIX = "no-date-prefix"
    DOMAIN_IS_STATUS = "domain-is-status"
    MISSING_NOTES = "missing-notes"
    STATUS_DRIFT = "status-drift"
    UNRESOLVED_LINK = "unresolved-link"
    DANGLING_PROVENANCE = "dangling-provenance"
    AMBIGUOUS_LINK = "ambiguous-link"
    NON_CANONICAL_LINK = "non-canonical-link"
    DUPLICATE_SOURCE = "duplicate-source"
    UNREADABLE_FOLDER = "unreadable-folder"
    UNKNOWN_TYPE = "unknown-type"
    NEAR_DUPLICATE_TITLE = "near-duplicate-title"

    @property
    def spec(self) -> CodeSpec:
        return PROBLEM_CODES[self]

    def problem(self, message: str, line: int | None = None, field: str | None = None) -> Problem:
        """A problem of this code, with the severity the registry declares for it."""
        return Problem(self, message, line, PROBLEM_CODES[self].severity, field)


@dataclass(frozen=True, slots=True)
class CodeSpec:
    """What a problem code means: how grave it is, where it is looked for, and whether
    export refuses to rewrite a file that has it (its frontmatter cannot be edited safely)."""

    severity: Severity
    scope: Scope
    explanation: str
    blocks_export: bool = False


def _spec(
    severity: Severity, scope: Scope, explanation: str, *, blocks_export: bool = False
) -> CodeSpec:
    return CodeSpec(severity, scope, explanation, blocks_export)


PROBLEM_CODES: Mapping[Code, CodeSpec] = {
    Code.NOT_UTF8: _spec(
        "error",
        "file",
        "The file is not UTF-8 text (UTF-16, or stray bytes); convert it to UTF-8.",
        blocks_export=True,
    ),
    Code.BINARY_FILE: _spec(
        "error",
        "file",
        "The file holds binary content (NUL bytes), so it is not read as text.",
        blocks_export=True,
    ),
    Code.BOM: _spec("info", "file", "The file starts with a UTF-8 byte-order mark."),
    Code.CRLF: _spec("info", "file", "The file has Windows (CRLF) line endings."),
    Code.UNREADABLE: _spec(
        "error",
        "file",
        "The file cannot be read (its permissions, or a disk error).",
        blocks_export=True,
    ),
    Code.UNENCODABLE_NAME: _spec(
        "error",
        "file",
        "The file name is not valid UTF-8; rename it to edit or export it with kbtui.",
        blocks_export=True,
    ),
    Code.SYMLINK_OUTSIDE: _spec(
        "error",
        "file",
        "A symlink leading outside the KB (or to nothing); it is not read.",
        blocks_export=True,
    ),
    Code.INTERNAL_ERROR: _spec(
        "error",
        "file",
        "kbtui failed while reading this file: a bug in kbtui, please report it.",
        blocks_export=True,
    ),
    Code.LARGE_FILE: _spec("info", "file", "The file is unusually large for a note."),
    Code.LONG_LINE: _spec(
        "info", "file", "A very long line (pasted data, or text without line breaks)."
    ),
    Code.MISSING_FRONTMATTER: _spec(
        "error",
        "file",
        "The file has no frontmatter, though its folder says what kind of note it is.",
    ),
    Code.UNCLOSED_FRONTMATTER: _spec(
        "error",
        "file",
        "The frontmatter opens with '---' but never closes.",
        blocks_export=True,
    ),
    Code.MALFORMED_FRONTMATTER: _spec(
        "error",
        "file",
        "The frontmatter's YAML does not parse; what can be is read line by line.",
        blocks_export=True,
    ),
    Code.RECOVERED_FIELDS: _spec(
        "info", "file", "Fields read line by line from frontmatter whose YAML does not parse."
    ),
    Code.FRONTMATTER_NOT_MAPPING: _spec(
        "error",
        "file",
        "The frontmatter is a list or a single value, not a mapping of fields.",
        blocks_export=True,
    ),
    Code.DUPLICATE_KEY: _spec(
        "warning",
        "file",
        "A frontmatter key is given twice; the last value wins.",
        blocks_export=True,
    ),
    Code.MISSING_FIELD: _spec(
        "warning", "file", "A field this kind of note requires is missing or empty."
    ),
    Code.UNKNOWN_FIELDS: _spec(
        "info", "file", "Frontmatter fields the KB's schema does not know (a typo, or new ones)."
    ),
    Code.LEGACY_FIELD: _spec("info", "file", "An old field name, read as the field it became."),
    Code.COERCED_VALUE: _spec(
        "warning",
        "file",
        "A value of the wrong shape (a list for one value, or the reverse), read as the "
        "nearest one that fits.",
    ),
    Code.OFF_VOCABULARY: _spec(
        "warning", "file", "A value outside the field's list of allowed values."
    ),
    Code.TYPE_NOT_SOURCE: _spec(
        "warning",
        "file",
        "A file in inbox/archive/ whose type says otherwise; it is read as a source.",
    ),
    Code.NO_DATE_PREFIX: _spec(
        "info", "file", "A source whose file name does not start with a date."
    ),
    Code.DOMAIN_IS_STATUS: _spec(
        "warning", "file", "A source's domain holds a status value (a field in the wrong place)."
    ),
    Code.MISSING_NOTES: _spec("warning", "file", "A null-result source without notes saying why."),
    Code.STATUS_DRIFT: _spec(
        "warning",
        "file",
        "A source's status disagrees with the claims and enrichments it lists.",
    ),
    Code.UNRESOLVED_LINK: _spec(
        "warning", "kb", "A wiki link that names no note in the KB (close titles are suggested)."
    ),
    Code.DANGLING_PROVENANCE: _spec(
        "warning",
        "kb",
        "claims_extracted or enrichments_applied names a claim that is not in the KB.",
    ),
    Code.AMBIGUOUS_LINK: _spec(
        "info", "kb", "A wiki link that matches several notes; the one it resolves to is named."
    ),
    Code.NON_CANONICAL_LINK: _spec(
        "info",
        "kb",
        "A wiki link found only by loose matching (a .md suffix, case, punctuation).",
    ),
    Code.DUPLICATE_SOURCE: _spec(
        "warning", "kb", "Two sources with the same file name, in different folders."
    ),
    Code.UNREADABLE_FOLDER: _spec(
        "error",
        "kb",
        "A folder that cannot be listed: its files are not read, their index entries are kept.",
    ),
    Code.UNKNOWN_TYPE: _spec(
        "warning",
        "file",
        "A 'type:' that names no kind of the profile; the file is read as the kind its "
        "folder says.",
    ),
    Code.NEAR_DUPLICATE_TITLE: _spec(
        "warning",
        "kb",
        "Two claims whose titles are near-identical (a copy, or one claim said twice): "
        "merge them, or word one differently.",
    ),
}

BLOCKS_EXPORT: frozenset[Code] = frozenset(
    code for code, spec in PROBLEM_CODES.items() if spec.blocks_export
)
"""Codes that make export leave a file alone: its frontmatter could not be edited safely."""


class CheckId(StrEnum):
    """A check on a draft, as the draft's `checks` name it."""

    PROPOSITION = "proposition"
    FILE_NAME = "file-name"
    DESCRIPTION = "description"
    CONFIDENCE = "confidence"
    DOMAIN = "domain"
    EVIDENCE = "evidence"
    PLACEHOLDERS = "placeholders"
    LINKS = "links"
    EXISTING_CLAIM = "existing-claim"
    TWIN_DRAFT = "twin-draft"
    QUESTION = "question"
    CLAIMS = "claims"
    CLAIMS_EXIST = "claims-exist"
    CLAIMS_DISTINCT = "claims-distinct"
    DUPLICATE = "duplicate"
    TARGET_CLAIM = "target-claim"
    CHALLENGE_TYPE = "challenge-type"
    SAME_CHALLENGE = "same-challenge"


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """What a draft check looks at, and the kinds of draft it applies to. Its outcome
    (pass, warn, fail) depends on the draft: a failing check keeps the draft from being
    saved for export."""

    drafts: tuple[DraftKind, ...]
    explanation: str


DRAFT_CHECKS: Mapping[CheckId, CheckSpec] = {
    CheckId.PROPOSITION: CheckSpec(
        ("claim", "challenge"),
        "The title is a proposition (a claim one can disagree with), not a topic.",
    ),
    CheckId.FILE_NAME: CheckSpec(
        ("claim", "challenge"),
        "The title can be the claim's file name on every system (a fix is proposed when it "
        "cannot); a challenge's title gives a `challenge-<slug>.md` no file has yet.",
    ),
    CheckId.DESCRIPTION: CheckSpec(
        ("claim", "divergence", "challenge"),
        "The description adds to a claim's or challenge's title, or says why a divergence matters.",
    ),
    CheckId.CONFIDENCE: CheckSpec(
        ("claim", "challenge"),
        "A confidence from the KB's vocabulary is chosen (a challenge may have none).",
    ),
    CheckId.DOMAIN: CheckSpec(
        ("claim", "divergence", "challenge"), "The domain is one the KB's claims use."
    ),
    CheckId.EVIDENCE: CheckSpec(
        ("claim", "enrichment"), "The body cites its source, or is the evidence it adds."
    ),
    CheckId.PLACEHOLDERS: CheckSpec(
        ("claim", "divergence", "challenge"),
        "No template line is left in the body (export leaves it out).",
    ),
    CheckId.LINKS: CheckSpec(("claim",), "Every wiki link in the body resolves to a note."),
    CheckId.EXISTING_CLAIM: CheckSpec(
        ("claim",), "No claim file of the KB has this title already."
    ),
    CheckId.TWIN_DRAFT: CheckSpec(("claim",), "No other draft has the same title."),
    CheckId.QUESTION: CheckSpec(
        ("divergence",), "The title is one question on which the claims disagree."
    ),
    CheckId.CLAIMS: CheckSpec(("divergence",), "The divergence names 2 to 5 claims."),
    CheckId.CLAIMS_EXIST: CheckSpec(("divergence",), "Every claim it names is in the KB."),
    CheckId.CLAIMS_DISTINCT: CheckSpec(("divergence",), "No claim is named twice."),
    CheckId.DUPLICATE: CheckSpec(
        ("divergence",), "No other divergence (file or draft) has the same claims."
    ),
    CheckId.TARGET_CLAIM: CheckSpec(("challenge",), "The claim it challenges is in the KB."),
    CheckId.CHALLENGE_TYPE: CheckSpec(
        ("challenge",),
        "The challenge type is one of the KB's (refutation, boundary, reframe, evidence-gap).",
    ),
    CheckId.SAME_CHALLENGE: CheckSpec(
        ("challenge",), "No open challenge (file or draft) has the same title."
    ),
}


class GateCode(StrEnum):
    """A reason the KB's merge gate ("tier 0") rejects a file, as the gate spells it. A
    failure is the code and what it is about, `missing_field:created` or
    `invalid_type:analysis`."""

    MISSING_FIELD = "missing_field"
    INVALID_TYPE = "invalid_type"
    INVALID_CONFIDENCE = "invalid_confidence"
    INVALID_FORMAT = "invalid_format"
    INVALID_DOMAIN = "invalid_domain"
    DOMAIN_MISMATCH = "domain_mismatch"
    DATE_TOO_EARLY = "date_too_early"
    NOT_A_PROPOSITION = "not_a_proposition"
    UNIVERSAL_QUANTIFIER = "universal_quantifier"
    BROKEN_WIKI_LINK = "broken_wiki_link"
    NEAR_DUPLICATE = "near_duplicate"
    MISSING_TARGET_CLAIM = "missing_target_claim"


GATE_CODES: Mapping[GateCode, str] = {
    GateCode.MISSING_FIELD: "A field the profile requires of this type is missing or empty "
    "(after ':', the field).",
    GateCode.INVALID_TYPE: "The 'type:' names no type of the profile (after ':', the type).",
    GateCode.INVALID_CONFIDENCE: "The confidence is outside its vocabulary (after ':', the value).",
    GateCode.INVALID_FORMAT: "The format is outside its vocabulary (after ':', the value).",
    GateCode.INVALID_DOMAIN: "The domain is none of the KB's domain folders (after ':', "
    "the domain).",
    GateCode.DOMAIN_MISMATCH: "The 'domain:' differs from the domain folder the file is in "
    "(after ':', the field's value).",
    GateCode.DATE_TOO_EARLY: "A date field holds a date before the gate's earliest "
    "(after ':', the field).",
    GateCode.NOT_A_PROPOSITION: "A claim's title reads as a topic label, not a proposition.",
    GateCode.UNIVERSAL_QUANTIFIER: "A claim's title holds a universal quantifier such as "
    "all, every or never (after ':', the words).",
    GateCode.BROKEN_WIKI_LINK: "A wiki link resolves to nothing (after ':', its target).",
    GateCode.NEAR_DUPLICATE: "A claim's title is within the gate's similarity of another "
    "claim's (after ':', that claim's path).",
    GateCode.MISSING_TARGET_CLAIM: "An enrichment or challenge does not name its claim in "
    "'target_claim'.",
}
"""What each of the gate's reasons means, as `kbtui check --codes` lists them."""
