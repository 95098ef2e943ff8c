"""The profile in force for a KB: the shipped one, extended by the KB's own `kbtui.toml`."""

from __future__ import annotations

from pathlib import Path

from kbtui.formats.profile import (
    PROFILE_NAME,
    SHIPPED,
    ProfileError,
    Schema,
    activate,
    build_schema,
    shipped_text,
)

__all__ = ["ProfileError", "layers_for", "load_profile", "use_profile"]


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
