"""Challenges in the app: the editor of a challenge draft, and the list of challenges."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from kbtui.formats.challenges import TITLE_PLACEHOLDER
from kbtui.formats.kinds import CLAIM_CONFIDENCES
from kbtui.ops import challenge, drafting
from kbtui.ui.markup import escape
from kbtui.ui.screens.editor import MARKS, ChoiceSuggester, DraftScreen
from kbtui.ui.widgets.fields import FieldInput
from kbtui.ui.widgets.footer import KbFooter
from kbtui.ui.widgets.lists import KeyList

if TYPE_CHECKING:
    from kbtui.ui.app import KbApp

FIELDS = ("title", "description", "challenge_type", "confidence", "source", "domain")


class ChallengeEditor(DraftScreen):
    """Edit a challenge draft: the challenge, its type, the case against the claim."""

    TITLE = "Challenge draft"
    TEXT_FIELDS = ("Input", "TextArea")
    """The text fields that have the focus here: the keymap check keeps their keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="challenge.save", priority=True),
        Binding("escape", "close", "Close (kept)", id="challenge.close"),
    ]
    CHECK_DELAY = 0.25

    def __init__(self, draft: drafting.Draft) -> None:
        super().__init__()
        self.draft = draft
        self._timer: Timer | None = None
        self._loading = True

    def compose(self) -> ComposeResult:
        draft = self.draft
        types = list(challenge.challenge_types(self.kb.db))
        yield Header(icon="◆")
        with Horizontal():
            with VerticalScroll(id="editor-form"):
                yield Label("Challenge (a proposition against the claim)")
                yield FieldInput(draft.title, id="title")
                yield Label("Description (what the title does not say)")
                yield FieldInput(draft.description, id="description")
                with Horizontal(classes="editor-row"):
                    with Vertical():
                        yield Label("Type")
                        yield FieldInput(
                            draft.challenge_type or "",
                            id="challenge_type",
                            placeholder=" / ".join(types),
                            suggester=ChoiceSuggester(types),
                        )
                    with Vertical():
                        yield Label("Confidence (optional)")
                        yield FieldInput(
                            draft.confidence,
                            id="confidence",
                            placeholder=" / ".join(CLAIM_CONFIDENCES),
                            suggester=ChoiceSuggester(list(CLAIM_CONFIDENCES)),
                        )
                yield Label("Source (the evidence it rests on)")
                yield FieldInput(draft.source, id="source")
                yield Label("Domain")
                yield FieldInput(draft.domain, id="domain")
                yield Label("Body: the challenge, the case against the claim, Relevant Notes")
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
        values: dict[str, Any] = {name: self.query_one(f"#{name}", Input).value for name in FIELDS}
        values["body"] = self.query_one("#body", TextArea).text
        return values

    def _save(self, name: str, value: str) -> None:
        if self._loading:
            return
        self.write(lambda draft_id: drafting.update_draft(self.kb.db, draft_id, **{name: value}))
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(self.CHECK_DELAY, self.refresh_checks)

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        name = event.input.id or ""
        if name == "title" and not self._loading:
            self._sync_heading(self.draft.title, event.value)
        if name in FIELDS:
            self._save(name, event.value)

    def _sync_heading(self, old: str, new: str) -> None:
        """The body's `# heading` follows the title while it says the title (or the
        skeleton's placeholder): export writes the title as the heading."""
        area = self.query_one("#body", TextArea)
        first = area.document.get_line(0)
        if first.startswith("# ") and first[2:] in (old, TITLE_PLACEHOLDER):
            heading = new if new.strip() else TITLE_PLACEHOLDER
            area.replace(f"# {heading}", (0, 0), (0, len(first)))

    @on(TextArea.Changed, "#body")
    def _body_changed(self, event: TextArea.Changed) -> None:
        self._save("body", event.text_area.text)

    def refresh_checks(self) -> None:
        self._timer = None
        draft = self.draft
        target = (draft.target_path or "-").rsplit("/", 1)[-1].removesuffix(".md")
        self.query_one("#draft-state", Static).update(
            escape(f"Challenge draft {draft.id} · {draft.state}\nof: {target}")
        )
        lines = []
        for check in challenge.check_challenge(self.kb.db, draft):
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
        self.notify(f"Saved for export: {self.draft.title[:70]}", title="Challenge saved")
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class ChallengesScreen(Screen[None]):
    """Every challenge with its status, type and target claim, open first; drafts after."""

    TITLE = "Challenges"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="challenges.back"),
    ]

    @property
    def kb(self) -> KbApp:
        return cast("KbApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static("", id="challenges-info")
        yield KeyList(id="challenges", enter="challenges.open")
        yield KbFooter()

    def on_mount(self) -> None:
        self.refresh_list()
        self.query_one(OptionList).focus()

    def refresh_list(self) -> None:
        rows = challenge.challenges(self.kb.db)
        drafts = [d for d in drafting.list_drafts(self.kb.db) if d.kind == "challenge"]
        options = self.query_one(OptionList)
        # The highlighted challenge stays highlighted, wherever a refresh puts it.
        previous = (
            options.get_option_at_index(options.highlighted).id
            if options.highlighted is not None
            else None
        )
        options.clear_options()
        for row in rows:
            options.add_option(
                Option(
                    f"[b]{escape(row['status'] or '?'):9}[/b] "
                    f"{escape(row['challenge_type'] or '?'):13}{escape(row['title'])}\n"
                    f"     [dim]→ {escape(row['target_claim'] or '(no target_claim)')}[/dim]",
                    id=f"file:{row['path']}",
                )
            )
        for draft in drafts:
            target = (draft.target_path or "-").rsplit("/", 1)[-1].removesuffix(".md")
            options.add_option(
                Option(
                    f"[b]{'draft':9}[/b] {escape(draft.challenge_type or '?'):13}"
                    f"{escape(draft.title or '(no title yet)')} [dim]({draft.state})[/dim]\n"
                    f"     [dim]→ {escape(target)}[/dim]",
                    id=f"draft-{draft.id}",
                )
            )
        if options.option_count:
            ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
            options.highlighted = ids.index(previous) if previous in ids else 0
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["status"] or "?"] = counts.get(row["status"] or "?", 0) + 1
        said = ", ".join(f"{n} {status}" for status, n in counts.items()) or "none yet"
        self.query_one("#challenges-info", Static).update(
            f"{said}, {len(drafts)} draft(s) · enter opens · c on a claim (v) drafts one"
        )

    @on(OptionList.OptionSelected)
    def _open(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ""
        if option_id.startswith("draft-"):
            self.kb.open_draft(int(option_id.removeprefix("draft-")))
        else:
            self.kb.open_path(option_id.removeprefix("file:"))

    def action_back(self) -> None:
        self.app.pop_screen()

    def on_screen_resume(self) -> None:
        self.refresh_list()

    def index_updated(self, changed: set[str] | None) -> None:
        if changed is None or changed:
            self.refresh_list()
