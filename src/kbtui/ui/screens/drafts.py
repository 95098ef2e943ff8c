"""Choosing what to draft from, and the list of drafts to reopen or delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Header, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from kbtui.ops import drafting
from kbtui.ops.desk import DocumentView
from kbtui.ui.markup import escape
from kbtui.ui.screens.modal import Dialog
from kbtui.ui.widgets.footer import KbFooter
from kbtui.ui.widgets.lists import KeyList

if TYPE_CHECKING:
    from kbtui.ui.app import KbApp


class DraftFrom(Dialog[int | None]):
    """Pick what a new claim starts from: a candidate (its number key) or blank (0)."""

    FOCUSED_LIST = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="draft_from.cancel"),
        *[
            Binding(
                str(n),
                f"pick({n})",
                f"Candidate {n}" if n else "Blank claim",
                show=False,
                id=f"draft_from.pick_{n}",
            )
            for n in range(10)
        ],
    ]

    def __init__(self, source: DocumentView) -> None:
        super().__init__()
        self.source = source

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Draft a claim from", classes="dialog-title")
            yield Static(f"[b]{escape(self.source.title)}[/b]", classes="dialog-subject")
            options = [Option("[b]0[/b]  Blank claim", id="0")]
            options += [
                Option(f"[b]{c['ordinal']}[/b]  {escape(c['text'])}", id=str(c["ordinal"]))
                for c in self.source.candidates
            ]
            yield KeyList(*options, id="draft-from", enter="draft_from.pick")
            yield Label(
                "A number picks at once; enter picks the highlighted one; esc cancels.",
                classes="dim",
            )
        yield KbFooter()

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 1 if self.source.candidates else 0
        options.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Only the numbers of this source's candidates are keys here (help and palette
        # listed "Candidate 9" for a source with two).
        if action == "pick" and parameters and parameters[0] != 0:
            return any(c["ordinal"] == parameters[0] for c in self.source.candidates)
        return True

    def action_pick(self, number: int) -> None:
        if number == 0 or any(c["ordinal"] == number for c in self.source.candidates):
            self.dismiss(number)
        else:
            self.notify(f"There is no candidate {number}.", severity="warning", timeout=2)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))


class ConfirmDialog(Dialog[bool]):
    """Yes or no, with the question spelled out."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(escape(self.question), classes="dialog-subject")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Yes (y)", variant="error", id="yes")
                yield Button("No (n)", id="no")
        yield KbFooter()

    def on_mount(self) -> None:
        # Enter on the focused button answers: it must never be the destructive one.
        self.query_one("#no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class DraftsScreen(Screen[None]):
    """Every draft not yet exported: claims and enrichments with their source."""

    TITLE = "Drafts"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="drafts.back"),
        Binding("x,delete", "delete", "Delete", id="drafts.delete"),
    ]

    @property
    def kb(self) -> KbApp:
        return cast("KbApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static("", id="drafts-info")
        yield KeyList(id="drafts", enter="drafts.open")
        yield KbFooter()

    def on_mount(self) -> None:
        self.refresh_drafts()
        self.query_one(OptionList).focus()

    def refresh_drafts(self) -> None:
        drafts = drafting.list_drafts(self.kb.db)
        options = self.query_one(OptionList)
        position = options.highlighted
        previous = options.get_option_at_index(position).id if position is not None else None
        options.clear_options()
        for draft in drafts:
            if draft.kind == "enrichment":
                what = f"enriches {draft.target_path}"
            elif draft.kind == "resolution":
                what = f"resolves {draft.target_path}"
            else:
                what = draft.title or "(untitled)"
            failing = drafting.failing_checks(self.kb.db, draft) if draft.state == "saved" else ""
            warning = (
                f"\n     [$text-error]edited since saved: {escape(failing)} Export skips it "
                "until it passes.[/]"
                if failing
                else ""
            )
            # A challenge comes from the claim it challenges; the others from a source.
            origin = (
                f"of {(draft.target_path or '-').rsplit('/', 1)[-1].removesuffix('.md')}"
                if draft.kind == "challenge"
                else f"from {draft.source_path or '-'}"
            )
            options.add_option(
                Option(
                    f"[b]{draft.id:>3}[/b] {draft.kind:10} {draft.state:6} {escape(what)}\n"
                    f"     [dim]{escape(origin)} · {draft.updated_at}[/dim]" + warning,
                    id=str(draft.id),
                )
            )
        if drafts:
            ids = [str(draft.id) for draft in drafts]
            # The same draft stays highlighted; after a delete, the one that took its place.
            options.highlighted = (
                ids.index(previous) if previous in ids else min(position or 0, len(ids) - 1)
            )
        self.query_one("#drafts-info", Static).update(
            f"{len(drafts)} draft(s) · enter reopens · x deletes"
            if drafts
            else "No drafts yet: press c on a source to draft a claim."
        )

    @on(OptionList.OptionSelected)
    def _reopen(self, event: OptionList.OptionSelected) -> None:
        self.kb.open_draft(int(event.option.id or 0))
        self.refresh_drafts()  # a draft deleted elsewhere leaves the list

    def action_delete(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            self.notify("No draft to delete.", timeout=2)
            return
        option = options.get_option_at_index(options.highlighted)
        draft_id = int(option.id or 0)

        def answer(yes: bool | None) -> None:
            if not yes:
                return
            try:
                drafting.delete_draft(self.kb.db, draft_id)
            except drafting.DraftMissing:
                # Deleted elsewhere meanwhile (`kbtui drafts rm`): what was asked is done.
                self.notify(f"Draft {draft_id} was already deleted elsewhere.", timeout=4)
            except drafting.DraftError as exc:
                self.notify(str(exc), severity="warning")
            else:
                self.notify(f"Deleted draft {draft_id}.", timeout=3)
            self.refresh_drafts()

        self.app.push_screen(
            ConfirmDialog(f"Delete draft {draft_id}? This cannot be undone."), answer
        )

    def action_back(self) -> None:
        self.app.pop_screen()

    def on_screen_resume(self) -> None:
        self.refresh_drafts()

    def index_updated(self, changed: set[str] | None) -> None:
        self.refresh_drafts()


class LinkPicker(Dialog[str | None]):
    """Pick a claim title to link: type to narrow, enter inserts `[[title]]`."""

    TEXT_FIELDS = ("Input",)
    """The text fields that have the focus here: the keymap check keeps their keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="link_picker.cancel"),
        Binding("down", "down", "Next", show=False, id="link_picker.down"),
        Binding("up", "up", "Previous", show=False, id="link_picker.up"),
    ]
    LIMIT = 40

    def __init__(
        self,
        titles: list[str],
        heading: str = "Link a claim",
        choose: str = "Insert the link",
    ) -> None:
        """`titles` in the order offered; `heading` says what the choice is for, and
        `choose` what enter does with it."""
        super().__init__()
        self.titles = titles
        self.heading = heading
        self.choose = choose

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.heading, classes="dialog-title")
            yield Input(placeholder="words in the title", id="link-filter")
            yield KeyList(id="link-options", enter="link_picker.insert", enter_label=self.choose)
        yield KbFooter()

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#link-filter", Input).focus()

    def _fill(self, text: str) -> None:
        words = text.lower().split()
        matches = [t for t in self.titles if all(w in t.lower() for w in words)]
        options = self.query_one("#link-options", OptionList)
        options.clear_options()
        options.add_options([Option(escape(t)) for t in matches[: self.LIMIT]])
        self._matches = matches[: self.LIMIT]
        if matches:
            options.highlighted = 0

    @on(Input.Changed, "#link-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#link-filter")
    def _submit(self, event: Input.Submitted) -> None:
        options = self.query_one("#link-options", OptionList)
        if options.highlighted is not None and self._matches:
            self.dismiss(self._matches[options.highlighted])

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._matches[event.option_index])

    def action_down(self) -> None:
        self.query_one("#link-options", OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one("#link-options", OptionList).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)
