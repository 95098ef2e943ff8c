"""What every command shares: the `main` group, the options, the consoles and exit codes,
failing with one line, and the session a command works in (its index brought up to date)."""

from __future__ import annotations

import functools
import os
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

from kbtui.formats.errors import KbtuiError
from kbtui.ops.interrupt import interruptible
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


def kb_option(help_text: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--kb`, for the commands whose argument is a file or an id."""
    return click.option(
        "--kb", "kb", type=click.Path(file_okay=False), default=None, help=help_text
    )


KB_OF_PATH = "The KB (default: the one holding PATH, else the demo KB)."


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


class LazyProgress:
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
    db_path = db_path or root_db()
    try:
        session = open_session(kb, db_path)
    except OSError as exc:
        fail(f"{exc.filename or 'file'}: {exc.strerror}")
    if session.note:
        err.print(session.note)
    session.db.listener = say
    progress = LazyProgress("Indexing")
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


def say(message: str) -> None:
    """A notice from the index (written again after it was deleted), on stderr."""
    err.print(f"kbtui: {escape(message)}")


def _say_waiting() -> None:
    err.print("Waiting for another kbtui (the app, or a command) to finish indexing this KB…")


def _index_failure(session: Session, exc: sqlite3.Error) -> str:
    """One line saying why the index could not be used, and what to do."""
    return describe_error(exc, session.workspace.db_path)


def root_db() -> str | None:
    """`kbtui --db PATH COMMAND …`: the database given before the command name."""
    context = click.get_current_context(silent=True)
    value = context.find_root().params.get("db_path") if context is not None else None
    return value if isinstance(value, str) else None


def exists(path: Path) -> bool:
    """`path.exists()`, false for a path the system refuses to look at (a name over 255
    bytes, say: Python raises for it instead)."""
    try:
        return path.exists()
    except OSError:
        return False


def is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def kb_relative(session: Session, path: str) -> str:
    """A source path as the index keys it: relative to the KB root, with `/`."""
    candidate = Path(path).expanduser()
    root = session.workspace.root
    if candidate.is_absolute() or exists(candidate):
        try:
            return candidate.resolve().relative_to(root).as_posix()
        except ValueError:
            fail(f"{path} is not inside the KB {root}")
    return candidate.as_posix()


def kb_root_of(path: str) -> str | None:
    """The KB holding `path`: the nearest parent with `inbox/` or `domains/` in it."""
    candidate = Path(path).expanduser()
    if not exists(candidate):
        return None
    for parent in candidate.resolve().parents:
        if (parent / "inbox").is_dir() or (parent / "domains").is_dir():
            return str(parent)
    return None


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
            db = root_db()
            fail(describe_error(exc, Path(db).resolve() if db else None))
        except KbtuiError as exc:
            fail(str(exc))

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and is_dir(Path(args[0])):
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
        ctx.invoke(main.commands["open"], kb=None, db_path=db_path)
