"""Challenge files as the KB's schema writes them, and their checks (pure).

A challenge is a case against one claim: `domains/<domain>/challenge-<slug>.md`, whose
`target_claim` names the claim and whose `# heading` is the challenge, as a proposition.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from kbtui.formats.checks import CheckId
from kbtui.formats.claims import Check
from kbtui.formats.divergences import slug
from kbtui.formats.edit import double_quoted

TITLE_PLACEHOLDER = "<the challenge, as a proposition>"
"""A new challenge's heading, until it has a title."""
CASE_PLACEHOLDER = "The case against the claim: where it fails, and the evidence that shows it."
"""The skeleton's line for the argument, until the curator writes it."""


def file_name(title: str) -> str:
    """The challenge's file name, from its title."""
    return f"challenge-{slug(title)}.md"


def body_skeleton(title: str, claim_stem: str, domain_map: str) -> str:
    """The KB's challenge body: the challenge, the case against the claim, then Relevant
    Notes linking the claim and the domain's map."""
    return (
        f"# {title}\n\n"
        f"{CASE_PLACEHOLDER}\n\n"
        "---\n\n"
        "Relevant Notes:\n"
        f"- [[{claim_stem}]] — the claim challenged\n\n"
        f"Topics:\n- [[{domain_map}]]\n"
    )


def type_check(challenge_type: str | None, vocabulary: tuple[str, ...]) -> Check:
    if challenge_type and challenge_type in vocabulary:
        return Check(CheckId.CHALLENGE_TYPE, "pass", f"Challenge type: {challenge_type}.")
    said = f"'{challenge_type}' is not a challenge type. " if challenge_type else ""
    return Check(
        CheckId.CHALLENGE_TYPE,
        "fail",
        f"{said}Choose the challenge type: {', '.join(vocabulary)}.",
    )


def confidence_check(confidence: str, vocabulary: tuple[str, ...]) -> Check:
    """A challenge may leave its confidence out; one given is from the vocabulary."""
    if not confidence.strip():
        return Check(CheckId.CONFIDENCE, "pass", "No confidence given (a challenge may have none).")
    if confidence in vocabulary:
        return Check(CheckId.CONFIDENCE, "pass", f"Confidence: {confidence}.")
    return Check(
        CheckId.CONFIDENCE,
        "fail",
        f"'{confidence}' is not a confidence: {', '.join(vocabulary)}, or none.",
    )


def name_check(title: str, taken: bool) -> Check:
    """Whether the title makes a file name of its own: one line, with words the slug keeps
    (the name is made of its ASCII letters and digits), and no file of that name yet."""
    text = title.strip()
    if not text:
        return Check(CheckId.FILE_NAME, "fail", "Write the challenge, as a proposition.")
    if any(unicodedata.category(c) == "Cc" for c in text):
        # A line break would end the file's `# heading` and start a new block.
        return Check(
            CheckId.FILE_NAME,
            "fail",
            "The title is one line: it contains line breaks or other control characters.",
            " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in text).split()),
        )
    if slug(text) == "untitled":
        return Check(
            CheckId.FILE_NAME,
            "fail",
            "The title has no letters or digits a file name keeps (a-z, 0-9): "
            "its file would be challenge-untitled.md.",
        )
    name = file_name(text)
    if taken:
        return Check(
            CheckId.FILE_NAME,
            "fail",
            f"{name} exists already: word the challenge differently.",
        )
    return Check(CheckId.FILE_NAME, "pass", f"Its file: {name}.")


@dataclass(slots=True)
class ChallengeText:
    """The parts of a challenge file."""

    title: str
    target_claim: str
    challenge_type: str
    status: str
    confidence: str
    source: str
    created: str
    description: str
    body: str = ""


def render_challenge(challenge: ChallengeText) -> str:
    """The challenge file: frontmatter in the schema's key order (a blank confidence or
    source left out: both are optional), then the body."""
    lines = [
        "---",
        "type: challenge",
        f"target_claim: {double_quoted(challenge.target_claim)}",
        f"challenge_type: {challenge.challenge_type}",
        f"status: {challenge.status}",
    ]
    if challenge.confidence.strip():
        lines.append(f"confidence: {challenge.confidence.strip()}")
    if challenge.source.strip():
        lines.append(f"source: {double_quoted(challenge.source.strip())}")
    lines += [
        f"created: {challenge.created}",
        f"description: {double_quoted(challenge.description)}",
        "---",
    ]
    return "\n".join(lines) + "\n\n" + challenge.body.strip("\n") + "\n"
