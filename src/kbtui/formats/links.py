"""Wiki links: find `[[target|alias]]` in text and resolve targets with the KB's rules.

Resolution rules, in order (the name of the rule that matched is recorded):
own-map (`[[_map]]` is the linking folder's map), exact stem, case-insensitive stem,
repository path, path suffix, `.md` suffix (non-canonical), normalised stem.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

_LINK_RE = re.compile(r"\[\[([^\[\]\n]{1,1000})\]\]")
"""Greedy: the text cannot hold `]`, so the shortest match is the longest (and is found
without a step per character)."""
_PUNCT_RE = re.compile(r"[^\w\s]", re.UNICODE)
_SPACE_RE = re.compile(r"[\s_\-]+")

RESOLVED_CACHE = 50_000
"""Resolutions a resolver remembers (it starts again when full: memory stays bounded)."""
RULES = ("own-map", "exact", "case-insensitive", "path", "path-suffix", "md-suffix", "normalised")


class WikiLink(NamedTuple):
    """One `[[...]]` occurrence (or a bare title from a provenance field).

    A named tuple: files hold thousands, and a frozen dataclass takes much longer to build."""

    raw: str
    target: str
    alias: str | None
    heading: str | None
    line: int
    origin: str


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where a link target leads, by which rule, and whether another file had the same claim."""

    path: str | None
    rule: str | None
    ambiguous: bool = False
    candidates: tuple[str, ...] = ()
    non_canonical: bool = False


def split_target(inner: str) -> tuple[str, str | None, str | None]:
    """Split `target#heading|alias` into its parts."""
    alias = None
    if "|" in inner:
        inner, alias = inner.split("|", 1)
        alias = alias.strip() or None
    heading = None
    if "#" in inner:
        inner, heading = inner.split("#", 1)
        heading = heading.strip() or None
    return inner.strip(), alias, heading


def find_links(text: str, first_line: int, origin: str) -> list[WikiLink]:
    """Every `[[...]]` in `text`, with its line number (text starts at `first_line`)."""
    links: list[WikiLink] = []
    if "[[" not in text:
        return links
    line = first_line
    position = 0
    for match in _LINK_RE.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        target, alias, heading = split_target(match.group(1))
        if target or heading:
            links.append(WikiLink(match.group(0), target, alias, heading, line, origin))
    return links


def bare_title_link(title: str, line: int, origin: str) -> WikiLink:
    """A provenance value (a claim title, maybe with brackets or `.md`) as a link to resolve."""
    inner = title.strip()
    if inner.startswith("[[") and inner.endswith("]]"):
        inner = inner[2:-2]
    target, alias, heading = split_target(inner)
    return WikiLink(title, target, alias, heading, line, origin)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


_ASCII_LOOSE = str.maketrans(
    {chr(i): " " for i in range(128) if not chr(i).isalnum()} | {"'": None}
)
"""For ASCII text, what `normalise` does: apostrophes dropped, all but letters and digits a
space (a resolver indexes every file's stem this way, which a large KB's start feels)."""


def normalise(text: str) -> str:
    """Loose form of a title: NFC, case-folded, apostrophes dropped, other punctuation as spaces."""
    if text.isascii():
        return " ".join(text.lower().translate(_ASCII_LOOSE).split())
    text = nfc(text).casefold().replace("'", "").replace("’", "")
    text = _PUNCT_RE.sub(" ", text)
    return _SPACE_RE.sub(" ", text).strip()


class LinkResolver:
    """Resolves link targets against the set of document paths in a KB."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths: set[str] = set()
        self._by_stem: dict[str, list[str]] = defaultdict(list)
        self._by_lower: dict[str, list[str]] = defaultdict(list)
        self._by_norm: dict[str, list[str]] = defaultdict(list)
        self._by_noext: dict[str, str] = {}
        self._by_suffix: dict[str, list[str]] | None = None
        """Paths by each tail of their folders (`b/c` for `a/b/c`): built on first use."""
        self._resolved: dict[tuple[str, str], Resolution] = {}
        """Resolutions by target and linking folder: most targets are linked many times."""
        for path in paths:
            self.add(path)

    def add(self, path: str) -> None:
        if path in self.paths:
            return
        self.paths.add(path)
        self._resolved.clear()
        noext = nfc(path[:-3] if path.endswith(".md") else path)
        stem = noext.rsplit("/", 1)[-1]
        self._by_stem[stem].append(path)
        self._by_lower[stem.casefold()].append(path)
        self._by_norm[normalise(stem)].append(path)
        # Two files can share an extensionless form (one name in NFC, one in NFD): the same
        # one is chosen whatever order the paths come in.
        current = self._by_noext.get(noext)
        if current is None or path < current:
            self._by_noext[noext] = path
        if self._by_suffix is not None:
            self._add_suffixes(noext, path)

    def _add_suffixes(self, noext: str, path: str) -> None:
        assert self._by_suffix is not None
        start = noext.find("/")
        while start >= 0:
            self._by_suffix.setdefault(noext[start + 1 :], []).append(path)
            start = noext.find("/", start + 1)

    def _suffix_matches(self, cleaned: str) -> list[str]:
        """Paths whose extensionless form ends with `/` + `cleaned` (an index, not a scan:
        a KB of 100k files with many path links stays linear)."""
        if self._by_suffix is None:
            self._by_suffix = {}
            for noext, path in self._by_noext.items():
                self._add_suffixes(noext, path)
        return self._by_suffix.get(cleaned, [])

    def stems(self) -> list[str]:
        return list(self._by_stem)

    @staticmethod
    def _pick(candidates: list[str], from_path: str) -> tuple[str, bool, tuple[str, ...]]:
        if len(candidates) == 1:
            return candidates[0], False, ()
        folder = posixpath.dirname(from_path)
        ordered = sorted(candidates)
        chosen = next((c for c in ordered if posixpath.dirname(c) == folder), None)
        if chosen is None:
            chosen = next((c for c in ordered if c.startswith("domains/")), ordered[0])
        return chosen, True, tuple(ordered)

    def resolve(self, target: str, from_path: str) -> Resolution:
        """Resolve `target` as linked from the document at `from_path`."""
        if not target.strip():
            # `[[#heading]]` points into the linking file itself.
            return Resolution(from_path, "self")
        # Only the folder of the linking file matters (its map, and which of two files wins).
        key = (target, from_path.rpartition("/")[0])
        found = self._resolved.get(key)
        if found is None:
            if len(self._resolved) >= RESOLVED_CACHE:
                self._resolved.clear()
            found = self._resolved[key] = self._resolve(nfc(target.strip()), from_path)
        return found

    def _resolve(self, target: str, from_path: str) -> Resolution:
        if target == "_map":
            own = posixpath.join(posixpath.dirname(from_path), "_map.md")
            return Resolution(own, "own-map") if own in self.paths else Resolution(None, None)
        found = self._resolve_plain(target, from_path)
        if found is not None:
            return found
        if target.lower().endswith(".md"):
            inner = self._resolve_plain(target[:-3], from_path)
            if inner is not None:
                return Resolution(
                    inner.path, "md-suffix", inner.ambiguous, inner.candidates, non_canonical=True
                )
            target = target[:-3]
        norm = self._by_norm.get(normalise(target.rsplit("/", 1)[-1]))
        if norm:
            path, ambiguous, candidates = self._pick(norm, from_path)
            return Resolution(path, "normalised", ambiguous, candidates, non_canonical=True)
        return Resolution(None, None)

    def _resolve_plain(self, target: str, from_path: str) -> Resolution | None:
        exact = self._by_stem.get(target)
        if exact:
            path, ambiguous, candidates = self._pick(exact, from_path)
            return Resolution(path, "exact", ambiguous, candidates)
        lower = self._by_lower.get(target.casefold())
        if lower:
            path, ambiguous, candidates = self._pick(lower, from_path)
            return Resolution(path, "case-insensitive", ambiguous, candidates)
        if "/" in target:
            cleaned = target.strip("/")
            if cleaned in self._by_noext:
                return Resolution(self._by_noext[cleaned], "path")
            matches = self._suffix_matches(cleaned)
            if matches:
                path, ambiguous, candidates = self._pick(matches, from_path)
                return Resolution(path, "path-suffix", ambiguous, candidates)
        return None
