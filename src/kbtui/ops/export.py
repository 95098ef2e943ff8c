"""Export curator work back to markdown: new claims, enrichments, source provenance and status.

`plan_export` computes every file to add or change (with its diff) without writing anything;
`apply_export` writes them atomically, never over a file that changed since it was read, never
outside the KB, and marks the work exported so that running export again is a no-op.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import os
import sqlite3
import stat
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from kbtui.formats.challenges import CASE_PLACEHOLDER, ChallengeText, render_challenge
from kbtui.formats.checks import BLOCKS_EXPORT
from kbtui.formats.claims import (
    ARGUMENT_PLACEHOLDER,
    ClaimText,
    confidence_check,
    domain_check,
    enrichment_block,
    evidence_present,
    file_name_check,
    normalise_newlines,
    place_evidence,
    render_claim,
    resolution_present,
    same_file_key,
    with_heading,
    without_placeholders,
)
from kbtui.formats.divergences import (
    RESOLVE_PLACEHOLDER,
    WHY_PLACEHOLDER,
    DivergenceText,
    render_divergence,
    slug,
)
from kbtui.formats.edit import (
    Collapsed,
    EditError,
    add_to_list,
    collapse_duplicate_keys,
    set_scalar,
)
from kbtui.formats.errors import KbtuiError
from kbtui.ops import curation, drafting
from kbtui.ops.atomic import (
    atomic_write,
    exchange,
    fsync_folder,
    remove_leftover_temporaries,
    with_suppressed_unlink,
    write_temporary,
)
from kbtui.ops.profile import schema_of
from kbtui.ops.provenance import bare_title, listed_names, source_provenance
from kbtui.store.db import Database
from kbtui.store.index import transaction


class ExportError(KbtuiError):
    """Export cannot run at all; the message says why in one line."""


@dataclass(slots=True)
class FileChange:
    """One file export adds or changes, the work it carries, and whether it can be written."""

    path: str
    action: str
    before: bytes | None
    after: bytes
    reasons: list[str] = field(default_factory=list)
    draft_ids: list[int] = field(default_factory=list)
    action_ids: list[int] = field(default_factory=list)
    skipped: str | None = None
    written: bool = False
    conflict: str | None = None
    """Written, but another program wrote into the file it replaced meanwhile: where its
    text was kept."""
    source: bool = False
    """The file is a source whose provenance or status the export records."""
    old_path: str | None = None
    """For a `move`: where the file is now; `path` is where its new text goes."""
    placed: bool = False
    """For a move: its new text is in place already (an export cut short put it there)."""

    def diff(self) -> str:
        if self.action == "modify" and not self.after:
            return ""  # skipped before its new text was made: nothing would change
        old = (self.before or b"").decode("utf-8", errors="replace").splitlines(keepends=True)
        new = self.after.decode("utf-8", errors="replace").splitlines(keepends=True)
        return "".join(
            difflib.unified_diff(
                old,
                new,
                f"a/{self.old_path or self.path}" if self.before is not None else "/dev/null",
                f"b/{self.path}",
                n=2,
            )
        )

    def counts(self) -> tuple[int, int]:
        added = removed = 0
        for line in self.diff().splitlines():
            if line.startswith("+") and not line.startswith("+++"):
                added += 1
            elif line.startswith("-") and not line.startswith("---"):
                removed += 1
        return added, removed

    def as_dict(self, with_diff: bool = True) -> dict[str, Any]:
        added, removed = self.counts()
        data: dict[str, Any] = {
            "path": self.path,
            "action": self.action,
            "reasons": self.reasons,
            "added_lines": added,
            "removed_lines": removed,
            "skipped": self.skipped,
            "written": self.written,
            "conflict": self.conflict,
            "moved_from": self.old_path,
        }
        if with_diff:
            data["diff"] = self.diff()
        return data


@dataclass(slots=True)
class ExportPlan:
    """Everything export would write."""

    changes: list[FileChange] = field(default_factory=list)
    unchanged: list[FileChange] = field(default_factory=list)
    """Work whose file already says what it would write (a previous export was cut short)."""
    errors: list[str] = field(default_factory=list)
    """What went wrong after files were written (the index could not record them)."""

    @property
    def writable(self) -> list[FileChange]:
        return [c for c in self.changes if c.skipped is None]

    @property
    def skipped(self) -> list[FileChange]:
        return [c for c in self.changes if c.skipped is not None]


@dataclass(frozen=True, slots=True)
class PendingStatus:
    """A source's status change not yet exported."""

    to_status: str
    note: str | None
    action_ids: list[int]
    from_status: str | None
    """The status the file said under the curator's change (`curation.status_base`)."""


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _inside(root: Path, relative: str) -> Path:
    """The absolute path of `relative`, refusing anything that would land outside `root`."""
    target = (root / relative).resolve()
    real_root = root.resolve()
    if os.path.commonpath([real_root, target]) != str(real_root) or target == real_root:
        raise ExportError(f"refusing to write outside the KB: {relative!r}")
    return target


def _indexed(db: Database, path: str) -> tuple[str, set[str]] | None:
    row = db.conn.execute("SELECT id, sha256 FROM documents WHERE path = ?", (path,)).fetchone()
    if row is None:
        return None
    codes = {r[0] for r in db.conn.execute("SELECT code FROM problems WHERE doc_id = ?", (row[0],))}
    return row[1], codes


def _read_current(root: Path, db: Database, path: str, change: FileChange) -> str | None:
    """The file's text as indexed, or None (with `change.skipped` saying why)."""
    indexed = _indexed(db, path)
    if indexed is None:
        change.skipped = (
            "the file is gone (deleted, or renamed and edited since): delete the drafts "
            "or undo the status change made on it"
        )
        return None
    sha, codes = indexed
    unsafe = sorted(codes & BLOCKS_EXPORT)
    if unsafe:
        change.skipped = "not rewritten: its frontmatter has problems (" + ", ".join(unsafe) + ")"
        if unsafe == ["duplicate-key"]:
            change.skipped += f"; kbtui collapse-keys '{path}' shows how to write each key once"
        return None
    try:
        data = read_regular(_inside(root, path))
    except (ExportError, _Refused) as exc:  # a symlink out of the KB, a folder, a pipe…
        change.skipped = str(exc)
        return None
    if _digest(data) != sha:
        change.skipped = "changed on disk since it was indexed: re-index and export again"
        return None
    if _read_only(root, path):
        # Known now, not only when writing: the files sharing its work wait with it.
        change.skipped = READ_ONLY
        return None
    change.before = data
    return data.decode("utf-8")


READ_ONLY = "the file is read-only: not written"


def _read_only(root: Path, path: str) -> bool:
    """Whether the file at `path` has no write permission (as a curator marks a file not to
    be touched; even root, who could write it anyway, leaves it alone)."""
    try:
        return not (root / path).stat().st_mode & 0o222
    except OSError:
        return False


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".md")


def _newline_of(text: str) -> str:
    """The line ending a file uses: that of its last ended line (`\\n` when it has none)."""
    end = text.rfind("\n")
    return "\r\n" if end > 0 and text[end - 1] == "\r" else "\n"


def plan_export(db: Database, root: Path, who: str, today: date | None = None) -> ExportPlan:
    """Every file the pending work would add or change, with diffs; nothing is written."""
    day = (today or date.today()).isoformat()
    _follow_moves(db)
    plan = ExportPlan()
    drafts = [d for d in drafting.list_drafts(db) if d.state == "saved"]
    statuses = {
        row[0]: PendingStatus(
            row[1],
            row[2],
            [int(i) for i in str(row[3]).split(",")],
            curation.status_base(db, row[0]),
        )
        for row in db.conn.execute(
            "SELECT p.path, p.to_status, p.note, (SELECT group_concat(a.id) FROM actions a "
            "WHERE a.path = p.path AND a.exported_at IS NULL) FROM pending_status p"
        ).fetchall()
    }
    extracted: dict[str, list[tuple[str, int]]] = defaultdict(list)
    enriched: dict[str, list[tuple[str, int]]] = defaultdict(list)
    blocks: dict[str, list[drafting.Draft]] = defaultdict(list)
    challenged: dict[str, list[tuple[str, int]]] = defaultdict(list)
    domains = drafting.claim_domains(db)
    for draft in drafts:
        if draft.kind == "claim":
            plan.changes.append(_new_claim(db, root, draft, domains))
            if draft.source_path:
                extracted[draft.source_path].append((draft.title.strip(), draft.id))
        elif draft.kind == "enrichment" and draft.target_path:
            blocks[draft.target_path].append(draft)
            if draft.source_path:
                enriched[draft.source_path].append((_stem(draft.target_path), draft.id))
        elif draft.kind == "divergence":
            plan.changes.append(_new_divergence(db, root, draft))
        elif draft.kind == "challenge":
            added = _new_challenge(db, root, draft)
            plan.changes.append(added)
            if draft.target_path:
                # The claim names its challenge, in the same group of writes.
                challenged[draft.target_path].append((_stem(added.path), draft.id))
        elif draft.kind == "resolution" and draft.target_path:
            plan.changes.append(_resolution(db, root, draft))
    enrichments: dict[str, FileChange] = {}
    for target in dict.fromkeys([*blocks, *challenged]):
        enrichments[target] = _enrichment(
            db, root, target, blocks.get(target, []), who, day, challenged.get(target)
        )
        plan.changes.append(enrichments[target])
    for source in sorted(set(statuses) | set(extracted) | set(enriched)):
        plan.changes.append(
            _source_update(
                db,
                root,
                source,
                statuses.get(source),
                extracted[source],
                enriched[source],
                who,
                day,
            )
        )
    _skip_same_names(plan.changes)
    # A claim draft is written only with its source's provenance, and the other way round:
    # a file skipped holds back every file sharing a draft with it, and so on, transitively
    # (a skipped claim holds back its source, which holds back the source's other claims).
    # A claim enriched from several sources is the exception: it takes the evidence of the
    # sources that can be written, and the rest waits for the next export.
    blocked: set[int] = set()
    while True:
        now = {i for c in plan.changes if c.skipped for i in c.draft_ids}
        if now == blocked:
            break
        blocked = now
        for number, change in enumerate(plan.changes):
            if change.skipped is not None or not set(change.draft_ids) & blocked:
                continue
            kept = [d for d in blocks.get(change.path, []) if d.id not in blocked]
            live = [c for c in challenged.get(change.path, []) if c[1] not in blocked]
            if (kept or live) and change is enrichments.get(change.path):
                enrichments[change.path] = _enrichment(db, root, change.path, kept, who, day, live)
                plan.changes[number] = enrichments[change.path]
            else:
                change.skipped = "waits for a related file that cannot be written now"
    plan.unchanged = [c for c in plan.changes if not c.skipped and c.before == c.after]
    plan.changes = [c for c in plan.changes if c.skipped or c.before != c.after]
    return plan


def _follow_moves(db: Database) -> None:
    """Work pending on a queued source that an export cut short moved already (its file is
    in the archive now, the queue file gone, the move not yet recorded) follows it there."""
    schema = schema_of(db)
    pending = {
        row[0]
        for row in db.conn.execute(
            "SELECT source_path FROM drafts WHERE exported_at IS NULL AND source_path IS NOT "
            "NULL UNION SELECT path FROM actions WHERE exported_at IS NULL"
        )
    }
    moves = []
    for path in pending:
        rule = schema.kind_spec("source").archive
        if rule is None or not path.startswith(rule.source_folder):
            continue
        moved = rule.folder + path[len(rule.source_folder) :]
        indexed = db.conn.execute(
            "SELECT path FROM documents WHERE path IN (?, ?)", (path, moved)
        ).fetchall()
        if [row[0] for row in indexed] == [moved]:
            moves.append((moved, path))
    if moves:
        with transaction(db):
            db.conn.executemany(
                "UPDATE drafts SET source_path = ? WHERE source_path = ? AND exported_at IS NULL",
                moves,
            )
            db.conn.executemany(
                "UPDATE actions SET path = ? WHERE path = ? AND exported_at IS NULL", moves
            )


def _skip_same_names(changes: list[FileChange]) -> None:
    """New files that would take the same name (or names a case-insensitive file system
    takes for the same) are all skipped: which draft to keep is the curator's call."""
    by_name: dict[str, list[FileChange]] = defaultdict(list)
    for change in changes:
        if change.action == "add" and change.skipped is None:
            by_name[same_file_key(change.path)].append(change)
    for same in by_name.values():
        if len(same) > 1:
            drafts = ", ".join(str(i) for c in same for i in c.draft_ids)
            for change in same:
                change.skipped = f"drafts {drafts} would write the same file: rename or delete one"


def _guard_new_file(root: Path, change: FileChange) -> FileChange:
    """A new file stays inside the KB and never replaces a different existing file.

    The same bytes already on disk (an export cut short) make the change a no-op.
    """
    try:
        target = _inside(root, change.path)
    except ExportError as exc:
        change.skipped = str(exc)
        return change
    try:
        kind = not_a_file(os.lstat(target).st_mode)
    except FileNotFoundError:
        kind = ""
    except OSError as exc:
        change.skipped = f"cannot look at this path: {exc.strerror or exc}"
        return change
    if kind:
        # Never opened: a named pipe would wait for a writer forever.
        change.skipped = f"{kind} is at this path, not a file: not written"
        return change
    if kind is None:
        try:
            existing = read_regular(target)
        except _Refused as exc:
            change.skipped = str(exc)
            return change
        if existing != change.after:
            change.skipped = "a different file with this name already exists"
        change.before = existing
        return change
    # A name that differs only in case (or in Unicode form) is the same file on macOS and
    # Windows: a checkout there would have one file for the two.
    key = same_file_key(target.name)
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            if same_file_key(entry.name) == key:
                change.skipped = (
                    f"{entry.name!r} is there already, a name that macOS and Windows take "
                    "for the same file: enrich that claim, or word the title differently"
                )
                break
    return change


def _new_claim(db: Database, root: Path, draft: drafting.Draft, domains: list[str]) -> FileChange:
    folder = drafting.claim_folder(db, draft.domain)
    path = f"{folder}/{draft.title.strip()}.md"
    claim = ClaimText(
        title=draft.title.strip(),
        domain=draft.domain,
        description=draft.description.strip(),
        confidence=draft.confidence,
        source=draft.source.strip(),
        created=draft.created,
        depends_on=draft.depends_on,
        challenged_by=draft.challenged_by,
        secondary_domains=draft.secondary_domains,
        body=with_heading(
            without_placeholders(draft.body, (ARGUMENT_PLACEHOLDER,)), draft.title.strip()
        ),
    )
    data = render_claim(claim).encode("utf-8")
    change = FileChange(path, "add", None, data, [f"new claim (draft {draft.id})"], [draft.id])
    name = file_name_check(claim.title)
    if name.status == "fail":
        change.skipped = "the title cannot be a file name: " + name.message
        return change
    # A saved draft edited since must still make a valid claim file: the checks guarding
    # that (not those of its quality, the curator's call at saving) are run again here.
    checks = (
        confidence_check(draft.confidence, drafting.claim_confidences(db)),
        domain_check(draft.domain, domains),
    )
    failing = [check.message for check in checks if check.status == "fail"]
    if not claim.description:
        failing.append("The description is empty.")
    if failing:
        change.skipped = "not a valid claim (edited since it was saved?): " + " ".join(failing)
        return change
    return _guard_new_file(root, change)


def _new_divergence(db: Database, root: Path, draft: drafting.Draft) -> FileChange:
    question = draft.title.strip()
    path = f"{drafting.claim_folder(db, draft.domain)}/divergence-{slug(question)}.md"
    body = draft.body
    if body.startswith("# "):
        body = f"# {question}" + body[body.find("\n") if "\n" in body else len(body) :]
    # Why it matters is the description, where the skeleton's line was not replaced.
    if draft.description.strip():
        body = body.replace(WHY_PLACEHOLDER, draft.description.strip(), 1)
    body = without_placeholders(body, (WHY_PLACEHOLDER, RESOLVE_PLACEHOLDER))
    text = render_divergence(
        DivergenceText(
            question=question,
            domain=draft.domain,
            description=draft.description.strip(),
            status=draft.status or "open",
            claims=draft.claims,
            surfaced_by=draft.who,
            created=draft.created,
            body=body,
        )
    )
    change = FileChange(
        path, "add", None, text.encode("utf-8"), [f"new divergence (draft {draft.id})"], [draft.id]
    )
    from kbtui.ops.divergence import check_divergence  # divergences build on drafts

    failing = drafting.failing_message(check_divergence(db, draft))
    if failing:
        change.skipped = "its checks fail (edited since it was saved?): " + failing
        return change
    return _guard_new_file(root, change)


def _new_challenge(db: Database, root: Path, draft: drafting.Draft) -> FileChange:
    from kbtui.ops import challenge  # challenges build on drafts

    title = draft.title.strip()
    target = draft.target_path or ""
    text = render_challenge(
        ChallengeText(
            title=title,
            target_claim=_stem(target),
            challenge_type=draft.challenge_type or "",
            status=draft.status or "open",
            confidence=draft.confidence,
            source=draft.source,
            created=draft.created,
            description=draft.description.strip(),
            body=with_heading(without_placeholders(draft.body, (CASE_PLACEHOLDER,)), title),
        )
    )
    change = FileChange(
        challenge.challenge_path(db, draft),
        "add",
        None,
        text.encode("utf-8"),
        [f"new challenge (draft {draft.id})"],
        [draft.id],
    )
    change = _guard_new_file(root, change)
    if change.skipped is not None or change.before == change.after:
        # (The same bytes on disk: an export cut short wrote it, and the checks would find
        # it as a file taking its name.)
        return change
    failing = drafting.failing_message(challenge.check_challenge(db, draft))
    if failing:
        change.skipped = "its checks fail (edited since it was saved?): " + failing
    return change


def _resolution(db: Database, root: Path, draft: drafting.Draft) -> FileChange:
    assert draft.target_path is not None
    change = FileChange(
        draft.target_path, "modify", None, b"", [f"resolved (draft {draft.id})"], [draft.id]
    )
    text = _read_current(root, db, draft.target_path, change)
    if text is None:
        return change
    if resolution_present(text, draft.body):
        change.after = change.before or b""  # written by an export that could not finish
        return change
    try:
        text = set_scalar(text, "status", "resolved")
    except EditError as exc:
        change.skipped = f"not rewritten: {exc}"
        return change
    newline = _newline_of(text)
    block = (
        f"\n## Resolution\n\n{normalise_newlines(draft.body.strip())}\n\n"
        f"*Resolved: {draft.created} | By: {draft.who}*\n"
    ).replace("\n", newline)
    # Before Relevant Notes and Topics, which end a divergence as they end a claim.
    change.after = place_evidence(text, block, newline).encode("utf-8")
    return change


def _enrichment(
    db: Database,
    root: Path,
    target: str,
    drafts: list[drafting.Draft],
    who: str,
    day: str,
    challenges: list[tuple[str, int]] | None = None,
) -> FileChange:
    """The claim at `target` with the evidence of `drafts`, and named in `challenged_by`
    by the new challenges (stem, draft id) that target it: one change of the file."""
    challenges = challenges or []
    change = FileChange(
        target,
        "modify",
        None,
        b"",
        [f"additional evidence (draft {d.id})" for d in drafts]
        + [f"challenged_by +{stem}" for stem, _ in challenges],
        [d.id for d in drafts] + [draft_id for _, draft_id in challenges],
    )
    text = _read_current(root, db, target, change)
    if text is None:
        return change
    newline = _newline_of(text)
    blocks = ""
    for draft in drafts:
        stem = _stem(draft.source_path) if draft.source_path else "unknown-source"
        if evidence_present(text, draft.body, stem):
            continue  # written by an export that could not finish: not written twice
        kind = draft.enrichment_kind or "extend"
        blocks += enrichment_block(kind, draft.body, stem, day, who, newline)
    if blocks:
        text = place_evidence(text, blocks, newline)
    listed = _challengers(db, target)
    new = [stem for stem, _ in challenges if stem not in listed]
    if new:
        try:
            text = add_to_list(text, "challenged_by", list(dict.fromkeys(new)))
        except EditError as exc:
            change.skipped = f"not rewritten: {exc}"
            return change
    change.after = text.encode("utf-8")
    return change


def _challengers(db: Database, claim: str) -> set[str]:
    """What the claim's `challenged_by` names already, as bare titles or stems."""
    row = db.conn.execute("SELECT fields_json FROM documents WHERE path = ?", (claim,)).fetchone()
    fields = json.loads(row[0]) if row and row[0] else {}
    return listed_names(fields.get("challenged_by"))


def _source_update(
    db: Database,
    root: Path,
    source: str,
    status: PendingStatus | None,
    claims: list[tuple[str, int]],
    enrichments: list[tuple[str, int]],
    who: str,
    day: str,
) -> FileChange:
    change = FileChange(source, "modify", None, b"", source=True)
    change.draft_ids = [i for _, i in claims] + [i for _, i in enrichments]
    text = _read_current(root, db, source, change)
    if text is None:
        return change
    extracted = bool(claims or enrichments)
    if extracted and status and status.to_status == "null-result":
        change.skipped = (
            "set to null-result, yet claims or enrichments drafted from it are saved: "
            "undo the null-result or delete those drafts"
        )
        return change
    # Work extracted from a source makes it processed, whatever step it was pending at.
    new_status = "processed" if extracted else (status.to_status if status else None)
    existing = source_provenance(db, source)
    if status and (existing.status or "") not in (status.from_status or "", status.to_status):
        # Someone else changed it (a pull, another editor): theirs is not overwritten.
        change.skipped = (
            f"its status changed on disk from {status.from_status or 'none'} to "
            f"{existing.status or 'none'} since you set it to {status.to_status}: set "
            "yours again to write it over theirs"
        )
        return change
    try:
        if new_status:
            text = set_scalar(text, "status", new_status)
            change.reasons.append(f"status: {new_status}")
        # More claims from a source already processed keep who processed it first, and when.
        kept = existing.status == new_status and "processed_by" in existing.keys
        if new_status in ("processed", "null-result") and not kept:
            text = set_scalar(text, "processed_by", who)
            text = set_scalar(text, "processed_date", day)
        if new_status == "null-result" and status and status.note:
            text = _with_note(text, existing.notes, status.note)
        # Each claim listed once (two pieces of evidence for one claim name it once).
        new_claims = list(
            dict.fromkeys(t for t, _ in claims if bare_title(t) not in existing.claims_extracted)
        )
        new_enrichments = list(
            dict.fromkeys(
                t for t, _ in enrichments if bare_title(t) not in existing.enrichments_applied
            )
        )
        if new_claims:
            text = add_to_list(text, "claims_extracted", new_claims)
            change.reasons.append(f"claims_extracted +{len(new_claims)}")
        if new_enrichments:
            key = (
                "enrichments"
                if "enrichments" in existing.keys and ("enrichments_applied" not in existing.keys)
                else "enrichments_applied"
            )
            text = add_to_list(text, key, new_enrichments)
            change.reasons.append(f"{key} +{len(new_enrichments)}")
    except EditError as exc:
        change.skipped = f"not rewritten: {exc}"
        return change
    if status:
        change.action_ids = status.action_ids
    change.after = text.encode("utf-8")
    moved = schema_of(db).archived_path("source", source, new_status)
    if moved is not None:
        # Out of the queue into the archive, as the KB's pipeline files a finished source.
        if os.path.lexists(root / moved):
            try:
                there = read_regular(_inside(root, moved))
            except (ExportError, _Refused):
                there = None
            if there != change.after:
                change.skipped = f"{moved} exists already: not moved out of the queue over it"
                return change
            change.placed = True  # an export cut short put it there: only the queue file goes
        change.action, change.old_path, change.path = "move", source, moved
        change.reasons.append(f"moved to {moved.rsplit('/', 1)[0]}/")
    return change


def _with_note(text: str, notes: str | None, note: str) -> str:
    """`text` with the curator's null-result `note` in its `notes`: set, quoted as the KB
    writes its notes (prose, often with a colon); or, when the file already has notes (an
    agent's, say), added after them as a paragraph of its own, never in their place."""
    note = note.strip()
    if not notes or not notes.strip():
        return set_scalar(text, "notes", note, new_style='"')
    had = [" ".join(p.split()) for p in normalise_newlines(notes).split("\n\n") if p.strip()]
    adds = [" ".join(p.split()) for p in normalise_newlines(note).split("\n\n") if p.strip()]
    if any(had[i : i + len(adds)] == adds for i in range(len(had) - len(adds) + 1)):
        return text  # already there, all its paragraphs (an earlier export, cut short)
    end = "\n" if notes.endswith("\n") else ""  # as the notes end (`|` or `|-`)
    return set_scalar(text, "notes", f"{notes.rstrip()}\n\n{note}{end}")


OPEN_FILES = 200
"""Replaced files kept open at most, waiting for the last look at them."""


class _Refused(Exception):
    """A file of a group cannot be written now; the message is the reason."""


@dataclass(slots=True)
class _Staged:
    """A change whose new text waits in a temporary file beside its target."""

    change: FileChange
    target: Path
    temporary: str | None
    replaced: int | None = None
    """An open descriptor of the file the rename replaced: a program that had it open can
    still write into it, and what it wrote must not be lost unseen."""
    theirs: bytes | None = None
    renamed: bool = False
    old: Path | None = None
    """For a move: the file it leaves, gone once the new one is in place."""
    removed: bool = False


_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


def not_a_file(mode: int) -> str | None:
    """What a path that is not a regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((words for test, words in _KINDS if test(mode)), "not a regular file")


def _open_regular(target: Path) -> int:
    """A read descriptor of `target`, refusing what is not a regular file (a named pipe
    opened for reading would wait for a writer forever)."""
    try:
        handle = os.open(target, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise _Refused(f"cannot read it: {exc.strerror or exc}") from exc
    kind = not_a_file(os.fstat(handle).st_mode)
    if kind:
        os.close(handle)
        raise _Refused(f"{kind} is at this path, not a file: not written")
    return handle


def _read_all(handle: int) -> bytes:
    os.lseek(handle, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(handle, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def read_regular(target: Path) -> bytes:
    """The bytes of `target`; `_Refused` for what is not a regular file or cannot be read."""
    handle = _open_regular(target)
    try:
        return _read_all(handle)
    finally:
        os.close(handle)


def _stage(root: Path, change: FileChange) -> _Staged:
    """Check the change's target as it is now and write its new text beside it."""
    try:
        target = _inside(root, change.path)
    except ExportError as exc:
        raise _Refused(str(exc)) from exc
    if change.action == "move":
        assert change.old_path is not None
        try:
            old = _inside(root, change.old_path)
        except ExportError as exc:
            raise _Refused(str(exc)) from exc
        if read_regular(old) != change.before:
            raise _Refused("changed on disk since export read it: not moved")
        if not _writable(old):
            raise _Refused(READ_ONLY)
    if change.action == "modify":
        if read_regular(target) != change.before:
            raise _Refused("changed on disk since export read it: not overwritten")
        if not _writable(target):
            raise _Refused(READ_ONLY)
    elif change.placed:
        if read_regular(target) != change.after:
            raise _Refused("changed on disk since export read it: not moved")
    else:
        with contextlib.suppress(FileNotFoundError):
            kind = not_a_file(os.lstat(target).st_mode)
            raise _Refused(
                f"{kind} is at this path: not written"
                if kind
                else "a file of this name appeared since export read the folder: not written"
            )
    old_target = _inside(root, change.old_path) if change.old_path else None
    if change.placed:
        return _Staged(change, target, None, old=old_target)
    try:
        return _Staged(change, target, write_temporary(target, change.after), old=old_target)
    except OSError as exc:
        raise _Refused(f"could not write: {exc.strerror or exc}") from exc


def _writable(path: Path) -> bool:
    """Whether the file has a write permission (`_Refused` when it is gone meanwhile)."""
    try:
        return bool(os.stat(path).st_mode & 0o222)
    except OSError as exc:
        raise _Refused(f"cannot look at it: {exc.strerror or exc}") from exc


def _swap_in(staged: _Staged) -> None:
    """Rename the staged text over its target, after checking the target once more; the
    file replaced is kept open and read again after the rename."""
    change, target, temporary = staged.change, staged.target, staged.temporary
    if change.action == "move" and change.placed:
        try:
            _leave(staged)  # the new text is there already: only the queued file goes
        except OSError as exc:
            raise _Refused(f"could not write: {exc.strerror or exc}") from exc
        return
    assert temporary is not None
    try:
        if change.action in ("add", "move"):
            try:
                # A link never replaces a file that appeared meanwhile, as a rename would.
                os.link(temporary, target)
            except FileExistsError as exc:
                raise _Refused(
                    "a file of this name appeared since export read the folder: not written"
                ) from exc
            except OSError:  # a file system without hard links
                if os.path.lexists(target):
                    raise _Refused(
                        "a file of this name appeared since export read the folder: not written"
                    ) from None
                os.replace(temporary, target)
            else:
                with_suppressed_unlink(temporary)
            staged.temporary = None
            staged.renamed = True
            if change.action == "move":
                _leave(staged)
            return
        handle = _open_regular(target)
        staged.replaced = handle
        if _read_all(handle) != change.before:
            raise _Refused("changed on disk since export read it: not overwritten")
        if exchange(temporary, target):
            # The temporary name now holds what was at the target at that very instant:
            # another program's file, if one saved by a rename since the look above.
            staged.renamed = True
            try:
                there = read_regular(Path(temporary))
            except _Refused:
                there = None
            if there != change.before:
                exchange(temporary, target)  # theirs back in place, ours out of the way
                staged.renamed = False
                raise _Refused(
                    "changed on disk while export wrote it: theirs is kept, not overwritten"
                )
            with_suppressed_unlink(temporary)
        else:
            os.replace(temporary, target)
        staged.temporary = None
        staged.renamed = True
        theirs = _read_all(handle)
        if theirs != change.before:
            staged.theirs = theirs
            raise _Refused("changed on disk while export wrote it: theirs is kept, not overwritten")
    except OSError as exc:
        raise _Refused(f"could not write: {exc.strerror or exc}") from exc


def _leave(staged: _Staged) -> None:
    """A move's second half: the file it leaves is removed, after one more look at it; the
    removed file is kept open and read after, as a replaced one is."""
    assert staged.old is not None
    handle = _open_regular(staged.old)
    staged.replaced = handle
    if _read_all(handle) != staged.change.before:
        raise _Refused("changed on disk since export read it: not moved")
    os.unlink(staged.old)
    staged.removed = True
    theirs = _read_all(handle)
    if theirs != staged.change.before:
        staged.theirs = theirs
        raise _Refused("changed on disk while export moved it: theirs is kept, not moved")


def _put_back(staged: _Staged) -> str | None:
    """Undo a rename: the file as it was (or as the other program made it meanwhile), or
    no file for a new one. What cannot be put back is kept beside it; the words say where."""
    change, target = staged.change, staged.target
    if staged.temporary is not None:
        with_suppressed_unlink(staged.temporary)
        staged.temporary = None
    if staged.removed and staged.old is not None:
        # The file a move left, back where it was (with the other program's text, if any).
        left = staged.theirs if staged.theirs is not None else change.before
        staged.removed = False
        if left is not None and not os.path.lexists(staged.old):
            try:
                atomic_write(staged.old, left)
            except OSError:
                aside = _keep_aside(staged.old, left)
                return f"its text is kept in {aside}" if aside else "its text could not be kept"
        staged.theirs = None
    if not staged.renamed:
        return None
    staged.renamed = False
    if staged.replaced is not None:
        # What another program wrote into the replaced file until now goes back too.
        with contextlib.suppress(OSError):
            now_theirs = _read_all(staged.replaced)
            if now_theirs != change.before:
                staged.theirs = now_theirs
    old = staged.theirs if staged.theirs is not None else change.before
    if change.action == "move":
        old = None  # the new place had no file before
    try:
        now = read_regular(target)
    except _Refused:
        now = None
    if now == change.after:
        try:
            if old is None:
                os.unlink(target)
            else:
                atomic_write(target, old)
            return None
        except OSError:
            pass
    if old is None:
        return None  # a new file edited since: what is there now is the other program's
    aside = _keep_aside(target, old)
    return f"its earlier text is kept in {aside}" if aside else "its earlier text could not be kept"


def _keep_aside(target: Path, data: bytes) -> str | None:
    """`data` written beside `target`, under a name that says what it is (not `.md`, so
    the index does not take it for a document)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = target.with_name(f"{target.name}.conflict-{stamp}")
    number = 1
    while os.path.lexists(aside):  # two in one second: neither written over
        number += 1
        aside = target.with_name(f"{target.name}.conflict-{stamp}-{number}")
    try:
        atomic_write(aside, data)
    except OSError:
        return None
    return aside.name


def _groups(changes: list[FileChange]) -> list[list[FileChange]]:
    """Changes that share a draft, transitively: a claim and the source that lists it,
    evidence and its source. Each group is written all or nothing."""
    parent = list(range(len(changes)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[int, int] = {}
    for index, change in enumerate(changes):
        for draft_id in change.draft_ids:
            if draft_id in first:
                parent[find(index)] = find(first[draft_id])
            else:
                first[draft_id] = index
    groups: dict[int, list[FileChange]] = defaultdict(list)
    for index, change in enumerate(changes):
        groups[find(index)].append(change)
    return list(groups.values())


def _write_group(group: list[FileChange], root: Path) -> list[_Staged]:
    """Write every file of `group`, or none: each new text is staged first, then the files
    are renamed in turn, and a failure puts back those already renamed."""
    staged: list[_Staged] = []
    failed: FileChange | None = None
    reason = ""
    for change in group:
        try:
            staged.append(_stage(root, change))
        except _Refused as exc:
            failed, reason = change, str(exc)
            break
    else:
        for item in staged:
            try:
                _swap_in(item)
            except _Refused as exc:
                failed, reason = item.change, str(exc)
                break
    if failed is None:
        for folder in {item.target.parent for item in staged}:
            with contextlib.suppress(OSError):
                fsync_folder(folder)
        for item in staged:
            item.change.written = True
        return staged
    notes: dict[int, str] = {}
    for item in reversed(staged):
        note = _put_back(item)
        if note:
            notes[id(item.change)] = note
        if item.replaced is not None:
            os.close(item.replaced)
            item.replaced = None
    for change in group:
        words = (
            reason
            if change is failed
            else (f"waits for {failed.path}, written with it, which could not be written now")
        )
        note = notes.get(id(change))
        change.skipped = f"{words} ({note})" if note else words
    return []


def _sweep(written: list[_Staged]) -> None:
    """The files replaced, read once more: a program that had one open and wrote into it
    after the rename would lose that write with the old file. Its text is kept beside."""
    for item in written:
        if item.replaced is None:
            continue
        theirs: bytes | None
        try:
            theirs = _read_all(item.replaced)
        except OSError:
            theirs = item.change.before
        finally:
            os.close(item.replaced)
            item.replaced = None
        if theirs is not None and theirs != item.change.before:
            aside = _keep_aside(item.old or item.target, theirs)
            item.change.conflict = (
                "changed on disk while export wrote it: the other program's text is kept in "
                + (aside or "(it could not be kept)")
            )


def apply_export(db: Database, root: Path, plan: ExportPlan) -> ExportPlan:
    """Write the plan's writable files, each group of related files all or nothing, and
    each file re-checked against what was read just before and just after its rename.

    The work of a group is recorded as exported as soon as the group is written, so an
    export cut short leaves pending only what it did not write; and what it wrote is found
    in the files next time, not written twice. A failure to record (the index damaged or
    gone) is said in `plan.errors`, after the files written."""
    for folder in {(root / c.path).parent for c in plan.writable}:
        remove_leftover_temporaries(folder)
    files_of: dict[int, list[FileChange]] = defaultdict(list)
    for change in (*plan.changes, *plan.unchanged):
        for draft_id in change.draft_ids:
            files_of[draft_id].append(change)
    done: set[int] = set()  # ids of the changes written, or with nothing to write

    def record(changes: list[FileChange]) -> None:
        done.update(id(change) for change in changes)
        drafts = {
            i
            for change in changes
            for i in change.draft_ids
            if all(id(other) in done for other in files_of[i])
        }
        actions = {i for change in changes for i in change.action_ids}
        moves = [(c.path, c.old_path) for c in changes if c.old_path and c.written]
        try:
            with transaction(db):
                # Work still pending on a moved file follows it to its new place.
                db.conn.executemany(
                    "UPDATE drafts SET source_path = ? WHERE source_path = ?", moves
                )
                db.conn.executemany("UPDATE actions SET path = ? WHERE path = ?", moves)
                db.conn.executemany(
                    "UPDATE drafts SET exported_at = datetime('now') WHERE id = ?",
                    [(i,) for i in sorted(drafts)],
                )
                db.conn.executemany(
                    "UPDATE actions SET exported_at = datetime('now') WHERE id = ?",
                    [(i,) for i in sorted(actions)],
                )
        except (sqlite3.Error, KbtuiError) as exc:
            paths = ", ".join(c.path for c in changes if c.written) or "nothing"
            plan.errors.append(
                f"written ({paths}), but the index could not record it: {exc}; the next "
                "export finds that work in the files"
            )

    record(plan.unchanged)
    written: list[_Staged] = []
    try:
        for group in _groups(plan.writable):
            staged = _write_group(group, root)
            if staged:
                written.extend(staged)
                record(group)
            if len(written) >= OPEN_FILES:
                _sweep(written)  # a descriptor each: a big export would run out of them
                written = []
    finally:
        _sweep(written)
    return plan


def plan_collapse(db: Database, root: Path, path: str) -> tuple[FileChange, list[Collapsed]]:
    """The file at `path` with each key written twice kept only where it is last written
    (the value kbtui and every YAML reader take), for the curator to look at before it is
    written; and what would be removed."""
    change = FileChange(path, "modify", None, b"", ["keys written twice, kept once"])
    indexed = _indexed(db, path)
    if indexed is None:
        change.skipped = "not in the index: not a markdown file of this KB"
        return change, []
    try:
        data = read_regular(_inside(root, path))
    except (ExportError, _Refused) as exc:
        change.skipped = str(exc)
        return change, []
    if _digest(data) != indexed[0]:
        change.skipped = "changed on disk since it was indexed: re-index and look again"
        return change, []
    change.before = data
    try:
        text, removed = collapse_duplicate_keys(data.decode("utf-8"))
    except (EditError, UnicodeDecodeError) as exc:
        change.skipped = f"not rewritten: {exc}"
        return change, []
    change.after = text.encode("utf-8")
    return change, removed


def write_changes(root: Path, changes: list[FileChange]) -> None:
    """Write `changes` as one group, all or nothing, each checked as export checks it
    (`written` or `skipped` says how it went)."""
    _sweep(_write_group([c for c in changes if c.skipped is None], root))
