"""`kbtui export`: pending work written back to the markdown files (`--dry-run` shows the
diffs and the merge gate's verdict; `--commit` commits them on a new branch)."""

from __future__ import annotations

import os
import sys

import click
from rich.markup import escape
from rich.text import Text

from kbtui.cli.base import (
    EXIT_CLEAN,
    EXIT_PROBLEMS,
    db_option,
    err,
    fail,
    json_option,
    kb_argument,
    main,
    out,
    session_for,
)
from kbtui.cli.render import print_json
from kbtui.ops import curation, export, exporting, gitcommit, settings


@main.command("export")
@kb_argument
@db_option
@click.option("--dry-run", is_flag=True, help="Show what would be written, with diffs.")
@click.option("--as", "who", default=None, help="Curator name (default: $KBTUI_CURATOR).")
@click.option(
    "--commit",
    "commit",
    is_flag=True,
    help="Commit the written files on a new branch from HEAD, which stays where it is "
    "(never pushes).",
)
@click.option(
    "--branch",
    default=None,
    help="The branch --commit makes (default: extract/<the source with the most work>).",
)
@json_option
def export_command(
    kb: str | None,
    db_path: str | None,
    dry_run: bool,
    who: str | None,
    commit: bool,
    branch: str | None,
    as_json: bool,
) -> None:
    """Write pending work (claims, enrichments, source status) back to the markdown files."""
    if branch is not None and not commit:
        fail("--branch names the branch of --commit: give both")
    who = who or (curation.curator_name() if dry_run else _ask_curator_once())
    with session_for(kb, db_path) as session:
        root = session.workspace.root
        plan = export.plan_export(session.db, root, who)
        if dry_run:
            from kbtui.ops.gate import gate_changes

            outcome = exporting.ExportOutcome(plan, dry_run=True)
            verdicts = gate_changes(session.db, plan.changes)
            outcome.gate = {path: verdict.codes for path, verdict in verdicts.items()}
        else:
            try:
                outcome = exporting.run_export(
                    session.db, root, plan, who, session.reindex, commit=commit, branch=branch
                )
            except gitcommit.GitError as exc:
                fail(f"--commit: {exc} (nothing was written)")
        if as_json:
            print_json(outcome.as_dict())
        else:
            _describe_plan(plan, dry_run, outcome.gate)
            if outcome.branch:
                what = "" if plan.changes else "the files an earlier export wrote "
                out.print(
                    f"Committed {what}on branch [b]{escape(outcome.branch)}[/b] (not pushed); "
                    "you are still on your branch, without those files."
                )
        for problem in [c.conflict for c in outcome.conflicts] + outcome.errors:
            err.print(f"[yellow]kbtui:[/] {escape(str(problem))}")
        if outcome.commit_error:
            err.print(f"kbtui: {escape(outcome.commit_error)}")
        elif not commit or dry_run:
            waiting = gitcommit.remembered_note(session.db)
            if waiting:
                err.print(waiting)
    sys.exit(EXIT_PROBLEMS if outcome.problems else EXIT_CLEAN)


def _ask_curator_once() -> str:
    """The curator's name; the first export at a terminal asks for it and remembers it."""
    if os.environ.get("KBTUI_CURATOR", "").strip() or settings.configured_curator():
        return curation.curator_name()
    if sys.stdin.isatty() and sys.stdout.isatty():
        name = click.prompt(
            "Your name as the curator (for processed_by and Extractor:)",
            default=curation.curator_name(),
        ).strip()
        if name:
            try:
                path = settings.save_curator(name)
            except settings.SettingsError as exc:
                err.print(f"[yellow]{escape(str(exc))}[/] (the name is used for this export)")
            else:
                err.print(f"Saved in {escape(str(path))}.")
            return name
    return curation.curator_name()


def _describe_plan(
    plan: export.ExportPlan, dry_run: bool, gate: dict[str, list[str]] | None = None
) -> None:
    if not plan.changes:
        out.print("Nothing to export.")
        return
    for change in plan.changes:
        added, removed = change.counts()
        state = (
            "[yellow]skipped[/]"
            if change.skipped
            else "[green]written[/]"
            if change.written
            else "would write"
        )
        where = f"{change.old_path} → {change.path}" if change.old_path else change.path
        out.print(
            f"{state} {change.action:6} {escape(where)} "
            f"[dim](+{added} -{removed}; {escape(', '.join(change.reasons))})[/dim]"
        )
        if gate is not None and change.path in gate:
            codes = gate[change.path]
            out.print(
                "  merge gate: "
                + (f"[red]fails[/] {escape(', '.join(codes))}" if codes else "[green]passes[/]")
            )
        if change.skipped:
            out.print(f"  [yellow]{escape(change.skipped)}[/]")
        elif dry_run:
            out.print(Text(change.diff()))
    written = sum(1 for c in plan.changes if c.written)
    verb = "would be written" if dry_run else "written"
    count = len(plan.writable) if dry_run else written
    skipped = len(plan.skipped)
    held = f", {skipped} skipped (their work stays pending)" if skipped else ""
    out.print(f"{count} file(s) {verb}{held}.")
