"""Messages the app's workers post: named by what happened."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from kbtui.ops.report import IndexReport


class IndexProgressed(Message):
    """The index worker read `done` of `total` files."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total


class IndexFinished(Message):
    """An indexing run (the app's own, or the one after an export) finished with its report,
    or failed (error, one line)."""

    def __init__(self, report: IndexReport | None, error: str | None = None) -> None:
        super().__init__()
        self.report = report
        self.error = error
