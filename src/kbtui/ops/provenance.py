"""What a source's file already records of the claims drawn from it: its provenance lists."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kbtui.formats.kinds import EMPTY_MARKERS, ENTRY_NAME_KEYS
from kbtui.store.db import Database


@dataclass(frozen=True, slots=True)
class Provenance:
    """What a source's file already records of the claims drawn from it (bare titles)."""

    claims_extracted: frozenset[str]
    enrichments_applied: frozenset[str]
    keys: frozenset[str]
    """The frontmatter's keys (to tell the legacy `enrichments:` list from the current one)."""
    status: str | None = None
    """The status the file says (pending changes aside)."""
    notes: str | None = None
    """The file's `notes` (when it is text)."""
    sourced: frozenset[str] = frozenset()
    """Claims that name this source as theirs (`sourced_from`): provenance from their side."""


def source_provenance(db: Database, path: str) -> Provenance:
    """The claims the source at `path` lists as extracted and as enriched, as indexed (the
    legacy `enrichments:` list included)."""
    row = db.conn.execute("SELECT fields_json FROM documents WHERE path = ?", (path,)).fetchone()
    fields = json.loads(row[0]) if row and row[0] else {}
    return Provenance(
        claims_extracted=frozenset(listed_names(fields.get("claims_extracted"))),
        enrichments_applied=frozenset(
            listed_names(fields.get("enrichments_applied"))
            | listed_names(fields.get("enrichments"))
        ),
        keys=frozenset(fields),
        status=fields["status"] if isinstance(fields.get("status"), str) else None,
        notes=fields["notes"] if isinstance(fields.get("notes"), str) else None,
        sourced=frozenset(
            row[0]
            for row in db.conn.execute(
                "SELECT d.stem FROM links l JOIN documents d ON d.id = l.doc_id "
                "WHERE l.resolved_path = ? AND l.origin = 'sourced_from' AND d.kind = 'claim'",
                (path,),
            )
        ),
    )


def bare_title(name: str) -> str:
    """A listed claim as its bare title: no `[[...]]`, alias nor `.md`."""
    name = name.strip()
    if name.startswith("[[") and name.endswith("]]"):
        name = name[2:-2].split("|", 1)[0].strip()
    return name.removesuffix(".md")


def listed_names(value: Any) -> set[str]:
    """The claim titles a list of claims names (provenance, `challenged_by`); a mapping
    entry by its `target` (or `claim`)."""
    items = value if isinstance(value, list) else [value]
    names = set()
    for item in items:
        if isinstance(item, dict):
            item = next((item[k] for k in ENTRY_NAME_KEYS if k in item), None)
        if isinstance(item, str) and item.strip().lower() not in EMPTY_MARKERS:
            names.add(bare_title(item))
    return names
