"""What an index run reports: kept apart from the indexer, so that the app can read a report
without loading the parsing stack."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Progress = Callable[[int, int], None]
"""Called with (files looked at, files in all) as a run goes."""


@dataclass(slots=True)
class IndexReport:
    """What an index run changed."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    unchanged: int = 0
    documents: int = 0
    other_files: int = 0
    unreadable_folders: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted or self.renamed)

    def as_dict(self) -> dict[str, object]:
        return {
            "documents": self.documents,
            "added": self.added,
            "updated": self.updated,
            "deleted": self.deleted,
            "renamed": [list(pair) for pair in self.renamed],
            "unchanged": self.unchanged,
            "other_files": self.other_files,
            "unreadable_folders": self.unreadable_folders,
            "seconds": round(self.seconds, 3),
        }
