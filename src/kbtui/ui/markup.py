"""Escaping text for Textual markup (KB text is full of `[[links]]` and `[brackets]`)."""

from __future__ import annotations


def escape(text: str) -> str:
    """Make any text literal in Textual markup: every `[` is escaped, `[[` included."""
    return text.replace("[", "\\[")


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
