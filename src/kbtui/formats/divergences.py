"""Divergence files as the KB's schema writes them, and their checks (pure)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from kbtui.formats.checks import CheckId
from kbtui.formats.claims import Check
from kbtui.formats.edit import double_quoted

MIN_CLAIMS, MAX_CLAIMS = 2, 5
_QUESTION_START = re.compile(
    r"^(which|what|does|do|is|are|can|will|should|would|how|why|when|where|who|has|have)\b",
    re.IGNORECASE,
)
_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slug(question: str, limit: int = 80) -> str:
    """The kebab slug of a question, for `divergence-<slug>.md`."""
    words = _SLUG_RE.sub("-", question.lower()).strip("-")
    if len(words) <= limit:
        return words or "untitled"
    return words[:limit].rsplit("-", 1)[0]


def question_check(question: str) -> Check:
    text = question.strip()
    if not text:
        return Check(CheckId.QUESTION, "fail", "Write the question the claims disagree about.")
    if any(unicodedata.category(c) == "Cc" for c in text):
        # A line break in the title would end the file's `# heading` and start a new block.
        return Check(
            CheckId.QUESTION,
            "fail",
            "The question is one line: it contains line breaks or other control characters.",
            " ".join("".join(c if unicodedata.category(c) != "Cc" else " " for c in text).split()),
        )
    if not text.endswith("?") and not _QUESTION_START.match(text):
        return Check(
            CheckId.QUESTION,
            "warn",
            "The title reads as a statement: a divergence is a "
            "question on which the claims give competing answers.",
            text + "?",
        )
    return Check(CheckId.QUESTION, "pass", "The title is a question.")


def count_check(count: int) -> Check:
    if count < MIN_CLAIMS:
        return Check(
            CheckId.CLAIMS,
            "fail",
            f"A divergence needs {MIN_CLAIMS} to {MAX_CLAIMS} claims; it has {count}.",
        )
    if count > MAX_CLAIMS:
        return Check(
            CheckId.CLAIMS,
            "fail",
            f"A divergence links at most {MAX_CLAIMS} claims; it has "
            f"{count}: split it into sharper questions.",
        )
    return Check(CheckId.CLAIMS, "pass", f"{count} claims.")


@dataclass(slots=True)
class DivergenceText:
    """The parts of a divergence file."""

    question: str
    domain: str
    description: str
    status: str
    claims: list[str]
    surfaced_by: str
    created: str
    body: str = ""


@dataclass(slots=True)
class ClaimSide:
    """One claim's side of a divergence, prefilled from the claim."""

    stem: str
    core_argument: str
    strongest_evidence: str
    cascade: list[str] = field(default_factory=list)


WHY_PLACEHOLDER = "Why this disagreement matters."
"""The skeleton's line for why the divergence matters, until the curator writes it."""
RESOLVE_PLACEHOLDER = "The evidence that would settle it."
"""The skeleton's line for what would resolve the divergence."""


def body_skeleton(question: str, sides: list[ClaimSide], domain_map: str) -> str:
    """The KB's divergence body: claims, what would resolve it, the cascade impact."""
    parts = [f"# {question}\n", f"{WHY_PLACEHOLDER}\n", "## Divergent Claims\n"]
    for side in sides:
        parts.append(
            f"### {side.stem}\n"
            f"**File:** [[{side.stem}]]\n"
            f"**Core argument:** {side.core_argument}\n"
            f"**Strongest evidence:** {side.strongest_evidence}\n"
        )
    parts.append(f"## What Would Resolve This\n\n{RESOLVE_PLACEHOLDER}\n")
    impact = ["## Cascade Impact\n"]
    for side in sides:
        impact.append(f"If [[{side.stem}]] is wrong:")
        impact += [f"- {line}" for line in side.cascade] or ["- nothing in the KB depends on it"]
        impact.append("")
    parts.append("\n".join(impact))
    parts.append(
        "---\n\nRelevant Notes:\n"
        + "\n".join(f"- [[{side.stem}]]" for side in sides)
        + f"\n\nTopics:\n- [[{domain_map}]]\n"
    )
    return "\n".join(parts)


def render_divergence(divergence: DivergenceText) -> str:
    """The divergence file: frontmatter in the schema's key order, then the body."""
    claims = ", ".join(double_quoted(c) for c in divergence.claims)
    lines = [
        "---",
        "type: divergence",
        f"title: {double_quoted(divergence.question)}",
        f"domain: {divergence.domain}",
        f"description: {double_quoted(divergence.description)}",
        f"status: {divergence.status}",
        f"claims: [{claims}]",
        f"surfaced_by: {double_quoted(divergence.surfaced_by)}",
        f"created: {divergence.created}",
        "---",
    ]
    return "\n".join(lines) + "\n\n" + divergence.body.strip("\n") + "\n"
