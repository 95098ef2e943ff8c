"""Where a KB and its index live: the bundled demo KB, `--db`, keeping the index out of git."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

DB_NAME = "kb.sqlite"
DEMO_DIRNAME = "demo-kb"


class WorkspaceError(RuntimeError):
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


def demo_workspace(announce: bool = True) -> tuple[Path, bool]:
    """The writable working copy of the demo KB, copied on first use; True when just copied."""
    target = data_dir() / DEMO_DIRNAME
    if target.is_dir():
        return target, False
    source = bundled_demo()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(DEMO_DIRNAME + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging, ignore=shutil.ignore_patterns(DB_NAME + "*", "__pycache__"))
    staging.rename(target)
    return target, True


def open_workspace(kb: str | Path | None, db: str | Path | None) -> tuple[Workspace, str | None]:
    """Resolve the KB root and index path; the second value is a note to show the user once."""
    note = None
    if kb is None:
        root, created = demo_workspace()
        if created:
            note = f"Copied the demo KB to {root} (a working copy you can change freely)."
        is_demo = True
    else:
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
    exclude_from_git(root, db_path)
    return Workspace(root, db_path, is_demo), note


def exclude_from_git(root: Path, db_path: Path) -> None:
    """Keep the index (and its WAL files) out of the KB's `git status`."""
    git_dir = root / ".git"
    if not git_dir.is_dir():
        return
    try:
        relative = db_path.relative_to(root)
    except ValueError:
        return
    pattern = "/" + relative.as_posix() + "*"
    exclude = git_dir / "info" / "exclude"
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
