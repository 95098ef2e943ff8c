"""Suggest existing titles for link targets that resolve to nothing."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz, process

from kbtui.formats.links import normalise
from kbtui.store.db import Database

SUGGESTION_KINDS = ("claim", "entity", "map", "divergence", "position", "belief")
SCORE_CUTOFF = 75


def suggest_targets(db: Database, targets: Iterable[str], limit: int = 3) -> dict[str, list[str]]:
    """For each target, up to `limit` existing stems that look like what was meant."""
    wanted = sorted({t for t in targets if t and t != "_map"})
    if not wanted:
        return {}
    marks = ", ".join("?" * len(SUGGESTION_KINDS))
    stems = [
        row[0]
        for row in db.conn.execute(
            f"SELECT DISTINCT stem FROM documents WHERE kind IN ({marks})", SUGGESTION_KINDS
        )
    ]
    if not stems:
        return {t: [] for t in wanted}
    choices = [normalise(stem) for stem in stems]
    result: dict[str, list[str]] = {}
    for target in wanted:
        matches = process.extract(
            normalise(target),
            choices,
            scorer=fuzz.token_sort_ratio,
            limit=limit,
            score_cutoff=SCORE_CUTOFF,
        )
        result[target] = [stems[index] for _, _, index in matches]
    return result
