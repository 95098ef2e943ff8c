"""Search on one very large document: how long a search takes as the document grows.

Writes a small KB with one source whose body repeats a sentence up to SIZE megabytes (the
searched word in every sentence), indexes it, and times `queries.search` on the word and on a
word found only near the document's end. Usage::

    python bench/search_large.py WORKDIR [SIZE_MB ...]    # default sizes: 1 4 50
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from kbtui.ops import queries
from kbtui.ops.session import open_session

SENTENCE = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. "
SOURCE = """\
---
type: source
title: "Large field archive"
author: "Field Notes"
url: https://example.org/large
date: 2026-01-03
domain: energy
format: article
status: unprocessed
---

## Content

"""


def write_kb(root: Path, megabytes: float) -> Path:
    """A KB whose one source holds about `megabytes` of text, then a last distinct word."""
    archive = root / "inbox" / "archive"
    archive.mkdir(parents=True, exist_ok=True)
    repeats = int(megabytes * 1_000_000) // len(SENTENCE)
    body = SENTENCE * repeats + "\n\nThe closing word is zanzibar.\n"
    (archive / "2026-01-03-large.md").write_text(SOURCE + body, encoding="utf-8")
    return root


def measure(work: Path, megabytes: float) -> dict[str, float]:
    kb = write_kb(work / f"kb-{megabytes:g}mb", megabytes)
    session = open_session(str(kb), str(kb / "kb.sqlite"))
    try:
        started = time.perf_counter()
        session.reindex()
        figures = {"index_s": time.perf_counter() - started}
        for word in ("dolor", "zanzibar"):
            started = time.perf_counter()
            hits = queries.search(session.db, word)
            figures[f"{word}_ms"] = (time.perf_counter() - started) * 1000
            assert hits, f"no hit for {word}"
        return figures
    finally:
        session.close()


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    work = Path(sys.argv[1])
    sizes = [float(size) for size in sys.argv[2:]] or [1.0, 4.0, 50.0]
    for megabytes in sizes:
        figures = measure(work, megabytes)
        print(
            f"{megabytes:6g} MB: index {figures['index_s']:6.2f} s, "
            f"search dolor {figures['dolor_ms']:9.1f} ms, "
            f"zanzibar {figures['zanzibar_ms']:9.1f} ms",
            flush=True,
        )


if __name__ == "__main__":
    main()
