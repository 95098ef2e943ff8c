"""Reading one file never raises, and its raw parts give back every byte."""

from __future__ import annotations

import pytest

from kbtui.formats.document import parse_document


def codes(data: bytes, path: str = "domains/x/a claim.md") -> list[str]:
    return [p.code for p in parse_document(path, data).problems]


def roundtrip(data: bytes, path: str = "domains/x/a claim.md") -> None:
    doc = parse_document(path, data)
    if doc.lossless:
        assert doc.raw_text().encode("utf-8") == data


CASES = {
    "plain": b"---\ntype: claim\ndomain: x\n---\n\n# Body\n",
    "bom": b"\xef\xbb\xbf---\ntype: claim\n---\nbody\n",
    "crlf": b"---\r\ntype: claim\r\n---\r\nbody\r\n",
    "unclosed": b"---\ntype: claim\ndomain: x\n\n# Title\ntext\n",
    "pasted": b"---\ntype: claim\n\n### Additional Evidence\n*Source: x*\n---\nbody\n",
    "no-newline": b"---\ntype: claim\n---\nbody",
    "empty": b"",
    "only-dashes": b"---\n---\n",
    "tabs": b"---\ntype: claim\n\tdomain: x\n---\n",
    "list-top": b"---\n- a\n- b\n---\n",
    "binary": b"\x00\x01\x02---\n",
    "latin1": b"---\ntitle: caf\xe9\n---\n",
    "alias-bomb": b"---\na: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n---\n",
    "recursive-alias": b"---\na: &x [*x]\n---\n",
    "complex-key": b"---\n? [a, b]\n: c\n---\nbody\n",
    "python-tag": b"---\n!!python/object:os.system x\n---\n",
    "tagged-odd-scalars": b'---\na: !!int ""\nb: !!float ""\nc: !!bool maybe\nd: !!int "-"\n---\n',
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_any_input_parses_without_exception_and_round_trips(name: str) -> None:
    roundtrip(CASES[name])


def test_dates_stay_the_strings_written() -> None:
    doc = parse_document(
        "inbox/archive/2026-01-00-x.md",
        b"---\ntype: source\ndate: 2026-01-00\ncreated: 2025-03-04\n---\n",
    )
    assert doc.fields["date"] == "2026-01-00"
    assert doc.fields["created"] == "2025-03-04"


def test_duplicate_keys_reported_by_name_and_last_wins() -> None:
    doc = parse_document(
        "inbox/archive/2024-01-01-x.md",
        b"---\ntype: source\nstatus: processing\nstatus: processed\n---\n",
    )
    assert doc.fields["status"] == "processed"
    dup = [p for p in doc.problems if p.code == "duplicate-key"]
    assert len(dup) == 1 and "'status'" in dup[0].message and dup[0].line == 4
    assert doc.shadowed == [("status", 3, "processing")]


def test_unclosed_frontmatter_is_an_error_and_nothing_is_lost() -> None:
    doc = parse_document("domains/x/a.md", CASES["unclosed"])
    assert "unclosed-frontmatter" in [p.code for p in doc.problems]
    assert doc.raw_frontmatter == "" and doc.raw_body.startswith("---\ntype: claim")


def test_body_pasted_in_frontmatter_recovers_fields_line_by_line() -> None:
    doc = parse_document("domains/x/a.md", CASES["pasted"])
    problems = {p.code: p for p in doc.problems}
    assert "malformed-frontmatter" in problems
    assert problems["malformed-frontmatter"].line is not None
    assert doc.fields.get("type") == "claim"


def test_binary_and_non_utf8_are_reported() -> None:
    assert "binary-file" in codes(CASES["binary"])
    doc = parse_document("domains/x/a.md", CASES["latin1"])
    assert not doc.lossless and "not-utf8" in [p.code for p in doc.problems]
    assert doc.fields["title"] == "café"


def test_bom_and_crlf_are_noted_and_parsed() -> None:
    bom = parse_document("domains/x/a.md", CASES["bom"])
    assert bom.fields["type"] == "claim" and "bom" in [p.code for p in bom.problems]
    crlf = parse_document("domains/x/a.md", CASES["crlf"])
    assert crlf.fields["type"] == "claim" and crlf.raw_body == "body\r\n"


def test_claim_without_frontmatter_is_a_claim_with_a_problem() -> None:
    doc = parse_document("domains/x/a claim.md", b"# A claim\n\ntext\n")
    assert doc.kind == "claim" and "missing-frontmatter" in [p.code for p in doc.problems]


def test_huge_line_is_reported_not_fatal() -> None:
    data = b"---\ntype: source\n---\n" + b"x" * 95_000 + b"\n"
    doc = parse_document("inbox/archive/2020-01-01-a.md", data)
    assert "long-line" in [p.code for p in doc.problems]


def test_lenient_coercion_of_lists() -> None:
    doc = parse_document(
        "inbox/archive/2024-01-01-a.md",
        b"---\ntype: source\nstatus: null-result\nclaims_extracted: 0\nenrichments: none\n"
        b"tags: solo\nnotes: nothing new\n---\n",
    )
    assert doc.model_value("claims_extracted") == []
    assert doc.model_value("enrichments_applied") == []
    assert doc.model_value("tags") == ["solo"]
    coerced = [p for p in doc.problems if p.code == "coerced-value"]
    assert len(coerced) == 3


def test_off_vocabulary_status_kept_verbatim() -> None:
    doc = parse_document(
        "inbox/archive/2024-01-01-a.md", b"---\ntype: source\nstatus: complete (13 pages)\n---\n"
    )
    assert doc.status == "complete (13 pages)"
    assert "off-vocabulary" in [p.code for p in doc.problems]


def test_recursive_alias_is_a_clear_problem() -> None:
    doc = parse_document("domains/x/a.md", CASES["recursive-alias"])
    assert [p.code for p in doc.problems if p.severity == "error"] == ["malformed-frontmatter"]
    assert "recursive alias" in doc.problems[0].message


def test_explicitly_tagged_scalars_that_cannot_be_built_keep_their_text() -> None:
    # PyYAML's own constructors raise IndexError or KeyError on these: the text stays.
    doc = parse_document("domains/x/a.md", CASES["tagged-odd-scalars"])
    assert doc.fields == {"a": "", "b": "", "c": "maybe", "d": "-"}
    assert "malformed-frontmatter" not in [p.code for p in doc.problems]


def test_links_in_a_legacy_enrichments_field_are_on_its_line() -> None:
    doc = parse_document(
        "inbox/archive/2024-01-01-a.md",
        b'---\ntype: source\ntitle: x\nenrichments: "[[first claim]]"\n'
        b'enrichments_applied: ["[[second claim]]"]\n---\nbody\n',
    )
    assert [(link.target, link.origin, link.line) for link in doc.links] == [
        ("first claim", "enrichments_applied", 4),
        ("second claim", "enrichments_applied", 5),
    ]


def test_provenance_names_claims_by_title_or_target_only() -> None:
    """A list entry written as a mapping names its claim by `target:`; its notes are not
    claims, and `none` names nothing (each used to be reported as a missing claim)."""
    doc = parse_document(
        "inbox/archive/a.md",
        b"---\ntype: source\nstatus: processed\nclaims_extracted: none\nenrichments:\n"
        b'  - target: "storage defers peakers"\n    contribution: "adds the dispatch data"\n'
        b"    type: counter-argument\n"
        b"enrichments_applied: [0]\n---\nbody\n",
    )
    named = [(link.origin, link.target) for link in doc.links]
    assert named == [("enrichments_applied", "storage defers peakers")]


def test_nested_aliases_that_expand_to_billions_are_refused_not_expanded() -> None:
    lines = ['l0: &l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 10)]
    data = ("---\ntype: claim\n" + "\n".join(lines) + "\n---\nbody\n").encode()
    assert len(data) < 600  # 9 ** 10 values once expanded
    doc = parse_document("domains/d/bomb.md", data)
    problem = next(p for p in doc.problems if p.code == "malformed-frontmatter")
    assert "expands to over 100,000 values" in problem.message and problem.line == 2
    assert doc.raw_text() == data.decode()
    # A few aliases, as a hand-written file may use them, read as ever.
    doc = parse_document("domains/d/ok.md", b"---\ntags: &t [a, b]\nalso: *t\n---\nbody\n")
    assert doc.fields == {"tags": ["a", "b"], "also": ["a", "b"]}


def test_a_file_in_the_archive_is_a_source_whatever_its_type_says() -> None:
    from kbtui.formats.document import parse_document

    text = b"---\ntype: claim\nstatus: null-result\n---\n# Proposal 1\n"
    archived = parse_document("inbox/archive/2024-07-01-proposal-1.md", text)
    assert archived.kind == "source"
    [problem] = [p for p in archived.problems if p.code == "type-not-source"]
    assert problem.line == 2 and "type: claim" in problem.message
    # A legacy copy in inbox/ itself says what it is.
    assert parse_document("inbox/a claim title.md", text).kind == "claim"
