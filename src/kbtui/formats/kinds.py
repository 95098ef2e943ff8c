"""Names the front ends need before any file is parsed: the shipped profile's vocabularies.

What a file is (its kind, from its path and its `type:`) and its fields are in the profile
(`formats/profile.py`, `kbtui/profile.toml`). The constants here are the shipped profile's
own values, kept as literals so that the app's start-up path need not load the profile and
pydantic (a test holds them equal to the profile).
"""

from __future__ import annotations

from typing import Final

SOURCE_STATUSES: Final = ("unprocessed", "processing", "processed", "null-result")
"""The source queues, in order."""
SOURCE_QUEUE_AS: Final = {"enrichment": "processed"}
"""Source statuses shown in another status's queue."""
CLAIM_CONFIDENCES: Final = ("proven", "likely", "experimental", "speculative")
DIVERGENCE_STATUSES: Final = ("open", "resolved")
ALL_KINDS: Final = (
    "source",
    "claim",
    "divergence",
    "challenge",
    "entity",
    "belief",
    "position",
    "musing",
    "conviction",
    "sector",
    "map",
    "other",
)
"""Every kind the shipped profile knows."""

EMPTY_MARKERS: Final = frozenset({"", "0", "none", "null", "~", "n/a", "-", "[]"})
"""Values a list field holds when it means "nothing" (`claims_extracted: 0`, `enrichments:
none`): read as an empty list, never as a claim named "none"."""

ENTRY_NAME_KEYS: Final = ("target", "claim")
"""The keys by which a list entry written as a mapping names its claim (its other keys, such
as `contribution:`, are notes about it)."""
