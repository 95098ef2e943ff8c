"""Link resolution rules, in the order the KB applies them."""

from __future__ import annotations

import random
import re
import unicodedata

from kbtui.formats.links import LinkResolver, normalise

PATHS = [
    "domains/energy/_map.md",
    "domains/energy/grid storage.md",
    "domains/health/grid storage.md",
    "core/teams/energy/notes.md",
    "inbox/archive/2026-01-01-study.md",
]


def test_each_rule_in_order() -> None:
    resolver = LinkResolver(PATHS)
    cases = {
        "_map": ("domains/energy/_map.md", "own-map"),
        "notes": ("core/teams/energy/notes.md", "exact"),
        "NOTES": ("core/teams/energy/notes.md", "case-insensitive"),
        "domains/energy/_map": ("domains/energy/_map.md", "path"),
        "energy/_map": ("domains/energy/_map.md", "path-suffix"),
        "teams/energy/notes": ("core/teams/energy/notes.md", "path-suffix"),
        "2026-01-01-study.md": ("inbox/archive/2026-01-01-study.md", "md-suffix"),
        "Notes!": ("core/teams/energy/notes.md", "normalised"),
        "nowhere/notes2": (None, None),
    }
    for target, expected in cases.items():
        found = resolver.resolve(target, "domains/energy/a claim.md")
        assert (found.path, found.rule) == expected, target


def test_a_path_suffix_shared_by_two_files_is_ambiguous_and_prefers_the_linking_folder() -> None:
    resolver = LinkResolver(PATHS)
    found = resolver.resolve("/grid storage", "domains/health/other.md")
    assert (found.path, found.rule, found.ambiguous) == (
        "domains/health/grid storage.md",
        "path-suffix",
        True,
    )
    assert found.candidates == ("domains/energy/grid storage.md", "domains/health/grid storage.md")
    found = resolver.resolve("energy/grid storage", "domains/health/other.md")
    assert (found.path, found.rule, found.ambiguous) == (
        "domains/energy/grid storage.md",
        "path-suffix",
        False,
    )


def test_files_added_after_a_suffix_lookup_are_found_by_the_next() -> None:
    resolver = LinkResolver(PATHS)
    assert resolver.resolve("teams/energy/notes", "x.md").rule == "path-suffix"
    resolver.add("core/teams/water/plan.md")
    found = resolver.resolve("water/plan", "x.md")
    assert (found.path, found.rule) == ("core/teams/water/plan.md", "path-suffix")


def _normalise_by_regex(text: str) -> str:
    """`normalise` as first written, for any text: the reference for its ASCII fast path."""
    text = unicodedata.normalize("NFC", text).casefold().replace("'", "").replace("’", "")
    text = re.sub(r"[^\w\s]", " ", text)
    return re.sub(r"[\s_\-]+", " ", text).strip()


def test_normalise_ascii_fast_path_matches_the_regex_form() -> None:
    rng = random.Random(11)
    alphabet = [chr(i) for i in range(128)]
    texts = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24))) for _ in range(20_000)
    ]
    texts += ["Don't  Panic_-now", "\x1c\x1fa\x0bB\x00c", "  ", "", "A--B__C", "it’s"]
    assert [normalise(t) for t in texts] == [_normalise_by_regex(t) for t in texts]


def test_two_names_of_one_form_resolve_the_same_whatever_the_order() -> None:
    # The same name in NFC and in NFD: two files, one extensionless form.
    composed, decomposed = "x/\u00e9.md", "x/e\u0301.md"
    first = LinkResolver([composed, decomposed]).resolve("x/\u00e9", "y/a.md")
    second = LinkResolver([decomposed, composed]).resolve("x/\u00e9", "y/a.md")
    assert first == second
