"""Form fields of the editors."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input


class FieldInput(Input):
    """An `Input` that keeps its text as it is when focused: Textual's selects it all, so the
    first key typed after a `tab` replaced a whole title (with no undo)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("select_on_focus", False)
        super().__init__(*args, **kwargs)
