"""Building the full-text index of a cold build beside it, while the documents are written.

A cold build writes every document with the FTS triggers paused. Indexing the text after, in
one pass, would run alone, one core busy and the other idle, for a good part of the build. Here a
thread indexes each batch as it is written, into a scratch database beside the index (SQLite
allows one writer per database, so it cannot be the index itself). At the end the scratch
index's tables are copied into the index's own FTS tables, which then hold exactly what a
rebuild would have built: both are built by the same FTS5 table definition, read from the
index. Anything that goes wrong leaves the index as it was (its FTS index marked stale), and
the caller rebuilds it the usual way.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from kbtui.store.db import PAGE_SIZE, Database
from kbtui.store.index import FTS_DEFERRED

FTS_TABLE = "documents_fts"
SHADOW_TABLES = ("data", "idx", "docsize")
"""The FTS5 tables that hold the index itself (`config` holds its settings, kept as they are)."""
SCRATCH_SUFFIX = "-fts"
QUEUE_BATCHES = 8
ROWS_PER_INSERT = 100

FtsRow = tuple[int, Any, Any, Any]
"""A document's id, title, description and body (text, or UTF-8 bytes)."""


class FtsBuilder:
    """Indexes batches of documents in a thread; `install` puts the result in the index."""

    def __init__(self, db: Database, db_path: str) -> None:
        self._db_path = db_path
        # (A scratch file a killed run left is gone: every run starts with `remove_scratch`.)
        self.path = db_path + SCRATCH_SUFFIX
        schema = [
            row[0]
            for row in db.conn.execute(
                "SELECT sql FROM sqlite_schema WHERE name = ?", (FTS_TABLE,)
            ).fetchall()
        ]
        settings = db.conn.execute(
            f"SELECT k, v FROM {FTS_TABLE}_config WHERE k != 'version'"
        ).fetchall()
        # Bounded: when the thread falls behind, the writer waits for it rather than holding
        # the text of a whole large KB in memory.
        self._queue: queue.Queue[Sequence[FtsRow] | None] = queue.Queue(maxsize=QUEUE_BATCHES)
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(schema[0], settings), name="kbtui-fts", daemon=True
        )
        self._thread.start()

    def add(self, rows: Sequence[FtsRow]) -> None:
        """Index these documents (new ones: their ids were never indexed)."""
        if rows and self._error is None:
            self._queue.put(rows)

    def _run(self, schema: str, settings: list[tuple[str, Any]]) -> None:
        conn: sqlite3.Connection | None = None
        stopped = False  # the stop mark was taken from the queue
        try:
            conn = sqlite3.connect(self.path, isolation_level=None)
            # A scratch file, without a journal: if the process dies, the next run deletes it.
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            conn.execute("PRAGMA journal_mode = OFF")
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("PRAGMA cache_size = -16384")
            conn.execute(
                "CREATE TABLE documents (id INTEGER PRIMARY KEY, title TEXT, "
                "description TEXT, body TEXT)"
            )
            conn.execute(schema)
            for key, value in settings:
                conn.execute(
                    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES (?, ?)", (key, value)
                )
            conn.execute("BEGIN")
            while True:
                rows = self._queue.get()
                if rows is None:
                    stopped = True
                    break
                # Many rows per statement: the GIL is released once for all of them, not
                # taken back after each row (while the writer thread holds it, taking it
                # back can wait for a whole switch interval).
                for start in range(0, len(rows), ROWS_PER_INSERT):
                    chunk = rows[start : start + ROWS_PER_INSERT]
                    conn.execute(
                        f"INSERT INTO {FTS_TABLE}(rowid, title, description, body) VALUES "
                        + ", ".join(["(?, ?, ?, CAST(? AS TEXT))"] * len(chunk)),
                        [value for row in chunk for value in row],
                    )
            conn.execute("COMMIT")  # the pending terms are written here: a full disk fails
        except BaseException as exc:  # reported to `install`, which falls back
            self._error = exc
            # Take what the writer still sends (it may be waiting on the full queue) until it
            # says stop, unless it already has.
            while not stopped and self._queue.get() is not None:
                pass
        finally:
            if conn is not None:
                conn.close()

    def install(self) -> bool:
        """Copy the scratch index into the index and mark it current; False (the index left
        as it was) when that could not be done."""
        self._queue.put(None)
        self._thread.join()
        try:
            if self._error is not None:
                return False
            # A connection of its own: the index's connection may hold FTS5 state cached
            # from before, which a commit by another connection makes it read again.
            conn = sqlite3.connect(self._db_path, isolation_level=None, timeout=30)
            try:
                conn.execute("PRAGMA synchronous = NORMAL")  # as the index's connection has
                conn.execute("PRAGMA cache_size = -65536")
                conn.execute("ATTACH DATABASE ? AS scratch", (self.path,))
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for table in SHADOW_TABLES:
                        name = f"{FTS_TABLE}_{table}"
                        conn.execute(f"DELETE FROM main.{name}")
                        conn.execute(f"INSERT INTO main.{name} SELECT * FROM scratch.{name}")
                    conn.execute("DELETE FROM main.meta WHERE key = ?", (FTS_DEFERRED,))
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                conn.close()
            return True
        except sqlite3.Error:
            return False
        finally:
            remove_scratch(self._db_path)

    def abandon(self) -> None:
        """Stop building (the run failed) and delete the scratch file."""
        try:
            self._queue.put(None)
            self._thread.join()
        finally:
            remove_scratch(self._db_path)


def remove_scratch(db_path: str) -> None:
    """Delete a scratch index left beside the index (by a run that was killed)."""
    with contextlib.suppress(OSError):
        os.remove(db_path + SCRATCH_SUFFIX)
