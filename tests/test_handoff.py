"""The handoff parser on small, original texts: what a curator reads in the handoff panel."""

from __future__ import annotations

import re

from kbtui.formats.document import parse_document
from kbtui.formats.handoff import (
    _SIGNAL_RE,
    AGENT_NOTES,
    CURATOR_NOTES,
    _may_signal,
    _signals,
    parse_handoff,
)

BODY = """\
## Content

Ring-road widening studies keep finding the same decay curve.

```text
## Agent Notes
**Why this matters:** a fenced example, not a section
```

## Agent Notes

**Why this matters:** The capacity half of the pricing comparison.
It continues on a second line.

**KB connections:**
- [[pricing beats capacity for urban congestion]] — the claim it feeds

**Extraction hints:**
- CLAIM: Widening a ring road returns peak delay to nine-tenths of its former level in six years
2. CLAIM 2 — Most of the travel-time benefit disappears within three years of opening
Two readings (1) "lane additions fill within a decade" (2) "pricing holds its gains for years"
Claim candidates: "dedicated bus lanes raise ridership more than fare cuts do"
The report says "commuters notice reliability long before they notice fares" plainly.
- Household batteries shift evening peaks by about two hours on average

## Curator Notes (structured handoff for extractor) ##

- **PRIMARY CONNECTION:** [[pricing beats capacity for urban congestion]]
WHY ARCHIVED: Before-and-after counts for the induced-demand half
EXTRACTION HINT: Enrich the pricing claim; a new claim only if a second project agrees

## Sources

PRIMARY CONNECTION: not a handoff field outside the curator section
"""


def test_labels_of_both_sections_with_their_lines() -> None:
    handoff = parse_handoff(BODY, 10, {})
    assert handoff.has_agent_notes and handoff.has_curator_notes
    agent = {f.label: f for f in handoff.fields if f.section == AGENT_NOTES}
    assert list(agent) == ["Why this matters", "KB connections", "Extraction hints"]
    # A label's value runs on to the next label, and keeps its line in the file.
    assert agent["Why this matters"].value == (
        "The capacity half of the pricing comparison.\nIt continues on a second line."
    )
    assert agent["Why this matters"].line == 10 + BODY.splitlines().index(
        "**Why this matters:** The capacity half of the pricing comparison."
    )
    curator = [(f.label, f.value) for f in handoff.fields if f.section == CURATOR_NOTES]
    assert curator == [
        ("PRIMARY CONNECTION", "[[pricing beats capacity for urban congestion]]"),
        ("WHY ARCHIVED", "Before-and-after counts for the induced-demand half"),
        (
            "EXTRACTION HINT",
            "Enrich the pricing claim; a new claim only if a second project agrees",
        ),
    ]
    assert handoff.primary_connection == "[[pricing beats capacity for urban congestion]]"


def test_candidates_in_every_shape_the_kb_uses() -> None:
    handoff = parse_handoff(BODY, 1, {})
    found = [(c.shape, c.text) for c in handoff.candidates]
    assert found == [
        (
            "claim-line",
            "Widening a ring road returns peak delay to nine-tenths of its former level in six "
            "years",
        ),
        ("claim-line", "Most of the travel-time benefit disappears within three years of opening"),
        ("inline-numbered", "lane additions fill within a decade"),
        ("inline-numbered", "pricing holds its gains for years"),
        ("phrase", "dedicated bus lanes raise ridership more than fare cuts do"),
        ("quoted", "commuters notice reliability long before they notice fares"),
        ("bullet", "Household batteries shift evening peaks by about two hours on average"),
    ]
    # The raw line is kept beside the cleaned text.
    assert handoff.candidates[0].raw.startswith("- CLAIM: Widening")
    assert {c.origin for c in handoff.candidates} == {"agent_notes"}


def test_frontmatter_handoff_and_hints() -> None:
    fields = {
        "curator_notes": "PRIMARY CONNECTION: [[a claim]]\nWHY ARCHIVED: new figures",
        "extraction_hints": "a single hint naming a possible claim",
    }
    handoff = parse_handoff("no sections here\n", 20, fields, {"curator_notes": 5})
    assert handoff.curator_in_frontmatter and not handoff.has_agent_notes
    assert [(f.label, f.value, f.line) for f in handoff.fields] == [
        ("PRIMARY CONNECTION", "[[a claim]]", 6),
        ("WHY ARCHIVED", "new figures", 7),
        ("Extraction hint", "a single hint naming a possible claim", 2),
    ]
    assert [(c.shape, c.text) for c in handoff.candidates] == [
        ("frontmatter", "a single hint naming a possible claim")
    ]


def test_no_handoff_is_plainly_empty() -> None:
    handoff = parse_handoff("## Content\n\nJust an article.\n", 1, {})
    assert not handoff.has_agent_notes and not handoff.has_curator_notes
    assert handoff.fields == [] and handoff.candidates == [] and handoff.signals == []


def test_divergence_signals_any_case_with_line_and_excerpt() -> None:
    body = (
        "## Agent Notes\n\n"
        "**Why this matters:** plain line\n"
        "**What surprised me:** It CONTRADICTS the pricing claim and is in Tension with it.\n"
        "An encounter, a countertop and a counterpart are not signals.\n"
        "Counter-evidence from the bus pilot; the results diverged.\n"
    )
    handoff = parse_handoff(body, 7, {})
    assert [(s.word, s.line) for s in handoff.signals] == [
        ("contradicts", 10),
        ("tension", 10),
        ("counter-evidence", 12),
        ("diverged", 12),
    ]
    assert handoff.signals[0].excerpt.startswith("**What surprised me:** It CONTRADICTS")


def test_a_signal_excerpt_is_cut_between_words_and_says_where_the_line_goes_on() -> None:
    words = " ".join(f"word{n}" for n in range(40))
    body = f"## Agent Notes\n**Note:** {words} is in tension with {words}\n"
    [signal] = parse_handoff(body, 1, {}).signals
    assert signal.excerpt.startswith("…") and signal.excerpt.endswith("…")
    inner = signal.excerpt.strip("…").split(" ")
    assert all(w.startswith("word") or w in ("is", "in", "tension", "with") for w in inner)
    assert "tension" in inner and len(signal.excerpt) <= 2 * 80 + len("tension") + 2
    [short] = parse_handoff("## Agent Notes\nA tension here.\n", 1, {}).signals
    assert short.excerpt == "A tension here."


def test_signal_words_spelt_with_letters_that_fold_to_i_or_s() -> None:
    # Ignoring case, the pattern takes the dotless ı and the dotted İ for an i, and the long ſ
    # for an s, which `str.lower` does not turn into them: the quick test must not miss them.
    body = (
        "## Agent Notes\n\n**Note:** a tenſion here\n**Other:** a contradıction there\n"
        "**Last:** a TENSİON too\n"
    )
    assert [(s.word, s.line) for s in parse_handoff(body, 1, {}).signals] == [
        ("tenſion", 3),
        ("contradıction", 4),
        ("tensi̇on", 5),
    ]


def test_the_quick_signal_test_never_misses_a_word_the_pattern_finds() -> None:
    # Every way the pattern, ignoring case, can match each letter of each signal word: the
    # quick test before the pattern must let every such spelling through.
    words = ["tensions", "challenged", "contradictory", "divergences", "counter-evidence"]
    letters = set("".join(words).replace("-", ""))
    spellings: dict[str, list[str]] = {letter: [] for letter in letters}
    for letter in letters:
        pattern = re.compile(letter, re.IGNORECASE)
        spellings[letter] = [chr(c) for c in range(0x10000) if pattern.fullmatch(chr(c))]
    assert "İ" in spellings["i"] and "ſ" in spellings["s"]  # the odd ones are among them
    for word in words:
        for position, letter in enumerate(word):
            for spelling in spellings.get(letter, []):
                text = f"a note: {word[:position]}{spelling}{word[position + 1 :]} here"
                assert _SIGNAL_RE.search(text), text
                assert _may_signal(text), text
                assert [s.line for s in _signals(f"first\n{text}", 4)] == [5], text


def test_the_primary_connection_is_the_curators_not_a_like_label_elsewhere() -> None:
    body = (
        "## Agent Notes\n\n**PRIMARY CONNECTION:** (left for the curator)\n\n"
        "## Curator Notes\n\nPRIMARY CONNECTION: [[pricing beats capacity]]\n"
    )
    doc = parse_document(
        "inbox/archive/2025-01-01-a.md", b"---\ntype: source\n---\n" + body.encode()
    )
    assert doc.handoff is not None
    assert doc.handoff.primary_connection == "[[pricing beats capacity]]"
    assert [
        (link.target, link.line) for link in doc.links if link.origin == "primary_connection"
    ] == [("pricing beats capacity", 10)]


def test_handoff_lines_count_only_newlines_as_links_and_problems_do() -> None:
    # A form feed (or a lone carriage return) is not a line break for the rest of kbtui: the
    # handoff field, its signal and its link are all on the same line.
    body = "see\x0cthis\r\n## Agent Notes\r\n**Why:** a tension here [[bar]]\r\n"
    doc = parse_document(
        "inbox/archive/2025-01-01-a.md", b"---\ntype: source\n---\n" + body.encode()
    )
    assert doc.handoff is not None
    field = doc.handoff.fields[0]
    assert (field.label, field.value, field.line) == ("Why", "a tension here [[bar]]", 6)
    assert [s.line for s in doc.handoff.signals] == [6]
    assert [link.line for link in doc.links if link.origin == "body"] == [6]


def test_an_unquoted_numbered_list_of_claims_gives_one_candidate_each() -> None:
    body = (
        "## Agent Notes\n"
        "**Extraction hints:** Claims about (1) formal impossibility of single-reward RLHF, "
        "(2) MaxMin as an egalitarian social choice mechanism, and (3) minority group "
        "improvement without majority compromise.\n"
    )
    candidates = parse_handoff(body, 1, {}).candidates
    assert [(c.shape, c.text) for c in candidates] == [
        ("inline-numbered", "formal impossibility of single-reward RLHF"),
        ("inline-numbered", "MaxMin as an egalitarian social choice mechanism"),
        ("inline-numbered", "minority group improvement without majority compromise"),
    ]
    # Numbers out of order, or items of a word or two, are not such a list.
    prose = "## Agent Notes\n**Extraction hints:** see (2) above and (1) below for the terms.\n"
    assert parse_handoff(prose, 1, {}).candidates == []


def test_a_numbered_list_s_last_item_ends_with_its_sentence() -> None:
    body = (
        "## Agent Notes\n**Extraction hints:** (1) care ethics as an alignment frame, (2) the "
        "six-part care framework as integrated practice. The workaround angle is novel.\n"
    )
    candidates = parse_handoff(body, 1, {}).candidates
    assert [c.text for c in candidates][-1] == "the six-part care framework as integrated practice"


def test_a_numbered_list_with_a_quoted_phrase_or_an_abbreviation_keeps_its_items() -> None:
    body = (
        "## Agent Notes\n**Extraction hints:** Claims about (1) batteries cut peak demand, "
        '(2) the "duck curve" deepens in spring, and (3) solar costs in China vs. Germany '
        "fell by half. The rest is comment.\n"
    )
    assert [c.text for c in parse_handoff(body, 1, {}).candidates] == [
        "batteries cut peak demand",
        'the "duck curve" deepens in spring',
        "solar costs in China vs. Germany fell by half",
    ]
