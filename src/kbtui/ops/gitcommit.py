"""Putting exported files on a branch of the KB's git repository, as extraction branches are.

The branch is made from where the curator is (HEAD), without ever moving HEAD: the commit is
built in a temporary index of its own, the repository's pre-commit and commit-msg hooks run
on it as `git commit` would run them, and the branch ref is created only when all of that
succeeded. The exported files then leave the working tree (it is as it was before the
export), so the next export branches from the same place and never stacks on this one.
Unrelated changes in the working tree and the curator's staging area are never touched, and
nothing is ever pushed.

A commit that fails (a hook says no) leaves the files written in the working tree; they are
remembered in the index, and a later `--commit` commits them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kbtui.formats.errors import KbtuiError
from kbtui.ops.atomic import atomic_write, with_suppressed_unlink
from kbtui.ops.export import ExportPlan, FileChange
from kbtui.store import index as store
from kbtui.store.db import Database

BRANCH_PREFIX = "extract/"
UNCOMMITTED = "export_uncommitted"
"""Meta key: files an export wrote whose commit failed, and the branch they were meant for."""


class GitError(KbtuiError):
    """Git could not do what export asked; the message says why."""


def _git(
    root: Path,
    *args: str,
    strip: bool = True,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
) -> str:
    try:
        result = subprocess.run(
            # Paths are file names, never patterns: `a[1].md` must not also match `a1.md`.
            ["git", "--literal-pathspecs", "-C", str(root), *args],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **env} if env else None,
            input=stdin,
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror}") from exc
    if result.returncode != 0:
        # The whole reason: a hook's message can take several lines, the last one a detail.
        reason = (result.stderr.strip() or result.stdout.strip() or "failed").replace("\n", " | ")
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


def _valid_branch(root: Path, name: str) -> bool:
    try:
        _git(root, "check-ref-format", "--branch", name)
    except GitError:
        return False
    return True


def _branch_name(root: Path, stem: str) -> str:
    """`extract/<stem>`, with what git refuses in a branch name (spaces, `[`, `..`, …) made
    dashes; `extract/kbtui-export` when even that is not a valid name."""
    part = _REF_UNSAFE.sub("-", stem).strip("-.").removesuffix(".lock")
    name = f"{BRANCH_PREFIX}{part or 'kbtui-export'}"
    return name if _valid_branch(root, name) else f"{BRANCH_PREFIX}kbtui-export"


def main_source(changes: Iterable[FileChange]) -> str | None:
    """The source with the most work in `changes`: the most claims and evidence drawn
    from it, then status changes (a null-result alone weighs least), then the first by
    name. The export's branch is named after it."""
    work = {c.path: (-len(c.draft_ids), -len(c.action_ids)) for c in changes if c.source}
    if not work:
        return None
    return min(work, key=lambda path: (*work[path], path))


def proposed_branch(root: Path, plan: ExportPlan) -> str:
    """The branch an export of `plan` would commit on, free in the repository."""
    source = main_source(plan.writable)
    base = _branch_name(root, _stem(source) if source else "kbtui-export")
    existing = _branches(root)
    branch, number = base, 2
    while f"refs/heads/{branch}" in existing:
        branch, number = f"{base}-{number}", number + 1
    return branch


def _branches(root: Path) -> set[str]:
    try:
        return set(_git(root, "for-each-ref", "--format=%(refname)", "refs/heads/").splitlines())
    except GitError:
        return set()


@dataclass(frozen=True, slots=True)
class Carried:
    """Files an earlier export wrote and could not commit."""

    paths: list[str]
    branch: str | None


def carried(db: Database) -> Carried:
    raw = store.get_meta(db, UNCOMMITTED)
    if not raw:
        return Carried([], None)
    try:
        value = json.loads(raw)
        return Carried([str(p) for p in value["paths"]], value.get("branch"))
    except (ValueError, KeyError, TypeError):
        return Carried([], None)


def _remember(db: Database, paths: list[str], branch: str | None) -> None:
    with store.transaction(db):
        if paths:
            store.set_meta(db, UNCOMMITTED, json.dumps({"paths": paths, "branch": branch}))
        else:
            store.delete_meta(db, UNCOMMITTED)


def _git_path(root: Path, name: str) -> Path:
    path = Path(_git(root, "rev-parse", "--git-path", name))
    return path if path.is_absolute() else root / path


_IN_PROGRESS = (
    ("MERGE_HEAD", "a merge"),
    ("rebase-merge", "a rebase"),
    ("rebase-apply", "a rebase or git am"),
    ("CHERRY_PICK_HEAD", "a cherry-pick"),
    ("REVERT_HEAD", "a revert"),
    ("BISECT_LOG", "a bisect"),
)


def check_committable(
    root: Path, plan: ExportPlan, branch: str | None = None, db: Database | None = None
) -> str:
    """Raise `GitError` for whatever would make the commit fail, before anything is written;
    returns the branch the commit will be made on (`branch`, or the proposed one)."""
    if not is_repository(root):
        raise GitError(f"{root} is not a git repository")
    if db is not None:
        _finish_interrupted(root, db)  # its branch exists: it is not this export's to refuse
    for name, what in _IN_PROGRESS:
        if _git_path(root, name).exists():
            raise GitError(f"{what} is in progress in {root}: finish or abort it first")
    lock = _git_path(root, "index.lock")
    if lock.exists():
        raise GitError(
            f"{lock} exists: another git command is running; when none is, remove that file"
        )
    earlier = carried(db) if db is not None else Carried([], None)
    if not branch and not plan.writable and earlier.branch:
        branch = earlier.branch  # only an earlier export's files to commit: its branch
    branch = branch or proposed_branch(root, plan)
    if not _valid_branch(root, branch):
        raise GitError(f"{branch!r} is not a name git takes for a branch")
    ref = f"refs/heads/{branch}"
    for other in _branches(root):
        if other == ref:
            raise GitError(f"a branch {branch} exists already: give the export another name")
        if other.startswith(ref + "/") or ref.startswith(other + "/"):
            clash = other.removeprefix("refs/heads/")
            raise GitError(
                f"the branch {clash} exists, so git cannot make {branch} beside it: give the "
                "export another branch name, or rename that branch"
            )
    paths = [c.path for c in plan.writable]
    if paths:
        ignored = _ignored(root, paths)
        if ignored:
            raise GitError(
                f"{ignored[0]} is ignored by git (a .gitignore rule), so it would not be "
                "committed: change that rule, or export without committing"
            )
    if not _has_commit(root):
        return branch  # no commit yet: every file is new to git, the export's commit takes them
    already = set(earlier.paths)
    modified = [
        path
        for c in plan.writable
        for path in ((c.path,) if c.action == "modify" else (c.old_path,) if c.old_path else ())
        if path not in already
    ]
    if modified:
        status = _git(
            root,
            "status",
            "--porcelain",
            "-z",
            "--untracked-files=all",
            "--",
            *modified,
            strip=False,
        )
        changed = sorted(_status_paths(status))
        if changed:
            more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
            shown = ", ".join(changed[:3]) + more
            raise GitError(
                f"{shown} ha{'s' if len(changed) == 1 else 've'} changes not committed, which "
                "the export's commit would take in: commit or stash them first, or export "
                "without committing"
            )
    return branch


def _ignored(root: Path, paths: list[str]) -> list[str]:
    """The paths among `paths` that git ignores (a tracked file never is)."""
    try:
        # check-ignore takes paths, never patterns, and refuses --literal-pathspecs.
        result = subprocess.run(
            ["git", "-C", str(root), "check-ignore", "--stdin", "-z"],
            input="\0".join(paths) + "\0",
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror}") from exc
    if result.returncode not in (0, 1):  # 1: none is ignored
        raise GitError(f"git check-ignore: {result.stderr.strip() or 'failed'}")
    return [p for p in result.stdout.split("\0") if p]


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


def commit_export(
    root: Path, plan: ExportPlan, who: str, branch: str | None = None, db: Database | None = None
) -> str | None:
    """Commit the files `plan` wrote (and those an earlier export could not commit) on a
    new branch from HEAD, then take them out of the working tree; returns the branch name.

    On failure the files stay written and are remembered in `db`: a later call commits
    them. HEAD, the curator's staging area and every other file are never touched."""
    if db is not None:
        _finish_interrupted(root, db)
    earlier = carried(db) if db is not None else Carried([], None)
    touched = [p for c in plan.changes if c.written for p in (c.old_path, c.path) if p]
    paths = list(dict.fromkeys(touched + earlier.paths))
    paths = [p for p in paths if _differs_from_head(root, p)]
    if not paths:
        if db is not None and earlier.paths:
            _remember(db, [], None)
        return None
    if not is_repository(root):
        raise GitError(f"{root} is not a git repository")
    written = [c for c in plan.changes if c.written]
    if not branch:
        branch = earlier.branch if earlier.branch and not written else None
        branch = branch or proposed_branch(root, ExportPlan(changes=written))
    # (check_committable has refused a branch that exists; update-ref below refuses one
    # made since.)
    message = _message(written, paths, who)
    if db is not None:
        _remember(db, paths, branch)
    commit = _commit(root, paths, message, who)
    _git(root, "update-ref", "-m", "kbtui export", f"refs/heads/{branch}", commit, "")
    _take_out(root, paths, commit, _before(written))
    if db is not None:
        _remember(db, [], None)
    return branch


def _before(written: list[FileChange]) -> dict[str, bytes | None]:
    """What each file this export wrote held before it (None: there was no file), which
    is what taking it out of the working tree puts back."""
    before: dict[str, bytes | None] = {}
    for change in written:
        if change.old_path:
            before[change.old_path] = change.before
            before[change.path] = None
        else:
            before[change.path] = change.before if change.action != "add" else None
    return before


def _differs_from_head(root: Path, path: str) -> bool:
    """Whether the working tree's `path` is not what HEAD has (new, changed or gone)."""
    head = _blob(root, "HEAD", path)
    if not (root / path).exists():
        return head is not None
    return head is None or _git(root, "hash-object", "--", path) != head


def _blob(root: Path, commit: str, path: str) -> str | None:
    """The blob `path` (from the KB's folder, which may be a sub-folder of the repository)
    has in `commit`, or None."""
    try:
        return _git(root, "rev-parse", "-q", "--verify", f"{commit}:./{path}")
    except GitError:
        return None


def _finish_interrupted(root: Path, db: Database) -> None:
    """An export killed after making its branch, before taking its files out of the working
    tree: the branch holds them, so they are taken out now, not committed twice."""
    earlier = carried(db)
    if not earlier.branch or not earlier.paths:
        return
    try:
        commit = _git(root, "rev-parse", "-q", "--verify", f"refs/heads/{earlier.branch}")
    except GitError:
        return
    if not all(_blob(root, commit, p) == _current_blob(root, p) for p in earlier.paths):
        return  # not what that export committed: a branch of the same name, made since
    _take_out(root, earlier.paths, commit)
    _remember(db, [], None)


def _current_blob(root: Path, path: str) -> str | None:
    if not (root / path).exists():
        return None
    try:
        return _git(root, "hash-object", "--", path)
    except GitError:
        return None


def _commit(root: Path, paths: list[str], message: str, who: str) -> str:
    """A commit of HEAD plus `paths` as they are in the working tree, made in an index of
    its own (HEAD and the curator's staging area stay as they are), with the hooks run."""
    git_dir = Path(_git(root, "rev-parse", "--absolute-git-dir"))
    for leftover in git_dir.glob("kbtui-export-*.index"):
        with_suppressed_unlink(leftover)  # an export killed mid-way
    handle, index_file = tempfile.mkstemp(dir=git_dir, prefix="kbtui-export-", suffix=".index")
    os.close(handle)
    os.unlink(index_file)  # git makes it; an empty file is not an index
    env = {"GIT_INDEX_FILE": index_file}
    env |= _identity(root, who)
    message_file = Path(index_file).with_suffix(".msg")
    try:
        head = _has_commit(root)
        _git(root, "read-tree", *(["HEAD"] if head else ["--empty"]), env=env)
        # Not `git add`, which refuses a tracked file in a folder .gitignore names (a new
        # file git ignores is refused before anything is written).
        _git(root, "update-index", "--add", "--remove", "--", *paths, env=env)
        _run_hook(root, "pre-commit", env)
        message_file.write_text(message, encoding="utf-8")
        _run_hook(root, "commit-msg", env, str(message_file))
        tree = _git(root, "write-tree", env=env)
        parents = ["-p", "HEAD"] if head else []
        commit = _git(root, "commit-tree", tree, *parents, "-F", str(message_file), env=env)
    finally:
        with_suppressed_unlink(index_file)
        with_suppressed_unlink(message_file)
    return commit


def _run_hook(root: Path, name: str, env: dict[str, str], *args: str) -> None:
    """Run the repository's hook `name` as `git commit` would (it sees the export's index)."""
    extra = ["--", *args] if args else []
    try:
        _git(root, "hook", "run", "--ignore-missing", name, *extra, env=env)
        return
    except GitError as exc:
        if "not a git command" not in str(exc):
            reason = str(exc).removeprefix("git hook: ")
            raise GitError(f"the {name} hook refused the commit: {reason}") from exc
    # A git older than `git hook` (2.36): the hook run as git would run it.
    hook = _git_path(root, f"hooks/{name}")
    if not (hook.is_file() and os.access(hook, os.X_OK)):
        return
    try:
        result = subprocess.run(
            [str(hook), *args],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **env},
        )
    except OSError as exc:
        raise GitError(f"cannot run the {name} hook: {exc.strerror}") from exc
    if result.returncode != 0:
        reason = (result.stderr.strip() or result.stdout.strip() or "failed").replace("\n", " | ")
        raise GitError(f"the {name} hook refused the commit: {reason}")


def _identity(root: Path, who: str) -> dict[str, str]:
    """Who the commit is by: git's own settings, else the curator's name (git refuses a
    commit with no e-mail address)."""
    try:
        _git(root, "config", "user.email")
        return {}
    except GitError:
        email = "curator@kbtui.invalid"
    return {
        "GIT_AUTHOR_NAME": who,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": who,
        "GIT_COMMITTER_EMAIL": email,
    }


def _message(written: list[FileChange], paths: list[str], who: str) -> str:
    sources = sorted({c.path for c in written if c.source})
    divergences = [c.path for c in written if _stem(c.path).startswith("divergence-")]
    claims = [c.path for c in written if c.action == "add" and c.path not in divergences]
    enriched = [
        c.path
        for c in written
        if c.action == "modify" and not c.source and c.path not in divergences
    ]
    main = main_source(written)
    lines = [
        f"extract: {_stem(main) if main else 'curator work'}"
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
    listed = {*sources, *claims, *enriched, *divergences}
    others = [p for p in paths if p not in listed]
    if others:
        lines += ["Written by an earlier export:", *[f"- {_stem(p)}" for p in others], ""]
    lines.append(f"Exported by kbtui for {who}.")
    return "\n".join(lines) + "\n"


def _take_out(
    root: Path, paths: list[str], commit: str, before: dict[str, bytes | None] | None = None
) -> None:
    """The committed files out of the working tree: each put back as it was before the
    export wrote it (`before`; a new file removed, a moved one back in its old place), else
    as HEAD has it. A file changed since it was committed is left as it is, and so is one
    whose earlier bytes are not known (no commit yet, nothing recorded)."""
    before = before or {}
    for path in paths:
        target = root / path
        committed = _blob(root, commit, path)
        try:
            current = _git(root, "hash-object", "--", path) if target.exists() else None
        except GitError:
            continue
        if current != committed:
            continue
        if path in before:
            old = before[path]
        elif _blob(root, "HEAD", path) is not None:
            shown = subprocess.run(
                ["git", "-C", str(root), "cat-file", "--filters", f"HEAD:./{path}"],
                capture_output=True,
                check=False,
            )
            if shown.returncode != 0:
                continue
            old = shown.stdout
        elif _has_commit(root):
            old = None  # not in HEAD: a file the export made
        else:
            continue  # no commit to tell what was there: left as written
        with contextlib.suppress(OSError):
            if old is None:
                target.unlink(missing_ok=True)
            else:
                atomic_write(target, old)


def remembered_note(db: Database) -> str | None:
    """A line saying which written files still wait to be committed, if any."""
    earlier = carried(db)
    if not earlier.paths:
        return None
    count = len(earlier.paths)
    return (
        f"{count} file(s) an earlier export wrote wait to be committed (its commit failed): "
        "kbtui export --commit commits them"
    )
