"""Link resolution rules, in the order the KB applies them."""

from __future__ import annotations

from kbtui.formats.links import LinkResolver

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
