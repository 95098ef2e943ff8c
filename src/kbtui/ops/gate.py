"""The KB's merge gate, run by kbtui: over every file it reads (`kbtui check --gate`), or over
exactly the files an export would write, as they would be (the export preview)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kbtui.formats.document import parse_document
from kbtui.formats.gate import GateContext, GateFailure, gate_document, gated
from kbtui.formats.links import LinkResolver
from kbtui.formats.profile import Schema
from kbtui.formats.similar import TitleIndex
from kbtui.ops import queries
from kbtui.ops.export import FileChange
from kbtui.ops.profile import schema_of
from kbtui.ops.resolver import kb_resolver
from kbtui.store.db import Database


@dataclass(frozen=True, slots=True)
class GateFile:
    """The gate's verdict on one file: it passes when `failures` is empty."""

    path: str
    kind: str
    failures: list[GateFailure]

    @property
    def codes(self) -> list[str]:
        return [str(f) for f in self.failures]

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "gate": self.codes,
            "failures": [f.as_dict() for f in self.failures],
        }


def _domains(schema: Schema, paths: Iterable[str]) -> frozenset[str]:
    """The KB's domains: the folders under its domain roots that hold files."""
    return frozenset(d for d in (schema.domain_of(p) for p in paths) if d is not None)


class _Titles:
    """The titles of the claims, for finding the ones near a title."""

    def __init__(self, entries: Sequence[tuple[str, str]], threshold: float) -> None:
        self.paths = [path for path, _ in entries]
        self.position = {path: at for at, path in enumerate(self.paths)}
        self.index = TitleIndex(title for _, title in entries)
        self.threshold = threshold

    def similar(self, title: str, path: str) -> list[tuple[str, int]]:
        own = self.position.get(path)
        found = self.index.similar(title, self.threshold, () if own is None else (own,))
        return [(self.paths[at], score) for at, score in found]


def _context(db: Database, schema: Schema, new: Sequence[tuple[str, str, str]] = ()) -> GateContext:
    """The rest of the KB as the gate sees it; `new` (path, kind, title) are files an export
    would add, which links may name and whose titles count among the claims'."""
    resolver = kb_resolver(db)
    added = LinkResolver(path for path, _, _ in new if path not in resolver.paths)
    gate = schema.model.gate

    def resolves(target: str, origin: str) -> bool:
        return (
            resolver.resolve(target, origin).path is not None
            or added.resolve(target, origin).path is not None
        )

    titled = [
        (path, title)
        for path, _, title in queries.documents_of_kinds(db, gate.title_kinds)
        if path not in added.paths
    ]
    titled += [(path, title) for path, kind, title in new if kind in gate.title_kinds]
    titles = _Titles(list(dict(titled).items()), gate.similarity)
    return GateContext(_domains(schema, resolver.paths), resolves, titles.similar)


def gate_kb(db: Database, root: Path) -> list[GateFile]:
    """The gate's verdict on every file of a kind it reads, as the files are on disk now
    (a file that cannot be read is left to `kbtui check`, which names why)."""
    # The profile the index was built with: the app indexes in a child process, so this
    # process may never have put the KB's own profile in force.
    schema = schema_of(db)
    kinds = [kind for kind in schema.kinds if gated(schema, kind)]
    context = _context(db, schema)
    verdicts = []
    for path, _, _ in queries.documents_of_kinds(db, kinds):
        try:
            data = (root / path).read_bytes()
        except (OSError, UnicodeError):
            continue
        doc = parse_document(path, data, schema)
        verdicts.append(GateFile(path, doc.kind, gate_document(doc, schema, context)))
    return verdicts


def gate_changes(db: Database, changes: Sequence[FileChange]) -> dict[str, GateFile]:
    """The gate's verdict on each file an export would write, read from the text it would
    have, by path (files whose new text is not made, as a skipped one, are left out)."""
    schema = schema_of(db)
    docs = [parse_document(c.path, c.after, schema) for c in changes if c.after]
    context = _context(db, schema, [(d.path, d.kind, d.title) for d in docs])
    return {d.path: GateFile(d.path, d.kind, gate_document(d, schema, context)) for d in docs}
