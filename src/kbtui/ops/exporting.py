"""One export, as both front ends run it: check the commit can be made, write the files,
read them back into the index, commit them on a branch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kbtui.ops import export, gitcommit
from kbtui.store.db import Database


@dataclass(slots=True)
class ExportOutcome:
    """What an export wrote, what it held back, and what went wrong after writing."""

    plan: export.ExportPlan
    dry_run: bool = False
    branch: str | None = None
    commit_error: str | None = None
    errors: list[str] = field(default_factory=list)
    """Failures after files were written: recording them, indexing them again."""
    gate: dict[str, list[str]] | None = None
    """A preview's merge-gate verdict, by path: the gate's codes of each file's failures."""

    @property
    def written(self) -> int:
        return sum(1 for c in self.plan.changes if c.written)

    @property
    def conflicts(self) -> list[export.FileChange]:
        return [c for c in self.plan.changes if c.conflict]

    @property
    def problems(self) -> bool:
        """Exit 1: something was held back or went wrong."""
        return bool(self.plan.skipped or self.commit_error or self.errors or self.conflicts)

    def as_dict(self) -> dict[str, Any]:
        files = [c.as_dict(with_diff=self.dry_run) for c in self.plan.changes]
        if self.gate is not None:
            for data in files:
                data["gate"] = self.gate.get(data["path"], [])
        return {
            "dry_run": self.dry_run,
            "files": files,
            "written": self.written,
            "skipped": len(self.plan.skipped),
            "branch": self.branch,
            "commit_error": self.commit_error,
            "errors": self.errors,
        }


def run_export(
    db: Database,
    root: Path,
    plan: export.ExportPlan,
    who: str,
    reindex: Callable[[], object],
    commit: bool = False,
    branch: str | None = None,
) -> ExportOutcome:
    """Write `plan`; with `commit`, on a new branch from HEAD (`branch`, or one named after
    the source with the most work). Whatever can stop the commit is checked before anything
    is written (`gitcommit.GitError`, nothing written). A failure after writing is reported
    in the outcome, never raised: the files hold the work."""
    if commit:
        branch = gitcommit.check_committable(root, plan, branch, db)
    export.apply_export(db, root, plan)
    outcome = ExportOutcome(plan, errors=list(plan.errors))
    if commit:
        try:
            outcome.branch = gitcommit.commit_export(root, plan, who, branch, db)
        except (gitcommit.GitError, OSError) as exc:
            outcome.commit_error = (
                f"files written, but not committed: {exc}. They stay in the working tree; "
                "kbtui export --commit commits them once that is fixed"
            )
    try:
        reindex()
    except Exception as exc:  # the files are written: said, never a reason to lose that report
        outcome.errors.append(f"the files are written, but indexing them again failed: {exc}")
    return outcome


def run_export_at(
    db_path: Path,
    root: Path,
    plan: export.ExportPlan,
    who: str,
    reindex: Callable[[], object],
    commit: bool = False,
    branch: str | None = None,
) -> ExportOutcome:
    """`run_export` on a connection of its own to the index at `db_path` (for a worker
    thread: a connection belongs to the thread that uses it)."""
    from kbtui.store.db import StoreError, open_db

    if not db_path.is_file():
        # Opening would make a new, empty index where the curator's work was: the app that
        # asked writes it again from its own connection first.
        raise StoreError(f"the index {db_path} is gone: nothing was written")
    db = open_db(db_path)
    try:
        return run_export(db, root, plan, who, reindex, commit=commit, branch=branch)
    finally:
        db.close()


def proposed_branch(root: Path, plan: export.ExportPlan) -> str | None:
    """The branch `--commit` would make for `plan`, or None outside a git repository."""
    if not gitcommit.is_repository(root):
        return None
    return gitcommit.proposed_branch(root, plan)
