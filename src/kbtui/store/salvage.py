"""Reading the curator's work out of a damaged index, as much of it as can be read, and
writing it into a new one.

Only `drafts` and `actions` hold work that no markdown file holds (until export); every other
table is derived from the markdown (and `meta` holds what kbtui writes again on a build).
Rows are read in rowid order, and past a page that cannot be read the reading starts again
after it, so one damaged page loses only its own rows.
"""

from __future__ import annotations

import shutil
import sqlite3
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kbtui.store.db import SQLITE_MAGIC, Database
from kbtui.store.index import set_meta, transaction

CURATOR_TABLES = ("drafts", "actions")
PAGE_SIZES = (8192, 4096, 1024, 2048, 16384, 32768, 65536, 512)
"""Page sizes to try when the header that says it is damaged (kbtui's own size first)."""
HIGHEST_ROWID = 2**63 - 1
WHAT = {"drafts": "drafts", "actions": "curator actions (status changes)"}


def _spans(ids: list[int]) -> str:
    """`[1, 2, 3, 7]` as `1-3, 7`."""
    spans: list[list[int]] = []
    for number in ids:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


@dataclass(slots=True)
class Salvage:
    """What could be read of the curator's tables, and what could not."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    draft_sequence: int = 0
    """The highest draft id ever given (ids of deleted drafts are never given again)."""
    problems: list[str] = field(default_factory=list)
    header_rewritten: bool = False
    meta: dict[str, str] = field(default_factory=dict)
    """The meta entries asked for that could be read: work of the curator's kept there."""


def looks_foreign(path: Path) -> bool:
    """Whether `path` reads as a SQLite database of another program (tables, none of an
    index's): not a damaged index, and not to be moved aside as one."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema")}
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return bool(tables) and not tables & {"documents", "meta", *CURATOR_TABLES}


def reads_fine(path: Path) -> bool:
    """Whether the index at `path` is whole: SQLite's own check passes and the curator's
    tables read through (opened by SQLite only, read-only)."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            return False
        for table in ("drafts", "actions", "documents"):
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return True


def read_curator_work(path: Path, meta_keys: tuple[str, ...] = ()) -> Salvage:
    """The drafts and actions of the index at `path` (with its `-wal` beside it), and its
    meta entries named in `meta_keys` that can be read, read from a copy: the damaged file
    itself is never written."""
    salvage = Salvage()
    with tempfile.TemporaryDirectory(prefix="kbtui-repair-") as folder:
        copy = Path(folder) / "index.sqlite"
        shutil.copyfile(path, copy)
        wal = Path(f"{path}-wal")
        if wal.is_file():
            shutil.copyfile(wal, f"{copy}-wal")
        with _readable(copy, salvage) as conn:
            if conn is None:
                return salvage
            for table in CURATOR_TABLES:
                salvage.rows[table] = _read_table(conn, table, salvage.problems)
            salvage.draft_sequence = _draft_sequence(conn, salvage.rows.get("drafts", []))
            salvage.meta = _read_meta(conn, meta_keys)
    return salvage


def _read_meta(conn: sqlite3.Connection, keys: tuple[str, ...]) -> dict[str, str]:
    """The entries of `keys` that can be read (a damaged meta page loses only its own)."""
    found: dict[str, str] = {}
    for key in keys:
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.DatabaseError:
            continue
        if row is not None and isinstance(row[0], str):
            found[key] = row[0]
    return found


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_schema")}


@contextmanager
def _readable(copy: Path, salvage: Salvage) -> Iterator[sqlite3.Connection | None]:
    """A connection to `copy` that reads its schema (None if none does); the header is
    written again when SQLite does not take it for a database (garbage over its start)."""
    conn: sqlite3.Connection | None = sqlite3.connect(str(copy), isolation_level=None)
    assert conn is not None
    try:
        _tables(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        conn = _with_new_header(copy)
        if conn is None:
            salvage.problems.append(f"the index's schema cannot be read ({exc})")
        else:
            salvage.header_rewritten = True
    try:
        yield conn
    finally:
        if conn is not None:
            conn.close()


def _with_new_header(copy: Path) -> sqlite3.Connection | None:
    """Write a plausible header over the copy's first 100 bytes, for each page size in
    turn, until SQLite reads the schema and finds the curator's tables in it."""
    size = copy.stat().st_size
    wal = Path(f"{copy}-wal").exists()
    original = copy.read_bytes()[:100]
    for page_size in PAGE_SIZES:
        if size < page_size:
            continue
        header = bytearray(100)
        header[:16] = SQLITE_MAGIC
        header[16:18] = struct.pack(">H", 1 if page_size == 65536 else page_size)
        header[18] = header[19] = 2 if wal else 1
        header[21:24] = bytes((64, 32, 32))
        struct.pack_into(">I", header, 24, 1)  # change counter
        struct.pack_into(">I", header, 28, size // page_size)
        struct.pack_into(">I", header, 40, 1)  # schema cookie
        struct.pack_into(">I", header, 44, 4)  # schema format
        struct.pack_into(">I", header, 56, 1)  # UTF-8
        struct.pack_into(">I", header, 92, 1)
        struct.pack_into(">I", header, 96, sqlite3.sqlite_version_info[0] * 1_000_000)
        with copy.open("r+b") as handle:
            handle.write(header)
        conn = sqlite3.connect(str(copy), isolation_level=None)
        try:
            if set(CURATOR_TABLES) & _tables(conn):
                return conn
        except sqlite3.DatabaseError:
            pass
        conn.close()
    with copy.open("r+b") as handle:
        handle.write(original)
    return None


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def _read_table(conn: sqlite3.Connection, table: str, problems: list[str]) -> list[dict[str, Any]]:
    """Every row of `table` that can be read, in rowid order; each unreadable stretch of
    rowids is named in `problems`."""
    try:
        columns = _columns(conn, table)
    except sqlite3.DatabaseError as exc:
        problems.append(f"the {table} table cannot be read at all ({exc})")
        return []
    if not columns:
        problems.append(f"the index has no {table} table (its schema is damaged, or it is old)")
        return []
    listed = ", ".join(f'"{name}"' for name in columns)
    select = f"SELECT rowid, {listed} FROM {table} WHERE rowid > ? ORDER BY rowid"
    rows: list[dict[str, Any]] = []
    after = 0  # rowids are read past this one
    while True:
        try:
            for row in conn.execute(select, (after,)):
                after = row[0]
                rows.append(dict(zip(columns, row[1:], strict=True)))
            return rows
        except sqlite3.DatabaseError as exc:
            resume = _next_readable(conn, table, after)
            # Up to the readable row found, itself included: each pass ends past it.
            found = _read_one_by_one(
                conn, table, listed, columns, after, None if resume is None else resume + 1
            )
            rows += found
            what = WHAT[table]
            if resume is None:
                problems.append(f"{what} after id {after} could not be read ({exc})")
            else:
                read = {row.get("id") for row in found}
                missing = [i for i in range(after + 1, resume) if i not in read]
                if missing:
                    problems.append(
                        f"{what} with id {_spans(missing)} could not be read, if they "
                        f"existed ({exc})"
                    )
            if resume is None:
                return rows
            after = resume


def _next_readable(conn: sqlite3.Connection, table: str, after: int) -> int | None:
    """The first rowid past `after` whose page reads, found by steps that double in size
    (past the damaged page), or None when none does."""
    step = 1
    while after + step <= HIGHEST_ROWID:
        try:
            row = conn.execute(
                f"SELECT rowid FROM {table} WHERE rowid >= ? ORDER BY rowid LIMIT 1",
                (after + step,),
            ).fetchone()
        except sqlite3.DatabaseError:
            step *= 2
            continue
        return None if row is None else int(row[0])
    return None


def _read_one_by_one(
    conn: sqlite3.Connection,
    table: str,
    listed: str,
    columns: list[str],
    after: int,
    until: int | None,
) -> list[dict[str, Any]]:
    """Rows between `after` and `until` read one id at a time (some may sit on pages that
    read), for a gap of at most 100,000 ids."""
    if until is None or until - after > 100_000:
        return []
    found = []
    for rowid in range(after + 1, until):
        try:
            row = conn.execute(f"SELECT {listed} FROM {table} WHERE rowid = ?", (rowid,)).fetchone()
        except sqlite3.DatabaseError:
            continue
        if row is not None:
            found.append(dict(zip(columns, row, strict=True)))
    return found


def _draft_sequence(conn: sqlite3.Connection, drafts: list[dict[str, Any]]) -> int:
    highest = max((int(d["id"]) for d in drafts if isinstance(d.get("id"), int)), default=0)
    try:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'drafts'").fetchone()
    except sqlite3.DatabaseError:
        row = None
    return max(highest, int(row[0]) if row and isinstance(row[0], int) else 0)


def write_curator_work(db: Database, salvage: Salvage) -> dict[str, int]:
    """Write the salvaged rows into the (new) index `db`; returns the rows written per
    table. A row the new schema refuses is named in `salvage.problems`."""
    written = dict.fromkeys(CURATOR_TABLES, 0)
    with transaction(db):
        for table in CURATOR_TABLES:
            known = set(_columns(db.conn, table))
            for row in salvage.rows.get(table, []):
                values = {key: value for key, value in row.items() if key in known}
                names = ", ".join(f'"{key}"' for key in values)
                marks = ", ".join("?" for _ in values)
                try:
                    db.conn.execute(
                        f"INSERT INTO {table} ({names}) VALUES ({marks})", list(values.values())
                    )
                except sqlite3.DatabaseError as exc:
                    problems = salvage.problems
                    problems.append(f"{table}: row {row.get('id')} could not be kept ({exc})")
                    continue
                written[table] += 1
        if salvage.draft_sequence:
            db.conn.execute("DELETE FROM sqlite_sequence WHERE name = 'drafts'")
            db.conn.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES ('drafts', ?)",
                (salvage.draft_sequence,),
            )
        for key, value in salvage.meta.items():
            set_meta(db, key, value)
    return written
