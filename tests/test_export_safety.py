"""Export under attack: other programs writing the same files, full disks, failures after
writing, things that are not files where a claim goes, leftovers of a killed export."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kbtui.cli import main
from kbtui.ops import atomic, curation, drafting, export
from kbtui.ops.atomic import TEMP_SUFFIX
from kbtui.ops.session import Session, open_session

from app_helpers import make_app
from export_race import race
from test_export import (
    BATTERY,
    PEAK_CLAIM,
    SURVEY,
    TARIFF,
    enrich_peak_from_battery,
    hashes,
    saved_claim,
)

APPENDED = "A line another program appended.\n"


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")


def pending_drafts(session: Session) -> list[int]:
    return [d.id for d in drafting.list_drafts(session.db) if d.state == "saved"]


@pytest.mark.parametrize("how", ["append", "save by rename"])
def test_a_change_in_the_instant_before_the_swap_is_kept(
    small_kb: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Another program changes the file between export's last look and its swap: by
    appending to it, or as editors save, by renaming a new file over it."""
    session = open_session(small_kb, None)
    session.reindex()
    curation.set_status(session.db, TARIFF, "processing")
    plan = export.plan_export(session.db, small_kb, "tester")
    target = (small_kb / TARIFF).resolve()
    real_exchange = atomic.exchange
    raced: list[str] = []

    def other_program_first(first: Any, second: Any) -> bool:
        if Path(second) == target and not raced:
            raced.append(str(second))
            if how == "append":
                with open(second, "a", encoding="utf-8") as other_program:
                    other_program.write(APPENDED)
            else:
                saved = target.with_name(".editor-swap")
                saved.write_text(target.read_text(encoding="utf-8") + APPENDED, "utf-8")
                os.replace(saved, target)
        return bool(real_exchange(first, second))

    monkeypatch.setattr(export, "exchange", other_program_first)
    export.apply_export(session.db, small_kb, plan)
    monkeypatch.setattr(export, "exchange", real_exchange)
    assert raced
    [change] = plan.changes
    assert not change.written and "changed on disk while export wrote it" in str(change.skipped)
    text = target.read_text(encoding="utf-8")
    assert text.endswith(APPENDED) and "status: unprocessed" in text
    assert not list(target.parent.glob(f"*{TEMP_SUFFIX}"))
    assert curation.pending_work(session.db) == (0, 1)  # the status change waits
    session.reindex()
    again = export.apply_export(
        session.db, small_kb, export.plan_export(session.db, small_kb, "tester")
    )
    assert [c.written for c in again.changes] == [True]
    text = target.read_text(encoding="utf-8")
    assert text.endswith(APPENDED) and "status: processing" in text


def test_a_group_put_back_keeps_what_another_program_wrote_meanwhile(
    small_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first file of a group is renamed, another program appends to the file it
    replaced (it had it open), then the second file fails: the first goes back with the
    other program's line."""
    session = enrich_peak_from_battery(small_kb)
    claim = (small_kb / PEAK_CLAIM).resolve()
    held = open(claim, "a", encoding="utf-8")  # noqa: SIM115  # kept open across the export
    real = export._swap_in
    calls: list[str] = []

    def second_fails(staged: Any) -> None:
        calls.append(staged.change.path)
        if len(calls) == 2:
            held.write(APPENDED)
            held.flush()
            raise export._Refused("could not write: No space left on device")
        real(staged)

    monkeypatch.setattr(export, "_swap_in", second_fails)
    try:
        plan = export.apply_export(
            session.db, small_kb, export.plan_export(session.db, small_kb, "tester")
        )
    finally:
        held.close()
    assert calls[0] == PEAK_CLAIM and not any(c.written for c in plan.changes)
    assert claim.read_text(encoding="utf-8").endswith(APPENDED)
    assert "Forty homes" not in claim.read_text(encoding="utf-8")


def test_a_writer_racing_the_export_never_loses_a_line(tmp_path: Path) -> None:
    """Another program appends a line at a random moment of each of 50 exports: each line
    ends in the file, or (when the export wrote over it) kept beside it. The same race, run
    longer on a bigger file, is `bench/export_race.py`."""
    outcomes = race(tmp_path / "kb", trials=50, megabytes=0.5)
    assert outcomes.get("written", 0) > 0, outcomes


def test_a_full_disk_in_a_group_writes_none_of_its_files(
    small_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = enrich_peak_from_battery(small_kb)
    before = hashes(small_kb)
    real = atomic.write_temporary
    staged: list[Path] = []

    def disk_full_at_the_second(path: Path, data: bytes) -> str:
        if staged:
            raise OSError(errno.ENOSPC, "No space left on device")
        staged.append(path)
        return real(path, data)

    monkeypatch.setattr(export, "write_temporary", disk_full_at_the_second)
    plan = export.apply_export(
        session.db, small_kb, export.plan_export(session.db, small_kb, "tester")
    )
    assert hashes(small_kb) == before  # no file written, no temporary left
    by_path = {c.path: c.skipped for c in plan.changes}
    assert "No space left on device" in str(by_path[BATTERY])
    assert f"waits for {BATTERY}" in str(by_path[PEAK_CLAIM])
    assert pending_drafts(session)


def test_a_rename_failing_in_a_group_puts_back_the_files_renamed(
    seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = saved_claim(seeds_copy, "Evening peaks move later as batteries spread")
    before = hashes(seeds_copy)
    real = export._swap_in
    renamed: list[str] = []

    def fails_at_the_second(staged: Any) -> None:
        if renamed:
            raise export._Refused("could not write: Read-only file system")
        real(staged)
        renamed.append(staged.change.path)

    monkeypatch.setattr(export, "_swap_in", fails_at_the_second)
    plan = export.apply_export(
        session.db, seeds_copy, export.plan_export(session.db, seeds_copy, "tester")
    )
    assert renamed and all(not c.written for c in plan.changes)
    # The new claim renamed first is gone again: no source without its claim, or the reverse.
    assert hashes(seeds_copy) == before
    assert pending_drafts(session)


def test_a_failure_after_writing_reports_what_was_written(
    seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    runner.invoke(main, ["status", SURVEY, "processing", "--kb", str(seeds_copy)])
    real = Session.reindex
    calls: list[int] = []

    def damaged_on_the_second_run(self: Session, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) > 1:
            raise sqlite3.DatabaseError("database disk image is malformed")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Session, "reindex", damaged_on_the_second_run)
    result = runner.invoke(main, ["export", str(seeds_copy), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["written"] == 1
    assert "indexing them again failed" in report["errors"][0]
    assert "status: processing" in (seeds_copy / SURVEY).read_text(encoding="utf-8")


@pytest.mark.parametrize("failure", ["disk full", "index replaced"])
def test_a_failure_to_record_after_writing_is_reported(
    seeds_copy: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    from kbtui.store.db import IndexLost

    session = saved_claim(seeds_copy, "Evening peaks move later as batteries spread")
    plan = export.plan_export(session.db, seeds_copy, "tester")

    def broken(*args: Any, **kwargs: Any) -> Any:
        if failure == "index replaced":
            raise IndexLost("the index was replaced by another file while kbtui ran")
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(export, "transaction", broken)
    export.apply_export(session.db, seeds_copy, plan)
    assert all(c.written for c in plan.changes)
    assert "but the index could not record it" in plan.errors[0]
    monkeypatch.undo()
    session.reindex()
    # The next export finds the work in the files and records it, writing nothing twice.
    again = export.apply_export(
        session.db, seeds_copy, export.plan_export(session.db, seeds_copy, "tester")
    )
    assert again.changes == [] and not pending_drafts(session)


CLAIM_TITLE = "Evening peaks move later as batteries spread"
CLAIM_PATH = f"domains/energy-storage/{CLAIM_TITLE}.md"


def kbtui(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The command in a process of its own: a hang fails the test instead of stopping it."""
    return subprocess.run(
        [sys.executable, "-c", "from kbtui.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "KBTUI_CURATOR": "tester"},
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_a_named_pipe_where_a_claim_goes_is_skipped_without_hanging(seeds_copy: Path) -> None:
    saved_claim(seeds_copy, CLAIM_TITLE).close()
    os.mkfifo(seeds_copy / CLAIM_PATH)
    for extra in (["--dry-run"], []):
        result = kbtui("export", str(seeds_copy), "--json", *extra)
        assert result.returncode == 1, result.stderr
        files = {f["path"]: f for f in json.loads(result.stdout)["files"]}
        assert "a named pipe is at this path" in files[CLAIM_PATH]["skipped"]
        assert not any(f["written"] for f in files.values())


def test_a_folder_where_a_claim_goes_is_skipped_and_the_rest_exported(seeds_copy: Path) -> None:
    saved_claim(seeds_copy, CLAIM_TITLE).close()
    (seeds_copy / CLAIM_PATH).mkdir()
    runner = CliRunner()
    runner.invoke(main, ["status", SURVEY, "processing", "--kb", str(seeds_copy)])
    result = runner.invoke(main, ["export", str(seeds_copy), "--json"])
    assert result.exit_code == 1, result.output
    files = {f["path"]: f for f in json.loads(result.stdout)["files"]}
    assert "a folder is at this path" in files[CLAIM_PATH]["skipped"]
    assert files[SURVEY]["written"]


async def test_e_with_a_folder_where_a_claim_goes_shows_it_skipped(seeds_copy: Path) -> None:
    from kbtui.ui.screens.export import ExportPreview

    saved_claim(seeds_copy, CLAIM_TITLE).close()
    (seeds_copy / CLAIM_PATH).mkdir()
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("e")
        preview = app.screen
        assert isinstance(preview, ExportPreview)
        skipped = {c.path: c.skipped for c in preview.plan.changes}
        assert "a folder is at this path" in str(skipped[CLAIM_PATH])


def test_leftovers_of_a_killed_export_are_removed_at_the_next_run(seeds_copy: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    folder = seeds_copy / "inbox" / "archive"
    leftover = folder / f".{Path(SURVEY).name}.{dead.pid}.x1y2z3{TEMP_SUFFIX}"
    leftover.write_text("half a file")
    live = folder / f".{Path(SURVEY).name}.{os.getpid()}.a1b2c3{TEMP_SUFFIX}"
    live.write_text("being written")
    result = CliRunner().invoke(main, ["index", str(seeds_copy)])
    assert result.exit_code == 0, result.output
    assert not leftover.exists()
    assert live.exists()  # its writer (this process) is still running
