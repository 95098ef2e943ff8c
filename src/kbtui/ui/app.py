"""The kbtui Textual app: screens over one open KB; indexing in a child process, followed by a
thread worker."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote

from textual import events, on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import get_current_worker

from kbtui.ops import desk
from kbtui.ops.desk import DocumentView
from kbtui.ops.session import IndexLost, Session, StoreError
from kbtui.ui.config import load_keymap
from kbtui.ui.external import run_editor
from kbtui.ui.messages import IndexFinished, IndexProgressed
from kbtui.ui.screens.desk import DeskScreen
from kbtui.ui.screens.help import HelpScreen
from kbtui.ui.widgets.reader import LINK_SCHEME, Reader

if TYPE_CHECKING:
    from rich.console import RenderableType
    from textual.command import Provider
    from textual.widgets.markdown import Markdown

    from kbtui.ops.drafting import Draft
    from kbtui.ops.report import IndexReport

    LinkClicked = Markdown.LinkClicked

INDEX_WATCH_SECONDS = 2.0
"""How often the app looks that its index file is still there (one stat)."""
NARROW_WIDTH = 100
TINY_WIDTH = 60
"""Below this the handoff panel is hidden: queue, reader and handoff cannot all fit."""


def _screen_actions() -> type[Provider]:
    """The palette's provider, imported when the palette first opens (off the start-up path)."""
    from kbtui.ui.commands import ScreenActions

    return ScreenActions


class KbApp(App[None]):
    """A keyboard-driven workbench for curating one markdown knowledge base."""

    CSS_PATH = "app.tcss"
    TITLE = "kbtui"
    COMMANDS: ClassVar = App.COMMANDS | {_screen_actions}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        # Shown at the footer's right end (KbFooter), where it is never cut off.
        # f1 too: in a text field `?` is typed, and help must be one key away everywhere.
        Binding("question_mark,f1", "help", "Help", show=False, id="app.help"),
        Binding(
            "ctrl+r",
            "reindex",
            "Re-index",
            show=False,
            id="app.reindex",
            tooltip="Re-read changed files into the index",
        ),
    ]

    def __init__(self, session: Session, *, index_on_start: bool = True) -> None:
        super().__init__()
        self.session = session
        self.db = session.db
        self.index_on_start = index_on_start
        self.last_report: IndexReport | None = None
        self.exiting = False
        """True once the app has been asked to quit."""
        name = "demo KB" if session.workspace.is_demo else session.workspace.root.name
        self.sub_title = name

    def exit(
        self,
        result: None = None,
        return_code: int = 0,
        message: RenderableType | None = None,
    ) -> None:
        self.exiting = True
        super().exit(result, return_code, message)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification shows its text as written (`markup` is never used): they carry
        paths, titles and field values, which may hold `[` (a name like `report [draft].md`)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    async def on_event(self, event: events.Event) -> None:
        # Keys typed after `q` (say `e` at once) would still run their actions on a closing
        # app: a screen pushed then fails to mount. Once quitting, input is dropped.
        if self.exiting and isinstance(event, events.InputEvent):
            return
        await super().on_event(event)

    def on_mount(self) -> None:
        keymap, error = load_keymap()
        if keymap:
            from kbtui.ui.config import check_keymap  # reads every screen: only with a keymap

            keymap, problems = check_keymap(keymap)
            self.set_keymap(keymap)
            if problems:
                self.notify(
                    "\n".join(problems), title="Keymap entries not used", severity="warning"
                )
        if error:
            self.notify(error, title="Config not read", severity="warning")
        if self.session.note:
            # Said on the terminal too, where the app hides it until it quits.
            self.notify(self.session.note, title="Demo KB", timeout=10)
        self.db.listener = self._index_notice
        self.set_interval(INDEX_WATCH_SECONDS, self.watch_index_file)
        self.push_screen(DeskScreen())
        self._apply_width(self.size.width)

    def start_indexing(self) -> None:
        """Bring the index up to date once the desk has painted (called by the desk)."""
        if self.index_on_start:
            self.index_on_start = False
            self.action_reindex()

    def on_resize(self, event: events.Resize) -> None:
        self._apply_width(event.size.width)

    def _apply_width(self, width: int) -> None:
        # Every screen of the stack, not only the one on top: the desk under a dialog or the
        # claims view comes back laid out for the size it comes back to.
        for screen in self.screen_stack:
            screen.set_class(width < NARROW_WIDTH, "-narrow")
            screen.set_class(width < TINY_WIDTH, "-tiny")

    # Indexing --------------------------------------------------------------------------------

    def watch_index_file(self) -> bool:
        """Whether the index file is still the one open: a deleted one is written again
        (with a notice), a replaced one ends the app, its work saved beside the new file
        (`kbtui` then says where). False when nothing more can be written."""
        try:
            self.db.check_file()
        except IndexLost:
            self.exit(return_code=2)
            return False
        except StoreError as exc:
            self.notify(str(exc), title="Index", severity="error", timeout=30)
            return False
        return True

    def _index_notice(self, message: str) -> None:
        """A notice from the index (written again after it was deleted); it may come from a
        worker thread."""
        if self._thread_id == threading.get_ident():
            self.notify(message, title="Index written again", severity="warning", timeout=15)
        else:
            self.call_from_thread(self._index_notice, message)

    def _handle_exception(self, error: Exception) -> None:
        # A write refused because the index file was replaced: not a crash. The app ends,
        # and `kbtui` says where the work was saved.
        if isinstance(error, IndexLost):
            self.exit(return_code=2)
            return
        super()._handle_exception(error)

    def action_reindex(self) -> None:
        # Before the child opens the path: a deleted index would be built anew, empty of
        # the curator's work, where this one is written again with it.
        if not self.watch_index_file():
            return
        self.sub_title = "indexing…"
        self.run_index()

    @work(thread=True, exclusive=True, exit_on_error=False, group="index")
    def run_index(self) -> None:
        """Bring the index up to date in a child process; the UI keeps reading meanwhile."""
        # The parsing stack loads off the start path.
        from kbtui.ops.index_runner import index_in_child

        worker = get_current_worker()

        def progress(done: int, total: int) -> None:
            if not worker.is_cancelled:
                self.post_message(IndexProgressed(done, total))

        try:
            report = index_in_child(
                self.session.workspace.db_path,
                self.session.workspace.root,
                progress,
                cancelled=lambda: worker.is_cancelled,
            )
        except Exception as exc:
            self.post_message(IndexFinished(None, f"indexing failed: {exc}"))
            return
        if report is not None:
            self.post_message(IndexFinished(report))

    @on(IndexProgressed)
    def _index_progressed(self, message: IndexProgressed) -> None:
        self.sub_title = f"indexing {message.done:,}/{message.total:,}"

    @on(IndexFinished)
    def _index_finished(self, message: IndexFinished) -> None:
        name = "demo KB" if self.session.workspace.is_demo else self.session.workspace.root.name
        self.sub_title = name
        if message.error:
            self.notify(message.error, title="Index", severity="error", timeout=8)
            return
        report = message.report
        self.last_report = report
        if report is not None and report.changed:
            self.notify(
                f"{len(report.added)} added, {len(report.updated)} updated, "
                f"{len(report.deleted)} deleted",
                title="Index updated",
                timeout=3,
            )
        # Every screen open shows the index as it now is (a file edited with `o` included).
        changed = (
            None
            if report is None
            else {*report.added, *report.updated, *report.deleted, *(p for p, _ in report.renamed)}
        )
        for screen in self.screen_stack:
            index_updated = getattr(screen, "index_updated", None)
            if callable(index_updated):
                index_updated(changed)

    # Navigation ------------------------------------------------------------------------------

    def open_document(self, doc_id: int) -> None:
        view = desk.load_document(self.db, doc_id)
        if view is None:
            self.notify("That file is no longer in the index.", severity="warning")
            return
        from kbtui.ui.screens.document import DocumentScreen

        self.push_screen(DocumentScreen(view))

    def open_path(self, path: str) -> None:
        doc_id = desk.doc_id_for_path(self.db, path)
        if doc_id is None:
            self.notify(f"Not in the index: {path}", severity="warning")
            return
        self.open_document(doc_id)

    def follow_link(self, view: DocumentView, target: str) -> None:
        link = view.link_for(target)
        if link is None or link.resolved_path is None:
            self.notify(
                f"[[{target}]] resolves to nothing in this KB.",
                severity="warning",
                title="Unresolved link",
            )
            return
        self.open_path(link.resolved_path)

    def on_markdown_link_clicked(self, event: LinkClicked) -> None:
        """A link in a reader's markdown: follow wiki links, show external ones."""
        if not event.href.startswith(LINK_SCHEME):
            self.notify(event.href, title="External link (not opened)")
            return
        view = self.screen.query_one(Reader).view
        if view is not None:
            self.follow_link(view, unquote(event.href[len(LINK_SCHEME) :]))

    def draft_claim(self, source: DocumentView) -> None:
        """Ask what to start from, then open the editor on a new draft."""
        from kbtui.ops import drafting
        from kbtui.ui.screens.drafts import DraftFrom
        from kbtui.ui.screens.editor import ClaimEditor

        def start(hint: int | None) -> None:
            if hint is None:
                return
            earlier = drafting.draft_from_candidate(self.db, source.path, hint) if hint else None
            if earlier is not None:
                # A second draft of one candidate would write the same claim file: export
                # refuses both. The first is reopened instead.
                self.notify(f"Reopened draft {earlier.id}, started from candidate {hint}.")
                self.push_screen(ClaimEditor(earlier))
                return
            try:
                draft = drafting.new_claim_draft(self.db, source.path, hint or None)
            except drafting.DraftError as exc:
                self.notify(str(exc), severity="warning")
                return
            self.push_screen(ClaimEditor(draft))

        self.push_screen(DraftFrom(source), start)

    def open_draft(self, draft_id: int) -> None:
        from kbtui.ops import drafting
        from kbtui.ui.screens.divergences import DivergenceEditor
        from kbtui.ui.screens.editor import ClaimEditor

        try:
            draft = drafting.get_draft(self.db, draft_id)
        except drafting.DraftError as exc:
            self.notify(str(exc), severity="warning")
            return
        if draft.kind == "divergence":
            self.push_screen(DivergenceEditor(draft))
        elif draft.kind == "challenge":
            from kbtui.ui.screens.challenges import ChallengeEditor

            self.push_screen(ChallengeEditor(draft))
        elif draft.kind == "resolution":
            self._edit_resolution(draft)
        else:
            self.push_screen(ClaimEditor(draft))

    def _edit_resolution(self, draft: Draft) -> None:
        """A divergence's resolution is its note: reopening it edits the note."""
        from kbtui.ops import drafting
        from kbtui.ui.screens.dialogs import NoteDialog

        def done(note: str | None) -> None:
            if note and note != draft.body:
                drafting.update_draft(self.db, draft.id, body=note)
                self.notify("Resolution note updated (pending export).", timeout=3)

        self.push_screen(
            NoteDialog(
                "Edit resolution",
                draft.target_path or "",
                "What evidence settled it?",
                draft.body,
            ),
            done,
        )

    def show_drafts(self) -> None:
        from kbtui.ui.screens.drafts import DraftsScreen

        self.push_screen(DraftsScreen())

    def draft_divergence(self, claim_paths: list[str], source: str | None = None) -> bool:
        """Open a new divergence draft on these claims (or the one they already have);
        False, with a warning, when there can be none."""
        from kbtui.ops import divergence, drafting
        from kbtui.ui.screens.divergences import DivergenceEditor

        try:
            draft = divergence.new_divergence_draft(self.db, claim_paths, source_path=source)
        except divergence.DuplicateDivergence as exc:
            self.notify(
                "These claims already have a divergence: opening it.", title="Divergence exists"
            )
            if exc.existing.startswith("draft "):
                self.open_divergence_draft(int(exc.existing.removeprefix("draft ")))
            else:
                self.open_path(exc.existing)
            return True
        except drafting.DraftError as exc:
            self.notify(str(exc), severity="warning", title="No divergence")
            return False
        self.push_screen(DivergenceEditor(draft))
        return True

    def open_divergence_draft(self, draft_id: int) -> None:
        from kbtui.ops import drafting
        from kbtui.ui.screens.divergences import DivergenceEditor

        try:
            draft = drafting.get_draft(self.db, draft_id)
        except drafting.DraftError as exc:  # deleted meanwhile (by `kbtui drafts rm`, say)
            self.notify(str(exc), severity="warning")
            return
        self.push_screen(DivergenceEditor(draft))

    def draft_challenge(self, claim_path: str) -> None:
        """Open the editor on a new challenge of this claim."""
        from kbtui.ops import challenge, drafting
        from kbtui.ui.screens.challenges import ChallengeEditor

        try:
            draft = challenge.new_challenge_draft(self.db, claim_path)
        except drafting.DraftError as exc:
            self.notify(str(exc), severity="warning", title="No challenge")
            return
        self.push_screen(ChallengeEditor(draft))

    def show_challenges(self) -> None:
        from kbtui.ui.screens.challenges import ChallengesScreen

        self.push_screen(ChallengesScreen())

    def show_divergences(self) -> None:
        from kbtui.ui.screens.divergences import DivergencesScreen

        self.push_screen(DivergencesScreen())

    def show_export(self) -> None:
        from kbtui.ui.screens.export import ExportPreview

        self.push_screen(ExportPreview())

    def show_claims(self) -> None:
        from kbtui.ui.screens.claims import ClaimsScreen

        self.push_screen(ClaimsScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own palette entries, but those kbtui has its own of: Quit (the app's
        binding is offered with its key) and Keys (a panel esc cannot close; `?` is help)."""
        for command in super().get_system_commands(screen):
            if command.title not in ("Quit", "Keys"):
                yield command

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    # Editing ---------------------------------------------------------------------------------

    def edit_file(self, path: str) -> None:
        """Open a KB file in `$EDITOR` (the app suspends), then re-index what changed."""
        problem = run_editor(self, self.session.workspace.root / path)
        if problem:
            self.notify(problem, severity="warning")
        self.action_reindex()
