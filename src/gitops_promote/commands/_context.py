"""What every command needs before it can work: the repository, the registry, the branches.

Registries are read from git objects where possible (`<branch>:environments.yaml`), so that a
stale or edited working tree cannot change what a promotion does.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from pathlib import Path
from typing import NamedTuple

from gitops_promote.adapters.git import DEFAULT_REMOTE, Repository
from gitops_promote.core.lookup import closest
from gitops_promote.core.registry import REGISTRY_FILE, Environment, Registry, parse_registry
from gitops_promote.core.words import listed
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
        f"no {REGISTRY_FILE} found in the working tree, in HEAD or in any branch",
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
        known = [e.codename for e in registry.environments]
        close = closest(name, known)
        hint = f"did you mean {close!r}? " if close else ""
        raise UsageError(
            f"unknown environment {name!r} (registry {registry.source})",
            hint=f"{hint}known environments: {', '.join(known)}",
        )
    return found


def promotion_step(registry: Registry, source: str, target: str) -> tuple[Environment, Environment]:
    """The two environments of a step `registry` allows (from a position to an environment of
    the next one, docs/environment-graph.md); anything else is refused (exit 2)."""
    src, dst = environment(registry, source), environment(registry, target)
    if not registry.allows(src.codename, dst.codename):
        steps = _listed([f"{a}→{b}" for a, b in registry.allowed_steps()])
        raise UsageError(
            f"cannot promote {src.codename} to {dst.codename}: {_why_refused(registry, src, dst)} "
            f"(registry {registry.source})",
            hint=f"changes travel {registry.describe_order()} one step at a time; allowed: {steps}",
        )
    return src, dst


MAX_LISTED_STEPS = 20


def _listed(steps: list[str]) -> str:
    """The steps for a hint; a registry with large groups has too many to name them all."""
    return listed(steps, MAX_LISTED_STEPS)


def _why_refused(registry: Registry, src: Environment, dst: Environment) -> str:
    if src.codename == dst.codename:
        return f"{src.codename} is both the source and the target"
    here, there = registry.position_of(src.codename), registry.position_of(dst.codename)
    if there == here:
        return "that step goes sideways (both are fed by the same upstream)"
    return "that step goes backwards" if there < here else "that step skips an environment"


def next_targets(registry: Registry, source: str) -> list[str]:
    """The environments `gitops promote SOURCE` (no target) promotes into, in registry order."""
    src = environment(registry, source)
    targets = [e.codename for e in registry.next_environments(src.codename)]
    if not targets:
        raise UsageError(
            f"{src.codename} is the last environment of the order: there is nothing to promote it into",
            hint=f"changes travel {registry.describe_order()}",
        )
    return targets


# ---- who decides a step (docs/registry.md, "Who decides") -----------------------------------

GOVERNED_BY_TARGET = "target"  # the registry committed on the target's own branch
GOVERNED_BY_OVERRIDE = "override"  # --registry FILE, chosen by the person running the command
GOVERNED_BY_BOOTSTRAP = "bootstrap"  # the target has no registry yet: the source's, this once


class Governance(NamedTuple):
    """The registries of a step and the one that governs it."""

    registry: Registry
    how: str
    source_registry: Registry | None
    target_registry: Registry | None


def govern_step(
    repo: Repository,
    chosen: Registry,
    override: bool,
    step: tuple[Environment, Environment],
    commits: tuple[str, str],
) -> Governance:
    """The registry that decides the step SRC → DST: DST's own, unless --registry replaces it.

    `chosen` found the branches; the source's and target's registries must agree with it on
    which branch each of the two environments is, so that no commit upstream can redirect a
    promotion, and the step itself must be one the target's registry allows.
    """
    src, dst = step
    source_registry = registry_at(repo, commits[0], src.branch)
    target_registry = registry_at(repo, commits[1], dst.branch)
    if override:
        promotion_step(chosen, src.codename, dst.codename)
        return Governance(chosen, GOVERNED_BY_OVERRIDE, source_registry, target_registry)
    known = [r for r in (chosen, source_registry, target_registry) if r is not None]
    texts = {
        f"{src.branch}:{REGISTRY_FILE}": repo.read_file_at(commits[0], REGISTRY_FILE),
        f"{dst.branch}:{REGISTRY_FILE}": repo.read_file_at(commits[1], REGISTRY_FILE),
    }
    if repo.work_tree is not None and (repo.work_tree / REGISTRY_FILE).is_file():
        texts[REGISTRY_FILE] = (repo.work_tree / REGISTRY_FILE).read_bytes()
    for env in step:
        _require_same_branch(env.codename, known, texts)
    if target_registry is None:
        governing = source_registry or chosen
        promotion_step(governing, src.codename, dst.codename)
        return Governance(governing, GOVERNED_BY_BOOTSTRAP, source_registry, None)
    if target_registry.get(dst.codename) is None:
        raise ConfigError(
            f"{target_registry.source} has no entry for {dst.codename}, yet it is on {dst.branch}'s own branch",
            hint=f"add {dst.codename}'s entry to {REGISTRY_FILE} on {dst.branch} (the environment's entry lives there)",
        )
    promotion_step(target_registry, src.codename, dst.codename)
    return Governance(target_registry, GOVERNED_BY_TARGET, source_registry, target_registry)


def _require_same_branch(codename: str, registries: list[Registry], texts: dict[str, bytes | None]) -> None:
    from gitops_promote.core.registry_entry import entry_line

    claims = [(r, e) for r in registries if (e := r.get(codename)) is not None]
    branches = {e.branch for _, e in claims}
    if len(branches) <= 1:
        return
    lines, seen = [], set()
    for registry, env in claims:
        if registry.source in seen:
            continue
        seen.add(registry.source)
        text = texts.get(registry.source)
        line = env.line or (entry_line(text, codename) if text else None)
        lines.append(f"{registry.source}" + (f" line {line}" if line else "") + f" says {env.branch!r}")
    raise ConfigError(
        f"the registries disagree on which branch is {codename}: " + "; ".join(lines),
        hint="a branch mapping changes only when every environment's registry says the same: fix the "
        "registry that is wrong, or make the change on every environment's branch; nothing was written",
    )


def _refuse_option_like(value: str, what: str) -> None:
    if value.startswith("-") or any(ord(c) < 0x20 for c in value):
        raise UsageError(f"invalid {what} name {value!r}", hint=f"{what} names never start with '-'")


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


class BranchRefs(NamedTuple):
    """Where a command reads a branch from: the remote-tracking ref, or the local branch."""

    remote: str | None

    def ref(self, branch: str) -> str:
        return f"refs/remotes/{self.remote}/{branch}" if self.remote else f"refs/heads/{branch}"
