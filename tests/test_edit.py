"""Frontmatter edits in place: only the edited lines change, or the edit is refused."""

from __future__ import annotations

import pytest
import yaml

from kbtui.formats.edit import EditError, add_to_list, set_scalar
from kbtui.formats.frontmatter import parse_yaml, split_frontmatter


def fields(text: str) -> dict[str, object]:
    split = split_frontmatter(text)
    parsed = parse_yaml(split.yaml_text, 2)
    assert parsed.ok and not parsed.problems, parsed.problems
    return parsed.fields


def body(text: str) -> str:
    return split_frontmatter(text).body


# --- add_to_list: only shapes known to be safe are rewritten ---------------------------------

REFUSED_LISTS = {
    "list of unnamed mappings": (
        "---\nkind: source\nenrichments:\n  - note: a claim on tides\n    type: x\n---\nbody\n"
    ),
    "list of mixed entries": (
        '---\nkind: source\nenrichments:\n  - "a claim"\n  - target: "b claim"\n---\nbody\n'
    ),
    "comment line in block list": (
        "---\nclaims_extracted:\n  # from the first pass\n  - alpha\n  - beta\n---\nbody\n"
    ),
    "item wrapped onto two lines": (
        '---\nclaims_extracted:\n  - "a long\n    title"\n  - beta\n---\nbody\n'
    ),
    "comment after the key": (
        "---\nclaims_extracted: # from the first pass\n  - alpha\n  - beta\n---\nbody\n"
    ),
    "multi-line flow list": "---\nclaims_extracted: [alpha,\n  beta]\nstatus: done\n---\nbody\n",
    "flow list with a comment": "---\nclaims_extracted: [alpha, beta]  # first pass\n---\nbody\n",
    "block scalar": "---\nclaims_extracted: |\n  alpha\n  beta\n---\nbody\n",
    "items at two indents": "---\nclaims_extracted:\n  - alpha\n    - beta\n---\nbody\n",
    "quoted key": '---\n"claims_extracted": [alpha]\n---\nbody\n',
    "flow mapping frontmatter": "---\n{claims_extracted: [alpha]}\n---\nbody\n",
    "flow mapping, key absent": "---\n{status: done}\n---\nbody\n",
}


@pytest.mark.parametrize("name", sorted(REFUSED_LISTS))
def test_add_to_list_refuses_shapes_it_cannot_grow_safely(name: str) -> None:
    with pytest.raises(EditError):
        key = "enrichments" if name.startswith("list of") else "claims_extracted"
        add_to_list(REFUSED_LISTS[name], key, ["new one"])


GROWN_LISTS = {
    "flow": ("---\nclaims_extracted: [alpha, beta]\n---\nbody\n", ["alpha", "beta"]),
    "empty flow": ("---\nclaims_extracted: []\n---\nbody\n", []),
    "block": (
        '---\nclaims_extracted:\n  - alpha\n  - "beta"\nnext: 1\n---\nbody\n',
        ["alpha", "beta"],
    ),
    "block at column 0": (
        "---\nclaims_extracted:\n- alpha\n- beta\n---\nbody\n",
        ["alpha", "beta"],
    ),
    "block with blank line": (
        "---\nclaims_extracted:\n  - alpha\n\n  - beta\n\nnext: 1\n---\nbody\n",
        ["alpha", "beta"],
    ),
    "empty key": ("---\nclaims_extracted:\nnext: 1\n---\nbody\n", []),
    "empty key then blank": ("---\nclaims_extracted:\n\nnext: 1\n---\nbody\n", []),
    "zero": ("---\nclaims_extracted: 0\n---\nbody\n", []),
    "absent": ("---\nnext: 1\n---\nbody\n", []),
    "crlf, no final newline": ("---\r\nclaims_extracted:\r\n  - alpha\r\n---", ["alpha"]),
}


@pytest.mark.parametrize("name", sorted(GROWN_LISTS))
def test_add_to_list_grows_safe_shapes_keeping_every_entry(name: str) -> None:
    text, kept = GROWN_LISTS[name]
    out = add_to_list(text, "claims_extracted", ["new one", "it's: tricky # yes"])
    assert fields(out)["claims_extracted"] == [*kept, "new one", "it's: tricky # yes"]
    assert body(out) == body(text)
    others = {k: v for k, v in fields(text).items() if k != "claims_extracted"}
    assert {k: v for k, v in fields(out).items() if k != "claims_extracted"} == others
    if "\r\n" in text:
        assert out.count("\n") == out.count("\r\n")


MAPPING_LISTS = {
    "target": (
        '---\nkind: source\nenrichments:\n  - target: "a claim on tides"\n'
        '    type: counter-argument\n    summary: "a note about tides"\ntags: [x]\n---\nbody\n'
    ),
    "claim": (
        "---\nenrichments:\n- claim: one\n  type: corroboration\n- claim: two\n"
        "  detail: 'more'\n\n---\nbody\n"
    ),
}


@pytest.mark.parametrize("name", sorted(MAPPING_LISTS))
def test_add_to_list_grows_a_list_of_named_entries_in_their_shape(name: str) -> None:
    """Entries written as mappings (as some sources record enrichments) gain an entry
    naming its claim by the same key, at the same indent; no other line changes."""
    text = MAPPING_LISTS[name]
    out = add_to_list(text, "enrichments", ["new one", "it's: tricky # yes"])
    entries = fields(text)["enrichments"]
    assert isinstance(entries, list)
    assert fields(out)["enrichments"] == [*entries, {name: "new one"}, {name: "it's: tricky # yes"}]
    lines = out.splitlines(keepends=True)
    added = [line for line in lines if line not in text.splitlines(keepends=True)]
    assert len(added) == 2 and all(line.lstrip().startswith(f"- {name}: ") for line in added)
    assert "".join(line for line in lines if line not in added) == text
    assert body(out) == body(text)


def test_add_to_list_changes_only_added_lines_in_a_block_list() -> None:
    text = "---\ntitle: x\nclaims_extracted:\n  - 'alpha'\n  - 'beta'\n\nnext: 1\n---\nbody\n"
    out = add_to_list(text, "claims_extracted", ["gamma"])
    assert out == text.replace("  - 'beta'\n", "  - 'beta'\n  - 'gamma'\n")


# --- values are written so that they read back as the same string ----------------------------

HAZARDS = [
    "null",
    "Yes",
    "no",
    "0x1F",
    "~",
    "12",
    "1.5",
    "1e3",
    "true",
    ".inf",
    "2024-01-01 10:00",
    "trailing space ",
    " leading space",
    "a: b",
    "hash # here",
    "see below\n---\nnot frontmatter: any more",
    "tab\tand backslash \\ and quote \" and '",
    "bell \x07 and del \x7f and nel \x85 and ls \u2028",
    "",
    "-",
    "[x]",
    "@at",
    "*star",
    "!tag",
    "%pct",
]


@pytest.mark.parametrize("style", ["plain", '"', "'"])
@pytest.mark.parametrize("value", HAZARDS)
def test_set_scalar_values_read_back_identical(value: str, style: str) -> None:
    old = {"plain": "old", '"': '"old"', "'": "'old'"}[style]
    text = f"---\ntitle: T\nnotes: {old}\nstatus: done\n---\nbody\n"
    out = set_scalar(text, "notes", value)
    assert fields(out) == {"title": "T", "notes": value, "status": "done"}
    assert body(out) == "body\n"
    added = set_scalar("---\ntitle: T\n---\nbody\n", "notes", value)
    assert fields(added) == {"title": "T", "notes": value}
    assert body(added) == "body\n"


def test_plain_values_stay_plain_and_dates_unquoted() -> None:
    text = "---\nstatus: unprocessed\n---\n"
    assert set_scalar(text, "status", "processed") == "---\nstatus: processed\n---\n"
    out = set_scalar(text, "processed_date", "2026-03-10")
    assert out == "---\nstatus: unprocessed\nprocessed_date: 2026-03-10\n---\n"


@pytest.mark.parametrize("value", ["null", "Yes", "0x1F", "~", "a\nb"])
def test_flow_list_items_read_back_identical(value: str) -> None:
    out = add_to_list("---\nclaims_extracted: [alpha]\n---\n", "claims_extracted", [value])
    assert yaml.safe_load(split_frontmatter(out).yaml_text)["claims_extracted"] == ["alpha", value]


# --- set_scalar: keys kbtui cannot see are refused; comments stay -----------------------------


@pytest.mark.parametrize(
    "text",
    [
        '---\n"status": unprocessed\n---\nbody\n',
        "---\n'status': unprocessed\n---\nbody\n",
        "---\n{status: unprocessed}\n---\nbody\n",
        "---\n{title: x}\n---\nbody\n",
        "---\n  status: unprocessed\n  title: x\n---\nbody\n",
        "---\nstatus: a\nstatus: b\n---\nbody\n",
    ],
)
def test_set_scalar_refuses_keys_it_cannot_locate(text: str) -> None:
    with pytest.raises(EditError):
        set_scalar(text, "status", "processed")


def test_set_scalar_keeps_comment_after_a_quoted_value() -> None:
    text = '---\nstatus: "processing" # set by hand\ntitle: x\n---\n'
    out = set_scalar(text, "status", "processed")
    assert out == '---\nstatus: "processed" # set by hand\ntitle: x\n---\n'
    text = "---\nstatus: 'it''s' # note\n---\n"
    assert set_scalar(text, "status", "done") == "---\nstatus: 'done' # note\n---\n"


def test_set_scalar_keeps_comment_and_blank_lines_in_the_span() -> None:
    text = "---\nstatus: processing\n  # keep this note\n\ntitle: x\n---\n"
    out = set_scalar(text, "status", "processed")
    assert out == "---\nstatus: processed\n  # keep this note\n\ntitle: x\n---\n"


def test_set_scalar_same_value_is_a_no_op() -> None:
    text = "---\nstatus: processed   # already\n\ntitle: x\n---\n"
    assert set_scalar(text, "status", "processed") == text


def test_set_scalar_crlf_lines() -> None:
    text = "---\r\nstatus: a\r\ntitle: x\r\n---\r\nbody\r\n"
    out = set_scalar(set_scalar(text, "status", "b"), "notes", "multi\nline")
    assert out.count("\n") == out.count("\r\n")
    assert fields(out) == {"status": "b", "title": "x", "notes": "multi\nline"}


@pytest.mark.parametrize(
    "end", ["...\n---\nbody\n", "...\n---", "...  # end\n\n---\nbody\n", "...\r\n---\r\n"]
)
def test_new_keys_go_before_a_document_end_marker(end: str) -> None:
    """YAML reads nothing after `...`: a key added at the end goes just before it."""
    newline = "\r\n" if "\r\n" in end else "\n"
    text = f"---{newline}title: x{newline}enrichments_applied: []{newline}{end}"
    out = add_to_list(set_scalar(text, "status", "processing"), "claims_extracted", ["a b"])
    assert fields(out) == {
        "title": "x",
        "enrichments_applied": [],
        "status": "processing",
        "claims_extracted": ["a b"],
    }
    added = f'status: processing{newline}claims_extracted:{newline}  - "a b"{newline}'
    assert out == text.replace(f"{newline}...", f"{newline}{added}...", 1)


@pytest.mark.parametrize("separator", ["\u2028", "\r", "\x85"])
def test_a_line_break_yaml_knows_but_kbtui_does_not_split_at_is_refused_not_changed(
    separator: str,
) -> None:
    # YAML breaks lines at these too; an edit of the line would carry the next field with it
    # or change the break: refused, the file left as it is.
    text = f"---\nstatus: unprocessed{separator}title: x\n---\nbody\n"
    with pytest.raises(EditError):
        set_scalar(text, "status", "processed")


def test_a_value_of_several_lines_is_written_as_a_literal_block() -> None:
    text = "---\r\ntype: source\r\nnotes: |\r\n  First.\r\n\r\n  Second.\r\nstatus: x\r\n---\r\n"
    out = set_scalar(text, "notes", "First.\n\nSecond.\n\nThird: with a colon.\n")
    assert out == (
        "---\r\ntype: source\r\nnotes: |\r\n  First.\r\n\r\n  Second.\r\n\r\n"
        "  Third: with a colon.\r\nstatus: x\r\n---\r\n"
    )
    # No final line break: `|-`; a first line starting with a space: quoted instead.
    assert "notes: |-\n  a\n  b\n" in set_scalar("---\nnotes: x\n---\n", "notes", "a\nb")
    assert 'notes: " a\\nb"' in set_scalar("---\nnotes: x\n---\n", "notes", " a\nb")
