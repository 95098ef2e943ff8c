"""Helper processes end with the process that started them (on Linux; elsewhere they end
when their work does)."""

from __future__ import annotations

import contextlib
import os
import sys


def exit_with_parent(parent: int | None = None) -> None:
    """Ask Linux to end this process when its parent dies; if `parent` (the pid the parent
    had) is already gone, end now, since the request only covers a death still to come."""
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError, AttributeError):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if parent is not None and os.getppid() != parent:
        os._exit(0)
