"""Recomputing what a promotion or a rollback should have written, from git objects alone.

`gitops verify` compares these trees with the commits on an environment branch; `gitops attest`
lists the files by action of an existing promotion. Both use the rules `promote` and `rollback`
apply (core/treediff.plan_delta, env-specific keys), with the registries those commands read:
the one committed in the promoted commit, united with the target's own (at the first parent).
The trees are compared only at the paths where they can differ: none is listed.
"""

from __future__ import annotations

from collections.abc import Mapping

from gitops_promote.adapters import treeview
from gitops_promote.adapters.git import Repository
from gitops_promote.adapters.treeview import TreeView
from gitops_promote.commands._context import environment, govern_step, registry_at
from gitops_promote.core.paths import EnvSpecificPaths
from gitops_promote.core.registry import Environment, Registry
from gitops_promote.core.tree import TreeEntry
from gitops_promote.core.treediff import DeltaPlan, plan_delta


def owned_paths(repo: Repository, registry: Registry, env: Environment, *commits: str) -> EnvSpecificPaths:
    """`env`'s own paths: the registry's, united with those of the registries in `commits`."""
    owned = registry.owned_paths(env.codename)
    for commit in commits:
        if (found := registry_at(repo, commit, env.branch)) is not None:
            owned = owned.union(found.env_specific)
    return owned


def expected_promotion(
    repo: Repository,
    chosen: Registry,
    source: str,
    env: Environment,
    parent: str,
    promoted: str,
    apps: tuple[str, ...] = (),
) -> DeltaPlan:
    """The plan `promote` makes for `promoted` (of `source`) on top of `parent` (the target's
    tip then), for `apps` when it was a partial promotion: `_engine.plan_step`, the same
    computation `prepare()` runs."""
    from gitops_promote.commands._engine import plan_step

    src, dst = environment(chosen, source), environment(chosen, env.codename)
    governance = govern_step(repo, chosen, False, (src, dst), (promoted, parent))
    registry = governance.registry
    src, dst = registry.get(src.codename) or src, registry.get(dst.codename) or dst
    return plan_step(repo, governance, (src, dst), treeview.pair(repo, promoted, parent), apps).plan


def promotion_trees(
    repo: Repository, plan: DeltaPlan, promoted: str, commit: str
) -> tuple[dict[str, TreeEntry], dict[str, TreeEntry]]:
    """(the tree the rules give, the commit's tree) at the only paths where they can differ.

    The rules' tree is the promoted commit's plus the plan's changes, so at any other path it
    holds what the promoted commit holds; the commit's tree differs from the promoted one only
    at the paths one `diff-tree` names. Neither tree is listed.
    """
    candidates, actual = _where_they_can_differ(repo, promoted, commit, plan)
    return _at(plan.entries, candidates), _at(actual, candidates)


def rollback_trees(
    repo: Repository, fallback: Registry, env: Environment, parent: str, restored: str, commit: str
) -> tuple[list[dict[str, TreeEntry]], dict[str, TreeEntry]]:
    """(the trees a rollback to `restored` may have: env files kept (default) or restored too;
    the rollback commit's tree), at the only paths where they can differ (as promotion_trees)."""
    registry = registry_at(repo, parent, env.branch) or fallback
    owned = owned_paths(repo, registry, env, restored)
    records, restored_tree, _parent_tree = treeview.pair(repo, restored, parent)
    kept = plan_delta(records, owned.owns, None, restored_tree)
    candidates, actual = _where_they_can_differ(repo, restored, commit, kept)
    return [_at(kept.entries, candidates), _at(restored_tree, candidates)], _at(actual, candidates)


def _where_they_can_differ(repo: Repository, base: str, commit: str, plan: DeltaPlan) -> tuple[list[str], TreeView]:
    """The paths where `plan`'s tree (`base`'s plus the plan's changes) and `commit`'s tree can
    differ, and a view of `commit`; both trees' lookups of them made in one round each."""
    candidates = sorted(repo.changed_paths(base, commit) | set(plan.changes))
    actual = treeview.TreeView(repo, commit)
    for view in (actual, plan.entries.source):
        if isinstance(view, treeview.TreeView):
            view.prefetch(candidates)  # one round of lookups, not one per path
    return candidates, actual


def _at(tree: Mapping[str, TreeEntry], paths: list[str]) -> dict[str, TreeEntry]:
    return {p: e for p in paths if (e := tree.get(p)) is not None}
