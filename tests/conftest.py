"""Shared fixtures: the real corpus (skipped when absent), the demo KB, a private data dir."""

from __future__ import annotations

import shutil
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
    yield target


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A private copy of the demo KB."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target, ignore=shutil.ignore_patterns("kb.sqlite*"))
    return target
