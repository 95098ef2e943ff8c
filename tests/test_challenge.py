"""Challenges from the command line: drafted from a claim, checked, listed, exported in the
KB's shape (never over a file), and counted in stats."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kbtui.cli import main

PRICES = "battery pack prices fall about 18 percent with each doubling of cumulative production"
HOME = (
    "home batteries flatten the evening demand peak only under time-of-use tariffs because "
    "flat tariffs give households no reason to shift load"
)
SEED_CHALLENGE = (
    "domains/energy-storage/challenge-flat-tariff-batteries-still-serve-the-peak-when-an-"
    "aggregator-dispatches-them.md"
)
TITLE = "Battery pack prices stall when lithium supply tightens"
FILE = "domains/energy-storage/challenge-battery-pack-prices-stall-when-lithium-supply-tightens.md"
FULL = (
    "--title",
    TITLE,
    "--type",
    "refutation",
    "--description",
    "Learning rates fitted to 2010-2020 hid a commodity boom; a supply shock undoes a year",
    "--argument",
    "The 2022 lithium price spike raised pack prices for the first time in a decade.",
    "--confidence",
    "experimental",
    "--source",
    "Pack price survey (2023)",
)


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def run_json(*args: str) -> tuple[int, Any]:
    code, stdout, stderr = run(*args, "--json")
    assert stdout, stderr
    return code, json.loads(stdout)


def statuses(checks: list[dict[str, Any]]) -> dict[str, str]:
    return {check["id"]: check["status"] for check in checks}


def test_a_challenge_drafted_from_a_claim_is_prefilled_from_it(seeds_copy: Path) -> None:
    code, draft = run_json("draft", "challenge", "--kb", str(seeds_copy), "--claim", PRICES)
    assert code == 0
    assert draft["kind"] == "challenge" and draft["state"] == "draft"
    assert draft["target_path"] == f"domains/energy-storage/{PRICES}.md"
    assert draft["domain"] == "energy-storage" and draft["status"] == "open"
    assert draft["created"] == date.today().isoformat()
    assert draft["confidence"] == "" and draft["challenge_type"] is None
    assert draft["body"] == (
        "# <the challenge, as a proposition>\n\n"
        "The case against the claim: where it fails, and the evidence that shows it.\n\n"
        "---\n\n"
        "Relevant Notes:\n"
        f"- [[{PRICES}]] — the claim challenged\n\n"
        "Topics:\n- [[_map]]\n"
    )
    # What is still to write fails (type, title, description); the claim and domain pass.
    assert statuses(draft["checks"]) == {
        "target-claim": "pass",
        "challenge-type": "fail",
        "proposition": "fail",
        "file-name": "fail",
        "description": "fail",
        "confidence": "pass",
        "domain": "pass",
        "placeholders": "warn",
    }
    # drafts list / show / rm know it.
    code, drafts = run_json("drafts", "list", str(seeds_copy))
    assert [(d["id"], d["kind"]) for d in drafts] == [(draft["id"], "challenge")]
    code, listed, _ = run("drafts", "list", str(seeds_copy))
    assert f"challenge  draft  (untitled) → domains/energy-storage/{PRICES}.md" in listed
    code, shown = run_json("drafts", "show", str(draft["id"]), "--kb", str(seeds_copy))
    assert code == 0 and shown["id"] == draft["id"] and shown["checks"] == draft["checks"]
    code, text, _ = run("drafts", "show", str(draft["id"]), "--kb", str(seeds_copy))
    assert f"Draft {draft['id']} (challenge, draft) of domains/energy-storage/{PRICES}.md" in text
    assert "✗ Choose the challenge type: refutation, boundary, reframe, evidence-gap." in text
    code, deleted = run_json("drafts", "rm", str(draft["id"]), "--kb", str(seeds_copy))
    assert code == 0 and deleted["deleted"]["kind"] == "challenge"
    assert run_json("drafts", "list", str(seeds_copy))[1] == []


def test_the_claim_is_named_by_path_stem_or_title(seeds_copy: Path) -> None:
    path = seeds_copy / "domains" / "urban-mobility"
    slug = "ride-hailing-increases-urban-vehicle-miles-because-deadheading-outweighs-pooled-trips"
    for ref in (str(path / f"{slug}.md"), slug):
        code, draft = run_json("draft", "challenge", "--kb", str(seeds_copy), "--claim", ref)
        assert code == 0 and draft["target_path"] == f"domains/urban-mobility/{slug}.md"
        assert draft["domain"] == "urban-mobility"


def test_a_saved_challenge_exports_in_the_kb_s_shape(seeds_copy: Path) -> None:
    kb = str(seeds_copy)
    code, draft = run_json("draft", "challenge", "--kb", kb, "--claim", PRICES, *FULL, "--save")
    assert code == 0 and draft["state"] == "saved", draft["checks"]
    assert draft["challenge_type"] == "refutation"
    code, text, _ = run("drafts", "show", str(draft["id"]), "--kb", kb)
    assert f"file: {FILE}" in text
    code, plan = run_json("export", kb, "--dry-run")
    claim = f"domains/energy-storage/{PRICES}.md"
    stem = FILE.rsplit("/", 1)[1].removesuffix(".md")
    assert [(f["path"], f["action"], f["reasons"]) for f in plan["files"]] == [
        (FILE, "add", [f"new challenge (draft {draft['id']})"]),
        (claim, "modify", [f"challenged_by +{stem}"]),
    ]
    claim_before = (seeds_copy / claim).read_text(encoding="utf-8")
    code, done = run_json("export", kb)
    assert code == 0 and done["written"] == 2
    # The claim names its challenge, and nothing else of it changes.
    claim_after = (seeds_copy / claim).read_text(encoding="utf-8")
    assert claim_after.replace(f'challenged_by:\n  - "{stem}"\n', "", 1) == claim_before
    assert (seeds_copy / FILE).read_text(encoding="utf-8") == (
        "---\n"
        "type: challenge\n"
        f'target_claim: "{PRICES}"\n'
        "challenge_type: refutation\n"
        "status: open\n"
        "confidence: experimental\n"
        'source: "Pack price survey (2023)"\n'
        f"created: {date.today().isoformat()}\n"
        'description: "Learning rates fitted to 2010-2020 hid a commodity boom; a supply shock '
        'undoes a year"\n'
        "---\n\n"
        f"# {TITLE}\n\n"
        "The 2022 lithium price spike raised pack prices for the first time in a decade.\n\n"
        "---\n\n"
        "Relevant Notes:\n"
        f"- [[{PRICES}]] — the claim challenged\n\n"
        "Topics:\n- [[_map]]\n"
    )
    # Read back as a challenge with nothing to report, listed and counted.
    code, check = run_json("check", kb, "--all")
    assert [f for f in check["files"] if f["path"] == FILE] == []
    code, rows = run_json("challenges", kb)
    assert [(r["status"], r["challenge_type"], r["title"], r["target_claim"]) for r in rows] == [
        ("open", "refutation", TITLE, PRICES),
        ("open", "boundary", SEED_CHALLENGE_TITLE, HOME),
    ]
    assert run_json("stats", kb)[1]["challenges_by_status"] == {"open": 2}
    # Exported once: nothing more to write.
    code, again = run_json("export", kb)
    assert code == 0 and again["files"] == [] and run_json("drafts", "list", kb)[1] == []


SEED_CHALLENGE_TITLE = (
    "Flat-tariff batteries still serve the evening peak when an aggregator dispatches them"
)


def test_template_lines_and_a_blank_confidence_are_left_out(seeds_copy: Path) -> None:
    kb = str(seeds_copy)
    code, draft = run_json(
        "draft",
        "challenge",
        "--kb",
        kb,
        "--claim",
        PRICES,
        "--title",
        TITLE,
        "--type",
        "evidence-gap",
        "--description",
        "Only two learning-curve studies exist and both end before the 2022 shock",
        "--save",
    )
    assert code == 0 and draft["state"] == "saved"
    assert statuses(draft["checks"])["placeholders"] == "warn"
    assert run_json("export", kb)[0] == 0
    text = (seeds_copy / FILE).read_text(encoding="utf-8")
    assert "confidence:" not in text and "source:" not in text
    assert "The case against the claim" not in text
    assert f"# {TITLE}\n\n---\n\nRelevant Notes:" in text


def test_export_never_writes_over_an_existing_file(seeds_copy: Path) -> None:
    kb = str(seeds_copy)
    code, draft = run_json("draft", "challenge", "--kb", kb, "--claim", PRICES, *FULL, "--save")
    assert code == 0
    (seeds_copy / FILE).write_text("someone else's note\n", encoding="utf-8")
    code, done = run_json("export", kb)
    assert code == 1 and done["written"] == 0
    skipped = {f["path"]: f["skipped"] for f in done["files"]}
    assert skipped[FILE] and "a different file with this name" in skipped[FILE]
    # The claim that would name it waits with it.
    assert "waits for a related file" in skipped[f"domains/energy-storage/{PRICES}.md"]
    assert (seeds_copy / FILE).read_text(encoding="utf-8") == "someone else's note\n"
    assert [d["id"] for d in run_json("drafts", "list", kb)[1]] == [draft["id"]]


def test_what_cannot_be_a_challenge_is_refused_and_leaves_no_draft(seeds_copy: Path) -> None:
    kb = str(seeds_copy)
    code, _, err = run("draft", "challenge", "--kb", kb, "--claim", PRICES, "--type", "rebuttal")
    assert code == 2
    assert "--type must be one of: refutation, boundary, reframe, evidence-gap" in err
    code, _, err = run("draft", "challenge", "--kb", kb, "--claim", "no such claim at all")
    assert code == 2 and "no claim matches" in err
    code, _, err = run("draft", "challenge", "--kb", kb, "--claim", SEED_CHALLENGE)
    assert code == 2 and "not a claim (challenge)" in err
    # Saving with checks failing: said, and nothing kept.
    code, _, err = run("draft", "challenge", "--kb", kb, "--claim", PRICES, "--save")
    assert code == 2 and "checks failing" in err and "(no draft kept)" in err
    assert run_json("drafts", "list", kb)[1] == []


def test_an_open_challenge_of_the_same_title_fails_the_check(seeds_copy: Path) -> None:
    kb = str(seeds_copy)
    code, draft = run_json(
        "draft", "challenge", "--kb", kb, "--claim", HOME, "--title", SEED_CHALLENGE_TITLE
    )
    assert code == 0
    [same] = [c for c in draft["checks"] if c["id"] == "same-challenge"]
    assert same["status"] == "fail" and same["message"].endswith(SEED_CHALLENGE)
    # Another draft of that title is named too.
    code, twin = run_json("draft", "challenge", "--kb", kb, "--claim", PRICES, "--title", TITLE)
    code, other = run_json("draft", "challenge", "--kb", kb, "--claim", HOME, "--title", TITLE)
    [same] = [c for c in other["checks"] if c["id"] == "same-challenge"]
    assert same["message"] == f"An open challenge has this title already: draft {twin['id']}"


def test_stats_count_challenges_by_status(seeds_copy: Path) -> None:
    code, data = run_json("stats", str(seeds_copy))
    assert code == 0 and data["challenges_by_status"] == {"open": 1}
    code, text, _ = run("stats", str(seeds_copy))
    section = text.split("Challenges by status", 1)[1].split("\n\n", 1)[0]
    assert section.split() == ["open", "1"]
