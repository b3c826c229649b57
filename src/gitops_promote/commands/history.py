"""`gitops history ENV`: what reached an environment branch, newest first (commands/_branchlog)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._branchlog import Entry, entries_with_files, open_branch
from gitops_promote.core.notices import Warning
from gitops_promote.core.registry import Environment
from gitops_promote.errors import UsageError

DEFAULT_LIMIT = 20


@dataclass
class HistoryResult:
    environment: Environment
    branch_ref: str
    head: str
    entries: list[Entry] = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    more: bool = False
    warnings: list[Warning] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment.codename,
            "branch": self.environment.branch,
            "ref": self.branch_ref,
            "head": self.head,
            "limit": self.limit,
            "more": self.more,
            "entries": [e.to_json() for e in self.entries],
            "warnings": [w.to_json() for w in self.warnings],
        }


def run(
    repo_path: Path,
    env_name: str,
    limit: int = DEFAULT_LIMIT,
    registry_file: Path | None = None,
    remote: str | None = None,
    fetch: bool = True,
) -> HistoryResult:
    if limit < 0:
        raise UsageError(f"--limit {limit} is negative", hint="give a number of entries, or 0 for all")
    with Repository(repo_path) as repo:
        branch = open_branch(repo, env_name, registry_file, remote, fetch)
        env, head = branch.environment, branch.head
        found = entries_with_files(repo, head, limit=limit)
        # more to show exactly when the last one shown has a first parent (no extra entry is
        # read: it could be a first commit listing every file)
        more = bool(limit) and len(found) == limit and bool(found[-1].parents)
        return HistoryResult(env, branch.refs.ref(env.branch), head, found, limit, more, list(branch.warnings))
