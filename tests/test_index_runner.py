"""The app's indexing runs in a child process: same report, cancellable, failures in a line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kbtui.ops import index_runner
from kbtui.ops.index_runner import IndexFailed, index_in_child


def test_child_run_reports_what_an_in_process_run_would(small_kb: Path) -> None:
    db = small_kb / "kb.sqlite"
    seen: list[tuple[int, int]] = []
    report = index_in_child(db, small_kb, lambda done, total: seen.append((done, total)))
    assert report is not None
    assert sorted(report.added) == sorted(
        str(p.relative_to(small_kb)) for p in small_kb.rglob("*.md")
    )
    assert report.documents == 5 and seen[-1] == (5, 5)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 5
    (small_kb / "domains/energy/_map.md").unlink()
    again = index_in_child(db, small_kb)
    assert again is not None and again.deleted == ["domains/energy/_map.md"]
    assert again.renamed == [] and not again.added


def test_cancelled_run_ends_its_child(small_kb: Path) -> None:
    assert index_in_child(small_kb / "kb.sqlite", small_kb, cancelled=lambda: True) is None
    # Whatever the child committed is consistent: a later run completes the index.
    report = index_in_child(small_kb / "kb.sqlite", small_kb)
    assert report is not None and report.documents == 5


def test_failure_comes_back_as_one_line(small_kb: Path) -> None:
    where = small_kb / "a-folder.sqlite"
    where.mkdir()
    with pytest.raises(IndexFailed) as failed:
        index_in_child(where, small_kb)
    assert "cannot open the index" in str(failed.value)
    assert "\n" not in str(failed.value)


@pytest.mark.parametrize(
    ("child", "said"),
    [
        ("print('not a json line')", "wrote something unexpected"),
        ("print('[1, 2]')", "wrote something unexpected"),
        ('print(\'{"progress": "x"}\')', "wrote something unexpected"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", "stopped by signal SIGKILL"),
        ("import sys; sys.exit(3)", "exit code 3"),
    ],
)
def test_a_misbehaving_child_is_one_clear_line(
    small_kb: Path, monkeypatch: pytest.MonkeyPatch, child: str, said: str
) -> None:
    monkeypatch.setattr(index_runner, "_CHILD", child)
    with pytest.raises(IndexFailed) as failed:
        index_in_child(small_kb / "kb.sqlite", small_kb)
    assert said in str(failed.value) and "\n" not in str(failed.value)


def test_modules_in_the_current_folder_are_not_imported_by_the_child(
    small_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "json.py").write_text("raise SystemExit('a json.py in the folder was imported')\n")
    monkeypatch.chdir(folder)
    report = index_in_child(small_kb / "kb.sqlite", small_kb)
    assert report is not None and report.documents == 5
