"""`gitops envs`: the registry as a table, with each environment branch's head commit."""

from __future__ import annotations

from pathlib import Path

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._context import bootstrap_registry, check_remote_name
from gitops_promote.core.registry import Environment
from gitops_promote.results.envs import EnvRow, EnvsResult


def run(repo_path: Path, registry_file: Path | None, remote: str | None = None) -> EnvsResult:
    with Repository(repo_path) as repo:
        registry = bootstrap_registry(repo, registry_file, [])
        remote = check_remote_name(repo, remote)
        rows = [_row(repo, env, remote) for env in registry.ordered()]
        return EnvsResult(registry, rows)


def _row(repo: Repository, env: Environment, remote: str | None) -> EnvRow:
    """The head the tool would promote from: the remote-tracking ref when there is a remote."""
    candidates = [f"refs/remotes/{remote}/{env.branch}"] if remote else []
    candidates.append(f"refs/heads/{env.branch}")
    for ref in candidates:
        if (sha := repo.resolve_commit(ref)) is not None:
            return EnvRow(env, sha, ref)
    return EnvRow(env, None, None)
