"""Curator actions on sources, pending until export: `status`, `undo`, and `collapse-keys`
(a file with keys written twice, which export will not edit until then)."""

from __future__ import annotations

import sys

import click
from rich.markup import escape
from rich.text import Text

from kbtui.cli.base import (
    EXIT_CLEAN,
    EXIT_PROBLEMS,
    KB_OF_PATH,
    db_option,
    err,
    json_option,
    kb_argument,
    kb_option,
    kb_relative,
    kb_root_of,
    main,
    out,
    session_for,
)
from kbtui.cli.render import print_json
from kbtui.ops import curation, export


@main.command("status")
@click.argument("path")
@click.argument("status", type=click.Choice(curation.TRANSITIONS))
@kb_option(KB_OF_PATH)
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
    kb = kb or kb_root_of(path)
    with session_for(kb, db_path) as session:
        relative = kb_relative(session, path)
        action = curation.set_status(session.db, relative, status, note, who)
        if as_json:
            print_json(action.as_dict())
        else:
            out.print(
                f"{escape(relative)}: {action.from_status or 'no status'} → "
                f"[b]{action.to_status}[/b] (pending export)"
            )


@main.command("collapse-keys")
@click.argument("path")
@kb_option(KB_OF_PATH)
@db_option
@click.option("--write", is_flag=True, help="Write it (without: only show what would change).")
@json_option
def collapse_keys_command(
    path: str, kb: str | None, db_path: str | None, write: bool, as_json: bool
) -> None:
    """Show, then with --write make, the file at PATH with each key written twice kept only
    where it is written last: the value kbtui and every YAML reader already take. Export
    leaves such a file alone until then."""
    kb = kb or kb_root_of(path)
    with session_for(kb, db_path) as session:
        relative = kb_relative(session, path)
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
