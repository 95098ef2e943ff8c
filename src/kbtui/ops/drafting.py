"""Drafting claims and enrichments: drafts live in SQLite, saved on every change.

A draft starts from a source (and optionally one of its claim candidates), is checked against
the KB's quality rules, compared with existing claims for duplicates, and saved against its
source so that export can write it and update the source's provenance.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

from kbtui.formats.checks import CheckId
from kbtui.formats.claims import (
    ARGUMENT_PLACEHOLDER,
    EVIDENCE_PLACEHOLDER,
    Check,
    body_skeleton,
    clean_candidate,
    confidence_check,
    description_check,
    domain_check,
    evidence_check,
    file_name_check,
    placeholder_check,
    proposition_check,
    same_file_key,
)
from kbtui.formats.errors import KbtuiError
from kbtui.formats.kinds import CLAIM_CONFIDENCES
from kbtui.formats.links import find_links
from kbtui.ops import desk
from kbtui.ops.curation import curator_name
from kbtui.ops.queries import fts_query
from kbtui.ops.resolver import kb_resolver
from kbtui.store.db import Database
from kbtui.store.index import transaction

DUPLICATE_BLOCK: Final = 90
DUPLICATE_SHOW: Final = 60
ENRICHMENT_KINDS: Final = ("extend", "confirm", "challenge")
EDITABLE: Final = (
    "title",
    "description",
    "domain",
    "confidence",
    "source",
    "body",
    "depends_on",
    "challenged_by",
    "secondary_domains",
    "enrichment_kind",
    "target_path",
    "claims",
    "status",
    "challenge_type",
)
_LIST_FIELDS: Final = (
    "depends_on",
    "challenged_by",
    "secondary_domains",
    "different_from",
    "claims",
)


class DraftError(KbtuiError, ValueError):
    """A drafting operation that cannot be done; the message says why in one line."""


class DraftMissing(DraftError):
    """The draft is not in the index: deleted since it was read (`kbtui drafts rm`, say)."""


@dataclass(slots=True)
class Draft:
    """A claim (or enrichment) being written, as stored."""

    id: int
    kind: str
    source_path: str | None
    hint: int | None
    title: str
    description: str
    domain: str
    confidence: str
    source: str
    created: str
    body: str
    state: str
    who: str
    updated_at: str
    depends_on: list[str] = field(default_factory=list)
    challenged_by: list[str] = field(default_factory=list)
    secondary_domains: list[str] = field(default_factory=list)
    different_from: list[str] = field(default_factory=list)
    target_path: str | None = None
    enrichment_kind: str | None = None
    saved_at: str | None = None
    claims: list[str] = field(default_factory=list)
    status: str | None = None
    challenge_type: str | None = None
    """A challenge's type: refutation, boundary, reframe or evidence-gap."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Duplicate:
    """An existing claim that looks like the draft, with a 0-100 similarity score."""

    path: str
    title: str
    score: int

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "title": self.title, "score": self.score}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_COLUMNS = (
    "id, kind, source_path, hint, title, description, domain, confidence, source, created, "
    "body, state, who, updated_at, depends_on_json, challenged_by_json, secondary_domains_json, "
    "different_from_json, target_path, enrichment_kind, saved_at, claims_json, status, "
    "challenge_type"
)


def _from_row(row: tuple[Any, ...]) -> Draft:
    values = list(row)
    lists = [json.loads(v) for v in values[14:18]]
    draft = Draft(*values[:14], *lists, *values[18:21])
    draft.claims = json.loads(values[21])
    draft.status = values[22]
    draft.challenge_type = values[23]
    return draft


def get_draft(db: Database, draft_id: int) -> Draft:
    row = db.conn.execute(f"SELECT {_COLUMNS} FROM drafts WHERE id = ?", (draft_id,)).fetchone()
    if row is None:
        raise DraftMissing(f"no draft {draft_id}")
    return _from_row(row)


def list_drafts(db: Database, include_exported: bool = False) -> list[Draft]:
    where = "" if include_exported else " WHERE exported_at IS NULL"
    rows = db.conn.execute(
        f"SELECT {_COLUMNS} FROM drafts{where} ORDER BY updated_at DESC, id DESC"
    )
    return [_from_row(row) for row in rows]


def delete_draft(db: Database, draft_id: int) -> Draft:
    draft = get_draft(db, draft_id)
    with transaction(db):
        db.conn.execute("DELETE FROM drafts WHERE id = ?", (draft_id,))
    return draft


def _source_view(db: Database, source_path: str) -> desk.DocumentView:
    doc_id = desk.doc_id_for_path(db, source_path)
    view = desk.load_document(db, doc_id) if doc_id is not None else None
    if view is None:
        raise DraftError(f"not in the index: {source_path}")
    if view.kind != "source":
        raise DraftError(f"not a source ({view.kind}): {source_path}")
    return view


def _attribution(view: desk.DocumentView) -> str:
    author = str(view.fields.get("author") or view.fields.get("source") or "").strip()
    year = str(view.fields.get("date") or "")[:4]
    title = view.title
    parts = [p for p in (author, title) if p]
    return ", ".join(parts) + (f" ({year})" if year.isdigit() else "")


def new_claim_draft(
    db: Database,
    source_path: str,
    hint: int | None = None,
    who: str | None = None,
    today: date | None = None,
) -> Draft:
    """Start a claim draft from a source, prefilled from its candidate `hint` (1-based)."""
    view = _source_view(db, source_path)
    title = ""
    if hint is not None:
        candidate = next((c for c in view.candidates if c["ordinal"] == hint), None)
        if candidate is None:
            raise DraftError(
                f"the source has {len(view.candidates)} claim candidate(s); there is no hint {hint}"
            )
        title = clean_candidate(candidate["text"])
    domain = str(view.fields.get("domain") or "")
    connections = [
        link.target
        for link in view.links
        if link.resolved_path
        and link.origin in ("body", "primary_connection")
        and link.resolved_path.startswith(("domains/", "core/", "foundations/"))
        and not link.resolved_path.endswith("_map.md")
    ]
    stem = source_path.rsplit("/", 1)[-1].removesuffix(".md")
    created = (today or date.today()).isoformat()
    body = body_skeleton(
        title or TITLE_PLACEHOLDER,
        stem,
        view.title,
        list(dict.fromkeys(connections))[:6],
        "_map",
    )
    now = _now()
    with transaction(db):
        cursor = db.conn.execute(
            "INSERT INTO drafts (kind, source_path, hint, title, domain, source, created, body, "
            "who, updated_at) VALUES ('claim', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                source_path,
                hint,
                title,
                domain,
                _attribution(view),
                created,
                body,
                who or curator_name(),
                now,
            ),
        )
    return get_draft(db, int(cursor.lastrowid or 0))


TITLE_PLACEHOLDER = "<the claim, as a proposition>"
"""A blank claim's heading, until it has a title."""


def update_draft(db: Database, draft_id: int, **changes: Any) -> Draft:
    """Save changed fields at once (every edit autosaves); lists are stored as JSON."""
    unknown = set(changes) - set(EDITABLE) - {"different_from"}
    if unknown:
        raise DraftError(f"not draft fields: {', '.join(sorted(unknown))}")
    if not changes:
        return get_draft(db, draft_id)
    assignments: list[str] = []
    values: list[Any] = []
    for name, value in changes.items():
        if name in _LIST_FIELDS:
            assignments.append(f"{name}_json = ?")
            values.append(json.dumps([str(v) for v in value or []], ensure_ascii=False))
        else:
            assignments.append(f"{name} = ?")
            values.append(value if value is not None else ("" if name in EDITABLE[:6] else None))
    assignments.append("updated_at = ?")
    values.append(_now())
    with transaction(db):
        cursor = db.conn.execute(
            f"UPDATE drafts SET {', '.join(assignments)} WHERE id = ?", (*values, draft_id)
        )
    if cursor.rowcount == 0:
        raise DraftMissing(f"no draft {draft_id}")
    return get_draft(db, draft_id)


def restore_draft(db: Database, draft: Draft) -> Draft:
    """Store `draft` again as a new draft, with an id of its own, not saved for export: an
    editor whose draft was deleted elsewhere keeps its text this way."""
    lists = [
        json.dumps(values, ensure_ascii=False)
        for values in (
            draft.depends_on,
            draft.challenged_by,
            draft.secondary_domains,
            draft.different_from,
            draft.claims,
        )
    ]
    with transaction(db):
        cursor = db.conn.execute(
            "INSERT INTO drafts (kind, source_path, hint, title, description, domain, "
            "confidence, source, created, body, who, updated_at, depends_on_json, "
            "challenged_by_json, secondary_domains_json, different_from_json, claims_json, "
            "target_path, enrichment_kind, status, challenge_type) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                draft.kind,
                draft.source_path,
                draft.hint,
                draft.title,
                draft.description,
                draft.domain,
                draft.confidence,
                draft.source,
                draft.created,
                draft.body,
                draft.who,
                _now(),
                *lists,
                draft.target_path,
                draft.enrichment_kind,
                draft.status,
                draft.challenge_type,
            ),
        )
    return get_draft(db, int(cursor.lastrowid or 0))


def claim_domains(db: Database) -> list[str]:
    """Domains a new claim may have: those the KB's claims, maps and divergences name in
    their `domain` field (a domain with only a map so far included)."""
    rows = db.conn.execute(
        "SELECT DISTINCT domain FROM documents WHERE kind IN ('claim', 'map', 'divergence') "
        "AND domain IS NOT NULL ORDER BY domain"
    )
    return [row[0] for row in rows]


def claim_confidences(db: Database) -> tuple[str, ...]:
    """The confidences a claim may have: the KB's profile's vocabulary."""
    from kbtui.ops.profile import schema_of  # the profile loads when a draft is checked

    return schema_of(db).vocabulary("claim", "confidence") or CLAIM_CONFIDENCES


def check_draft(db: Database, draft: Draft) -> list[Check]:
    """The KB's quality rules for a claim, on the draft as it stands."""
    stem = draft.source_path.rsplit("/", 1)[-1].removesuffix(".md") if draft.source_path else None
    checks = [
        proposition_check(draft.title),
        file_name_check(draft.title),
        description_check(draft.title, draft.description),
        confidence_check(draft.confidence, claim_confidences(db)),
        domain_check(draft.domain, claim_domains(db)),
        evidence_check(draft.body, stem),
        placeholder_check(draft.body, (ARGUMENT_PLACEHOLDER,)),
    ]
    checks.append(_links_check(db, draft))
    existing = _existing_file(db, draft.title)
    if existing is not None:
        checks.append(
            Check(
                CheckId.EXISTING_CLAIM,
                "fail",
                f"{existing} has this title already: enrich that claim instead (ctrl+n), "
                "or word this one differently.",
            )
        )
    twin = _twin_draft(db, draft)
    if twin is not None:
        checks.append(
            Check(
                CheckId.TWIN_DRAFT,
                "fail",
                f"Draft {twin} has the same title: both would write one claim file "
                "(rename or delete one).",
            )
        )
    return checks


def _existing_file(db: Database, title: str) -> str | None:
    """A claim whose file name is the one `title` would get (but for case or Unicode form):
    wiki links name files by their stem, so two would make every link ambiguous. Claims
    only, through the index of kinds: the editor checks this at each pause in typing, and a
    scan of every document would be felt in a large KB."""
    name = same_file_key(title)
    if not name:
        return None
    rows = db.conn.execute(
        "SELECT path FROM documents WHERE kind = 'claim' AND stem COLLATE NOCASE = ? LIMIT 20",
        (title.strip(),),
    ).fetchall()
    if not title.isascii():
        # SQLite folds the case of ASCII letters only (and knows nothing of Unicode forms):
        # the claims of about that length are compared here.
        sizes = [len(unicodedata.normalize(form, title.strip())) for form in ("NFC", "NFD")]
        rows += db.conn.execute(
            "SELECT path FROM documents WHERE kind = 'claim' AND length(stem) BETWEEN ? AND ?",
            (min(sizes) - 4, max(sizes) + 4),  # (a name in either form; a case fold ß → ss)
        ).fetchall()
    for (path,) in rows:
        if same_file_key(path.rsplit("/", 1)[-1].removesuffix(".md")) == name:
            return str(path)
    return None


def _twin_draft(db: Database, draft: Draft) -> int | None:
    """Another claim draft not yet exported whose title names the same file."""
    name = same_file_key(draft.title)
    if not name:
        return None
    for other_id, title in db.conn.execute(
        "SELECT id, title FROM drafts WHERE kind = 'claim' AND exported_at IS NULL AND id != ?",
        (draft.id,),
    ):
        if same_file_key(title) == name:
            return int(other_id)
    return None


def enrichment_check(draft: Draft) -> Check:
    """Whether an enrichment draft holds evidence of its own (its body)."""
    if not draft.body.strip():
        return Check(CheckId.EVIDENCE, "fail", "Write the evidence in the body.")
    if EVIDENCE_PLACEHOLDER in draft.body:
        return Check(
            CheckId.EVIDENCE, "fail", "Write what the source adds in place of the template."
        )
    return Check(CheckId.EVIDENCE, "pass", "The body is the evidence.")


def failing_message(checks: list[Check]) -> str:
    """The failing checks' messages as one line of sentences."""
    messages = [c.message.rstrip() for c in checks if c.status == "fail"]
    return " ".join(m if m.endswith((".", "?", "!")) else m + "." for m in messages)


def claim_folder(db: Database, domain: str) -> str:
    """Where a new claim of `domain` goes: `domains/<d>`, or the `core/` or `foundations/`
    area of that name when it exists."""
    for root in ("domains", "core", "foundations"):
        row = db.conn.execute(
            "SELECT 1 FROM documents WHERE folder = ? LIMIT 1", (f"{root}/{domain}",)
        ).fetchone()
        if row is not None:
            return f"{root}/{domain}"
    return f"domains/{domain}"


def _links_check(db: Database, draft: Draft) -> Check:
    links = find_links(draft.body, 1, "body")
    if not links:
        return Check(CheckId.LINKS, "pass", "No links to check.")
    resolver = kb_resolver(db)
    # Resolved from where export will write the claim (a `[[_map]]` is that folder's map).
    folder = f"{claim_folder(db, draft.domain)}/x.md" if draft.domain else "x.md"
    broken = sorted(
        {
            link.target
            for link in links
            if link.target and resolver.resolve(link.target, folder).path is None
        }
    )
    if not broken:
        return Check(CheckId.LINKS, "pass", f"All {len(links)} links resolve.")
    from kbtui.ops.suggest import suggest_targets

    hints = suggest_targets(db, broken, limit=1)
    described = "; ".join(
        f"[[{t}]]" + (f" (did you mean [[{hints[t][0]}]]?)" if hints.get(t) else "")
        for t in broken[:5]
    )
    return Check(CheckId.LINKS, "warn", f"{len(broken)} link(s) resolve to nothing: {described}")


def find_duplicates(
    db: Database,
    title: str,
    description: str = "",
    limit: int = 5,
    exclude: list[str] | None = None,
) -> list[Duplicate]:
    """Existing claims most like this title: FTS5 candidates re-ranked by rapidfuzz."""
    from rapidfuzz import fuzz

    # Title words are words, never search operators (`-40%` is not "not 40").
    words = [w.lstrip("-") for w in title.split()]
    words = [w for w in words if len(w) > 3][:24]
    query = fts_query(" ".join(words))
    if not query:
        return []
    any_word = " OR ".join(query.split(" "))
    rows = db.conn.execute(
        "SELECT d.path, d.title, d.description FROM documents_fts f "
        "JOIN documents d ON d.id = f.rowid WHERE documents_fts MATCH ? AND d.kind = 'claim' "
        "ORDER BY bm25(documents_fts, 10.0, 4.0, 1.0) LIMIT 60",
        (f"{{title}} : ({any_word})",),
    ).fetchall()
    skip = set(exclude or [])
    scored = []
    for path, existing, existing_description in rows:
        if path in skip:
            continue
        score = fuzz.token_sort_ratio(title.lower(), existing.lower())
        if description and existing_description:
            score = max(
                score,
                0.8 * score
                + 0.2 * fuzz.token_set_ratio(description.lower(), existing_description.lower()),
            )
        scored.append(Duplicate(path, existing, round(score)))
    scored.sort(key=lambda d: -d.score)
    return [d for d in scored[:limit] if d.score >= DUPLICATE_SHOW]


def blocking_duplicate(db: Database, draft: Draft) -> Duplicate | None:
    """A near-exact existing claim the curator has not declared different."""
    for duplicate in find_duplicates(db, draft.title, draft.description):
        if duplicate.score >= DUPLICATE_BLOCK and duplicate.path not in draft.different_from:
            return duplicate
    return None


def mark_different(db: Database, draft_id: int, path: str) -> Draft:
    """The curator says the draft is different from the claim at `path`."""
    draft = get_draft(db, draft_id)
    return update_draft(db, draft_id, different_from=[*draft.different_from, path])


def save_draft(db: Database, draft_id: int) -> Draft:
    """Mark the draft ready for export, if every check passes and no duplicate blocks it."""
    draft = get_draft(db, draft_id)
    failing = failing_checks(db, draft)
    if failing:
        if draft.kind == "enrichment":
            raise DraftError("the enrichment has no evidence yet: " + failing)
        raise DraftError("checks failing: " + failing)
    if draft.kind == "claim":
        duplicate = blocking_duplicate(db, draft)
        if duplicate is not None:
            raise DraftError(
                f"near-duplicate of '{duplicate.title}' ({duplicate.score}%): "
                "say it is different, or enrich that claim instead"
            )
    with transaction(db):
        db.conn.execute(
            "UPDATE drafts SET state = 'saved', saved_at = ?, updated_at = ? WHERE id = ?",
            (_now(), _now(), draft_id),
        )
    return get_draft(db, draft_id)


def failing_checks(db: Database, draft: Draft) -> str:
    """The checks the draft fails now, as sentences ('' when none): a saved draft edited
    since is checked again at export, and skipped if it fails."""
    return failing_message(checks_for(db, draft))


def checks_for(db: Database, draft: Draft) -> list[Check]:
    """The checks of a draft of any kind (a resolution has none of its own)."""
    if draft.kind == "claim":
        return check_draft(db, draft)
    if draft.kind == "enrichment":
        return [enrichment_check(draft)]
    if draft.kind == "divergence":
        from kbtui.ops.divergence import check_divergence  # divergences build on drafts

        return check_divergence(db, draft)
    if draft.kind == "challenge":
        from kbtui.ops.challenge import check_challenge  # challenges build on drafts

        return check_challenge(db, draft)
    return []


def claim_titles(db: Database) -> list[str]:
    """Every claim's title, for completion in the editors."""
    return [title for title, _ in claim_choices(db)]


def claim_choices(db: Database) -> list[tuple[str, str]]:
    """Every claim's (title, path), by title: what a claim can be picked by."""
    return [
        (str(row[0]), str(row[1]))
        for row in db.conn.execute(
            "SELECT title, path FROM documents WHERE kind = 'claim' ORDER BY title COLLATE NOCASE"
        )
    ]


def claim_stems(db: Database) -> list[str]:
    """Every claim's file stem (how a divergence names its claims)."""
    return [
        row[0]
        for row in db.conn.execute(
            "SELECT stem FROM documents WHERE kind = 'claim' ORDER BY stem COLLATE NOCASE"
        )
    ]


def draft_from_candidate(db: Database, source_path: str, hint: int) -> Draft | None:
    """The draft not yet exported that was started from this candidate of the source."""
    row = db.conn.execute(
        "SELECT id FROM drafts WHERE source_path = ? AND hint = ? AND exported_at IS NULL "
        "AND kind IN ('claim', 'enrichment') ORDER BY id DESC LIMIT 1",
        (source_path, hint),
    ).fetchone()
    return get_draft(db, int(row[0])) if row else None


def enrich_instead(db: Database, draft_id: int, target_path: str, kind: str = "extend") -> Draft:
    """Turn the draft into evidence for an existing claim (an Additional Evidence block)."""
    if kind not in ENRICHMENT_KINDS:
        raise DraftError(f"enrichment must be one of {', '.join(ENRICHMENT_KINDS)}")
    row = db.conn.execute("SELECT kind FROM documents WHERE path = ?", (target_path,)).fetchone()
    if row is None:
        raise DraftError(f"not in the index: {target_path}")
    if row[0] != "claim":
        raise DraftError(f"only a claim can be enriched; {target_path} is a {row[0]}")
    draft = get_draft(db, draft_id)
    # Prefilled from the description, never the title: a draft turned into evidence is often
    # one whose title repeats the claim it enriches.
    evidence = draft.description.strip() or EVIDENCE_PLACEHOLDER
    with transaction(db):
        db.conn.execute(
            "UPDATE drafts SET kind = 'enrichment', target_path = ?, enrichment_kind = ?, "
            "body = ?, updated_at = ? WHERE id = ?",
            (target_path, kind, evidence, _now(), draft_id),
        )
    return get_draft(db, draft_id)
