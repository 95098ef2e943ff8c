"""`kbtui check`: every problem in the KB, per file (`--codes` lists the registry,
`--gate` runs the merge gate instead)."""

from __future__ import annotations

import difflib
import sys
import time
from typing import Any, NoReturn

import click
from rich.markup import escape

from kbtui.cli.base import (
    EXIT_CLEAN,
    EXIT_PROBLEMS,
    db_option,
    fail,
    json_option,
    kb_argument,
    main,
    out,
    session_for,
)
from kbtui.cli.render import print_json, render_problems
from kbtui.formats.checks import DRAFT_CHECKS, PROBLEM_CODES, Code
from kbtui.ops import queries


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
            render_problems(files)
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
