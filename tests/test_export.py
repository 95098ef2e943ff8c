"""Export: byte-faithful edits, schema-exact new claims, conflicts and read-only files."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbtui.cli import main
from kbtui.formats.document import parse_document
from kbtui.ops import curation, drafting, export
from kbtui.ops.session import open_session

from corpus_cases import PROPOSAL_14, RAMSTEAD


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")


def hashes(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.parts and not path.name.startswith("kb.sqlite")
    }


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout


def commit_all(root: Path) -> None:
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")


def test_round_trip_with_nothing_pending_changes_no_byte(corpus_copy: Path) -> None:
    before = hashes(corpus_copy)
    result = CliRunner().invoke(main, ["export", str(corpus_copy), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"] == []
    assert hashes(corpus_copy) == before


def sources_with_status(session_db: object, limit: int) -> list[tuple[str, str]]:
    rows = session_db.conn.execute(  # type: ignore[attr-defined]
        "SELECT d.path, d.status FROM documents d WHERE d.kind = 'source' AND d.status IN "
        "('unprocessed', 'processed', 'null-result') AND NOT EXISTS (SELECT 1 FROM problems p "
        "WHERE p.doc_id = d.id AND p.code IN ('duplicate-key', 'malformed-frontmatter', "
        "'unclosed-frontmatter')) ORDER BY d.path"
    ).fetchall()
    return [(path, status) for path, status in rows][:limit]


def test_status_changes_on_50_sources_touch_only_their_lines(corpus_copy: Path) -> None:
    commit_all(corpus_copy)
    session = open_session(corpus_copy, None)
    session.reindex()
    chosen = sources_with_status(session.db, 50)
    assert len(chosen) == 50
    for path, _ in chosen:
        curation.set_status(session.db, path, "processing")
    plan = export.apply_export(
        session.db, corpus_copy, export.plan_export(session.db, corpus_copy, "tester")
    )
    assert not plan.skipped and len(plan.changes) == 50
    numstat = {
        line.split("\t")[2]: line.split("\t")[:2]
        for line in git(corpus_copy, "diff", "--numstat").splitlines()
    }
    assert numstat == {path: ["1", "1"] for path, _ in chosen}
    diff = git(corpus_copy, "diff", "-U0")
    changed = [
        line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert all(line.startswith(("-status:", "+status:")) for line in changed)


def test_null_result_adds_only_its_fields(corpus_copy: Path) -> None:
    commit_all(corpus_copy)
    session = open_session(corpus_copy, None)
    session.reindex()
    curation.set_status(session.db, RAMSTEAD, "null-result", "Theory only; nothing new to claim.")
    export.apply_export(
        session.db, corpus_copy, export.plan_export(session.db, corpus_copy, "tester")
    )
    assert git(corpus_copy, "diff", "--numstat").split("\t")[:2] == ["4", "1"]
    fields = parse_document(RAMSTEAD, (corpus_copy / RAMSTEAD).read_bytes()).fields
    assert fields["status"] == "null-result" and fields["processed_by"] == "tester"
    assert fields["notes"] == "Theory only; nothing new to claim."


def test_drafted_claim_exports_clean_into_the_corpus(corpus_copy: Path) -> None:
    def problems() -> dict[str, list[str]]:
        result = CliRunner().invoke(main, ["check", str(corpus_copy), "--json"])
        return {
            f["path"]: sorted(p["code"] for p in f["problems"])
            for f in json.loads(result.stdout)["files"]
        }

    before = problems()
    session = open_session(corpus_copy, None)
    session.reindex()
    draft = drafting.new_claim_draft(session.db, RAMSTEAD, hint=1)
    drafting.update_draft(
        session.db,
        draft.id,
        confidence="experimental",
        description="Nested Markov blankets give each scale its own model.",
    )
    drafting.save_draft(session.db, draft.id)
    plan = export.apply_export(
        session.db, corpus_copy, export.plan_export(session.db, corpus_copy, "tester")
    )
    assert [c.action for c in plan.changes if c.written] == ["add", "modify"]
    files = problems()
    new = next(c.path for c in plan.changes if c.action == "add")
    assert new.startswith("domains/critical-systems/") or new.split("/")[0] in (
        "core",
        "foundations",
        "domains",
    )
    assert new not in files
    assert files[RAMSTEAD] == before[RAMSTEAD]
    again = export.plan_export(session.db, corpus_copy, "tester")
    assert again.changes == []


def test_unsafe_frontmatter_is_never_rewritten(corpus_copy: Path) -> None:
    session = open_session(corpus_copy, None)
    session.reindex()
    before = (corpus_copy / PROPOSAL_14).read_bytes()
    curation.set_status(session.db, PROPOSAL_14, "processing")
    plan = export.apply_export(
        session.db, corpus_copy, export.plan_export(session.db, corpus_copy, "tester")
    )
    [change] = plan.changes
    assert change.skipped and "duplicate-key" in change.skipped
    assert (corpus_copy / PROPOSAL_14).read_bytes() == before
    assert curation.effective_status(session.db, PROPOSAL_14) == ("processing", True)


def test_external_change_and_read_only_file(seeds_copy: Path) -> None:
    session = open_session(seeds_copy, None)
    session.reindex()
    first = "inbox/archive/2026-02-10-city-transport-lab-congestion-charge-five-years.md"
    second = "inbox/archive/2026-01-22-metro-transit-review-bus-lane-pilot.md"
    third = "inbox/archive/2025-11-05-housing-policy-desk-parking-reform.md"
    for path in (first, second, third):
        curation.set_status(session.db, path, "null-result", "no claim")
    plan = export.plan_export(session.db, seeds_copy, "tester")
    edited = seeds_copy / first
    edited.write_text(edited.read_text() + "\nA line added in another editor.\n")
    os.chmod(seeds_copy / second, 0o444)
    export.apply_export(session.db, seeds_copy, plan)
    by_path = {c.path: c for c in plan.changes}
    assert "changed on disk" in str(by_path[first].skipped)
    assert "read-only" in str(by_path[second].skipped)
    assert by_path[third].written
    assert "A line added in another editor." in edited.read_text()
    pending = {row[0] for row in session.db.conn.execute("SELECT path FROM pending_status")}
    assert pending == {first, second}


def test_hostile_title_never_writes_outside_the_kb(seeds_copy: Path, tmp_path: Path) -> None:
    session = open_session(seeds_copy, None)
    session.reindex()
    draft = drafting.new_claim_draft(
        session.db, "inbox/archive/2026-03-01-grid-operator-quarterly-evening-peak.md", hint=1
    )
    drafting.update_draft(session.db, draft.id, title="../../../escaped claim makes a file")
    session.db.conn.execute("UPDATE drafts SET state = 'saved' WHERE id = ?", (draft.id,))
    plan = export.apply_export(
        session.db, seeds_copy, export.plan_export(session.db, seeds_copy, "tester")
    )
    assert all(not c.written for c in plan.changes)
    assert not list(tmp_path.rglob("escaped claim makes a file.md"))


def test_commit_puts_only_exported_files_on_an_extract_branch(seeds_copy: Path) -> None:
    commit_all(seeds_copy)
    unrelated = seeds_copy / "README.md"
    unrelated.write_text(unrelated.read_text() + "\nA local note, not for this commit.\n")
    staged = seeds_copy / "agents/ana/identity.md"
    staged.write_text(staged.read_text() + "\nStaged but unrelated.\n")
    git(seeds_copy, "add", "agents/ana/identity.md")
    source = "inbox/archive/2026-03-08-maintainer-survey-open-source-funding.md"
    runner = CliRunner()
    runner.invoke(main, ["status", source, "processing", "--kb", str(seeds_copy)])
    result = runner.invoke(main, ["export", str(seeds_copy), "--commit", "--json"])
    assert result.exit_code == 0, result.output
    branch = json.loads(result.stdout)["branch"]
    assert branch == "extract/2026-03-08-maintainer-survey-open-source-funding"
    assert git(seeds_copy, "rev-parse", "--abbrev-ref", "HEAD").strip() == branch
    committed = git(seeds_copy, "show", "--name-only", "--format=%s", "HEAD").split("\n")
    assert committed[0].startswith("extract: 2026-03-08-maintainer-survey")
    assert [line for line in committed[1:] if line] == [source]
    status = git(seeds_copy, "status", "--porcelain")
    assert " M README.md" in status and "M  agents/ana/identity.md" in status
    assert "kb.sqlite" not in status
    log = git(seeds_copy, "log", "--format=%H", "--all")
    assert len(log.split()) == 2


def expected_numstat(
    raw_frontmatter: str, fields: dict[str, object], transition: str
) -> tuple[int, int]:
    """The lines a null-result or a claim extraction must add and remove in this file."""
    lines = raw_frontmatter.splitlines()

    def line_of(key: str) -> str | None:
        return next((line for line in lines if line.startswith(f"{key}:")), None)

    added = removed = 0
    keys = ["status", "processed_by", "processed_date"]
    keys += ["notes"] if transition == "null-result" else []
    for key in keys:
        if key == "status" and fields.get("status") == transition:
            continue
        added += 1
        removed += 1 if line_of(key) is not None else 0
    if transition == "processed":
        line = line_of("claims_extracted")
        if line is None:
            added += 2
        elif "[" in line:
            added, removed = added + 1, removed + 1
        else:
            added += 1
    return added, removed


def test_null_results_and_extractions_on_varied_shapes(corpus_copy: Path) -> None:
    commit_all(corpus_copy)
    session = open_session(corpus_copy, None)
    session.reindex()
    rows = session.db.conn.execute(
        "SELECT d.path, d.raw_frontmatter, d.fields_json, d.body FROM documents d "
        "WHERE d.kind = 'source' AND d.path LIKE 'inbox/archive/%' AND d.status IN "
        "('unprocessed', 'processed', 'processing') AND NOT EXISTS (SELECT 1 FROM problems p "
        "WHERE p.doc_id = d.id AND p.severity = 'error' OR p.doc_id = d.id AND p.code = "
        "'duplicate-key') ORDER BY d.path"
    ).fetchall()
    shapes: dict[str, list[tuple[str, str, dict[str, object], str]]] = {
        "flow": [],
        "block": [],
        "missing": [],
        "no-newline": [],
        "quoted-status": [],
    }
    for path, raw, fields_json, body in rows:
        fields = json.loads(fields_json)
        notes_line = next((ln for ln in raw.splitlines() if ln.startswith("notes:")), "")
        if notes_line.rstrip().endswith(("|", ">")):
            continue
        line = next((ln for ln in raw.splitlines() if ln.startswith("claims_extracted:")), None)
        shape = (
            "no-newline"
            if not body.endswith("\n")
            else "quoted-status"
            if '\nstatus: "' in raw
            else "missing"
            if line is None
            else "flow"
            if "[" in line
            else "block"
        )
        shapes[shape].append((path, raw, fields, shape))
    chosen = [item for group in shapes.values() for item in group[:10]]
    chosen += [item for group in shapes.values() for item in group[10:]][: 50 - len(chosen)]
    assert len(chosen) == 50 and all(shapes.values()), {k: len(v) for k, v in shapes.items()}
    expected = {}
    for number, (path, raw, fields, _) in enumerate(chosen):
        if number % 2:
            curation.set_status(session.db, path, "null-result", "nothing to extract")
            expected[path] = expected_numstat(raw, fields, "null-result")
        else:
            draft = drafting.new_claim_draft(session.db, path)
            drafting.update_draft(
                session.db,
                draft.id,
                title=f"claim number {number} from a varied source holds",
                domain="ai-alignment",
                confidence="likely",
                description="Test claim.",
            )
            session.db.conn.execute("UPDATE drafts SET state = 'saved' WHERE id = ?", (draft.id,))
            expected[path] = expected_numstat(raw, fields, "processed")
    plan = export.apply_export(
        session.db, corpus_copy, export.plan_export(session.db, corpus_copy, "tester")
    )
    assert not plan.skipped
    numstat = {
        line.split("\t")[2]: (int(line.split("\t")[0]), int(line.split("\t")[1]))
        for line in git(corpus_copy, "diff", "--numstat").splitlines()
    }
    assert numstat == expected
