"""Near-duplicate titles across a whole KB, without comparing every pair of them.

Titles are compared by rapidfuzz's token sort ratio on their words (a slug's hyphens and a
title's spaces are the same words). Only titles that share one of their rarest words are
compared (prefix filtering): two titles as close as a near-duplicate share most of their
words, so each one's rarest few include a word of the other's. Each title then meets a few
others rather than every title of the KB.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_WORD_RE = re.compile(r"[^\W_]+")
STEM_CHARS = 6
"""Words are compared for blocking by their first letters, so that `market` and `markets`
count as one word."""
SHARED_WORDS = 0.6
"""Titles sharing fewer than this share of their words are never compared: no pair that
close in words is missed."""


def title_words(title: str) -> list[str]:
    """A title's words, case-folded: hyphens, underscores and punctuation separate them."""
    return _WORD_RE.findall(title.casefold())


@dataclass(frozen=True, slots=True)
class Similar:
    """Two titles of the index (by position) and how alike they are (0-100)."""

    first: int
    second: int
    score: int


class TitleIndex:
    """Titles, blocked by their rarest words, for finding near-duplicates among them or of
    one more title."""

    def __init__(self, titles: Iterable[str]) -> None:
        self.titles = list(titles)
        # Words in sorted order: a plain ratio of these is the token sort ratio, without
        # sorting each title again for every comparison.
        self._texts = [" ".join(sorted(title_words(t))) for t in self.titles]
        keys = [{w[:STEM_CHARS] for w in text.split()} for text in self._texts]
        self._frequency = Counter(k for found in keys for k in found)
        self._blocks: dict[str, list[int]] = defaultdict(list)
        self._prefixes = [self._prefix(found) for found in keys]
        for position, prefix in enumerate(self._prefixes):
            for key in prefix:
                self._blocks[key].append(position)

    def _prefix(self, keys: set[str]) -> list[str]:
        """A title's rarest words: any title sharing `SHARED_WORDS` of its words with this
        one has one of them among its own rarest."""
        ordered = sorted(keys, key=lambda k: (self._frequency[k], k))
        size = len(ordered) - math.ceil(len(ordered) * SHARED_WORDS) + 1
        return ordered[: max(size, 1)]

    @staticmethod
    def _close_in_length(a: str, b: str, cutoff: float) -> bool:
        """Whether two texts' lengths let their ratio reach `cutoff` (0-100) at all."""
        return bool(a and b) and 2 * min(len(a), len(b)) >= cutoff / 100 * (len(a) + len(b))

    def _score(self, a: str, b: str, cutoff: float) -> int:
        from rapidfuzz import fuzz

        if not self._close_in_length(a, b, cutoff):
            return 0
        return round(fuzz.ratio(a, b, score_cutoff=cutoff))

    def pairs(self, threshold: float) -> list[Similar]:
        """Every pair of titles at least `threshold` (0-1) alike, each pair once."""
        from rapidfuzz import fuzz, process

        cutoff = threshold * 100
        found: list[Similar] = []
        for first, keys in enumerate(self._prefixes):
            candidates: set[int] = set()
            for key in keys:
                candidates.update(self._blocks[key])
            # Each pair once, from its first title (rapidfuzz skips the texts whose length
            # alone keeps them under the cutoff).
            others = [second for second in candidates if second > first]
            for _, score, at in process.extract(
                self._texts[first],
                [self._texts[second] for second in others],
                scorer=fuzz.ratio,
                score_cutoff=cutoff,
                limit=None,
            ):
                found.append(Similar(first, others[at], round(score)))
        return sorted(found, key=lambda s: (s.first, s.second))

    def similar(
        self, title: str, threshold: float, exclude: Sequence[int] = ()
    ) -> list[tuple[int, int]]:
        """The titles at least `threshold` (0-1) like `title`, as (position, score), the
        closest first."""
        cutoff = threshold * 100
        text = " ".join(sorted(title_words(title)))
        candidates: set[int] = set()
        for key in self._prefix({w[:STEM_CHARS] for w in text.split()}):
            candidates.update(self._blocks.get(key, ()))
        candidates.difference_update(exclude)
        scored = [(p, self._score(text, self._texts[p], cutoff)) for p in candidates]
        return sorted(
            ((p, s) for p, s in scored if s >= cutoff and s > 0), key=lambda ps: (-ps[1], ps[0])
        )
