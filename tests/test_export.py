"""Export: byte-faithful edits, schema-exact new claims, conflicts and read-only files."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from kbtui.cli import main
from kbtui.formats.document import parse_document
from kbtui.ops import curation, drafting, export
from kbtui.ops.provenance import source_provenance
from kbtui.ops.session import Session, open_session

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


SURVEY = "inbox/archive/2026-03-08-maintainer-survey-open-source-funding.md"


def export_committing(root: Path, *options: str) -> Result:
    """The survey source started, then `kbtui export --commit`, as a curator would."""
    runner = CliRunner()
    runner.invoke(main, ["status", SURVEY, "processing", "--kb", str(root)])
    return runner.invoke(main, ["export", str(root), "--commit", *options])


def refuse_commits(root: Path) -> None:
    """A pre-commit hook that says no."""
    hook = root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'hook says no' >&2\nexit 1\n")
    hook.chmod(0o755)


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
    plan = export_all(session, corpus_copy)
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
    plan = export_all(session, corpus_copy)
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
    plan = export_all(session, corpus_copy)
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
        curation.set_status(session.db, path, "processing")
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
    session = saved_claim(seeds_copy, "../../../escaped claim makes a file")
    plan = export_all(session, seeds_copy)
    assert all(not c.written for c in plan.changes)
    assert not list(tmp_path.rglob("escaped claim makes a file.md"))


def test_commit_puts_only_exported_files_on_a_branch_and_stays_where_it_was(
    seeds_copy: Path,
) -> None:
    commit_all(seeds_copy)
    unrelated = seeds_copy / "README.md"
    unrelated.write_text(unrelated.read_text() + "\nA local note, not for this commit.\n")
    staged = seeds_copy / "entities/energy-storage/harbor-grid-cooperative.md"
    staged.write_text(staged.read_text() + "\nStaged but unrelated.\n")
    git(seeds_copy, "add", "entities/energy-storage/harbor-grid-cooperative.md")
    before = (seeds_copy / SURVEY).read_bytes()
    result = export_committing(seeds_copy, "--json")
    assert result.exit_code == 0, result.output
    branch = json.loads(result.stdout)["branch"]
    assert branch == "extract/2026-03-08-maintainer-survey-open-source-funding"
    # The curator is where they were, the exported file back as it was: it is on the branch.
    assert git(seeds_copy, "rev-parse", "--abbrev-ref", "HEAD").strip() in ("master", "main")
    assert (seeds_copy / SURVEY).read_bytes() == before
    committed = git(seeds_copy, "show", "--name-only", "--format=%s", branch).split("\n")
    assert committed[0].startswith("extract: 2026-03-08-maintainer-survey")
    assert [line for line in committed[1:] if line] == [SURVEY]
    assert "status: processing" in git(seeds_copy, "show", f"{branch}:{SURVEY}")
    assert git(seeds_copy, "rev-parse", f"{branch}^") == git(seeds_copy, "rev-parse", "HEAD")
    status = git(seeds_copy, "status", "--porcelain")
    assert (
        " M README.md" in status
        and "M  entities/energy-storage/harbor-grid-cooperative.md" in status
    )
    assert SURVEY not in status and "kb.sqlite" not in status
    log = git(seeds_copy, "log", "--format=%H", "--all")
    assert len(log.split()) == 2


def test_two_exports_with_commit_branch_from_the_same_place(seeds_copy: Path) -> None:
    commit_all(seeds_copy)
    first = export_committing(seeds_copy, "--json")
    assert first.exit_code == 0, first.output
    runner = CliRunner()
    other = "inbox/archive/2025-06-12-city-transport-lab-lane-widening-study.md"
    assert (seeds_copy / other).exists()
    runner.invoke(main, ["status", other, "processing", "--kb", str(seeds_copy)])
    second = runner.invoke(
        main, ["export", str(seeds_copy), "--commit", "--branch", "review/parking", "--json"]
    )
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["branch"] == "review/parking"
    head = git(seeds_copy, "rev-parse", "HEAD")
    assert git(seeds_copy, "rev-parse", "review/parking^") == head
    assert git(seeds_copy, "show", "--name-only", "--format=", "review/parking").split() == [other]
    assert git(seeds_copy, "status", "--porcelain") == ""


def test_the_branch_is_named_after_the_source_with_the_most_work(seeds_copy: Path) -> None:
    commit_all(seeds_copy)
    runner = CliRunner()
    # A null-result on the first source by name, and a claim drafted from a later one.
    first = "inbox/archive/2024-05-00-storage-finance-brief-long-duration.md"
    runner.invoke(
        main,
        ["status", first, "null-result", "--note", "Nothing new here.", "--kb", str(seeds_copy)],
    )
    session = saved_claim(seeds_copy, "Community batteries pay back within eight years")
    source = session.db.conn.execute(
        "SELECT source_path FROM drafts ORDER BY id DESC LIMIT 1"
    ).fetchone()[0]
    session.close()
    assert source > first
    result = runner.invoke(main, ["export", str(seeds_copy), "--commit", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["branch"] == "extract/" + source.rsplit("/", 1)[1][:-3]


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
    # A source already processed keeps who processed it first, and when.
    kept = fields.get("status") == transition and "processed_by" in fields
    for key in keys:
        if key == "status" and fields.get("status") == transition:
            continue
        if key in ("processed_by", "processed_date") and kept:
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
        # A source listing claims drawn from it cannot be a null-result: those get a draft.
        listed = source_provenance(session.db, path)
        if number % 2 and not (listed.claims_extracted or listed.enrichments_applied):
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
    plan = export_all(session, corpus_copy)
    assert not plan.skipped
    numstat = {
        line.split("\t")[2]: (int(line.split("\t")[0]), int(line.split("\t")[1]))
        for line in git(corpus_copy, "diff", "--numstat").splitlines()
    }
    assert numstat == expected


ESSAY = "inbox/archive/2026-01-04-tide-notes-essay.md"
TIDE_CLAIM = "domains/energy/tidal lagoons store energy between tides.md"
ESSAY_TEXT = """\
---
type: source
title: "Tide notes"
author: "Harbour Desk"
url: https://example.org/tides
date: 2026-01-04
domain: energy
status: unprocessed
claims_extracted:
  - "first tidal claim"
enrichments:
  - target: "{target}"
    type: counter-argument
    summary: "a structured note written by hand"
tags: [tides]
---

## Agent Notes
**Extraction hints:**
- CLAIM: Tidal lagoons shift output by six hours at a predictable cost
"""
TIDE_CLAIM_TEXT = (
    '---\r\ntype: claim\r\ndomain: energy\r\ndescription: "Lagoons hold water."\r\n'
    'confidence: likely\r\nsource: "Harbour Desk"\r\ncreated: 2026-01-02\r\n---\r\n\r\n'
    "# tidal lagoons store energy between tides\r\n\r\nThe lagoon fills and empties.\r\n"
)


def export_all(session: Session, root: Path) -> export.ExportPlan:
    """Plan and write every pending change, as `kbtui export` does."""
    return export.apply_export(session.db, root, export.plan_export(session.db, root, "tester"))


VALID = {
    "description": "Operators report the shift in their quarterly data",
    "confidence": "experimental",
}
"""What a claim draft needs besides its title to make a valid claim file."""


def saved_claim(root: Path, title: str) -> Session:
    """The demo KB with one claim draft named `title`, saved and ready to export."""
    session = open_session(root, None)
    session.reindex()
    draft = drafting.new_claim_draft(
        session.db, "inbox/archive/2026-03-01-grid-operator-quarterly-evening-peak.md", hint=1
    )
    drafting.update_draft(session.db, draft.id, **VALID, title=title)
    session.db.conn.execute("UPDATE drafts SET state = 'saved' WHERE id = ?", (draft.id,))
    return session


def enrich(root: Path, target: str, body: str) -> Session:
    session = open_session(root, None)
    session.reindex()
    draft = drafting.new_claim_draft(session.db, ESSAY, hint=1)
    drafting.enrich_instead(session.db, draft.id, target)
    drafting.update_draft(session.db, draft.id, body=body)
    drafting.save_draft(session.db, draft.id)
    return session


BATTERY = "inbox/archive/2026-01-03-battery-trial.md"
TARIFF = "inbox/archive/2025-11-20-tariff-study.md"
PEAK_CLAIM = "domains/energy/home batteries flatten the evening peak.md"


def test_a_source_that_cannot_be_written_holds_back_only_its_own_evidence(
    small_kb: Path,
) -> None:
    """Two sources enrich one claim; one of them changed on disk since it was indexed. The
    other source and its evidence are written; the held-back evidence follows next time."""
    session = open_session(small_kb, None)
    session.reindex()
    for source, body in ((BATTERY, "Forty homes shifted load."), (TARIFF, "Tariffs pay back.")):
        draft = drafting.new_claim_draft(session.db, source, hint=1)
        drafting.enrich_instead(session.db, draft.id, PEAK_CLAIM)
        drafting.update_draft(session.db, draft.id, body=body)
        drafting.save_draft(session.db, draft.id)
    edited = small_kb / TARIFF
    edited.write_text(edited.read_text() + "\nA line added in another editor.\n")
    plan = export_all(session, small_kb)
    by_path = {c.path: c for c in plan.changes}
    assert "changed on disk" in str(by_path[TARIFF].skipped)
    assert by_path[BATTERY].written and by_path[PEAK_CLAIM].written
    claim = (small_kb / PEAK_CLAIM).read_text()
    assert "Forty homes shifted load." in claim and "Tariffs pay back." not in claim
    assert "status: processed" in (small_kb / BATTERY).read_text()
    assert "status: unprocessed" in edited.read_text()
    # Once the curator has looked at the edit, the rest goes out.
    session.reindex()
    again = export_all(session, small_kb)
    assert not again.skipped
    claim = (small_kb / PEAK_CLAIM).read_text()
    assert claim.count("Forty homes shifted load.") == 1 and "Tariffs pay back." in claim
    assert "status: processed" in edited.read_text()


def enrich_peak_from_battery(root: Path) -> Session:
    """The small KB with one saved enrichment of the peak claim, drafted from the battery
    trial source."""
    session = open_session(root, None)
    session.reindex()
    draft = drafting.new_claim_draft(session.db, BATTERY, hint=1)
    drafting.enrich_instead(session.db, draft.id, PEAK_CLAIM)
    drafting.update_draft(session.db, draft.id, body="Forty homes shifted load.")
    drafting.save_draft(session.db, draft.id)
    return session


def test_evidence_is_never_written_while_its_source_is_read_only(small_kb: Path) -> None:
    session = enrich_peak_from_battery(small_kb)
    os.chmod(small_kb / BATTERY, 0o444)
    claim_before = (small_kb / PEAK_CLAIM).read_bytes()
    for _ in range(3):
        plan = export_all(session, small_kb)
        by_path = {c.path: c for c in plan.changes}
        assert "read-only" in str(by_path[BATTERY].skipped)
        assert by_path[PEAK_CLAIM].skipped and not by_path[PEAK_CLAIM].written
        session.reindex()
    assert (small_kb / PEAK_CLAIM).read_bytes() == claim_before
    os.chmod(small_kb / BATTERY, 0o644)
    plan = export_all(session, small_kb)
    assert not plan.skipped
    assert (small_kb / PEAK_CLAIM).read_text().count("Forty homes shifted load.") == 1


def test_an_export_cut_short_is_finished_without_writing_anything_twice(
    small_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after writing the claim's evidence, before the source: the next export writes
    the source and finds the evidence already there."""
    session = enrich_peak_from_battery(small_kb)
    curation.set_status(session.db, TARIFF, "processing")
    written: list[str] = []
    original = export._swap_in

    def dies_after_the_first_file(staged: Any) -> None:
        if written:
            raise KeyboardInterrupt  # as a kill would, between two renames
        original(staged)
        written.append(str(staged.target))

    monkeypatch.setattr(export, "_swap_in", dies_after_the_first_file)
    plan = export.plan_export(session.db, small_kb, "tester")
    with pytest.raises(KeyboardInterrupt):
        export.apply_export(session.db, small_kb, plan)
    monkeypatch.setattr(export, "_swap_in", original)
    assert written == [str(small_kb / PEAK_CLAIM)]
    session.reindex()
    again = export_all(session, small_kb)
    assert not again.skipped
    assert (small_kb / PEAK_CLAIM).read_text().count("Forty homes shifted load.") == 1
    assert "status: processed" in (small_kb / BATTERY).read_text()
    assert "status: processing" in (small_kb / TARIFF).read_text()
    assert drafting.list_drafts(session.db) == []


def test_a_status_changed_on_disk_since_the_curator_set_it_is_not_overwritten(
    small_kb: Path,
) -> None:
    session = open_session(small_kb, None)
    session.reindex()
    curation.set_status(session.db, TARIFF, "null-result", note="nothing new")
    source = small_kb / TARIFF
    theirs = source.read_text().replace("status: unprocessed", "status: processed")
    source.write_text(theirs.replace("priority: low", "priority: low\nprocessed_by: alice"))
    session.reindex()
    plan = export_all(session, small_kb)
    [change] = plan.changes
    assert "changed on disk from unprocessed to processed since you set it to null-result" in str(
        change.skipped
    )
    assert "processed_by: alice" in source.read_text()
    # Set again, the curator's status is written over theirs.
    curation.set_status(session.db, TARIFF, "null-result", note="nothing new, still")
    assert not export_all(session, small_kb).skipped
    assert "status: null-result" in source.read_text()


def test_a_null_result_note_goes_after_the_notes_a_source_already_has(small_kb: Path) -> None:
    source = small_kb / TARIFF
    agent = "Thin for tariff claims.\n\nMay yield claims in a later pass.\n"
    source.write_text(
        source.read_text().replace(
            "priority: low\n",
            "priority: low\nnotes: |\n  Thin for tariff claims.\n\n"
            "  May yield claims in a later pass.\n",
            1,
        )
    )
    session = open_session(small_kb, None)
    session.reindex()
    curation.set_status(session.db, TARIFF, "null-result", note="Only a press release: no data.")
    plan = export_all(session, small_kb)
    assert not plan.skipped
    text = source.read_text()
    fields = parse_document(TARIFF, text.encode()).fields
    assert fields["notes"] == agent + "\nOnly a press release: no data.\n"
    assert "notes: |\n  Thin for tariff claims.\n\n  May yield claims" in text


def test_two_pieces_of_evidence_for_one_claim_list_it_once(small_kb: Path) -> None:
    session = open_session(small_kb, None)
    session.reindex()
    for body in ("Forty homes shifted load.", "Payback came in year six."):
        draft = drafting.new_claim_draft(session.db, BATTERY, hint=1)
        drafting.enrich_instead(session.db, draft.id, PEAK_CLAIM)
        drafting.update_draft(session.db, draft.id, body=body)
        drafting.save_draft(session.db, draft.id)
    plan = export_all(session, small_kb)
    assert not plan.skipped
    fields = parse_document(BATTERY, (small_kb / BATTERY).read_bytes()).fields
    assert fields["enrichments_applied"] == ["home batteries flatten the evening peak"]
    claim = (small_kb / PEAK_CLAIM).read_text()
    assert "Forty homes shifted load." in claim and "Payback came in year six." in claim


def test_enrichment_listed_as_a_mapping_target_is_not_added_again(small_kb: Path) -> None:
    (small_kb / ESSAY).write_text(ESSAY_TEXT.format(target=TIDE_CLAIM.split("/")[-1][:-3]))
    (small_kb / TIDE_CLAIM).write_bytes(TIDE_CLAIM_TEXT.encode())
    session = enrich(small_kb, TIDE_CLAIM, "Output shifts by six hours.")
    plan = export_all(session, small_kb)
    assert not plan.skipped
    text = (small_kb / ESSAY).read_text()
    assert '    summary: "a structured note written by hand"\n' in text
    fields = parse_document(ESSAY, text.encode()).fields
    assert fields["enrichments"] == [
        {
            "target": "tidal lagoons store energy between tides",
            "type": "counter-argument",
            "summary": "a structured note written by hand",
        }
    ]
    assert fields["status"] == "processed"


def test_new_enrichment_on_a_list_of_mappings_is_an_entry_of_the_same_shape(
    small_kb: Path,
) -> None:
    (small_kb / ESSAY).write_text(ESSAY_TEXT.format(target="some other claim on tides"))
    (small_kb / TIDE_CLAIM).write_bytes(TIDE_CLAIM_TEXT.encode())
    before = (small_kb / ESSAY).read_text()
    session = enrich(small_kb, TIDE_CLAIM, "Output shifts by six hours.")
    plan = export_all(session, small_kb)
    assert not plan.skipped
    after = (small_kb / ESSAY).read_text()
    # Every line stays (but the status); the new entry follows the hand-written one, named
    # by `target` as it is.
    kept = [line for line in before.splitlines() if not line.startswith("status:")]
    assert all(line in after.splitlines() for line in kept)
    assert (
        '    summary: "a structured note written by hand"\n'
        '  - target: "tidal lagoons store energy between tides"\ntags: [tides]\n'
    ) in after
    fields = parse_document(ESSAY, after.encode()).fields
    assert fields["enrichments"][-1] == {"target": "tidal lagoons store energy between tides"}
    assert len(fields["enrichments"]) == 2


def test_enrichment_block_in_a_crlf_claim_uses_crlf(small_kb: Path) -> None:
    (small_kb / ESSAY).write_text(ESSAY_TEXT.format(target=TIDE_CLAIM.split("/")[-1][:-3]))
    (small_kb / TIDE_CLAIM).write_bytes(TIDE_CLAIM_TEXT.encode())
    session = enrich(small_kb, TIDE_CLAIM, "First line of evidence.\nSecond line.\r\nThird.")
    plan = export_all(session, small_kb)
    assert {c.path for c in plan.changes if c.written} == {TIDE_CLAIM, ESSAY}
    data = (small_kb / TIDE_CLAIM).read_bytes()
    assert data.startswith(TIDE_CLAIM_TEXT.encode())
    assert data.count(b"\n") == data.count(b"\r\n")
    assert b"Second line.\r\nThird.\r\n" in data


def test_resolution_in_a_crlf_divergence_uses_crlf(seeds_copy: Path) -> None:
    from kbtui.ops.divergence import resolve_divergence

    path = "domains/energy-storage/divergence-home-or-grid-batteries-for-the-evening-peak.md"
    target = seeds_copy / path
    original = target.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    target.write_bytes(original)
    session = open_session(seeds_copy, None)
    session.reindex()
    resolve_divergence(session.db, path, "Settled by the\nsecond winter's numbers.", "tester")
    plan = export.apply_export(
        session.db, seeds_copy, export.plan_export(session.db, seeds_copy, "tester")
    )
    assert [c.path for c in plan.changes if c.written] == [path]
    data = target.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")
    assert b"status: resolved\r\n" in data and b"## Resolution\r\n" in data


@pytest.mark.parametrize(
    "note", ["null", "Yes", "0x1F", "~", "12", "see below\n---\nnot frontmatter: any more"]
)
def test_null_result_note_reads_back_identical(small_kb: Path, note: str) -> None:
    source = "inbox/archive/2026-01-03-battery-trial.md"
    body_before = (small_kb / source).read_text().split("\n---\n", 1)[1]
    session = open_session(small_kb, None)
    session.reindex()
    curation.set_status(session.db, source, "null-result", note)
    plan = export_all(session, small_kb)
    assert [c.path for c in plan.changes if c.written] == [source]
    text = (small_kb / source).read_text()
    document = parse_document(source, text.encode())
    assert document.fields["notes"] == note
    assert document.fields["status"] == "null-result"
    assert text.endswith(body_before)


@pytest.mark.parametrize(
    "frontmatter",
    ['"status": unprocessed\ntitle: x\n', "{status: unprocessed, title: x}\n"],
)
def test_status_written_in_an_odd_form_is_refused(small_kb: Path, frontmatter: str) -> None:
    source = "inbox/archive/2026-01-09-odd-form.md"
    data = f"---\ntype: source\n{frontmatter}---\nbody\n".encode()
    if frontmatter.startswith("{"):
        data = f"---\n{{type: source, {frontmatter[1:]}---\nbody\n".encode()
    (small_kb / source).write_bytes(data)
    session = open_session(small_kb, None)
    session.reindex()
    curation.set_status(session.db, source, "processing")
    plan = export_all(session, small_kb)
    [change] = plan.changes
    assert change.skipped and "not rewritten" in change.skipped
    assert (small_kb / source).read_bytes() == data


def test_new_files_get_the_umask_mode(seeds_copy: Path) -> None:
    session = saved_claim(seeds_copy, "a brand new claim about the evening peak")
    old = os.umask(0o027)
    try:
        plan = export_all(session, seeds_copy)
    finally:
        os.umask(old)
    [new] = [c for c in plan.changes if c.action == "add"]
    assert new.written
    assert (seeds_copy / new.path).stat().st_mode & 0o777 == 0o640


PEAK = "inbox/archive/2026-03-01-grid-operator-quarterly-evening-peak.md"


def claim_drafts(root: Path, titles: list[str]) -> Session:
    """The demo KB with saved claim drafts of these titles, all from one source."""
    session = open_session(root, None)
    session.reindex()
    for title in titles:
        draft = drafting.new_claim_draft(session.db, PEAK, hint=1)
        drafting.update_draft(session.db, draft.id, **VALID, title=title)
        session.db.conn.execute("UPDATE drafts SET state = 'saved' WHERE id = ?", (draft.id,))
    return session


def test_a_claim_held_back_holds_back_its_source_and_the_sources_other_claims(
    seeds_copy: Path,
) -> None:
    existing = (
        "four-hour lithium storage displaces gas peakers first because peaker run-hours "
        "cluster in short evening windows"
    )
    fresh = "evening peaks arrive an hour later each decade as air conditioning spreads north"
    before = hashes(seeds_copy)
    session = claim_drafts(seeds_copy, [existing, fresh])
    plan = export_all(session, seeds_copy)
    by_path = {c.path: c for c in plan.changes}
    assert "already exists" in str(by_path[f"domains/energy-storage/{existing}.md"].skipped)
    assert by_path[PEAK].skipped and by_path[f"domains/energy-storage/{fresh}.md"].skipped
    # Nothing written: a claim never lands without its source's provenance.
    assert hashes(seeds_copy) == before


def test_a_new_claim_s_heading_is_its_title_whatever_the_body_said(seeds_copy: Path) -> None:
    title = "evening peaks arrive an hour later each decade as air conditioning spreads north"
    session = claim_drafts(seeds_copy, [title])
    [draft] = drafting.list_drafts(session.db)
    drafting.update_draft(
        session.db, draft.id, body="# <the claim, as a proposition>\n\nWhy it holds.\n"
    )
    plan = export_all(session, seeds_copy)
    [new] = [c for c in plan.changes if c.action == "add"]
    body = (seeds_copy / new.path).read_text().split("---\n", 2)[2]
    assert body.startswith(f"\n# {title}\n\nWhy it holds.")


def test_a_new_claim_named_like_an_existing_file_but_for_case_is_refused(
    seeds_copy: Path,
) -> None:
    existing = (
        "four-hour lithium storage displaces gas peakers first because peaker run-hours "
        "cluster in short evening windows"
    )
    before = hashes(seeds_copy)
    session = claim_drafts(seeds_copy, [existing.upper()])
    plan = export_all(session, seeds_copy)
    [new] = [c for c in plan.changes if c.action == "add"]
    assert f"'{existing}.md' is there already" in str(new.skipped)
    assert "macOS and Windows" in str(new.skipped)
    assert hashes(seeds_copy) == before


def test_two_drafts_of_one_title_are_both_refused_with_a_clear_reason(seeds_copy: Path) -> None:
    title = "evening peaks arrive an hour later each decade as air conditioning spreads north"
    before = hashes(seeds_copy)
    session = claim_drafts(seeds_copy, [title, title.replace("evening", "Evening", 1)])
    plan = export_all(session, seeds_copy)
    new = [c for c in plan.changes if c.action == "add"]
    assert len(new) == 2
    assert all("would write the same file" in str(c.skipped) for c in new)
    assert "would write the same file" not in str(next(c for c in plan.changes if c.path == PEAK))
    assert hashes(seeds_copy) == before


def test_a_source_turned_into_a_symlink_out_of_the_kb_is_skipped_not_fatal(
    seeds_copy: Path, tmp_path: Path
) -> None:
    session = open_session(seeds_copy, None)
    session.reindex()
    first, second = PEAK, "inbox/archive/2025-11-05-housing-policy-desk-parking-reform.md"
    for path in (first, second):
        curation.set_status(session.db, path, "processing")
    outside = tmp_path / "elsewhere.md"
    original = (seeds_copy / first).read_bytes()
    outside.write_bytes(original)
    (seeds_copy / first).unlink()
    (seeds_copy / first).symlink_to(outside)
    plan = export_all(session, seeds_copy)
    by_path = {c.path: c for c in plan.changes}
    assert "outside the KB" in str(by_path[first].skipped)
    assert by_path[second].written
    assert outside.read_bytes() == original


def test_commit_refuses_when_a_file_to_export_has_uncommitted_changes(seeds_copy: Path) -> None:
    commit_all(seeds_copy)
    source = seeds_copy / SURVEY
    source.write_text(source.read_text() + "\nMy unfinished note.\n")
    before = hashes(seeds_copy)
    result = export_committing(seeds_copy)
    assert result.exit_code == 2
    assert "changes not committed" in result.output and SURVEY in result.output
    assert hashes(seeds_copy) == before  # nothing written, nothing committed
    assert git(seeds_copy, "rev-parse", "--abbrev-ref", "HEAD").strip() in ("main", "master")
    # Without --commit the export goes ahead, the curator's edit kept.
    result = CliRunner().invoke(main, ["export", str(seeds_copy)])
    assert result.exit_code == 0, result.output
    assert "My unfinished note." in source.read_text()
    assert "status: processing" in source.read_text()


def test_commit_takes_file_names_literally(seeds_copy: Path) -> None:
    # `a[1].md` as a git pathspec also matches `a1.md`: an unrelated edit there must stay
    # out of the export's commit.
    bracketed = "inbox/archive/2026-03-01-grid-operator-quarterly-evening-peak[1].md"
    lookalike = "inbox/archive/2026-03-01-grid-operator-quarterly-evening-peak1.md"
    (seeds_copy / bracketed).write_bytes((seeds_copy / PEAK).read_bytes())
    (seeds_copy / lookalike).write_bytes((seeds_copy / PEAK).read_bytes())
    commit_all(seeds_copy)
    with (seeds_copy / lookalike).open("a") as handle:
        handle.write("\nA local edit, not for this commit.\n")
    runner = CliRunner()
    runner.invoke(main, ["status", bracketed, "processing", "--kb", str(seeds_copy)])
    result = runner.invoke(main, ["export", str(seeds_copy), "--commit", "--json"])
    assert result.exit_code == 0, result.output
    branch = json.loads(result.stdout)["branch"]
    committed = git(seeds_copy, "show", "--name-only", "--format=", branch).split()
    assert committed == [bracketed]
    assert f" M {lookalike}" in git(seeds_copy, "status", "--porcelain")


def test_a_claim_draft_edited_after_saving_into_an_invalid_claim_is_not_written(
    seeds_copy: Path,
) -> None:
    title = "evening peaks arrive an hour later each decade as air conditioning spreads north"
    session = claim_drafts(seeds_copy, [title])
    [draft] = drafting.list_drafts(session.db)
    drafting.update_draft(session.db, draft.id, domain="", confidence="", description="")
    before = hashes(seeds_copy)
    plan = export_all(session, seeds_copy)
    [claim] = [c for c in plan.changes if c.action == "add"]
    assert "not a valid claim" in str(claim.skipped)
    assert "confidence" in str(claim.skipped) and "description is empty" in str(claim.skipped)
    assert hashes(seeds_copy) == before


def test_control_characters_in_a_description_are_escaped_and_read_back(seeds_copy: Path) -> None:
    title = "evening peaks arrive an hour later each decade as air conditioning spreads north"
    session = claim_drafts(seeds_copy, [title])
    [draft] = drafting.list_drafts(session.db)
    description = "Per megawatt,\x1b[31m red\x1b[0m and a\ttab, a bell \x07 and a \u2028 break"
    drafting.update_draft(session.db, draft.id, description=description)
    plan = export_all(session, seeds_copy)
    [claim] = [c for c in plan.changes if c.action == "add"]
    assert claim.written, claim.skipped
    doc = parse_document(claim.path, (seeds_copy / claim.path).read_bytes())
    assert doc.fields["description"] == description
    assert not [p for p in doc.problems if p.severity == "error"]


def test_a_source_being_processed_becomes_processed_when_its_claims_are_exported(
    seeds_copy: Path,
) -> None:
    title = "evening peaks arrive an hour later each decade as air conditioning spreads north"
    session = claim_drafts(seeds_copy, [title])
    curation.set_status(session.db, PEAK, "processing")
    plan = export_all(session, seeds_copy)
    assert all(c.written for c in plan.changes), [c.skipped for c in plan.changes]
    fields = parse_document(PEAK, (seeds_copy / PEAK).read_bytes()).fields
    assert fields["status"] == "processed" and fields["processed_by"] == "tester"
    assert title in fields["claims_extracted"]


def test_a_null_result_with_claims_drafted_from_the_source_writes_nothing(
    seeds_copy: Path,
) -> None:
    title = "evening peaks arrive an hour later each decade as air conditioning spreads north"
    first = open_session(seeds_copy, None)
    first.reindex()
    curation.set_status(first.db, PEAK, "null-result", "nothing new")
    session = claim_drafts(seeds_copy, [title])  # saved after the null-result was set
    before = hashes(seeds_copy)
    plan = export_all(session, seeds_copy)
    source = next(c for c in plan.changes if c.path == PEAK)
    assert "set to null-result, yet claims" in str(source.skipped)
    assert hashes(seeds_copy) == before


def test_a_source_with_saved_drafts_cannot_be_set_to_null_result(seeds_copy: Path) -> None:
    title = "evening peaks arrive an hour later each decade as air conditioning spreads north"
    session = claim_drafts(seeds_copy, [title])
    with pytest.raises(curation.CurationError, match=r"draft 1 drawn from .* is saved for export"):
        curation.set_status(session.db, PEAK, "null-result", "nothing new")
    result = CliRunner().invoke(
        main, ["status", PEAK, "null-result", "--note", "x", "--kb", str(seeds_copy)]
    )
    assert result.exit_code == 2 and "saved for export" in result.output


def test_more_claims_from_a_processed_source_keep_its_first_extractor(seeds_copy: Path) -> None:
    source = "inbox/archive/2025-10-14-foundation-report-sponsorship-patterns.md"
    before = (seeds_copy / source).read_text(encoding="utf-8")
    assert "processed_by: ana" in before
    session = open_session(seeds_copy, None)
    session.reindex()
    draft = drafting.new_claim_draft(session.db, source, hint=1)
    drafting.update_draft(
        session.db, draft.id, **VALID, title="sponsors favour the visible projects"
    )
    session.db.conn.execute("UPDATE drafts SET state = 'saved' WHERE id = ?", (draft.id,))
    export_all(session, seeds_copy)
    after = (seeds_copy / source).read_text(encoding="utf-8")
    assert "processed_by: ana" in after and "sponsors favour the visible projects" in after


def test_a_null_result_note_is_written_in_double_quotes(seeds_copy: Path) -> None:
    source = "inbox/archive/2025-11-05-housing-policy-desk-parking-reform.md"
    session = open_session(seeds_copy, None)
    session.reindex()
    curation.set_status(session.db, source, "null-result", "covered: nothing new")
    export_all(session, seeds_copy)
    text = (seeds_copy / source).read_text(encoding="utf-8")
    assert 'notes: "covered: nothing new"\n' in text


def test_evidence_goes_before_the_claims_footer_as_the_kb_places_it(seeds_copy: Path) -> None:
    target = (
        "domains/open-source-economics/corporate sponsorship programs fund visible projects "
        "over critical dependencies because sponsors pay for brand exposure.md"
    )
    before = (seeds_copy / target).read_text(encoding="utf-8")
    session = open_session(seeds_copy, None)
    session.reindex()
    draft = drafting.new_claim_draft(
        session.db, "inbox/archive/2025-10-14-foundation-report-sponsorship-patterns.md", hint=1
    )
    drafting.enrich_instead(session.db, draft.id, target)
    drafting.update_draft(session.db, draft.id, body="Twelve percent got seventy percent.")
    drafting.save_draft(session.db, draft.id)
    export_all(session, seeds_copy)
    after = (seeds_copy / target).read_text(encoding="utf-8")
    footer = before.index("\n---\n\nRelevant Notes:")
    block = after[footer + 1 : after.index("\n---\n\nRelevant Notes:") + 1]
    assert block.startswith("\n### Additional Evidence (extend)\n*Source: [[2025-10-14-")
    assert block.endswith("\nTwelve percent got seventy percent.\n\n")
    assert after == before[: footer + 1] + block + before[footer + 1 :]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_evidence_placement_keeps_the_files_line_endings(newline: str) -> None:
    from kbtui.formats.claims import place_evidence

    text = "---\ntype: claim\n---\n\n# t\n\nBody.\n\n---\n\nTopics:\n- [[_map]]\n"
    text = text.replace("\n", newline)
    block = f"{newline}### Additional Evidence (confirm){newline}More.{newline}"
    placed = place_evidence(text, block, newline)
    assert placed == text.replace(
        f"Body.{newline}{newline}", f"Body.{newline}{newline}{block}{newline}"
    )
    # No footer: at the end, after a newline the file lacked.
    assert place_evidence("# t\n\nBody.", "\nB\n") == "# t\n\nBody.\n\nB\n"
    # A `---` rule inside the body that no footer follows is not the footer.
    body_rule = "# t\n\nA.\n\n---\n\nB.\n"
    assert place_evidence(body_rule, "\nE\n") == body_rule + "\nE\n"
    # A footer of headings, as some of the KB's claims have.
    headed = "# t\n\nA.\n\n## Relevant Notes\n- [[x]]\n\n## Topics\n- [[_map]]\n"
    assert place_evidence(headed, "\nE\n") == headed.replace("## Relevant", "\nE\n\n## Relevant")


def test_template_text_never_reaches_the_kb(seeds_copy: Path) -> None:
    from kbtui.formats.claims import ARGUMENT_PLACEHOLDER
    from kbtui.formats.divergences import RESOLVE_PLACEHOLDER, WHY_PLACEHOLDER

    session = saved_claim(seeds_copy, "evening peaks shrink when batteries are enrolled")
    plan = export_all(session, seeds_copy)
    [claim] = [c for c in plan.changes if c.action == "add"]
    text = (seeds_copy / claim.path).read_text(encoding="utf-8")
    assert ARGUMENT_PLACEHOLDER not in text and "— how this relates" not in text
    assert "\n\n## Evidence\n\n- [[2026-03-01-grid-operator-quarterly-evening-peak]]" in text
    result = CliRunner().invoke(
        main,
        [
            "draft",
            "divergence",
            "--kb",
            str(seeds_copy),
            "--claim",
            "four-hour lithium storage displaces gas peakers first because peaker run-hours "
            "cluster in short evening windows",
            "--claim",
            "long-duration storage needs capacity payments because energy arbitrage alone "
            "cannot recover its capital cost",
            "--question",
            "Where should the evening peak money go?",
            "--description",
            "Both claim one budget.",
            "--save",
        ],
    )
    assert result.exit_code == 0, result.output
    plan = export_all(open_session(seeds_copy, None), seeds_copy)
    [written] = [c for c in plan.changes if c.action == "add"]
    text = (seeds_copy / written.path).read_text(encoding="utf-8")
    assert WHY_PLACEHOLDER not in text and RESOLVE_PLACEHOLDER not in text
    assert "Both claim one budget." in text and "## What Would Resolve This\n" in text


def test_drafts_and_status_changes_follow_a_renamed_source(seeds_copy: Path) -> None:
    source = "inbox/archive/2025-11-05-housing-policy-desk-parking-reform.md"
    moved = "inbox/archive/2025-11-05-housing-policy-desk-parking-reform-v2.md"
    session = open_session(seeds_copy, None)
    session.reindex()
    curation.set_status(session.db, source, "processing")
    draft = drafting.new_claim_draft(session.db, source, hint=1)
    drafting.update_draft(
        session.db,
        draft.id,
        **VALID,
        title="parking minimums raise rents because garages cost more than the homes above them",
    )
    drafting.save_draft(session.db, draft.id)
    (seeds_copy / source).rename(seeds_copy / moved)
    report = session.reindex()
    assert report.renamed == [(source, moved)]
    assert drafting.get_draft(session.db, draft.id).source_path == moved
    plan = export_all(session, seeds_copy)
    assert not plan.skipped
    text = (seeds_copy / moved).read_text(encoding="utf-8")
    assert "status: processed" in text and "parking minimums raise rents because" in text


def test_a_refused_commit_leaves_the_curator_where_they_were(seeds_copy: Path) -> None:
    commit_all(seeds_copy)
    refuse_commits(seeds_copy)
    result = export_committing(seeds_copy, "--json")
    # Exit 1, with what was written (no longer pending) and git's whole reason.
    assert result.exit_code == 1 and "files written, but not committed" in result.stderr
    report = json.loads(result.stdout)
    assert report["written"] == 1 and report["branch"] is None
    assert "hook says no" in report["commit_error"]
    assert git(seeds_copy, "rev-parse", "--abbrev-ref", "HEAD").strip() in ("master", "main")
    assert git(seeds_copy, "branch", "--list", "extract/*") == ""
    assert git(seeds_copy, "status", "--porcelain").splitlines() == [f" M {SURVEY}"]
    reminder = CliRunner().invoke(main, ["export", str(seeds_copy), "--dry-run"])
    assert "wait to be committed (its commit failed)" in reminder.stderr
    # Once the hook lets it through, the written work is committed by the next --commit.
    (seeds_copy / ".git" / "hooks" / "pre-commit").unlink()
    again = CliRunner().invoke(main, ["export", str(seeds_copy), "--commit", "--json"])
    assert again.exit_code == 0, again.output
    branch = json.loads(again.stdout)["branch"]
    assert branch == "extract/2026-03-08-maintainer-survey-open-source-funding"
    assert git(seeds_copy, "show", "--name-only", "--format=", branch).split() == [SURVEY]
    assert git(seeds_copy, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda root: (root / ".git" / "MERGE_HEAD").write_text("0" * 40 + "\n"), "a merge"),
        (lambda root: (root / ".git" / "index.lock").write_text(""), "index.lock"),
        (lambda root: git(root, "branch", "extract"), "the branch extract exists"),
        (
            lambda root: git(
                root, "branch", "extract/2026-03-08-maintainer-survey-open-source-funding"
            ),
            None,
        ),
    ],
)
def test_what_would_stop_the_commit_is_found_before_writing(
    seeds_copy: Path, make: Any, words: str | None
) -> None:
    commit_all(seeds_copy)
    make(seeds_copy)
    before = hashes(seeds_copy)
    runner = CliRunner()
    runner.invoke(main, ["status", SURVEY, "processing", "--kb", str(seeds_copy)])
    if words is None:  # the automatic name is taken: the next free one is used
        result = runner.invoke(main, ["export", str(seeds_copy), "--commit", "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["branch"].endswith("-funding-2")
        return
    result = runner.invoke(main, ["export", str(seeds_copy), "--commit"])
    assert result.exit_code == 2 and words in result.stderr, result.output
    assert "nothing was written" in result.stderr
    assert hashes(seeds_copy) == before


def test_a_branch_given_that_exists_is_refused_before_writing(seeds_copy: Path) -> None:
    commit_all(seeds_copy)
    git(seeds_copy, "branch", "mine")
    before = hashes(seeds_copy)
    result = export_committing(seeds_copy, "--branch", "mine")
    assert result.exit_code == 2 and "a branch mine exists already" in result.stderr
    assert hashes(seeds_copy) == before


def test_an_ignored_file_to_export_is_refused_before_writing(seeds_copy: Path) -> None:
    commit_all(seeds_copy)
    (seeds_copy / ".gitignore").write_text("domains/\n")
    saved_claim(seeds_copy, "Evening peaks move later as batteries spread").close()
    before = hashes(seeds_copy)
    result = CliRunner().invoke(main, ["export", str(seeds_copy), "--commit"])
    assert result.exit_code == 2 and "is ignored by git" in result.stderr, result.output
    assert hashes(seeds_copy) == before


def test_a_tracked_file_in_an_ignored_folder_is_committed(seeds_copy: Path) -> None:
    commit_all(seeds_copy)
    (seeds_copy / ".gitignore").write_text("inbox/\n")
    result = export_committing(seeds_copy, "--json")
    assert result.exit_code == 0, result.output
    branch = json.loads(result.stdout)["branch"]
    assert git(seeds_copy, "show", "--name-only", "--format=", branch).split() == [SURVEY]


def test_a_file_skipped_before_its_edit_shows_no_lines_removed() -> None:
    change = export.FileChange("inbox/archive/a.md", "modify", b"---\na: 1\n---\nbody\n", b"")
    change.skipped = "not rewritten: its frontmatter has problems (duplicate-key)"
    assert change.diff() == "" and change.counts() == (0, 0)


def test_commit_works_in_a_repository_with_no_commit_yet(seeds_copy: Path) -> None:
    git(seeds_copy, "init", "-q")
    before = git(seeds_copy, "symbolic-ref", "HEAD").strip()
    source = (seeds_copy / SURVEY).read_bytes()
    result = export_committing(seeds_copy, "--json")
    assert result.exit_code == 0, result.output
    branch = json.loads(result.stdout)["branch"]
    assert git(seeds_copy, "symbolic-ref", "HEAD").strip() == before
    assert git(seeds_copy, "show", "--name-only", "--format=", branch).split() == [SURVEY]
    # No commit to go back to: the file is back as it was before the export, not deleted.
    assert (seeds_copy / SURVEY).read_bytes() == source


def test_commit_from_a_kb_in_a_sub_folder_of_its_repository(tmp_path: Path) -> None:
    import shutil

    repository = tmp_path / "repo"
    kb = repository / "kb"
    shutil.copytree(Path(__file__).resolve().parents[1] / "seeds", kb)
    commit_all(repository)
    source = (kb / SURVEY).read_bytes()
    result = export_committing(kb, "--json")
    assert result.exit_code == 0, result.output
    branch = json.loads(result.stdout)["branch"]
    assert git(repository, "show", "--name-only", "--format=", branch).split() == [f"kb/{SURVEY}"]
    assert (kb / SURVEY).read_bytes() == source
    assert git(repository, "status", "--porcelain", "--", f"kb/{SURVEY}") == ""


def test_a_commit_killed_before_the_files_left_the_working_tree_is_finished(
    seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kbtui.ops import gitcommit

    commit_all(seeds_copy)
    source = (seeds_copy / SURVEY).read_bytes()

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # as a kill -9 right after the branch was made

    monkeypatch.setattr(gitcommit, "_take_out", killed)
    assert export_committing(seeds_copy, "--json").exit_code != 0
    monkeypatch.undo()
    branch = "extract/2026-03-08-maintainer-survey-open-source-funding"
    assert git(seeds_copy, "branch", "--list", branch).strip()
    assert (seeds_copy / SURVEY).read_bytes() != source  # still written: cut short
    again = CliRunner().invoke(main, ["export", str(seeds_copy), "--commit", "--json"])
    assert again.exit_code == 0, again.output
    assert (seeds_copy / SURVEY).read_bytes() == source
    assert git(seeds_copy, "status", "--porcelain") == ""
    assert git(seeds_copy, "branch", "--list", "extract/*").split() == [branch]


def test_hooks_run_on_a_git_without_git_hook(
    seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kbtui.ops import gitcommit

    commit_all(seeds_copy)
    refuse_commits(seeds_copy)
    real = gitcommit._git

    def old_git(root: Path, *args: str, **kwargs: Any) -> str:
        if args[0] == "hook":
            raise gitcommit.GitError(
                "git hook: git: 'hook' is not a git command. See 'git --help'."
            )
        return real(root, *args, **kwargs)

    monkeypatch.setattr(gitcommit, "_git", old_git)
    result = export_committing(seeds_copy, "--json")
    assert result.exit_code == 1
    assert "the pre-commit hook refused the commit: hook says no" in result.stderr


def test_a_refused_first_commit_leaves_the_unborn_branch_as_it_was(seeds_copy: Path) -> None:
    git(seeds_copy, "init", "-q")
    before = git(seeds_copy, "symbolic-ref", "HEAD").strip()
    refuse_commits(seeds_copy)
    result = export_committing(seeds_copy)
    assert result.exit_code == 1 and "files written, but not committed" in result.output
    assert git(seeds_copy, "symbolic-ref", "HEAD").strip() == before
    assert git(seeds_copy, "diff", "--cached", "--name-only") == ""


def test_evidence_already_written_is_recognised_exactly() -> None:
    from kbtui.formats.claims import enrichment_block, evidence_present, place_evidence

    claim = "---\ntype: claim\n---\n\n# t\n\nA.\n\n---\n\nRelevant Notes:\n- [[x]]\n"
    evidence = "Forty homes shifted load.\n\n### Method\nSmart meters in 2025.\n\n---\n\nMore."
    text = place_evidence(claim, enrichment_block("extend", evidence, "src", "2026-01-01", "t"))
    assert evidence_present(text, evidence, "src")
    assert evidence_present(text.replace("\n", "\r\n"), evidence, "src")
    # Part of a block is not that block's evidence; another source's is not this one's.
    assert not evidence_present(text, "Forty homes shifted load.", "src")
    assert not evidence_present(text, evidence, "other")
    headed = claim.replace("---\n\nRelevant Notes:\n", "## Relevant Notes\n")
    text = place_evidence(headed, enrichment_block("extend", evidence, "src", "2026-01-01", "t"))
    assert evidence_present(text, evidence, "src")


def test_pending_work_counts_what_waits_for_export(small_kb: Path) -> None:
    session = enrich_peak_from_battery(small_kb)
    curation.set_status(session.db, TARIFF, "processing")
    assert curation.pending_work(session.db) == (1, 1)
    export_all(session, small_kb)
    assert curation.pending_work(session.db) == (0, 0)


def test_a_status_set_after_a_pull_does_not_pass_over_the_change_on_disk(small_kb: Path) -> None:
    session = open_session(small_kb, None)
    session.reindex()
    curation.set_status(session.db, TARIFF, "processing")
    source = small_kb / TARIFF
    source.write_text(source.read_text().replace("status: unprocessed\n", ""))  # theirs
    session.reindex()
    curation.set_status(session.db, TARIFF, "unprocessed")  # another of ours, after the pull
    [change] = export_all(session, small_kb).changes
    assert "changed on disk from unprocessed to none" in str(change.skipped)
    curation.set_status(session.db, TARIFF, "unprocessed")  # set again: over theirs
    assert not export_all(session, small_kb).skipped
    assert "status: unprocessed" in source.read_text()


def test_a_note_of_several_paragraphs_is_added_to_notes_once() -> None:
    text = "---\nnotes: |\n  An agent's note.\nstatus: x\n---\n"
    note = "Only a press release.\n\nNo data at all."
    once = export._with_note(text, "An agent's note.\n", note)
    again = export._with_note(
        once, "An agent's note.\n\nOnly a press release.\n\nNo data at all.\n", note
    )
    assert again == once and once.count("No data at all.") == 1
