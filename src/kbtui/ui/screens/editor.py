"""The claim editor: a draft's fields beside its live checks and likely duplicates.

Every change is saved to SQLite at once (a closed terminal loses nothing); checks and the
duplicate search run a moment after typing stops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.suggester import Suggester
from textual.timer import Timer
from textual.widgets import Header, Input, Label, Static, TextArea

from kbtui.ops import drafting
from kbtui.ops.workspace import scratch_copy
from kbtui.ui.external import run_editor
from kbtui.ui.markup import escape
from kbtui.ui.screens.drafts import LinkPicker
from kbtui.ui.widgets.fields import FieldInput
from kbtui.ui.widgets.footer import KbFooter

if TYPE_CHECKING:
    from kbtui.ui.app import KbApp

LIST_SEPARATOR = "; "
FIELDS = (
    "title",
    "description",
    "domain",
    "confidence",
    "source",
    "depends_on",
    "challenged_by",
    "secondary_domains",
)
LIST_INPUTS = ("depends_on", "challenged_by", "secondary_domains")
MARKS = {"pass": "[$text-success]✓[/]", "warn": "[$text-warning]![/]", "fail": "[$text-error]✗[/]"}


class ChoiceSuggester(Suggester):
    """Completes the last `;`-separated item of an input from a list of choices."""

    def __init__(self, choices: list[str], *, multiple: bool = False) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self.choices = choices
        self.multiple = multiple

    async def get_suggestion(self, value: str) -> str | None:
        head, _, last = value.rpartition(";") if self.multiple else ("", "", value)
        typed = last.lstrip().lower()
        if not typed:
            return None
        for choice in self.choices:
            if choice.lower().startswith(typed):
                prefix = f"{head}; " if head else ""
                return prefix + choice
        return None


def split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(";") if item.strip()]


class DraftScreen(Screen[None]):
    """A screen editing one stored draft, which every change is written to at once."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # Handled before the focused field sees a key: otherwise a tab reaches the app only
        # after the field has passed it up, and text typed right after it (a fast typist, a
        # paste) lands in the field being left.
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
    ]

    draft: drafting.Draft

    @property
    def kb(self) -> KbApp:
        return cast("KbApp", self.app)

    def form(self) -> dict[str, Any]:
        """The draft's fields as the screen shows them."""
        raise NotImplementedError

    def refresh_checks(self) -> None:
        raise NotImplementedError

    def write(self, change: Callable[[int], drafting.Draft]) -> None:
        """Apply `change` to the stored draft, and hold the draft as it is then stored.

        A draft deleted outside its editor (`kbtui drafts rm`, another window) is stored
        again as a new draft holding what the screen shows, which the change then goes to:
        what was typed is never lost, and the curator is told, and how to delete it.
        """
        try:
            self.draft = change(self.draft.id)
            return
        except drafting.DraftMissing:
            gone = self.draft.id
            self.draft = drafting.restore_draft(self.kb.db, replace(self.draft, **self.form()))
        self.notify(
            f"Draft {gone} was deleted outside this editor. What is here is kept as a new "
            f"draft, {self.draft.id} (d lists the drafts; x there deletes one).",
            title="Draft deleted elsewhere",
            severity="warning",
            timeout=12,
        )
        self.refresh_checks()
        self.draft = change(self.draft.id)


class ClaimEditor(DraftScreen):
    """Edit one claim draft: fields left, checks and duplicates right."""

    TITLE = "Claim draft"
    TEXT_FIELDS = ("Input", "TextArea")
    """The text fields that have the focus here: the keymap check keeps their keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="editor.save", priority=True),
        Binding("escape", "close", "Close (kept)", id="editor.close"),
        Binding("ctrl+e", "external", "Body in $EDITOR", id="editor.external", priority=True),
        Binding("ctrl+d", "different", "It is different", id="editor.different", priority=True),
        Binding(
            "ctrl+n",
            "enrich",
            "Enrich a claim",
            id="editor.enrich",
            priority=True,
            tooltip="Attach this evidence to the similar claim instead; again: "
            "extend, confirm or challenge",
        ),
    ]
    CHECK_DELAY = 0.25

    def __init__(self, draft: drafting.Draft) -> None:
        super().__init__()
        self.draft = draft
        self.duplicates: list[drafting.Duplicate] = []
        self._check_timer: Timer | None = None
        self._loading = True
        self._picking = False
        """A link picker is open (opened by `[[` in the body)."""
        self._titles: list[str] = []

    def compose(self) -> ComposeResult:
        draft = self.draft
        self._titles = titles = drafting.claim_titles(self.kb.db)
        domains = drafting.claim_domains(self.kb.db)
        confidences = drafting.claim_confidences(self.kb.db)
        yield Header(icon="◆")
        with Horizontal():
            with VerticalScroll(id="editor-form"):
                yield Label("Title (the proposition; it becomes the file name)")
                yield FieldInput(draft.title, id="title")
                yield Label("Description (what the title does not say)")
                yield FieldInput(draft.description, id="description")
                with Horizontal(classes="editor-row"):
                    with Vertical():
                        yield Label("Confidence")
                        yield FieldInput(
                            draft.confidence,
                            id="confidence",
                            placeholder=" / ".join(confidences),
                            suggester=ChoiceSuggester(list(confidences)),
                        )
                    with Vertical():
                        yield Label("Domain")
                        yield FieldInput(
                            draft.domain, id="domain", suggester=ChoiceSuggester(domains)
                        )
                yield Label("Source (attribution)")
                yield FieldInput(draft.source, id="source")
                yield Label("Depends on (claim titles, separated by ;)")
                yield FieldInput(
                    LIST_SEPARATOR.join(draft.depends_on),
                    id="depends_on",
                    suggester=ChoiceSuggester(titles, multiple=True),
                )
                yield Label("Challenged by (claim titles, separated by ;)")
                yield FieldInput(
                    LIST_SEPARATOR.join(draft.challenged_by),
                    id="challenged_by",
                    suggester=ChoiceSuggester(titles, multiple=True),
                )
                yield Label("Secondary domains (separated by ;)")
                yield FieldInput(
                    LIST_SEPARATOR.join(draft.secondary_domains),
                    id="secondary_domains",
                    suggester=ChoiceSuggester(domains, multiple=True),
                )
                yield Label("Body (markdown; ctrl+e opens $EDITOR)")
                yield TextArea(draft.body, id="body", language=None, soft_wrap=True)
            with VerticalScroll(id="editor-side"):
                yield Static("", id="draft-state")
                yield Static("Checks", classes="section")
                yield Static("", id="checks")
                yield Static("Similar claims", classes="section")
                yield Static("", id="duplicates")
        yield KbFooter()

    def on_mount(self) -> None:
        target = "description" if self.draft.title else "title"
        self.query_one(f"#{target}", Input).focus()
        self.refresh_checks()
        self.call_after_refresh(self._loaded)

    def _loaded(self) -> None:
        self._loading = False

    def form(self) -> dict[str, Any]:
        values: dict[str, Any] = {name: self.query_one(f"#{name}", Input).value for name in FIELDS}
        for name in LIST_INPUTS:
            values[name] = split_list(values[name])
        values["body"] = self.query_one("#body", TextArea).text
        return values

    def _save_field(self, name: str, value: str) -> None:
        if self._loading:
            return
        stored: object = split_list(value) if name in LIST_INPUTS else value
        self.write(lambda draft_id: drafting.update_draft(self.kb.db, draft_id, **{name: stored}))
        self._schedule_checks()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "title" and not self._loading:
            self._sync_heading(self.draft.title, event.value)
        if event.input.id in FIELDS:
            self._save_field(event.input.id, event.value)

    def _sync_heading(self, old: str, new: str) -> None:
        """The body's `# heading` follows the title while it says the title (or the blank
        claim's placeholder): the claim's heading is its title (export writes it so)."""
        area = self.query_one("#body", TextArea)
        first = area.document.get_line(0)
        if first.startswith("# ") and first[2:] in (old, drafting.TITLE_PLACEHOLDER):
            heading = new if new.strip() else drafting.TITLE_PLACEHOLDER
            area.replace(f"# {heading}", (0, 0), (0, len(first)))

    @on(TextArea.Changed, "#body")
    def _body_changed(self, event: TextArea.Changed) -> None:
        area = event.text_area
        self._save_field("body", area.text)
        row, column = area.cursor_location
        line = area.document.get_line(row)
        if (
            not self._loading
            and column >= 2
            and line[column - 2 : column] == "[["
            and (line[column : column + 2] != "]]")
        ):
            self._pick_link()

    def _pick_link(self) -> None:
        """`[[` in the body offers claim titles; the choice completes the link. One picker
        at a time: keys typed fast are all in the text before their changes are seen, so
        each change of a burst ending in `[[` sees it."""
        if self._picking:
            return
        self._picking = True

        def insert(title: str | None) -> None:
            self._picking = False
            area = self.query_one("#body", TextArea)
            if title:
                area.insert(f"{title}]]")
            area.focus()

        self.app.push_screen(LinkPicker(self._titles), insert)

    def _schedule_checks(self) -> None:
        if self._check_timer is not None:
            self._check_timer.stop()
        self._check_timer = self.set_timer(self.CHECK_DELAY, self.refresh_checks)

    def refresh_checks(self) -> None:
        """Run the quality checks and the duplicate search on the draft as saved."""
        self._check_timer = None
        draft = self.draft
        state = f"Draft {draft.id} · {draft.state} · from {draft.source_path or '-'}"
        if draft.kind == "enrichment":
            state += f"\nEnrichment ({draft.enrichment_kind}) of {draft.target_path}"
        self.query_one("#draft-state", Static).update(escape(state))
        if draft.kind == "enrichment":
            check = drafting.enrichment_check(draft)
            self.query_one("#checks", Static).update(
                escape(f"Additional Evidence ({draft.enrichment_kind}) for {draft.target_path}\n")
                + f"{MARKS[check.status]} {escape(check.message)}\n"
                "ctrl+n switches between extend, confirm and challenge."
            )
            self.query_one("#duplicates", Static).update("")
            return
        checks = drafting.check_draft(self.kb.db, draft)
        lines = []
        for check in checks:
            line = f"{MARKS[check.status]} {escape(check.message)}"
            if check.suggestion:
                line += f"\n   [dim]try:[/dim] {escape(check.suggestion)}"
            lines.append(line)
        self.query_one("#checks", Static).update("\n".join(lines))
        self.duplicates = drafting.find_duplicates(self.kb.db, draft.title, draft.description)
        if not self.duplicates:
            self.query_one("#duplicates", Static).update("[dim]None above the threshold.[/dim]")
            return
        rows = []
        for duplicate in self.duplicates:
            blocking = (
                duplicate.score >= drafting.DUPLICATE_BLOCK
                and duplicate.path not in draft.different_from
            )
            mark = "[$text-error]■ blocks saving[/]" if blocking else ""
            done = (
                " [$text-success](declared different)[/]"
                if duplicate.path in draft.different_from
                else ""
            )
            rows.append(f"[b]{duplicate.score}%[/b] {escape(duplicate.title)} {mark}{done}")
        if any(d.score >= drafting.DUPLICATE_BLOCK for d in self.duplicates):
            rows.append("[dim]ctrl+d: it is different · ctrl+n: enrich one of these instead[/dim]")
        self.query_one("#duplicates", Static).update("\n".join(rows))

    def action_save(self) -> None:
        try:
            self.write(lambda draft_id: drafting.save_draft(self.kb.db, draft_id))
        except drafting.DraftError as exc:
            self.refresh_checks()
            self.notify(
                str(exc), title="Not saved yet (the draft is kept)", severity="warning", timeout=6
            )
            return
        self.notify(f"Saved for export: {self.draft.title[:70]}", title="Claim saved")
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)

    def _top_blocking(self) -> drafting.Duplicate | None:
        return drafting.blocking_duplicate(self.kb.db, self.draft)

    def action_different(self) -> None:
        duplicate = self._top_blocking()
        if duplicate is None:
            self.notify("No near-duplicate is blocking this draft.", timeout=3)
            return
        self.write(lambda draft_id: drafting.mark_different(self.kb.db, draft_id, duplicate.path))
        self.refresh_checks()
        self.notify(f"Marked as different from: {duplicate.title[:70]}", timeout=3)

    def action_enrich(self) -> None:
        """Turn the draft into evidence for the most similar claim; again cycles the kind."""
        if self.draft.kind == "enrichment" and self.draft.target_path:
            kinds = drafting.ENRICHMENT_KINDS
            current = self.draft.enrichment_kind or kinds[0]
            following = kinds[(kinds.index(current) + 1) % len(kinds)]
            self.write(
                lambda draft_id: drafting.update_draft(
                    self.kb.db, draft_id, enrichment_kind=following
                )
            )
            self.refresh_checks()
            self.notify(f"Additional Evidence ({following})", timeout=2)
            return
        # Any claim may be the one: the most similar are offered first.
        choices = [(d.title, d.path) for d in self.duplicates]
        similar = {path for _, path in choices}
        choices += [c for c in drafting.claim_choices(self.kb.db) if c[1] not in similar]
        paths = dict(reversed(choices))  # a title's first path (a title in two folders)

        def chosen(title: str | None) -> None:
            if title is not None and title in paths:
                self._enrich(paths[title], title)

        self.app.push_screen(
            LinkPicker(
                list(dict.fromkeys(title for title, _ in choices)),
                heading="Enrich which claim? (the most similar first)",
                choose="Enrich this claim",
            ),
            chosen,
        )

    def _enrich(self, path: str, title: str) -> None:
        self.write(lambda draft_id: drafting.enrich_instead(self.kb.db, draft_id, path))
        self.query_one("#body", TextArea).load_text(self.draft.body)
        self.refresh_checks()
        self.notify(
            f"Now an enrichment (extend) of: {title[:70]}; ctrl+n again switches to confirm "
            "or challenge",
            timeout=5,
        )

    def action_external(self) -> None:
        """Edit the body in `$EDITOR` (the app suspends); the result is saved at once."""
        area = self.query_one("#body", TextArea)
        with scratch_copy(area.text, f"draft-{self.draft.id}.md") as copy:
            problem = run_editor(self.app, copy.path)
            if problem:
                self.notify(problem, severity="warning")
            area.load_text(copy.read())
        self._save_field("body", area.text)
