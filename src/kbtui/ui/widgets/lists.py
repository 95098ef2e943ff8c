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

    def __init__(
        self, *content: Any, enter: str | None = None, enter_label: str = "", **kwargs: Any
    ) -> None:
        """`enter`: the binding id of what enter does on this list (one of `ENTER_ACTIONS`),
        as the footer, the help and the palette name it (OptionList's own enter is a hidden
        "Select"); `enter_label` words it, when not as `ENTER_ACTIONS` does."""
        super().__init__(*content, **kwargs)
        if enter is not None:
            label = enter_label or ENTER_ACTIONS[enter][0]
            self._bindings.key_to_bindings["enter"] = [Binding("enter", "select", label, id=enter)]


ENTER_ACTIONS = {
    "desk.show_queue": ("Show this queue", "DeskScreen"),
    "handoff.open": ("Open the claim", "DeskScreen"),
    "document.open_backlink": ("Open", "DocumentScreen"),
    "document.open_link": ("Open", "DocumentScreen"),
    "divergences.open": ("Open", "DivergencesScreen"),
    "challenges.open": ("Open", "ChallengesScreen"),
    "drafts.open": ("Reopen", "DraftsScreen"),
    "draft_from.pick": ("Draft from it", "DraftFrom"),
    "link_picker.insert": ("Insert the link", None),
}
"""What enter does on each list that says so, by binding id, and the screen the list is on,
whose keys a new key must leave alone (a keymap can rebind them; not the link picker's,
whose list never has the focus: its field's enter inserts)."""
