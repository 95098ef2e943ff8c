"""One link resolver per state of the index, shared by the checks that resolve references.

Building a resolver reads every path in the index (slow in a large KB): the
draft editors check their links after each pause in typing, so they reuse it until an
indexing run changes the documents (the index's `generation` meta value says when).
"""

from __future__ import annotations

from kbtui.formats.links import LinkResolver
from kbtui.store.db import Database
from kbtui.store.index import GENERATION, get_meta

_CACHE: dict[str, tuple[str | None, LinkResolver]] = {}


def kb_resolver(db: Database) -> LinkResolver:
    """A resolver over every document of the index, as it is now."""
    where = str(db.conn.execute("PRAGMA database_list").fetchone()[2] or f":memory:{id(db)}")
    generation = get_meta(db, GENERATION)
    cached = _CACHE.get(where)
    if cached is not None and cached[0] == generation:
        return cached[1]
    resolver = LinkResolver(row[0] for row in db.conn.execute("SELECT path FROM documents"))
    _CACHE.clear()  # one index at a time: a large KB's resolver takes much memory
    _CACHE[where] = (generation, resolver)
    return resolver
