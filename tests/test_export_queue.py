"""Sources waiting in inbox/queue/: export files them in inbox/archive/ once they are done."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import SMALL_SOURCE
from kbtui.cli import main
from kbtui.ops import curation, drafting, export
from kbtui.ops.session import open_session

QUEUED = "inbox/queue/2026-02-01-heat-pump-survey.md"
ARCHIVED = "inbox/archive/2026-02-01-heat-pump-survey.md"


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")


@pytest.fixture
def queued_kb(small_kb: Path) -> Path:
    folder = small_kb / "inbox" / "queue"
    folder.mkdir()
    (small_kb / QUEUED).write_text(
        SMALL_SOURCE.format(
            title="Heat pump survey",
            slug="heat-pump-survey",
            date="2026-02-01",
            status="unprocessed",
            priority="high",
        ),
        encoding="utf-8",
    )
    return small_kb


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout


def test_a_null_result_moves_a_queued_source_to_the_archive(queued_kb: Path) -> None:
    runner = CliRunner()
    before = (queued_kb / QUEUED).read_text(encoding="utf-8")
    runner.invoke(
        main,
        ["status", QUEUED, "null-result", "--note", "Survey too small.", "--kb", str(queued_kb)],
    )
    preview = runner.invoke(main, ["export", str(queued_kb), "--dry-run", "--json"])
    [change] = json.loads(preview.stdout)["files"]
    assert (change["action"], change["path"], change["moved_from"]) == ("move", ARCHIVED, QUEUED)
    assert f"--- a/{QUEUED}" in change["diff"] and f"+++ b/{ARCHIVED}" in change["diff"]
    result = runner.invoke(main, ["export", str(queued_kb), "--json"])
    assert result.exit_code == 0, result.output
    assert not (queued_kb / QUEUED).exists()
    after = (queued_kb / ARCHIVED).read_text(encoding="utf-8")
    assert after.split("---\n", 2)[2] == before.split("---\n", 2)[2]  # the body as it was
    assert "status: null-result" in after and 'notes: "Survey too small."' in after
    again = runner.invoke(main, ["export", str(queued_kb), "--json"])
    assert json.loads(again.stdout)["files"] == []  # nothing pending: a no-op


def test_a_claim_from_a_queued_source_moves_it_with_the_claim(queued_kb: Path) -> None:
    session = open_session(queued_kb, None)
    session.reindex()
    draft = drafting.new_claim_draft(session.db, QUEUED, hint=1)
    drafting.update_draft(
        session.db, draft.id, description="Payback measured on 40 homes.", confidence="likely"
    )
    drafting.save_draft(session.db, draft.id)
    plan = export.apply_export(
        session.db, queued_kb, export.plan_export(session.db, queued_kb, "tester")
    )
    assert all(c.written for c in plan.changes) and len(plan.changes) == 2
    text = (queued_kb / ARCHIVED).read_text(encoding="utf-8")
    assert "status: processed" in text and "claims_extracted:" in text
    assert not (queued_kb / QUEUED).exists()
    session.close()


def test_a_move_failing_half_way_puts_the_source_back(
    queued_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = open_session(queued_kb, None)
    session.reindex()
    curation.set_status(session.db, QUEUED, "null-result", note="Too small.")
    before = (queued_kb / QUEUED).read_bytes()

    def removal_refused(staged: Any) -> None:
        raise export._Refused("could not write: Permission denied")

    monkeypatch.setattr(export, "_leave", removal_refused)
    plan = export.apply_export(
        session.db, queued_kb, export.plan_export(session.db, queued_kb, "tester")
    )
    [change] = plan.changes
    assert not change.written and "Permission denied" in str(change.skipped)
    assert (queued_kb / QUEUED).read_bytes() == before
    assert not (queued_kb / ARCHIVED).exists()
    assert curation.pending_work(session.db) == (0, 1)
    session.close()


def test_an_archived_file_of_the_same_name_is_never_overwritten(queued_kb: Path) -> None:
    (queued_kb / ARCHIVED).write_text((queued_kb / QUEUED).read_text(encoding="utf-8"))
    runner = CliRunner()
    runner.invoke(
        main, ["status", QUEUED, "null-result", "--note", "Too small.", "--kb", str(queued_kb)]
    )
    result = runner.invoke(main, ["export", str(queued_kb), "--json"])
    assert result.exit_code == 1
    skipped = {f["path"]: f["skipped"] for f in json.loads(result.stdout)["files"]}
    assert "exists already" in str(skipped[QUEUED])
    assert (queued_kb / QUEUED).exists()


def test_commit_records_the_move_and_leaves_the_queue_as_it_was(queued_kb: Path) -> None:
    git(queued_kb, "init", "-q")
    git(queued_kb, "add", "-A")
    git(queued_kb, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    runner = CliRunner()
    runner.invoke(
        main, ["status", QUEUED, "null-result", "--note", "Too small.", "--kb", str(queued_kb)]
    )
    result = runner.invoke(main, ["export", str(queued_kb), "--commit", "--json"])
    assert result.exit_code == 0, result.output
    branch = json.loads(result.stdout)["branch"]
    assert branch == "extract/2026-02-01-heat-pump-survey"
    changed = git(queued_kb, "show", "--no-renames", "--name-status", "--format=", branch).split(
        "\n"
    )
    assert f"A\t{ARCHIVED}" in changed and f"D\t{QUEUED}" in changed
    assert (queued_kb / QUEUED).exists() and not (queued_kb / ARCHIVED).exists()
    assert git(queued_kb, "status", "--porcelain") == ""


def test_a_move_cut_short_after_the_new_file_is_finished_next_time(
    queued_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed between putting the archived file in place and removing the queued one."""
    session = open_session(queued_kb, None)
    session.reindex()
    curation.set_status(session.db, QUEUED, "null-result", note="Too small.")

    def killed(staged: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "_leave", killed)
    with pytest.raises(KeyboardInterrupt):
        export.apply_export(
            session.db, queued_kb, export.plan_export(session.db, queued_kb, "tester")
        )
    monkeypatch.undo()
    assert (queued_kb / QUEUED).exists() and (queued_kb / ARCHIVED).exists()
    session.reindex()
    plan = export.apply_export(
        session.db, queued_kb, export.plan_export(session.db, queued_kb, "tester")
    )
    assert [c.written for c in plan.changes] == [True], [c.skipped for c in plan.changes]
    assert not (queued_kb / QUEUED).exists()
    assert "status: null-result" in (queued_kb / ARCHIVED).read_text(encoding="utf-8")
    assert curation.pending_work(session.db) == (0, 0)
    session.close()


def test_a_move_written_but_not_recorded_is_recorded_next_time(
    queued_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the move, before the index recorded it: the work is in the files."""
    session = open_session(queued_kb, None)
    session.reindex()
    curation.set_status(session.db, QUEUED, "null-result", note="Too small.")
    real = export._write_group

    def killed_after(group: Any, root: Path) -> Any:
        real(group, root)
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "_write_group", killed_after)
    with pytest.raises(KeyboardInterrupt):
        export.apply_export(
            session.db, queued_kb, export.plan_export(session.db, queued_kb, "tester")
        )
    monkeypatch.undo()
    assert not (queued_kb / QUEUED).exists()
    archived = (queued_kb / ARCHIVED).read_bytes()
    session.reindex()
    plan = export.apply_export(
        session.db, queued_kb, export.plan_export(session.db, queued_kb, "tester")
    )
    assert plan.changes == [] and not plan.skipped
    assert (queued_kb / ARCHIVED).read_bytes() == archived
    assert curation.pending_work(session.db) == (0, 0)
    session.close()
