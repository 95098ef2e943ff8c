"""Divergences: 2-5 claims giving competing answers to one question, with cascade impact.

Drafts live in the drafts table (kind `divergence`); resolving an existing divergence is a
draft of kind `resolution` whose body is the resolution note. Export writes both.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from kbtui.formats.checks import CheckId
from kbtui.formats.claims import Check, domain_check, placeholder_check
from kbtui.formats.divergences import (
    RESOLVE_PLACEHOLDER,
    ClaimSide,
    body_skeleton,
    count_check,
    question_check,
)
from kbtui.formats.models import model_dict
from kbtui.ops import desk
from kbtui.ops.curation import curator_name
from kbtui.ops.drafting import Draft, DraftError, claim_domains, get_draft
from kbtui.ops.profile import schema_of
from kbtui.ops.resolver import kb_resolver
from kbtui.store.db import Database
from kbtui.store.index import transaction

_EVIDENCE_RE = re.compile(r"^##\s+Evidence\s*$(.*?)(?=^##\s|^---\s*$|\Z)", re.M | re.S)


class DuplicateDivergence(DraftError):
    """A divergence (file or draft) on exactly these claims exists; `existing` says which."""

    def __init__(self, existing: str) -> None:
        super().__init__(f"a divergence with these claims already exists: {existing}")
        self.existing = existing


@dataclass(frozen=True, slots=True)
class Dependent:
    """A document that depends on a claim, directly (depth 1) or through another (depth 2)."""

    path: str
    kind: str
    title: str
    depth: int
    via: str | None = None


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".md")


class _Claims:
    """Claim paths for references given as paths, file stems or titles (one resolver)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._resolver = kb_resolver(db)
        self._known = self._resolver.paths

    def path(self, ref: str) -> str:
        ref = ref.strip()
        if ref in self._known:
            path: str | None = ref
        elif "/" in ref and ref.endswith(".md"):
            # A path names one file: never another claim of the same name elsewhere.
            raise DraftError(f"no file {ref!r} in the KB")
        else:
            path = self._resolver.resolve(ref.removesuffix(".md"), "x.md").path
        kind = self._db.conn.execute(
            "SELECT kind FROM documents WHERE path = ?", (path,)
        ).fetchone()
        if path is None or kind is None:
            raise DraftError(f"no claim matches {ref!r}")
        if kind[0] != "claim":
            raise DraftError(f"not a claim ({kind[0]}): {path}")
        return path


def resolve_claims(db: Database, refs: list[str]) -> list[str]:
    """Claim paths for references given as paths, file stems or titles."""
    claims = _Claims(db)
    return [claims.path(ref) for ref in refs]


def cascade(db: Database, claim_path: str) -> list[Dependent]:
    """What depends on a claim through `depends_on` and wiki links, two steps deep.

    The beliefs, positions and claims linking to the claim are listed (a source citing it,
    a map or a divergence does not depend on it); the second step follows the claims among
    them, to the beliefs, positions and claims beyond.
    """

    def dependents(path: str) -> list[tuple[str, str, str]]:
        return db.conn.execute(
            "SELECT DISTINCT d.path, d.kind, d.title FROM links l JOIN documents d "
            "ON d.id = l.doc_id WHERE l.resolved_path = ? AND d.kind NOT IN "
            "('map', 'divergence') AND d.path != ? ORDER BY d.kind, d.title",
            (path, path),
        ).fetchall()

    model = schema_of(db).model
    cascading = {kind for kind, spec in model.kinds.items() if spec.cascade}
    found: dict[str, Dependent] = {}
    for path, kind, title in dependents(claim_path):
        if kind in cascading:
            found[path] = Dependent(path, kind, title, 1)
    for first in list(found.values()):
        if first.kind != "claim":
            continue
        for path, kind, title in dependents(first.path):
            if path not in found and path != claim_path and kind in cascading:
                found[path] = Dependent(path, kind, title, 2, first.path)
    return sorted(
        found.values(), key=lambda d: (d.depth, d.kind != "position", d.kind != "belief", d.title)
    )


def _link_name(db: Database, path: str) -> str:
    """The file stem, or the repository path when the stem is not unique (`beliefs`)."""
    stem = _stem(path)
    count = db.conn.execute("SELECT count(*) FROM documents WHERE stem = ?", (stem,)).fetchone()
    return stem if count[0] == 1 else path.removesuffix(".md")


def _strongest_evidence(body: str, source: object) -> str:
    """The first line of the claim's Evidence section; else its `source:`, named as such;
    else that it cites none (never template text: it goes into the file as written)."""
    match = _EVIDENCE_RE.search(body)
    text = match.group(1) if match else ""
    for line in text.splitlines():
        line = line.strip().lstrip("-* ").strip()
        if line:
            return line
    if isinstance(source, str) and source.strip():
        return f"no Evidence section; its source: {' '.join(source.split())}"
    return "none cited in the claim"


def _side(db: Database, path: str) -> ClaimSide:
    doc_id = desk.doc_id_for_path(db, path)
    view = desk.load_document(db, doc_id) if doc_id is not None else None
    if view is None:
        raise DraftError(f"not in the index: {path}")
    lines = []
    for dependent in cascade(db, path):
        via = f" (through [[{_link_name(db, dependent.via)}]])" if dependent.via else ""
        lines.append(f"[[{_link_name(db, dependent.path)}]] ({dependent.kind}){via}")
    return ClaimSide(
        stem=_stem(path),
        core_argument=" ".join(str(view.fields.get("description") or "").split())
        or "no description in the claim",
        strongest_evidence=_strongest_evidence(view.body, view.fields.get("source")),
        cascade=lines,
    )


def _claims_of(db: Database, fields_json: str) -> list[str]:
    """The claims a divergence file names (its typed model, built from its stored fields by
    the profile the index was built with)."""
    fields = json.loads(fields_json or "{}")
    claims = model_dict("divergence", fields, schema_of(db)).get("claims")
    return [str(claim) for claim in claims or []]


def existing_divergence(
    db: Database, stems: list[str], ignore_draft: int | None = None
) -> str | None:
    """The divergence (file, or draft not yet exported) that already links exactly these claims."""
    wanted = {s.removesuffix(".md").casefold() for s in stems}
    for path, fields in db.conn.execute(
        "SELECT path, fields_json FROM documents WHERE kind = 'divergence'"
    ):
        claims = _claims_of(db, fields)
        if {c.removesuffix(".md").casefold() for c in claims} == wanted:
            return str(path)
    for draft_id, claims_json in db.conn.execute(
        "SELECT id, claims_json FROM drafts WHERE kind = 'divergence' AND exported_at IS NULL "
        "AND id IS NOT ?",
        (ignore_draft,),
    ):
        if {c.casefold() for c in json.loads(claims_json)} == wanted:
            return f"draft {draft_id}"
    return None


def _distinct_stems(paths: list[str]) -> list[str]:
    stems: list[str] = []
    for path in paths:
        stem = _stem(path)
        if stem.casefold() not in {s.casefold() for s in stems}:
            stems.append(stem)
    return stems


def new_divergence_draft(
    db: Database,
    claim_refs: list[str],
    who: str | None = None,
    today: date | None = None,
    source_path: str | None = None,
) -> Draft:
    """Start a divergence on 2-5 claims, prefilled from the claims and the link graph."""
    paths = resolve_claims(db, claim_refs)
    stems = _distinct_stems(paths)
    check = count_check(len(stems))
    if check.status == "fail":
        raise DraftError(
            check.message + (" (the same claim was named twice)" if len(stems) < len(paths) else "")
        )
    already = existing_divergence(db, stems)
    if already:
        raise DuplicateDivergence(already)
    unique_paths = [next(p for p in paths if _stem(p) == s) for s in stems]
    sides = [_side(db, path) for path in unique_paths]
    domain = unique_paths[0].split("/")[1] if unique_paths[0].count("/") >= 2 else ""
    body = body_skeleton("<the question the claims disagree about>", sides, "_map")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with transaction(db):
        cursor = db.conn.execute(
            "INSERT INTO drafts (kind, source_path, domain, created, body, who, updated_at, "
            "claims_json, status) VALUES ('divergence', ?, ?, ?, ?, ?, ?, ?, 'open')",
            (
                source_path,
                domain,
                (today or date.today()).isoformat(),
                body,
                who or curator_name(),
                now,
                json.dumps(stems, ensure_ascii=False),
            ),
        )
    return get_draft(db, int(cursor.lastrowid or 0))


def check_divergence(db: Database, draft: Draft) -> list[Check]:
    """The divergence's checks: a question, 2-5 distinct existing claims, not a duplicate."""
    checks = [question_check(draft.title), count_check(len(draft.claims))]
    checks.append(domain_check(draft.domain, claim_domains(db)))
    missing = []
    resolved = []
    resolver = _Claims(db)
    for stem in draft.claims:
        try:
            resolved.append(resolver.path(stem))
        except DraftError:
            missing.append(stem)
    if missing:
        checks.append(
            Check(CheckId.CLAIMS_EXIST, "fail", "Not claims of this KB: " + "; ".join(missing))
        )
    else:
        checks.append(Check(CheckId.CLAIMS_EXIST, "pass", "Every claim exists."))
    # Named twice, however written (a title, a stem, a path): the same file.
    names = {c.casefold() for c in draft.claims}
    if len(names) < len(draft.claims) or len(set(resolved)) < len(resolved):
        checks.append(Check(CheckId.CLAIMS_DISTINCT, "fail", "The same claim is named twice."))
    if not draft.description.strip():
        checks.append(Check(CheckId.DESCRIPTION, "fail", "Say why this disagreement matters."))
    # (Why it matters is filled in from the description at export.)
    checks.append(placeholder_check(draft.body, (RESOLVE_PLACEHOLDER,)))
    duplicate = existing_divergence(db, draft.claims, ignore_draft=draft.id)
    if duplicate:
        checks.append(
            Check(
                CheckId.DUPLICATE,
                "fail",
                f"A divergence with these claims already exists: {duplicate}",
            )
        )
    return checks


def divergences(db: Database) -> list[dict[str, Any]]:
    """Divergence files with their status and claims, open first."""
    rows = []
    for path, title, status, fields in db.conn.execute(
        "SELECT d.path, d.title, coalesce(d.status, ''), d.fields_json FROM documents d "
        "WHERE d.kind = 'divergence' ORDER BY d.status != 'open', d.title"
    ):
        pending = db.conn.execute(
            "SELECT id FROM drafts WHERE kind = 'resolution' AND target_path = ? AND "
            "exported_at IS NULL",
            (path,),
        ).fetchone()
        rows.append(
            {
                "path": path,
                "title": title,
                "status": status,
                "claims": _claims_of(db, fields),
                "resolution_pending": pending is not None,
            }
        )
    return rows


def resolve_divergence(db: Database, path: str, note: str, who: str | None = None) -> Draft:
    """Record a resolution (status resolved plus the note in the body), pending export."""
    if not note.strip():
        raise DraftError("a resolution needs a note: the evidence that settled it")
    row = db.conn.execute("SELECT kind, status FROM documents WHERE path = ?", (path,)).fetchone()
    if row is None or row[0] != "divergence":
        raise DraftError(f"not a divergence: {path}")
    if row[1] == "resolved":
        raise DraftError(f"already resolved: {path}")
    pending = db.conn.execute(
        "SELECT id FROM drafts WHERE kind = 'resolution' AND target_path = ? AND "
        "exported_at IS NULL",
        (path,),
    ).fetchone()
    if pending is not None:
        raise DraftError(
            f"a resolution of this divergence (draft {pending[0]}) is already pending export; "
            "delete that draft to record another"
        )
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with transaction(db):
        cursor = db.conn.execute(
            "INSERT INTO drafts (kind, target_path, created, body, who, updated_at, state, "
            "saved_at, status) VALUES ('resolution', ?, ?, ?, ?, ?, 'saved', ?, 'resolved')",
            (path, date.today().isoformat(), note.strip(), who or curator_name(), now, now),
        )
    return get_draft(db, int(cursor.lastrowid or 0))


def _claim_links(
    db: Database, doc_paths: list[str], origins: tuple[str, ...] | None = None
) -> list[str]:
    marks = ", ".join("?" * len(doc_paths))
    sql = (
        "SELECT DISTINCT l.resolved_path FROM links l JOIN documents d ON d.id = l.doc_id "
        "JOIN documents t ON t.path = l.resolved_path "
        f"WHERE d.path IN ({marks}) AND t.kind = 'claim'"
    )
    params: list[str] = list(doc_paths)
    if origins:
        sql += f" AND l.origin IN ({', '.join('?' * len(origins))})"
        params += list(origins)
    return [row[0] for row in db.conn.execute(sql + " ORDER BY l.id", params)]


def seed_claims(db: Database, path: str) -> list[str]:
    """Claims to offer as a divergence's seed, from a source or a claim.

    A source offers the claims its handoff and body name, and those of every source sharing
    its `linked_set`; a claim offers itself and its `challenged_by` entries.
    """
    row = db.conn.execute(
        "SELECT kind, linked_set FROM documents WHERE path = ?", (path,)
    ).fetchone()
    if row is None:
        return []
    kind, linked_set = row
    if kind == "claim":
        return [path, *[p for p in _claim_links(db, [path], ("challenged_by",)) if p != path]]
    sources = [path]
    if linked_set:
        sources += [
            r[0]
            for r in db.conn.execute(
                "SELECT path FROM documents WHERE kind = 'source' AND linked_set = ? AND path != ? "
                "ORDER BY path",
                (linked_set, path),
            )
        ]
    return _claim_links(db, sources)
