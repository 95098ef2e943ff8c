"""Small typed dialogs: each one dismisses with its value, or None when cancelled."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from kbtui.ops.desk import QueueFilter
from kbtui.ui.markup import escape
from kbtui.ui.screens.modal import Dialog
from kbtui.ui.widgets.footer import KbFooter


class NoteDialog(Dialog[str | None]):
    """Asks for a note (why a source yields nothing, what settled a divergence)."""

    TEXT_FIELDS = ("TextArea",)
    """The text fields that have the focus here: the keymap check keeps their keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("ctrl+s", "confirm", "Confirm", id="dialog.confirm"),
    ]

    def __init__(self, heading: str, subject: str, prompt: str, text: str = "") -> None:
        super().__init__()
        self.heading = heading
        self.subject = subject
        self.prompt = prompt
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.heading, classes="dialog-title")
            yield Static(f"[b]{escape(self.subject)}[/b]", classes="dialog-subject")
            yield Label(self.prompt)
            yield TextArea(self.text, id="note", soft_wrap=True)
            yield Static("", id="dialog-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.heading} (ctrl+s)", variant="warning", id="confirm")
                yield Button("Cancel (esc)", id="cancel")
        yield KbFooter()

    def on_mount(self) -> None:
        self.query_one("#note", TextArea).focus()

    def action_confirm(self) -> None:
        note = self.query_one("#note", TextArea).text.strip()
        if not note:
            self.query_one("#dialog-error", Static).update("A note is required.")
            return
        self.dismiss(note)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm":
            self.action_confirm()
        else:
            self.action_cancel()


class NullResultDialog(NoteDialog):
    """Asks for the note a null-result needs: why the source yields no claim."""

    def __init__(self, title: str) -> None:
        super().__init__(
            "Set null-result",
            title,
            "Why does this source yield no claim? (the KB requires a note)",
        )


class FilterDialog(Dialog[QueueFilter | None]):
    """Narrow the queues by free text, domain, priority, format and linked set."""

    TEXT_FIELDS = ("Input",)
    """The text fields that have the focus here: the keymap check keeps their keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("ctrl+s", "apply", "Apply", id="dialog.apply", priority=True),
        # A priority binding: the text box, focused first, would take ctrl+x as "cut".
        Binding("ctrl+x", "clear", "Clear filters", id="dialog.clear", priority=True),
    ]

    def __init__(self, current: QueueFilter, options: dict[str, list[str]]) -> None:
        super().__init__()
        self.current = current
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Filter sources", classes="dialog-title")
            yield Input(
                self.current.text,
                placeholder="words in title or text (enter applies)",
                id="filter-text",
            )
            for column, label in (
                ("domain", "Domain"),
                ("priority", "Priority"),
                ("format", "Format"),
                ("linked_set", "Linked set"),
            ):
                values = list(self.options.get(column, []))
                current = getattr(self.current, column)
                if current and current not in values:
                    # The filter's value, no longer on any source (edited meanwhile), stays
                    # offered so that it shows and can be changed.
                    values.append(current)
                yield Select(
                    [(escape(v), v) for v in values],
                    prompt=f"{label}: any",
                    value=current or Select.NULL,
                    id=f"filter-{column}",
                )
            with Horizontal(classes="dialog-buttons"):
                # ctrl+s applies from anywhere (enter only from the text box: on a choice
                # list, enter opens it).
                yield Button("Apply (ctrl+s)", variant="primary", id="apply")
                yield Button("Clear (ctrl+x)", id="clear")
                yield Button("Cancel (esc)", id="cancel")
        yield KbFooter()

    def on_mount(self) -> None:
        self.query_one("#filter-text", Input).focus()

    def _value(self, column: str) -> str | None:
        value = self.query_one(f"#filter-{column}", Select).value
        return value if isinstance(value, str) else None

    def action_apply(self) -> None:
        self.dismiss(
            QueueFilter(
                domain=self._value("domain"),
                priority=self._value("priority"),
                format=self._value("format"),
                linked_set=self._value("linked_set"),
                text=self.query_one("#filter-text", Input).value.strip(),
            )
        )

    def action_clear(self) -> None:
        self.dismiss(QueueFilter())

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_apply()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"apply": self.action_apply, "clear": self.action_clear}.get(
            event.button.id or "", self.action_cancel
        )()
