"""The export preview: every file to add or change, with its diff; confirming writes them."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.syntax import Syntax
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from kbtui.ops import curation, export, exporting, gitcommit
from kbtui.ui.markup import escape
from kbtui.ui.messages import IndexFinished
from kbtui.ui.widgets.footer import KbFooter
from kbtui.ui.widgets.lists import KeyList

if TYPE_CHECKING:
    from kbtui.ui.app import KbApp


class ExportPreview(Screen[None]):
    """What export would write; ctrl+s writes it (in a worker), esc goes back."""

    TITLE = "Export"
    TEXT_FIELDS = ("Input",)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "write", "Write files", id="export.write", priority=True),
        Binding(
            "ctrl+g",
            "write(True)",
            "Write + git commit",
            id="export.commit",
            priority=True,
            tooltip="Write, then commit the files on the branch named below (made from "
            "where you are, which stays as it was)",
        ),
        Binding("escape", "back", "Back", id="export.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.plan = export.ExportPlan()
        self.written = False
        """Set while the files are written: the preview is out of date until read again."""
        self._branch_edited = False
        """The curator typed a branch name: a refreshed plan does not replace it."""
        self.gate: dict[str, list[str]] = {}
        """The merge gate's failing codes for each file, as its new text would be."""

    @property
    def kb(self) -> KbApp:
        return cast("KbApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static("", id="export-summary")
        with Horizontal(id="export-branch-row"):
            yield Static("Branch for ctrl+g:", id="export-branch-label")
            yield Input(id="export-branch", compact=True, select_on_focus=False)
        with Horizontal():
            yield KeyList(id="export-files")
            with VerticalScroll(id="export-diff-pane"):
                yield Static("", id="export-diff")
        yield KbFooter()

    def on_mount(self) -> None:
        self.refresh_plan()
        self.query_one(OptionList).focus()

    def refresh_plan(self, plan: export.ExportPlan | None = None) -> None:
        """Show `plan` (a new one when None), with the gate's verdict on each file."""
        root = self.kb.session.workspace.root
        self.plan = plan or export.plan_export(self.kb.db, root, curation.curator_name())
        from kbtui.ops.gate import gate_changes  # parsing loads only once the preview opens

        self.gate = {p: v.codes for p, v in gate_changes(self.kb.db, self.plan.changes).items()}
        self.written = False
        files = self.query_one(OptionList)
        files.clear_options()
        for index, change in enumerate(self.plan.changes):
            added, removed = change.counts()
            failing = self.gate.get(change.path)
            gate_mark = f" [$text-error]gate ✗{len(failing)}[/]" if failing else ""
            mark = (
                "[$text-warning]skip[/]"
                if change.skipped
                else ("[$text-success]done[/]" if change.written else change.action)
            )
            files.add_option(
                Option(
                    f"{mark} [dim]+{added} -{removed}[/dim] {escape(change.path)}{gate_mark}"
                    + (f" [dim](from {escape(change.old_path)})[/dim]" if change.old_path else ""),
                    id=str(index),
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
        branch = self.query_one("#export-branch", Input)
        proposed = exporting.proposed_branch(root, self.plan) if self.plan.writable else None
        branch.display = proposed is not None
        self.query_one("#export-branch-label").display = proposed is not None
        if proposed is not None and not self._branch_edited:
            branch.value = proposed
        self._show(0)

    def _show(self, index: int) -> None:
        diff = self.query_one("#export-diff", Static)
        if not 0 <= index < len(self.plan.changes):
            diff.update("")
            return
        change = self.plan.changes[index]
        head = f"{change.path}\n{', '.join(change.reasons)}"
        if change.path in self.gate:
            failing = self.gate[change.path]
            head += "\nMerge gate: " + (f"fails {', '.join(failing)}" if failing else "passes")
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

    @on(Input.Changed, "#export-branch")
    def _branch_changed(self, event: Input.Changed) -> None:
        if self.query_one("#export-branch", Input).has_focus:
            self._branch_edited = True

    @on(Input.Submitted, "#export-branch")
    def _branch_submitted(self) -> None:
        self.query_one(OptionList).focus()

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
        # An index deleted since the watcher last looked is written again from the app's
        # connection first: the export's own connection would make a new, empty one there,
        # which the app would then take for a replaced index and stop.
        if not self.kb.watch_index_file():
            return
        # A draft deleted or a status undone (from a shell) since the preview opened is
        # not to be written: what is written is what the curator saw.
        now = export.plan_export(
            self.kb.db, self.kb.session.workspace.root, curation.curator_name()
        )
        if _work(now) != _work(self.plan):
            self.refresh_plan(now)
            self.notify(
                "The work to export changed since this preview: look again, then ctrl+s",
                title="Export",
                severity="warning",
            )
            return
        self.written = True
        self.notify("Writing…", title="Export", timeout=2)
        branch = self.query_one("#export-branch", Input).value.strip() or None
        self.write_files(self.plan, commit, branch if commit else None)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def write_files(
        self, plan: export.ExportPlan, commit: bool = False, branch: str | None = None
    ) -> None:
        """Write the plan shown (each file re-checked against what the preview read) in a
        worker, on its own connection; the result, or why it failed, comes back as a
        notification."""
        try:
            self._write_files(plan, commit, branch)
        except Exception as exc:  # any failure is said, and the preview stays usable
            self.app.call_from_thread(self._failed, f"{type(exc).__name__}: {exc}")

    def _write_files(self, plan: export.ExportPlan, commit: bool, branch: str | None) -> None:
        from kbtui.ops.index_runner import index_in_child

        workspace = self.kb.session.workspace
        root = workspace.root
        if not workspace.db_path.is_file():
            # Opening it would make a new, empty index in its place: the app's watcher
            # writes the deleted one again from its connection, with the curator's work.
            self.app.call_from_thread(
                self._failed,
                f"the index {workspace.db_path} is missing (deleted while kbtui runs); "
                "it is written again in a moment: press ctrl+s again then",
            )
            return

        def reindex() -> None:
            # Read back in a child process, as the app's own indexing is: a large KB's walk
            # would otherwise hold up the UI thread.
            try:
                self.app.post_message(IndexFinished(index_in_child(workspace.db_path, root)))
            except Exception as exc:
                self.app.post_message(IndexFinished(None, f"indexing failed: {exc}"))

        try:
            outcome = exporting.run_export_at(
                workspace.db_path,
                root,
                plan,
                curation.curator_name(),
                reindex,
                commit=commit,
                branch=branch,
            )
        except gitcommit.GitError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._written, outcome)

    def _written(self, outcome: exporting.ExportOutcome) -> None:
        skipped = len(outcome.plan.skipped)
        message = f"{outcome.written} file(s) written" + (
            f", {skipped} skipped (their work stays pending: the preview says why)."
            if skipped
            else "."
        )
        if outcome.branch:
            message += (
                f" Committed on branch {outcome.branch} (not pushed); you are still on your "
                "branch, without those files."
            )
        for problem in [c.conflict for c in outcome.conflicts] + outcome.errors:
            message += f" {problem}"
        if outcome.commit_error:
            message += f" Not committed: {outcome.commit_error}"
        self.notify(
            message,
            title="Export",
            severity="error"
            if outcome.commit_error or outcome.errors
            else ("warning" if outcome.problems else "information"),
        )
        if self in self.app.screen_stack:  # the curator may have left the preview meanwhile
            self.refresh_plan()

    def _failed(self, reason: str) -> None:
        self.notify(f"Nothing more was written: {reason}", title="Export failed", severity="error")
        if self in self.app.screen_stack:
            self.refresh_plan()  # what was written before the failure shows as done

    def action_back(self) -> None:
        self.app.pop_screen()


def _work(plan: export.ExportPlan) -> list[tuple[object, ...]]:
    """What a plan would write, and the work it would record as exported: two plans alike
    in this write the same."""
    return [
        (c.path, c.old_path, c.action, c.after, c.skipped is None, c.draft_ids, c.action_ids)
        for c in plan.changes
    ]
