"""Parse a source's structured handoff: Agent Notes, Curator Notes, claim candidates, signals."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# Patterns here avoid two adjacent runs that can match the same spaces: a long run of spaces
# in a hostile file must cost linear time, not quadratic.
_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(\S.*)$")
_LABEL_RE = re.compile(r"^\s*(?:[-*][ \t]+)?\*\*([^*\n]{1,60}?):\*\*[ \t]*(.*)$")
_CURATOR_RE = re.compile(
    r"^\s*(?:[-*][ \t]+)?(?:\*\*)?(PRIMARY CONNECTION|WHY ARCHIVED|EXTRACTION HINT)"
    r"(?::\*\*|\*\*:|:)[ \t]*(.*)$"
)
_CLAIM_LINE_RE = re.compile(
    r"^\s*(?:(?:[-*+]|\d+[.)])\s*)?(?:\*\*)?CLAIM(?:\s*\d+)?(?:\*\*)?\s*[:\-–—](?:\*\*)?\s*(.+)$"
)
_INLINE_NUMBERED_RE = re.compile(r"\((\d{1,2})\)\s*[\"“]([^\"”\n]{8,})[\"”]")
_QUOTED_RE = re.compile(r"[\"“]([^\"”\n]{25,})[\"”]")
_PHRASE_RE = re.compile(r"claim candidates?\b\s*(?:\([^)]*\))?\s*[:\-–—]?\s*(.+)", re.IGNORECASE)
_BULLET_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.+)$")
_SIGNAL_RE = re.compile(
    # Every word starts with t, c or d: the lookahead passes over other positions at once.
    r"\b(?=[tcd])(tensions?|challeng(?:e|es|ed|ing)|contradict(?:s|ed|ing|ion|ions|ory)?|"
    r"diverg(?:e|es|ed|ence|ences|ent|ing)|counter(?:s|ed|ing)?(?![\w-])|"
    r"counter-?(?:argument|evidence|example)s?)\b",
    re.IGNORECASE,
)

_MARK_FIRST = frozenset("#`~") | frozenset(c for c in map(chr, range(0x3001)) if c.isspace())
"""The first characters of lines that can open a heading or a fence (every character that
`str.isspace` takes is below U+3001)."""

AGENT_NOTES = "agent_notes"
CURATOR_NOTES = "curator_notes"
HINT_LABELS = ("extraction hints", "extraction hint")


class HandoffField(NamedTuple):
    """A labelled value from a handoff section."""

    section: str
    label: str
    value: str
    line: int


class Candidate(NamedTuple):
    """A claim candidate found in extraction hints: the cleaned text and the raw text."""

    shape: str
    text: str
    raw: str
    line: int
    origin: str


class Signal(NamedTuple):
    """A word in the handoff suggesting a divergence (tension, challenge, contradiction)."""

    word: str
    excerpt: str
    line: int


@dataclass(slots=True)
class Handoff:
    """Everything the archiving agent left for the extractor."""

    fields: list[HandoffField] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    has_agent_notes: bool = False
    has_curator_notes: bool = False
    curator_in_frontmatter: bool = False

    def find_field(self, section: str, label: str) -> HandoffField | None:
        """The first field with this label (case-insensitive) in `section`."""
        wanted = label.lower()
        for item in self.fields:
            if item.section == section and item.label.lower() == wanted:
                return item
        return None

    def get(self, section: str, label: str) -> str | None:
        """The first value with this label (case-insensitive) in `section`."""
        item = self.find_field(section, label)
        return None if item is None else item.value

    @property
    def primary_connection_field(self) -> HandoffField | None:
        """The curator's PRIMARY CONNECTION (the same label elsewhere is not it)."""
        return self.find_field(CURATOR_NOTES, "PRIMARY CONNECTION")

    @property
    def primary_connection(self) -> str | None:
        item = self.primary_connection_field
        return None if item is None else item.value


def _lines(text: str) -> list[str]:
    """The lines of `text` as the rest of kbtui counts them (links, problems): broken at `\n`
    only, a `\r` before it dropped, so that line numbers agree. `str.splitlines` would also
    break at form feeds, lone `\r`s and other separators some files hold."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if "\r" in text:
        return [line.removesuffix("\r") for line in lines]
    return lines


def _sections(lines: list[str]) -> list[tuple[str, int, int]]:
    """(heading text, first content index, end index) for each level-2 heading."""
    marks: list[tuple[int, int, str]] = []
    in_fence = False
    # Only a line starting with `#`, a fence mark or a space can matter: most lines are
    # passed over on their first character, in one comprehension.
    for index in [i for i, line in enumerate(lines) if line[:1] in _MARK_FIRST]:
        line = lines[index]
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence or line[0] != "#":
            continue
        match = _HEADING_RE.match(line)
        if match:
            marks.append((index, len(match.group(1)), heading_text(match.group(2))))
    sections = []
    for position, (index, level, text) in enumerate(marks):
        if level != 2:
            continue
        end = len(lines)
        for later_index, later_level, _ in marks[position + 1 :]:
            if later_level <= 2:
                end = later_index
                break
        sections.append((text, index + 1, end))
    return sections


def heading_text(raw: str) -> str:
    """A heading's text without trailing spaces or a closing `#` sequence."""
    text = raw.rstrip()
    unclosed = text.rstrip("#")
    if unclosed != text and (not unclosed or unclosed[-1] in " \t"):
        text = unclosed.rstrip()
    return text


def _clean_candidate(text: str) -> str:
    text = text.strip().rstrip(".").strip() + ("." if text.strip().endswith(".") else "")
    text = re.sub(r"^\*\*|\*\*$", "", text).strip()
    if len(text) >= 2 and text[0] in "\"“'" and text[-1] in "\"”'":
        text = text[1:-1].strip()
    elif len(text) >= 3 and text[0] in '"“' and text[-2] in '"”' and text[-1] == ".":
        text = text[1:-2].strip()
    return text.strip()


_NUMBER_MARK_RE = re.compile(r"\((\d{1,2})\)\s*")
_SENTENCE_END_RE = re.compile(r"(?:(?<=[a-z]{4})|(?<=[0-9)]))\.\s+(?=[A-Z])")
"""A sentence's end: a period after a word of four letters or more, a figure or a bracket,
then a capital (`vs.` and `e.g.` are not ends)."""


def _numbered_items(line: str) -> list[str]:
    """The items of an unquoted inline list, `Claims about (1) a, (2) b, and (3) c.`: at
    least two, numbered from 1 in order, each of three words or more."""
    marks = list(_NUMBER_MARK_RE.finditer(line))
    if len(marks) < 2 or [int(m.group(1)) for m in marks] != list(range(1, len(marks) + 1)):
        return []
    items = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        item = line[mark.end() : following.start() if following else len(line)].strip()
        if following is None:
            # The last item ends with its sentence: what follows is the agent's comment.
            # (After a word of four letters or more: `vs.` and `e.g.` do not end it.)
            item = _SENTENCE_END_RE.split(item, maxsplit=1)[0]
        item = re.sub(r"(,|;)?\s*(and|or)?\s*$", "", item.rstrip(".")).strip()
        if len(item.split()) < 3:
            return []
        items.append(item)
    return items


def extract_candidates(text: str, first_line: int, origin: str) -> list[Candidate]:
    """Claim candidates in a hints text, in all five shapes the KB uses."""
    found: list[Candidate] = []
    for offset, line in enumerate(_lines(text)):
        line_no = first_line + offset
        if not line.strip():
            continue
        claim = _CLAIM_LINE_RE.match(line)
        if claim:
            found.append(
                Candidate(
                    "claim-line", _clean_candidate(claim.group(1)), line.strip(), line_no, origin
                )
            )
            continue
        numbered = _INLINE_NUMBERED_RE.findall(line)
        if len(numbered) >= 1 and re.search(r"\(\d{1,2}\)\s*[\"“]", line):
            for _, proposition in numbered:
                found.append(
                    Candidate("inline-numbered", proposition.strip(), line.strip(), line_no, origin)
                )
            continue
        # (A line whose quotes hold candidates: the quoted shapes below read it.)
        quoted_here = any(len(item.split()) >= 5 for item in _QUOTED_RE.findall(line))
        listed = [] if quoted_here else _numbered_items(line)
        if listed:
            found += [
                Candidate("inline-numbered", item, line.strip(), line_no, origin) for item in listed
            ]
            continue
        phrase = _PHRASE_RE.search(line)
        if phrase:
            quoted = _QUOTED_RE.findall(phrase.group(1))
            texts = quoted or [phrase.group(1)]
            for item in texts:
                cleaned = _clean_candidate(item)
                if len(cleaned.split()) >= 4:
                    found.append(Candidate("phrase", cleaned, line.strip(), line_no, origin))
            if texts:
                continue
        quoted = _QUOTED_RE.findall(line)
        if quoted:
            for item in quoted:
                if len(item.split()) >= 5:
                    found.append(
                        Candidate("quoted", _clean_candidate(item), line.strip(), line_no, origin)
                    )
            continue
        bullet = _BULLET_RE.match(line)
        if bullet and len(bullet.group(1).split()) >= 5:
            found.append(
                Candidate(
                    "bullet", _clean_candidate(bullet.group(1)), line.strip(), line_no, origin
                )
            )
    return found


def _labelled(
    lines: list[str],
    start: int,
    end: int,
    section: str,
    pattern: re.Pattern[str],
    body_first_line: int,
) -> list[HandoffField]:
    fields: list[HandoffField] = []
    current: tuple[str, int, list[str]] | None = None
    for index in range(start, end):
        match = pattern.match(lines[index])
        if match:
            if current:
                fields.append(
                    HandoffField(section, current[0], "\n".join(current[2]).strip(), current[1])
                )
            current = (match.group(1).strip(), body_first_line + index, [match.group(2)])
        elif current is not None and section == AGENT_NOTES:
            current[2].append(lines[index])
    if current:
        fields.append(HandoffField(section, current[0], "\n".join(current[2]).strip(), current[1]))
    return fields


_CASE_ODDITIES = ("ı", "ſ", "İ")
"""Letters the pattern (ignoring case) takes for an `i` or an `s` but that `str.lower` does
not turn into one: the dotless i and the long s stay as they are, and the dotted capital I
becomes an i followed by a combining dot."""


def _may_signal(text: str) -> bool:
    """False when `_SIGNAL_RE` cannot match in `text`: a test far cheaper than the
    pattern, which looks at every word boundary. Every word it finds holds one of these stems
    in lower case, unless it is spelt with one of `_CASE_ODDITIES`: then the pattern decides."""
    lowered = text.lower()
    return (
        "tension" in lowered
        or "challeng" in lowered
        or "contradict" in lowered
        or "diverg" in lowered
        or "counter" in lowered
        or (
            not text.isascii()
            and any(letter in text for letter in _CASE_ODDITIES)
            and _SIGNAL_RE.search(text) is not None
        )
    )


def _signals(text: str, first_line: int) -> list[Signal]:
    signals: list[Signal] = []
    if not _may_signal(text):
        return signals  # the usual case
    for offset, line in enumerate(_lines(text)):
        if not _may_signal(line):
            continue
        for match in _SIGNAL_RE.finditer(line):
            excerpt = _excerpt(line, match.start(), match.end())
            signals.append(Signal(match.group(1).lower(), excerpt, first_line + offset))
    return signals


EXCERPT_ROOM = 80
"""Characters of context a signal's excerpt keeps on each side of its word, at most."""


def _excerpt(line: str, start: int, end: int) -> str:
    """`line[start:end]` with up to `EXCERPT_ROOM` characters each side, cut between words
    (not inside one), and `…` where the line goes on."""
    left = max(0, start - EXCERPT_ROOM)
    if left > 0:
        space = line.find(" ", left, start)
        left = space + 1 if space != -1 else left
    right = min(len(line), end + EXCERPT_ROOM)
    if right < len(line):
        space = line.rfind(" ", end, right + 1)
        right = space if space != -1 else right
    text = line[left:right].strip()
    return ("…" if left > 0 else "") + text + ("…" if right < len(line) else "")


def parse_handoff(
    body: str,
    body_first_line: int,
    fields: dict[str, Any],
    frontmatter_line_of: dict[str, int] | None = None,
) -> Handoff:
    """Parse the handoff sections of a source body (and the frontmatter variant)."""
    handoff = Handoff()
    lines = _lines(body)
    for heading, start, end in _sections(lines):
        lowered = heading.lower()
        if lowered.startswith("agent notes"):
            handoff.has_agent_notes = True
            handoff.fields.extend(
                _labelled(lines, start, end, AGENT_NOTES, _LABEL_RE, body_first_line)
            )
            handoff.signals.extend(_signals("\n".join(lines[start:end]), body_first_line + start))
        elif lowered.startswith("curator notes"):
            handoff.has_curator_notes = True
            handoff.fields.extend(
                _labelled(lines, start, end, CURATOR_NOTES, _CURATOR_RE, body_first_line)
            )
            handoff.signals.extend(_signals("\n".join(lines[start:end]), body_first_line + start))
    line_of = frontmatter_line_of or {}
    notes = fields.get("curator_notes")
    if isinstance(notes, str) and notes.strip():
        handoff.curator_in_frontmatter = True
        first = line_of.get("curator_notes", 1)
        note_lines = _lines(notes)
        parsed = _labelled(note_lines, 0, len(note_lines), CURATOR_NOTES, _CURATOR_RE, first + 1)
        if parsed:
            handoff.fields.extend(parsed)
        else:
            handoff.fields.append(HandoffField(CURATOR_NOTES, "Notes", notes.strip(), first))
        handoff.has_curator_notes = True
        handoff.signals.extend(_signals(notes, first + 1))
    hints = fields.get("extraction_hints")
    if isinstance(hints, str):
        hints = [hints]
    if isinstance(hints, list):
        first = line_of.get("extraction_hints", 1)
        for offset, hint in enumerate(hints):
            if isinstance(hint, str) and hint.strip():
                handoff.fields.append(
                    HandoffField(CURATOR_NOTES, "Extraction hint", hint.strip(), first + 1 + offset)
                )
                cleaned = _clean_candidate(hint)
                handoff.candidates.append(
                    Candidate("frontmatter", cleaned, hint, first + 1 + offset, "frontmatter")
                )
        handoff.signals.extend(
            _signals("\n".join(h for h in hints if isinstance(h, str)), first + 1)
        )
    for item in handoff.fields:
        if item.label.lower() in HINT_LABELS:
            origin = "agent_notes" if item.section == AGENT_NOTES else "curator_notes"
            if origin == "curator_notes" and item.label == "Extraction hint":
                continue
            handoff.candidates.extend(extract_candidates(item.value, item.line, origin))
    return handoff
