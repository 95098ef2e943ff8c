"""The profile in force for a KB: the shipped one, extended by the KB's own `kbtui.toml`."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from kbtui.formats.profile import (
    PROFILE_NAME,
    SHIPPED,
    ProfileError,
    Schema,
    activate,
    build_schema,
    shipped,
    shipped_text,
)
from kbtui.store import index as store
from kbtui.store.db import Database

__all__ = ["PROFILE_META", "ProfileError", "layers_for", "load_profile", "schema_of", "use_profile"]

PROFILE_META = "profile"
"""Meta key: the profile files (origin, text) the indexed files were read with."""


def layers_for(root: Path) -> list[tuple[str, str]]:
    """The profile files of the KB at `root`, in the order they apply: (origin, text)."""
    layers = [(SHIPPED, shipped_text())]
    own = root / PROFILE_NAME
    try:
        text = own.read_text(encoding="utf-8")
    except FileNotFoundError:
        return layers
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ProfileError(f"{own}: cannot read it: {reason}") from exc
    return [*layers, (str(own), text)]


def load_profile(root: Path) -> Schema:
    """The schema of the KB at `root`; `ProfileError` (file, key, reason) when its own
    profile cannot be used."""
    return build_schema(layers_for(root))


def use_profile(root: Path) -> Schema:
    """Load the KB's profile and put it in force for this process."""
    schema = load_profile(root)
    activate(schema)
    return schema


def schema_of(db: Database) -> Schema:
    """The profile the index was built with (its files are kept in the index): what reads
    the index follows the schema that wrote it, in any process."""
    raw = store.get_meta(db, PROFILE_META)
    return _schema_from(raw) if raw else shipped()


@lru_cache(maxsize=4)
def _schema_from(raw: str) -> Schema:
    try:
        layers = [(str(origin), str(text)) for origin, text in json.loads(raw)]
        return build_schema(layers)
    except (ValueError, TypeError, ProfileError):
        return shipped()  # a profile kbtui could not read back: the next index run writes it
