"""Shared fixtures: the real corpus (skipped when absent), the demo KB, a private data dir."""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "teleo-codex"
SEEDS = ROOT / "seeds"


@pytest.fixture(autouse=True)
def private_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Keep the demo KB's working copy out of the real user data directory."""
    path = tmp_path_factory.mktemp("kbtui-data")
    monkeypatch.setenv("KBTUI_DATA_DIR", str(path))
    return path


@pytest.fixture(autouse=True)
def immediate_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """Load the highlighted source at once, so a test can assert right after a key press."""
    from kbtui.ui.screens.desk import DeskScreen

    monkeypatch.setattr(DeskScreen, "LOAD_DELAY", 0)


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared real KB, read-only; tests needing it skip when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is absent ({CORPUS}); these tests need ../shared")
    return CORPUS


@pytest.fixture
def corpus_copy(corpus: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the corpus that a test may index or change."""
    target = tmp_path / "teleo-codex"
    shutil.copytree(corpus, target, symlinks=True)
    for folder, _, names in os.walk(target):
        os.chmod(folder, 0o755)
        for name in names:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o644)
    yield target


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A private copy of the demo KB."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target, ignore=shutil.ignore_patterns("kb.sqlite*"))
    return target


SMALL_SOURCE = """\
---
type: source
title: "{title}"
author: "Field Notes"
url: https://example.org/{slug}
date: {date}
domain: energy
format: article
status: {status}
priority: {priority}
---

## Content

Notes on {title}.

## Agent Notes
**Why this matters:** Storage changes the evening peak.
**KB connections:**
- [[home batteries flatten the evening peak]] — the claim this supports
**Extraction hints:**
- CLAIM: Time-of-use tariffs make home batteries pay back within eight years

## Curator Notes (structured handoff for extractor)
PRIMARY CONNECTION: [[home batteries flatten the evening peak]]
WHY ARCHIVED: first field data
EXTRACTION HINT: focus on payback
"""

SMALL_CLAIM = """\
---
type: claim
domain: energy
description: "Measured on 40 homes over a winter."
confidence: likely
source: "Field Notes, battery trial"
created: 2026-01-05
---

# home batteries flatten the evening peak

Households shift load when stored energy is cheap.

---

Topics:
- [[_map]]
"""


@pytest.fixture
def small_kb(tmp_path: Path) -> Path:
    """Three sources (two unprocessed, one processing), one claim and a map."""
    root = tmp_path / "small-kb"
    archive = root / "inbox" / "archive"
    archive.mkdir(parents=True)
    for slug, title, date, status, priority in (
        ("battery-trial", "Battery trial results", "2026-01-03", "unprocessed", "high"),
        ("tariff-study", "Tariff study", "2025-11-20", "unprocessed", "low"),
        ("grid-notes", "Grid notes", "2025-10-01", "processing", "medium"),
    ):
        (archive / f"{date}-{slug}.md").write_text(
            SMALL_SOURCE.format(
                title=title, slug=slug, date=date, status=status, priority=priority
            ),
            encoding="utf-8",
        )
    domain = root / "domains" / "energy"
    domain.mkdir(parents=True)
    (domain / "home batteries flatten the evening peak.md").write_text(
        SMALL_CLAIM, encoding="utf-8"
    )
    (domain / "_map.md").write_text(
        "# Energy\n\n- [[home batteries flatten the evening peak]]\n", encoding="utf-8"
    )
    return root


sys.path.insert(0, str(ROOT / "bench"))


def ctrl_c_as_at_a_terminal() -> None:
    """For a child process (`preexec_fn`): SIGINT as a terminal's job has it, even when the
    tests run in the background or under nohup, which start them with SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def terminal_ctrl_c() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt in this process during the test, as at a terminal."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
