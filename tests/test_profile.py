"""The KB's schema as data: the shipped profile, a KB's own `kbtui.toml` over it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbtui.cli import main
from kbtui.formats import kinds
from kbtui.formats.document import parse_document
from kbtui.formats.profile import ProfileError, activate, build_schema, shipped, shipped_text
from kbtui.ops import desk
from kbtui.ops.profile import load_profile
from kbtui.ops.session import open_session

OWN_PROFILE = """\
# This KB also keeps experiments, and claims say who replicated them.

[[paths]]
pattern = "experiments/**"
kind = "experiment"

[kinds.experiment]
label = "Experiments: a test of one or more claims"
types = ["experiment"]
frontmatter = true
checked = true
status = "status"
queues = ["planned", "running", "done"]
cascade = true

[kinds.experiment.fields]
type = { shape = "text", required = true }
hypothesis = { shape = "text", required = true }
status = { shape = "text", vocabulary = ["planned", "running", "done"] }
tests = { shape = "list", link = "tests" }

[kinds.claim.fields]
replicated_by = { link = "replicated_by" }
"""

PEAK = "home batteries flatten the evening peak"
PEAK_PATH = f"domains/energy/{PEAK}.md"

TRIAL = f"""\
---
type: experiment
hypothesis: Time-of-use tariffs move the evening peak
status: running
tests:
  - {PEAK}
---

# Evening peak trial
"""

HALF_WRITTEN = """\
---
type: experiment
status: abandoned
budget: 40000
---

# A trial nobody finished
"""

SECOND_CLAIM = f"""\
---
type: claim
domain: energy
description: "Ten utilities saw the same shift."
confidence: experimental
source: "Field Notes"
created: 2026-01-05
replicated_by:
  - {PEAK}
---

# tariffs shift household load

Ten utilities saw the same shift.
"""


@pytest.fixture(autouse=True)
def shipped_profile_after() -> object:
    yield None
    activate(None)  # a KB's profile put in force by a test stays with that test


@pytest.fixture
def own_profile_kb(small_kb: Path) -> Path:
    (small_kb / "kbtui.toml").write_text(OWN_PROFILE, encoding="utf-8")
    folder = small_kb / "experiments"
    folder.mkdir()
    (folder / "evening-peak-trial.md").write_text(TRIAL, encoding="utf-8")
    (folder / "unfinished.md").write_text(HALF_WRITTEN, encoding="utf-8")
    (small_kb / "domains/energy/tariffs shift household load.md").write_text(
        SECOND_CLAIM, encoding="utf-8"
    )
    return small_kb


def test_a_new_kind_and_link_field_in_a_kbs_profile_need_no_code(own_profile_kb: Path) -> None:
    runner = CliRunner()
    stats = json.loads(runner.invoke(main, ["stats", str(own_profile_kb), "--json"]).stdout)
    assert stats["by_kind"]["experiment"] == 2  # indexed, counted
    check = json.loads(
        runner.invoke(main, ["check", str(own_profile_kb), "--all", "--json"]).stdout
    )
    problems = {
        f["path"]: {(p["code"], p["message"]) for p in f["problems"]} for f in check["files"]
    }
    unfinished = problems["experiments/unfinished.md"]
    assert ("missing-field", "required field 'hypothesis' is missing") in unfinished
    assert any(code == "off-vocabulary" and "abandoned" in text for code, text in unfinished)
    assert any(code == "unknown-fields" and "budget" in text for code, text in unfinished)
    assert "experiments/evening-peak-trial.md" not in problems  # a clean file
    session = open_session(own_profile_kb, None)
    session.reindex()
    try:
        back = {(b.path, b.origin) for b in desk.backlinks(session.db, PEAK_PATH)}
        assert ("experiments/evening-peak-trial.md", "tests") in back
        assert ("domains/energy/tariffs shift household load.md", "replicated_by") in back
        from kbtui.ops.divergence import cascade

        dependents = {d.path for d in cascade(session.db, PEAK_PATH)}
        assert "experiments/evening-peak-trial.md" in dependents
        queues = desk.kind_queues(session.db, "experiment")
        assert list(queues) == ["planned", "running", "done", "other"]
        assert [e.path for e in queues["running"]] == ["experiments/evening-peak-trial.md"]
        assert [e.path for e in queues["other"]] == ["experiments/unfinished.md"]
    finally:
        session.close()
    listed = runner.invoke(main, ["queue", "experiment", str(own_profile_kb), "--json"])
    assert listed.exit_code == 0, listed.output
    assert [e["path"] for e in json.loads(listed.stdout)["queues"]["running"]] == [
        "experiments/evening-peak-trial.md"
    ]


def test_kbtui_profile_says_where_each_part_came_from(own_profile_kb: Path) -> None:
    result = CliRunner().invoke(main, ["profile", str(own_profile_kb), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    origins = {part["key"]: part["origin"] for part in data["parts"]}
    assert origins["kinds.experiment"].endswith("kbtui.toml")
    assert origins["kinds.claim.fields.confidence"] == "kbtui/profile.toml"
    assert origins["kinds.claim.fields.replicated_by"].endswith("kbtui.toml")
    assert origins["kinds.claim.fields"].startswith("kbtui/profile.toml + ")
    assert data["kinds"]["experiment"]["fields"]["tests"]["link"] == "tests"
    text = CliRunner().invoke(main, ["profile", str(own_profile_kb)])
    assert text.exit_code == 0 and "experiment" in text.stdout and "kbtui.toml" in text.stdout


@pytest.mark.parametrize(
    ("profile", "words"),
    [
        ("[kinds.claim\n", "not valid TOML"),
        ("[kinds.claim.fields]\nconfidence = { shape = 'number' }\n", "kinds.claim.fields"),
        ("[kinds.claim]\ncolour = 'red'\n", "colour"),
        ("[[paths]]\npattern = 'x/**'\nkind = 'nothing'\n", "no kind named 'nothing'"),
    ],
)
def test_a_broken_kb_profile_is_named_with_its_key_and_reason(
    small_kb: Path, profile: str, words: str
) -> None:
    (small_kb / "kbtui.toml").write_text(profile, encoding="utf-8")
    with pytest.raises(ProfileError) as raised:
        load_profile(small_kb)
    assert "kbtui.toml" in str(raised.value) and words in str(raised.value)
    result = CliRunner().invoke(main, ["check", str(small_kb)])
    assert result.exit_code == 2 and words in result.stderr, result.output
    assert "Traceback" not in result.output


def test_the_front_ends_constants_are_the_shipped_profiles() -> None:
    schema = shipped()
    assert schema.kind_spec("source").queues == kinds.SOURCE_STATUSES
    assert schema.vocabulary("claim", "confidence") == kinds.CLAIM_CONFIDENCES
    assert schema.vocabulary("divergence", "status") == kinds.DIVERGENCE_STATUSES
    assert schema.kinds == kinds.ALL_KINDS
    assert schema.kind_spec("source").queue_as == kinds.SOURCE_QUEUE_AS


@pytest.mark.parametrize(
    ("path", "type_value", "kind"),
    [
        ("inbox/archive/2026-01-01-a.md", "claim", "source"),  # every archived file
        ("inbox/queue/2026-01-01-a.md", None, "source"),
        ("domains/energy/divergence-which-battery.md", None, "divergence"),
        ("domains/energy/challenge-batteries-do-not-flatten.md", None, "challenge"),
        ("domains/energy/a claim.md", "challenge", "challenge"),
        ("domains/energy/a claim.md", "entity", "claim"),
        ("domains/loose.md", None, "other"),
        ("agents/ana/beliefs.md", None, "belief"),
        ("agents/ana/positions/p.md", None, "position"),
        ("notes/x.md", "topic-map", "map"),
    ],
)
def test_paths_and_types_make_the_kinds_they_did(
    path: str, type_value: str | None, kind: str
) -> None:
    assert shipped().kind_of(path, type_value) == kind


CHALLENGE = """\
---
type: challenge
target_claim: home batteries flatten the evening peak
challenge_type: boundary
status: open
confidence: likely
source: "Grid operator data"
created: 2026-02-01
---

# Home batteries only flatten the peak under time-of-use tariffs
"""


def test_a_challenge_is_its_own_kind_linked_to_its_claim() -> None:
    doc = parse_document("domains/energy/challenge-tariffs-decide.md", CHALLENGE.encode())
    assert doc.kind == "challenge" and doc.status == "open" and doc.domain == "energy"
    assert not [p for p in doc.problems if p.severity != "info"]
    assert [(link.origin, link.target) for link in doc.links] == [
        ("target_claim", "home batteries flatten the evening peak")
    ]


def test_typed_relations_and_newer_claim_fields_are_links_not_unknown() -> None:
    text = """\
---
type: claim
domain: energy
description: "d"
confidence: likely
source: "s"
created: 2026-01-01
sourced_from: inbox/archive/2026-01-03-battery-trial.md
supports: [grid batteries beat peakers]
related:
  - tariffs shift household load
cross_references:
  - relation: depends_on
    target: cheap storage exists
  - relation: challenged_by
    target: "[[challenge-tariffs-decide]]"
summary: short
importance: high
domains: [energy, grid]
---

# x
"""
    doc = parse_document("domains/energy/x.md", text.encode())
    assert not [p for p in doc.problems if p.code == "unknown-fields"]
    assert {(link.origin, link.target) for link in doc.links} == {
        ("sourced_from", "inbox/archive/2026-01-03-battery-trial.md"),
        ("supports", "grid batteries beat peakers"),
        ("related", "tariffs shift household load"),
        ("depends_on", "cheap storage exists"),
        ("challenged_by", "challenge-tariffs-decide"),
    }


def test_the_enrichment_status_and_newer_source_fields_are_known() -> None:
    text = """\
---
type: source
title: "t"
author: "a"
url: https://example.org
date: 2026-01-01
domain: energy
status: enrichment
intake_tier: directed
archived_by: theseus
cross_domain_flags: [health]
event_type: launch
proposed_by: ana
rationale: timely
---
"""
    doc = parse_document("inbox/queue/2026-01-01-t.md", text.encode())
    assert doc.kind == "source" and doc.status == "enrichment"
    assert [p.code for p in doc.problems if p.severity != "info"] == []
    assert not [p for p in doc.problems if p.code == "unknown-fields"]


def test_the_shipped_profile_reads_back_the_same_schema() -> None:
    again = build_schema([("kbtui/profile.toml", shipped_text())])
    assert again.digest == shipped().digest


def test_a_source_the_pipeline_marked_enrichment_is_in_the_processed_queue(
    small_kb: Path,
) -> None:
    source = small_kb / "inbox/archive/2026-01-03-battery-trial.md"
    source.write_text(
        source.read_text(encoding="utf-8").replace("status: unprocessed", "status: enrichment"),
        encoding="utf-8",
    )
    session = open_session(small_kb, None)
    session.reindex()
    try:
        processed = desk.queue_rows(session.db, desk.queue_ids(session.db, "processed"))
        other = desk.queue_rows(session.db, desk.queue_ids(session.db, "other"))
        counts = desk.queue_counts(session.db)
    finally:
        session.close()
    assert "inbox/archive/2026-01-03-battery-trial.md" in {r.path for r in processed.values()}
    assert not other
    assert counts["processed"] == 1 and counts["other"] == 0


def test_a_claim_naming_its_source_counts_as_drawn_from_it(small_kb: Path) -> None:
    """Provenance from the claim's side (`sourced_from`) as well as the source's lists."""
    source = "inbox/archive/2026-01-03-battery-trial.md"
    claim = small_kb / PEAK_PATH
    claim.write_text(
        claim.read_text(encoding="utf-8").replace(
            "created: 2026-01-05\n", f"created: 2026-01-05\nsourced_from: {source}\n"
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["status", source, "null-result", "--note", "nothing", "--kb", str(small_kb)]
    )
    assert result.exit_code == 2
    assert "1 claim names" in result.stderr and "(sourced_from)" in result.stderr
    session = open_session(small_kb, None)
    session.reindex()
    try:
        back = {(b.path, b.origin) for b in desk.backlinks(session.db, source)}
    finally:
        session.close()
    assert (PEAK_PATH, "sourced_from") in back


def test_a_kbs_own_kind_takes_a_type_the_shipped_profile_names(small_kb: Path) -> None:
    (small_kb / "kbtui.toml").write_text(
        '[kinds.evidence]\nlabel = "Evidence kept apart"\ntypes = ["evidence"]\n'
        "frontmatter = true\n",
        encoding="utf-8",
    )
    folder = small_kb / "inbox/queue"
    folder.mkdir(parents=True)
    (folder / "meter-readings.md").write_text(
        "---\ntype: evidence\ntitle: Meter readings\n---\n\nReadings.\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["stats", str(small_kb), "--json"])
    assert json.loads(result.stdout)["by_kind"]["evidence"] == 1
    assert load_profile(small_kb).kind_of("inbox/queue/meter-readings.md", "evidence") == (
        "evidence"
    )
    # The shipped profile alone keeps reading it as a source.
    assert shipped().kind_of("inbox/queue/meter-readings.md", "evidence") == "source"


def test_kbtui_profile_takes_db_like_every_command(own_profile_kb: Path, tmp_path: Path) -> None:
    index = str(tmp_path / "elsewhere.sqlite")
    runner = CliRunner()
    for args in (
        ["profile", str(own_profile_kb), "--db", index, "--json"],
        ["--db", index, "profile", str(own_profile_kb), "--json"],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.stderr
        assert "experiment" in json.loads(result.stdout)["kinds"]


def test_a_kbs_own_confidences_are_the_ones_a_claim_draft_takes(small_kb: Path) -> None:
    (small_kb / "kbtui.toml").write_text(
        '[kinds.claim.fields]\nconfidence = { shape = "text", required = true, '
        'vocabulary = ["settled", "contested"] }\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    source = str(small_kb / "inbox/archive/2026-01-03-battery-trial.md")
    result = runner.invoke(
        main,
        ["draft", "claim", "--source", source, "--hint", "1", "--confidence", "settled", "--json"],
    )
    assert result.exit_code == 0, result.output
    checks = {c["id"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["confidence"]["status"] == "pass"
    likely = runner.invoke(
        main,
        ["draft", "claim", "--source", source, "--hint", "1", "--confidence", "likely", "--json"],
    )
    checks = {c["id"]: c for c in json.loads(likely.stdout)["checks"]}
    assert checks["confidence"]["message"] == "Choose a confidence: settled, contested."
