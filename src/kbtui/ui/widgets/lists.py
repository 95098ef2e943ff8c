"""Option lists that move with the same keys as the tables: j/k, g/G."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import OptionList


class KeyList(OptionList):
    """An OptionList that also moves with j/k and jumps with g/G, as the queue does."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="list.down"),
        Binding("k", "cursor_up", "Up", show=False, id="list.up"),
        Binding("g", "first", "First", show=False, id="list.first"),
        Binding("G", "last", "Last", show=False, id="list.last"),
    ]

    def __init__(self, *content: Any, enter: tuple[str, str] | None = None, **kwargs: Any) -> None:
        """`enter`: what enter does on this list, and its binding id, as the footer, the help
        and the palette name it (OptionList's own enter is a hidden "Select")."""
        super().__init__(*content, **kwargs)
        if enter is not None:
            description, binding_id = enter
            self._bindings.key_to_bindings["enter"] = [
                Binding("enter", "select", description, id=binding_id)
            ]
