"""The export preview driven with keys: it lists the diffs, ctrl+s writes them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from kbtui.ui.screens.desk import DeskScreen
from kbtui.ui.screens.export import ExportPreview

from app_helpers import make_app

SOURCE = "inbox/archive/2026-03-08-maintainer-survey-open-source-funding.md"


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")
    monkeypatch.setenv("KBTUI_CONFIG", str(tmp_path / "no-config.toml"))


async def test_preview_then_write(seeds_copy: Path) -> None:
    before = (seeds_copy / SOURCE).read_text(encoding="utf-8")
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s", "e")
        preview = app.screen
        assert isinstance(preview, ExportPreview)
        assert [c.path for c in preview.plan.changes] == [SOURCE]
        assert "+status: processing" in preview.plan.changes[0].diff()
        assert (seeds_copy / SOURCE).read_text(encoding="utf-8") == before
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert preview.plan.changes == []
        assert preview.query_one(OptionList).option_count == 0
        await pilot.press("escape")
        assert isinstance(app.screen, DeskScreen)
    after = (seeds_copy / SOURCE).read_text(encoding="utf-8")
    assert after == before.replace("status: unprocessed", "status: processing", 1)


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout


async def test_ctrl_g_writes_then_commits_on_an_extract_branch(seeds_copy: Path) -> None:
    git(seeds_copy, "init", "-q")
    git(seeds_copy, "add", "-A")
    git(seeds_copy, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s", "e")
        assert isinstance(app.screen, ExportPreview)
        await pilot.press("ctrl+g")
        await app.workers.wait_for_complete()
        await pilot.pause()
        notes = " | ".join(note.message for note in app._notifications)
        assert "1 file(s) written." in notes
        assert "Committed on branch extract/2026-03-08-maintainer-survey" in notes
    branch = "extract/2026-03-08-maintainer-survey-open-source-funding"
    # The curator stays where they were; the work is on the branch, made from there.
    assert git(seeds_copy, "rev-parse", "--abbrev-ref", "HEAD").strip() in ("master", "main")
    committed = git(seeds_copy, "show", "--name-only", "--format=%s", branch).split("\n")
    assert committed[0].startswith("extract: 2026-03-08-maintainer-survey")
    assert "Exported by kbtui for tester." in git(seeds_copy, "log", "-1", "--format=%B", branch)
    assert [line for line in committed[1:] if line] == [SOURCE]
    assert git(seeds_copy, "status", "--porcelain") == ""


async def test_the_branch_field_names_the_branch_ctrl_g_makes(seeds_copy: Path) -> None:
    git(seeds_copy, "init", "-q")
    git(seeds_copy, "add", "-A")
    git(seeds_copy, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s", "e")
        field = app.screen.query_one("#export-branch", Input)
        assert field.value == "extract/2026-03-08-maintainer-survey-open-source-funding"
        await pilot.press("shift+tab")
        assert field.has_focus
        await pilot.press("ctrl+u", *"review/survey", "enter", "ctrl+g")
        await app.workers.wait_for_complete()
        await pilot.pause()
        notes = " | ".join(note.message for note in app._notifications)
        assert "Committed on branch review/survey" in notes
    assert git(seeds_copy, "show", "--name-only", "--format=", "review/survey").split() == [SOURCE]


async def test_ctrl_g_outside_a_repository_writes_nothing_and_says_why(seeds_copy: Path) -> None:
    before = (seeds_copy / SOURCE).read_bytes()
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s", "e", "ctrl+g")
        await app.workers.wait_for_complete()
        await pilot.pause()
        notes = " | ".join(note.message for note in app._notifications)
        assert "This KB is not a git repository." in notes and "written" not in notes
    assert (seeds_copy / SOURCE).read_bytes() == before


async def test_a_second_ctrl_s_while_writing_writes_nothing_more(seeds_copy: Path) -> None:
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.press("s", "e")
        await pilot.press("ctrl+s", "ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = [str(n.message) for n in app._notifications]
        assert len([m for m in shown if "file(s) written" in m]) == 1, shown
        assert shown.count("Nothing to write.") == 1


async def test_a_failing_write_is_said_and_the_preview_stays_usable(
    seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from kbtui.ops import export

    real = export.apply_export
    failures = ["disk I/O error"]

    def fail_once(*args: object) -> object:
        if failures:
            raise sqlite3.OperationalError(failures.pop())
        return real(*args)  # type: ignore[arg-type]

    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.press("s", "e")
        preview = app.screen
        assert isinstance(preview, ExportPreview)
        monkeypatch.setattr(export, "apply_export", fail_once)
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = {(n.title, n.message) for n in app._notifications}
        assert (
            "Export failed",
            "Nothing more was written: OperationalError: disk I/O error",
        ) in shown
        await pilot.press("ctrl+s")  # used to say "Nothing to write." for ever
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert preview.plan.changes == []
    assert "status: processing" in (seeds_copy / SOURCE).read_text(encoding="utf-8")


async def test_ctrl_s_just_after_the_index_was_deleted_keeps_the_app_going(
    seeds_copy: Path,
) -> None:
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s", "e")
        for path in seeds_copy.glob("kb.sqlite*"):  # `git clean -fdX` from a shell
            path.unlink()
        await pilot.press("ctrl+s")  # before the app's watcher has looked
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.watch_index_file()  # the watcher's next look: the same index, kept
        notes = " | ".join(str(note.message) for note in app._notifications)
        assert "was deleted while kbtui ran" in notes and "1 file(s) written." in notes
    assert app.return_code != 2
    assert "status: processing" in (seeds_copy / SOURCE).read_text(encoding="utf-8")


async def test_ctrl_s_after_the_work_changed_in_a_shell_refreshes_instead(
    seeds_copy: Path,
) -> None:
    from click.testing import CliRunner

    from kbtui.cli import main

    before = (seeds_copy / SOURCE).read_bytes()
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s", "e")
        preview = app.screen
        assert isinstance(preview, ExportPreview)
        assert preview.query_one(OptionList).option_count == 1
        undone = CliRunner().invoke(main, ["undo", str(seeds_copy)])
        assert undone.exit_code == 0, undone.output
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        notes = [str(note.message) for note in app._notifications]
        assert "The work to export changed since this preview: look again, then ctrl+s" in notes
        assert not any("written" in note for note in notes)
        assert preview.query_one(OptionList).option_count == 0
    assert (seeds_copy / SOURCE).read_bytes() == before


async def test_the_export_refuses_to_run_on_a_missing_index(
    seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (seeds_copy / SOURCE).read_bytes()
    app = make_app(seeds_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s", "e")
        # Deleted after the app's own look, before the export's worker opens it.
        monkeypatch.setattr(app, "watch_index_file", lambda: True)
        for path in seeds_copy.glob("kb.sqlite*"):
            path.unlink()
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        notes = " | ".join(str(note.message) for note in app._notifications)
        assert "is missing (deleted while kbtui runs)" in notes and "written." not in notes
        assert not (seeds_copy / "kb.sqlite").exists()  # no new, empty index made there
    assert (seeds_copy / SOURCE).read_bytes() == before
