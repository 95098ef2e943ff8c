"""Search snippets whose cost stays bounded whatever the size of the document.

FTS5's own snippet() scores every window of a column against every other match in it: its
time grows with the square of the matches, long for a large file repeating the word
searched, and SQLite cannot be stopped inside it. Here a large document's snippet is cut by
FTS5 from a few kilobytes around the first match of each column, found by a scan of the
column's bytes that stops there: the same tokenizer and highlighting, at a cost bounded by
the window when the word is near the start, and by one linear pass when it is far in.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from typing import Any

from kbtui.store.db import Database

MATCH_START, MATCH_END = "\x02", "\x03"
"""What marks the query's words in a snippet."""

SNIPPET_TOKENS = 12
TOKENIZER = "unicode61 remove_diacritics 2"
"""The full-text index's tokenizer (store/schema.py): windows are cut into words the same way."""
SNIPPET_COLUMNS = ("title", "description", "body")
BODY_WINDOWS = 4  # windows of the body: around the first match of each of the first words
_SCAN_BYTES = 1 << 20
_SCAN_OVERLAP = 4096  # a match across two slices is whole in the first
_BEFORE, _AFTER = 300, 1500  # bytes of text kept either side of a match
_UTF8_LEAD_SLACK = 4  # a slice starting inside a character skips up to 3 bytes of it
_SEPARATORS = r"[\W_]+"  # between the words of a phrase (FTS5 splits "don't" in two)
_FOLD_RANGES = ((0x00C0, 0x0250), (0x0370, 0x0530), (0x1E00, 0x2000))


def _fold(text: str) -> str:
    """Lower case without diacritics, as the tokenizer folds a word."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@functools.lru_cache(maxsize=1)
def _variants() -> dict[str, str]:
    """For a folded letter, the lower-case letters with diacritics that fold to it."""
    variants: dict[str, str] = {}
    for first, end in _FOLD_RANGES:
        for code in range(first, end):
            char = chr(code)
            folded = _fold(char)
            if len(folded) == 1 and folded != char and char == char.lower():
                variants[folded] = variants.get(folded, "") + char
    return variants


def _lower(text: str) -> str:
    """Lower case, one character for one (U+0130 alone lowers to two), so offsets hold."""
    return text.replace("\u0130", "I").lower()


@dataclass(frozen=True, slots=True)
class _Term:
    """A query word as the scan looks for it: in ASCII text, and in any other text."""

    ascii: re.Pattern[str] | None
    other: re.Pattern[str]

    @classmethod
    def parse(cls, fts_term: str) -> _Term | None:
        prefix = fts_term.endswith("*")
        words = [_fold(word) for word in re.findall(r"[^\W_]+", fts_term.strip('"*'))]
        if not words:
            return None
        end = "" if prefix else r"(?![^\W_])"
        variants = _variants()

        def letters(word: str) -> str:
            return "".join(
                f"[{re.escape(char + variants[char])}]" if char in variants else re.escape(char)
                for char in word
            )

        plain = _SEPARATORS.join(re.escape(word) for word in words)
        return cls(
            # A literal first word keeps the regular expression engine's fast scan.
            re.compile(plain + end) if plain.isascii() else None,
            re.compile(_SEPARATORS.join(letters(word) for word in words) + end),
        )


def _first_at_word_start(pattern: re.Pattern[str], text: str, skip_start: bool) -> int | None:
    """Where `pattern` first matches at the start of a word of `text`."""
    found = pattern.search(text)
    while found is not None:
        at = found.start()
        if (at > 0 and not text[at - 1].isalnum()) or (at == 0 and not skip_start):
            return at
        found = pattern.search(text, at + 1)
    return None


def _decode(data: bytes) -> tuple[int, str]:
    """A slice of UTF-8 as text: the bytes skipped at its start (the end of a character cut
    by the slice), and the text (a character cut at its end is left out)."""
    skip = 0
    while skip < len(data) and skip < _UTF8_LEAD_SLACK and data[skip] & 0xC0 == 0x80:
        skip += 1
    return skip, data[skip:].decode("utf-8", "ignore")


def _first_matches(blob: sqlite3.Blob, size: int, terms: list[_Term]) -> list[int]:
    """The byte offsets where the terms first match in the first slice of the column that
    holds a match, read a slice at a time: the scan stops at that slice."""
    for start in range(0, size, _SCAN_BYTES):
        blob.seek(start)
        data = blob.read(_SCAN_BYTES + _SCAN_OVERLAP)
        is_ascii = data.isascii()
        skip, text = (0, data.decode("ascii")) if is_ascii else _decode(data)
        folded = text.lower() if is_ascii else _lower(text)
        found: set[int] = set()
        for term in terms:
            pattern = term.ascii if is_ascii else term.other
            if pattern is None:
                continue
            # A word at the slice's start may go on from the last slice: that one saw it.
            at = _first_at_word_start(pattern, folded, skip_start=start > 0)
            if at is not None:
                found.add(start + skip + (at if is_ascii else len(text[:at].encode("utf-8"))))
        # A match starting in the overlap is whole in this slice; the next one sees it cut.
        if any(offset <= start + _SCAN_BYTES for offset in found):
            return sorted(found)
    return []


def _window(blob: sqlite3.Blob, size: int, at: int) -> tuple[str, int]:
    """The text around byte `at`, cut at spaces, with an ellipsis where the column goes on;
    and the byte offset where the window ends."""
    first, end = max(0, at - _BEFORE), min(size, at + _AFTER)
    blob.seek(first)
    _, text = _decode(blob.read(end - first))
    if first > 0:
        space = text.find(" ", 0, _BEFORE // 2)
        text = "…" + (text[space + 1 :] if space >= 0 else text)
    if end < size:
        space = text.rfind(" ", len(text) - _BEFORE)
        text = (text[:space] if space > 0 else text) + "…"
    return text, end - _BEFORE


def _candidate_windows(db: Database, doc_id: int, terms: list[_Term]) -> tuple[list[str], str]:
    """The document's text around the first match of each term: one window of the title,
    one of the description, up to BODY_WINDOWS of the body ('' where none); and the first
    words of the first column that has text, for a document where no window was found."""
    windows: list[str] = []
    opening = ""
    for column in SNIPPET_COLUMNS:
        found: list[str] = []
        try:
            blob = db.conn.blobopen("documents", column, doc_id, readonly=True)
        except sqlite3.OperationalError:  # NULL: an empty column
            blob = None
        if blob is not None:
            with blob:
                size = len(blob)
                if size and not opening:
                    opening = _window(blob, size, 0)[0]
                covered = -1
                for at in _first_matches(blob, size, terms) if size else []:
                    if at > covered:  # a match inside the last window is shown by it
                        text, covered = _window(blob, size, at)
                        found.append(text)
        count = BODY_WINDOWS if column == "body" else 1
        windows += (found + [""] * count)[:count]
    return windows, opening


SMALL_FILE_BYTES = 32_768
"""A document this small has its snippet cut by the full-text index itself: few matches
can be in it, and FTS5's own snippet() is then the quickest."""


def snippets(db: Database, doc_ids: list[int], fts_terms: list[str]) -> dict[int, str]:
    """A snippet for each document: SNIPPET_TOKENS words around the query's words, these
    marked with MATCH_START and MATCH_END."""
    marks = ", ".join("?" * len(doc_ids))
    small = [
        row[0]
        for row in db.conn.execute(
            f"SELECT id FROM documents WHERE id IN ({marks}) AND size <= ?",
            [*doc_ids, SMALL_FILE_BYTES],
        )
    ]
    found: dict[int, str] = {}
    if small:
        found = dict(
            db.conn.execute(
                "SELECT rowid, snippet(documents_fts, -1, char(2), char(3), '…', ?) "
                f"FROM documents_fts WHERE documents_fts MATCH ? AND rowid IN "
                f"({', '.join('?' * len(small))})",
                [SNIPPET_TOKENS, " OR ".join(fts_terms), *small],
            ).fetchall()
        )
    large = [doc_id for doc_id in doc_ids if doc_id not in found]
    return found | (_windowed_snippets(db, large, fts_terms) if large else {})


def _windowed_snippets(db: Database, doc_ids: list[int], fts_terms: list[str]) -> dict[int, str]:
    """`snippets` for documents of any size: cut from windows around the first matches."""
    terms = [term for term in map(_Term.parse, fts_terms) if term is not None]
    rows: list[list[Any]] = []
    openings: dict[int, str] = {}
    for doc_id in doc_ids:
        windows, openings[doc_id] = _candidate_windows(db, doc_id, terms)
        rows.append([doc_id, *windows])
    # FTS5 picks the column and the words of each snippet among the windows, by its own
    # rules, in a private in-memory table. The query's words are ORed: a window may hold
    # one of them only.
    columns = ["title", "description", *(f"body{i}" for i in range(BODY_WINDOWS))]
    scratch = sqlite3.connect(":memory:")
    try:
        scratch.execute(
            f"CREATE VIRTUAL TABLE windows USING fts5({', '.join(columns)}, tokenize='{TOKENIZER}')"
        )
        scratch.executemany(
            f"INSERT INTO windows(rowid, {', '.join(columns)}) "
            f"VALUES (?, {', '.join('?' * len(columns))})",
            rows,
        )
        snippets: dict[int, str] = dict(
            scratch.execute(
                "SELECT rowid, snippet(windows, -1, char(2), char(3), '…', ?) FROM windows "
                "WHERE windows MATCH ?",
                (SNIPPET_TOKENS, " OR ".join(fts_terms)),
            ).fetchall()
        )
    finally:
        scratch.close()
    for doc_id in doc_ids:
        if doc_id not in snippets:
            # Matched by the index, but by no window (a word FTS5 folds in a way the scan
            # does not): the document's first words.
            words = openings[doc_id].split()
            more = "…" if len(words) > SNIPPET_TOKENS else ""
            snippets[doc_id] = " ".join(words[:SNIPPET_TOKENS]) + more
    return snippets
