"""`gitops history ENV`: what reached an environment branch, newest first (commands/_branchlog)."""

from __future__ import annotations

from pathlib import Path

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._branchlog import entries_with_files, open_branch
from gitops_promote.errors import UsageError
from gitops_promote.results.history import DEFAULT_LIMIT, HistoryResult


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
