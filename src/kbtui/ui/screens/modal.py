"""The dialogs' common ground: their own footer, and help."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.screen import ModalScreen

ResultT = TypeVar("ResultT")


class Dialog(ModalScreen[ResultT]):
    """A dialog. Textual looks for keys no further than a dialog (the screen below and the
    app's keys do not work in it), so each dialog binds help itself, and shows its own keys
    in a footer of its own (`KbFooter`, yielded by each), over the footer of the screen below.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "app.help", "Help", show=False, id="dialog.help"),
    ]
    FOCUSED_LIST: ClassVar[bool] = False
    """A list of the dialog has the focus: its keys (`j`, `k`) are taken there too (the
    keymap check keeps them)."""
