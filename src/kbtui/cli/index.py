"""Reading the KB: `index`, `repair` (a damaged index rebuilt), `profile`, `stats` and
`search`."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from kbtui.cli.base import (
    EXIT_CLEAN,
    EXIT_PROBLEMS,
    LazyProgress,
    db_option,
    err,
    fail,
    json_option,
    kb_argument,
    main,
    out,
    root_db,
    session_for,
)
from kbtui.cli.render import counts_table, highlighted, print_json
from kbtui.formats.kinds import ALL_KINDS
from kbtui.ops import queries
from kbtui.ops.report import IndexReport
from kbtui.store.db import describe_error


def _describe_report(report: IndexReport) -> None:
    if not report.changed:
        out.print(f"Index up to date: {report.documents} documents ({report.seconds:.2f} s).")
        return
    out.print(
        f"Indexed {report.documents} documents in {report.seconds:.2f} s: "
        f"{len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.deleted)} deleted, {len(report.renamed)} renamed, "
        f"{report.unchanged} unchanged."
    )
    shown = 0
    for label, paths in (
        ("added", report.added),
        ("updated", report.updated),
        ("deleted", report.deleted),
    ):
        for path in paths:
            if shown < 20 and (len(report.added) < 50 or label != "added"):
                out.print(f"  {label:8} {escape(path)}")
                shown += 1
    for old, new in report.renamed[:20]:
        out.print(f"  renamed  {escape(old)} → {escape(new)}")


@main.command("index")
@kb_argument
@db_option
@click.option("--full", is_flag=True, help="Re-read every file, even unchanged ones.")
@json_option
def index_command(kb: str | None, db_path: str | None, full: bool, as_json: bool) -> None:
    """Build or update the index of KB (only changed files are read)."""
    # One run: a first incremental run would leave the full one nothing to report but
    # updates (its adds, deletes and renames would be missing from the report).
    with session_for(kb, db_path, full=full) as session:
        report = session.report
        assert report is not None
        if as_json:
            print_json({**report.as_dict(), "db": str(session.workspace.db_path)})
        else:
            _describe_report(report)


@main.command("repair")
@kb_argument
@db_option
@click.option("--force", is_flag=True, help="Rebuild an index that reads fine, too.")
@json_option
def repair_command(kb: str | None, db_path: str | None, force: bool, as_json: bool) -> None:
    """Rebuild a damaged index, keeping the drafts and status changes it still holds.

    The damaged file is moved aside (never deleted); exit 1 when some work could not be read.
    Run it while no other kbtui uses the KB.
    """
    from kbtui.ops.repair import NothingToRepair, repair

    progress = LazyProgress("Indexing")
    try:
        report = repair(kb, db_path or root_db(), progress, force=force)
    except NothingToRepair as exc:
        progress.stop()
        if as_json:
            print_json(None)
        err.print(f"kbtui: {escape(str(exc))}")
        sys.exit(EXIT_CLEAN)
    except sqlite3.Error as exc:
        fail(describe_error(exc, Path(db_path).resolve() if db_path else None))
    finally:
        progress.stop()
    if as_json:
        print_json(report.as_dict())
    else:
        what = "the damaged index" if report.damaged else "the index (it read fine)"
        out.print(f"Moved {what} aside: {escape(str(report.moved_to))} (kept).")
        out.print(f"Built a new index at {escape(str(report.db))}: {report.documents} documents.")
        out.print(
            f"Saved {report.drafts} draft(s) ({report.drafts_pending} not yet exported) and "
            f"{report.actions} status change(s) ({report.actions_pending} pending export)."
        )
        for problem in report.not_saved:
            err.print(f"[yellow]not saved:[/] {escape(problem)}")
        if not report.not_saved:
            out.print("Nothing was lost.")
    sys.exit(EXIT_PROBLEMS if report.not_saved else EXIT_CLEAN)


@main.command("profile")
@kb_argument
@db_option
@click.option("--kind", "kind", default=None, help="Show this kind's fields.")
@json_option
def profile_command(kb: str | None, db_path: str | None, kind: str | None, as_json: bool) -> None:
    """The KB's profile in force: its kinds, where their files live, their fields, and
    which file (kbtui's own, or the KB's kbtui.toml) each part comes from."""
    from kbtui.ops.profile import load_profile
    from kbtui.ops.workspace import open_workspace

    # The profile is the KB's, whatever the index: --db is taken (as by every command) and
    # checked like theirs, but not read.
    workspace, note = open_workspace(kb, db_path or root_db())
    if note:
        err.print(note)
    schema = load_profile(workspace.root)
    origins = {part.key: part.origin for part in schema.parts}
    model = schema.model
    if kind is not None and kind not in model.kinds:
        fail(f"no kind {kind!r} in the profile: {', '.join(model.kinds)}")
    if as_json:
        data = model.model_dump(mode="json", exclude_defaults=False)
        print_json(
            {
                "name": model.name,
                "files": [origin for origin, _ in schema.sources],
                "parts": [{"key": p.key, "origin": p.origin} for p in schema.parts],
                **({"kinds": {kind: data["kinds"][kind]}} if kind else data),
            }
        )
        return
    out.print(
        f"Profile [b]{escape(model.name)}[/b], from: "
        + ", ".join(escape(origin) for origin, _ in schema.sources)
    )
    # Where each part comes from matters only when the KB has a profile of its own.
    layered = len(schema.sources) > 1
    if kind is None:
        table = Table(box=None, title_justify="left")
        for column in ("kind", "files", "type:", "fields", *(["from"] if layered else [])):
            table.add_column(column, overflow="fold")
        for name, spec in model.kinds.items():
            patterns = [r.pattern for r in model.paths if r.kind == name]
            table.add_row(
                escape(name),
                escape(", ".join(patterns) or "(by type: only)"),
                escape(", ".join(spec.types)),
                str(len(spec.fields)),
                *([escape(origins.get(f"kinds.{name}", ""))] if layered else []),
            )
        out.print(table)
        out.print("[dim]A kind's fields: kbtui profile --kind KIND[/dim]")
        return
    spec = model.kinds[kind]
    out.print(f"[b]{escape(kind)}[/b]: {escape(spec.label)}")
    table = Table(box=None, title_justify="left")
    for column in ("field", "shape", "required", "values", "link", *(["from"] if layered else [])):
        table.add_column(column, overflow="fold")
    for name, field in spec.fields.items():
        table.add_row(
            escape(name),
            field.shape if not field.legacy_for else f"read as {field.legacy_for}",
            "yes" if field.required else "",
            escape(", ".join(field.vocabulary or ())),
            escape(field.link or ""),
            *([escape(origins.get(f"kinds.{kind}.fields.{name}", ""))] if layered else []),
        )
    out.print(table)


@main.command("stats")
@kb_argument
@db_option
@json_option
def stats_command(kb: str | None, db_path: str | None, as_json: bool) -> None:
    """Counts: documents by kind, sources by status and domain, claims, challenges, links."""
    with session_for(kb, db_path) as session:
        data = queries.stats(session.db)
        if as_json:
            print_json(data)
            return
        out.print(
            f"[bold]{data['documents']}[/] documents in {escape(str(session.workspace.root))}"
        )
        if data["other_files"]:
            out.print(f"{data['other_files']} other files (not markdown) are not indexed.")
        for key, title in (
            ("by_kind", "Documents by kind"),
            ("sources_by_status", "Sources by status"),
            ("sources_by_domain", "Sources by domain"),
            ("claims_by_confidence", "Claims by confidence"),
            ("challenges_by_status", "Challenges by status"),
            ("links_by_rule", "Links by resolution rule"),
        ):
            out.print()
            out.print(counts_table(title, data[key]))


@main.command("queue")
@click.argument("kind")
@kb_argument
@db_option
@json_option
def queue_command(kind: str, kb: str | None, db_path: str | None, as_json: bool) -> None:
    """The documents of KIND by the queue their status puts them in, as the KB's profile
    declares the kind's queues (sources: the desk's queues)."""
    from kbtui.ops.desk import kind_queues
    from kbtui.ops.profile import schema_of

    with session_for(kb, db_path) as session:
        kinds = schema_of(session.db).kinds
        if kind not in kinds:
            fail(f"no kind {kind!r} in the profile: {', '.join(kinds)}")
        queues = kind_queues(session.db, kind)
        if as_json:
            print_json(
                {
                    "kind": kind,
                    "queues": {
                        name: [
                            {"path": e.path, "title": e.title, "status": e.status} for e in entries
                        ]
                        for name, entries in queues.items()
                    },
                }
            )
            return
        for name, entries in queues.items():
            out.print(f"[bold]{escape(name)}[/] ({len(entries)})")
            for entry in entries:
                out.print(f"  {escape(entry.title)} [dim]{escape(entry.path)}[/dim]")


def _split_search_args(args: tuple[str, ...]) -> tuple[str | None, str]:
    """(KB, query): the first word is the KB when it names a folder and words follow it;
    the query is every other word (quoted or not)."""
    if len(args) >= 2 and Path(args[0]).expanduser().is_dir():
        return args[0], " ".join(args[1:])
    return None, " ".join(args)


@main.command("search", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, required=True)
@db_option
@click.option("--kind", type=click.Choice(ALL_KINDS), help="Only documents of this kind.")
@click.option("--status", help="Only sources with this status.")
@click.option("--domain", help="Only this domain.")
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=20,
    show_default=True,
    help="How many results (1 to 1000).",
)
@json_option
def search_command(
    args: tuple[str, ...],
    db_path: str | None,
    kind: str | None,
    status: str | None,
    domain: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Ranked full-text search: kbtui search [KB] QUERY."""
    kb, text = _split_search_args(args)
    with session_for(kb, db_path) as session:
        hits = queries.search(session.db, text, kind, status, domain, limit)
        if as_json:
            print_json({"query": text, "hits": [hit.as_dict() for hit in hits]})
            return
        if not hits:
            words = text.split()
            if words and all(word.startswith("-") for word in words):
                out.print("No matches: -word leaves a word out; say what to look for too.")
            else:
                out.print("No matches.")
            return
        for hit in hits:
            out.print(f"[bold]{escape(hit.title)}[/] [dim]{hit.kind} · {escape(hit.path)}[/]")
            out.print(Text("  ").append_text(highlighted(hit.snippet)))
