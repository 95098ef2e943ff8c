"""The export preview: every file to add or change, with its diff; confirming writes them."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.syntax import Syntax
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from kbtui.ops import curation, export, gitcommit
from kbtui.ui.markup import escape
from kbtui.ui.messages import IndexFinished
from kbtui.ui.widgets.footer import KbFooter
from kbtui.ui.widgets.lists import KeyList

if TYPE_CHECKING:
    from kbtui.ui.app import KbApp


class ExportPreview(Screen[None]):
    """What export would write; ctrl+s writes it (in a worker), esc goes back."""

    TITLE = "Export"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "write", "Write files", id="export.write", priority=True),
        Binding(
            "ctrl+g",
            "write(True)",
            "Write + git commit",
            id="export.commit",
            priority=True,
            tooltip="Write, then commit the files on a new extract/<source> branch",
        ),
        Binding("escape", "back", "Back", id="export.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.plan = export.ExportPlan()
        self.written = False
        """Set while the files are written: the preview is out of date until read again."""

    @property
    def kb(self) -> KbApp:
        return cast("KbApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static("", id="export-summary")
        with Horizontal():
            yield KeyList(id="export-files")
            with VerticalScroll(id="export-diff-pane"):
                yield Static("", id="export-diff")
        yield KbFooter()

    def on_mount(self) -> None:
        self.refresh_plan()
        self.query_one(OptionList).focus()

    def refresh_plan(self) -> None:
        root = self.kb.session.workspace.root
        self.plan = export.plan_export(self.kb.db, root, curation.curator_name())
        self.written = False
        files = self.query_one(OptionList)
        files.clear_options()
        for index, change in enumerate(self.plan.changes):
            added, removed = change.counts()
            mark = (
                "[$text-warning]skip[/]"
                if change.skipped
                else ("[$text-success]done[/]" if change.written else change.action)
            )
            files.add_option(
                Option(
                    f"{mark} [dim]+{added} -{removed}[/dim] {escape(change.path)}", id=str(index)
                )
            )
        if self.plan.changes:
            files.highlighted = 0
        writable, skipped = len(self.plan.writable), len(self.plan.skipped)
        summary = (
            f"{writable} file(s) to write, {skipped} skipped · ctrl+s writes them"
            if self.plan.changes
            else "Nothing to export: no saved drafts or pending status changes."
        )
        self.query_one("#export-summary", Static).update(summary)
        self._show(0)

    def _show(self, index: int) -> None:
        diff = self.query_one("#export-diff", Static)
        if not 0 <= index < len(self.plan.changes):
            diff.update("")
            return
        change = self.plan.changes[index]
        head = f"{change.path}\n{', '.join(change.reasons)}"
        if change.skipped:
            head += f"\nSKIPPED: {change.skipped}"
        diff.update(
            Syntax(
                head + "\n\n" + change.diff(),
                "diff",
                word_wrap=True,
                theme="ansi_dark" if self.app.current_theme.dark else "ansi_light",
            )
        )

    @on(OptionList.OptionHighlighted, "#export-files")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show(event.option_index)

    def action_write(self, commit: bool = False) -> None:
        if not self.plan.writable or self.written:
            # Once written, the preview is out of date: a second press writes nothing.
            self.notify("Nothing to write.", timeout=3)
            return
        if commit and not gitcommit.is_repository(self.kb.session.workspace.root):
            self.notify("This KB is not a git repository.", severity="warning")
            return
        self.written = True
        self.notify("Writing…", title="Export", timeout=2)
        self.write_files(self.plan, commit)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def write_files(self, plan: export.ExportPlan, commit: bool = False) -> None:
        """Write the plan shown (each file re-checked against what the preview read) in a
        worker, on its own connection; the result, or why it failed, comes back as a
        notification."""
        try:
            self._write_files(plan, commit)
        except Exception as exc:  # any failure is said, and the preview stays usable
            self.app.call_from_thread(self._failed, f"{type(exc).__name__}: {exc}")

    def _write_files(self, plan: export.ExportPlan, commit: bool) -> None:
        from kbtui.ops.index_runner import index_in_child

        workspace = self.kb.session.workspace
        root = workspace.root
        who = curation.curator_name()
        if commit:
            try:
                gitcommit.check_committable(root, plan)
            except gitcommit.GitError as exc:
                self.app.call_from_thread(self._failed, str(exc))
                return
        export.apply_export_at(workspace.db_path, root, plan)
        # The files written are read back into the index in a child process, as the app's own
        # indexing is: a large KB's walk would otherwise hold up the UI thread.
        try:
            self.app.post_message(IndexFinished(index_in_child(workspace.db_path, root)))
        except Exception as exc:
            self.app.post_message(IndexFinished(None, f"indexing failed: {exc}"))
        branch, failure = None, None
        if commit:
            try:
                branch = gitcommit.commit_export(root, plan, who)
            except gitcommit.GitError as exc:
                failure = str(exc)
        written = sum(1 for c in plan.changes if c.written)
        self.app.call_from_thread(self._written, written, len(plan.skipped), branch, failure)

    def _written(
        self, written: int, skipped: int, branch: str | None = None, failure: str | None = None
    ) -> None:
        message = f"{written} file(s) written" + (
            f", {skipped} skipped (their work stays pending: the preview says why)."
            if skipped
            else "."
        )
        if branch:
            message += f" Committed on branch {branch} (not pushed)."
        if failure:
            message += f" Not committed: {failure}"
        self.notify(
            message,
            title="Export",
            severity="error" if failure else ("warning" if skipped else "information"),
        )
        if self in self.app.screen_stack:  # the curator may have left the preview meanwhile
            self.refresh_plan()

    def _failed(self, reason: str) -> None:
        self.notify(f"Nothing more was written: {reason}", title="Export failed", severity="error")
        if self in self.app.screen_stack:
            self.refresh_plan()  # what was written before the failure shows as done

    def action_back(self) -> None:
        self.app.pop_screen()
