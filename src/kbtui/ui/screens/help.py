"""The help screen, generated from the bindings active where it was opened."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from kbtui.ui.markup import escape
from kbtui.ui.widgets.footer import KbFooter

ALWAYS = (
    ("tab / shift+tab", "Move between panes"),
    ("ctrl+p", "Command palette: every action that fits here"),
)


def binding_rows(screen: Screen[object]) -> list[tuple[str, str, str]]:
    """(keys, description, id) for each binding active on `screen`, one row per action: the
    screen's and the app's first, then those of the focused widget (moving in a list).

    Bindings without an id are Textual's own (focus, copy): `ALWAYS` says what matters of
    them, once."""
    rows: dict[str, list[str]] = {}
    meta: dict[str, tuple[str, str]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.description or binding.system or not binding.id:
            continue
        action = f"{id(active.node)}:{binding.action}"
        rows.setdefault(action, []).append(screen.app.get_key_display(binding) or key)
        if binding.id or action not in meta:
            meta[action] = (binding.description, binding.id or "")
    found = [(" / ".join(dict.fromkeys(keys)), *meta[action]) for action, keys in rows.items()]
    # (A stable sort: each group keeps its order.)
    return sorted(found, key=lambda row: row[2].startswith(WIDGET_PREFIXES))


WIDGET_PREFIXES = ("table.", "list.")
"""Binding ids of the widgets inside screens, listed after the screen's own keys."""


class HelpScreen(ModalScreen[None]):
    """Every key that works on the screen below, with what it does."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,f1,q", "close", "Close help", id="help.close"),
        Binding("j,down", "scroll(1)", "Scroll down", show=False, id="help.down"),
        Binding("k,up", "scroll(-1)", "Scroll up", show=False, id="help.up"),
    ]

    def __init__(self, under: Screen[object]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        rows = binding_rows(self.under)
        table = Table(box=None, show_header=True, header_style="bold", expand=True)
        table.add_column("Key", style="bold", no_wrap=True)
        table.add_column("Action")
        # Ids are what a keymap names: never cut (the action's words wrap instead).
        table.add_column(
            "Binding id (config.toml)",
            style="dim",
            no_wrap=True,
            min_width=max((len(row[2]) for row in rows), default=0),
        )
        for keys, description, binding_id in rows:
            table.add_row(escape(keys), escape(description), binding_id)
        for keys, description in ALWAYS:
            table.add_row(keys, description, "")
        with VerticalScroll(classes="dialog help"):
            # The title can be a document's, KB text: shown as written, never read as markup.
            yield Label(
                f"Keys: {self.under.title or 'kbtui'}", classes="dialog-title", markup=False
            )
            yield Static(table)
            yield Label("esc closes this help", classes="dim")
        yield KbFooter()  # esc in view when the table is longer than the terminal

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, lines: int) -> None:
        self.query_one(VerticalScroll).scroll_relative(y=lines, animate=False)
