"""Writing a file so that it is wholly old or wholly new, even after a crash: a temporary
file beside it, synced, then renamed over it. Every file kbtui writes goes this way."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import stat
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

TEMP_SUFFIX = ".kbtui-tmp"


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that it is wholly old or wholly new, even after a crash."""
    temporary = write_temporary(path, data)
    try:
        os.replace(temporary, path)
    except BaseException:
        with_suppressed_unlink(temporary)
        raise
    fsync_folder(path.parent)


def write_temporary(path: Path, data: bytes) -> str:
    """A temporary file beside `path` holding `data`, synced, with the mode `path` has (or
    would get); its name carries this process's id, so a later run knows a leftover."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=folder, prefix=f".{path.name[:40]}.{os.getpid()}.", suffix=TEMP_SUFFIX
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()  # mkstemp made it 0600
        os.chmod(temporary, mode)
    except BaseException:
        with_suppressed_unlink(temporary)
        raise
    return temporary


def fsync_folder(folder: Path) -> None:
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _umask() -> int:
    """The process umask, read without changing it where the system allows."""
    with (
        contextlib.suppress(OSError, ValueError),
        open("/proc/self/status", encoding="ascii", errors="replace") as status,
    ):
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def with_suppressed_unlink(path: str | Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def leftover_temporary(name: str) -> bool:
    """Whether `name` is a temporary file an export left behind: its writer (the process id
    in its name) is gone. A name without one, from an older kbtui, is a leftover too."""
    if not name.endswith(TEMP_SUFFIX):
        return False
    parts = name.removesuffix(TEMP_SUFFIX).split(".")
    pid = next((int(p) for p in reversed(parts[:-1]) if p.isdigit()), None)
    if pid is None or pid == os.getpid():
        return pid is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive, as another user's process
    return False


def remove_leftover_temporaries(folder: Path) -> None:
    """Temporary files that a killed export left in `folder`."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if leftover_temporary(entry.name) and entry.is_file(follow_symlinks=False):
                with_suppressed_unlink(entry.path)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@lru_cache(maxsize=1)
def _renameat2() -> Any:
    """Linux's renameat2, or None where the system has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    function.argtypes.append(ctypes.c_uint)
    function.restype = ctypes.c_int
    return function


def exchange(first: str | Path, second: str | Path) -> bool:
    """Swap two files in one step (each name then holds the other's file); False where the
    system or the file system cannot, and nothing was done.

    Unlike a rename, the file that was replaced is the one at the name at that instant,
    whatever program put it there: it can be looked at, and swapped back."""
    function = _renameat2()
    if function is None:
        return False
    done = function(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), str(second))
