"""The printing commands share: JSON for scripts, tables of counts, problems per file and
search snippets for people."""

from __future__ import annotations

import json
import re
from typing import Any

import click
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from kbtui.cli.base import out
from kbtui.ops import queries
from kbtui.ops.snippets import MATCH_END, MATCH_START


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def counts_table(title: str, counts: dict[str, int]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, count in counts.items():
        table.add_row(escape(key), str(count))
    return table


def render_problems(files: list[queries.FileProblems]) -> None:
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


def highlighted(snippet: str) -> Text:
    """A search snippet with its matched words in bold."""
    text = Text()
    for index, part in enumerate(
        re.split(f"[{MATCH_START}{MATCH_END}]", " ".join(snippet.split()))
    ):
        text.append(part, style="bold yellow" if index % 2 else "")
    return text
