"""The one base class of kbtui's expected failures."""

from __future__ import annotations


class KbtuiError(RuntimeError):
    """An operation could not be done, for a reason the user can act on; its message says
    why in one line. The front ends show that line as it is (the CLI as `kbtui: message`,
    exit 2), never a traceback: each layer's error classes derive from this one, so one
    handler covers them all. It lives in the lowest layer so that every layer can use it."""
