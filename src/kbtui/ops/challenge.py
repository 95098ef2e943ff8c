"""Challenges: a case against one claim, drafted from the claim and exported as
`domains/<domain>/challenge-<slug>.md`.

Drafts live in the drafts table (kind `challenge`): `target_path` is the claim challenged,
`challenge_type` its type, `status` the status the file is written with (open).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from kbtui.formats.challenges import (
    CASE_PLACEHOLDER,
    TITLE_PLACEHOLDER,
    body_skeleton,
    confidence_check,
    file_name,
    name_check,
    type_check,
)
from kbtui.formats.checks import CheckId
from kbtui.formats.claims import (
    Check,
    description_check,
    domain_check,
    placeholder_check,
    proposition_check,
    same_file_key,
)
from kbtui.ops.curation import curator_name
from kbtui.ops.divergence import resolve_claims
from kbtui.ops.drafting import Draft, claim_domains, claim_folder, get_draft
from kbtui.ops.profile import schema_of
from kbtui.store.db import Database
from kbtui.store.index import transaction

__all__ = [
    "CASE_PLACEHOLDER",
    "TITLE_PLACEHOLDER",
    "challenge_path",
    "challenge_types",
    "challenges",
    "check_challenge",
    "new_challenge_draft",
    "open_challenges",
]


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".md")


def challenge_types(db: Database) -> tuple[str, ...]:
    """The challenge types the KB's profile allows."""
    return schema_of(db).vocabulary("challenge", "challenge_type")


def challenge_path(db: Database, draft: Draft) -> str:
    """Where export writes the challenge: beside the claims of its domain."""
    return f"{claim_folder(db, draft.domain)}/{file_name(draft.title.strip())}"


def new_challenge_draft(
    db: Database,
    claim_ref: str,
    who: str | None = None,
    today: date | None = None,
) -> Draft:
    """Start a challenge of a claim (named by path, file stem or title), prefilled from it:
    its title as `target_claim`, its folder's domain, today's date, the body's skeleton."""
    path = resolve_claims(db, [claim_ref])[0]
    domain = schema_of(db).domain_of(path) or ""
    body = body_skeleton(TITLE_PLACEHOLDER, _stem(path), "_map")
    now = _now()
    with transaction(db):
        cursor = db.conn.execute(
            "INSERT INTO drafts (kind, target_path, domain, created, body, who, updated_at, "
            "status) VALUES ('challenge', ?, ?, ?, ?, ?, ?, 'open')",
            (
                path,
                domain,
                (today or date.today()).isoformat(),
                body,
                who or curator_name(),
                now,
            ),
        )
    return get_draft(db, int(cursor.lastrowid or 0))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _target_check(db: Database, draft: Draft) -> Check:
    row = (
        db.conn.execute(
            "SELECT kind FROM documents WHERE path = ?", (draft.target_path,)
        ).fetchone()
        if draft.target_path
        else None
    )
    if row is None:
        return Check(
            CheckId.TARGET_CLAIM,
            "fail",
            f"The claim it challenges is no longer in the KB: {draft.target_path or '(none)'}",
        )
    if row[0] != "claim":
        return Check(CheckId.TARGET_CLAIM, "fail", f"Not a claim ({row[0]}): {draft.target_path}")
    return Check(CheckId.TARGET_CLAIM, "pass", f"Challenges: {_stem(draft.target_path or '')}.")


def _same_open_challenge(db: Database, draft: Draft) -> str | None:
    """An open challenge file, or another challenge draft not yet exported, with this title."""
    key = same_file_key(draft.title)
    if not key:
        return None
    for path, title in db.conn.execute(
        "SELECT path, title FROM documents WHERE kind = 'challenge' AND status = 'open'"
    ):
        if same_file_key(title) == key:
            return str(path)
    for other_id, title in db.conn.execute(
        "SELECT id, title FROM drafts WHERE kind = 'challenge' AND exported_at IS NULL AND id != ?",
        (draft.id,),
    ):
        if same_file_key(title) == key:
            return f"draft {other_id}"
    return None


def check_challenge(db: Database, draft: Draft) -> list[Check]:
    """The challenge's checks: a claim to challenge, a type, a proposition that names a file
    of its own, a description, and no open challenge of the same title."""
    schema = schema_of(db)
    title = draft.title.strip()
    taken = bool(title) and (
        db.conn.execute(
            "SELECT 1 FROM documents WHERE path = ?", (challenge_path(db, draft),)
        ).fetchone()
        is not None
    )
    checks = [
        _target_check(db, draft),
        type_check(draft.challenge_type, schema.vocabulary("challenge", "challenge_type")),
        proposition_check(title),
        name_check(title, taken),
        description_check(title, draft.description),
        confidence_check(draft.confidence, schema.vocabulary("challenge", "confidence")),
        domain_check(draft.domain, claim_domains(db)),
        placeholder_check(draft.body, (CASE_PLACEHOLDER,)),
    ]
    same = _same_open_challenge(db, draft)
    if same is not None:
        checks.append(
            Check(
                CheckId.SAME_CHALLENGE,
                "fail",
                f"An open challenge has this title already: {same}",
            )
        )
    return checks


def open_challenges(db: Database, claim_path: str) -> list[dict[str, Any]]:
    """The open challenge files whose `target_claim` is this claim."""
    return _rows(
        db,
        "SELECT DISTINCT c.path, c.title, coalesce(c.status, ''), "
        "coalesce(json_extract(c.fields_json, '$.challenge_type'), '') FROM links l "
        "JOIN documents c ON c.id = l.doc_id WHERE c.kind = 'challenge' AND "
        "l.origin = 'target_claim' AND l.resolved_path = ? AND c.status = 'open' "
        "ORDER BY c.title",
        (claim_path,),
    )


def challenges(db: Database) -> list[dict[str, Any]]:
    """Every challenge file with its status, type and target claim; open ones first."""
    rows = _rows(
        db,
        "SELECT c.path, c.title, coalesce(c.status, ''), "
        "coalesce(json_extract(c.fields_json, '$.challenge_type'), '') FROM documents c "
        "WHERE c.kind = 'challenge' ORDER BY coalesce(c.status, '') != 'open', c.title",
        (),
    )
    for row in rows:
        target = db.conn.execute(
            "SELECT l.target, l.resolved_path FROM links l JOIN documents c ON c.id = l.doc_id "
            "WHERE c.path = ? AND l.origin = 'target_claim' ORDER BY l.id LIMIT 1",
            (row["path"],),
        ).fetchone()
        row["target_claim"] = target[0] if target else None
        row["target_path"] = target[1] if target else None
    return rows


def _rows(db: Database, sql: str, params: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {"path": path, "title": title, "status": status, "challenge_type": kind}
        for path, title, status, kind in db.conn.execute(sql, params)
    ]
