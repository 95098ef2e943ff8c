"""A preview of the KB's merge gate: `kbtui check --gate` over a KB, the gate's verdict on
exactly the files an export would write (`export --dry-run`, the preview's list and diff),
and the two checks plain `kbtui check` gained with it: an unknown `type:`, and near-duplicate
claim titles across the KB."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rapidfuzz import fuzz
from rich.syntax import Syntax
from textual.content import Content
from textual.widgets import OptionList, Static

from kbtui.cli import main
from kbtui.formats.checks import GateCode
from kbtui.formats.similar import TitleIndex, title_words
from kbtui.ui.screens.export import ExportPreview

from app_helpers import make_app

SOURCE = (
    "---\ntype: source\ntitle: {title}\nauthor: A. Writer\nurl: https://example.org/x\n"
    "date: 2026-01-01\ndomain: energy\nformat: report\nstatus: unprocessed\n---\n\nText.\n"
)
CLAIM = (
    "---\ntype: claim\ndomain: {domain}\ndescription: why it holds\nconfidence: likely\n"
    "source: a study\ncreated: 2026-01-01\n---\n\n# {title}\n\n{body}\n"
)
FINE = "storage shifts the evening peak by four hours"
TWICE = "batteries flatten the evening demand peak in sunny regions"
SEED_SOURCE = "inbox/archive/2026-03-08-maintainer-survey-open-source-funding.md"


@pytest.fixture(autouse=True)
def curator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KBTUI_CURATOR", "tester")
    monkeypatch.setenv("KBTUI_CONFIG", str(tmp_path / "no-config.toml"))


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def run_json(*args: str) -> tuple[int, Any]:
    code, stdout = run(*args, "--json")
    return code, json.loads(stdout)


def put(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def claim(
    root: Path, title: str, domain: str = "energy", body: str = "Text.", swap: str = ""
) -> str:
    """A claim file; `swap` is a `field: value` line that replaces that field's."""
    text = CLAIM.format(title=title, domain=domain, body=body)
    if swap:
        name = swap.split(":", 1)[0]
        text = "\n".join(swap if line.startswith(name + ":") else line for line in text.split("\n"))
    rel = f"domains/{domain}/{title}.md"
    put(root, rel, text)
    return rel


def gate_kb(root: Path) -> dict[str, str]:
    """A KB with one file for each reason the gate rejects a file, and one that passes."""
    files = {
        "fine": claim(root, FINE, body=f"Builds on [[{TWICE}]]."),
        "grid": claim(root, "grid operators pay for evening capacity", domain="grid"),
        "missing": claim(root, "heat pumps cut winter demand", swap="created:"),
        "type": claim(root, "solar output peaks at noon", swap="type: analysis"),
        "confidence": claim(root, "wind fills the winter gap", swap="confidence: plausible"),
        "mismatch": claim(
            root, "night tariffs shifted demand away from the peak", swap="domain: grid"
        ),
        "topic": claim(root, "storage"),
        "universal": claim(root, "all batteries always lose capacity in the cold"),
        "link": claim(
            root, "demand response lowered the peaks", body="See [[nothing by that name]]."
        ),
        "twice": claim(root, TWICE),
        "slug": claim(root, TWICE.replace(" ", "-")),
    }
    put(
        root,
        "domains/energy/challenge-storage-shifts-less.md",
        "---\ntype: challenge\nchallenge_type: boundary\nstatus: open\ncreated: 2026-01-02\n"
        "---\n\n# Storage shifts less than said\n",
    )
    files["challenge"] = "domains/energy/challenge-storage-shifts-less.md"
    for name, old, new in (
        ("format", "format: report", "format: podcast"),
        ("domain", "domain: energy", "domain: nowhere"),
        ("date", "date: 2026-01-01", "date: 2019-06-30"),
    ):
        rel = f"inbox/archive/2026-01-01-{name}.md"
        put(root, rel, SOURCE.format(title=name).replace(old, new))
        files[name] = rel
    put(root, "inbox/archive/2026-01-01-clean.md", SOURCE.format(title="clean"))
    files["clean"] = "inbox/archive/2026-01-01-clean.md"
    return files


def test_check_gate_reports_each_file_in_the_gates_codes(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    files = gate_kb(root)
    code, data = run_json("check", "--gate", str(root))
    assert code == 1
    verdicts = {entry["path"]: entry["gate"] for entry in data["files"]}
    expected = {
        "missing": ["missing_field:created"],
        "type": ["invalid_type:analysis"],
        "confidence": ["invalid_confidence:plausible"],
        "mismatch": ["domain_mismatch:grid"],
        "topic": ["not_a_proposition"],
        "universal": ["universal_quantifier:all", "universal_quantifier:always"],
        "link": ["broken_wiki_link:nothing by that name"],
        "twice": [f"near_duplicate:{files['slug']}"],
        "slug": [f"near_duplicate:{files['twice']}"],
        "challenge": ["missing_target_claim"],
        "format": ["invalid_format:podcast"],
        "domain": ["invalid_domain:nowhere"],
        "date": ["date_too_early:date"],
    }
    for name, codes in expected.items():
        assert verdicts.get(files[name]) == codes, name
    # The files that pass are not listed, but counted.
    for name in ("fine", "grid", "clean"):
        assert files[name] not in verdicts
    assert data["files_checked"] == len(files)
    assert data["files_failing"] == len(expected)
    # Every reason the gate has is one this KB shows.
    shown = {c.split(":", 1)[0] for codes in verdicts.values() for c in codes}
    assert shown == {code.value for code in GateCode}

    code, text = run("check", "--gate", str(root))
    assert code == 1
    assert f"{len(expected)} of {len(files)} files fail the merge gate" in text
    assert "invalid_format:podcast  format 'podcast' is not one of" in text


def test_check_gate_passes_a_clean_kb_and_lists_its_codes(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    claim(root, FINE)
    put(root, "inbox/archive/2026-01-01-clean.md", SOURCE.format(title="clean"))
    code, text = run("check", "--gate", str(root))
    assert code == 0
    assert "All 2 files pass the merge gate." in text

    code, listed = run_json("check", "--codes")
    assert code == 0
    assert [row["code"] for row in listed["gate_codes"]] == [c.value for c in GateCode]
    assert all(row["explanation"].endswith(".") for row in listed["gate_codes"])
    _, text = run("check", "--codes")
    assert "The merge gate's codes" in text and "missing_target_claim" in text


def test_an_unknown_type_is_reported_and_the_file_keeps_its_folders_kind(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    rel = claim(root, "solar output peaks at noon", swap="type: foo")
    claim(root, FINE)
    code, data = run_json("check", str(root), "--only", "unknown-type")
    assert code == 1
    (entry,) = data["files"]
    assert entry["path"] == rel and entry["kind"] == "claim"
    (problem,) = entry["problems"]
    assert problem["severity"] == "warning" and problem["line"] == 2
    assert (
        problem["message"]
        == "type: foo names no kind of the profile (read as a claim, by its folder)"
    )
    _, stats = run_json("stats", str(root))
    assert stats["by_kind"]["claim"] == 2


def test_near_duplicate_titles_are_a_kb_wide_check(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    twice = claim(root, TWICE)
    slug = claim(root, TWICE.replace(" ", "-"))
    claim(root, FINE)
    code, data = run_json("check", str(root))
    assert code == 1
    found = {
        entry["path"]: [p["message"] for p in entry["problems"]]
        for entry in data["files"]
        if any(p["code"] == "near-duplicate-title" for p in entry["problems"])
    }
    assert found == {
        twice: [f"title 100% like that of {slug}"],
        slug: [f"title 100% like that of {twice}"],
    }
    # Renaming one away clears both, on the next incremental run.
    (root / slug).rename(root / "domains/energy/wind fills the winter gap.md")
    code, data = run_json("check", str(root))
    assert code == 0, data


def test_title_index_finds_what_comparing_every_pair_finds() -> None:
    """Blocking on rare words loses none of the pairs a comparison of every pair finds, on
    titles built to be near one another; and 10,000 titles take a fraction of a second (a
    third of one here; every pair would be fifty million comparisons)."""
    rng = random.Random(7)
    words = [f"w{n}" for n in range(400)] + ["the", "of", "and", "because", "markets"]
    titles = [" ".join(rng.choices(words, k=rng.randint(6, 16))) for _ in range(1500)]
    for at in range(0, 300, 3):  # near copies: a word changed, a plural, a slug
        variant = titles[at].split()
        variant[rng.randrange(len(variant))] = rng.choice(words)
        titles.append(" ".join(variant))
        titles.append(titles[at] + "s")
        titles.append(titles[at].replace(" ", "-"))
    texts = [" ".join(title_words(t)) for t in titles]
    every = {
        (i, j)
        for i in range(len(texts))
        for j in range(i + 1, len(texts))
        if fuzz.token_sort_ratio(texts[i], texts[j], score_cutoff=85)
    }
    found = {(p.first, p.second) for p in TitleIndex(titles).pairs(0.85)}
    assert len(every) > 200
    assert found == every

    # Words as titles use them: a few common, most rare.
    vocabulary = [f"v{n}" for n in range(20_000)]
    weights = [1 / (rank + 1) for rank in range(20_000)]
    many = [
        " ".join(rng.choices(vocabulary, weights=weights, k=rng.randint(8, 20)))
        for _ in range(10_000)
    ]
    started = time.perf_counter()
    TitleIndex(many).pairs(0.85)
    assert time.perf_counter() - started < 3


def _spoil_seed_source(seeds: Path) -> None:
    path = seeds / SEED_SOURCE
    text = path.read_text(encoding="utf-8")
    assert "\nformat: report\n" in text
    path.write_text(text.replace("\nformat: report\n", "\nformat: podcast\n"), encoding="utf-8")


def test_export_dry_run_shows_the_gates_verdict_per_file(seeds_copy: Path) -> None:
    source = seeds_copy / SEED_SOURCE
    code, draft = run_json(
        "draft",
        "claim",
        "--source",
        str(source),
        "--title",
        "all maintainers burn out because funding never reaches small projects",
        "--description",
        "a survey of 400 maintainers finds unpaid work dominates",
        "--confidence",
        "likely",
        "--argument",
        "The survey says so.",
        "--save",
    )
    assert code == 0 and draft["state"] == "saved"
    code, data = run_json("export", str(seeds_copy), "--dry-run")
    assert code == 0  # the gate informs the curator; it never holds the export back
    gates = {f["path"]: f["gate"] for f in data["files"]}
    (new_claim,) = [f["path"] for f in data["files"] if f["action"] == "add"]
    assert gates[new_claim] == [
        "universal_quantifier:all",
        "universal_quantifier:never",
    ]
    assert gates[SEED_SOURCE] == []

    _spoil_seed_source(seeds_copy)
    code, text = run("export", str(seeds_copy), "--dry-run")
    assert "merge gate: fails universal_quantifier:all, universal_quantifier:never" in text
    assert "merge gate: fails invalid_format:podcast" in text


def _plain(prompt: object) -> str:
    return prompt.plain if isinstance(prompt, Content) else Content.from_markup(str(prompt)).plain


async def test_the_preview_shows_the_gates_verdict_in_its_list_and_diff(
    seeds_copy: Path,
) -> None:
    _spoil_seed_source(seeds_copy)
    app = make_app(seeds_copy)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("s", "e")
        preview = app.screen
        assert isinstance(preview, ExportPreview)
        files = preview.query_one(OptionList)
        assert files.option_count == 1
        line = _plain(files.get_option_at_index(0).prompt)
        assert line.endswith(f"{SEED_SOURCE} gate ✗1")
        diff = preview.query_one("#export-diff", Static).content
        assert isinstance(diff, Syntax)
        assert f"{SEED_SOURCE}\n" in diff.code
        assert "\nMerge gate: fails invalid_format:podcast\n" in diff.code


def test_check_gate_runs_on_the_corpus(corpus_copy: Path) -> None:
    """The corpus's one claim kept twice in one folder, as a slug and spaced, is reported by
    the plain check and by the gate."""
    code, data = run_json("check", "--gate", str(corpus_copy))
    assert code == 1
    assert data["files_checked"] > 800
    title = (
        "futarchy can override its own prior decisions when new evidence emerges because "
        "conditional markets re-evaluate proposals against current information not "
        "historical commitments"
    )
    spaced = f"domains/internet-finance/{title}.md"
    slug = f"domains/internet-finance/{title.replace(' ', '-')}.md"
    assert (corpus_copy / spaced).is_file() and (corpus_copy / slug).is_file()
    verdicts = {entry["path"]: entry["gate"] for entry in data["files"]}
    assert f"near_duplicate:{slug}" in verdicts[spaced]
    _, checked = run_json("check", str(corpus_copy), "--only", "near-duplicate-title")
    paths = {entry["path"] for entry in checked["files"]}
    assert {spaced, slug} <= paths


def test_the_apps_preview_gates_by_the_kbs_own_profile(tmp_path: Path) -> None:
    """The app indexes in a child process, so its own process never loads the KB's
    kbtui.toml: the preview's gate must still follow it."""
    from kbtui.formats.profile import activate
    from kbtui.ops import curation, export
    from kbtui.ops.gate import gate_changes
    from kbtui.ops.index_runner import index_in_child
    from kbtui.ops.session import open_session

    kb = tmp_path / "kb"
    put(kb, "kbtui.toml", '[gate]\nquantifiers = ["all", "mostly"]\n')
    put(kb, "inbox/archive/2026-01-01-clean.md", SOURCE.format(title="clean"))
    claim(kb, FINE)
    code, draft = run_json(
        "draft",
        "claim",
        "--source",
        str(kb / "inbox/archive/2026-01-01-clean.md"),
        "--title",
        "batteries mostly lose capacity in the cold",
        "--description",
        "a fleet study of 400 cars",
        "--confidence",
        "likely",
        "--argument",
        "The study says so.",
        "--save",
    )
    assert code == 0 and draft["state"] == "saved"
    activate(None)  # the app's process, which indexed only in a child
    session = open_session(kb, None)
    try:
        index_in_child(session.workspace.db_path, kb)
        plan = export.plan_export(session.db, kb, curation.curator_name())
        verdicts = gate_changes(session.db, plan.changes)
    finally:
        session.close()
    (added,) = [c.path for c in plan.changes if c.action == "add"]
    assert "universal_quantifier:mostly" in verdicts[added].codes
