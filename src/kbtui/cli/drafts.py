"""Drafts, kept in the index until export writes them: `draft claim|divergence|challenge`
starts one (and saves it when its checks pass), `drafts list|show|rm` manage them, and
`challenges` and `divergences` list the files already written."""

from __future__ import annotations

import sys

import click
from rich.markup import escape

from kbtui.cli.base import (
    DRAFT_ID,
    db_option,
    fail,
    json_option,
    kb_argument,
    kb_option,
    kb_relative,
    kb_root_of,
    main,
    out,
    session_for,
)
from kbtui.cli.render import print_json
from kbtui.formats.challenges import CASE_PLACEHOLDER
from kbtui.formats.challenges import TITLE_PLACEHOLDER as CHALLENGE_TITLE_PLACEHOLDER
from kbtui.formats.claims import ARGUMENT_PLACEHOLDER
from kbtui.formats.divergences import RESOLVE_PLACEHOLDER, WHY_PLACEHOLDER
from kbtui.formats.kinds import CLAIM_CONFIDENCES
from kbtui.ops import challenge, divergence, drafting
from kbtui.ops.session import Session


@main.group("draft")
def draft_group() -> None:
    """Draft claims from sources (saved in the index; export writes them)."""


@draft_group.command("claim")
@click.option("--source", "source_path", required=True, help="The source file (path).")
@click.option(
    "--hint", type=click.IntRange(1, 10_000), default=None, help="Start from claim candidate N."
)
@click.option("--title", default=None)
@click.option("--description", default=None)
@click.option(
    "--argument",
    default=None,
    help="Why the claim holds: replaces the body's placeholder line (edit the rest in the app).",
)
@click.option(
    "--confidence",
    default=None,
    help=f"One of the KB's confidences ({', '.join(CLAIM_CONFIDENCES)}, unless its profile "
    "says others); the draft's checks say when it is not.",
)
@click.option("--domain", default=None, help="Default: the source's domain.")
@click.option(
    "--enrich",
    "enrich_path",
    default=None,
    metavar="CLAIM",
    help="Make it evidence for this existing claim (its path, file stem or title) instead of "
    "a new claim.",
)
@click.option(
    "--kind",
    "enrichment_kind",
    type=click.Choice(drafting.ENRICHMENT_KINDS),
    default=None,
    help="With --enrich: how the evidence bears on the claim (default: extend).",
)
@click.option(
    "--different",
    is_flag=True,
    help="Say the claim is different from the near-duplicates that would block saving it.",
)
@click.option("--save", is_flag=True, help="Save it for export if every check passes.")
@kb_option("The KB (default: the one holding the source, else the demo KB).")
@db_option
@json_option
def draft_claim_command(
    source_path: str,
    hint: int | None,
    title: str | None,
    description: str | None,
    argument: str | None,
    confidence: str | None,
    domain: str | None,
    enrich_path: str | None,
    enrichment_kind: str | None,
    different: bool,
    save: bool,
    kb: str | None,
    db_path: str | None,
    as_json: bool,
) -> None:
    """Start a claim draft from a source (or, with --enrich, evidence for an existing claim);
    print its checks and likely duplicates."""
    if enrichment_kind is not None and enrich_path is None:
        fail("--kind says how evidence bears on a claim: give the claim with --enrich")
    kb = kb or kb_root_of(source_path)
    title = title.strip() if title is not None else None
    with session_for(kb, db_path) as session:
        relative = kb_relative(session, source_path)
        target = None
        if enrich_path is not None:
            # A path, a file stem or a title, as draft divergence --claim takes.
            target = divergence.resolve_claims(session.db, [kb_relative(session, enrich_path)])[0]
        draft = drafting.new_claim_draft(session.db, relative, hint)
        try:
            changes = {
                name: value
                for name, value in (
                    ("title", title),
                    ("description", description),
                    ("confidence", confidence),
                    ("domain", domain),
                )
                if value is not None
            }
            body = draft.body
            if title is not None:
                body = body.replace(
                    f"# {draft.title or drafting.TITLE_PLACEHOLDER}", f"# {title}", 1
                )
            if argument is not None and argument.strip():
                body = body.replace(ARGUMENT_PLACEHOLDER, argument.strip(), 1)
            if body != draft.body:
                changes["body"] = body
            draft = drafting.update_draft(session.db, draft.id, **changes)
            if target is not None:
                draft = drafting.enrich_instead(
                    session.db, draft.id, target, enrichment_kind or "extend"
                )
            elif different:
                while (duplicate := drafting.blocking_duplicate(session.db, draft)) is not None:
                    draft = drafting.mark_different(session.db, draft.id, duplicate.path)
            if save:
                draft = drafting.save_draft(session.db, draft.id)
        except drafting.DraftError as exc:
            # A command that could not run leaves nothing behind (a retry starts clean).
            drafting.delete_draft(session.db, draft.id)
            fail(f"{exc} (no draft kept)")
        _print_draft(session, draft, as_json)


@draft_group.command("divergence")
@click.option(
    "--claim",
    "claims",
    multiple=True,
    required=True,
    help="A claim (path, file stem or title); give 2 to 5.",
)
@click.option("--question", default=None, help="The question the claims disagree about.")
@click.option("--description", default=None, help="Why the disagreement matters.")
@click.option("--resolve", "resolution", default=None, help="The evidence that would settle it.")
@click.option("--save", is_flag=True, help="Save it for export if every check passes.")
@kb_option()
@db_option
@json_option
def draft_divergence_command(
    claims: tuple[str, ...],
    question: str | None,
    description: str | None,
    resolution: str | None,
    save: bool,
    kb: str | None,
    db_path: str | None,
    as_json: bool,
) -> None:
    """Start a divergence draft on 2-5 claims, with its cascade impact prefilled."""
    kb = kb or next((root for root in map(kb_root_of, claims) if root), None)
    with session_for(kb, db_path) as session:
        created = True
        try:
            refs = [kb_relative(session, claim) for claim in claims]
            draft = divergence.new_divergence_draft(session.db, refs)
        except divergence.DuplicateDivergence as exc:
            existing = (
                drafting.get_draft(session.db, int(exc.existing.removeprefix("draft ")))
                if exc.existing.startswith("draft ")
                else None
            )
            if existing is None or existing.state != "draft":
                fail(str(exc))
            # The same claims' draft, not yet saved (an earlier run started it), is carried on.
            draft, created = existing, False
        try:
            changes = {
                name: value
                for name, value in (("title", question), ("description", description))
                if value
            }
            # The body says why it matters, and what would resolve it, where the skeleton left
            # placeholder lines.
            body = draft.body
            for text, placeholder in (
                (description, WHY_PLACEHOLDER),
                (resolution, RESOLVE_PLACEHOLDER),
            ):
                if text and text.strip():
                    body = body.replace(placeholder, text.strip(), 1)
            if body != draft.body:
                changes["body"] = body
            draft = drafting.update_draft(session.db, draft.id, **changes)
            if save:
                draft = drafting.save_draft(session.db, draft.id)
        except drafting.DraftError as exc:
            if created:
                drafting.delete_draft(session.db, draft.id)
            fail(f"{exc}" + (" (no draft kept)" if created else f" (draft {draft.id} kept)"))
        checks = divergence.check_divergence(session.db, draft)
        if as_json:
            print_json({**draft.as_dict(), "checks": [c.as_dict() for c in checks]})
            return
        out.print(
            f"[b]Divergence draft {draft.id}[/b] on {len(draft.claims)} claims ({draft.state})"
        )
        for check in checks:
            out.print(f"  {check.status:4} {escape(check.message)}")


@draft_group.command("challenge")
@click.option(
    "--claim", "claim", required=True, help="The claim challenged (path, file stem or title)."
)
@click.option("--title", default=None, help="The challenge, as a proposition.")
@click.option(
    "--type",
    "challenge_type",
    default=None,
    metavar="TYPE",
    help="refutation, boundary, reframe or evidence-gap (the KB's profile may name others).",
)
@click.option("--description", default=None, help="What the title does not say.")
@click.option(
    "--argument",
    default=None,
    help="The case against the claim: replaces the body's placeholder line.",
)
@click.option("--confidence", type=click.Choice(CLAIM_CONFIDENCES), default=None)
@click.option("--source", "source", default=None, help="The evidence it rests on (attribution).")
@click.option("--save", is_flag=True, help="Save it for export if every check passes.")
@kb_option()
@db_option
@json_option
def draft_challenge_command(
    claim: str,
    title: str | None,
    challenge_type: str | None,
    description: str | None,
    argument: str | None,
    confidence: str | None,
    source: str | None,
    save: bool,
    kb: str | None,
    db_path: str | None,
    as_json: bool,
) -> None:
    """Start a challenge of a claim, prefilled from it; print its checks."""
    kb = kb or kb_root_of(claim)
    title = title.strip() if title is not None else None
    with session_for(kb, db_path) as session:
        types = challenge.challenge_types(session.db)
        if challenge_type is not None and challenge_type not in types:
            fail(f"--type must be one of: {', '.join(types)} (not {challenge_type!r})")
        draft = challenge.new_challenge_draft(session.db, kb_relative(session, claim))
        try:
            changes: dict[str, str] = {
                name: value
                for name, value in (
                    ("title", title),
                    ("description", description),
                    ("confidence", confidence),
                    ("source", source),
                    ("challenge_type", challenge_type),
                )
                if value is not None
            }
            body = draft.body
            if title:
                body = body.replace(f"# {CHALLENGE_TITLE_PLACEHOLDER}", f"# {title}", 1)
            if argument is not None and argument.strip():
                body = body.replace(CASE_PLACEHOLDER, argument.strip(), 1)
            if body != draft.body:
                changes["body"] = body
            draft = drafting.update_draft(session.db, draft.id, **changes)
            if save:
                draft = drafting.save_draft(session.db, draft.id)
        except drafting.DraftError as exc:
            # A command that could not run leaves nothing behind (a retry starts clean).
            drafting.delete_draft(session.db, draft.id)
            fail(f"{exc} (no draft kept)")
        _print_draft(session, draft, as_json)


@main.command("challenges")
@kb_argument
@db_option
@json_option
def challenges_command(kb: str | None, db_path: str | None, as_json: bool) -> None:
    """Challenge files, open first, with their type and the claim each challenges."""
    with session_for(kb, db_path) as session:
        rows = challenge.challenges(session.db)
        if as_json:
            print_json(rows)
            return
        if not rows:
            out.print("No challenges yet.")
        for row in rows:
            kind = escape(row["challenge_type"] or "?")
            out.print(f"[b]{escape(row['status'] or '?'):8}[/b] {kind:12} {escape(row['title'])}")
            out.print(f"           → {escape(row['target_claim'] or '(no target_claim)')}")


@main.command("divergences")
@kb_argument
@db_option
@json_option
def divergences_command(kb: str | None, db_path: str | None, as_json: bool) -> None:
    """Divergence files, open first, with their claims."""
    with session_for(kb, db_path) as session:
        rows = divergence.divergences(session.db)
        if as_json:
            print_json(rows)
            return
        if not rows:
            out.print("No divergences yet.")
        for row in rows:
            out.print(f"[b]{escape(row['status'] or '?'):8}[/b] {escape(row['title'])}")
            for claim in row["claims"]:
                out.print(f"           - {escape(claim)}")


def _print_draft(session: Session, draft: drafting.Draft, as_json: bool) -> None:
    checks = drafting.checks_for(session.db, draft)
    duplicates = (
        drafting.find_duplicates(session.db, draft.title, draft.description)
        if draft.kind == "claim"
        else []
    )
    if as_json:
        print_json(
            {
                **draft.as_dict(),
                "checks": [c.as_dict() for c in checks],
                "duplicates": [d.as_dict() for d in duplicates],
            }
        )
        return
    if draft.kind == "challenge":
        out.print(
            f"[b]Draft {draft.id}[/b] (challenge, {draft.state}) of "
            f"{escape(draft.target_path or '-')}"
        )
    else:
        out.print(
            f"[b]Draft {draft.id}[/b] ({draft.kind}, {draft.state}) from "
            f"{escape(draft.source_path or '-')}"
        )
    out.print(f"  title: {escape(draft.title) or '[dim](empty)[/dim]'}")
    if draft.kind == "challenge":
        out.print(f"  type: {escape(draft.challenge_type or '-')}")
        if draft.title.strip():
            out.print(f"  file: {escape(challenge.challenge_path(session.db, draft))}")
    if draft.kind == "enrichment":
        out.print(f"  enriches ({draft.enrichment_kind}): {escape(draft.target_path or '-')}")
    marks = {"pass": "[green]✓[/]", "warn": "[yellow]![/]", "fail": "[red]✗[/]"}
    for check in checks:
        suggestion = f" → {escape(check.suggestion)}" if check.suggestion else ""
        out.print(f"  {marks[check.status]} {escape(check.message)}{suggestion}")
    for duplicate in duplicates:
        out.print(f"  similar ({duplicate.score}%): {escape(duplicate.title)}")


@main.group("drafts")
def drafts_group() -> None:
    """List, show or delete drafts."""


@drafts_group.command("list")
@kb_argument
@db_option
@json_option
def drafts_list_command(kb: str | None, db_path: str | None, as_json: bool) -> None:
    """Drafts not yet exported, newest first."""
    with session_for(kb, db_path) as session:
        drafts = drafting.list_drafts(session.db)
        if as_json:
            print_json([d.as_dict() for d in drafts])
            return
        if not drafts:
            out.print("No drafts.")
        for draft in drafts:
            # A challenge comes from the claim it challenges; the others from a source.
            origin = (
                f"→ {draft.target_path or '-'}"
                if draft.kind == "challenge"
                else f"← {draft.source_path or '-'}"
            )
            out.print(
                f"{draft.id:>4} {draft.kind:10} {draft.state:6} "
                f"{escape(draft.title[:70] or '(untitled)')} [dim]{escape(origin)}[/dim]"
            )


@drafts_group.command("show")
@click.argument("draft_id", type=DRAFT_ID)
@kb_option()
@db_option
@json_option
def drafts_show_command(draft_id: int, kb: str | None, db_path: str | None, as_json: bool) -> None:
    """One draft with its checks and likely duplicates."""
    with session_for(kb, db_path) as session:
        draft = drafting.get_draft(session.db, draft_id)
        _print_draft(session, draft, as_json)


@drafts_group.command("rm")
@click.argument("draft_id", type=DRAFT_ID)
@kb_option()
@db_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
def drafts_rm_command(
    draft_id: int, kb: str | None, db_path: str | None, yes: bool, as_json: bool
) -> None:
    """Delete a draft (asks first unless --yes or --json)."""
    with session_for(kb, db_path) as session:
        draft = drafting.get_draft(session.db, draft_id)
        if not (yes or as_json) and not sys.stdin.isatty():
            fail(f"not deleted: no terminal to ask in; give --yes to delete draft {draft_id}")
        if not (yes or as_json) and not click.confirm(
            f"Delete draft {draft_id} ({draft.title[:60]!r})?"
        ):
            out.print("Kept.")
            return
        drafting.delete_draft(session.db, draft_id)
        if as_json:
            print_json({"deleted": draft.as_dict()})
        else:
            out.print(f"Deleted draft {draft_id}.")
