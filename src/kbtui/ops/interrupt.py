"""ctrl+c during a long SQLite statement.

Python runs its SIGINT handler only between bytecodes: while SQLite works inside one call, a
ctrl+c waits for the call to end, long for a statement over a large document. A progress
handler gives Python a moment every few thousand SQLite instructions; the SIGINT handler runs
there and stops the statement. The sqlite3 module turns an exception raised in a progress
handler into `OperationalError("interrupted")` and drops it: the ctrl+c is remembered here and
raised again as KeyboardInterrupt when the statement has stopped.
"""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

PROGRESS_STEPS = 20_000
"""SQLite instructions between two looks at a pending ctrl+c (often enough to feel at once)."""

_watched: set[int] = set()


@contextmanager
def interruptible(conn: sqlite3.Connection) -> Iterator[None]:
    """Within this block, ctrl+c stops a statement running on `conn` at once and raises
    KeyboardInterrupt. Off the main thread (where no signal arrives), nested, or where
    SIGINT is ignored (a background job, nohup), it does nothing more."""
    previous = signal.getsignal(signal.SIGINT)
    if (
        threading.current_thread() is not threading.main_thread()
        or id(conn) in _watched
        or previous is signal.SIG_IGN
    ):
        yield
        return
    pressed = False

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        nonlocal pressed
        pressed = True
        raise KeyboardInterrupt

    def progress() -> int:
        # (A ctrl+c pending when SQLite calls this runs `on_sigint` on entry.)
        return 1 if pressed else 0

    signal.signal(signal.SIGINT, on_sigint)
    conn.set_progress_handler(progress, PROGRESS_STEPS)
    _watched.add(id(conn))
    try:
        yield
    except sqlite3.OperationalError:
        if pressed:
            raise KeyboardInterrupt from None
        raise
    finally:
        _watched.discard(id(conn))
        with contextlib.suppress(sqlite3.ProgrammingError):  # closed in the block
            conn.set_progress_handler(None, PROGRESS_STEPS)
        # A handler set outside Python reads as None: the default one stands for it.
        signal.signal(
            signal.SIGINT, previous if previous is not None else signal.default_int_handler
        )
