"""Putting exported files on a branch of the KB's git repository, as extraction branches are.

The branch is named `extract/<source stem>`; only the exported files are committed, unrelated
changes in the working tree stay as they were, and nothing is ever pushed.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
from pathlib import Path

from kbtui.ops.export import ExportPlan


class GitError(RuntimeError):
    """Git could not do what export asked; the message says why in one line."""


def _git(root: Path, *args: str, strip: bool = True) -> str:
    try:
        result = subprocess.run(
            # Paths are file names, never patterns: `a[1].md` must not also match `a1.md`.
            ["git", "--literal-pathspecs", "-C", str(root), *args],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror}") from exc
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["failed"])[-1]
        raise GitError(f"git {args[0]}: {reason}")
    return result.stdout.strip() if strip else result.stdout


def is_repository(root: Path) -> bool:
    try:
        return _git(root, "rev-parse", "--is-inside-work-tree") == "true"
    except GitError:
        return False


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".md")


_REF_UNSAFE = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]+|\.{2,}|@\{")


def _branch_name(root: Path, stem: str) -> str:
    """`extract/<stem>`, with what git refuses in a branch name (spaces, `[`, `..`, …) made
    dashes; `extract/kbtui-export` when even that is not a valid name."""
    part = _REF_UNSAFE.sub("-", stem).strip("-.").removesuffix(".lock")
    name = f"extract/{part or 'kbtui-export'}"
    try:
        _git(root, "check-ref-format", "--branch", name)
    except GitError:
        return "extract/kbtui-export"
    return name


def commit_export(root: Path, plan: ExportPlan, who: str) -> str | None:
    """Commit the files `plan` wrote on a new `extract/...` branch; returns the branch name."""
    written = [c for c in plan.changes if c.written]
    if not written:
        return None
    if not is_repository(root):
        raise GitError(f"{root} is not a git repository")
    sources = sorted({c.path for c in written if c.path.startswith("inbox/")})
    divergences = [c.path for c in written if _stem(c.path).startswith("divergence-")]
    claims = [c.path for c in written if c.action == "add" and c.path not in divergences]
    enriched = [
        c.path
        for c in written
        if c.action == "modify" and c.path not in sources and c.path not in divergences
    ]
    base = _branch_name(root, _stem(sources[0]) if sources else "kbtui-export")
    existing = set(_git(root, "branch", "--list", "--format=%(refname:short)").splitlines())
    branch, number = base, 2
    while branch in existing:
        branch, number = f"{base}-{number}", number + 1
    previous = _where(root)
    _git(root, "checkout", "-q", "-b", branch)
    paths = [c.path for c in written]
    try:
        _commit(root, paths, sources, claims, enriched, divergences, who)
    except GitError:
        # Back where the curator was, the files written but not staged, and no empty branch
        # left behind: as after an export without --commit.
        with contextlib.suppress(GitError):
            _git(root, "reset", "-q", "--", *paths)
        with contextlib.suppress(GitError):
            if previous.startswith("refs/heads/"):
                # The new branch is where the old one was: moving HEAD back changes no file
                # (and works on a branch with no commit yet, which checkout cannot).
                _git(root, "symbolic-ref", "HEAD", previous)
            elif previous:
                _git(root, "checkout", "-q", previous)
        with contextlib.suppress(GitError):
            _git(root, "branch", "-q", "-D", branch)
        raise
    return branch


def check_committable(root: Path, plan: ExportPlan) -> None:
    """Raise `GitError` when a file the plan would change has changes of the curator's not
    yet committed: the export's commit would take them in with kbtui's edit."""
    if not _has_commit(root):
        return  # no commit yet: every file is new to git, the export's commit takes them all
    paths = [c.path for c in plan.writable if c.action == "modify"]
    if not paths:
        return
    status = _git(
        root, "status", "--porcelain", "-z", "--untracked-files=all", "--", *paths, strip=False
    )
    changed = sorted(_status_paths(status))
    if changed:
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        shown = ", ".join(changed[:3]) + more
        raise GitError(
            f"{shown} ha{'s' if len(changed) == 1 else 've'} changes not committed, which the "
            "export's commit would take in: commit or stash them first, or export without "
            "committing"
        )


def _status_paths(status: str) -> set[str]:
    """The paths of `git status --porcelain -z`: entries `XY path`, each ended by a NUL; a
    rename or copy is followed by its old path, which is not listed."""
    paths: set[str] = set()
    entries = iter(status.split("\0"))
    for entry in entries:
        if len(entry) > 3:
            paths.add(entry[3:])
            if entry[0] in "RC":
                next(entries, None)
    return paths


def _has_commit(root: Path) -> bool:
    try:
        _git(root, "rev-parse", "-q", "--verify", "HEAD")
    except GitError:
        return False
    return True


def _where(root: Path) -> str:
    """HEAD as a branch ref (`refs/heads/main`, also before its first commit), else the
    commit a detached HEAD is on, else ''."""
    try:
        return _git(root, "symbolic-ref", "-q", "HEAD").strip()
    except GitError:
        pass
    try:
        return _git(root, "rev-parse", "-q", "--verify", "HEAD").strip()
    except GitError:
        return ""


def _commit(
    root: Path,
    paths: list[str],
    sources: list[str],
    claims: list[str],
    enriched: list[str],
    divergences: list[str],
    who: str,
) -> None:
    _git(root, "add", "--", *paths)
    lines = [
        f"extract: {_stem(sources[0]) if sources else 'curator work'}"
        + (f" and {len(sources) - 1} more" if len(sources) > 1 else ""),
        "",
    ]
    for label, items in (
        ("Sources", sources),
        ("New claims", claims),
        ("Enriched claims", enriched),
        ("Divergences", divergences),
    ):
        if items:
            lines += [f"{label}:", *[f"- {_stem(item)}" for item in items], ""]
    lines.append(f"Exported by kbtui for {who}.")
    identity: list[str] = []
    try:
        _git(root, "config", "user.email")
    except GitError:
        identity = ["-c", f"user.name={who}", "-c", "user.email=curator@kbtui.invalid"]
    _git(root, *identity, "commit", "-q", "-m", "\n".join(lines), "--", *paths)
