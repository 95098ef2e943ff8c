"""Claims as the KB writes them: titles that are file names, the quality checks, the markdown.

Pure functions: the drafting operations feed them a draft and what they know of the KB.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from kbtui.formats.checks import CheckId
from kbtui.formats.edit import double_quoted
from kbtui.formats.kinds import CLAIM_CONFIDENCES

MAX_NAME_BYTES = 255
SUFFIX = ".md"
MIN_TITLE_WORDS = 5
Status = Literal["pass", "fail", "warn"]

_LIST_MARKER_RE = re.compile(r"^\s*(?:[-*+•]|\(?\d{1,2}[.)]|\d{1,2}\s*[.)-])\s*")
_CLAIM_PREFIX_RE = re.compile(
    r"^\s*(?:\*\*)?(?:claim(?:\s+candidate)?s?|candidate)(?:\s*\d+)?(?:\*\*)?\s*[:\-–—]\s*",
    re.IGNORECASE,
)
_QUOTES = "\"'“”‘’«»"
_BIDI = {chr(c) for c in (0x200E, 0x200F, 0x061C, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_WORD_RE = re.compile(r"[\w'’-]+", re.UNICODE)
_VERB_WORDS = frozenset(
    """is are was were be been being am can could will would shall should may might must
    do does did has have had makes make made causes cause drives drive needs need lets let
    creates create produces produce requires require shows show means mean becomes become
    depends depend remains remain beats beat outperforms outperform fails fail works work
    scales scale follows follow predicts predict reduces reduce raises raise increases
    increase decreases decrease lowers lower cuts cut shifts shift enables enable prevents
    prevent limits limit determines determine explains explain converges converge""".split()
)
_STOP_WORDS = frozenset(
    "a an the of and or in on to for with by at from as that this these those it its".split()
)


@dataclass(frozen=True, slots=True)
class Check:
    """One quality check on a draft: its id, outcome and a message saying what to do."""

    id: CheckId
    status: Status
    message: str
    suggestion: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "id": self.id,
            "status": self.status,
            "message": self.message,
            "suggestion": self.suggestion,
        }


def clean_candidate(text: str) -> str:
    """A claim title from a candidate's text: list markers, `CLAIM:` and quotes removed."""
    title = " ".join(text.split())
    for _ in range(3):
        before = title
        title = _LIST_MARKER_RE.sub("", title)
        title = _CLAIM_PREFIX_RE.sub("", title)
        title = title.strip().strip("*").strip()
        if len(title) >= 2 and title[0] in _QUOTES and title[-1] in _QUOTES + ".":
            title = title.rstrip(".").strip()
            title = title[1:-1].strip() if title and title[-1] in _QUOTES else title[1:]
        if title == before:
            break
    return title.rstrip(".").strip()


def _shorter_title(title: str, limit: int) -> str:
    """The longest prefix of `title`, cut at a word boundary, that fits in `limit` bytes."""
    words = title.split()
    kept: list[str] = []
    for word in words:
        candidate = " ".join([*kept, word])
        if len(candidate.encode("utf-8")) > limit:
            break
        kept.append(word)
    if kept:
        return " ".join(kept)
    return title.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


_UNSAFE = {
    # A wiki link cannot hold these (brackets end it; | starts an alias, # a heading, ^ a block)
    "[": "(",
    "]": ")",
    "|": " or ",
    "#": "number ",
    "^": "",
    # and Windows cannot check out a file whose name holds these.
    ":": " -",
    "*": "",
    "?": "",
    '"': "'",
    "<": "less than ",
    ">": "more than ",
}
"""Characters a claim title cannot hold, with what the suggested title puts instead."""


_INVISIBLE = frozenset(
    chr(c) for c in (0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, *range(0x180B, 0x1810), 0x3164, 0xFFA0)
)
"""Characters that show nothing though they are neither controls nor format characters
(fillers, the combining grapheme joiner, Mongolian variation selectors)."""
_BREAKS = frozenset("\t\n\r\x0b\x0c")
"""Controls that stand between words: a title without them gets a space there."""
_CONTROL_NAMES = {"\t": "CHARACTER TABULATION", "\n": "LINE FEED", "\r": "CARRIAGE RETURN"}


def _invisible(c: str) -> bool:
    """Whether `c` shows nothing (zero-width, direction and other format characters, soft
    hyphens, controls): two titles differing by one look the same."""
    return unicodedata.category(c) in ("Cc", "Cf") or c in _INVISIBLE


def _character_name(c: str) -> str:
    name = unicodedata.name(c, "") or _CONTROL_NAMES.get(c, "CONTROL CHARACTER")
    return f"U+{ord(c):04X} {name}"


def same_file_key(name: str) -> str:
    """What two names share when a file system takes them for one file (one normalisation
    form, case folded, as on macOS and Windows)."""
    return unicodedata.normalize("NFC", name.strip()).casefold()


def file_name_check(title: str) -> Check:
    """Whether `title` can be the claim's file name, and if not exactly why (never a path)."""
    limit = MAX_NAME_BYTES - len(SUFFIX)
    if not title.strip():
        return Check(CheckId.FILE_NAME, "fail", "The title is empty (or only spaces).")
    if title.strip() in (".", ".."):
        return Check(CheckId.FILE_NAME, "fail", f"'{title.strip()}' cannot be a file name.")
    if "/" in title or "\\" in title:
        return Check(
            CheckId.FILE_NAME,
            "fail",
            "The title contains a slash, which would make it a "
            "path: use 'or', 'and' or a dash instead.",
            title.replace("/", " or ").replace("\\", " or "),
        )
    hidden = [(place, c) for place, c in enumerate(title, start=1) if _invisible(c)]
    if hidden:
        kinds = dict.fromkeys(
            "control characters"
            if unicodedata.category(c) == "Cc"
            else "right-to-left or direction marks"
            if c in _BIDI
            else "invisible characters"
            for _, c in hidden
        )
        named = ", ".join(f"{_character_name(c)} at position {place}" for place, c in hidden[:3])
        more = f" and {len(hidden) - 3} more" if len(hidden) > 3 else ""
        kept = "".join(" " if c in _BREAKS else "" if _invisible(c) else c for c in title)
        return Check(
            CheckId.FILE_NAME,
            "fail",
            f"The title contains {' and '.join(kinds)}, which make a file name look like "
            f"another: {named}{more}.",
            " ".join(kept.split()) or None,
        )
    unsafe = sorted({c for c in title if c in _UNSAFE})
    if unsafe:
        replaced = " ".join("".join(_UNSAFE.get(c, c) for c in title).split())
        return Check(
            CheckId.FILE_NAME,
            "fail",
            f"The title contains {', '.join(repr(c) for c in unsafe)}: [[links]] to the claim, "
            "or file names on some systems, cannot hold them.",
            replaced or None,
        )
    if title.strip().startswith("."):
        return Check(
            CheckId.FILE_NAME,
            "fail",
            "A title starting with '.' makes a hidden file; start with a word.",
            title.strip().lstrip(". ").strip() or None,
        )
    if title.strip().startswith("-"):
        return Check(
            CheckId.FILE_NAME,
            "fail",
            "A title starting with '-' reads as a command-line option; start with a word.",
            title.lstrip("- ").strip() or None,
        )
    size = len(title.strip().encode("utf-8"))
    if size > limit:
        return Check(
            CheckId.FILE_NAME,
            "fail",
            f"The title is {size} bytes as UTF-8; a file name holds at most {limit} (plus '.md').",
            _shorter_title(title, limit),
        )
    return Check(CheckId.FILE_NAME, "pass", "The title works as a file name.")


def proposition_check(title: str) -> Check:
    """Whether the title reads as an arguable proposition rather than a topic label."""
    words = _WORD_RE.findall(title)
    if len(words) < MIN_TITLE_WORDS:
        return Check(
            CheckId.PROPOSITION,
            "fail",
            f"The title has {len(words)} word(s): a claim states "
            "something someone could disagree with ('This note argues that …').",
        )
    lowered = [w.lower() for w in words]
    has_verb = any(
        w in _VERB_WORDS
        or (len(w) > 3 and w.endswith(("es", "ed")) and w not in _STOP_WORDS)
        or (len(w) > 4 and w.endswith("s") and not w.endswith("ss") and i > 0)
        for i, w in enumerate(lowered)
    )
    if not has_verb:
        return Check(
            CheckId.PROPOSITION,
            "fail",
            "The title has no verb: it reads as a topic label, not as a proposition.",
        )
    return Check(CheckId.PROPOSITION, "pass", "The title reads as a proposition.")


def _content_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD_RE.findall(text) if w.lower() not in _STOP_WORDS}


def description_check(title: str, description: str) -> Check:
    """The description must add information beyond the title, not restate it."""
    if not description.strip():
        return Check(
            CheckId.DESCRIPTION,
            "fail",
            "Add a description: what the title does not say (scope, numbers, mechanism).",
        )
    added = _content_words(description) - _content_words(title)
    if len(added) < 3:
        return Check(
            CheckId.DESCRIPTION,
            "fail",
            "The description restates the title; say what it adds (evidence, scope, numbers).",
        )
    return Check(CheckId.DESCRIPTION, "pass", "The description adds information beyond the title.")


def confidence_check(
    confidence: str | None, vocabulary: Sequence[str] = CLAIM_CONFIDENCES
) -> Check:
    """A confidence from the KB's vocabulary (its profile's, the shipped one by default)."""
    if confidence in vocabulary:
        return Check(CheckId.CONFIDENCE, "pass", f"Confidence: {confidence}.")
    return Check(CheckId.CONFIDENCE, "fail", "Choose a confidence: " + ", ".join(vocabulary) + ".")


def domain_check(domain: str | None, known: list[str]) -> Check:
    if domain and domain in known:
        return Check(CheckId.DOMAIN, "pass", f"Domain: {domain}.")
    if not domain:
        return Check(CheckId.DOMAIN, "fail", "Choose a domain.")
    return Check(
        CheckId.DOMAIN,
        "fail",
        f"'{domain}' is not a domain of this KB "
        f"({', '.join(known[:8])}{'…' if len(known) > 8 else ''}).",
    )


def evidence_check(body: str, source_stem: str | None) -> Check:
    """At least one evidence citation: a link to the source, or an evidence section with a link."""
    if source_stem and f"[[{source_stem}" in body:
        return Check(CheckId.EVIDENCE, "pass", "The body cites its source.")
    if re.search(r"^##\s+Evidence", body, re.MULTILINE) and "[[" in body:
        return Check(CheckId.EVIDENCE, "pass", "The body has an evidence section with a citation.")
    return Check(
        CheckId.EVIDENCE,
        "fail",
        "Cite the evidence: link the source as "
        f"[[{source_stem or 'source file stem'}]] under ## Evidence.",
    )


@dataclass(slots=True)
class ClaimText:
    """The parts of a claim file."""

    title: str
    domain: str
    description: str
    confidence: str
    source: str
    created: str
    depends_on: list[str] = field(default_factory=list)
    challenged_by: list[str] = field(default_factory=list)
    secondary_domains: list[str] = field(default_factory=list)
    body: str = ""


def render_claim(claim: ClaimText) -> str:
    """The claim file as the KB's own files write it: key order, quoting, trailing newline."""
    lines = [
        "---",
        "type: claim",
        f"domain: {claim.domain}",
        f"description: {double_quoted(claim.description)}",
        f"confidence: {claim.confidence}",
        f"source: {double_quoted(claim.source)}",
        f"created: {claim.created}",
    ]
    if claim.secondary_domains:
        lines.append(f"secondary_domains: [{', '.join(claim.secondary_domains)}]")
    for key, values in (("depends_on", claim.depends_on), ("challenged_by", claim.challenged_by)):
        if values:
            lines.append(f"{key}:")
            lines += [f"  - {double_quoted(value)}" for value in values]
    lines.append("---")
    body = claim.body.strip("\n")
    return "\n".join(lines) + "\n\n" + body + "\n"


def with_heading(body: str, title: str) -> str:
    """`body` with `# title` as its heading: the first line, when it is a `# ` heading
    (whatever it says: the candidate's text, the skeleton's placeholder), else added on top.
    A claim's heading is its title, which is its file name."""
    lines = body.lstrip("\n").split("\n")
    if lines and lines[0].startswith("# "):
        lines[0] = f"# {title}"
        return "\n".join(lines)
    return f"# {title}\n\n" + body.lstrip("\n")


ARGUMENT_PLACEHOLDER = "The argument: why this holds, with the evidence inline."
"""The claim skeleton's line for the argument, until the curator writes it."""
EVIDENCE_PLACEHOLDER = "What this source adds to the claim: the finding, with its figures."
"""An enrichment's evidence until the curator writes it."""


def body_skeleton(
    title: str, source_stem: str, source_label: str, connections: list[str], domain_map: str
) -> str:
    """The KB's claim body shape, seeded from the source and its KB connections (its
    Relevant Notes; the section is left out when the source names none)."""
    notes = "".join(f"- [[{target}]]\n" for target in connections)
    return (
        f"# {title}\n\n"
        f"{ARGUMENT_PLACEHOLDER}\n\n"
        "## Evidence\n\n"
        f"- [[{source_stem}]]: {source_label}\n\n"
        "---\n\n"
        + (f"Relevant Notes:\n{notes}\n" if notes else "")
        + f"Topics:\n- [[{domain_map}]]\n"
    )


def placeholder_check(body: str, placeholders: tuple[str, ...]) -> Check:
    """Whether the body still holds a template line the curator was to replace (a warning:
    export leaves such a line out, so template text never reaches the KB)."""
    left = [text for text in placeholders if text in body]
    if left:
        return Check(
            CheckId.PLACEHOLDERS,
            "warn",
            "Template text, left out at export unless replaced: "
            + "; ".join(f"'{text}'" for text in left),
        )
    return Check(CheckId.PLACEHOLDERS, "pass", "No template text left.")


def without_placeholders(body: str, placeholders: tuple[str, ...]) -> str:
    """`body` without the lines that are exactly one of `placeholders` (and the blank line
    after each)."""
    lines = body.split("\n")
    kept: list[str] = []
    skip_blank = False
    for line in lines:
        if line.rstrip("\r").strip() in placeholders:
            skip_blank = True
            continue
        if skip_blank and not line.rstrip("\r").strip():
            skip_blank = False
            continue
        skip_blank = False
        kept.append(line)
    return "\n".join(kept)


def enrichment_block(
    kind: str, evidence: str, source_stem: str, added: str, who: str, newline: str = "\n"
) -> str:
    """An `### Additional Evidence (extend|confirm|challenge)` block with its source line.

    Every line ends with `newline` (the file's own line ending), the evidence's included.
    """
    text = (
        f"\n### Additional Evidence ({kind})\n"
        f"*Source: [[{source_stem}]] | Added: {added} | Extractor: {who}*\n\n"
        f"{normalise_newlines(evidence.strip())}\n"
    )
    return text.replace("\n", newline)


def _flat(text: str) -> str:
    """`text` with every run of whitespace (line endings included) one space."""
    return " ".join(text.split())


def _ends_here(flat: str) -> bool:
    """Whether flattened text that follows an evidence block is what export puts after one:
    nothing, or the footer (its rule, then its labels or headings)."""
    flat = flat.removeprefix("---").lstrip()
    return not flat or flat.startswith(FOOTER_HEADS)


def evidence_present(text: str, evidence: str, source_stem: str) -> bool:
    """Whether `text` (a claim file) already has an Additional Evidence block citing
    `[[source_stem]]` that says exactly this evidence (an earlier export that was cut
    short, or one whose source could not be written), whatever its date, line endings or
    wrapping, and whatever the evidence holds (headings, rules). Evidence that only begins
    another block's is not the same evidence."""
    wanted = _flat(normalise_newlines(evidence))
    if not wanted:
        return False
    link = f"[[{source_stem}]]"
    for block in normalise_newlines(text).split("### Additional Evidence")[1:]:
        lines = block.split("\n")
        source = next((i for i, line in enumerate(lines[:3]) if line.startswith("*Source:")), None)
        if source is None or link not in lines[source]:
            continue
        said = _flat("\n".join(lines[source + 1 :]))
        if said.startswith(wanted) and _ends_here(said[len(wanted) :].lstrip()):
            return True
    return False


def resolution_present(text: str, resolution: str) -> bool:
    """Whether `text` (a divergence file) already has a `## Resolution` saying exactly
    this, up to its `*Resolved: …*` line."""
    wanted = _flat(normalise_newlines(resolution))
    for block in normalise_newlines(text).split("\n## Resolution\n")[1:]:
        end = block.find("\n*Resolved:")
        if wanted and end >= 0 and _flat(block[:end]) == wanted:
            return True
    return False


FOOTER_HEADS = ("Relevant Notes:", "Topics:", "## Relevant Notes", "## Topics")
"""What starts a claim's footer (some of the KB's files make headings of the labels)."""


def place_evidence(text: str, blocks: str, newline: str = "\n") -> str:
    """`text` (a whole claim file) with evidence `blocks` put where the KB puts them: before
    the footer (a `---` rule followed by `Relevant Notes:` or `Topics:`, or those labels on
    their own), else at the end. Lines are split at `\n` only, as every edit does."""
    lines = text.split("\n")
    bare = [line.rstrip("\r") for line in lines]
    body = 0
    if bare and bare[0] == "---":
        body = next((i + 1 for i in range(1, len(bare)) if bare[i] == "---"), len(bare))
    footer = None
    for i in range(len(bare) - 1, body - 1, -1):
        if bare[i] == "---":
            after = next((line.strip() for line in bare[i + 1 :] if line.strip()), "")
            if after in FOOTER_HEADS:
                footer = i
                break
    if footer is None:
        footer = next((i for i in range(body, len(bare)) if bare[i].strip() in FOOTER_HEADS), None)
    if footer is None:
        return (text if text.endswith("\n") or not text else text + newline) + blocks
    head = "\n".join(lines[:footer]) + "\n"
    return head + blocks + newline + "\n".join(lines[footer:])


def normalise_newlines(text: str) -> str:
    """`text` with every `\\r\\n` or lone `\\r` line ending turned into `\\n`."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
