"""The registry of checks, as a curator and a script meet it: `kbtui check --codes`, the
`--only` and `--skip` filters, draft checks and export refusals named from the same list, and
one line (exit 2) for any operation's failure."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kbtui.cli import main
from kbtui.formats.checks import Code
from kbtui.formats.document import parse_document
from kbtui.ops import indexer, queries

SRC = Path(__file__).resolve().parents[1] / "src" / "kbtui"
GRID = "inbox/archive/2026-03-01-grid-operator-quarterly-evening-peak.md"

SOURCE = (
    "---\ntype: source\ntitle: {title}\nauthor: A. Writer\nurl: https://example.org/x\n"
    "date: 2026-01-01\ndomain: energy\nformat: article\nstatus: unprocessed\n---\n\n"
    "## Content\n\nText.\n"
)
CLAIM = (
    "---\ntype: claim\ndomain: energy\ndescription: why it holds\nconfidence: likely\n"
    "source: a study\ncreated: 2026-01-01\n---\n\n# {title}\n\n{body}\n"
)


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def run_json(*args: str) -> tuple[int, Any]:
    code, stdout, _ = run(*args, "--json")
    return code, json.loads(stdout)


def put(root: Path, rel: str, data: str | bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)


def hostile_kb(root: Path) -> Path:
    """A KB with one file (or folder) for each thing `kbtui check` can find wrong."""
    archive = "inbox/archive/"
    put(root, archive + "2026-01-01-fine.md", SOURCE.format(title="Fine"))
    put(root, archive + "2026-01-02-bom.md", "\ufeff" + SOURCE.format(title="Bom"))
    put(root, archive + "2026-01-03-crlf.md", SOURCE.format(title="Crlf").replace("\n", "\r\n"))
    put(root, archive + "2026-01-04-wide.md", SOURCE.format(title="Wide").encode("utf-16"))
    put(root, archive + "2026-01-05-latin.md", SOURCE.format(title="Caf\xe9").encode("latin-1"))
    put(root, archive + "2026-01-06-binary.md", b"---\ntype: source\n---\n\x00\x01\x02")
    put(root, archive + "2026-01-07-broken.md", '---\ntype: source\ntitle: "open\nx: [\n---\n')
    put(
        root,
        archive + "2026-01-08-twice.md",
        SOURCE.format(title="Twice").replace(
            "status: unprocessed", "status: unprocessed\nstatus: processing"
        ),
    )
    put(root, archive + "2026-01-09-list.md", "---\n- one\n- two\n---\n\nText.\n")
    put(root, archive + "2026-01-10-unclosed.md", "---\ntype: source\ntitle: Unclosed\n")
    put(
        root,
        archive + "undated-notes.md",
        "---\ntype: source\ntitle: Undated\nurl: https://example.org/u\ndate: 2026-01-01\n"
        "domain: energy\nsource_type: article\ntags: one\nstatus: finished\ncolour: red\n---\n",
    )
    put(
        root,
        archive + "2026-01-11-said-claim.md",
        SOURCE.format(title="T").replace("type: source", "type: claim"),
    )
    put(
        root,
        archive + "2026-01-12-domain.md",
        SOURCE.format(title="D").replace("domain: energy", "domain: processed"),
    )
    put(
        root,
        archive + "2026-01-13-null.md",
        SOURCE.format(title="Null").replace(
            "status: unprocessed", "status: null-result\nclaims_extracted:\n- a claim nobody wrote"
        ),
    )
    put(root, archive + "2026-01-14-twin.md", SOURCE.format(title="Twin one"))
    put(root, archive + "older/2026-01-14-twin.md", SOURCE.format(title="Twin two"))
    put(root, archive + "2026-01-15-explodes.md", SOURCE.format(title="Explodes"))
    put(root, archive + "2026-01-16-large.md", SOURCE.format(title="Large") + "word " * 30_000)
    put(root, archive + "2026-01-17-long.md", SOURCE.format(title="Long") + "x" * 12_000 + "\n")
    claim = "storage shifts the evening peak"
    put(root, f"domains/energy/{claim}.md", CLAIM.format(title=claim, body="Text."))
    put(root, "domains/energy/same.md", CLAIM.format(title="same", body="Text."))
    put(root, "domains/grid/same.md", CLAIM.format(title="same", body="Text."))
    analysis = "grids need storage to absorb midday solar"
    put(
        root,
        f"domains/energy/{analysis}.md",
        CLAIM.format(title=analysis, body="Text.").replace("type: claim", "type: analysis"),
    )
    twice = "batteries flatten the evening demand peak"
    put(root, f"domains/energy/{twice}.md", CLAIM.format(title=twice, body="Text."))
    slug = twice.replace(" ", "-")
    put(root, f"domains/energy/{slug}.md", CLAIM.format(title=slug, body="Text."))
    put(
        root,
        "domains/energy/links are checked against the whole KB.md",
        CLAIM.format(
            title="links are checked against the whole KB",
            body=f"[[nothing by this name]], [[{claim}.md]] and [[same]].",
        ),
    )
    put(root, "domains/energy/no frontmatter here.md", "# No frontmatter\n\nText.\n")
    put(root, "domains/locked/a claim in a folder nobody can list.md", "# Locked\n")
    outside = root.parent / "outside.md"
    outside.write_text("# Outside\n", encoding="utf-8")
    os.symlink(outside, root / "domains" / "energy" / "outside.md")
    os.mkfifo(root / "domains" / "energy" / "pipe.md")
    with open(os.fsencode(root / "inbox" / "archive") + b"/caf\xe9.md", "wb") as handle:
        handle.write(SOURCE.format(title="Byte name").encode())
    return root


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The hostile KB, indexed in this process, where a parser bug and a folder that cannot
    be listed are made to happen."""
    root = hostile_kb(tmp_path / "kb")

    def parse(path: str, data: bytes) -> Any:
        if path.endswith("explodes.md") and data:
            raise RuntimeError("a bug")
        return parse_document(path, data)

    locked = str(root / "domains" / "locked")
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if str(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(indexer, "parse_document", parse)
    monkeypatch.setattr(os, "scandir", scandir)
    return root


def test_every_code_the_check_reports_is_listed_with_its_severity_and_scope(
    hostile: Path, seeds_copy: Path
) -> None:
    """Each problem `kbtui check --all` reports, on the demo KB and on a KB with one of each
    kind of damage, has its code in `check --codes` with the severity it is reported with;
    and every listed code is one the check can report."""
    _, listed = run_json("check", "--codes")
    registry = {row["code"]: row for row in listed["codes"]}
    seen: dict[str, set[str]] = {}
    for kb in (hostile, seeds_copy):
        code, data = run_json("check", str(kb), "--all")
        assert code == 1
        for entry in data["files"]:
            for problem in entry["problems"]:
                seen.setdefault(problem["code"], set()).add(problem["severity"])
    assert set(seen) <= set(registry), set(seen) - set(registry)
    for name, severities in seen.items():
        assert severities == {registry[name]["severity"]}, name
    assert set(seen) == set(registry), set(registry) - set(seen)
    for row in listed["codes"]:
        assert row["scope"] in ("file", "kb") and row["explanation"].endswith(".")


def test_every_problem_code_written_in_the_source_is_registered() -> None:
    """A literal `Problem("code", ...)` anywhere in kbtui names a registered code, and every
    draft check is constructed from the registry: a new check cannot skip the list."""
    codes = {c.value for c in Code}
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            first = node.args[0] if node.args else None
            if node.func.id == "Problem" and isinstance(first, ast.Constant):
                assert first.value in codes, f"{path.name}:{node.lineno} {first.value!r}"
            if node.func.id == "Check":
                assert not isinstance(first, ast.Constant), f"{path.name}:{node.lineno}"


def test_codes_are_listed_as_text_without_a_kb() -> None:
    code, stdout, _ = run("check", "--codes")
    assert code == 0
    line = next(line for line in stdout.splitlines() if line.startswith("duplicate-key "))
    assert line.split()[1:3] == ["warning", "file"]
    assert "the last value wins" in line and "Export leaves such a file alone." in line
    line = next(line for line in stdout.splitlines() if line.startswith("unresolved-link "))
    assert line.split()[1:3] == ["warning", "kb"]
    assert "Export leaves" not in line
    assert "Checks on drafts" in stdout
    assert any(line.startswith("proposition ") for line in stdout.splitlines())


def codes_in(data: dict[str, Any]) -> set[str]:
    return {p["code"] for f in data["files"] for p in f["problems"]}


def test_only_shows_the_codes_named_and_the_exit_code_follows(tmp_path: Path) -> None:
    kb = str(hostile_kb(tmp_path / "kb"))
    code, data = run_json("check", kb, "--only", "unresolved-link")
    assert code == 1
    assert codes_in(data) == {"unresolved-link"}
    assert data["problems"] == data["files_with_problems"] == 1

    code, data = run_json("check", kb, "--only", "unresolved-link", "--only", "duplicate-source")
    assert code == 1
    assert codes_in(data) == {"unresolved-link", "duplicate-source"}

    # An informational code, named: shown without --all, and it counts.
    code, stdout, _ = run("check", kb, "--only", "bom")
    assert code == 1
    assert "2026-01-02-bom.md" in stdout and "unresolved-link" not in stdout
    assert "1 problem(s) in 1 of" in stdout and "(only bom)" in stdout

    code, data = run_json("check", kb, "--only", "internal-error")
    assert code == 0
    assert data["files"] == [] and data["problems"] == 0


def test_skip_leaves_codes_out_and_the_exit_code_follows(tmp_path: Path) -> None:
    kb = str(hostile_kb(tmp_path / "kb"))
    code, data = run_json("check", kb, "--skip", "unresolved-link")
    assert code == 1
    assert "unresolved-link" not in codes_in(data)
    assert "duplicate-source" in codes_in(data)

    _, data = run_json("check", kb)
    skips = [arg for name in sorted(codes_in(data)) for arg in ("--skip", name)]
    code, stdout, _ = run("check", kb, *skips)
    assert code == 0
    assert "No problems in" in stdout and "(skipping " in stdout
    # Informational notes are still there for --all, and do not fail the check.
    code, data = run_json("check", kb, *skips, "--all")
    assert code == 0
    assert {p["severity"] for f in data["files"] for p in f["problems"]} == {"info"}


@pytest.mark.parametrize(
    ("option", "typed", "suggested"),
    [("--only", "unresolved-links", "unresolved-link"), ("--skip", "crl", "crlf")],
)
def test_an_unknown_code_is_refused_naming_near_ones(
    seeds_copy: Path, option: str, typed: str, suggested: str
) -> None:
    code, stdout, stderr = run("check", str(seeds_copy), option, typed, "--json")
    assert code == 2
    assert stdout == ""
    assert stderr.count("\n") == 1
    assert f"no problem code '{typed}'" in stderr and suggested in stderr
    assert "kbtui check --codes" in stderr
    code, _, stderr = run("check", str(seeds_copy), option, "zzzz")
    assert code == 2 and "did you mean" not in stderr


def test_every_check_a_draft_reports_is_listed(seeds_copy: Path) -> None:
    _, listed = run_json("check", "--codes")
    registry = {row["id"]: row for row in listed["draft_checks"]}
    code, claim = run_json("draft", "claim", "--source", str(seeds_copy / GRID), "--hint", "1")
    assert code == 0
    claims = sorted(
        p.stem for p in (seeds_copy / "domains" / "energy-storage").glob("*.md") if " " in p.stem
    )
    code, divergence = run_json(
        "draft", "divergence", "--kb", str(seeds_copy), "--claim", claims[0], "--claim", claims[1]
    )
    assert code == 0
    code, challenge = run_json(
        "draft", "challenge", "--kb", str(seeds_copy), "--claim", claims[0], "--title", "x"
    )
    assert code == 0 and challenge["kind"] == "challenge"
    code, same = run_json(
        "draft", "challenge", "--kb", str(seeds_copy), "--claim", claims[0], "--title", "x"
    )
    assert "same-challenge" in {check["id"] for check in same["checks"]}
    for draft in (claim, divergence, challenge, same):
        for check in draft["checks"]:
            assert check["id"] in registry, check["id"]
            assert draft["kind"] in registry[check["id"]]["drafts"], check["id"]


def test_export_refuses_the_files_whose_codes_the_registry_marks(seeds_copy: Path) -> None:
    """A source whose frontmatter has a key twice keeps its pending status change: export
    names the code, which `check --codes` marks as one export leaves alone."""
    _, listed = run_json("check", "--codes")
    refusing = {row["code"] for row in listed["codes"] if row["blocks_export"]}
    assert "duplicate-key" in refusing and "unresolved-link" not in refusing
    path = seeds_copy / GRID
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("---\n", "---\npriority: low\n", 1), encoding="utf-8")
    code, _, _ = run("status", str(path), "processing")
    assert code == 0
    code, data = run_json("export", str(seeds_copy), "--dry-run")
    assert code == 1
    (change,) = [f for f in data["files"] if f["path"] == GRID]
    assert "duplicate-key" in change["skipped"]


@pytest.mark.parametrize(
    "error",
    [
        "kbtui.ops.export.ExportError",
        "kbtui.ops.gitcommit.GitError",
        "kbtui.ops.drafting.DraftError",
        "kbtui.ops.curation.CurationError",
        "kbtui.ops.settings.SettingsError",
        "kbtui.ops.workspace.WorkspaceError",
        "kbtui.ops.repair.RepairError",
        "kbtui.ops.index_runner.IndexFailed",
        "kbtui.store.db.StoreError",
        "kbtui.store.db.IndexLost",
        "kbtui.store.schema.SchemaTooNew",
        "kbtui.formats.edit.EditError",
    ],
)
def test_any_operation_error_a_command_meets_is_one_line_and_exit_two(
    seeds_copy: Path, monkeypatch: pytest.MonkeyPatch, error: str
) -> None:
    module_name, _, name = error.rpartition(".")
    module = __import__(module_name, fromlist=[name])
    error_class = getattr(module, name)

    def failing(*args: object, **kwargs: object) -> None:
        raise error_class("the reason, in one line")

    monkeypatch.setattr(queries, "stats", failing)
    code, stdout, stderr = run("stats", str(seeds_copy))
    assert code == 2
    assert stdout == ""
    assert stderr == "kbtui: the reason, in one line\n"
