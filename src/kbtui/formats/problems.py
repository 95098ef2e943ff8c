"""A problem found in a file: what the health check reports."""

from __future__ import annotations

from typing import Literal, NamedTuple

Severity = Literal["error", "warning", "info"]


class Problem(NamedTuple):
    """One thing wrong with (or worth knowing about) a file, with the line it is on.

    A named tuple, cheap to build: a KB's files have thousands."""

    code: str
    message: str
    line: int | None = None
    severity: Severity = "warning"
    field: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "line": self.line,
        }
