"""`gitops envs`: the registry as a table, with each environment branch's head commit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._context import bootstrap_registry, check_remote_name
from gitops_promote.core.registry import Environment, Registry


@dataclass(frozen=True)
class EnvRow:
    environment: Environment
    head: str | None
    head_ref: str | None

    def to_json(self) -> dict[str, Any]:
        return {**self.environment.to_json(), "head": self.head, "head_ref": self.head_ref}


@dataclass(frozen=True)
class EnvsResult:
    registry: Registry
    rows: list[EnvRow]

    def to_json(self) -> dict[str, Any]:
        return {
            "registry": self.registry.source,
            "order": list(self.registry.order),
            "positions": [list(group) for group in self.registry.positions],
            "env_specific": list(self.registry.env_specific),
            "environments": [row.to_json() for row in self.rows],
        }


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
