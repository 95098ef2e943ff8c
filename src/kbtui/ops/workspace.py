"""Where a KB and its index live: the bundled demo KB, `--db`, keeping the index out of git."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatch
from importlib import resources
from pathlib import Path

from kbtui.formats.errors import KbtuiError

DB_NAME = "kb.sqlite"
DEMO_DIRNAME = "demo-kb"
DEMO_RECORD = "demo-kb.json"
"""Beside the working copy: the SHA-256 of each file as kbtui last copied it, to tell the
files a newer bundled version may replace from those the user changed."""
_NOT_COPIED = (DB_NAME + "*", "__pycache__")


class WorkspaceError(KbtuiError):
    """The KB or its index cannot be used; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class Workspace:
    """A KB root and the path of its index."""

    root: Path
    db_path: Path
    is_demo: bool = False


def data_dir() -> Path:
    """The user's kbtui data directory (`KBTUI_DATA_DIR` overrides it, for tests)."""
    override = os.environ.get("KBTUI_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs  # only the demo KB needs it: off the start-up path of any other KB

    return Path(platformdirs.user_data_dir("kbtui"))


def bundled_demo() -> Path:
    """The demo KB shipped with kbtui: inside an installed wheel, or `seeds/` in a checkout."""
    packaged = Path(str(resources.files("kbtui"))) / "demo_kb"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / "seeds"
    if checkout.is_dir():
        return checkout
    raise WorkspaceError("the bundled demo KB is missing from this installation")


def demo_workspace() -> tuple[Path, str | None]:
    """The writable working copy of the demo KB, copied on first use, and brought up to the
    bundled version when that changes; the second value says what was done, if anything."""
    target = data_dir() / DEMO_DIRNAME
    record = data_dir() / DEMO_RECORD
    source = bundled_demo()
    shipped = _fingerprints(source)
    if not target.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(DEMO_DIRNAME + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(source, staging, ignore=shutil.ignore_patterns(*_NOT_COPIED))
        staging.rename(target)
        _write_record(record, shipped)
        return target, f"Copied the demo KB to {target} (a working copy you can change freely)."
    copied = _read_record(record)
    if copied == shipped:
        return target, None
    updated, kept = _update_copy(source, target, copied, shipped)
    _write_record(record, shipped)
    if not updated:
        return target, None
    note = (
        f"Updated {updated} file{'s' if updated != 1 else ''} of the demo KB at {target} "
        "to this kbtui's version"
    )
    if kept:
        note += f" (kept {kept} you changed)"
    return target, note + "."


def _fingerprints(root: Path) -> dict[str, str]:
    """Each file of a demo KB (its index aside) by KB-relative path: its SHA-256."""
    found = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(fnmatch(part, pattern) for part in relative.parts for pattern in _NOT_COPIED):
            continue
        if path.is_file() and not path.is_symlink():
            found[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _update_copy(
    source: Path, target: Path, copied: dict[str, str] | None, shipped: dict[str, str]
) -> tuple[int, int]:
    """Bring the working copy's files up to `shipped` where the user left them as `copied`
    (None: a copy made before kbtui kept a record, whose every file may have been changed);
    a file the user changed or removed is kept as it is. Returns (updated, kept)."""
    current = _fingerprints(target)
    updated = kept = 0
    for relative in sorted(set(copied or {}) | set(shipped)):
        old = copied.get(relative) if copied is not None else None
        new, now = shipped.get(relative), current.get(relative)
        if now == new:
            continue
        if copied is None or now != old:
            kept += 1  # changed (or removed) by the user: theirs
            continue
        path = target / relative
        if new is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            staging = path.with_name(path.name + ".kbtui-new")
            # A new modification time (not the bundled file's): the index sees the change.
            shutil.copyfile(source / relative, staging)
            os.replace(staging, path)
        updated += 1
    return updated, kept


def _read_record(record: Path) -> dict[str, str] | None:
    try:
        value = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _write_record(record: Path, fingerprints: dict[str, str]) -> None:
    staging = record.with_name(record.name + ".partial")
    staging.write_text(json.dumps(fingerprints, indent=0, sort_keys=True), encoding="utf-8")
    os.replace(staging, record)


def open_workspace(kb: str | Path | None, db: str | Path | None) -> tuple[Workspace, str | None]:
    """Resolve the KB root and index path; the second value is a note to show the user once."""
    note = None
    if kb is None:
        root, note = demo_workspace()
        is_demo = True
    else:
        if not str(kb).strip():
            raise WorkspaceError("the KB folder is empty text: give a folder (. for this one)")
        root = Path(kb).expanduser()
        is_demo = False
        if not root.exists():
            raise WorkspaceError(f"no such KB folder: {root}")
        if not root.is_dir():
            raise WorkspaceError(f"not a folder: {root}")
    root = root.resolve()
    db_path = Path(db).expanduser().resolve() if db else root / DB_NAME
    if db_path.is_dir():
        raise WorkspaceError(f"--db names a folder, not a file: {db_path}")
    if not db_path.parent.is_dir() and not db_path.parent.parent.is_dir():
        # Its folder is made, in a folder that exists: a typo in --db made a whole path.
        raise WorkspaceError(f"--db: no folder {db_path.parent.parent} to put the index in")
    _refuse_index_among_files(root, db_path)
    # Before a first index is written there (in /etc, or /, say); a folder holding one is
    # a KB.
    if not is_demo and not (root / DB_NAME).exists():
        refusal = _not_a_kb(root)
        if refusal:
            raise WorkspaceError(
                f"{refusal}: not a KB (give the folder that holds inbox/ and domains/)"
            )
    exclude_from_git(root, db_path)
    return Workspace(root, db_path, is_demo), note


def _refuse_index_among_files(root: Path, db_path: Path) -> None:
    """An index goes inside the KB only as `kb.sqlite` at its root (kept out of git): any
    other place there is among the KB's files, which it would be committed with, or it
    names one of them (an `.md` file would be overwritten). An index already there is
    used as it is."""
    if db_path == root / DB_NAME or not db_path.is_relative_to(root):
        return
    from kbtui.store.db import is_index  # only for an index inside the KB

    if db_path.exists() and is_index(db_path):
        return
    what = "is a file of the KB, not a kbtui index" if db_path.exists() else "is inside the KB"
    raise WorkspaceError(
        f"--db {db_path} {what}: give a path outside the KB, or leave --db out "
        f"(the index is then {DB_NAME} at the KB root)"
    )


SCAN_LIMIT = 20_000
"""Entries a folder without a KB's layout may hold to be taken as a loose KB."""
LAYOUT = ("inbox", "domains", "core", "foundations")
"""Folders of a KB's layout: a folder with one of them at its top is a KB."""


def _not_a_kb(root: Path) -> str | None:
    """Why `root` cannot be a KB, or None. A KB has a folder of its layout at its top;
    else it is a small folder of markdown files (at most `SCAN_LIMIT` entries): a big
    folder without that layout (`/`, a home folder) would be indexed for minutes, into a
    file of gigabytes, by a mistyped path."""
    if any((root / name).is_dir() for name in LAYOUT):
        return None
    folders, seen, markdown = [str(root)], 0, False
    while folders:
        try:
            entries = os.scandir(folders.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                seen += 1
                if seen > SCAN_LIMIT:
                    return (
                        f"{root} holds over {SCAN_LIMIT:,} files and folders, none of them "
                        f"{', '.join(name + '/' for name in LAYOUT)}"
                    )
                markdown = markdown or entry.name.endswith(".md")
                if entry.name != ".git" and entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
    return None if markdown else f"no markdown files under {root}"


class ScratchCopy:
    """A text in a file of its own, for an external editor; `read` gives it back."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> str:
        return self.path.read_text(encoding="utf-8", errors="replace")


@contextmanager
def scratch_copy(text: str, name: str) -> Iterator[ScratchCopy]:
    """`text` written to a temporary file named `name`, deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="kbtui-") as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8")
        yield ScratchCopy(path)


def _repository_of(root: Path) -> Path | None:
    """The top folder of the git repository holding `root` (itself, or a folder above it),
    or None. Only a repository with a `.git` folder counts: one whose `.git` is a file (a
    worktree, a submodule) keeps its exclude list elsewhere, and is left alone."""
    for folder in (root, *root.parents):
        marker = folder / ".git"
        if marker.is_dir():
            return folder
        if marker.exists():
            return None
    return None


def exclude_from_git(root: Path, db_path: Path) -> None:
    """Keep the index (and its WAL files) out of the KB's `git status`."""
    top = _repository_of(root)
    if top is None:
        return
    try:
        # Patterns of info/exclude are anchored at the repository's top, which a KB in
        # one of its folders is not.
        relative = db_path.relative_to(top)
        db_path.relative_to(root)
    except ValueError:
        return
    pattern = "/" + relative.as_posix() + "*"
    exclude = top / ".git" / "info" / "exclude"
    try:
        existing = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
        if pattern in existing.splitlines():
            return
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with exclude.open("a", encoding="utf-8") as handle:
            if existing and not existing.endswith("\n"):
                handle.write("\n")
            handle.write(pattern + "\n")
    except OSError:
        return
