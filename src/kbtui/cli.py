"""The `kbtui` command line: the same operations as the app, for scripts and tests."""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
import shlex
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from kbtui.formats.challenges import CASE_PLACEHOLDER
from kbtui.formats.challenges import TITLE_PLACEHOLDER as CHALLENGE_TITLE_PLACEHOLDER
from kbtui.formats.checks import DRAFT_CHECKS, PROBLEM_CODES, Code
from kbtui.formats.claims import ARGUMENT_PLACEHOLDER
from kbtui.formats.divergences import RESOLVE_PLACEHOLDER, WHY_PLACEHOLDER
from kbtui.formats.errors import KbtuiError
from kbtui.formats.kinds import ALL_KINDS, CLAIM_CONFIDENCES
from kbtui.ops import (
    challenge,
    curation,
    divergence,
    drafting,
    export,
    exporting,
    gitcommit,
    queries,
    settings,
)
from kbtui.ops.interrupt import interruptible
from kbtui.ops.report import IndexReport
from kbtui.ops.session import Session, open_session
from kbtui.store.db import StoreError, describe_error

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
EXIT_CLEAN, EXIT_PROBLEMS, EXIT_FAILED = 0, 1, 2

db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Index database (default: kb.sqlite at the KB root).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def kb_argument(function: Callable[..., Any]) -> Callable[..., Any]:
    """The KB as an optional argument, or as `--kb` (as the commands whose argument is a
    file or an id take it): every command names its KB the same way."""

    @functools.wraps(function)
    def with_kb(
        *args: Any, kb: str | None = None, kb_flag: str | None = None, **kwargs: Any
    ) -> Any:
        if kb is not None and kb_flag is not None and Path(kb).resolve() != Path(kb_flag).resolve():
            fail(f"two KBs given: {kb} and --kb {kb_flag}")
        return function(*args, kb=kb if kb is not None else kb_flag, **kwargs)

    with_kb = click.option(
        "--kb",
        "kb_flag",
        type=click.Path(file_okay=False),
        default=None,
        help="The KB (or give it as the argument).",
    )(with_kb)
    return click.argument("kb", required=False, type=click.Path(file_okay=False))(with_kb)


DRAFT_ID = click.IntRange(1, 2**63 - 1)
"""A draft's id: what SQLite can hold (a larger number would not be one)."""


def fail(message: str) -> NoReturn:
    """Stop with a one-line reason and exit code 2."""
    err.print(f"[bold red]kbtui:[/] {escape(message)}")
    sys.exit(EXIT_FAILED)


class _LazyProgress:
    """A progress bar that appears only once indexing has taken more than a moment."""

    def __init__(self, label: str, delay: float = 0.4) -> None:
        self.started = time.perf_counter()
        self.delay = delay
        self.label = label
        self.bar: Progress | None = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if time.perf_counter() - self.started < self.delay or not err.is_terminal:
                return
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=err,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=total)
        self.bar.update(self.task, completed=done, total=total)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@contextmanager
def session_for(kb: str | None, db_path: str | None, full: bool = False) -> Iterator[Session]:
    """Open the KB, index it (incrementally, unless `full`: every file read again), and turn
    expected failures into one-line errors."""
    db_path = db_path or _root_db()
    try:
        session = open_session(kb, db_path)
    except OSError as exc:
        fail(f"{exc.filename or 'file'}: {exc.strerror}")
    if session.note:
        err.print(session.note)
    session.db.listener = _say
    progress = _LazyProgress("Indexing")
    try:
        with interruptible(session.db.conn):
            session.reindex(progress, full=full, waiting=_say_waiting)
    except OSError as exc:
        fail(f"indexing failed: {exc.filename or ''} {exc.strerror}")
    except sqlite3.Error as exc:
        fail(_index_failure(session, exc))
    except StoreError as exc:
        fail(str(exc))
    finally:
        progress.stop()
    try:
        with interruptible(session.db.conn):
            yield session
    except sqlite3.Error as exc:
        fail(_index_failure(session, exc))
    except StoreError as exc:  # the index file deleted or replaced meanwhile, say
        fail(str(exc))
    finally:
        session.close()


def _say(message: str) -> None:
    """A notice from the index (written again after it was deleted), on stderr."""
    err.print(f"kbtui: {escape(message)}")


def _say_waiting() -> None:
    err.print("Waiting for another kbtui (the app, or a command) to finish indexing this KB…")


def _index_failure(session: Session, exc: sqlite3.Error) -> str:
    """One line saying why the index could not be used, and what to do."""
    return describe_error(exc, session.workspace.db_path)


def _root_db() -> str | None:
    """`kbtui --db PATH COMMAND …`: the database given before the command name."""
    context = click.get_current_context(silent=True)
    value = context.find_root().params.get("db_path") if context is not None else None
    return value if isinstance(value, str) else None


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


class _Main(click.Group):
    """`kbtui KB` (a folder, not a command name) means `kbtui open KB`.

    Arguments must be text: one that is not valid UTF-8 (the shell passes bytes through)
    stops the command with a one-line reason before anything runs.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for arg in args:
            try:
                arg.encode("utf-8")
            except UnicodeEncodeError:
                fail(f"an argument is not valid UTF-8 text: {os.fsencode(arg)!r}")
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        # The one place an operation's failure becomes its message: any KbtuiError (and a
        # SQLite failure) that a command did not word for itself is one line, never a
        # traceback.
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # ctrl+c (a long SQLite statement included, see ops/interrupt.py): one line,
            # after the terminal's ^C, and the shell's exit code for it.
            err.print(("\n" if err.is_terminal else "") + "kbtui: interrupted")
            sys.exit(130)
        except sqlite3.Error as exc:
            db = _root_db()
            fail(describe_error(exc, Path(db).resolve() if db else None))
        except KbtuiError as exc:
            fail(str(exc))

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and _is_dir(Path(args[0])):
            return "open", self.commands["open"], args
        return super().resolve_command(ctx, args)


@click.group(
    cls=_Main, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Index database (default: kb.sqlite at the KB root); also taken by every command.",
)
@click.version_option(package_name="kbtui")
@click.pass_context
def main(ctx: click.Context, db_path: str | None) -> None:
    """kbtui: curate a markdown knowledge base from the keyboard.

    With no command, opens the app on the bundled demo KB; `kbtui KB` opens another.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(open_app, kb=None, db_path=db_path)


@main.command("open")
@kb_argument
@db_option
def open_app(kb: str | None, db_path: str | None) -> None:
    """Open the curator's app on KB (default: the demo KB)."""
    try:
        from kbtui.ui.app import KbApp
    except ImportError as exc:  # pragma: no cover - broken installation
        fail(f"the app cannot start: {exc}")
    db_path = db_path or _root_db()
    try:
        session = open_session(kb, db_path)
    except OSError as exc:
        fail(f"{exc.filename or 'file'}: {exc.strerror}")
    if session.note:
        err.print(session.note)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        session.close()
        fail("the app needs a terminal (for scripts, see the commands: kbtui --help)")
    KbApp(session).run()
    session.db.listener = _say
    try:
        session.db.check_file()  # deleted meanwhile: written again before saying it holds work
    except StoreError as exc:
        session.db.conn.close()
        fail(str(exc))
    drafts, statuses = curation.pending_work(session.db)
    session.close()
    if drafts or statuses:
        # Safe in the index, but not yet in the markdown files (nor in a pull request).
        command = "kbtui export"
        if not session.workspace.is_demo:
            command += f" {shlex.quote(str(session.workspace.root))}"
        if db_path and Path(db_path).resolve() != session.workspace.root / "kb.sqlite":
            command += f" --db {shlex.quote(str(Path(db_path).resolve()))}"
        err.print(
            f"{drafts} saved draft{'s' if drafts != 1 else ''} and {statuses} status "
            f"change{'s' if statuses != 1 else ''} wait for export: {escape(command)}"
        )


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


def _exists(path: Path) -> bool:
    """`path.exists()`, false for a path the system refuses to look at (a name over 255
    bytes, say: Python raises for it instead)."""
    try:
        return path.exists()
    except OSError:
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _kb_relative(session: Session, path: str) -> str:
    """A source path as the index keys it: relative to the KB root, with `/`."""
    candidate = Path(path).expanduser()
    root = session.workspace.root
    if candidate.is_absolute() or _exists(candidate):
        try:
            return candidate.resolve().relative_to(root).as_posix()
        except ValueError:
            fail(f"{path} is not inside the KB {root}")
    return candidate.as_posix()


@main.command("status")
@click.argument("path")
@click.argument("status", type=click.Choice(curation.TRANSITIONS))
@click.option(
    "--kb",
    "kb",
    type=click.Path(file_okay=False),
    default=None,
    help="The KB (default: the one holding PATH, else the demo KB).",
)
@db_option
@click.option("--note", default=None, help="Why (required for null-result).")
@click.option("--as", "who", default=None, help="Curator name (default: $KBTUI_CURATOR).")
@json_option
def status_command(
    path: str,
    status: str,
    kb: str | None,
    db_path: str | None,
    note: str | None,
    who: str | None,
    as_json: bool,
) -> None:
    """Move the source at PATH to STATUS (pending until export; `kbtui undo` reverts)."""
    kb = kb or _kb_root_of(path)
    with session_for(kb, db_path) as session:
        relative = _kb_relative(session, path)
        action = curation.set_status(session.db, relative, status, note, who)
        if as_json:
            print_json(action.as_dict())
        else:
            out.print(
                f"{escape(relative)}: {action.from_status or 'no status'} → "
                f"[b]{action.to_status}[/b] (pending export)"
            )


def _kb_root_of(path: str) -> str | None:
    """The KB holding `path`: the nearest parent with `inbox/` or `domains/` in it."""
    candidate = Path(path).expanduser()
    if not _exists(candidate):
        return None
    for parent in candidate.resolve().parents:
        if (parent / "inbox").is_dir() or (parent / "domains").is_dir():
            return str(parent)
    return None


@main.command("collapse-keys")
@click.argument("path")
@click.option(
    "--kb",
    "kb",
    type=click.Path(file_okay=False),
    default=None,
    help="The KB (default: the one holding PATH, else the demo KB).",
)
@db_option
@click.option("--write", is_flag=True, help="Write it (without: only show what would change).")
@json_option
def collapse_keys_command(
    path: str, kb: str | None, db_path: str | None, write: bool, as_json: bool
) -> None:
    """Show, then with --write make, the file at PATH with each key written twice kept only
    where it is written last: the value kbtui and every YAML reader already take. Export
    leaves such a file alone until then."""
    kb = kb or _kb_root_of(path)
    with session_for(kb, db_path) as session:
        relative = _kb_relative(session, path)
        root = session.workspace.root
        change, removed = export.plan_collapse(session.db, root, relative)
        if write and change.skipped is None and removed:
            export.write_changes(root, [change])
            session.reindex()
        if as_json:
            print_json(
                {
                    **change.as_dict(),
                    "removed": [
                        {"key": c.key, "line": c.line, "text": c.text, "same_value": c.same}
                        for c in removed
                    ],
                }
            )
        elif change.skipped is not None:
            err.print(f"kbtui: {escape(relative)}: {escape(change.skipped)}")
        elif not removed:
            out.print(f"{escape(relative)} writes each key once already.")
        else:
            out.print(Text(change.diff()))
            for item in removed:
                words = (
                    "the same value" if item.same else "[yellow]another value[/] than the one kept"
                )
                out.print(f"line {item.line}: {escape(item.key)}, {words}")
            if change.written:
                out.print(f"Written: {len(removed)} earlier copies removed.")
            elif not write:
                out.print("Nothing written: --write writes it.")
    sys.exit(EXIT_PROBLEMS if change.skipped is not None else EXIT_CLEAN)


@main.command("undo")
@kb_argument
@db_option
@json_option
def undo_command(kb: str | None, db_path: str | None, as_json: bool) -> None:
    """Undo the last curator action not yet exported."""
    with session_for(kb, db_path) as session:
        action = curation.undo_last(session.db)
        if as_json:
            print_json({"undone": action.as_dict() if action else None})
        elif action is None:
            out.print("Nothing to undo.")
        else:
            before = action.from_status or "no status"
            out.print(
                f"Undid {escape(action.path)}: {before} → {action.to_status} (it is {before} again)"
            )


@main.group("draft")
def draft_group() -> None:
    """Draft claims from sources (saved in the index; export writes them)."""


@draft_group.command("claim")
@click.option("--source", "source_path", required=True, help="The source file (path).")
@click.option(
    "--hint", type=click.IntRange(1, 10_000), default=None, help="Start from claim candidate N."
)
@click.option("--title", default=None)
@click.option("--description", default=None)
@click.option(
    "--argument",
    default=None,
    help="Why the claim holds: replaces the body's placeholder line (edit the rest in the app).",
)
@click.option(
    "--confidence",
    default=None,
    help=f"One of the KB's confidences ({', '.join(CLAIM_CONFIDENCES)}, unless its profile "
    "says others); the draft's checks say when it is not.",
)
@click.option("--domain", default=None, help="Default: the source's domain.")
@click.option(
    "--enrich",
    "enrich_path",
    default=None,
    metavar="CLAIM",
    help="Make it evidence for this existing claim (its path, file stem or title) instead of "
    "a new claim.",
)
@click.option(
    "--kind",
    "enrichment_kind",
    type=click.Choice(drafting.ENRICHMENT_KINDS),
    default=None,
    help="With --enrich: how the evidence bears on the claim (default: extend).",
)
@click.option(
    "--different",
    is_flag=True,
    help="Say the claim is different from the near-duplicates that would block saving it.",
)
@click.option("--save", is_flag=True, help="Save it for export if every check passes.")
@click.option(
    "--kb",
    "kb",
    type=click.Path(file_okay=False),
    default=None,
    help="The KB (default: the one holding the source, else the demo KB).",
)
@db_option
@json_option
def draft_claim_command(
    source_path: str,
    hint: int | None,
    title: str | None,
    description: str | None,
    argument: str | None,
    confidence: str | None,
    domain: str | None,
    enrich_path: str | None,
    enrichment_kind: str | None,
    different: bool,
    save: bool,
    kb: str | None,
    db_path: str | None,
    as_json: bool,
) -> None:
    """Start a claim draft from a source (or, with --enrich, evidence for an existing claim);
    print its checks and likely duplicates."""
    if enrichment_kind is not None and enrich_path is None:
        fail("--kind says how evidence bears on a claim: give the claim with --enrich")
    kb = kb or _kb_root_of(source_path)
    title = title.strip() if title is not None else None
    with session_for(kb, db_path) as session:
        relative = _kb_relative(session, source_path)
        target = None
        if enrich_path is not None:
            # A path, a file stem or a title, as draft divergence --claim takes.
            target = divergence.resolve_claims(session.db, [_kb_relative(session, enrich_path)])[0]
        draft = drafting.new_claim_draft(session.db, relative, hint)
        try:
            changes = {
                name: value
                for name, value in (
                    ("title", title),
                    ("description", description),
                    ("confidence", confidence),
                    ("domain", domain),
                )
                if value is not None
            }
            body = draft.body
            if title is not None:
                body = body.replace(
                    f"# {draft.title or drafting.TITLE_PLACEHOLDER}", f"# {title}", 1
                )
            if argument is not None and argument.strip():
                body = body.replace(ARGUMENT_PLACEHOLDER, argument.strip(), 1)
            if body != draft.body:
                changes["body"] = body
            draft = drafting.update_draft(session.db, draft.id, **changes)
            if target is not None:
                draft = drafting.enrich_instead(
                    session.db, draft.id, target, enrichment_kind or "extend"
                )
            elif different:
                while (duplicate := drafting.blocking_duplicate(session.db, draft)) is not None:
                    draft = drafting.mark_different(session.db, draft.id, duplicate.path)
            if save:
                draft = drafting.save_draft(session.db, draft.id)
        except drafting.DraftError as exc:
            # A command that could not run leaves nothing behind (a retry starts clean).
            drafting.delete_draft(session.db, draft.id)
            fail(f"{exc} (no draft kept)")
        _print_draft(session, draft, as_json)


@draft_group.command("divergence")
@click.option(
    "--claim",
    "claims",
    multiple=True,
    required=True,
    help="A claim (path, file stem or title); give 2 to 5.",
)
@click.option("--question", default=None, help="The question the claims disagree about.")
@click.option("--description", default=None, help="Why the disagreement matters.")
@click.option("--resolve", "resolution", default=None, help="The evidence that would settle it.")
@click.option("--save", is_flag=True, help="Save it for export if every check passes.")
@click.option("--kb", "kb", type=click.Path(file_okay=False), default=None)
@db_option
@json_option
def draft_divergence_command(
    claims: tuple[str, ...],
    question: str | None,
    description: str | None,
    resolution: str | None,
    save: bool,
    kb: str | None,
    db_path: str | None,
    as_json: bool,
) -> None:
    """Start a divergence draft on 2-5 claims, with its cascade impact prefilled."""
    kb = kb or next((root for root in map(_kb_root_of, claims) if root), None)
    with session_for(kb, db_path) as session:
        created = True
        try:
            refs = [_kb_relative(session, claim) for claim in claims]
            draft = divergence.new_divergence_draft(session.db, refs)
        except divergence.DuplicateDivergence as exc:
            existing = (
                drafting.get_draft(session.db, int(exc.existing.removeprefix("draft ")))
                if exc.existing.startswith("draft ")
                else None
            )
            if existing is None or existing.state != "draft":
                fail(str(exc))
            # The same claims' draft, not yet saved (an earlier run started it), is carried on.
            draft, created = existing, False
        try:
            changes = {
                name: value
                for name, value in (("title", question), ("description", description))
                if value
            }
            # The body says why it matters, and what would resolve it, where the skeleton left
            # placeholder lines.
            body = draft.body
            for text, placeholder in (
                (description, WHY_PLACEHOLDER),
                (resolution, RESOLVE_PLACEHOLDER),
            ):
                if text and text.strip():
                    body = body.replace(placeholder, text.strip(), 1)
            if body != draft.body:
                changes["body"] = body
            draft = drafting.update_draft(session.db, draft.id, **changes)
            if save:
                draft = drafting.save_draft(session.db, draft.id)
        except drafting.DraftError as exc:
            if created:
                drafting.delete_draft(session.db, draft.id)
            fail(f"{exc}" + (" (no draft kept)" if created else f" (draft {draft.id} kept)"))
        checks = divergence.check_divergence(session.db, draft)
        if as_json:
            print_json({**draft.as_dict(), "checks": [c.as_dict() for c in checks]})
            return
        out.print(
            f"[b]Divergence draft {draft.id}[/b] on {len(draft.claims)} claims ({draft.state})"
        )
        for check in checks:
            out.print(f"  {check.status:4} {escape(check.message)}")


@draft_group.command("challenge")
@click.option(
    "--claim", "claim", required=True, help="The claim challenged (path, file stem or title)."
)
@click.option("--title", default=None, help="The challenge, as a proposition.")
@click.option(
    "--type",
    "challenge_type",
    default=None,
    metavar="TYPE",
    help="refutation, boundary, reframe or evidence-gap (the KB's profile may name others).",
)
@click.option("--description", default=None, help="What the title does not say.")
@click.option(
    "--argument",
    default=None,
    help="The case against the claim: replaces the body's placeholder line.",
)
@click.option("--confidence", type=click.Choice(CLAIM_CONFIDENCES), default=None)
@click.option("--source", "source", default=None, help="The evidence it rests on (attribution).")
@click.option("--save", is_flag=True, help="Save it for export if every check passes.")
@click.option("--kb", "kb", type=click.Path(file_okay=False), default=None)
@db_option
@json_option
def draft_challenge_command(
    claim: str,
    title: str | None,
    challenge_type: str | None,
    description: str | None,
    argument: str | None,
    confidence: str | None,
    source: str | None,
    save: bool,
    kb: str | None,
    db_path: str | None,
    as_json: bool,
) -> None:
    """Start a challenge of a claim, prefilled from it; print its checks."""
    kb = kb or _kb_root_of(claim)
    title = title.strip() if title is not None else None
    with session_for(kb, db_path) as session:
        types = challenge.challenge_types(session.db)
        if challenge_type is not None and challenge_type not in types:
            fail(f"--type must be one of: {', '.join(types)} (not {challenge_type!r})")
        draft = challenge.new_challenge_draft(session.db, _kb_relative(session, claim))
        try:
            changes: dict[str, str] = {
                name: value
                for name, value in (
                    ("title", title),
                    ("description", description),
                    ("confidence", confidence),
                    ("source", source),
                    ("challenge_type", challenge_type),
                )
                if value is not None
            }
            body = draft.body
            if title:
                body = body.replace(f"# {CHALLENGE_TITLE_PLACEHOLDER}", f"# {title}", 1)
            if argument is not None and argument.strip():
                body = body.replace(CASE_PLACEHOLDER, argument.strip(), 1)
            if body != draft.body:
                changes["body"] = body
            draft = drafting.update_draft(session.db, draft.id, **changes)
            if save:
                draft = drafting.save_draft(session.db, draft.id)
        except drafting.DraftError as exc:
            # A command that could not run leaves nothing behind (a retry starts clean).
            drafting.delete_draft(session.db, draft.id)
            fail(f"{exc} (no draft kept)")
        _print_draft(session, draft, as_json)


@main.command("challenges")
@kb_argument
@db_option
@json_option
def challenges_command(kb: str | None, db_path: str | None, as_json: bool) -> None:
    """Challenge files, open first, with their type and the claim each challenges."""
    with session_for(kb, db_path) as session:
        rows = challenge.challenges(session.db)
        if as_json:
            print_json(rows)
            return
        if not rows:
            out.print("No challenges yet.")
        for row in rows:
            kind = escape(row["challenge_type"] or "?")
            out.print(f"[b]{escape(row['status'] or '?'):8}[/b] {kind:12} {escape(row['title'])}")
            out.print(f"           → {escape(row['target_claim'] or '(no target_claim)')}")


@main.command("divergences")
@kb_argument
@db_option
@json_option
def divergences_command(kb: str | None, db_path: str | None, as_json: bool) -> None:
    """Divergence files, open first, with their claims."""
    with session_for(kb, db_path) as session:
        rows = divergence.divergences(session.db)
        if as_json:
            print_json(rows)
            return
        if not rows:
            out.print("No divergences yet.")
        for row in rows:
            out.print(f"[b]{escape(row['status'] or '?'):8}[/b] {escape(row['title'])}")
            for claim in row["claims"]:
                out.print(f"           - {escape(claim)}")


def _print_draft(session: Session, draft: drafting.Draft, as_json: bool) -> None:
    checks = drafting.checks_for(session.db, draft)
    duplicates = (
        drafting.find_duplicates(session.db, draft.title, draft.description)
        if draft.kind == "claim"
        else []
    )
    if as_json:
        print_json(
            {
                **draft.as_dict(),
                "checks": [c.as_dict() for c in checks],
                "duplicates": [d.as_dict() for d in duplicates],
            }
        )
        return
    if draft.kind == "challenge":
        out.print(
            f"[b]Draft {draft.id}[/b] (challenge, {draft.state}) of "
            f"{escape(draft.target_path or '-')}"
        )
    else:
        out.print(
            f"[b]Draft {draft.id}[/b] ({draft.kind}, {draft.state}) from "
            f"{escape(draft.source_path or '-')}"
        )
    out.print(f"  title: {escape(draft.title) or '[dim](empty)[/dim]'}")
    if draft.kind == "challenge":
        out.print(f"  type: {escape(draft.challenge_type or '-')}")
        if draft.title.strip():
            out.print(f"  file: {escape(challenge.challenge_path(session.db, draft))}")
    if draft.kind == "enrichment":
        out.print(f"  enriches ({draft.enrichment_kind}): {escape(draft.target_path or '-')}")
    marks = {"pass": "[green]✓[/]", "warn": "[yellow]![/]", "fail": "[red]✗[/]"}
    for check in checks:
        suggestion = f" → {escape(check.suggestion)}" if check.suggestion else ""
        out.print(f"  {marks[check.status]} {escape(check.message)}{suggestion}")
    for duplicate in duplicates:
        out.print(f"  similar ({duplicate.score}%): {escape(duplicate.title)}")


@main.group("drafts")
def drafts_group() -> None:
    """List, show or delete drafts."""


@drafts_group.command("list")
@kb_argument
@db_option
@json_option
def drafts_list_command(kb: str | None, db_path: str | None, as_json: bool) -> None:
    """Drafts not yet exported, newest first."""
    with session_for(kb, db_path) as session:
        drafts = drafting.list_drafts(session.db)
        if as_json:
            print_json([d.as_dict() for d in drafts])
            return
        if not drafts:
            out.print("No drafts.")
        for draft in drafts:
            # A challenge comes from the claim it challenges; the others from a source.
            origin = (
                f"→ {draft.target_path or '-'}"
                if draft.kind == "challenge"
                else f"← {draft.source_path or '-'}"
            )
            out.print(
                f"{draft.id:>4} {draft.kind:10} {draft.state:6} "
                f"{escape(draft.title[:70] or '(untitled)')} [dim]{escape(origin)}[/dim]"
            )


@drafts_group.command("show")
@click.argument("draft_id", type=DRAFT_ID)
@click.option("--kb", "kb", type=click.Path(file_okay=False), default=None)
@db_option
@json_option
def drafts_show_command(draft_id: int, kb: str | None, db_path: str | None, as_json: bool) -> None:
    """One draft with its checks and likely duplicates."""
    with session_for(kb, db_path) as session:
        draft = drafting.get_draft(session.db, draft_id)
        _print_draft(session, draft, as_json)


@drafts_group.command("rm")
@click.argument("draft_id", type=DRAFT_ID)
@click.option("--kb", "kb", type=click.Path(file_okay=False), default=None)
@db_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
def drafts_rm_command(
    draft_id: int, kb: str | None, db_path: str | None, yes: bool, as_json: bool
) -> None:
    """Delete a draft (asks first unless --yes or --json)."""
    with session_for(kb, db_path) as session:
        draft = drafting.get_draft(session.db, draft_id)
        if not (yes or as_json) and not sys.stdin.isatty():
            fail(f"not deleted: no terminal to ask in; give --yes to delete draft {draft_id}")
        if not (yes or as_json) and not click.confirm(
            f"Delete draft {draft_id} ({draft.title[:60]!r})?"
        ):
            out.print("Kept.")
            return
        drafting.delete_draft(session.db, draft_id)
        if as_json:
            print_json({"deleted": draft.as_dict()})
        else:
            out.print(f"Deleted draft {draft_id}.")


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


@main.command("index")
@kb_argument
@db_option
@click.option("--full", is_flag=True, help="Re-read every file, even unchanged ones.")
@json_option
def index_command(kb: str | None, db_path: str | None, full: bool, as_json: bool) -> None:
    """Build or update the index of KB (only changed files are read)."""
    # One run: a first incremental run would leave the full one nothing to report but
    # updates (its adds, deletes and renames were lost from the report).
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

    progress = _LazyProgress("Indexing")
    try:
        report = repair(kb, db_path or _root_db(), progress, force=force)
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


def _render_problems(files: list[queries.FileProblems]) -> None:
    colours = {"error": "red", "warning": "yellow", "info": "cyan"}
    for entry in files:
        shown = entry.path if entry.path.isprintable() else repr(entry.path)
        out.print(f"[bold]{escape(shown)}[/] [dim]({entry.kind})[/]")
        for problem in entry.problems:
            line = f":{problem['line']}" if problem["line"] else ""
            colour = colours.get(problem["severity"], "white")
            out.print(
                f"  [{colour}]{problem['severity']:7}[/] {problem['code']}{line}  "
                f"{escape(problem['message'])}"
            )


def _codes(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[Code, ...]:
    """Problem codes as the registry spells them; an unknown one stops the command, naming
    the codes it is close to."""
    known = [code.value for code in Code]
    codes = []
    for value in values:
        name = value.strip().lower()
        if name not in known:
            near = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
            hint = f" (did you mean: {', '.join(near)}?)" if near else ""
            fail(f"--{param.name}: no problem code '{value}'{hint}; kbtui check --codes lists them")
        codes.append(Code(name))
    return tuple(codes)


def _print_codes(as_json: bool) -> None:
    """The registry: every problem code, and every check a draft goes through."""
    codes = [
        {
            "code": code.value,
            "severity": spec.severity,
            "scope": spec.scope,
            "blocks_export": spec.blocks_export,
            "explanation": spec.explanation,
        }
        for code, spec in PROBLEM_CODES.items()
    ]
    checks = [
        {"id": check.value, "drafts": list(spec.drafts), "explanation": spec.explanation}
        for check, spec in DRAFT_CHECKS.items()
    ]
    from kbtui.formats.checks import GATE_CODES

    gate_codes = [{"code": code.value, "explanation": text} for code, text in GATE_CODES.items()]
    if as_json:
        print_json({"codes": codes, "draft_checks": checks, "gate_codes": gate_codes})
        return
    width = max(len(code) for code in PROBLEM_CODES)
    out.print(f"[b]{'code':{width}}  severity  scope  explanation[/b]")
    for row in codes:
        refused = " Export leaves such a file alone." if row["blocks_export"] else ""
        out.print(
            f"{row['code']:{width}}  {row['severity']:8}  {row['scope']:5}  "
            f"{escape(str(row['explanation']))}{refused}"
        )
    out.print("\n[b]Checks on drafts[/b] (kbtui draft, kbtui drafts show)")
    width = max(len(check) for check in DRAFT_CHECKS)
    for check in checks:
        drafts = ", ".join(check["drafts"])
        out.print(f"{check['id']:{width}}  {drafts:18}  {escape(str(check['explanation']))}")
    out.print("\n[b]The merge gate's codes[/b] (kbtui check --gate, kbtui export --dry-run)")
    width = max(len(code) for code in GATE_CODES)
    for gate_code in gate_codes:
        out.print(f"{gate_code['code']:{width}}  {escape(gate_code['explanation'])}")


@main.command("check")
@kb_argument
@db_option
@click.option("--all", "include_info", is_flag=True, help="Also list informational notes.")
@click.option(
    "--only",
    multiple=True,
    callback=_codes,
    metavar="CODE",
    help="Only problems of this code, whatever its severity (repeatable).",
)
@click.option(
    "--skip",
    multiple=True,
    callback=_codes,
    metavar="CODE",
    help="Leave this code out (repeatable).",
)
@click.option(
    "--codes",
    "list_codes",
    is_flag=True,
    help="List every problem code, and every check on drafts, with what it means.",
)
@click.option(
    "--gate",
    is_flag=True,
    help="Run the KB's merge gate over every file it reads, reporting in its codes.",
)
@json_option
def check_command(
    kb: str | None,
    db_path: str | None,
    include_info: bool,
    only: tuple[Code, ...],
    skip: tuple[Code, ...],
    list_codes: bool,
    gate: bool,
    as_json: bool,
) -> None:
    """Report every problem in KB: exit 0 when clean, 1 when problems are found."""
    if list_codes:
        _print_codes(as_json)
        return
    if gate:
        if only or skip or include_info:
            fail("--gate reports the merge gate's codes: --all, --only and --skip do not apply")
        _gate_check(kb, db_path, as_json)
        return
    with session_for(kb, db_path) as session:
        files = queries.check(session.db, include_info, only, skip)

        def counts(problem: dict[str, Any]) -> bool:
            # Informational notes do not fail the check, unless --only asked for their code.
            return problem["severity"] in queries.REPORTED_SEVERITIES or problem["code"] in only

        reported = [f for f in files if any(counts(p) for p in f.problems)]
        documents = session.report.documents if session.report else 0
        if as_json:
            print_json(
                {
                    "kb": str(session.workspace.root),
                    "documents": documents,
                    "files_with_problems": len(reported),
                    "problems": sum(len(f.problems) for f in files),
                    "files": [
                        {"path": f.path, "kind": f.kind, "problems": f.problems} for f in files
                    ],
                }
            )
        else:
            _render_problems(files)
            count = sum(len(f.problems) for f in files)
            among = _filter_note(only, skip)
            if reported:
                out.print(f"\n{count} problem(s) in {len(reported)} of {documents} files{among}.")
            else:
                out.print(f"No problems in {documents} files{among}.")
    sys.exit(EXIT_PROBLEMS if reported else EXIT_CLEAN)


def _gate_check(kb: str | None, db_path: str | None, as_json: bool) -> NoReturn:
    """`check --gate`: the merge gate's verdict on every file it reads; exit 1 when one fails."""
    from kbtui.ops.gate import gate_kb

    with session_for(kb, db_path) as session:
        started = time.perf_counter()
        verdicts = gate_kb(session.db, session.workspace.root)
        seconds = time.perf_counter() - started
        failing = [v for v in verdicts if v.failures]
        if as_json:
            print_json(
                {
                    "kb": str(session.workspace.root),
                    "files_checked": len(verdicts),
                    "files_failing": len(failing),
                    "failures": sum(len(v.failures) for v in failing),
                    "seconds": round(seconds, 3),
                    "files": [v.as_dict() for v in failing],
                }
            )
        else:
            for verdict in failing:
                out.print(f"[b]{escape(verdict.path)}[/b]")
                for failure in verdict.failures:
                    where = f" (line {failure.line})" if failure.line else ""
                    out.print(f"  [red]{escape(str(failure))}[/]  {escape(failure.message)}{where}")
            if failing:
                out.print(
                    f"\n{len(failing)} of {len(verdicts)} files fail the merge gate "
                    f"({sum(len(v.failures) for v in failing)} reasons)."
                )
            else:
                out.print(f"All {len(verdicts)} files pass the merge gate.")
    sys.exit(EXIT_PROBLEMS if failing else EXIT_CLEAN)


def _filter_note(only: tuple[Code, ...], skip: tuple[Code, ...]) -> str:
    """What --only and --skip left out, for the summary line (a clean result is only clean
    for the codes that were looked at)."""
    parts = []
    if only:
        parts.append("only " + ", ".join(only))
    if skip:
        parts.append("skipping " + ", ".join(skip))
    return f" ({'; '.join(parts)})" if parts else ""


def _table(title: str, counts: dict[str, int]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, count in counts.items():
        table.add_row(escape(key), str(count))
    return table


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
    workspace, note = open_workspace(kb, db_path or _root_db())
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
            out.print(_table(title, data[key]))


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
            out.print(Text("  ").append_text(_highlighted(hit.snippet)))


def _highlighted(snippet: str) -> Text:
    """A search snippet with its matched words in bold."""
    text = Text()
    for index, part in enumerate(
        re.split(f"[{queries.MATCH_START}{queries.MATCH_END}]", " ".join(snippet.split()))
    ):
        text.append(part, style="bold yellow" if index % 2 else "")
    return text


if __name__ == "__main__":
    main()
