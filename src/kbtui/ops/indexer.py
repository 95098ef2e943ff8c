"""Index a KB into `kb.sqlite`: cold or incremental, every markdown file accounted for."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import multiprocessing
import os
import pickle
import secrets
import signal
import sqlite3
import stat
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import wait as futures_wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kbtui.formats.checks import Code
from kbtui.formats.document import Document, parse_document, parser_version
from kbtui.formats.links import LinkResolver
from kbtui.formats.problems import Problem
from kbtui.formats.profile import activate, active, build_schema
from kbtui.formats.similar import TitleIndex
from kbtui.ops.atomic import leftover_temporary
from kbtui.ops.lifetime import exit_with_parent
from kbtui.ops.profile import PROFILE_META, use_profile
from kbtui.ops.report import IndexReport, Progress
from kbtui.store import index as store
from kbtui.store.db import Database
from kbtui.store.fts import SCRATCH_SUFFIX, FtsBuilder, remove_scratch
from kbtui.store.index import transaction

BATCH = 500
PARALLEL_MIN = 3000
"""Files to parse before forkserver workers, slow to start, pay for their start-up."""
FORK_MIN = 300
"""Files to parse before forked workers (copies of this process, quick to start) are worth it."""
BULK_SHARE = 0.3
COMMIT_SECONDS = 1.0
EAGER_COMMIT_MAX = 5000
"""Runs reading fewer files commit whenever they wait for a worker: their pages reach the WAL
while the writer is idle, not all in a last commit. Bigger runs commit about once a second:
each commit of a big index also checkpoints, and fewer of them make a big build shorter."""
PARSED_BY = "parser_version"
"""Meta key: the `PARSER_VERSION` that read the indexed files."""
REFRESH_PENDING = "kb_refresh_pending"
"""Meta key set while a run's documents are written but its links and problems are not."""
SKIP_DIRS = frozenset({".git"})


@dataclass(frozen=True, slots=True)
class FoundFile:
    """A markdown file under the KB root, as the walk saw it."""

    path: str
    absolute: str
    mtime_ns: int
    size: int
    ctime_ns: int
    outside_target: str | None = None
    error: str | None = None
    escaped_name: bool = False
    """The name is not valid UTF-8: `path` shows it with `\\x` escapes."""


def walk_kb(
    root: Path,
    other_files: list[str] | None = None,
    unreadable: list[tuple[str, str]] | None = None,
) -> Iterator[FoundFile]:
    """Every `.md` file under `root`, in path order (symlinks never followed out of it).

    Files that are not markdown are appended to `other_files` when given, and folders that
    cannot be listed to `unreadable` (with the reason), so that every file is accounted for.
    """
    root_real = os.path.realpath(root)
    stack: list[tuple[str, str]] = [(str(root), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
        except OSError as exc:
            if unreadable is not None:
                unreadable.append((_printable(prefix) or ".", exc.strerror or str(exc)))
            continue
        files: list[os.DirEntry[str]] = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS:
                    stack.append((entry.path, prefix + entry.name + "/"))
            else:
                files.append(entry)
        for entry in reversed(files):
            rel = prefix + entry.name
            shown = _printable(rel)
            if not entry.name.endswith(".md"):
                if leftover_temporary(entry.name) and entry.is_file(follow_symlinks=False):
                    # A killed export's: the file it was for is wholly old or wholly new.
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
                        continue
                if other_files is not None:
                    other_files.append(shown)
                continue
            try:
                info = entry.stat(follow_symlinks=False)
                outside = None
                if entry.is_symlink():
                    real = os.path.realpath(entry.path)
                    if os.path.commonpath([root_real, real]) != root_real or not os.path.isfile(
                        real
                    ):
                        outside = real
                    else:
                        info = os.stat(real)
            except FileNotFoundError:
                continue  # gone since the folder was listed
            except OSError as exc:  # e.g. a folder that can be listed but not entered
                reason = exc.strerror or str(exc)
                yield FoundFile(shown, entry.path, 0, 0, 0, error=reason, escaped_name=shown != rel)
                continue
            error = None
            if outside is None and not stat.S_ISREG(info.st_mode):
                error = "not a regular file (a pipe, socket or device); not read"
            yield FoundFile(
                shown,
                entry.path,
                info.st_mtime_ns,
                info.st_size,
                info.st_ctime_ns,
                None if outside is None else _printable(outside),
                error,
                escaped_name=shown != rel,
            )


def _unique_paths(found: list[FoundFile]) -> list[FoundFile]:
    """Every file with a path of its own: a name shown with `\\x` escapes can equal another
    file's real name (the byte 0xff shown as `\\xff.md`, beside a file named `\\xff.md`).
    The escaped one then takes a numbered path (its problem already says to rename it)."""
    if len({f.path for f in found}) == len(found):
        return found
    taken = {f.path for f in found if not f.escaped_name}
    unique = []
    for item in found:
        if item.escaped_name and item.path in taken:
            stem, number = item.path.removesuffix(".md"), 2
            while f"{stem} ({number}).md" in taken:
                number += 1
            item = replace(item, path=f"{stem} ({number}).md")
        taken.add(item.path)
        unique.append(item)
    return unique


def _printable(path: str) -> str:
    """`path` as valid text: bytes that are not UTF-8 (kept by the OS as surrogates) escaped."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", errors="backslashreplace")
    return path


def _db_path(db: Database) -> str:
    """The index's file ("" for a database in memory)."""
    return str(db.conn.execute("PRAGMA database_list").fetchone()[2] or "")


def _index_files(db: Database, root: Path) -> set[str]:
    """KB-relative paths of the index database and its WAL files, when inside the KB."""
    main = _db_path(db)
    if not main:
        return set()
    try:
        relative = Path(main).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return set()
    return {
        relative + suffix
        for suffix in (
            "",
            "-wal",
            "-shm",
            "-journal",
            ".lock",
            SCRATCH_SUFFIX,
        )
    }


def _read(found: FoundFile) -> bytes:
    if found.outside_target is not None or found.error is not None:
        return b""
    # The OS calls directly: a buffered file object costs more than the read for a small file.
    fd = os.open(found.absolute, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        chunks = [os.read(fd, max(os.fstat(fd).st_size, 0) + 1)]
        while chunks[-1]:
            chunks.append(os.read(fd, 1 << 20))
    finally:
        os.close(fd)
    return b"".join(chunks)


def _read_and_digest(found: FoundFile) -> tuple[FoundFile, bytes, str]:
    """The file's bytes and digest; a file that cannot be read comes back marked so."""
    try:
        data = _read(found)
    except OSError as exc:
        data = b""
        found = replace(found, error=exc.strerror or str(exc))
    return found, data, _digest(found, data)


def _parse(found: FoundFile, data: bytes) -> Document:
    """Parse one file; whatever goes wrong becomes a problem on that file, never an exception."""
    try:
        doc = parse_document(found.path, data)
    except Exception as exc:
        doc = parse_document(found.path, b"")
        doc.problems = [
            Code.INTERNAL_ERROR.problem(
                f"kbtui could not parse this file ({exc!r}); please report it",
                1,
            )
        ]
    if found.outside_target is not None:
        doc.problems = [
            Code.SYMLINK_OUTSIDE.problem(
                "a symlink leading outside the KB (or to "
                f"nothing): {found.outside_target}; not read",
                1,
            )
        ]
    elif found.error is not None:
        doc.problems = [Code.UNREADABLE.problem(f"cannot read the file: {found.error}", 1)]
    if found.escaped_name:
        doc.problems.append(
            Code.UNENCODABLE_NAME.problem(
                "the file name is not valid UTF-8 (shown here with \\x escapes); rename it "
                "to edit or export it with kbtui",
            )
        )
    return doc


@dataclass(frozen=True, slots=True)
class Task:
    """One file to (re)index: its content when already read, and the id its rows take."""

    found: FoundFile
    data: bytes | None
    digest: str | None
    doc_id: int
    existing: bool


_LOCK_FDS: list[int] = []
"""Descriptors of the index locks this process holds (forked workers close them)."""
_RESOLVER: LinkResolver | None = None
"""The link resolver of a worker process (inherited through fork, or set by `_init_worker`)."""


def _init_worker(paths: set[str], profile: list[tuple[str, str]]) -> None:
    global _RESOLVER
    _leave_ctrl_c_to_the_run()
    exit_with_parent()
    activate(build_schema(profile))
    _RESOLVER = LinkResolver(paths)
    gc.freeze()


def _leave_ctrl_c_to_the_run() -> None:
    """ctrl+c at a terminal reaches every process of the command: the run stops its
    workers itself, and a worker's own KeyboardInterrupt would only print a traceback."""
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _init_forked_worker(lock_fds: list[int], run_pid: int) -> None:
    """A forked worker closes its copy of the run's lock (else a killed run would leave its
    workers holding the lock for ever) and ends when the run's process (`run_pid`) ends,
    also when that happened before the worker got this far."""
    _leave_ctrl_c_to_the_run()
    for fd in lock_fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    exit_with_parent(run_pid)
    # What the worker inherited (the walk, the resolver) lives as long as it does: keeping
    # it out of the cyclic GC saves scanning it over and over (and copying its pages).
    gc.freeze()


def _prepare(tasks: list[Task], resolver: LinkResolver | None = None) -> store.Rows:
    """Read (when needed), parse and resolve a batch of files into rows; pure but for reads.

    Runs in a worker process for large jobs, so that the main process only writes SQLite.
    """
    resolver = resolver or _RESOLVER
    assert resolver is not None
    rows = store.Rows()
    for task in tasks:
        found, data, digest = task.found, task.data, task.digest
        if data is None:
            found, data, digest = _read_and_digest(found)
        doc = _parse(found, data)
        resolutions = [resolver.resolve(link.target, doc.path) for link in doc.links]
        # The links' problems, found here with the run's resolver (which knows every path),
        # spare the run a pass over every link at its end.
        rows.kb_problems += [
            (
                task.doc_id,
                str(problem.code),
                problem.severity,
                problem.message,
                problem.line,
                link.target,
            )
            for link, res in zip(doc.links, resolutions, strict=True)
            for problem in _link_problem(
                link.origin,
                link.target,
                link.raw,
                link.line,
                res.path,
                res.rule,
                res.ambiguous,
                res.candidates,
            )
        ]
        rows.add(
            task.doc_id,
            doc,
            data,
            found.mtime_ns,
            found.ctime_ns,
            digest or _digest(found, data),
            resolutions,
            existing=task.existing,
        )
    return rows


def _prepare_packed(tasks: list[Task]) -> bytes:
    """`_prepare` in a worker process: the rows come back packed, cheaper than pickled."""
    return _prepare(tasks).pack()


def _start_method(to_read: int) -> str | None:
    """How to start parser processes for `to_read` files: fork when it is safe, else spawn a
    forkserver for jobs big enough to pay for its start-up, else parse in this process."""
    if (
        to_read >= FORK_MIN
        and sys.platform == "linux"
        and threading.active_count() == 1
        and (os.cpu_count() or 1) > 1
    ):
        return "fork"
    if to_read >= PARALLEL_MIN and (os.cpu_count() or 1) > 1:
        return "forkserver"
    return None


class _Parser:
    """Prepares batches in order: in worker processes for big jobs, else in this process."""

    def __init__(self, resolver: LinkResolver, method: str | None, workers: int) -> None:
        global _RESOLVER
        self._resolver = resolver
        self._pool: ProcessPoolExecutor | None = None
        if method is not None and workers > 0:
            context = multiprocessing.get_context(method)
            if method == "fork":
                _RESOLVER = resolver  # inherited by the children
                self._pool = ProcessPoolExecutor(
                    max_workers=workers,
                    mp_context=context,
                    initializer=_init_forked_worker,
                    initargs=(_LOCK_FDS.copy(), os.getpid()),
                )
            else:
                context.set_forkserver_preload(["kbtui.ops.indexer"])
                self._pool = ProcessPoolExecutor(
                    max_workers=workers,
                    mp_context=context,
                    initializer=_init_worker,
                    initargs=(resolver.paths, list(active().sources)),
                )
            # Start every worker now, before this process starts any other thread: a fork
            # context forks them all in this first `submit` (no need to wait for an answer).
            started = self._pool.submit(os.getpid)
            if method != "fork":
                started.result()
        self._queue: deque[tuple[list[Task], Future[bytes] | store.Rows]] = deque()

    @property
    def parallel(self) -> bool:
        return self._pool is not None

    def submit(self, batch: list[Task]) -> None:
        if self._pool is None:
            self._queue.append((batch, _prepare(batch, self._resolver)))
        else:
            self._queue.append((batch, self._pool.submit(_prepare_packed, batch)))

    def done(
        self, keep: int, wait: Callable[[Future[bytes]], None] | None = None
    ) -> Iterator[tuple[list[Task], store.Rows]]:
        """Prepared batches in submission order, leaving up to `keep` still in flight;
        `wait` is called with a batch still being prepared before it is waited for."""
        while len(self._queue) > keep:
            batch, result = self._queue.popleft()
            if isinstance(result, store.Rows):
                yield batch, result
                continue
            if wait is not None and not result.done():
                wait(result)
            try:
                rows = store.Rows.unpack(result.result())
            except (BrokenProcessPool, OSError, pickle.PicklingError, ValueError):
                rows = _prepare(batch, self._resolver)
            yield batch, rows

    def close(self) -> None:
        global _RESOLVER
        _RESOLVER = None
        if self._pool is not None:
            # The workers end while the run goes on (its last writes, the full-text index):
            # the pool's own thread waits for them, not the run.
            self._pool.shutdown(wait=False, cancel_futures=True)


class _Writer:
    """Writes prepared rows in transactions of about `COMMIT_SECONDS`: fewer, larger commits
    write each hot page (indexes, FTS) to the WAL fewer times, while other connections (the
    app recording a curator action) wait at most that long for the write lock."""

    def __init__(self, db: Database, eager: bool = False) -> None:
        self._db = db
        self._eager = eager
        self._began: float | None = None

    def begin(self) -> None:
        """Be inside a transaction (the current one, or a new one)."""
        if self._began is None:
            self._db.conn.execute("BEGIN IMMEDIATE")
            self._began = time.perf_counter()

    def write(self, rows: store.Rows) -> None:
        self.begin()
        store.write_rows(self._db, rows)
        self.tick()

    def wait(self, future: Future[Any]) -> None:
        """Get ready to wait for `future`: an eager writer commits first; else the wait goes on
        holding the write lock while the transaction is young, then commits, so that the lock
        is never held long while nothing is written."""
        if self._began is not None:
            if self._eager:
                self.commit()
                return
            left = COMMIT_SECONDS - (time.perf_counter() - self._began)
            if left > 0:
                futures_wait([future], timeout=left)
            if not future.done():
                self.commit()

    def tick(self) -> None:
        """Commit if the transaction has been open for `COMMIT_SECONDS`."""
        if self._began is not None and time.perf_counter() - self._began >= COMMIT_SECONDS:
            self.commit()

    def commit(self) -> None:
        if self._began is not None:
            self._db.conn.execute("COMMIT")
            self._began = None

    def rollback(self) -> None:
        if self._began is not None:
            self._began = None
            # SQLite may have rolled back already (after a full disk, say): the error that
            # got us here is the one to report, not this one.
            with contextlib.suppress(sqlite3.Error):
                self._db.conn.execute("ROLLBACK")


def _digest(found: FoundFile, data: bytes) -> str:
    if found.outside_target is not None:
        return "symlink:" + found.outside_target
    if found.error is not None:
        return "unreadable:" + found.error
    return hashlib.sha256(data).hexdigest()


def index_kb(
    db: Database,
    root: Path,
    progress: Progress | None = None,
    full: bool = False,
    workers: int | None = None,
    waiting: Callable[[], None] | None = None,
) -> IndexReport:
    """Bring the index in line with the files under `root`; unchanged files are skipped.

    `workers` parser processes are used (None: two when there are many files to parse).
    One run at a time per index: a second waits for the first (app and CLI alike), after
    calling `waiting` (to say so).
    """
    use_profile(root)
    with _index_lock(db, waiting):
        # Read under the lock: another run's preamble (another thread) has the GC off.
        collecting = gc.isenabled()
        try:
            return _index(db, root, progress, full, workers)
        finally:
            gc.unfreeze()
            if collecting:
                gc.enable()


@contextmanager
def _index_lock(db: Database, waiting: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on `<index>.lock` (where the OS has file locks)."""
    main = db.conn.execute("PRAGMA database_list").fetchone()[2]
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        fcntl = None  # type: ignore[assignment]  # None stands for no file locks, as checked below
    if not main or fcntl is None:
        yield
        return
    try:
        handle = open(f"{main}.lock", "ab")  # noqa: SIM115 - held for the whole run
    except OSError:
        yield
        return
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting()
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        _LOCK_FDS.append(handle.fileno())
        try:
            yield
        finally:
            _LOCK_FDS.remove(handle.fileno())
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _index(
    db: Database,
    root: Path,
    progress: Progress | None,
    full: bool,
    workers: int | None,
) -> IndexReport:
    started = time.perf_counter()
    report = IndexReport()
    # The known states, the walk and the resolver are built in one go, and live for the whole
    # run: the cyclic GC would only scan them over and over while they grow (a large KB's start
    # feels it), so it waits, then they are frozen out of its way.
    collecting = gc.isenabled()
    gc.disable()
    known = {
        # A file that could not be read, or a symlink leading outside, is looked at again on
        # every run: a permission fixed or a link retargeted changes neither mtime nor size.
        path: state
        if not state.sha256.startswith(("unreadable:", "symlink:"))
        else store.FileState(state.id, -1, state.size, state.sha256)
        for path, state in store.file_states(db).items()
    }
    db_path = _db_path(db)
    if db_path:
        remove_scratch(db_path)  # left by a run that was killed: this run holds the lock
    other_files: list[str] = []
    unreadable: list[tuple[str, str]] = []
    index_files = _index_files(db, root)
    # The index's own files are never content, whatever their name (`--db notes.md`).
    found = _unique_paths(
        [f for f in walk_kb(root, other_files, unreadable) if f.path not in index_files]
    )
    report.other_files = sum(1 for path in other_files if path not in index_files)
    report.unreadable_folders = [folder for folder, _ in unreadable]
    seen = {f.path for f in found}
    # What was indexed inside a folder that cannot be listed now is kept, not deleted.
    hidden = tuple("" if folder == "." else folder for folder, _ in unreadable)
    if hidden:
        seen |= {path for path in known if path.startswith(hidden)}
    resolver = LinkResolver(seen)
    gc.freeze()
    if collecting:
        gc.enable()
    gone = {path: state for path, state in known.items() if path not in seen}
    gone_by_hash = {state.sha256: path for path, state in gone.items()}
    paths_changed = bool(gone) or any(f.path not in known for f in found)
    changed_ids: list[int] = []
    total = len(found)
    if known and store.get_meta(db, PARSED_BY) != parser_version():
        full = True  # read by a kbtui that parsed some files differently: read them again
    store.rebuild_deferred_indexes(db)
    to_read = sum(
        1
        for f in found
        if full
        or (
            known.get(f.path) is None or not known[f.path].same_file(f.mtime_ns, f.size, f.ctime_ns)
        )
    )
    refresh_pending = store.get_meta(db, REFRESH_PENDING) is not None
    if to_read or gone:
        # The counts are taken again, and the flag cleared, once links and problems are
        # brought up to date at the end of the run.
        with transaction(db):
            store.forget_status_counts(db)
            store.set_meta(db, REFRESH_PENDING, "1")
    bulk = to_read > 200 and to_read > BULK_SHARE * max(total, 1)
    if bulk:
        store.defer_indexes(db)
    pending: list[Task] = []
    method = _start_method(to_read)
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    next_id = store.next_document_id(db)
    cold_read = not gone  # with no file gone, a new file is never a rename: workers read it
    writer = _Writer(db, eager=to_read < EAGER_COMMIT_MAX)
    parser = _Parser(resolver, method, workers)
    fts: FtsBuilder | None = None
    # Small batches at first keep the workers and the writer busy at once.
    batch_size = min(BATCH, max(50, to_read // 32)) if parser.parallel else BATCH

    def write(keep: int) -> None:
        for _batch, rows in parser.done(keep, wait=writer.wait):
            if fts is not None:
                # The text is indexed while the rows are written, not after.
                fts.add(store.fts_rows(rows))
            writer.write(rows)

    def flush() -> None:
        if pending:
            parser.submit(list(pending))
            pending.clear()
        write(keep=2 * workers if parser.parallel else 0)

    try:
        if bulk and not known and db_path:
            # Every document is new: their text is indexed beside the index as it is written
            # (by a thread, started once the workers are: forking with threads is unsafe).
            with contextlib.suppress(sqlite3.Error, OSError):  # then it is rebuilt at the end
                fts = FtsBuilder(db, db_path)
        for done, item in enumerate(found, start=1):
            state = known.get(item.path)
            if (
                state is not None
                and not full
                and state.same_file(item.mtime_ns, item.size, item.ctime_ns)
            ):
                report.unchanged += 1
            elif state is None and cold_read:
                pending.append(Task(item, None, None, next_id, existing=False))
                changed_ids.append(next_id)
                next_id += 1
                report.added.append(item.path)
            else:
                item, data, digest = _read_and_digest(item)
                if state is not None and state.sha256 == digest and not full:
                    writer.begin()
                    store.update_file_state(db, state.id, item.mtime_ns, item.size, item.ctime_ns)
                    report.unchanged += 1
                elif state is None and digest in gone_by_hash:
                    old_path = gone_by_hash.pop(digest)
                    old = gone.pop(old_path)
                    # Curator work follows the file now; its row takes the new path with the
                    # rest of its update (a crash between: the next run sees the rename again).
                    writer.begin()
                    store.follow_renames(db, [(old_path, item.path)])
                    pending.append(Task(item, data, digest, old.id, existing=True))
                    changed_ids.append(old.id)
                    report.renamed.append((old_path, item.path))
                elif state is None:
                    pending.append(Task(item, data, digest, next_id, existing=False))
                    changed_ids.append(next_id)
                    next_id += 1
                    report.added.append(item.path)
                else:
                    pending.append(Task(item, data, digest, state.id, existing=True))
                    changed_ids.append(state.id)
                    report.updated.append(item.path)
            writer.tick()  # reading and hashing never hold the write lock for long
            if len(pending) >= batch_size:
                flush()
            if progress is not None and (done % 200 == 0 or done == total):
                progress(done, total)
        flush()
        write(keep=0)
        writer.commit()
        if fts is not None:
            # The other indexes are built while the thread ends its last batches.
            store.rebuild_deferred_indexes(db, fts=False)
            fts.install()  # when it cannot, the full-text index is rebuilt below
            fts = None
    finally:
        try:
            writer.rollback()  # only when something went wrong: the work is committed
        finally:
            try:
                parser.close()
            finally:
                if fts is not None:
                    fts.abandon()
    store.rebuild_deferred_indexes(db)
    if gone:
        with transaction(db):
            store.delete_documents(db, (state.id for state in gone.values()))
        report.deleted.extend(sorted(gone))
    if known and (paths_changed or full or refresh_pending):
        # After an interrupted run, every link is looked at again (none counts as fresh).
        _reresolve(db, resolver, set() if refresh_pending else set(changed_ids))
        _refresh_kb_problems(db)
    elif changed_ids:
        # The links of every file written were resolved against the whole KB as it is now,
        # their problems written with them: only duplicates, which any file changes, remain.
        with transaction(db):
            db.conn.execute(
                "DELETE FROM problems WHERE scope = 'kb' "
                "AND code IN ('duplicate-source', 'near-duplicate-title')"
            )
        _insert_kb_problems(db, _duplicate_sources(db))
        _insert_kb_problems(db, _near_duplicate_titles(db))
    report.documents = int(db.conn.execute("SELECT count(*) FROM documents").fetchone()[0])
    with transaction(db):
        store.delete_meta(db, REFRESH_PENDING)
        store.store_status_counts(db)
        store.set_meta(db, "other_files", str(report.other_files))
        store.set_meta(db, PARSED_BY, parser_version())
        store.set_meta(db, PROFILE_META, json.dumps(active().sources, ensure_ascii=False))
        # (After an interrupted run too: what it committed changed the documents unreported.)
        if report.changed or full or refresh_pending:
            store.set_meta(db, store.GENERATION, secrets.token_hex(8))
        store.set_meta(db, "unreadable_folders", json.dumps(unreadable, ensure_ascii=False))
    report.seconds = time.perf_counter() - started
    return report


def _batches(db: Database, sql: str, size: int = 20_000) -> Iterator[list[Any]]:
    """Rows of `sql` (which selects `links.id` first and takes `links.id > ?`) in id order."""
    last = 0
    while True:
        rows = db.conn.execute(f"{sql} ORDER BY links.id LIMIT {size}", (last,)).fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _reresolve(db: Database, resolver: LinkResolver, fresh: set[int]) -> None:
    """Re-resolve links of documents not just written, after files appeared or vanished."""
    sql = (
        "SELECT links.id, links.doc_id, links.target, documents.path, links.resolved_path, "
        "links.rule, links.ambiguous, links.candidates_json, links.non_canonical FROM links "
        "JOIN documents ON documents.id = links.doc_id WHERE links.id > ?"
    )
    for rows in _batches(db, sql):
        updates = []
        for link_id, doc_id, target, path, *old in rows:
            if doc_id in fresh:
                continue
            res = resolver.resolve(target, path)
            candidates = (
                json.dumps(list(res.candidates), ensure_ascii=False) if res.candidates else None
            )
            now = [res.path, res.rule, int(res.ambiguous), candidates, int(res.non_canonical)]
            if now != old:
                updates.append(
                    (
                        res.path,
                        res.rule,
                        int(res.ambiguous),
                        candidates,
                        int(res.non_canonical),
                        link_id,
                    )
                )
        if updates:
            with transaction(db):
                db.conn.executemany(
                    "UPDATE links SET resolved_path = ?, rule = ?, ambiguous = ?, "
                    "candidates_json = ?, non_canonical = ? WHERE id = ?",
                    updates,
                )


def _link_problem(
    origin: str,
    target: str,
    raw: str,
    line: int | None,
    resolved: str | None,
    rule: str | None,
    ambiguous: bool,
    candidates: Sequence[str],
) -> list[Problem]:
    if resolved is None:
        if origin in ("claims_extracted", "enrichments_applied"):
            return [
                Code.DANGLING_PROVENANCE.problem(
                    f"{origin} names '{target}', which is not in the KB",
                    line,
                )
            ]
        return [Code.UNRESOLVED_LINK.problem(f"{raw} resolves to nothing", line)]
    found = []
    if ambiguous:
        found.append(
            Code.AMBIGUOUS_LINK.problem(
                f"{raw} matches {len(candidates)} files; resolved to {resolved}",
                line,
            )
        )
    if rule in ("md-suffix", "normalised"):
        canonical = resolved.rsplit("/", 1)[-1][:-3]
        found.append(
            Code.NON_CANONICAL_LINK.problem(
                f"{raw} resolves by {rule}; canonical form [[{canonical}]]",
                line,
            )
        )
    return found


def _refresh_kb_problems(db: Database) -> None:
    """Recompute the problems that depend on the rest of the KB (links, duplicates)."""
    sql = (
        "SELECT links.id, links.doc_id, origin, target, raw, line, resolved_path, rule, "
        "ambiguous, candidates_json FROM links WHERE links.id > ? AND (resolved_path IS NULL "
        "OR ambiguous = 1 OR rule IN ('md-suffix', 'normalised'))"
    )
    with transaction(db):
        db.conn.execute("DELETE FROM problems WHERE scope = 'kb'")
    for rows in _batches(db, sql):
        problems: list[tuple[int, Problem, str | None]] = []
        for _, doc_id, origin, target, raw, line, resolved, rule, ambiguous, cands in rows:
            for problem in _link_problem(
                origin,
                target,
                raw,
                line,
                resolved,
                rule,
                bool(ambiguous),
                json.loads(cands) if cands else [],
            ):
                problems.append((doc_id, problem, target))
        _insert_kb_problems(db, problems)
    _insert_kb_problems(db, _duplicate_sources(db))
    _insert_kb_problems(db, _near_duplicate_titles(db))


def _insert_kb_problems(db: Database, problems: list[tuple[int, Problem, str | None]]) -> None:
    with transaction(db):
        db.conn.executemany(
            "INSERT INTO problems VALUES (?, 'kb', ?, ?, ?, ?, ?)",
            [
                (doc_id, p.code, p.severity, p.message, p.line, target)
                for doc_id, p, target in problems
            ],
        )


def _duplicate_sources(db: Database) -> list[tuple[int, Problem, str | None]]:
    rows = db.conn.execute(
        "SELECT d.id, o.path FROM documents d JOIN documents o "
        "ON o.stem = d.stem AND o.id != d.id AND o.kind = 'source' WHERE d.kind = 'source'"
    ).fetchall()
    return [
        (doc_id, Code.DUPLICATE_SOURCE.problem(f"duplicate of {other}"), other)
        for doc_id, other in rows
    ]


def _near_duplicate_titles(db: Database) -> list[tuple[int, Problem, str | None]]:
    """Claims whose titles are as alike as the merge gate's `similarity`: each one of a
    pair names the other."""
    gate = active().model.gate
    kinds = list(gate.title_kinds)
    if not kinds:
        return []
    rows = db.conn.execute(
        f"SELECT id, path, title FROM documents WHERE kind IN ({', '.join('?' * len(kinds))}) "
        "ORDER BY path",
        kinds,
    ).fetchall()
    problems: list[tuple[int, Problem, str | None]] = []
    for pair in TitleIndex(row[2] for row in rows).pairs(gate.similarity):
        first, second = rows[pair.first], rows[pair.second]
        for (doc_id, _, _), (_, other, _) in ((first, second), (second, first)):
            message = f"title {pair.score}% like that of {other}"
            problems.append((doc_id, Code.NEAR_DUPLICATE_TITLE.problem(message), other))
    return problems
