"""Recomputing what a promotion or a rollback should have written, from git objects alone.

`gitops verify` compares these trees with the commits on an environment branch; `gitops attest`
lists the files by action of an existing promotion. Both use the rules `promote` and `rollback`
apply (core/promotion.plan_tree, env-specific keys), with the registries those commands read:
the one committed in the promoted commit, united with the target's own (at the first parent).
"""

from __future__ import annotations

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._context import registry_at
from gitops_promote.commands._envkeys import KeyRules, carry_env_keys
from gitops_promote.core.paths import EnvSpecificPaths
from gitops_promote.core.promotion import TreePlan, plan_tree
from gitops_promote.core.registry import Environment, Registry
from gitops_promote.core.tree import TreeEntry


class Trees:
    """Tree listings by commit: consecutive commits of a branch share one side."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._trees: dict[str, dict[str, TreeEntry]] = {}

    def __call__(self, commit: str) -> dict[str, TreeEntry]:
        if commit not in self._trees:
            self._trees[commit] = self.repo.ls_tree(commit)
        return self._trees[commit]


def owned_paths(repo: Repository, registry: Registry, env: Environment, *commits: str) -> EnvSpecificPaths:
    """`env`'s own paths: the registry's, united with those of the registries in `commits`."""
    owned = registry.owned_paths(env.codename)
    for commit in commits:
        if (found := registry_at(repo, commit, env.branch)) is not None:
            owned = owned.union(found.env_specific)
    return owned


def expected_promotion(
    repo: Repository, trees: Trees, fallback: Registry, env: Environment, parent: str, promoted: str
) -> TreePlan:
    """The plan `promote` makes for `promoted` on top of `parent` (the target's tip then)."""
    registry = registry_at(repo, promoted, "promoted commit") or fallback
    owned = owned_paths(repo, registry, env, parent)
    source, target = trees(promoted), trees(parent)
    plan = plan_tree(source, target, owned.owns)
    carry_env_keys(repo, KeyRules.build(registry.env_specific_keys, env.codename), source, target, plan)
    return plan


def expected_rollbacks(
    repo: Repository, trees: Trees, fallback: Registry, env: Environment, parent: str, restored: str
) -> list[dict[str, TreeEntry]]:
    """The trees a rollback to `restored` may have: env files kept (default), or restored too."""
    registry = registry_at(repo, parent, env.branch) or fallback
    owned = owned_paths(repo, registry, env, restored)
    kept = plan_tree(trees(restored), trees(parent), owned.owns).entries
    return [kept, trees(restored)]
