"""Acceptance on the real KB: every file indexed, the messy cases handled as a curator expects."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from kbtui.formats.document import parse_document
from kbtui.formats.models import model_dict
from kbtui.ops.indexer import index_kb
from kbtui.store.db import open_db

from corpus_cases import (
    DRIFT,
    DUMMY,
    FRISTON,
    FUTARCHY_PASTED,
    GLP1,
    MD_SUFFIX,
    PROPOSAL_14,
    RAMSTEAD,
    SUPERORGANISM,
)


@pytest.fixture(scope="module")
def indexed(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> sqlite_utils.Database:
    """The corpus indexed once into a database outside it (the corpus is never written),
    read back through sqlite-utils as a scripting user would."""
    db = open_db(tmp_path_factory.mktemp("index") / "kb.sqlite")
    index_kb(db, corpus)
    return sqlite_utils.Database(db.conn)


def doc_row(db: sqlite_utils.Database, path: str) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM documents WHERE path = ?", [path]))
    assert rows, f"{path} is not in the index"
    return rows[0]


def problems_of(db: sqlite_utils.Database, path: str) -> list[dict[str, Any]]:
    return list(
        db.query(
            "SELECT p.* FROM problems p JOIN documents d ON d.id = p.doc_id WHERE d.path = ?",
            [path],
        )
    )


def markdown_files(root: Path) -> list[str]:
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        found += [
            os.path.relpath(os.path.join(folder, f), root).replace(os.sep, "/")
            for f in files
            if f.endswith(".md")
        ]
    return sorted(found)


def test_every_markdown_file_is_indexed(corpus: Path, indexed: sqlite_utils.Database) -> None:
    files = markdown_files(corpus)
    paths = sorted(row["path"] for row in indexed.query("SELECT path FROM documents"))
    assert paths == files


def test_joining_raw_parts_reproduces_every_file(
    corpus: Path, indexed: sqlite_utils.Database
) -> None:
    for row in indexed.query(
        "SELECT path, prefix, raw_frontmatter, body, raw_bytes, sha256 FROM documents"
    ):
        data = (corpus / row["path"]).read_bytes()
        joined = row["raw_bytes"] or (row["prefix"] + row["raw_frontmatter"] + row["body"]).encode(
            "utf-8"
        )
        assert joined == data, row["path"]
        assert hashlib.sha256(data).hexdigest() == row["sha256"]


def test_zero_day_dates_stay_strings(corpus: Path, indexed: sqlite_utils.Database) -> None:
    assert doc_row(indexed, FRISTON)["date"] == "2015-03-00"
    zero_dated = list(indexed.query("SELECT path, date FROM documents WHERE date LIKE '%-00%'"))
    assert len(zero_dated) > 20
    for row in zero_dated:
        codes = {p["code"] for p in problems_of(indexed, row["path"])}
        assert "malformed-frontmatter" not in codes, row["path"]


def test_duplicate_keys_reported_by_name(indexed: sqlite_utils.Database) -> None:
    messages = [
        p["message"] for p in problems_of(indexed, PROPOSAL_14) if p["code"] == "duplicate-key"
    ]
    for key in ("processed_by", "processed_date", "extraction_model", "extraction_notes"):
        assert any(f"'{key}'" in m for m in messages), key


def test_body_pasted_in_frontmatter(corpus: Path, indexed: sqlite_utils.Database) -> None:
    row = doc_row(indexed, FUTARCHY_PASTED)
    assert row["kind"] == "claim"
    codes = {p["code"] for p in problems_of(indexed, FUTARCHY_PASTED)}
    assert "malformed-frontmatter" in codes
    joined = (row["prefix"] + row["raw_frontmatter"] + row["body"]).encode()
    assert joined == (corpus / FUTARCHY_PASTED).read_bytes()
    assert json.loads(str(row["fields_json"]))["confidence"] == "likely"


def test_claims_extracted_zero_is_an_empty_list(indexed: sqlite_utils.Database) -> None:
    model = model_dict("source", json.loads(str(doc_row(indexed, DUMMY)["fields_json"])))
    assert model["claims_extracted"] == []
    messages = [p["message"] for p in problems_of(indexed, DUMMY) if p["code"] == "coerced-value"]
    assert any("claims_extracted" in m for m in messages)


def test_unclosed_frontmatter_entity(indexed: sqlite_utils.Database) -> None:
    assert "unclosed-frontmatter" in {p["code"] for p in problems_of(indexed, DRIFT)}


def resolved(db: sqlite_utils.Database, path: str, target: str) -> dict[str, Any]:
    rows = list(
        db.query(
            "SELECT l.* FROM links l JOIN documents d ON d.id = l.doc_id "
            "WHERE d.path = ? AND l.target = ?",
            [path, target],
        )
    )
    assert rows, f"no link to {target!r} in {path}"
    return rows[0]


def test_map_links_resolve(indexed: sqlite_utils.Database) -> None:
    own = resolved(indexed, SUPERORGANISM, "ai-alignment/_map")
    assert own["resolved_path"] == "domains/ai-alignment/_map.md"
    bare = next(
        indexed.query(
            "SELECT l.*, d.folder FROM links l JOIN documents d ON d.id = l.doc_id "
            "WHERE l.target = '_map' AND d.kind = 'claim' AND l.resolved_path IS NOT NULL LIMIT 1"
        )
    )
    assert bare["resolved_path"] == f"{bare['folder']}/_map.md" and bare["rule"] == "own-map"
    broken = resolved(indexed, "agents/leo/musings/compliance-is-not-alignment.md", "_map")
    assert broken["resolved_path"] is None


def test_links_to_entities_and_sources_resolve(indexed: sqlite_utils.Database) -> None:
    entity = resolved(indexed, "entities/internet-finance/omnipair.md", "metadao")
    assert entity["resolved_path"] == "entities/internet-finance/metadao.md"
    to_source = next(
        indexed.query(
            "SELECT resolved_path FROM links WHERE resolved_path LIKE 'inbox/archive/%' LIMIT 1"
        )
    )
    assert to_source["resolved_path"]


def test_md_suffix_link_resolves_and_is_non_canonical(indexed: sqlite_utils.Database) -> None:
    rows = list(
        indexed.query(
            "SELECT l.* FROM links l JOIN documents d ON d.id = l.doc_id WHERE d.path = ? "
            "AND l.rule = 'md-suffix'",
            [MD_SUFFIX],
        )
    )
    assert rows and all(r["non_canonical"] == 1 and r["resolved_path"] for r in rows)
    assert "non-canonical-link" in {p["code"] for p in problems_of(indexed, MD_SUFFIX)}


def test_ambiguous_stem_prefers_own_folder(indexed: sqlite_utils.Database) -> None:
    link = resolved(
        indexed,
        "core/mechanisms/_map.md",
        "called-off bets enable conditional estimates without requiring "
        "counterfactual verification",
    )
    assert link["ambiguous"] == 1
    assert str(link["resolved_path"]).startswith("core/mechanisms/")


def test_ramstead_handoff(indexed: sqlite_utils.Database) -> None:
    doc_id = doc_row(indexed, RAMSTEAD)["id"]
    labels = [
        r["label"]
        for r in indexed.query(
            "SELECT label FROM handoff_fields WHERE doc_id = ? AND section = 'agent_notes'",
            [doc_id],
        )
    ]
    assert {
        "Why this matters",
        "KB connections",
        "Operationalization angle",
        "Extraction hints",
    } <= set(labels)
    candidates = list(indexed.query("SELECT * FROM candidates WHERE doc_id = ?", [doc_id]))
    assert [c["shape"] for c in candidates] == ["claim-line", "claim-line"]
    assert candidates[0]["text"].startswith("Active inference operates at every scale")
    assert candidates[0]["raw"].startswith("- CLAIM:")
    primary = list(
        indexed.query(
            "SELECT * FROM links WHERE doc_id = ? AND origin = 'primary_connection'", [doc_id]
        )
    )
    assert len(primary) == 1 and primary[0]["resolved_path"]
    assert doc_row(indexed, str(primary[0]["resolved_path"]))["kind"] == "claim"


def test_glp1_inline_candidates_and_divergence_signal(indexed: sqlite_utils.Database) -> None:
    doc_id = doc_row(indexed, GLP1)["id"]
    candidates = list(indexed.query("SELECT * FROM candidates WHERE doc_id = ?", [doc_id]))
    assert [c["shape"] for c in candidates] == ["inline-numbered", "inline-numbered"]
    assert candidates[0]["text"].startswith("GLP-1 adoption has produced the first")
    assert '(1) "' in candidates[0]["raw"]
    words = {
        r["word"] for r in indexed.query("SELECT word FROM signals WHERE doc_id = ?", [doc_id])
    }
    assert "tension" in words


def test_every_file_parses_without_exception(corpus: Path) -> None:
    for path in markdown_files(corpus):
        parse_document(path, (corpus / path).read_bytes())


def test_drift_sources_and_dangling_provenance(indexed: sqlite_utils.Database) -> None:
    medicare = "inbox/archive/2011-00-00-mcwilliams-economic-history-medicare-part-c.md"
    assert "status-drift" in {p["code"] for p in problems_of(indexed, medicare)}
    rows = list(
        indexed.query(
            "SELECT l.* FROM links l JOIN documents d ON d.id = l.doc_id WHERE d.path = ? "
            "AND l.origin = 'enrichments_applied'",
            [medicare],
        )
    )
    assert len(rows) == 4 and all(r["resolved_path"] for r in rows)
    bpc = "inbox/archive/2024-03-00-bipartisan-policy-center-demographic-transition.md"
    assert "dangling-provenance" in {p["code"] for p in problems_of(indexed, bpc)}
