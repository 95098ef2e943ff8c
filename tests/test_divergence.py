"""Divergences: 2-5 claims, the cascade impact from the link graph, export in the KB's format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbtui.cli import main
from kbtui.formats.document import parse_document
from kbtui.ops import divergence, drafting, export
from kbtui.ops.drafting import DraftError
from kbtui.ops.session import Session, open_session

HOME = (
    "home batteries flatten the evening demand peak only under time-of-use tariffs because "
    "flat tariffs give households no reason to shift load"
)
PEAKERS = (
    "four-hour lithium storage displaces gas peakers first because peaker run-hours "
    "cluster in short evening windows"
)
PRICING = (
    "congestion pricing cuts peak traffic more durably than new road capacity because "
    "added lanes induce demand that refills them within a decade"
)
BUSES = (
    "dedicated bus lanes raise ridership more than fare cuts because riders value "
    "reliability over price"
)
LABOR = (
    "domains/internet-finance/AI labor displacement operates as a self-funding feedback loop "
    "because companies substitute AI for labor as OpEx not CapEx meaning falling aggregate "
    "demand does not slow AI adoption.md"
)


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")


def test_one_or_six_claims_are_refused(seeds_copy: Path) -> None:
    session = open_session(seeds_copy, None)
    session.reindex()
    with pytest.raises(drafting.DraftError, match="2 to 5"):
        divergence.new_divergence_draft(session.db, [PRICING])
    claims = [
        row[0]
        for row in session.db.conn.execute(
            "SELECT path FROM documents WHERE kind = 'claim' AND path NOT LIKE '%grid-forming%' "
            "LIMIT 6"
        )
    ]
    with pytest.raises(drafting.DraftError, match="at most 5"):
        divergence.new_divergence_draft(session.db, claims)
    with pytest.raises(drafting.DraftError, match="named twice"):
        divergence.new_divergence_draft(session.db, [PRICING, PRICING])


def test_existing_divergence_is_found(seeds_copy: Path) -> None:
    session = open_session(seeds_copy, None)
    session.reindex()
    existing = divergence.divergences(session.db)
    assert existing and existing[0]["status"] == "open"
    claims = existing[0]["claims"]
    with pytest.raises(drafting.DraftError, match="already exists"):
        divergence.new_divergence_draft(session.db, claims)


def saved_divergence(root: Path) -> tuple[Session, drafting.Draft]:
    """The demo KB with a saved divergence draft on the peakers and pricing claims."""
    session = open_session(root, None)
    session.reindex()
    draft = divergence.new_divergence_draft(session.db, [PEAKERS, PRICING])
    drafting.update_draft(
        session.db,
        draft.id,
        title="Should evening peak money go to batteries or to road pricing?",
        description="Both claim the cheapest peak relief; budgets are shared.",
    )
    return session, drafting.save_draft(session.db, draft.id)


def test_draft_export_and_cascade_lists_the_position(seeds_copy: Path) -> None:
    session, _ = saved_divergence(seeds_copy)
    plan = export.apply_export(
        session.db, seeds_copy, export.plan_export(session.db, seeds_copy, "tester")
    )
    [change] = [c for c in plan.changes if c.written]
    assert change.path.startswith("domains/energy-storage/divergence-should-evening-peak")
    doc = parse_document(change.path, (seeds_copy / change.path).read_bytes())
    assert doc.kind == "divergence" and not [p for p in doc.problems if p.severity != "info"]
    fields = doc.fields
    assert fields["status"] == "open" and fields["surfaced_by"] == "tester"
    assert fields["claims"] == [PEAKERS, PRICING]
    for section in (
        "## Divergent Claims",
        "## What Would Resolve This",
        "## Cascade Impact",
        "**File:** [[",
        "**Core argument:**",
        "**Strongest evidence:**",
    ):
        assert section in doc.raw_body
    impact = doc.raw_body.split("## Cascade Impact", 1)[1]
    assert "[[reform-tariffs-before-subsidising-home-batteries]] (position)" in impact


def test_resolving_writes_status_and_note(seeds_copy: Path) -> None:
    session = open_session(seeds_copy, None)
    session.reindex()
    [row] = divergence.divergences(session.db)
    divergence.resolve_divergence(session.db, row["path"], "A year of metered data settled it.")
    plan = export.apply_export(
        session.db, seeds_copy, export.plan_export(session.db, seeds_copy, "tester")
    )
    assert [c.path for c in plan.changes if c.written] == [row["path"]]
    doc = parse_document(row["path"], (seeds_copy / row["path"]).read_bytes())
    assert doc.fields["status"] == "resolved"
    assert "## Resolution\n\nA year of metered data settled it." in doc.raw_body
    assert doc.raw_body.count("## Resolution") == 1
    # Before the footer, as evidence goes in a claim.
    assert doc.raw_body.index("## Resolution") < doc.raw_body.index("Topics:")


def test_a_divergence_is_resolved_once(seeds_copy: Path) -> None:
    session = open_session(seeds_copy, None)
    session.reindex()
    [row] = divergence.divergences(session.db)
    first = divergence.resolve_divergence(session.db, row["path"], "Metered data settled it.")
    with pytest.raises(DraftError, match=f"draft {first.id}\\) is already pending export"):
        divergence.resolve_divergence(session.db, row["path"], "A second note.")
    export.apply_export(session.db, seeds_copy, export.plan_export(session.db, seeds_copy, "t"))
    session.reindex()
    with pytest.raises(DraftError, match="already resolved"):
        divergence.resolve_divergence(session.db, row["path"], "A third note.")
    body = (seeds_copy / row["path"]).read_text(encoding="utf-8")
    assert body.count("## Resolution") == 1


def test_cli_draft_divergence(seeds_copy: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "draft",
            "divergence",
            "--kb",
            str(seeds_copy),
            "--claim",
            PRICING,
            "--claim",
            BUSES,
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["kind"] == "divergence" and len(data["claims"]) == 2
    assert {c["id"] for c in data["checks"]} >= {"question", "claims", "claims-exist"}
    one = CliRunner().invoke(
        main, ["draft", "divergence", "--kb", str(seeds_copy), "--claim", PRICING]
    )
    assert one.exit_code == 2 and "2 to 5" in one.output


def test_cascade_on_the_corpus_lists_what_links_to_the_claim(corpus_copy: Path) -> None:
    session = open_session(corpus_copy, None)
    session.reindex()
    linking = {
        row[0]
        for row in session.db.conn.execute(
            "SELECT DISTINCT d.path FROM links l JOIN documents d ON d.id = l.doc_id WHERE "
            "l.resolved_path = ? AND d.kind IN ('belief', 'position', 'claim', 'conviction')",
            (LABOR,),
        )
    }
    assert linking
    other = next(
        row[0]
        for row in session.db.conn.execute(
            "SELECT path FROM documents WHERE kind = 'claim' AND domain = 'internet-finance' "
            "AND path != ? ORDER BY path LIMIT 1",
            (LABOR,),
        )
    )
    draft = divergence.new_divergence_draft(session.db, [LABOR, other])
    impact = draft.body.split("## Cascade Impact", 1)[1].split("\n\n---", 1)[0]
    section = impact.split("If [[", 2)[1]
    assert len(linking) >= 5
    for path in linking:
        stem = path.rsplit("/", 1)[-1].removesuffix(".md")
        assert stem in section, stem


def test_seeds_from_challenged_by_and_linked_set(seeds_copy: Path) -> None:
    session = open_session(seeds_copy, None)
    session.reindex()
    challenged = session.db.conn.execute(
        "SELECT d.path FROM documents d JOIN fields f ON f.doc_id = d.id "
        "WHERE d.kind = 'claim' AND f.key = 'challenged_by' ORDER BY d.path LIMIT 1"
    ).fetchone()[0]
    seeds = divergence.seed_claims(session.db, challenged)
    assert seeds[0] == challenged and len(seeds) >= 2
    linked = session.db.conn.execute(
        "SELECT path, linked_set FROM documents WHERE kind = 'source' AND linked_set IS NOT "
        "NULL ORDER BY path LIMIT 1"
    ).fetchone()
    own = divergence.seed_claims(session.db, linked[0])
    others = session.db.conn.execute(
        "SELECT path FROM documents WHERE linked_set = ? AND path != ?", (linked[1], linked[0])
    ).fetchall()
    assert others and len(own) >= 2
    for (other,) in others:
        assert set(divergence.seed_claims(session.db, other)) == set(own)


def test_cli_divergence_draft_is_carried_on_by_the_next_run(seeds_copy: Path) -> None:
    runner = CliRunner()
    base = ["draft", "divergence", "--kb", str(seeds_copy), "--claim", PRICING, "--claim", BUSES]
    failed = runner.invoke(main, [*base, "--question", "", "--save"])
    assert failed.exit_code == 2 and "(no draft kept)" in failed.output
    started = runner.invoke(main, [*base, "--json"])
    assert started.exit_code == 0, started.output
    first = json.loads(started.stdout)["id"]
    question = "Does road pricing or bus priority cut peak car trips more per dollar?"
    why = "The city can fund one of them from the same transport budget next year."
    saved = runner.invoke(
        main, [*base, "--question", question, "--description", why, "--save", "--json"]
    )
    assert saved.exit_code == 0, saved.output
    data = json.loads(saved.stdout)
    assert data["id"] == first and data["state"] == "saved" and data["title"] == question
    again = runner.invoke(main, [*base, "--question", "Something else entirely?", "--json"])
    assert again.exit_code == 2 and f"already exists: draft {first}" in again.output
    shown = runner.invoke(main, ["drafts", "show", str(first), "--kb", str(seeds_copy), "--json"])
    assert json.loads(shown.stdout)["title"] == question
    body = json.loads(shown.stdout)["body"]
    assert why in body and "Why this disagreement matters." not in body


def test_a_claim_named_twice_in_two_forms_or_an_empty_domain_fails_the_checks(
    seeds_copy: Path,
) -> None:
    session = open_session(seeds_copy, None)
    session.reindex()
    draft = divergence.new_divergence_draft(session.db, [PEAKERS, PRICING])
    draft = drafting.update_draft(
        session.db,
        draft.id,
        title="Should evening peak money go to batteries or to road pricing?",
        description="Both claim the cheapest peak relief; budgets are shared.",
        claims=[PEAKERS, f"domains/energy-storage/{PEAKERS}.md"],
        domain="",
    )
    failing = {c.id for c in divergence.check_divergence(session.db, draft) if c.status == "fail"}
    assert {"claims-distinct", "domain"} <= failing
    with pytest.raises(DraftError):
        drafting.save_draft(session.db, draft.id)


def test_a_divergence_edited_after_saving_is_checked_again_at_export(seeds_copy: Path) -> None:
    session, draft = saved_divergence(seeds_copy)
    drafting.update_draft(session.db, draft.id, claims=["no such claim in this KB"])
    plan = export.apply_export(
        session.db, seeds_copy, export.plan_export(session.db, seeds_copy, "tester")
    )
    [change] = [c for c in plan.changes if c.action == "add"]
    assert "Not claims of this KB" in str(change.skipped) and not change.written


def test_a_question_over_several_lines_is_refused_with_a_one_line_suggestion() -> None:
    from kbtui.formats.divergences import question_check

    check = question_check("Do prices fall\n---\nreally?")
    assert check.status == "fail" and "line breaks" in check.message
    assert check.suggestion == "Do prices fall --- really?"
    assert question_check("Do prices fall?").status == "pass"


def test_cascade_impact_lists_what_depends_on_a_claim_not_the_sources_citing_it(
    seeds_copy: Path,
) -> None:
    session = open_session(seeds_copy, None)
    session.reindex()
    kinds = {
        dependent.kind
        for claim in session.db.conn.execute("SELECT path FROM documents WHERE kind = 'claim'")
        for dependent in divergence.cascade(session.db, claim[0])
    }
    assert kinds and kinds <= {"belief", "position", "claim", "conviction"}
    cited = session.db.conn.execute(
        "SELECT count(*) FROM links l JOIN documents d ON d.id = l.doc_id "
        "JOIN documents c ON c.path = l.resolved_path WHERE d.kind = 'source' "
        "AND c.kind = 'claim'"
    ).fetchone()[0]
    assert cited > 0  # sources do cite claims: they are left out on purpose


def test_a_committed_divergence_is_listed_as_one_in_the_commit_message(seeds_copy: Path) -> None:
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(seeds_copy), *args], capture_output=True, text=True, check=True
        ).stdout

    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    saved_divergence(seeds_copy)
    result = CliRunner().invoke(main, ["export", str(seeds_copy), "--commit", "--json"])
    assert result.exit_code == 0, result.output
    message = git("log", "-1", "--format=%B", json.loads(result.stdout)["branch"])
    assert "Divergences:\n- divergence-should-evening-peak" in message
    assert "New claims" not in message and "Enriched claims" not in message


def test_a_claim_without_an_evidence_section_gets_no_template_text(small_kb: Path) -> None:
    from conftest import SMALL_CLAIM

    other = small_kb / "domains" / "energy" / "grid batteries beat home batteries on cost.md"
    other.write_text(SMALL_CLAIM.replace("home batteries flatten the evening peak", other.stem))
    session = open_session(small_kb, None)
    session.reindex()
    draft = divergence.new_divergence_draft(
        session.db,
        [
            "domains/energy/home batteries flatten the evening peak.md",
            str(other.relative_to(small_kb)),
        ],
    )
    assert "(from the claim's" not in draft.body
    assert "**Strongest evidence:** no Evidence section; its source: Field Notes" in draft.body


def test_a_claim_given_by_its_path_is_that_file_not_another_of_its_name(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    name = "same name claim holds because reasons"
    for domain in ("a", "b", "c"):
        folder = kb / "domains" / domain
        folder.mkdir(parents=True)
        (folder / f"{name}.md").write_text(
            f"---\ntype: claim\ndomain: {domain}\ndescription: in {domain}\n---\n# {name}\n"
        )
        (folder / f"other claim of {domain} holds.md").write_text(
            f"---\ntype: claim\ndomain: {domain}\n---\n# other\n"
        )
    target = kb / "domains" / "b" / f"{name}.md"
    other = kb / "domains" / "b" / "other claim of b holds.md"
    result = CliRunner().invoke(
        main, ["draft", "divergence", "--claim", str(target), "--claim", str(other), "--json"]
    )  # the KB is found from the claims' paths
    assert result.exit_code == 0, result.output
    draft = json.loads(result.stdout)
    assert draft["domain"] == "b" and "Core argument:** in b" in draft["body"]
    result = CliRunner().invoke(
        main,
        [
            "draft",
            "divergence",
            "--kb",
            str(kb),
            "--claim",
            "domains/d/missing.md",
            "--claim",
            str(other),
        ],
    )
    assert result.exit_code == 2 and "no file 'domains/d/missing.md' in the KB" in result.output


def test_drafts_show_gives_a_divergence_draft_its_checks(seeds_copy: Path) -> None:
    _, draft = saved_divergence(seeds_copy)
    result = CliRunner().invoke(
        main, ["drafts", "show", str(draft.id), "--kb", str(seeds_copy), "--json"]
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    ids = {check["id"] for check in shown["checks"]}
    assert len(ids) >= 3 and shown["duplicates"] == []
