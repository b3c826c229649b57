"""What every command needs before it can work: the repository, the registry, the branches.

Registries are read from git objects where possible (`<branch>:environments.yaml`), so that a
stale or edited working tree cannot change what a promotion does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from gitops_promote.adapters.git import Repository
from gitops_promote.core.registry import REGISTRY_FILE, Environment, Registry, parse_registry
from gitops_promote.errors import ConfigError, UsageError


def open_repository(path: Path | str) -> Repository:
    return Repository(path)


def registry_at(repo: Repository, commit: str, label: str) -> Registry | None:
    """The registry committed in `commit`, or None when that commit has none."""
    data = repo.read_file_at(commit, REGISTRY_FILE)
    return None if data is None else parse_registry(data, f"{label}:{REGISTRY_FILE}")


def bootstrap_registry(repo: Repository, override: Path | None, hint_branches: list[str]) -> Registry:
    """The registry used to find branches: --registry, the working tree, HEAD, or a branch."""
    if override is not None:
        return _registry_file(override)
    if repo.work_tree is not None and (repo.work_tree / REGISTRY_FILE).is_file():
        return _registry_file(repo.work_tree / REGISTRY_FILE, display=REGISTRY_FILE)
    # every branch is listed only when neither HEAD nor the branches named have a registry
    for rev in chain(["HEAD", *hint_branches], _every_branch(repo)):
        commit = repo.resolve_commit(rev) if not rev.startswith("-") else None
        if commit and (found := registry_at(repo, commit, rev.removeprefix("refs/heads/"))) is not None:
            return found
    raise ConfigError(
        f"no {REGISTRY_FILE} found in the working tree, in HEAD or in the branches named",
        hint=f"run gitops from a clone of the GitOps repository, commit an {REGISTRY_FILE} "
        "(gitops init creates one), or pass --registry FILE",
    )


def _every_branch(repo: Repository) -> Iterator[str]:
    yield from repo.branch_refs()  # a generator: the listing runs only if it is reached


def _registry_file(path: Path, display: str | None = None) -> Registry:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read registry {path}: {exc.strerror}") from None
    return parse_registry(data, display or str(path))


def environment(registry: Registry, name: str) -> Environment:
    """The environment called `name` (codename, or branch as a convenience)."""
    _refuse_option_like(name, "environment")
    found = registry.get(name) or registry.by_branch(name)
    if found is None:
        import difflib

        known = [e.codename for e in registry.environments]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UsageError(
            f"unknown environment {name!r} (registry {registry.source})",
            hint=f"{hint}known environments: {', '.join(known)}",
        )
    return found


def promotion_step(registry: Registry, source: str, target: str) -> tuple[Environment, Environment]:
    """The two environments of an allowed step; anything but an adjacent forward step is refused."""
    src, dst = environment(registry, source), environment(registry, target)
    if (src.codename, dst.codename) not in registry.allowed_steps():
        path = " → ".join(registry.order)
        steps = ", ".join(f"{a}→{b}" for a, b in registry.allowed_steps())
        why = "backwards" if _position(registry, dst) <= _position(registry, src) else "skips an environment"
        raise UsageError(
            f"cannot promote {src.codename} to {dst.codename}: that step {why}",
            hint=f"changes travel {path} one step at a time; allowed: {steps}",
        )
    return src, dst


def _position(registry: Registry, env: Environment) -> int:
    return registry.order.index(env.codename)


def _refuse_option_like(value: str, what: str) -> None:
    if value.startswith("-") or any(ord(c) < 0x20 for c in value):
        raise UsageError(f"invalid {what} name {value!r}", hint=f"{what} names never start with '-'")


DEFAULT_REMOTE = "origin"


def check_remote_name(repo: Repository, remote: str | None) -> str | None:
    """The remote to use: the one named (which must exist), else origin when there is one."""
    if remote is None:
        return DEFAULT_REMOTE if DEFAULT_REMOTE in repo.remotes() else None
    _refuse_option_like(remote, "remote")
    if remote not in repo.remotes():
        raise UsageError(
            f"this repository has no remote {remote!r}",
            hint="see git remote -v; without --remote, origin is used when it exists, else local branches",
        )
    return remote


@dataclass(frozen=True)
class BranchRefs:
    """Where a command reads a branch from: the remote-tracking ref, or the local branch."""

    remote: str | None

    def ref(self, branch: str) -> str:
        return f"refs/remotes/{self.remote}/{branch}" if self.remote else f"refs/heads/{branch}"
