"""What a file is: its kind from its path first, refined by its `type:` field."""

from __future__ import annotations

from typing import Final

SOURCE_STATUSES: Final = ("unprocessed", "processing", "processed", "null-result")
CLAIM_CONFIDENCES: Final = ("proven", "likely", "experimental", "speculative")
DIVERGENCE_STATUSES: Final = ("open", "resolved")

CLAIM_ROOTS: Final = ("domains", "core", "foundations")
AGENT_SUBFOLDERS: Final = {
    "positions": "position",
    "musings": "musing",
    "beliefs": "belief",
    "convictions": "conviction",
    "sectors": "sector",
}
TYPE_KINDS: Final = {
    "source": "source",
    "evidence": "source",
    "archive": "source",
    "claim": "claim",
    "divergence": "divergence",
    "entity": "entity",
    "belief": "belief",
    "position": "position",
    "musing": "musing",
    "conviction": "conviction",
    "sector": "sector",
    "topic-map": "map",
}
ALL_KINDS: Final = (*dict.fromkeys([*TYPE_KINDS.values(), *AGENT_SUBFOLDERS.values()]), "other")
"""Every kind a document can have."""
KINDS_WITH_FRONTMATTER: Final = frozenset(
    {"source", "claim", "divergence", "entity", "position", "musing", "conviction", "sector"}
)

REQUIRED_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "source": ("type", "title", "author", "url", "date", "domain", "status"),
    "claim": ("type", "domain", "description", "confidence", "source", "created"),
    "divergence": (
        "type",
        "title",
        "domain",
        "description",
        "status",
        "claims",
        "surfaced_by",
        "created",
    ),
}


def kind_from_path(path: str) -> str:
    """The kind a KB-relative POSIX path implies, before looking at `type:`."""
    parts = path.split("/")
    name = parts[-1]
    top = parts[0] if len(parts) > 1 else ""
    if name == "_map.md":
        return "map"
    if top == "inbox":
        return "source"
    if top in CLAIM_ROOTS and len(parts) >= 3:
        if top == "domains" and name.startswith("divergence-"):
            return "divergence"
        return "claim"
    if top == "entities":
        return "entity"
    if top in ("convictions", "sectors"):
        return AGENT_SUBFOLDERS[top]
    if top == "agents" and len(parts) >= 3:
        if name == "beliefs.md" and len(parts) == 3:
            return "belief"
        if len(parts) >= 4 and parts[2] in AGENT_SUBFOLDERS:
            return AGENT_SUBFOLDERS[parts[2]]
    return "other"


def refine_kind(path_kind: str, type_value: object, archived: bool = False) -> str:
    """Refine a path kind with the file's `type:`: only where the path leaves room for it.
    `archived`: the file is in `inbox/archive/`, where every file is a source, whatever its
    `type:` says (a source the archiving agent labelled `claim`, say)."""
    if archived or not isinstance(type_value, str):
        return path_kind
    type_kind = TYPE_KINDS.get(type_value.strip().lower())
    if type_kind is None:
        return path_kind
    if path_kind == "claim" and type_kind in ("divergence", "map"):
        return type_kind
    if path_kind == "other":
        return type_kind
    if path_kind == "source" and type_kind != "source":
        # Legacy copies in inbox/ that say what they are.
        return type_kind
    return path_kind


def domain_from_path(path: str) -> str | None:
    """The domain (or core/foundations area) a path's folder names, if any."""
    parts = path.split("/")
    if len(parts) >= 3 and parts[0] in (*CLAIM_ROOTS, "entities"):
        return parts[1]
    return None


EMPTY_MARKERS: Final = frozenset({"", "0", "none", "null", "~", "n/a", "-", "[]"})
"""Values a list field holds when it means "nothing" (`claims_extracted: 0`, `enrichments:
none`): read as an empty list, never as a claim named "none"."""

ENTRY_NAME_KEYS: Final = ("target", "claim")
"""The keys by which a list entry written as a mapping names its claim (its other keys, such
as `contribution:`, are notes about it)."""
