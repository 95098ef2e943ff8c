"""Opening `kb.sqlite`: WAL, foreign keys, migrations; noticing the file deleted or replaced
while it is open; saying in one line what went wrong with SQLite."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from kbtui.formats.errors import KbtuiError
from kbtui.store.schema import migrate

PAGE_SIZE = 8192
SQLITE_MAGIC = b"SQLite format 3\x00"
RESTORED_FROM = "restored_from"
"""Meta key of an index written again from an open connection after its file was deleted:
the file it was read from (device and inode), so that another kbtui holding that file open
takes the new one as its own instead of saving a rescue copy."""
REPAIR_ADVICE = (
    "run `kbtui repair` (it moves the damaged file aside, builds a new index from the "
    "markdown and keeps the drafts and status changes it can still read)"
)


class StoreError(KbtuiError):
    """The index cannot be opened or used; the message says why in one line."""


class IndexLost(StoreError):
    """The index file was replaced by another one while it was open: nothing more is
    written through this connection (its work was saved beside the file, if it could be)."""


Identity = tuple[int, int]


class Database:
    """The open index: one sqlite3 connection, in autocommit mode (transactions are explicit).

    It is kept this small on purpose: the app opens it on its start-up path, and the
    connection is all the layers above use. It also remembers which file it opened (device
    and inode), so that `check_file` can tell when the file at its path is gone or another.
    """

    __slots__ = ("conn", "identity", "listener", "lost", "path")

    def __init__(self, conn: sqlite3.Connection, path: Path | None = None) -> None:
        self.conn = conn
        self.path = path
        self.identity: Identity | None = _identity(path) if path is not None else None
        self.listener: Callable[[str], None] | None = None
        """Told (in one line) when the index was written again after being deleted."""
        self.lost: str | None = None
        """Why nothing more is written here, once the file was replaced by another."""

    def check_file(self) -> None:
        """Make sure the file at `path` is still the one this connection writes into.

        A deleted index (`git clean -fdX`) is written again at its path from this
        connection, which still reads all of it, and used from then on; an index replaced
        by another file is left alone: what this connection holds is saved beside it, and
        `IndexLost` says where (as it does for every later write)."""
        if self.lost is not None:
            raise IndexLost(self.lost)
        if self.identity is None or self.path is None:
            return
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            _restore(self)
            return
        except OSError:
            return  # unreadable for another reason: SQLite says what when it matters
        if (now.st_dev, now.st_ino) != self.identity:
            _replaced(self)

    def tell(self, message: str) -> None:
        if self.listener is not None:
            self.listener(message)

    def close(self) -> None:
        # The last look: a connection closed on a deleted file takes its work along.
        try:
            self.check_file()
        except (StoreError, sqlite3.Error, OSError) as exc:
            self.tell(str(exc))
        self.conn.close()


def _identity(path: Path) -> Identity | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _marker(identity: Identity) -> str:
    return f"{identity[0]}:{identity[1]}"


def _copy_to(conn: sqlite3.Connection, target: Path, marker: str | None = None) -> None:
    """Write everything `conn` reads (its WAL included) into a new database at `target`."""
    copy = sqlite3.connect(str(target), isolation_level=None)
    try:
        conn.backup(copy)
        if marker is not None:
            copy.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (RESTORED_FROM, marker))
    finally:
        copy.close()


def _put_in_place(staged: Path, path: Path) -> bool:
    """Give `staged` the name `path` unless a file has it; False when one had it."""
    try:
        os.link(staged, path)  # fails if the name is taken: never over another file
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links
        if path.exists():
            return False
        os.replace(staged, path)
        return True
    finally:
        with contextlib.suppress(OSError):
            staged.unlink()
    return True


def _restore(db: Database) -> None:
    """The file is gone: write what the connection holds at its path again, and use it."""
    assert db.path is not None and db.identity is not None
    path = db.path
    if not path.parent.is_dir():
        raise StoreError(
            f"the folder of the index {path} is gone (moved or deleted) while kbtui ran: "
            "put it back, or the drafts and status changes not yet exported are lost "
            "when kbtui ends"
        )
    staged = path.with_name(f"{path.name}.kbtui-restore-{os.getpid()}")
    try:
        _copy_to(db.conn, staged, _marker(db.identity))
        placed = _put_in_place(staged, path)
    except (OSError, sqlite3.Error) as exc:
        with contextlib.suppress(OSError):
            staged.unlink()
        raise StoreError(
            f"the index {path} was deleted while kbtui ran, and could not be written again: {exc}"
        ) from exc
    if not placed:  # another process put a file there meanwhile
        _replaced(db)
        return
    _adopt(db)
    db.tell(
        f"The index {path} was deleted while kbtui ran: it was written again, with the "
        "drafts and status changes not yet exported."
    )


def _restored_from(path: Path) -> str | None:
    """The `RESTORED_FROM` mark of the index at `path`, if it has one."""
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (RESTORED_FROM,)).fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return None if row is None else str(row[0])


def _replaced(db: Database) -> None:
    """Another file has the index's path: never written over. One written again from this
    very file (by another kbtui) is taken as this one's; else the work is saved beside it."""
    assert db.path is not None and db.identity is not None
    path = db.path
    if _restored_from(path) == _marker(db.identity):
        _adopt(db)
        db.tell(
            f"The index {path} was deleted while kbtui ran: it was written again, with the "
            "drafts and status changes not yet exported."
        )
        return
    stamp = time.strftime("%Y%m%d-%H%M%S")
    rescue = path.with_name(f"{path.name}.rescued-{stamp}")
    number = 1
    while rescue.exists():
        number += 1
        rescue = path.with_name(f"{path.name}.rescued-{stamp}-{number}")
    try:
        _copy_to(db.conn, rescue)
    except (OSError, sqlite3.Error) as exc:
        db.lost = (
            f"the index {path} was replaced by another file while kbtui ran, and the "
            f"drafts and status changes not yet exported could not be saved beside it "
            f"({exc}): nothing more is written; free the folder and keep kbtui open"
        )
        db.identity = None  # looked at once: kbtui says why at each write from now on
        raise IndexLost(db.lost) from exc
    db.lost = (
        f"the index {path} was replaced by another file while kbtui ran: that file is left "
        f"alone, and the drafts and status changes not yet exported are saved in {rescue} "
        f"(nothing more is written; use that file with --db {rescue})"
    )
    raise IndexLost(db.lost)


def _adopt(db: Database) -> None:
    """Use the file now at `db.path`. The old connection is left to be collected, not
    closed here: another thread may still be reading through it, and SQLite leaves the
    WAL files of a file that moved alone when it closes."""
    assert db.path is not None
    fresh = open_db(db.path)
    db.conn, db.identity = fresh.conn, fresh.identity


def _refuse_foreign(conn: sqlite3.Connection, path: Path) -> None:
    """Stop before touching a database another program made (tables, but no kbtui schema
    version): opening it as an index would add tables to it and switch it to WAL."""
    # One read transaction: another process migrating the same new index could commit its
    # tables between two reads, which would look like another program's database.
    conn.execute("BEGIN")
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_schema LIMIT 4")]
    finally:
        conn.execute("COMMIT")
    if version != 0:
        return
    if tables:
        conn.close()
        raise StoreError(
            f"{path} is a database of another program (it holds {', '.join(tables[:3])}…), "
            "not a kbtui index: give --db a new file"
        )


def _refuse_non_index(path: Path) -> None:
    """Stop before SQLite writes a database into a file that is there but is none: an
    empty file (SQLite would take it as a new database) or one of another format.

    The file is never opened here but by SQLite: on POSIX, closing any descriptor of a
    file drops every lock this process holds on it, those of its open SQLite connections
    included (the app's, while an export opens the index again in a worker); another
    process would then take itself for the last user and delete the write-ahead log."""
    try:
        size = path.stat().st_size
    except OSError:
        return  # none there (a new index), or SQLite says what is wrong with it
    if size == 0:
        raise StoreError(
            f"{path} is an empty file, not a kbtui index: give --db a new file name "
            "(or delete it, if it is a leftover)"
        )
    if not _is_sqlite(path):
        raise StoreError(
            f"cannot open the index {path}: it is not a SQLite database. If it is an "
            f"index, its first bytes are damaged: {REPAIR_ADVICE}; if it is another "
            "file, give --db a new file name"
        )


def _is_sqlite(path: Path) -> bool:
    """Whether SQLite reads the file at `path` as a database (it checks the header)."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return True  # cannot tell: opening it for real says what is wrong
    try:
        conn.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as exc:
        return "not a database" not in str(exc)
    finally:
        conn.close()
    return True


def _create(path: Path) -> None:
    """Make a new, empty index at `path` in one step (never an empty file that a process
    opening it at the same moment would take for another program's): its first page is
    written in a file beside it, then linked in place."""
    staged = path.with_name(f"{path.name}.kbtui-new-{os.getpid()}")
    conn = sqlite3.connect(str(staged), isolation_level=None)
    try:
        # For a new index only (and before WAL mode, which fixes it): pages twice the
        # default size make half as many WAL frames and writes for the same rows, which a
        # build of the whole KB feels.
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    _put_in_place(staged, path)  # another process may have made it first: then it is that one


def is_index(path: Path) -> bool:
    """Whether the file at `path` is a kbtui index (a SQLite database with its schema)."""
    try:
        # Opened by SQLite only (see `_refuse_non_index`: a plain open and close of the
        # file would drop this process's locks on it).
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except (OSError, sqlite3.Error):
        return False
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema")}
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return version > 0 and {"meta", "documents"} <= tables


def _set_wal(conn: sqlite3.Connection, seconds: float = 5.0) -> None:
    """Put the database in WAL mode. A switch needs the database to itself, and SQLite says
    "locked" at once, without waiting as the busy timeout would, while another process
    switches the same new index: it is tried again for up to `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def open_db(path: Path) -> Database:
    """Open (creating and migrating as needed) the index database at `path`."""
    try:
        _refuse_non_index(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _create(path)
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 5000")
            _refuse_foreign(conn, path)
            _set_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA cache_size = -65536")
            conn.execute("PRAGMA temp_store = MEMORY")
            migrate(conn)
        except BaseException:
            conn.close()
            raise
    except sqlite3.Error as exc:
        raise StoreError(describe_error(exc, path, opening=True)) from exc
    except OSError as exc:
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
        reason = f"{blocker} is a file, not a folder" if blocker else exc.strerror
        raise StoreError(f"cannot create the index {path}: {reason}") from exc
    return Database(conn, path)


def _read_only(path: Path) -> bool:
    """Whether the file cannot be written: by its permissions for this user, or by its
    mode alone (a file nobody may write, which root could still write)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not os.access(path, os.W_OK) or not mode & 0o222


def _read_only_reason(path: Path) -> str:
    """Which of the index's files (or its folder) cannot be written, and what to do."""
    for suffix, what in (("-shm", "shared-memory file"), ("-wal", "write-ahead log")):
        side = Path(f"{path}{suffix}")
        if _read_only(side) and not _read_only(path):
            return (
                f"the index's {what} {side} is read-only (left by another user or "
                f"program?), not the index itself: when no kbtui uses this KB, delete "
                f"{side.name} (SQLite makes it again) or make it writable"
            )
    if path.exists() and _read_only(path):
        return f"the index {path} is read-only: make it writable, or give --db another place"
    if not os.access(path.parent, os.W_OK):
        return (
            f"the folder {path.parent} is read-only: SQLite cannot make the index's -wal "
            "and -shm files there; make it writable, or give --db another place"
        )
    return f"the index {path} is read-only: make it writable, or give --db another place"


def describe_error(exc: sqlite3.Error, path: Path | None, *, opening: bool = False) -> str:
    """One line saying what is wrong with the index at `path` (None: not known), and what
    to do."""
    reason = str(exc)
    lowered = reason.lower()
    index = "the index" if path is None else f"the index {path}"
    if "disk is full" in lowered or "disk full" in lowered:
        return (
            f"the disk holding {index} is full: free some space and try again (what was "
            "being saved was not saved)"
        )
    if "readonly" in lowered or "read-only" in lowered:
        if path is None:
            return f"{index} is read-only: make it writable, or give --db another place"
        return _read_only_reason(path)
    if "locked" in lowered or "busy" in lowered:
        return (
            f"{index} is busy in another program (it holds the index's write lock: "
            "another kbtui, or a program reading a copied KB); try again when it is done"
        )
    if "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered:
        return f"{index} is damaged ({reason}): {REPAIR_ADVICE}"
    if "unable to open" in lowered:
        return f"cannot open {index} ({reason}): check that its folder can be written"
    if "disk i/o error" in lowered:
        return f"the disk failed while reading or writing {index} ({reason}): try again"
    verb = "cannot open" if opening else "could not use"
    return f"{verb} {index}: {reason}"
