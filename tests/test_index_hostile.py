"""Hostile files and interrupted or overlapping runs: the index stays whole and correct."""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from kbtui.formats.document import parse_document
from kbtui.ops import queries
from kbtui.ops.indexer import index_kb
from kbtui.store import index as store
from kbtui.store.db import open_db

SOURCE = "---\ntype: source\ntitle: {title}\nstatus: unprocessed\n---\n\n{body}\n"


def problems(db_path: Path, path: str) -> dict[str, str]:
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT p.code, p.message FROM problems p JOIN documents d ON d.id = p.doc_id "
            "WHERE d.path = ?",
            (path,),
        ).fetchall()
    return dict(rows)


def interrupted_run(monkeypatch: pytest.MonkeyPatch, module: object, name: str, kb: Path) -> None:
    """Index `kb` into its `kb.sqlite` with `module.name` raising KeyboardInterrupt (a Ctrl-C)."""

    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(module, name, interrupt)
        with pytest.raises(KeyboardInterrupt):
            index_kb(open_db(kb / "kb.sqlite"), kb)


def test_a_name_that_is_not_utf8_is_indexed_and_flagged(small_kb: Path) -> None:
    raw = os.fsencode(small_kb / "inbox" / "archive") + b"/caf\xe9-notes.md"
    with open(raw, "wb") as handle:
        handle.write(SOURCE.format(title="Cafe notes", body="zebra crossing").encode())
    db_path = small_kb / "kb.sqlite"
    report = index_kb(open_db(db_path), small_kb)
    assert "inbox/archive/caf\\xe9-notes.md" in report.added
    found = problems(db_path, "inbox/archive/caf\\xe9-notes.md")
    assert "not valid UTF-8" in found["unencodable-name"]
    hits = queries.search(open_db(db_path), "zebra")
    assert [hit.path for hit in hits] == ["inbox/archive/caf\\xe9-notes.md"]


def test_an_escaped_name_equal_to_a_real_name_gets_a_path_of_its_own(small_kb: Path) -> None:
    folder = small_kb / "inbox" / "archive"
    with open(os.fsencode(folder) + b"/caf\xe9.md", "wb") as handle:
        handle.write(SOURCE.format(title="Byte name", body="zebra one").encode())
    (folder / "caf\\xe9.md").write_text(SOURCE.format(title="Backslash name", body="zebra two"))
    db_path = small_kb / "kb.sqlite"
    report = index_kb(open_db(db_path), small_kb)
    assert {"inbox/archive/caf\\xe9.md", "inbox/archive/caf\\xe9 (2).md"} <= set(report.added)
    assert "unencodable-name" in problems(db_path, "inbox/archive/caf\\xe9 (2).md")
    assert "unencodable-name" not in problems(db_path, "inbox/archive/caf\\xe9.md")
    assert not index_kb(open_db(db_path), small_kb).changed


def test_a_pipe_named_md_is_reported_not_read(small_kb: Path) -> None:
    os.mkfifo(small_kb / "domains" / "energy" / "pipe.md")
    db_path = small_kb / "kb.sqlite"
    index_kb(open_db(db_path), small_kb)  # would block for ever if the pipe were opened
    assert "not a regular file" in problems(db_path, "domains/energy/pipe.md")["unreadable"]


@pytest.mark.parametrize(
    "text",
    [
        "---\ntype: source\n---\n\n## Agent" + " " * 200_000 + "x\n",
        "---\na" + " " * 200_000 + "b\n---\nbody\n",
        "---\ntype: source\n---\n\n# " + "x" + " " * 200_000 + "y\n",
        "---\ntype: source\n---\n\n## Agent Notes\n**Extraction hints:**\n"
        + " " * 200_000
        + "CLAIM\n",
    ],
    ids=["heading", "frontmatter-key", "title", "claim-line"],
)
def test_long_runs_of_spaces_parse_in_linear_time(text: str) -> None:
    """A quadratic pattern would take hours on these 200,000 spaces, not a fraction of a second."""
    doc = parse_document("inbox/archive/spaces.md", text.encode())
    assert doc.raw_frontmatter + doc.raw_body == text


def test_headings_keep_their_text_and_lose_a_closing_sequence() -> None:
    from kbtui.formats.handoff import heading_text

    assert heading_text("Agent Notes ##  ") == "Agent Notes"
    assert heading_text("Notes on C#") == "Notes on C#"
    assert heading_text("###") == ""


@pytest.mark.parametrize(
    "line",
    [
        "ref: " + "9" * 5000,
        "ref: 0x" + "f" * 5000,  # builds, but Python cannot write it back as text
        "ref: [0x" + "f" * 5000 + "]",
        "title: !!int abc",
        "count: !!float many",
        "date: !!timestamp 2020-13-45",
    ],
    ids=lambda line: line[:24],
)
def test_values_yaml_cannot_build_keep_their_text(small_kb: Path, line: str) -> None:
    path = small_kb / "inbox" / "archive" / "2026-02-01-odd-values.md"
    path.write_text(f"---\ntype: source\n{line}\n---\n\nquokka sightings\n", encoding="utf-8")
    db_path = small_kb / "kb.sqlite"
    index_kb(open_db(db_path), small_kb)
    found = problems(db_path, "inbox/archive/2026-02-01-odd-values.md")
    assert "internal-error" not in found
    hits = queries.search(open_db(db_path), "quokka")
    assert [hit.path for hit in hits] == ["inbox/archive/2026-02-01-odd-values.md"]


def test_yaml_merge_keys_are_read() -> None:
    doc = parse_document(
        "domains/energy/merge.md",
        b"---\nbase: &b {confidence: likely}\nextra:\n  <<: *b\n  note: x\n---\nbody\n",
    )
    assert doc.fields["extra"] == {"confidence": "likely", "note": "x"}
    assert not [p for p in doc.problems if p.code == "malformed-frontmatter"]


def test_a_rename_interrupted_mid_run_is_repaired_by_the_next(
    small_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path = small_kb / "kb.sqlite"
    index_kb(open_db(db_path), small_kb)
    old = small_kb / "inbox" / "archive" / "2025-11-20-tariff-study.md"
    new = small_kb / "domains" / "energy" / "2025-11-20-tariff-study.md"
    old.rename(new)
    interrupted_run(monkeypatch, store, "write_rows", small_kb)
    index_kb(open_db(db_path), small_kb)
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT path, folder FROM documents WHERE stem = '2025-11-20-tariff-study'"
        ).fetchall()
    assert rows == [("domains/energy/2025-11-20-tariff-study.md", "domains/energy")]


def test_duplicate_source_problems_follow_an_incremental_change(small_kb: Path) -> None:
    archive = small_kb / "inbox" / "archive"
    twin = small_kb / "inbox" / "2026-01-03-battery-trial.md"
    shutil.copy(archive / "2026-01-03-battery-trial.md", twin)
    db_path = small_kb / "kb.sqlite"
    index_kb(open_db(db_path), small_kb)
    original = "inbox/archive/2026-01-03-battery-trial.md"
    assert "duplicate-source" in problems(db_path, original)
    twin.write_text("---\ntype: entity\n---\n\nNow an entity.\n", encoding="utf-8")
    index_kb(open_db(db_path), small_kb)
    assert "duplicate-source" not in problems(db_path, original)


def test_ambiguity_counts_follow_new_files(small_kb: Path) -> None:
    energy = small_kb / "domains" / "energy"
    (small_kb / "domains" / "grid").mkdir()
    (small_kb / "domains" / "grid" / "storage.md").write_text("x\n", encoding="utf-8")
    (small_kb / "domains" / "heat").mkdir()
    (small_kb / "domains" / "heat" / "storage.md").write_text("y\n", encoding="utf-8")
    (energy / "links.md").write_text("See [[storage]].\n", encoding="utf-8")
    db_path = small_kb / "kb.sqlite"
    index_kb(open_db(db_path), small_kb)
    assert "matches 2 files" in problems(db_path, "domains/energy/links.md")["ambiguous-link"]
    (small_kb / "domains" / "water").mkdir()
    (small_kb / "domains" / "water" / "storage.md").write_text("z\n", encoding="utf-8")
    index_kb(open_db(db_path), small_kb)
    assert "matches 3 files" in problems(db_path, "domains/energy/links.md")["ambiguous-link"]


def test_two_runs_at_once_both_succeed(small_kb: Path) -> None:
    archive = small_kb / "inbox" / "archive"
    for n in range(400):
        (archive / f"2026-03-01-note-{n:03}.md").write_text(
            SOURCE.format(title=f"Note {n}", body="text"), encoding="utf-8"
        )
    db_path = small_kb / "kb.sqlite"
    open_db(db_path).conn.close()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            index_kb(open_db(db_path), small_kb)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 405


def _open_index(path: str) -> None:
    open_db(Path(path)).conn.execute("SELECT count(*) FROM documents").fetchone()


def test_processes_opening_a_new_index_at_once_all_succeed(tmp_path: Path) -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    for attempt in range(3):
        db_path = str(tmp_path / f"race-{attempt}.sqlite")
        processes = [context.Process(target=_open_index, args=(db_path,)) for _ in range(3)]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        assert [p.exitcode for p in processes] == [0, 0, 0]


def test_a_file_unreadable_once_is_read_when_it_can_be(
    small_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kbtui.ops import indexer

    path = "inbox/archive/2026-01-03-battery-trial.md"
    real_read = indexer._read

    def denied(found: indexer.FoundFile) -> bytes:
        if found.path == path:
            raise PermissionError(13, "Permission denied")
        return real_read(found)

    db_path = small_kb / "kb.sqlite"
    monkeypatch.setattr(indexer, "_read", denied)
    index_kb(open_db(db_path), small_kb)
    index_kb(open_db(db_path), small_kb)  # still unreadable: its mtime and size are recorded
    assert "unreadable" in problems(db_path, path)
    monkeypatch.setattr(indexer, "_read", real_read)  # the permission is fixed (mtime unchanged)
    report = index_kb(open_db(db_path), small_kb)
    assert report.updated == [path]
    assert "unreadable" not in problems(db_path, path)


def test_an_unreadable_folder_is_reported_and_its_index_kept(
    small_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path = small_kb / "kb.sqlite"
    index_kb(open_db(db_path), small_kb)
    locked = str(small_kb / "domains" / "energy")
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if str(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    report = index_kb(open_db(db_path), small_kb)
    assert report.unreadable_folders == ["domains/energy/"]
    assert report.deleted == []
    found = {entry.path: entry for entry in queries.check(open_db(db_path))}
    assert "Permission denied" in found["domains/energy/"].problems[0]["message"]
    with sqlite3.connect(db_path) as conn:
        kept = conn.execute("SELECT count(*) FROM documents WHERE folder = 'domains/energy'")
        assert kept.fetchone()[0] == 2
    monkeypatch.setattr(os, "scandir", real_scandir)
    index_kb(open_db(db_path), small_kb)
    assert "domains/energy/" not in {entry.path for entry in queries.check(open_db(db_path))}


def test_stored_queue_counts_follow_every_change(small_kb: Path) -> None:
    from kbtui.ops import desk

    db_path = small_kb / "kb.sqlite"
    index_kb(open_db(db_path), small_kb)
    db = open_db(db_path)
    assert store.status_counts(db) is not None
    assert desk.queue_counts(db)["unprocessed"] == 2
    source = small_kb / "inbox" / "archive" / "2025-11-20-tariff-study.md"
    source.write_text(source.read_text().replace("unprocessed", "processed"))
    index_kb(db, small_kb)
    counts = desk.queue_counts(db)
    assert (counts["unprocessed"], counts["processed"]) == (1, 1)
    store.forget_status_counts(db)  # as after a crash mid-run: counted live
    assert desk.queue_counts(db) == counts


def test_reading_files_never_holds_the_write_lock_for_long(
    small_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that only re-hashes touched files commits as it goes, so the app can still
    record a curator action on its own connection meanwhile."""
    from kbtui.ops import indexer

    db_path = small_kb / "kb.sqlite"
    index_kb(open_db(db_path), small_kb)
    for path in (small_kb / "inbox" / "archive").iterdir():
        os.utime(path, ns=(1, 1))  # touched: same content, another mtime
    other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    real_read = indexer._read
    writes: list[str] = []

    def read_while_another_writes(found: indexer.FoundFile) -> bytes:
        other.execute("INSERT OR REPLACE INTO meta VALUES ('probe', ?)", (found.path,))
        writes.append(found.path)
        return real_read(found)

    monkeypatch.setattr(indexer, "COMMIT_SECONDS", 0.0)
    monkeypatch.setattr(indexer, "_read", read_while_another_writes)
    report = index_kb(open_db(db_path), small_kb)
    assert len(writes) == 3 and report.unchanged == 5 and not report.updated


def test_forked_workers_let_go_of_the_run_lock(tmp_path: Path) -> None:
    from kbtui.ops.indexer import _init_forked_worker

    handle = open(tmp_path / "kb.sqlite.lock", "ab")  # noqa: SIM115 - closed by the worker
    _init_forked_worker([handle.fileno()], os.getppid())
    with pytest.raises(OSError):
        os.fstat(handle.fileno())


@pytest.mark.skipif(sys.platform != "linux", reason="workers follow their run on Linux only")
def test_a_worker_whose_run_ended_before_it_started_ends_too(tmp_path: Path) -> None:
    from kbtui.ops.indexer import _init_forked_worker

    pid = os.fork()
    if pid == 0:  # the worker: its run (not its parent here) is gone already
        _init_forked_worker([], run_pid=os.getppid() + 1_000_000)
        os._exit(3)  # reached only if the worker stayed, as an orphan would
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_file_that_cannot_be_looked_at_is_kept_and_reported(
    small_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path = small_kb / "kb.sqlite"
    index_kb(open_db(db_path), small_kb)
    real_scandir = os.scandir

    class Entry:
        def __init__(self, entry: os.DirEntry[str]) -> None:
            self._entry = entry
            self.name, self.path = entry.name, entry.path

        def is_dir(self, follow_symlinks: bool = True) -> bool:
            return self._entry.is_dir(follow_symlinks=follow_symlinks)

        def is_symlink(self) -> bool:
            return self._entry.is_symlink()

        def stat(self, follow_symlinks: bool = True) -> os.stat_result:
            if self.name.endswith("tariff-study.md"):  # as in a folder without +x
                raise PermissionError(13, "Permission denied")
            return self._entry.stat(follow_symlinks=follow_symlinks)

    def scandir(path: str) -> list[Entry]:
        return [Entry(entry) for entry in real_scandir(path)]

    monkeypatch.setattr(os, "scandir", scandir)
    report = index_kb(open_db(db_path), small_kb)
    assert report.deleted == []
    found = problems(db_path, "inbox/archive/2025-11-20-tariff-study.md")
    assert "Permission denied" in found["unreadable"]


def test_an_interrupted_refresh_is_finished_by_the_next_run(
    small_kb: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from kbtui.ops import indexer

    db_path = small_kb / "kb.sqlite"
    index_kb(open_db(db_path), small_kb)
    claim = small_kb / "domains" / "energy" / "home batteries flatten the evening peak.md"
    claim.rename(claim.with_name("home batteries cut the evening peak.md"))
    interrupted_run(monkeypatch, indexer, "_insert_kb_problems", small_kb)
    index_kb(open_db(db_path), small_kb)
    fresh = tmp_path / "fresh.sqlite"
    index_kb(open_db(fresh), small_kb)

    def summary(path: Path) -> list[tuple[str, list[str]]]:
        return [
            (f.path, sorted(p["code"] for p in f.problems))
            for f in queries.check(open_db(path), include_info=True)
        ]

    assert summary(db_path) == summary(fresh)
    assert any("unresolved-link" in codes for _, codes in summary(db_path))
