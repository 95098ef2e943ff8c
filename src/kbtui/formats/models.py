"""Typed values of a document's fields, built leniently from messy frontmatter.

The profile (`formats/profile.py`) says each kind's fields and their shapes. `coerce_fields`
maps legacy names and repairs shapes (a string where a list belongs, `0` for an empty list),
reporting each repair. Off-vocabulary values are kept verbatim and flagged, never replaced.
"""

from __future__ import annotations

from typing import Any

from kbtui.formats.checks import Code
from kbtui.formats.kinds import EMPTY_MARKERS
from kbtui.formats.problems import Problem
from kbtui.formats.profile import Schema, active


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
                        Code.COERCED_VALUE,
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
                Problem(
                    Code.COERCED_VALUE, f"'{key}: {value}' read as an empty list", None, field=key
                )
            )
        return []
    if isinstance(value, dict):
        problems.append(
            Problem(
                Code.COERCED_VALUE,
                f"'{key}' is a mapping; its keys read as a list",
                None,
                field=key,
            )
        )
        return [str(k) for k in value]
    problems.append(
        Problem(
            Code.COERCED_VALUE,
            f"'{key}' is a single value; read as a one-item list",
            None,
            field=key,
        )
    )
    return [str(value)]


def coerce_fields(
    kind: str, fields: dict[str, Any], schema: Schema | None = None
) -> tuple[dict[str, Any], list[Problem]]:
    """Return the fields the typed values of `kind` should hold, and a problem for each
    repair."""
    schema = schema or active()
    problems: list[Problem] = []
    result: dict[str, Any] = {}
    legacy = schema.legacy.get(kind, {})
    for key, value in fields.items():
        target = legacy.get(key)
        if target is not None:
            if target in fields:
                result.setdefault(key, value)
                continue
            problems.append(
                Problem(
                    Code.LEGACY_FIELD,
                    f"legacy field '{key}' read as '{target}'",
                    None,
                    "info",
                    field=key,
                )
            )
            result[target] = value
        else:
            result.setdefault(key, value)
    declared = schema.declared.get(kind, {})
    for key, value in list(result.items()):
        spec = declared.get(key)
        if spec is None:
            continue
        if spec.shape == "list":
            result[key] = _as_list(key, value, problems)
        else:
            text = _scalar_text(value)
            if text is None and value is not None:
                problems.append(
                    Problem(
                        Code.COERCED_VALUE,
                        f"'{key}' should be a single value; kept as text",
                        None,
                        field=key,
                    )
                )
                text = str(value)
            result[key] = text.strip() if isinstance(text, str) else text
    return result, problems


def model_dict(kind: str, fields: dict[str, Any], schema: Schema | None = None) -> dict[str, Any]:
    """The typed values of a document as plain data ({} for kinds without typed fields):
    what the index's readers need, built from its stored fields rather than stored twice
    (by the profile the index was built with, which the reader passes)."""
    values, _ = model_values(kind, fields, schema)
    return values or {}


def model_values(
    kind: str, fields: dict[str, Any], schema: Schema | None = None
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """What the typed fields of `kind` hold, as a dict (None for kinds without typed
    fields), and the problems of their coercion: each declared field, its default when
    absent, then every other field as written."""
    schema = schema or active()
    declared = schema.declared.get(kind)
    if not declared:
        return None, []
    clean, problems = coerce_fields(kind, fields, schema)
    for key, allowed in schema.vocabularies.get(kind, {}).items():
        value = clean.get(key)
        if isinstance(value, str) and value and value not in allowed:
            problems.append(
                Problem(
                    Code.OFF_VOCABULARY,
                    f"{key} '{value}' is not one of {', '.join(allowed)}",
                    None,
                    field=key,
                )
            )
    values: dict[str, Any] = {
        name: [] if spec.shape == "list" else None for name, spec in declared.items()
    }
    values.update(clean)
    return values, problems
