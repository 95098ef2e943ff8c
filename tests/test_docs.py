"""The documents say what the code does: README's JSON keys, the dependencies named in
docs/architecture.md."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kbtui.cli import main

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "inbox/archive/2026-03-08-maintainer-survey-open-source-funding.md"


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")
    monkeypatch.setenv("KBTUI_CONFIG", str(tmp_path / "no-config.toml"))


def json_row(command: str) -> set[str]:
    """The words of README's JSON table row for `command`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (row,) = [line for line in readme.splitlines() if line.startswith(f"| `{command}` | `{{")]
    return set(re.findall(r"\w+", row))


def keys(value: Any) -> set[str]:
    """Every key of every object in `value`, however deep."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


def run_json(*args: str) -> Any:
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_readme_names_every_key_export_and_check_print(seeds_copy: Path) -> None:
    run_json("status", str(seeds_copy / SOURCE), "processing")
    printed = run_json("export", str(seeds_copy), "--dry-run")
    assert printed["files"] and "gate" in printed["files"][0]
    assert keys(printed) - json_row("export") == set()

    claim = seeds_copy / "domains" / "ai" / "a link to nothing.md"
    claim.parent.mkdir(parents=True, exist_ok=True)
    claim.write_text(
        "---\ntype: claim\ndomain: ai\ndescription: d\nconfidence: likely\nsource: s\n"
        "created: 2026-01-01\n---\n\n# a link to nothing\n\nSee [[no such claim]].\n",
        encoding="utf-8",
    )
    printed = run_json("check", str(seeds_copy), "--all")
    assert "target" in keys(printed)
    assert keys(printed) - json_row("check") == set()


def test_the_architecture_names_every_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8").lower()
    names = [re.split(r"[<>=!~ \[]", d)[0].lower() for d in project["project"]["dependencies"]]
    named = {
        n for bold in re.findall(r"\*\*([^*]+)\*\*", text) for n in re.findall(r"[\w-]+", bold)
    }
    assert [name for name in names if name not in named] == []


def test_the_readers_type_ignores_say_why() -> None:
    source = (ROOT / "src" / "kbtui" / "ui" / "widgets" / "reader.py").read_text(encoding="utf-8")
    bare = [
        line for line in source.splitlines() if re.search(r"# type: ignore\[[^\]]*\]\s*$", line)
    ]
    assert bare == []
