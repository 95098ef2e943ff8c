"""A source written twice by the pipeline: its keys collapsed only when the curator says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbtui.cli import main

SOURCE = "inbox/archive/2025-08-20-sanctum-unlocks.md"
TWICE = """\
---
type: source
title: "Should Sanctum offer early unlocks?"
author: "futard.io"
url: https://example.org/p
date: 2025-08-20
domain: internet-finance
status: unprocessed
processed_by: rio
processed_date: 2025-08-20
extraction_notes: "First pass: no new claims."
processed_by: rio
processed_date: 2026-03-11
extraction_notes: "Second pass: one entity."
---

# Proposal
"""
ONCE = """\
---
type: source
title: "Should Sanctum offer early unlocks?"
author: "futard.io"
url: https://example.org/p
date: 2025-08-20
domain: internet-finance
status: unprocessed
processed_by: rio
processed_date: 2026-03-11
extraction_notes: "Second pass: one entity."
---

# Proposal
"""


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")


@pytest.fixture
def twice_kb(small_kb: Path) -> Path:
    (small_kb / SOURCE).write_text(TWICE, encoding="utf-8")
    return small_kb


def test_export_refuses_the_file_and_names_the_way_out(twice_kb: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["status", SOURCE, "processing", "--kb", str(twice_kb)])
    result = runner.invoke(main, ["export", str(twice_kb), "--json"])
    [change] = json.loads(result.stdout)["files"]
    assert "duplicate-key" in change["skipped"] and "kbtui collapse-keys" in change["skipped"]
    assert (twice_kb / SOURCE).read_text(encoding="utf-8") == TWICE


def test_the_collapse_is_shown_first_and_written_only_when_asked(twice_kb: Path) -> None:
    runner = CliRunner()
    preview = runner.invoke(main, ["collapse-keys", str(twice_kb / SOURCE)])
    assert preview.exit_code == 0, preview.output
    assert "-processed_date: 2025-08-20" in preview.stdout
    assert "line 10: processed_date, another value than the one kept" in preview.stdout
    assert "line 9: processed_by, the same value" in preview.stdout
    assert "Nothing written" in preview.stdout
    assert (twice_kb / SOURCE).read_text(encoding="utf-8") == TWICE
    result = runner.invoke(main, ["collapse-keys", str(twice_kb / SOURCE), "--write", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["written"] and [r["key"] for r in data["removed"]] == [
        "processed_by",
        "processed_date",
        "extraction_notes",
    ]
    assert (twice_kb / SOURCE).read_text(encoding="utf-8") == ONCE
    # Now the status can be set and exported as for any source.
    runner.invoke(main, ["status", SOURCE, "processing", "--kb", str(twice_kb)])
    exported = runner.invoke(main, ["export", str(twice_kb), "--json"])
    assert exported.exit_code == 0, exported.output
    assert "status: processing" in (twice_kb / SOURCE).read_text(encoding="utf-8")


def test_a_file_with_each_key_once_is_left_alone(small_kb: Path) -> None:
    path = small_kb / "inbox/archive/2026-01-03-battery-trial.md"
    before = path.read_bytes()
    result = CliRunner().invoke(main, ["collapse-keys", str(path), "--write"])
    assert result.exit_code == 0 and "writes each key once already" in result.stdout
    assert path.read_bytes() == before
