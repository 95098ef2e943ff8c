"""A document opened by following a link: the reader beside its backlinks."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, OptionList, Static

from kbtui.ops import desk
from kbtui.ops.desk import DocumentView
from kbtui.ui.markup import clip
from kbtui.ui.widgets.footer import KbFooter
from kbtui.ui.widgets.handoff import backlink_option, link_option
from kbtui.ui.widgets.lists import KeyList
from kbtui.ui.widgets.reader import Reader

if TYPE_CHECKING:
    from kbtui.ui.app import KbApp


class DocumentScreen(Screen[None]):
    """One claim, entity, map or source, with what points at it; back returns."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "back", "Back", id="document.back"),
        Binding("o", "edit", "Edit", id="document.edit", tooltip="Open the file in $EDITOR"),
        Binding(
            "c",
            "challenge",
            "Challenge",
            id="document.challenge",
            tooltip="Draft a challenge of this claim",
        ),
    ]

    def __init__(self, view: DocumentView) -> None:
        super().__init__()
        self.view = view
        self.title = clip(view.title, 90)

    @property
    def kb(self) -> KbApp:
        return cast("KbApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Horizontal():
            yield Reader(id="reader")
            with Vertical(id="backlinks-pane"):
                yield Static("", classes="section", id="backlinks-heading")
                yield KeyList(id="backlinks", enter="document.open_backlink")
                yield Static("Links from here", classes="section")
                yield KeyList(id="outlinks", enter="document.open_link")
        yield KbFooter()

    def on_mount(self) -> None:
        self.show(self.view)
        self.query_one(Reader).focus()

    def show(self, view: DocumentView) -> None:
        self.view = view
        self.query_one(Reader).show(view)
        backlinks = self.query_one("#backlinks", OptionList)
        backlinks.clear_options()
        backlinks.add_options([backlink_option(b) for b in view.backlinks])
        if view.backlinks:
            backlinks.highlighted = 0
        kinds = sorted({b.kind for b in view.backlinks})
        self.query_one("#backlinks-heading", Static).update(
            f"Backlinks: {len(view.backlinks)}" + (f" ({', '.join(kinds)})" if kinds else "")
        )
        outlinks = self.query_one("#outlinks", OptionList)
        outlinks.clear_options()
        seen: set[str] = set()
        for link in view.links:
            if link.target and link.target not in seen:
                seen.add(link.target)
                outlinks.add_option(link_option(link))
        if seen:
            outlinks.highlighted = 0

    @on(OptionList.OptionSelected, "#backlinks")
    def _backlink_chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.kb.open_path(event.option.id)

    @on(OptionList.OptionSelected, "#outlinks")
    def _outlink_chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.kb.follow_link(self.view, event.option.id)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_edit(self) -> None:
        self.kb.edit_file(self.view.path)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Only a claim can be challenged: elsewhere the key is neither shown nor run.
        if action == "challenge":
            return self.view.kind == "claim"
        return True

    def action_challenge(self) -> None:
        self.kb.draft_challenge(self.view.path)

    def on_screen_resume(self) -> None:
        self.index_updated(None)

    def index_updated(self, changed: set[str] | None) -> None:
        """Show the document as the index now has it (after `o`, `ctrl+r` or an export);
        `changed` holds the paths a run changed (None: not known)."""
        if changed is not None and self.view.path not in changed:
            return  # a reader scrolled down stays where it is
        fresh = desk.load_document(self.kb.db, self.view.id, body_limit=desk.READER_BODY_BYTES)
        if fresh is not None:
            self.show(fresh)
            return
        # Deleted (or renamed away) since it was opened: said, as the desk says it.
        self.query_one(Reader).show(None, "This file is no longer indexed.")
        for lines in ("#backlinks", "#outlinks"):
            self.query_one(lines, OptionList).clear_options()
        self.query_one("#backlinks-heading", Static).update("Backlinks: none")
