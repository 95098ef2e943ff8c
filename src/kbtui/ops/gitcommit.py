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


def _git(root: Path, *args: str) -> str:
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
    return result.stdout.strip()


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
    claims = [c.path for c in written if c.action == "add"]
    enriched = [c.path for c in written if c.action == "modify" and c.path not in sources]
    base = _branch_name(root, _stem(sources[0]) if sources else "kbtui-export")
    existing = set(_git(root, "branch", "--list", "--format=%(refname:short)").splitlines())
    branch, number = base, 2
    while branch in existing:
        branch, number = f"{base}-{number}", number + 1
    previous = _where(root)
    _git(root, "checkout", "-q", "-b", branch)
    paths = [c.path for c in written]
    try:
        _commit(root, paths, sources, claims, enriched, who)
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
