"""Read-side operations over the index: the health check, statistics and search."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from kbtui.formats.checks import Code
from kbtui.ops.interrupt import interruptible
from kbtui.ops.snippets import MATCH_END, MATCH_START
from kbtui.ops.snippets import snippets as cut_snippets
from kbtui.store.db import Database

REPORTED_SEVERITIES = ("error", "warning")
_WORD_RE = re.compile(r"[\w][\w'’]*\*?", re.UNICODE)


@dataclass(frozen=True, slots=True)
class FileProblems:
    """The problems of one file, as the health check reports them."""

    path: str
    kind: str
    problems: list[dict[str, Any]]


def check(
    db: Database,
    include_info: bool = False,
    only: Collection[Code] = (),
    skip: Collection[Code] = (),
) -> list[FileProblems]:
    """Every problem in the index, grouped per file (errors and warnings; info on request).

    `only` keeps the problems of those codes, whatever their severity (naming a code asks
    to see it); `skip` leaves those codes out."""
    if only:
        wanted = [code for code in only if code not in skip]
        where = f"p.code IN ({', '.join('?' * len(wanted))})"
        params: list[str] = list(wanted)
    else:
        severities = ("error", "warning", "info") if include_info else REPORTED_SEVERITIES
        where = f"p.severity IN ({', '.join('?' * len(severities))})"
        params = list(severities)
        if skip:
            where += f" AND p.code NOT IN ({', '.join('?' * len(skip))})"
            params += list(skip)
    rows = db.conn.execute(
        "SELECT d.path, d.kind, p.code, p.severity, p.message, p.line, p.target FROM problems p "
        f"JOIN documents d ON d.id = p.doc_id WHERE {where} "
        "ORDER BY d.path, CASE p.severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, "
        "p.line IS NULL, p.line, p.code",
        params,
    ).fetchall()
    from kbtui.ops.suggest import suggest_targets  # rapidfuzz loads only for the check

    suggestions = suggest_targets(db, (row[6] for row in rows if row[2] == Code.UNRESOLVED_LINK))
    grouped: dict[str, FileProblems] = {}
    for path, kind, code, severity, message, line, target in rows:
        entry = grouped.setdefault(path, FileProblems(path, kind, []))
        problem: dict[str, Any] = {
            "code": code,
            "severity": severity,
            "message": message,
            "line": line,
        }
        if code == Code.UNRESOLVED_LINK:
            problem["target"] = target
            problem["suggestions"] = suggestions.get(target, [])
            if problem["suggestions"]:
                problem["message"] += " (did you mean: " + "; ".join(problem["suggestions"]) + ")"
        entry.problems.append(problem)
    folders = _unreadable_folders(db)
    shown = (not only or Code.UNREADABLE_FOLDER in only) and Code.UNREADABLE_FOLDER not in skip
    return (folders if shown else []) + list(grouped.values())


def _unreadable_folders(db: Database) -> list[FileProblems]:
    """Folders the last index run could not list: their files are not accounted for."""
    row = db.conn.execute("SELECT value FROM meta WHERE key = 'unreadable_folders'").fetchone()
    folders = json.loads(row[0]) if row else []
    spec = Code.UNREADABLE_FOLDER.spec
    return [
        FileProblems(
            folder.rstrip("/") + "/",
            "folder",
            [
                {
                    "code": Code.UNREADABLE_FOLDER.value,
                    "severity": spec.severity,
                    "message": f"cannot list this folder ({reason}); its files are not read, "
                    "and what was indexed from it is kept as it was",
                    "line": None,
                }
            ],
        )
        for folder, reason in folders
    ]


def _counts(db: Database, sql: str) -> dict[str, int]:
    return {
        str(key) if key is not None else "(none)": int(count)
        for key, count in db.conn.execute(sql).fetchall()
    }


def stats(db: Database) -> dict[str, Any]:
    """Counts over the index: documents by kind, sources by status and domain, challenges
    by status, and more."""
    total = int(db.conn.execute("SELECT count(*) FROM documents").fetchone()[0])
    other = db.conn.execute("SELECT value FROM meta WHERE key = 'other_files'").fetchone()
    return {
        "documents": total,
        "other_files": int(other[0]) if other else 0,
        "by_kind": _counts(
            db, "SELECT kind, count(*) FROM documents GROUP BY kind ORDER BY count(*) DESC, kind"
        ),
        "sources_by_status": _counts(
            db,
            "SELECT status, count(*) FROM documents WHERE "
            "kind = 'source' GROUP BY status ORDER BY count(*) DESC",
        ),
        "sources_by_domain": _counts(
            db,
            "SELECT domain, count(*) FROM documents WHERE "
            "kind = 'source' GROUP BY domain ORDER BY count(*) DESC",
        ),
        "claims_by_confidence": _counts(
            db,
            "SELECT confidence, count(*) FROM documents WHERE "
            "kind = 'claim' GROUP BY confidence "
            "ORDER BY count(*) DESC",
        ),
        "challenges_by_status": _counts(
            db,
            "SELECT status, count(*) FROM documents WHERE kind = 'challenge' GROUP BY status "
            "ORDER BY count(*) DESC, status",
        ),
        "links_by_rule": _counts(
            db,
            "SELECT coalesce(rule, 'unresolved'), count(*) FROM links "
            "GROUP BY 1 ORDER BY count(*) DESC",
        ),
        "problems_by_severity": _counts(
            db, "SELECT severity, count(*) FROM problems GROUP BY severity ORDER BY count(*) DESC"
        ),
    }


def _query_words(text: str) -> tuple[list[str], list[str]]:
    """The words a query looks for and those it leaves out, each as an FTS5 string."""
    positive: list[str] = []
    negative: list[str] = []
    for chunk in text.split():
        exclude = chunk.startswith("-") and len(chunk) > 1
        for word in _WORD_RE.findall(chunk):
            prefix = word.endswith("*")
            word = word.rstrip("*")
            if not word:
                continue
            term = '"' + word.replace('"', '""') + '"' + ("*" if prefix else "")
            (negative if exclude else positive).append(term)
    return positive, negative


def fts_query(text: str) -> str | None:
    """Turn any user text into a safe FTS5 query: words ANDed, `-word` excluded, `word*` prefix.

    Returns None when the text holds no searchable word.
    """
    positive, negative = _query_words(text)
    if not positive:
        return None
    query = " ".join(positive)
    if negative:
        query += " NOT " + " NOT ".join(negative)
    return query


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One ranked search result with a snippet around the match."""

    path: str
    kind: str
    title: str
    status: str | None
    domain: str | None
    snippet: str
    rank: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "title": self.title,
            "status": self.status,
            "domain": self.domain,
            "snippet": self.snippet.replace(MATCH_START, "[").replace(MATCH_END, "]"),
            "rank": round(self.rank, 4),
        }


def search(
    db: Database,
    text: str,
    kind: str | None = None,
    status: str | None = None,
    domain: str | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    """Ranked full-text search over titles, descriptions and bodies: documents matching in
    their title or description first, then the others, each group by bm25.

    Ranks inside FTS5 first (no join per match), then fetches rows and snippets for the
    top hits only: fast even when a common word matches most of 100,000 documents. A snippet
    costs about the same whatever the size of its document (see `ops/snippets.py`). ctrl+c stops
    it at once.
    """
    with interruptible(db.conn):
        return _search(db, text, kind, status, domain, limit)


def _search(
    db: Database,
    text: str,
    kind: str | None,
    status: str | None,
    domain: str | None,
    limit: int,
) -> list[SearchHit]:
    query = fts_query(text)
    positive, negative = _query_words(text)
    if query is None:
        return []
    filters = [
        (column, value)
        for column, value in (("kind", kind), ("status", status), ("domain", domain))
        if value
    ]
    ranked = (
        "SELECT rowid, bm25(documents_fts, 10.0, 4.0, 1.0) AS score FROM documents_fts "
        "WHERE documents_fts MATCH ? ORDER BY score"
    )

    def top(match: str, count: int) -> list[tuple[int, float]]:
        if filters:
            where = " AND ".join(f"d.{column} = ?" for column, _ in filters)
            # The order is said again outside: SQLite flattens the subquery and drops its own.
            return db.conn.execute(
                f"SELECT r.rowid, r.score FROM ({ranked}) r JOIN documents d ON d.id = r.rowid "
                f"WHERE {where} ORDER BY r.score LIMIT ?",
                [match, *(value for _, value in filters), count],
            ).fetchall()
        return db.conn.execute(f"{ranked} LIMIT ?", (match, count)).fetchall()

    # Documents matching in their title or description come first, each group ranked by
    # bm25: when they fill the page, the costly ranking of every body match is skipped.
    # A word left out is left out of every column, not only of the title and description.
    in_titles = f"{{title description}} : ({' '.join(positive)})"
    rows = top(" NOT ".join([in_titles, *negative]), limit)
    first = {row[0] for row in rows}
    if len(rows) < limit:
        rest = [row for row in top(query, limit + len(rows)) if row[0] not in first]
        rows += rest[: limit - len(rows)]
    if not rows:
        return []
    scores = {row[0]: row[1] for row in rows}
    marks = ", ".join("?" * len(scores))
    details = {
        row[0]: row[1:]
        for row in db.conn.execute(
            f"SELECT id, path, kind, title, status, domain FROM documents WHERE id IN ({marks})",
            list(scores),
        )
    }
    snippets = cut_snippets(db, list(details), positive)
    # Equal scores (copies of one text, say) are ordered by path, not by document id: ids
    # depend on the order files were indexed in, and the same KB gives the same list.
    order = sorted(
        (doc_id for doc_id in scores if doc_id in details),
        key=lambda doc_id: (doc_id not in first, scores[doc_id], details[doc_id][0]),
    )
    return [
        SearchHit(
            path=details[doc_id][0],
            kind=details[doc_id][1],
            title=details[doc_id][2],
            status=details[doc_id][3],
            domain=details[doc_id][4],
            snippet=snippets[doc_id],
            rank=scores[doc_id],
        )
        for doc_id in order
    ]


def documents_of_kinds(db: Database, kinds: Collection[str]) -> list[tuple[str, str, str]]:
    """(path, kind, title) of every document of `kinds`, by path: what the merge gate reads."""
    if not kinds:
        return []
    rows = db.conn.execute(
        f"SELECT path, kind, title FROM documents WHERE kind IN ({', '.join('?' * len(kinds))}) "
        "ORDER BY path",
        list(kinds),
    )
    return [(str(path), str(kind), str(title)) for path, kind, title in rows]
