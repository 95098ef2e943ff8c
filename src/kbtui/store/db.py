"""Opening `kb.sqlite`: WAL, foreign keys, migrations."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from kbtui.store.schema import migrate

PAGE_SIZE = 8192


class Database:
    """The open index: one sqlite3 connection, in autocommit mode (transactions are explicit).

    It is kept this small on purpose: the app opens it on its start-up path, and the
    connection is all the layers above use.
    """

    __slots__ = ("conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def close(self) -> None:
        self.conn.close()


class StoreError(RuntimeError):
    """The index cannot be opened or used; the message says why in one line."""


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
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 5000")
        _refuse_foreign(conn, path)
        # For a new index only (and before WAL mode, which fixes it): pages twice the default
        # size make half as many WAL frames and writes for the same rows, which a build of
        # the whole KB feels. An index made with another size keeps it.
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        _set_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA temp_store = MEMORY")
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        advice = ""
        if "not a database" in str(exc) or "malformed" in str(exc):
            advice = (
                ": move it aside (an index holds the drafts and status changes not yet "
                "exported), and the next command builds a new one"
            )
        raise StoreError(f"cannot open the index {path}: {exc}{advice}") from exc
    except OSError as exc:
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
        reason = f"{blocker} is a file, not a folder" if blocker else exc.strerror
        raise StoreError(f"cannot create the index {path}: {reason}") from exc
    return Database(conn)
