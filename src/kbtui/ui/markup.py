"""Escaping text for Textual markup (KB text is full of `[[links]]` and `[brackets]`)."""

from __future__ import annotations


def escape(text: str) -> str:
    """Make any text literal in Textual markup: every `[` is escaped, `[[` included."""
    return text.replace("[", "\\[")
