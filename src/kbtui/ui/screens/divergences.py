"""Divergences in the app: the editor, picking claims, and the open/resolved list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import (
    Header,
    Input,
    Label,
    OptionList,
    SelectionList,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option

from kbtui.ops import divergence, drafting
from kbtui.ui.markup import escape
from kbtui.ui.screens.dialogs import NoteDialog
from kbtui.ui.screens.editor import MARKS, ChoiceSuggester, DraftScreen, split_list
from kbtui.ui.screens.modal import Dialog
from kbtui.ui.widgets.fields import FieldInput
from kbtui.ui.widgets.footer import KbFooter
from kbtui.ui.widgets.lists import KeyList

if TYPE_CHECKING:
    from kbtui.ui.app import KbApp


class PickClaims(Dialog[list[str] | None]):
    """Choose 2-5 of the claims a source names, as the seed of a divergence."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="pick_claims.cancel"),
        Binding("ctrl+s", "done", "Use these", id="pick_claims.done", priority=True),
    ]

    def __init__(self, title: str, claims: list[tuple[str, str]]) -> None:
        super().__init__()
        self.source_title = title
        self.claims = claims

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Divergence from", classes="dialog-title")
            yield Static(f"[b]{escape(self.source_title)}[/b]", classes="dialog-subject")
            yield SelectionList[str](
                *[(escape(title), path, True) for path, title in self.claims[:5]],
                *[(escape(title), path, False) for path, title in self.claims[5:]],
            )
            yield Label(
                "space toggles a claim · ctrl+s uses the ticked ones (2 to 5)", classes="dim"
            )
        yield KbFooter()

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def action_done(self) -> None:
        chosen = list(self.query_one(SelectionList).selected)
        if not 2 <= len(chosen) <= 5:
            self.notify(f"Tick 2 to 5 claims ({len(chosen)} ticked).", severity="warning")
            return
        self.dismiss(chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)


class DivergenceEditor(DraftScreen):
    """Edit a divergence draft: the question, why it matters, its claims, the body."""

    TITLE = "Divergence draft"
    TEXT_FIELDS = ("Input", "TextArea")
    """The text fields that have the focus here: the keymap check keeps their keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="divergence.save", priority=True),
        Binding("escape", "close", "Close (kept)", id="divergence.close"),
    ]
    CHECK_DELAY = 0.25

    def __init__(self, draft: drafting.Draft) -> None:
        super().__init__()
        self.draft = draft
        self._timer: Timer | None = None
        self._loading = True

    def compose(self) -> ComposeResult:
        draft = self.draft
        titles = drafting.claim_stems(self.kb.db)
        yield Header(icon="◆")
        with Horizontal():
            with VerticalScroll(id="editor-form"):
                yield Label("Question (what the claims disagree about)")
                yield FieldInput(draft.title, id="title", placeholder="Which …?")
                yield Label("Description (why it matters, what resolving it would unlock)")
                yield FieldInput(draft.description, id="description")
                yield Label("Domain")
                yield FieldInput(draft.domain, id="domain")
                yield Label("Claims (2 to 5, separated by ;)")
                yield FieldInput(
                    "; ".join(draft.claims),
                    id="claims",
                    suggester=ChoiceSuggester(titles, multiple=True),
                )
                yield Label("Body: divergent claims, what would resolve it, cascade impact")
                yield TextArea(draft.body, id="body", soft_wrap=True)
            with VerticalScroll(id="editor-side"):
                yield Static("", id="draft-state")
                yield Static("Checks", classes="section")
                yield Static("", id="checks")
        yield KbFooter()

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()
        self.refresh_checks()
        self.call_after_refresh(self._loaded)

    def _loaded(self) -> None:
        self._loading = False

    def form(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            name: self.query_one(f"#{name}", Input).value
            for name in ("title", "description", "domain")
        }
        values["claims"] = split_list(self.query_one("#claims", Input).value)
        values["body"] = self.query_one("#body", TextArea).text
        return values

    def _save(self, name: str, value: object) -> None:
        if self._loading:
            return
        self.write(lambda draft_id: drafting.update_draft(self.kb.db, draft_id, **{name: value}))
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(self.CHECK_DELAY, self.refresh_checks)

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        name = event.input.id or ""
        if name == "claims":
            self._save("claims", split_list(event.value))
        elif name in ("title", "description", "domain"):
            self._save(name, event.value)

    @on(TextArea.Changed, "#body")
    def _body_changed(self, event: TextArea.Changed) -> None:
        self._save("body", event.text_area.text)

    def refresh_checks(self) -> None:
        self._timer = None
        draft = self.draft
        self.query_one("#draft-state", Static).update(
            escape(f"Divergence draft {draft.id} · {draft.state} · {len(draft.claims)} claims")
        )
        lines = []
        for check in divergence.check_divergence(self.kb.db, draft):
            line = f"{MARKS[check.status]} {escape(check.message)}"
            if check.suggestion:
                line += f"\n   [dim]try:[/dim] {escape(check.suggestion)}"
            lines.append(line)
        self.query_one("#checks", Static).update("\n".join(lines))

    def action_save(self) -> None:
        try:
            self.write(lambda draft_id: drafting.save_draft(self.kb.db, draft_id))
        except drafting.DraftError as exc:
            self.refresh_checks()
            self.notify(str(exc), title="Not saved yet (the draft is kept)", severity="warning")
            return
        self.notify("Divergence saved for export.", title="Divergence saved")
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class DivergencesScreen(Screen[None]):
    """Open and resolved divergences with their claims; resolve one with a note."""

    TITLE = "Divergences"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="divergences.back"),
        Binding(
            "r",
            "resolve",
            "Resolve",
            id="divergences.resolve",
            tooltip="Resolve the divergence: asks for the note saying what settled it",
        ),
    ]

    @property
    def kb(self) -> KbApp:
        return cast("KbApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static("", id="divergences-info")
        yield KeyList(id="divergences", enter="divergences.open")
        yield KbFooter()

    def on_mount(self) -> None:
        self.refresh_list()
        self.query_one(OptionList).focus()

    def refresh_list(self) -> None:
        self.rows = divergence.divergences(self.kb.db)
        drafts = [d for d in drafting.list_drafts(self.kb.db) if d.kind == "divergence"]
        options = self.query_one(OptionList)
        # The highlighted divergence stays highlighted, wherever a refresh puts it.
        previous = (
            options.get_option_at_index(options.highlighted).id
            if options.highlighted is not None
            else None
        )
        options.clear_options()
        for row in self.rows:
            status = row["status"] + (" · resolution pending" if row["resolution_pending"] else "")
            claims = "\n".join(f"     · {escape(c)}" for c in row["claims"])
            options.add_option(
                Option(
                    f"[b]{escape(status):10}[/b] {escape(row['title'])}\n{claims}",
                    id=f"file:{row['path']}",
                )
            )
        for draft in drafts:
            options.add_option(
                Option(
                    f"[b]{'draft':10}[/b] {escape(draft.title or '(no question yet)')} "
                    f"[dim]({draft.state}, {len(draft.claims)} claims)[/dim]",
                    id=f"draft-{draft.id}",
                )
            )
        if options.option_count:
            ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
            options.highlighted = ids.index(previous) if previous in ids else 0
        self.query_one("#divergences-info", Static).update(
            f"{sum(1 for r in self.rows if r['status'] == 'open')} open, "
            f"{sum(1 for r in self.rows if r['status'] == 'resolved')} resolved, "
            f"{len(drafts)} draft(s) · enter opens · r resolves"
        )

    @on(OptionList.OptionSelected)
    def _open(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ""
        if option_id.startswith("draft-"):
            self.kb.open_divergence_draft(int(option_id.removeprefix("draft-")))
        else:
            self.kb.open_path(option_id.removeprefix("file:"))

    def action_resolve(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return
        option_id = options.get_option_at_index(options.highlighted).id or ""
        if option_id.startswith("draft-"):
            self.notify("Export the draft first; then it can be resolved.", severity="warning")
            return
        row = next(r for r in self.rows if r["path"] == option_id.removeprefix("file:"))
        if row["status"] == "resolved" or row["resolution_pending"]:
            self.notify(
                "Already resolved."
                if row["status"] == "resolved"
                else "Its resolution is pending export (drafts: d on the desk).",
                severity="warning",
            )
            return

        def done(note: str | None) -> None:
            if note:
                try:
                    divergence.resolve_divergence(self.kb.db, row["path"], note)
                except drafting.DraftError as exc:
                    self.notify(str(exc), severity="warning")
                    return
                self.notify("Resolution recorded (pending export).", timeout=3)
                self.refresh_list()

        self.app.push_screen(
            NoteDialog("Resolve divergence", row["title"], "What evidence settled it?"), done
        )

    def action_back(self) -> None:
        self.app.pop_screen()

    def on_screen_resume(self) -> None:
        self.refresh_list()

    def index_updated(self, changed: set[str] | None) -> None:
        if changed is None or changed:
            self.refresh_list()
