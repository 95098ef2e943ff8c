"""Drafting claims: prefilled from a hint, checked, compared for duplicates, kept in SQLite."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbtui.cli import main
from kbtui.formats.checks import CheckId
from kbtui.formats.claims import clean_candidate, file_name_check, proposition_check
from kbtui.formats.document import parse_document
from kbtui.ops import drafting
from kbtui.ops.session import open_session

GRID = "inbox/archive/2026-03-01-grid-operator-quarterly-evening-peak.md"
RAMSTEAD = "inbox/archive/2018-03-00-ramstead-answering-schrodingers-question.md"


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")


def tree(root: Path) -> set[str]:
    return {
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _, names in os.walk(root)
        for name in names
        if not name.startswith("kb.sqlite")
    }


def test_hint_prefills_and_reopening_restores(seeds_copy: Path) -> None:
    session = open_session(seeds_copy, None)
    session.reindex()
    draft = drafting.new_claim_draft(session.db, GRID, hint=2)
    assert draft.title == (
        "Moving time-of-use windows with the season would close most of the per-megawatt gap "
        "between home and grid-scale batteries"
    )
    assert draft.domain == "energy-storage"
    assert draft.source == (
        "Regional Grid Operator, Quarterly system report: the evening peak (2026)"
    )
    assert draft.body.startswith(f"# {draft.title}\n")
    assert "[[2026-03-01-grid-operator-quarterly-evening-peak]]" in draft.body
    notes = draft.body.split("Relevant Notes:\n", 1)[1].split("\n\n", 1)[0]
    assert "- [[home batteries flatten the evening demand peak" in notes
    assert "- [[four-hour lithium storage displaces gas peakers" in notes
    assert "Topics:\n- [[_map]]" in draft.body
    drafting.update_draft(
        session.db,
        draft.id,
        description="Per megawatt, enrolled home batteries matched the grid-scale fleet.",
        confidence="likely",
        depends_on=[
            "battery pack prices fall about 18 percent with each doubling of cumulative production"
        ],
    )
    session.close()
    again = open_session(seeds_copy, None)
    restored = drafting.get_draft(again.db, draft.id)
    assert restored.confidence == "likely" and restored.description.startswith("Per megawatt")
    assert restored.depends_on[0].startswith("battery pack prices")
    statuses = {c.id: c.status for c in drafting.check_draft(again.db, restored)}
    # The argument is still the template's line: a warning (export leaves it out).
    assert statuses.pop(CheckId.PLACEHOLDERS) == "warn"
    assert set(statuses.values()) == {"pass"}
    saved = drafting.save_draft(again.db, draft.id)
    assert saved.state == "saved" and saved.saved_at


@pytest.mark.parametrize(
    ("title", "fragment"),
    [
        ("../../x", "slash"),
        ("a/b", "slash"),
        ("grid storage\x00 cuts peaks", "control characters"),
        ("batteries cut peaks " * 20, "bytes as UTF-8"),
        ("-", "empty"),
        ("---", "option"),
        ("     ", "empty"),
        ("home batteries \u202eflatten the evening peak for most households", "right-to-left"),
        ("..", "cannot be a file name"),
        ("con:colon * ? < > | titles fail because tests", "file names on some systems"),
        ("[[x]] brackets make claims fail because y", "[[links]] to the claim"),
        (".hidden claims fail because dotfiles hide", "hidden file"),
        ("...dots matter because reasons exist", "hidden file"),
    ],
)
def test_hostile_titles_get_a_message_and_no_file(
    seeds_copy: Path, title: str, fragment: str
) -> None:
    checks = [file_name_check(title), proposition_check(title)]
    failing = [c for c in checks if c.status == "fail"]
    assert failing, title
    messages = " ".join(c.message for c in failing)
    if fragment != "empty" or title.strip():
        assert fragment in messages or fragment == "empty", messages
    before = tree(seeds_copy)
    session = open_session(seeds_copy, None)
    session.reindex()
    draft = drafting.new_claim_draft(session.db, GRID, hint=1)
    drafting.update_draft(
        session.db,
        draft.id,
        title=title,
        confidence="likely",
        description="Something new about grid batteries and evening peaks.",
    )
    with pytest.raises(drafting.DraftError):
        drafting.save_draft(session.db, draft.id)
    assert tree(seeds_copy) == before


def test_unsafe_characters_get_a_title_without_them() -> None:
    check = file_name_check('Batteries: the "cheapest" fix? because of [[cost]] | speed')
    assert check.status == "fail" and check.suggestion is not None
    assert file_name_check(check.suggestion).status == "pass", check.suggestion


def test_long_title_gets_a_shorter_proposal() -> None:
    check = file_name_check("storage " * 60)
    assert check.status == "fail" and check.suggestion is not None
    assert len((check.suggestion + ".md").encode()) <= 255


def test_clean_candidate_removes_markers_and_quotes() -> None:
    assert clean_candidate('- CLAIM: "Bus lanes raise ridership."') == "Bus lanes raise ridership"
    assert clean_candidate("1. CLAIM: Growth doubles burnout") == "Growth doubles burnout"
    assert clean_candidate("“Quoted proposition here.”") == "Quoted proposition here"


def test_duplicates_on_the_corpus(corpus_copy: Path) -> None:
    session = open_session(corpus_copy, None)
    session.reindex()
    existing = "AI alignment is a coordination problem not a technical problem"
    changed = "AI alignment is a governance problem not an engineering problem"
    found = drafting.find_duplicates(session.db, changed)
    assert found and found[0].title == existing
    fresh = drafting.find_duplicates(
        session.db, "Municipal compost subsidies halve landfill methane within three years"
    )
    assert all(d.score < drafting.DUPLICATE_BLOCK for d in fresh)


def test_near_duplicate_blocks_until_declared_different(corpus_copy: Path) -> None:
    session = open_session(corpus_copy, None)
    session.reindex()
    draft = drafting.new_claim_draft(session.db, RAMSTEAD, hint=1)
    title = "AI alignment is a coordination problem not a technical problem at all"
    draft = drafting.update_draft(
        session.db,
        draft.id,
        title=title,
        domain="ai-alignment",
        confidence="experimental",
        description="Multi-scale active inference implies misalignment arises between agents.",
        body=draft.body.replace(draft.title, title),
    )
    blocking = drafting.blocking_duplicate(session.db, draft)
    assert blocking is not None and blocking.score >= drafting.DUPLICATE_BLOCK
    with pytest.raises(drafting.DraftError, match="near-duplicate"):
        drafting.save_draft(session.db, draft.id)
    drafting.mark_different(session.db, draft.id, blocking.path)
    assert drafting.save_draft(session.db, draft.id).state == "saved"


def test_enrich_instead(seeds_copy: Path) -> None:
    session = open_session(seeds_copy, None)
    session.reindex()
    draft = drafting.new_claim_draft(session.db, GRID, hint=1)
    target = (
        "domains/energy-storage/four-hour lithium storage displaces gas peakers first "
        "because peaker run-hours cluster in short evening windows.md"
    )
    enriched = drafting.enrich_instead(session.db, draft.id, target, "confirm")
    assert enriched.kind == "enrichment" and enriched.target_path == target
    assert enriched.enrichment_kind == "confirm"


def test_cli_draft_json_and_drafts_commands(seeds_copy: Path) -> None:
    runner = CliRunner()
    source = str(seeds_copy / GRID)
    result = runner.invoke(
        main,
        ["draft", "claim", "--source", source, "--hint", "1", "--confidence", "likely", "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["id"] >= 1 and data["hint"] == 1
    assert {c["id"] for c in data["checks"]} >= {
        "proposition",
        "file-name",
        "description",
        "confidence",
        "domain",
        "evidence",
        "links",
    }
    assert isinstance(data["duplicates"], list)
    listed = json.loads(runner.invoke(main, ["drafts", "list", str(seeds_copy), "--json"]).stdout)
    assert [d["id"] for d in listed] == [data["id"]]
    shown = runner.invoke(main, ["drafts", "show", str(data["id"]), "--kb", str(seeds_copy)])
    assert "Grid-scale batteries deliver" in shown.stdout
    removed = runner.invoke(
        main, ["drafts", "rm", str(data["id"]), "--kb", str(seeds_copy), "--json"]
    )
    assert removed.exit_code == 0 and json.loads(removed.stdout)["deleted"]["id"] == data["id"]
    listed = json.loads(runner.invoke(main, ["drafts", "list", str(seeds_copy), "--json"]).stdout)
    assert listed == []
    missing = runner.invoke(main, ["draft", "claim", "--source", source, "--hint", "9"])
    assert missing.exit_code == 2 and "no hint 9" in missing.output


def test_cli_drafts_an_enrichment_and_export_writes_it(seeds_copy: Path) -> None:
    runner = CliRunner()
    target = (
        "domains/energy-storage/four-hour lithium storage displaces gas peakers first "
        "because peaker run-hours cluster in short evening windows.md"
    )
    result = runner.invoke(
        main,
        [
            "draft", "claim", "--source", str(seeds_copy / GRID), "--hint", "1",
            "--description", "The operator's own figures show the evening peak in two hours.",
            "--enrich", target, "--kind", "confirm", "--save", "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["kind"] == "enrichment" and data["state"] == "saved"
    assert data["target_path"] == target and data["enrichment_kind"] == "confirm"
    shown = runner.invoke(main, ["drafts", "show", str(data["id"]), "--kb", str(seeds_copy)])
    assert "enriches (confirm)" in shown.stdout
    exported = runner.invoke(main, ["export", str(seeds_copy), "--json"])
    assert exported.exit_code == 0, exported.output
    claim = (seeds_copy / target).read_text(encoding="utf-8")
    assert "The operator's own figures show the evening peak in two hours." in claim
    source = parse_document(GRID, (seeds_copy / GRID).read_bytes())
    assert source.model_value("enrichments_applied")[-1] == target.split("/")[-1][:-3]
    bad = runner.invoke(
        main, ["draft", "claim", "--source", str(seeds_copy / GRID), "--enrich", "no/such.md"]
    )
    assert bad.exit_code == 2 and "no file 'no/such.md' in the KB" in bad.output


def test_a_draft_command_that_fails_keeps_no_draft(seeds_copy: Path) -> None:
    runner = CliRunner()
    source = str(seeds_copy / GRID)
    for args, reason in (
        (["--enrich", "no/such.md"], "no file 'no/such.md' in the KB"),
        (["--enrich", GRID], f"not a claim (source): {GRID}"),
        (["--title", "too short", "--save"], "checks failing"),
        (["--enrich", "/elsewhere/a claim.md"], "not inside the KB"),
    ):
        result = runner.invoke(main, ["draft", "claim", "--source", source, "--hint", "1", *args])
        assert result.exit_code == 2 and reason in result.output, result.output
    listed = runner.invoke(main, ["drafts", "list", str(seeds_copy), "--json"])
    assert json.loads(listed.stdout) == []


def test_a_title_with_a_dash_word_is_searched_for_duplicates_without_error(
    seeds_copy: Path,
) -> None:
    session = open_session(seeds_copy, None)
    session.reindex()
    title = "Home batteries cut evening peaks -40% more cheaply than grid-scale batteries"
    found = drafting.find_duplicates(session.db, title)
    assert all(isinstance(d.score, int) for d in found)


def test_link_checks_reuse_one_resolver_until_the_index_changes(seeds_copy: Path) -> None:
    from kbtui.ops.resolver import kb_resolver

    session = open_session(seeds_copy, None)
    session.reindex()
    first = kb_resolver(session.db)
    assert kb_resolver(session.db) is first  # typing in an editor: no rebuild per check
    (seeds_copy / "domains" / "energy-storage" / "new claim here.md").write_text(
        "---\ntype: claim\n---\n# new claim here\n", encoding="utf-8"
    )
    session.reindex()
    again = kb_resolver(session.db)
    assert again is not first
    assert again.resolve("new claim here", "x.md").path == (
        "domains/energy-storage/new claim here.md"
    )
    session.reindex()  # nothing changed: the same resolver
    assert kb_resolver(session.db) is again


def test_a_second_draft_with_the_same_title_fails_its_checks(seeds_copy: Path) -> None:
    session = open_session(seeds_copy, None)
    session.reindex()
    source = "inbox/archive/2026-03-01-grid-operator-quarterly-evening-peak.md"
    first = drafting.new_claim_draft(session.db, source, hint=1)
    second = drafting.new_claim_draft(session.db, source, hint=1)
    checks = {c.id: c for c in drafting.check_draft(session.db, second)}
    assert checks[CheckId.TWIN_DRAFT].status == "fail"
    assert checks[CheckId.TWIN_DRAFT].message.startswith(f"Draft {first.id} has the same title")
    assert drafting.draft_from_candidate(session.db, source, 1) == drafting.get_draft(
        session.db, second.id
    )


def test_a_run_after_an_interrupted_one_renews_the_shared_resolver(seeds_copy: Path) -> None:
    from kbtui.ops.resolver import kb_resolver
    from kbtui.store.index import set_meta

    session = open_session(seeds_copy, None)
    session.reindex()
    first = kb_resolver(session.db)
    # A run killed after committing some files leaves the refresh pending: the next run
    # reports no change, but the documents did change since the resolver was built.
    set_meta(session.db, "kb_refresh_pending", "1")
    session.reindex()
    assert kb_resolver(session.db) is not first


def test_a_title_an_existing_claim_has_fails_even_declared_different(seeds_copy: Path) -> None:
    existing = (
        "four-hour lithium storage displaces gas peakers first because peaker run-hours "
        "cluster in short evening windows"
    )
    code = CliRunner().invoke(
        main,
        [
            "draft", "claim", "--kb", str(seeds_copy), "--source",
            "inbox/archive/2026-03-01-grid-operator-quarterly-evening-peak.md",
            "--title", existing.upper(), "--description", "Said again, louder.",
            "--confidence", "likely", "--different", "--save", "--json",
        ],
    )  # fmt: skip
    assert code.exit_code != 0
    assert f"domains/energy-storage/{existing}.md has this title already" in code.output


def test_links_are_checked_from_the_folder_the_claim_will_be_written_to(small_kb: Path) -> None:
    area = small_kb / "foundations" / "critical-systems"
    area.mkdir(parents=True)
    (area / "_map.md").write_text("# Critical systems\n")
    (area / "systems keep their boundaries.md").write_text(
        "---\ntype: claim\ndomain: critical-systems\n---\n# systems keep their boundaries\n"
    )
    session = open_session(small_kb, None)
    session.reindex()
    draft = drafting.new_claim_draft(session.db, "inbox/archive/2026-01-03-battery-trial.md")
    draft = drafting.update_draft(session.db, draft.id, domain="critical-systems")
    [links] = [c for c in drafting.check_draft(session.db, draft) if c.id == "links"]
    assert links.status == "pass", links.message


def test_a_title_an_existing_claim_has_but_for_unicode_case_or_form_fails(small_kb: Path) -> None:
    import unicodedata

    name = "les éoliennes réduisent les émissions en été à côté des îles élevées"
    folder = small_kb / "domains" / "energy"
    (folder / f"{unicodedata.normalize('NFD', name)}.md").write_text(
        "---\ntype: claim\ndomain: energy\n---\n# x\n"
    )
    session = open_session(small_kb, None)
    session.reindex()
    draft = drafting.new_claim_draft(session.db, "inbox/archive/2026-01-03-battery-trial.md")
    draft = drafting.update_draft(session.db, draft.id, title=name.lower())
    [check] = [c for c in drafting.check_draft(session.db, draft) if c.id == "existing-claim"]
    assert check.status == "fail"


@pytest.mark.parametrize(
    ("character", "name"),
    [
        ("\u200b", "ZERO WIDTH SPACE"),
        ("\u200c", "ZERO WIDTH NON-JOINER"),
        ("\u200d", "ZERO WIDTH JOINER"),
        ("\u200e", "LEFT-TO-RIGHT MARK"),
        ("\u200f", "RIGHT-TO-LEFT MARK"),
        ("\u2060", "WORD JOINER"),
        ("\u2061", "FUNCTION APPLICATION"),
        ("\u2064", "INVISIBLE PLUS"),
        ("\ufeff", "ZERO WIDTH NO-BREAK SPACE"),
        ("\u00ad", "SOFT HYPHEN"),
        ("\u202a", "LEFT-TO-RIGHT EMBEDDING"),
        ("\u202e", "RIGHT-TO-LEFT OVERRIDE"),
        ("\u2066", "LEFT-TO-RIGHT ISOLATE"),
        ("\u2069", "POP DIRECTIONAL ISOLATE"),
        ("\u3164", "HANGUL FILLER"),
        ("\t", "CHARACTER TABULATION"),
        ("\x7f", "CONTROL CHARACTER"),
    ],
)
def test_a_title_with_an_invisible_character_names_it(character: str, name: str) -> None:
    check = file_name_check(f"home batteries{character} flatten the evening peak")
    assert check.status == "fail"
    assert f": U+{ord(character):04X} {name} at position 15." in check.message
    assert "which make a file name look like another" in check.message
    assert check.suggestion == "home batteries flatten the evening peak"
    assert file_name_check(check.suggestion).status == "pass"


def test_a_title_with_zero_width_spaces_says_where_they_are() -> None:
    check = file_name_check("home\u200bbatteries flatten the\u200b evening peak")
    assert check.message == (
        "The title contains invisible characters, which make a file name look like another: "
        "U+200B ZERO WIDTH SPACE at position 5, U+200B ZERO WIDTH SPACE at position 27."
    )
    assert check.suggestion == "homebatteries flatten the evening peak"


def test_export_refuses_a_saved_title_given_an_invisible_character(seeds_copy: Path) -> None:
    session = open_session(seeds_copy, None)
    session.reindex()
    draft = drafting.new_claim_draft(session.db, GRID, hint=1)
    drafting.update_draft(
        session.db,
        draft.id,
        confidence="likely",
        description="Something new about grid batteries and evening peaks.",
    )
    saved = drafting.save_draft(session.db, draft.id)
    # Edited after it was saved (its state stays saved): export checks the name again.
    hidden = saved.title[:10] + "\u200b" + saved.title[10:]
    drafting.update_draft(session.db, draft.id, title=hidden)
    session.close()
    before = tree(seeds_copy)
    result = CliRunner().invoke(main, ["export", str(seeds_copy), "--json"])
    files = json.loads(result.stdout)["files"]
    [claim] = [f for f in files if f["path"].startswith("domains/")]
    assert claim["written"] is False
    assert "U+200B ZERO WIDTH SPACE at position 11" in claim["skipped"]
    assert tree(seeds_copy) - before == set()
