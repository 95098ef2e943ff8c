"""Index in a child process, for the app: its interpreter lock stays free for the UI.

Run in one of the app's threads, `index_kb` would hold the interpreter lock for most of its
run, and in a large KB key presses would wait on it while the start-up refresh runs. A child
process has its own lock, and being single-threaded it can also fork its parser
processes. The child is a plain `python -c` (no multiprocessing machinery, which needs a real
stderr that a running Textual app does not have); it writes one JSON line per progress step
and one with its report. A cancelled run ends the child, whose open transaction SQLite rolls
back: what it committed is kept, and the next run finishes the job, as after any
interrupted run.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from kbtui.formats.errors import KbtuiError
from kbtui.ops.lifetime import exit_with_parent
from kbtui.ops.report import IndexReport, Progress

POLL_SECONDS = 0.1
"""How often the waiting thread looks for a cancellation while the child is quiet."""
_CHILD = "from kbtui.ops.index_runner import child_main; child_main()"


class IndexFailed(KbtuiError):
    """The run could not finish; the message says why in one line."""


def index_in_child(
    db_path: Path,
    root: Path,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    full: bool = False,
) -> IndexReport | None:
    """`index_kb` over `root` into the index at `db_path`, run in a child process.

    Returns the report, or None when `cancelled()` turned true first (the child is ended).
    Where no child process can be started, the run happens in this process instead.
    """
    if os.name != "posix":
        return _in_process(db_path, root, progress, full)
    command = [
        sys.executable,
        "-P",  # not the current folder first on the path: a random.py there is not imported
        "-c",
        _CHILD,
        str(db_path),
        str(root),
        "full" if full else "",
        str(os.getpid()),
    ]
    with tempfile.TemporaryFile() as errors:
        try:
            child = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
                # The child imports kbtui from wherever this process did.
                env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
            )
        except OSError:
            return _in_process(db_path, root, progress, full)
        assert child.stdout is not None
        try:
            report = _follow(child, child.stdout.fileno(), progress, cancelled)
        finally:
            if child.poll() is None:
                child.terminate()
            child.wait()
            child.stdout.close()
        if report is None and not cancelled():
            errors.seek(0)
            last = errors.read()[-2000:].decode("utf-8", "replace").strip().splitlines()
            if child.returncode < 0:
                reason = f"stopped by signal {_signal_name(-child.returncode)}"
            else:
                reason = last[-1] if last else f"exit code {child.returncode}"
            raise IndexFailed(f"the indexing process ended unexpectedly: {reason}")
        return report


def _follow(
    child: subprocess.Popen[bytes],
    fd: int,
    progress: Progress | None,
    cancelled: Callable[[], bool],
) -> IndexReport | None:
    """Read the child's lines until its report; None if cancelled or the child ended first."""
    pending = bytearray()
    while not cancelled():
        ready, _, _ = select.select([fd], [], [], POLL_SECONDS)
        if not ready:
            if child.poll() is not None and not select.select([fd], [], [], 0)[0]:
                return None  # ended without a word (its pipe may live on in a grandchild)
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return None
        start = len(pending)
        pending += chunk
        if b"\n" not in chunk:
            continue
        end = pending.rindex(b"\n", start)
        lines, pending = bytes(pending[:end]).split(b"\n"), pending[end + 1 :]
        for line in lines:
            report = _message(line, progress)
            if report is not None:
                return report
    return None


def _message(line: bytes, progress: Progress | None) -> IndexReport | None:
    """Act on one line from the child: progress, the report (returned), or its failure."""
    try:
        message = json.loads(line)
        if "progress" in message:
            done, total = (int(n) for n in message["progress"])
        elif "report" in message:
            fields = dict(message["report"])
            fields["renamed"] = [tuple(pair) for pair in fields["renamed"]]
            return IndexReport(**fields)
        else:
            raise IndexFailed(str(message.get("error", "unknown failure")))
    except (ValueError, TypeError, KeyError, AttributeError):
        raise IndexFailed("the indexing process wrote something unexpected") from None
    if progress is not None:
        progress(done, total)
    return None


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _in_process(db_path: Path, root: Path, progress: Progress | None, full: bool) -> IndexReport:
    from kbtui.ops.indexer import index_kb  # the parsing stack: in the child, or as a fallback
    from kbtui.store.db import open_db

    db = open_db(db_path)
    try:
        return index_kb(db, root, progress, full=full)
    finally:
        db.close()


def child_main() -> None:
    """The child: index, writing progress as it goes, then the report (or what went wrong)."""
    db_path, root, full, parent = sys.argv[1:5]
    exit_with_parent(int(parent))  # first: the app may quit before this child gets going
    out = sys.stdout

    def send(message: dict[str, object]) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    try:
        report = _in_process(
            Path(db_path),
            Path(root),
            lambda done, total: send({"progress": [done, total]}),
            full == "full",
        )
        send({"report": report.as_dict()})
    except BrokenPipeError:
        return  # the app stopped listening: nothing to tell
    except Exception as exc:  # anything else goes to the app, in one line
        with contextlib.suppress(OSError):
            send({"error": _one_line(exc)})


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
