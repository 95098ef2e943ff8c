"""The command line as a script would use it: exit codes, JSON, incremental indexing."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kbtui.cli import main

from corpus_cases import DUMMY, FRISTON, FUTARCHY_PASTED, GLP1, PROPOSAL_14, RAMSTEAD


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def run_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, [*args, "--json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


CLAIM = (
    "---\ntype: claim\ndomain: d\ndescription: why\nconfidence: likely\nsource: s\n"
    "created: 2026-01-01\n---\n\n# {title}\n\n{body}\n"
)


@pytest.fixture
def tiny_kb(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    write(
        root,
        "domains/d/cheap storage shifts peak demand.md",
        CLAIM.format(title="cheap storage shifts peak demand", body="See [[_map]]."),
    )
    write(root, "domains/d/_map.md", "# D\n\n- [[cheap storage shifts peak demand]]\n")
    return root


def test_check_on_corpus_names_each_case(corpus_copy: Path, tmp_path: Path) -> None:
    code, data = run_json("check", str(corpus_copy), "--db", str(tmp_path / "c.sqlite"))
    assert code == 1
    by_path = {f["path"]: {p["code"] for p in f["problems"]} for f in data["files"]}
    assert "duplicate-key" in by_path[PROPOSAL_14]
    assert "malformed-frontmatter" in by_path[FUTARCHY_PASTED]
    assert "coerced-value" in by_path[DUMMY]
    assert "status-drift" in by_path[FRISTON]
    assert data["documents"] == sum(1 for _ in corpus_copy.rglob("*.md"))


def test_corpus_handoff_cases_are_indexed(corpus_copy: Path) -> None:
    code, data = run_json("search", str(corpus_copy), "schrodinger free energy")
    assert code == 0 and any(h["path"] == RAMSTEAD for h in data["hits"])
    _, data = run_json("search", str(corpus_copy), "GLP-1 obesity", "--kind", "source")
    assert any(h["path"] == GLP1 for h in data["hits"])


def test_stats_json_has_integer_documents(tiny_kb: Path) -> None:
    code, data = run_json("stats", str(tiny_kb))
    assert code == 0
    assert data["documents"] == 2 and isinstance(data["documents"], int)
    assert data["by_kind"] == {"claim": 1, "map": 1}
    assert data["claims_by_confidence"] == {"likely": 1}
    assert data["links_by_rule"] == {"own-map": 1, "exact": 1}


def test_check_clean_kb_exits_zero(tiny_kb: Path) -> None:
    code, output = run("check", str(tiny_kb))
    assert code == 0 and "No problems in 2 files" in output


def test_check_problem_exits_one_with_file_and_line(tiny_kb: Path) -> None:
    write(tiny_kb, "domains/d/broken claim here.md", "---\ntype: claim\ndomain: [\n---\n")
    code, data = run_json("check", str(tiny_kb))
    assert code == 1
    [entry] = data["files"]
    assert entry["path"] == "domains/d/broken claim here.md"
    assert entry["problems"][0]["code"] == "malformed-frontmatter"
    assert entry["problems"][0]["line"] >= 2


def test_check_could_not_run_exits_two_without_traceback(tmp_path: Path) -> None:
    code, output = run("check", str(tmp_path / "nowhere"))
    assert code == 2 and "no such KB folder" in output and "Traceback" not in output
    bad_db = tmp_path / "bad.sqlite"
    bad_db.write_bytes(b"this is not a database" * 100)
    (tmp_path / "kb").mkdir()
    code, output = run("check", str(tmp_path / "kb"), "--db", str(bad_db))
    assert code == 2 and "no markdown files under" in output and "not a KB" in output
    assert not (tmp_path / "kb" / "kb.sqlite").exists()  # nothing written in a non-KB
    (tmp_path / "kb" / "note.md").write_text("# a note\n")
    code, output = run("check", str(tmp_path / "kb"), "--db", str(bad_db))
    assert code == 2 and "cannot open the index" in output


@pytest.mark.parametrize("query", ["foo -bar", '"', "AND", "*", "NEAR(", "-", "a:b", "'", "()"])
def test_search_accepts_any_text(tiny_kb: Path, query: str) -> None:
    code, data = run_json("search", str(tiny_kb), query)
    assert code == 0 and isinstance(data["hits"], list)


def test_search_ranks_and_excludes(tiny_kb: Path) -> None:
    _, data = run_json("search", str(tiny_kb), "storage")
    assert data["hits"][0]["path"] == "domains/d/cheap storage shifts peak demand.md"
    assert "[" in data["hits"][0]["snippet"]
    _, data = run_json("search", str(tiny_kb), "storage -peak")
    assert data["hits"] == []
    _, data = run_json("search", str(tiny_kb), "stor*", "--kind", "claim")
    assert len(data["hits"]) == 1


def test_incremental_index_reports_changes(tiny_kb: Path) -> None:
    _, first = run_json("index", str(tiny_kb))
    assert len(first["added"]) == 2
    _, again = run_json("index", str(tiny_kb))
    assert again["added"] == again["updated"] == again["deleted"] == [] and again["unchanged"] == 2
    claim = tiny_kb / "domains/d/cheap storage shifts peak demand.md"
    claim.write_text(claim.read_text() + "\nMore.\n")
    write(tiny_kb, "domains/d/new claim about grids.md", CLAIM.format(title="t", body="x"))
    _, changed = run_json("index", str(tiny_kb))
    assert changed["updated"] == ["domains/d/cheap storage shifts peak demand.md"]
    assert changed["added"] == ["domains/d/new claim about grids.md"]
    os.rename(
        tiny_kb / "domains/d/new claim about grids.md",
        tiny_kb / "domains/d/renamed claim about grids.md",
    )
    _, renamed = run_json("index", str(tiny_kb))
    assert renamed["renamed"] == [
        ["domains/d/new claim about grids.md", "domains/d/renamed claim about grids.md"]
    ]
    (tiny_kb / "domains/d/renamed claim about grids.md").unlink()
    _, deleted = run_json("index", str(tiny_kb))
    assert deleted["deleted"] == ["domains/d/renamed claim about grids.md"]
    assert deleted["documents"] == 2


def test_deleted_target_makes_link_unresolved(tiny_kb: Path) -> None:
    run("index", str(tiny_kb))
    (tiny_kb / "domains/d/cheap storage shifts peak demand.md").unlink()
    code, data = run_json("check", str(tiny_kb))
    assert code == 1
    [entry] = data["files"]
    assert entry["path"] == "domains/d/_map.md"
    assert entry["problems"][0]["code"] == "unresolved-link"


def test_reindex_from_scratch_gives_same_content(tiny_kb: Path, tmp_path: Path) -> None:
    def dump(db: Path) -> list[tuple[object, ...]]:
        with sqlite3.connect(db) as conn:
            return conn.execute(
                "SELECT path, kind, title, fields_json, body FROM documents ORDER BY path"
            ).fetchall()

    run("index", str(tiny_kb))
    before = dump(tiny_kb / "kb.sqlite")
    for suffix in ("", "-wal", "-shm"):
        (tiny_kb / f"kb.sqlite{suffix}").unlink(missing_ok=True)
    run("index", str(tiny_kb))
    assert dump(tiny_kb / "kb.sqlite") == before


def test_db_option_and_db_never_indexed(tiny_kb: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "index.sqlite"
    code, data = run_json("index", str(tiny_kb), "--db", str(elsewhere))
    assert code == 0 and elsewhere.exists() and not (tiny_kb / "kb.sqlite").exists()
    assert data["documents"] == 2


def test_index_kept_out_of_git_status(tiny_kb: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tiny_kb)], check=True)
    run("index", str(tiny_kb))
    status = subprocess.run(
        ["git", "-C", str(tiny_kb), "status", "--porcelain"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "kb.sqlite" not in status and "domains/" in status


def test_index_of_a_kb_in_a_repositorys_folder_kept_out_of_git_status(
    tiny_kb: Path, tmp_path: Path
) -> None:
    repository = tmp_path / "repository"
    (repository / "notes").mkdir(parents=True)
    kb = repository / "notes" / "kb"
    tiny_kb.rename(kb)
    subprocess.run(["git", "init", "-q", str(repository)], check=True)
    code, _ = run("index", str(kb))
    assert code == 0 and (kb / "kb.sqlite").exists()
    status = subprocess.run(
        ["git", "-C", str(repository), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "kb.sqlite" not in status and "notes/kb/domains/" in status


def test_symlink_outside_root_is_reported_not_followed(tiny_kb: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntype: claim\n---\nprivate\n")
    (tiny_kb / "domains/d/link.md").symlink_to(secret)
    code, data = run_json("check", str(tiny_kb))
    assert code == 1
    [entry] = data["files"]
    assert entry["path"] == "domains/d/link.md"
    assert entry["problems"][0]["code"] == "symlink-outside"
    _, hits = run_json("search", str(tiny_kb), "private")
    assert hits["hits"] == []


def test_hostile_file_names_and_contents(tiny_kb: Path) -> None:
    write(tiny_kb, "domains/d/[[weird]] $name — ‮rtl.md", "---\n\t- :\n---\n\x1b[31mred\n")
    (tiny_kb / "domains/d/binary.md").write_bytes(b"\x00\xff\xfe" * 100)
    (tiny_kb / "domains/d/latin.md").write_bytes(b"---\ntype: claim\ntitle: caf\xe9\n---\n")
    code, data = run_json("check", str(tiny_kb))
    assert code == 1
    codes = {f["path"]: {p["code"] for p in f["problems"]} for f in data["files"]}
    assert "binary-file" in codes["domains/d/binary.md"]
    assert "not-utf8" in codes["domains/d/latin.md"]
    code, output = run("check", str(tiny_kb))
    assert code == 1 and "Traceback" not in output


def test_demo_kb_is_the_default_and_copied_once(private_data_dir: Path) -> None:
    code, data = run_json("stats")
    assert code == 0 and data["documents"] > 20
    working = private_data_dir / "demo-kb"
    assert (working / "kb.sqlite").exists()
    result = CliRunner().invoke(main, ["stats"])
    assert "Copied the demo KB" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("drafts", "show", "99999999999999999999999"),
        ("drafts", "rm", "99999999999999999999999", "--yes"),
        ("search", "battery", "--limit", "99999999999999999999999"),
        ("search", "battery", "--limit", "0"),
    ],
)
def test_numbers_out_of_range_are_refused_in_one_line(tiny_kb: Path, args: tuple[str, ...]) -> None:
    command = [*args[:2], str(tiny_kb), *args[2:]] if args[0] == "search" else [*args]
    if args[0] == "drafts":
        command += ["--kb", str(tiny_kb)]
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "is not in the range" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("check", "{kb}\udcff"),
        ("status", "{kb}/inbox/archive/bad\udcff.md", "processing", "--kb", "{kb}"),
        ("search", "{kb}", "battery", "--domain", "\udcff"),
    ],
)
def test_arguments_that_are_not_utf8_are_refused_in_one_line(
    tiny_kb: Path, args: tuple[str, ...]
) -> None:
    result = CliRunner().invoke(main, [arg.replace("{kb}", str(tiny_kb)) for arg in args])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "is not valid UTF-8 text: b'" in result.output


def test_the_db_given_before_the_command_is_used(tiny_kb: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.sqlite"
    code, output = run("--db", str(elsewhere), "index", str(tiny_kb))
    assert code == 0 and elsewhere.exists() and not (tiny_kb / "kb.sqlite").exists()
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a database" * 100)
    code, output = run("--db", str(bad), "check", str(tiny_kb))
    assert code == 2 and "cannot open the index" in output


def test_a_demo_copy_that_cannot_be_made_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("KBTUI_DATA_DIR", str(blocker / "data"))
    result = CliRunner().invoke(main, ["open"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "kbtui:" in result.output and "Traceback" not in result.output


def test_search_names_the_kinds_when_given_another(tiny_kb: Path) -> None:
    result = CliRunner().invoke(main, ["search", str(tiny_kb), "storage", "--kind", "claims"])
    assert result.exit_code == 2 and "'claim', 'divergence'" in result.output


def test_search_puts_title_matches_first_and_ranks_within_a_filter(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    # Eight notes, the i-th saying "kiwi" i + 1 times in its body; one note with "kiwi" in
    # its title only, whose long body never says it.
    for i in range(8):
        write(kb, f"notes/n{i}.md", f"---\ntitle: note {i}\n---\n{'kiwi ' * (i + 1)}filler\n")
    write(kb, "notes/titled.md", "---\ntitle: Kiwi\n---\n" + "other words " * 150 + "\n")
    _, data = run_json("search", str(kb), "kiwi", "--limit", "4")
    assert [hit["path"] for hit in data["hits"]] == [
        "notes/titled.md",
        "notes/n7.md",
        "notes/n6.md",
        "notes/n5.md",
    ]
    # A filter keeps the ranking (it was lost when the filtered query was flattened).
    _, data = run_json("search", str(kb), "kiwi", "--kind", "other", "--limit", "3")
    assert [hit["path"] for hit in data["hits"]] == [
        "notes/titled.md",
        "notes/n7.md",
        "notes/n6.md",
    ]


def test_search_orders_equal_scores_by_path_however_the_index_was_built(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    text = "---\ntitle: note\n---\nkiwi orchard\n"
    write(kb, "notes/b.md", text)
    db = str(tmp_path / "s.sqlite")
    run("index", str(kb), "--db", db)
    write(kb, "notes/a.md", text)  # indexed after b.md: a higher id, the same score
    _, data = run_json("search", str(kb), "kiwi", "--db", db)
    assert [hit["path"] for hit in data["hits"]] == ["notes/a.md", "notes/b.md"]


def test_the_app_without_a_terminal_says_so(tiny_kb: Path) -> None:
    result = CliRunner().invoke(main, ["open", str(tiny_kb)])
    assert result.exit_code == 2 and "needs a terminal" in result.output


@pytest.mark.parametrize(
    ("damage", "reason"),
    [("read-only", "is read-only"), ("locked", "is busy in another program")],
)
def test_an_index_that_cannot_be_written_is_one_line(
    tiny_kb: Path, monkeypatch: pytest.MonkeyPatch, damage: str, reason: str
) -> None:
    run("index", str(tiny_kb))
    write(tiny_kb, "domains/d/one more claim.md", CLAIM.format(title="t", body="x"))
    error = (
        "attempt to write a readonly database" if damage == "read-only" else "database is locked"
    )

    def refuse(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError(error)

    monkeypatch.setattr("kbtui.ops.session.Session.reindex", refuse)
    result = CliRunner().invoke(main, ["check", str(tiny_kb), "--json"])
    assert result.exit_code == 2 and reason in result.output
    assert "Traceback" not in result.output


def test_status_refuses_to_drop_a_source_with_extracted_claims(
    seeds_copy: Path, tmp_path: Path
) -> None:
    """A processed source listing its extracted claims cannot become a null-result or go
    back to unprocessed (the check would call either drift); reopening it is allowed."""
    source = seeds_copy / "inbox/archive/2025-09-30-grid-operator-peaker-dispatch-data.md"
    db = str(tmp_path / "s.sqlite")
    code, out = run("status", str(source), "null-result", "--note", "no claim", "--db", db)
    assert code == 2
    assert "cannot set null-result" in out and "extracted claim" in out
    code, out = run("status", str(source), "unprocessed", "--db", db)
    assert code == 2 and "cannot set unprocessed" in out
    code, data = run_json("status", str(source), "processing", "--db", db)
    assert code == 0 and (data["from_status"], data["to_status"]) == ("processed", "processing")
    # Still refused while it is pending as processing: the file still lists the claims.
    code, out = run("status", str(source), "unprocessed", "--db", db)
    assert code == 2 and "cannot set unprocessed" in out


def test_a_source_listing_nothing_in_its_own_words_can_be_a_null_result(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    source = write(
        kb,
        "inbox/archive/2025-03-01-empty.md",
        "---\ntype: source\ntitle: Empty\nstatus: processing\nclaims_extracted: 0\n"
        "enrichments: none\n---\nNothing here.\n",
    )
    code, data = run_json("status", str(source), "null-result", "--note", "an empty dummy")
    assert code == 0 and data["to_status"] == "null-result"


def test_a_full_index_reports_what_changed_since_the_last_run(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    write(kb, "domains/d/a.md", CLAIM.format(title="a", body="one"))
    write(kb, "domains/d/b.md", CLAIM.format(title="b", body="two"))
    db = str(tmp_path / "f.sqlite")
    run("index", str(kb), "--db", db)
    (kb / "domains/d/a.md").unlink()
    (kb / "domains/d/b.md").rename(kb / "domains/d/c.md")
    write(kb, "domains/d/n.md", CLAIM.format(title="n", body="new"))
    code, data = run_json("index", str(kb), "--db", db, "--full")
    assert code == 0
    assert (data["added"], data["deleted"], data["renamed"]) == (
        ["domains/d/n.md"],
        ["domains/d/a.md"],
        [["domains/d/b.md", "domains/d/c.md"]],
    )


def test_an_index_named_like_markdown_inside_the_kb_is_not_indexed(
    tiny_kb: Path, tmp_path: Path
) -> None:
    # Made elsewhere and put there: an index kbtui would not make inside the KB.
    made = tmp_path / "made.sqlite"
    run("index", str(tiny_kb), "--db", str(made))
    db = str(tiny_kb / "index.md")
    made.rename(db)
    code, data = run_json("index", str(tiny_kb), "--db", db)
    assert code == 0 and data["documents"] == 2 and not data["updated"]


def test_a_damaged_index_is_named_with_what_to_do(tiny_kb: Path) -> None:
    (tiny_kb / "kb.sqlite").write_bytes(b"not sqlite at all " * 500)
    code, output = run("stats", str(tiny_kb))
    assert code == 2 and "Traceback" not in output
    assert "not a SQLite database" in output and "kbtui repair" in output
    assert "keeps the drafts and status changes" in output


def test_a_file_name_longer_than_the_system_allows_is_one_line(tiny_kb: Path) -> None:
    long = f"inbox/archive/{'a' * 300}.md"
    for args in (
        ("status", long, "processing", "--kb", str(tiny_kb)),
        ("status", str(tiny_kb / long), "processing"),
        ("draft", "claim", "--source", long, "--kb", str(tiny_kb)),
        ("draft", "claim", "--source", str(tiny_kb / long)),
    ):
        result = CliRunner().invoke(main, list(args))
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_draft_claim_takes_the_argument_and_a_trimmed_title(seeds_copy: Path) -> None:
    source = seeds_copy / "inbox/archive/2026-03-01-grid-operator-quarterly-evening-peak.md"
    code, data = run_json(
        "draft",
        "claim",
        "--source",
        str(source),
        "--hint",
        "1",
        "--title",
        "  evening peaks shrink when home batteries are enrolled  ",
        "--argument",
        "Enrolled homes discharged into the peak on 41 of 45 evenings.",
    )
    assert code == 0
    assert data["title"] == "evening peaks shrink when home batteries are enrolled"
    assert data["body"].startswith(
        "# evening peaks shrink when home batteries are enrolled\n\n"
        "Enrolled homes discharged into the peak on 41 of 45 evenings.\n"
    )
    assert {c["id"]: c["status"] for c in data["checks"]}["placeholders"] == "pass"


def test_drafts_rm_without_a_terminal_asks_for_yes_instead_of_aborting(seeds_copy: Path) -> None:
    source = seeds_copy / "inbox/archive/2026-03-01-grid-operator-quarterly-evening-peak.md"
    _, data = run_json("draft", "claim", "--source", str(source), "--hint", "1")
    code, output = run("drafts", "rm", str(data["id"]), "--kb", str(seeds_copy))
    assert code == 2 and "give --yes" in output and "Aborted" not in output
    code, _ = run("drafts", "rm", str(data["id"]), "--kb", str(seeds_copy), "--yes")
    assert code == 0


def test_draft_claim_enriches_a_claim_named_by_title_and_can_declare_different(
    seeds_copy: Path,
) -> None:
    source = seeds_copy / "inbox/archive/2025-10-14-foundation-report-sponsorship-patterns.md"
    title = (
        "corporate sponsorship programs fund visible projects over critical dependencies "
        "because sponsors pay for brand exposure"
    )
    code, output = run("draft", "claim", "--source", str(source), "--kind", "confirm")
    assert code == 2 and "give the claim with --enrich" in output
    code, data = run_json(
        "draft", "claim", "--source", str(source), "--description", "12% got 70%.",
        "--enrich", title, "--kind", "confirm",
    )  # fmt: skip
    assert code == 0 and data["kind"] == "enrichment" and data["enrichment_kind"] == "confirm"
    assert data["target_path"] == f"domains/open-source-economics/{title}.md"
    common = ["draft", "claim", "--source", str(source), "--title", title]
    common += ["--description", "In 2025, 12% of critical packages got 70% of the money."]
    common += ["--confidence", "likely"]
    code, output = run(*common, "--different", "--save")  # that claim's own title: its file
    assert code == 2 and "has this title already" in output
    common[5] = title.replace("corporate", "Corporate").replace("exposure", "exposure alone")
    code, output = run(*common, "--save")
    assert code == 2 and "near-duplicate" in output
    code, data = run_json(*common, "--different", "--save")
    assert code == 0 and data["state"] == "saved", data


def test_a_big_folder_without_a_kb_layout_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kbtui.ops import workspace

    monkeypatch.setattr(workspace, "SCAN_LIMIT", 50)
    big = tmp_path / "home"
    (big / "photos").mkdir(parents=True)
    for number in range(60):
        (big / "photos" / f"{number}.jpg").write_bytes(b"")
    (big / "notes.md").write_text("# notes\n")
    code, output = run("index", str(big))
    assert code == 2 and "holds over 50 files and folders" in output and "not a KB" in output
    assert not (big / "kb.sqlite").exists()
    (big / "domains").mkdir()  # the KB's layout: a KB, however big
    code, output = run("index", str(big))
    assert code == 0, output


def test_an_index_belongs_to_its_kb(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for root in (first, second):
        (root / "domains" / "d").mkdir(parents=True)
        (root / "domains" / "d" / "a claim.md").write_text("---\ntype: claim\n---\n# a\n")
    index = str(tmp_path / "shared.sqlite")
    assert run("index", str(first), "--db", index)[0] == 0
    code, output = run("index", str(second), "--db", index)
    assert code == 2 and "belongs to the KB at" in output and str(first) in output
    moved = tmp_path / "moved"
    first.rename(moved)  # a KB moved takes its index along
    code, output = run("stats", str(moved), "--db", index)
    assert code == 0, output


def test_a_run_waiting_for_another_one_says_so(seeds_copy: Path) -> None:
    import fcntl
    import threading

    from kbtui.ops.session import open_session

    session = open_session(seeds_copy, None)
    holder = open(f"{seeds_copy / 'kb.sqlite'}.lock", "ab")  # noqa: SIM115
    fcntl.flock(holder.fileno(), fcntl.LOCK_EX)  # another run, holding the index
    said: list[str] = []

    def release() -> None:
        holder.close()  # the other run ends

    def waiting() -> None:
        said.append("waiting")
        threading.Timer(0.05, release).start()

    report = session.reindex(waiting=waiting)
    assert said == ["waiting"] and report.documents > 0


def test_a_kb_copied_with_its_index_inside_uses_it(tmp_path: Path) -> None:
    import shutil

    first = tmp_path / "first"
    (first / "domains" / "d").mkdir(parents=True)
    (first / "domains" / "d" / "a claim.md").write_text("---\ntype: claim\n---\n# a\n")
    assert run("index", str(first))[0] == 0
    shutil.copytree(first, tmp_path / "copy")
    code, output = run("stats", str(tmp_path / "copy"))
    assert code == 0, output


def test_search_takes_words_unquoted_and_a_leading_exclusion(seeds_copy: Path) -> None:
    code, output = run("search", str(seeds_copy), "battery", "grid", "--json")
    assert code == 0 and json.loads(output)["query"] == "battery grid"
    code, output = run("search", str(seeds_copy), "-grid", "battery", "--json")
    found = json.loads(output)
    assert code == 0 and found["query"] == "-grid battery" and found["hits"]
    assert all("grid" not in hit["title"].lower() for hit in found["hits"])
    code, output = run("search", str(seeds_copy), "--", "-battery")
    assert code == 0 and "say what to look for too" in output


def test_a_typo_in_db_or_an_empty_kb_is_refused(tiny_kb: Path, tmp_path: Path) -> None:
    code, output = run("stats", str(tiny_kb), "--db", str(tmp_path / "no" / "such" / "x.sqlite"))
    assert code == 2 and "--db: no folder" in output and not (tmp_path / "no").exists()
    code, output = run("stats", "")
    assert code == 2 and "empty text" in output


def test_every_command_takes_its_kb_as_kb_too(tiny_kb: Path, tmp_path: Path) -> None:
    for command in ("index", "check", "stats", "undo", "divergences"):
        code, output = run(command, "--kb", str(tiny_kb))
        assert code in (0, 1), (command, output)
    code, output = run("drafts", "list", "--kb", str(tiny_kb))
    assert code == 0, output
    (tmp_path / "other" / "domains").mkdir(parents=True)
    code, output = run("stats", str(tiny_kb), "--kb", str(tmp_path / "other"))
    assert code == 2 and "two KBs given" in output
