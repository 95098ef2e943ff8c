"""Typed models of sources, claims and divergences, built leniently from messy frontmatter.

`coerce_fields` maps legacy names and repairs shapes (a string where a list belongs, `0` for
an empty list), reporting each repair; the pydantic models then hold the clean values.
Off-vocabulary values are kept verbatim and flagged, never replaced.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from kbtui.formats.kinds import (
    CLAIM_CONFIDENCES,
    DIVERGENCE_STATUSES,
    EMPTY_MARKERS,
    SOURCE_STATUSES,
)
from kbtui.formats.problems import Problem

LEGACY_NAMES: dict[str, dict[str, str]] = {
    "source": {
        "source": "url",
        "source_type": "format",
        "date_published": "date",
        "date_archived": "date",
        "enrichments": "enrichments_applied",
    },
    "claim": {},
    "divergence": {},
}
LIST_FIELDS: dict[str, tuple[str, ...]] = {
    "source": ("secondary_domains", "tags", "claims_extracted", "enrichments_applied"),
    "claim": ("depends_on", "challenged_by", "secondary_domains"),
    "divergence": ("claims",),
}


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class Source(_Lenient):
    """An archived article or paper waiting to be (or already) turned into claims."""

    type: str | None = None
    title: str | None = None
    author: str | None = None
    url: str | None = None
    date: str | None = None
    domain: str | None = None
    status: str | None = None
    format: str | None = None
    priority: str | None = None
    secondary_domains: list[str] = []
    tags: list[str] = []
    processed_by: str | None = None
    processed_date: str | None = None
    claims_extracted: list[str] = []
    enrichments_applied: list[str] = []
    linked_set: str | None = None
    notes: str | None = None


class Claim(_Lenient):
    """One arguable proposition; the file name is its title."""

    type: str | None = None
    domain: str | None = None
    description: str | None = None
    confidence: str | None = None
    source: str | None = None
    created: str | None = None
    depends_on: list[str] = []
    challenged_by: list[str] = []
    secondary_domains: list[str] = []
    last_evaluated: str | None = None


class Divergence(_Lenient):
    """A question on which 2-5 claims give competing answers."""

    type: str | None = None
    title: str | None = None
    domain: str | None = None
    description: str | None = None
    status: str | None = None
    claims: list[str] = []
    surfaced_by: str | None = None
    created: str | None = None


MODELS: dict[str, type[_Lenient]] = {"source": Source, "claim": Claim, "divergence": Divergence}
VOCABULARIES: dict[str, dict[str, tuple[str, ...]]] = {
    "source": {"status": SOURCE_STATUSES},
    "claim": {"confidence": CLAIM_CONFIDENCES},
    "divergence": {"status": DIVERGENCE_STATUSES},
}

_DECLARED = {kind: frozenset(model.model_fields) for kind, model in MODELS.items()}
_DEFAULTS = {
    kind: {name: info.default for name, info in model.model_fields.items()}
    for kind, model in MODELS.items()
}


def _scalar_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _as_list(key: str, value: Any, problems: list[Problem]) -> list[str]:
    if isinstance(value, list):
        items = []
        for item in value:
            text = _scalar_text(item)
            if text is None:
                problems.append(
                    Problem(
                        "coerced-value",
                        f"'{key}' has a non-text item; kept as text",
                        None,
                        field=key,
                    )
                )
                text = str(item)
            items.append(text)
        return items
    if value is None or (
        isinstance(value, str | int) and str(value).strip().lower() in EMPTY_MARKERS
    ):
        if value is not None:
            problems.append(
                Problem("coerced-value", f"'{key}: {value}' read as an empty list", None, field=key)
            )
        return []
    if isinstance(value, dict):
        problems.append(
            Problem(
                "coerced-value", f"'{key}' is a mapping; its keys read as a list", None, field=key
            )
        )
        return [str(k) for k in value]
    problems.append(
        Problem(
            "coerced-value", f"'{key}' is a single value; read as a one-item list", None, field=key
        )
    )
    return [str(value)]


def coerce_fields(kind: str, fields: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Return the fields a model of `kind` should see, and a problem for each repair."""
    problems: list[Problem] = []
    result: dict[str, Any] = {}
    legacy = LEGACY_NAMES.get(kind, {})
    for key, value in fields.items():
        target = legacy.get(key)
        if target is not None:
            if target in fields:
                result.setdefault(key, value)
                continue
            problems.append(
                Problem(
                    "legacy-field",
                    f"legacy field '{key}' read as '{target}'",
                    None,
                    "info",
                    field=key,
                )
            )
            result[target] = value
        else:
            result.setdefault(key, value)
    list_fields = LIST_FIELDS.get(kind, ())
    declared = _DECLARED.get(kind, frozenset())
    for key, value in list(result.items()):
        if key in list_fields:
            result[key] = _as_list(key, value, problems)
        elif key in declared:
            text = _scalar_text(value)
            if text is None and value is not None:
                problems.append(
                    Problem(
                        "coerced-value",
                        f"'{key}' should be a single value; kept as text",
                        None,
                        field=key,
                    )
                )
                text = str(value)
            result[key] = text.strip() if isinstance(text, str) else text
    return result, problems


def model_dict(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The typed model of a document as plain data ({} for kinds without one): what the
    index's readers need, built from its stored fields rather than stored a second time."""
    model, _ = build_model(kind, fields)
    return {} if model is None else model.model_dump(mode="json")


def model_values(kind: str, fields: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Problem]]:
    """What the typed model of `kind` would hold, as a dict (None for kinds without a model),
    and the problems of its coercion. The index needs only these values: building the
    pydantic model for every file of a KB cost a tenth of its parsing."""
    if kind not in MODELS:
        return None, []
    clean, problems = _checked(kind, fields)
    values = {
        name: list(default) if isinstance(default, list) else default
        for name, default in _DEFAULTS[kind].items()
    }
    values.update(clean)
    return values, problems


def _checked(kind: str, fields: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    clean, problems = coerce_fields(kind, fields)
    for key, allowed in VOCABULARIES.get(kind, {}).items():
        value = clean.get(key)
        if isinstance(value, str) and value and value not in allowed:
            problems.append(
                Problem(
                    "off-vocabulary",
                    f"{key} '{value}' is not one of {', '.join(allowed)}",
                    None,
                    field=key,
                )
            )
    return clean, problems


def build_model(kind: str, fields: dict[str, Any]) -> tuple[_Lenient | None, list[Problem]]:
    """Coerce `fields` and build the typed model for `kind` (None for kinds without one)."""
    model = MODELS.get(kind)
    if model is None:
        return None, []
    clean, problems = _checked(kind, fields)
    return model.model_validate(clean), problems
