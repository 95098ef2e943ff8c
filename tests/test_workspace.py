"""The demo KB's working copy follows the bundled demo KB without losing the user's changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SEEDS
from kbtui.cli import main
from kbtui.ops import workspace

SOURCE = "inbox/archive/2025-09-30-grid-operator-peaker-dispatch-data.md"


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo KB this kbtui bundles (a copy the test can change, as a new version would)."""
    root = tmp_path / "shipped"
    shutil.copytree(SEEDS, root, ignore=shutil.ignore_patterns("kb.sqlite*"))
    monkeypatch.setattr(workspace, "bundled_demo", lambda: root)
    return root


def test_a_new_bundled_version_updates_only_the_files_the_user_left_alone(
    shipped: Path, private_data_dir: Path
) -> None:
    copy, note = workspace.demo_workspace()
    assert note is not None and note.startswith("Copied the demo KB")
    assert workspace.demo_workspace() == (copy, None)
    files = sorted(p.relative_to(shipped).as_posix() for p in shipped.rglob("*.md"))
    left, changed, added, dropped, dropped_changed = (
        files[0],
        files[1],
        "new.md",
        files[2],
        files[3],
    )
    (copy / changed).write_text("the user's words\n", encoding="utf-8")
    (copy / dropped_changed).write_text("the user's too\n", encoding="utf-8")
    # The next version: three files changed, one added, two removed.
    for name in (left, changed):
        (shipped / name).write_text("version two\n", encoding="utf-8")
    (shipped / added).write_text("brand new\n", encoding="utf-8")
    (shipped / dropped).unlink()
    (shipped / dropped_changed).unlink()

    _, note = workspace.demo_workspace()
    assert (
        note
        == f"Updated 3 files of the demo KB at {copy} to this kbtui's version (kept 2 you changed)."
    )
    assert (copy / left).read_text() == "version two\n"
    assert (copy / added).read_text() == "brand new\n"
    assert not (copy / dropped).exists()
    assert (copy / changed).read_text() == "the user's words\n"
    assert (copy / dropped_changed).read_text() == "the user's too\n"
    assert workspace.demo_workspace() == (copy, None)
    record = json.loads((private_data_dir / workspace.DEMO_RECORD).read_text())
    assert set(record) == {
        p.relative_to(shipped).as_posix() for p in shipped.rglob("*") if p.is_file()
    }


def test_a_copy_made_before_the_record_keeps_every_file(
    shipped: Path, private_data_dir: Path
) -> None:
    copy, _ = workspace.demo_workspace()
    (private_data_dir / workspace.DEMO_RECORD).unlink()  # as an older kbtui left it
    (shipped / SOURCE).write_text("version two\n", encoding="utf-8")
    assert workspace.demo_workspace() == (copy, None)
    assert (copy / SOURCE).read_bytes() == (SEEDS / SOURCE).read_bytes()
    # From now on the record knows the copy: the next version reaches the untouched files.
    (shipped / SOURCE).write_text("version three\n", encoding="utf-8")
    other = next(p for p in sorted(shipped.rglob("*.md")) if p.name != Path(SOURCE).name)
    other.write_text("version three\n", encoding="utf-8")
    _, note = workspace.demo_workspace()
    assert note is not None and "Updated 1 file " in note and "(kept 1 you changed)" in note
    assert (copy / other.relative_to(shipped)).read_text() == "version three\n"


def test_the_index_of_the_demo_copy_sees_an_updated_file(shipped: Path) -> None:
    assert CliRunner().invoke(main, ["stats"]).exit_code == 0
    text = (shipped / SOURCE).read_text(encoding="utf-8")
    # The same size, so only a new modification time tells the index.
    (shipped / SOURCE).write_text(
        text.replace("**Gas peakers.**", "**Gas zinnias.**"), encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["search", "zinnias", "--json"])
    assert result.exit_code == 0, result.output
    assert "Updated 1 file of the demo KB" in result.stderr
    hits = json.loads(result.stdout[result.stdout.index("{") :])["hits"]
    assert [hit["path"] for hit in hits] == [SOURCE]
