"""The fast frontmatter reader gives exactly what the full YAML loader gives, or stands aside."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kbtui.formats import document, frontmatter
from kbtui.formats.frontmatter import ParsedYaml, decode_bytes, parse_yaml, split_frontmatter

# Texts near the edge of what the fast reader takes: each must either be read exactly as the
# full loader reads it, or be handed to the full loader.
TRICKY = [
    "a: [x, y,]",
    "a: [x, , y]",
    "a: [http://x]",
    "a: [a#b]",
    "a: x [y] z",
    "a: b, c",
    "a: -5",
    "a: -x",
    "a: - x",
    "a: 1:30",
    "a: [ ]",
    "a: []",
    "a:\n- x\n- y\nb: 2",
    "a:\n  - x\n\n  - y",
    "a:\n  - x\n - y",
    "a:\n  - x\n    more",
    "a: x\n\n  y",
    "a: x\n  y",
    "a: ~",
    "a:",
    "a:   ",
    "a:\nb: 1",
    'a: ["x,y", z]',
    'a: foo"bar"',
    "a: [x y]",
    "a: [-x]",
    "a: [?x]",
    "a: x?",
    "a: x%",
    'a: [""]',
    'a: ""',
    "a: ''",
    "a: x:y",
    "a: x: y",
    "a: x:",
    "a: [x:y]",
    "a: [x: y]",
    "a: 0o17",
    "a: 0x1F",
    "a: 1e3",
    "a: .5",
    "a: .nan",
    "a: 1_000",
    "a: +1",
    "a: [1, 2.5, yes, null, ~]",
    "yes: 1",
    "null: 1",
    "a: 2026-01-00",
    "a: 2024-02-30T10:00:00Z",
    "a: 'it''s'",
    "a: 'back\\slash'",
    'a: "tab\\there"',
    'a: "two  spaces"',
    "a: x # comment",
    "a: x#not-comment",
    "# comment\na: 1",
    " # indented comment\na: 1",
    "a: 1\na: 2",
    "a: 1\nb: [x]\na:\n  - y",
    "a: &anchor x\nb: *anchor",
    "a: !!str 1",
    "a: |\n  block",
    "a: >\n  folded",
    "a: {b: c}",
    "a:\n  b: c",
    "a: [x, [y]]",
    "a: x\u2028y",
    "a: x\u0085y",
    "a: x\ufeffy",
    "a: \u00e9t\u00e9 \U0001f600",
    "a: x\r",
    "a:\tx",
    "---",
    "...",
    "a: 1\n---\nb: 2",
    "<<: {a: 1}",
    "a: =",
    "a: `x`",
    "a: @x",
    "a: %x",
    "key : value",
    "key:value",
    "a: [x, 'y, z', \"w\"]",
    "a: ['x' y]",
    "a: [x",
    "a: x]",
    "",
    "\n\n",
    # Lines of no-break or other Unicode spaces are content to YAML, not blank lines.
    "a: 1\n\xa0",
    "a: x\n\xa0",
    "a: 1\n\u1680",
    "a: 1\n\u2000\nb: 2",
    "a: x\n \u3000",
    "a:\n- x\n\xa0",
    "a:\n  - x\n  \u3000",
    "a: x\xa0y",
    # libyaml refuses simple keys longer than 1,024 characters.
    "a" * 1024 + ": 1",
    "a" * 1025 + ": 1",
    "a: 1\n" + "b" * 1025 + ": 2",
    # An integer too long for Python to write back as text keeps its text.
    "a: 0x" + "f" * 5000,
    "a: [0x" + "f" * 5000 + "]",
]


def _full(text: str) -> ParsedYaml:
    saved = frontmatter._SIMPLE
    frontmatter._SIMPLE = _Never()  # type: ignore[assignment]
    try:
        return parse_yaml(text, 2)
    finally:
        frontmatter._SIMPLE = saved


class _Never:
    def read(self, text: str) -> None:
        return None


def _same(text: str) -> bool:
    """True when the fast reader took `text`; asserts it read it as the full loader does."""
    if frontmatter._SIMPLE.read(text) is None:
        return False
    fast, full = parse_yaml(text, 2), _full(text)
    assert repr(fast.fields) == repr(full.fields), text
    assert fast.problems == full.problems, text
    assert repr(fast.shadowed) == repr(full.shadowed), text
    assert fast.ok == full.ok, text
    # The lines the fast reader gives each key are those the document's own scan finds.
    assert fast.field_lines == document._field_lines(text, 2), text
    return True


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_text_is_read_as_the_full_loader_reads_it(text: str) -> None:
    _same(text)


def test_the_usual_shapes_take_the_fast_path() -> None:
    text = (
        "type: source\n"
        'title: "A title: with a colon"\n'
        "author: Jane Doe\n"
        "date: 2026-01-00\n"
        "priority: 2\n"
        "tags: [a, b-c, 'd e']\n"
        "claims_extracted:\n"
        '  - "first claim"\n'
        "  - second claim\n"
        "claims_extracted: 0\n"
    )
    assert _same(text)
    parsed = parse_yaml(text, 2)
    assert parsed.fields["date"] == "2026-01-00"
    assert parsed.fields["claims_extracted"] == 0
    assert [p.code for p in parsed.problems] == ["duplicate-key"]
    assert parsed.shadowed == [("claims_extracted", 8, ["first claim", "second claim"])]


def _frontmatters(root: Path) -> list[tuple[str, str]]:
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            if name.endswith(".md"):
                path = os.path.join(folder, name)
                with open(path, "rb") as handle:
                    split = split_frontmatter(decode_bytes(handle.read()).text)
                if split.has_frontmatter:
                    found.append((path, split.yaml_text))
    return found


def test_every_corpus_frontmatter_reads_alike(corpus: Path) -> None:
    texts = _frontmatters(corpus)
    fast = sum(_same(text) for _, text in texts)
    assert fast > 0.8 * len(texts)  # the fast path is the usual one on real files


def test_every_demo_frontmatter_reads_alike() -> None:
    texts = _frontmatters(Path(__file__).resolve().parent.parent / "seeds")
    assert sum(_same(text) for _, text in texts) > 0.8 * len(texts)


def test_random_texts_from_yaml_punctuation_read_alike() -> None:
    """Thousands of small texts built from YAML's punctuation (a fixed seed, so repeatable)."""
    import random

    pieces = ["a", "b", "x y", " ", "  ", ":", ": ", "#", " #", "'", '"', "[", "]", ",", "-",
              "- ", "1", "0x1", "yes", "~", "\\", "?", "&", "*", "!", "|", ">", "{", "}", "é",
              "2026-01-00", "\n", "\n  ", "\n- ", "\n  - "]  # fmt: skip
    generator = random.Random(20261125)
    taken = 0
    for _ in range(8000):
        key = generator.choice(["a", "b", "yes", "k-1", "_x"])
        value = "".join(generator.choice(pieces) for _ in range(generator.randint(0, 6)))
        text = f"{key}: {value}\nb: {generator.choice(pieces)}"
        taken += _same(text)
    assert taken > 300  # the fast path was exercised, not only stood aside
