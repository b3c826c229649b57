"""Passes over a step's thousands of records made cheaper, against what they replaced."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from test_status_scale_collapse import STEPS, repositories  # noqa: F401 - the fixture

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._engine import Prepared, PromotionRequest, prepare
from gitops_promote.commands._stepfiles import StepTrees
from gitops_promote.core.apps import _ARGOCD_APP, App, group_by_app
from gitops_promote.core.tree import iter_parents
from gitops_promote.errors import RefusedError


def reference_group_by_app(paths: Sequence[str], apps: Sequence[App]) -> dict[str, list[str]]:
    """group_by_app as it was: every path's parents looked up on their own."""
    order = {a.path: i for i, a in enumerate(apps)}
    by_name: dict[str, App] = {}
    for app in apps:
        by_name.setdefault(app.name, app)
    everything = next((a for a in apps if a.path == "."), None)

    def owner(path: str, order: Mapping[str, int]) -> str:
        candidates = [parent for parent in iter_parents(path) if parent in order]
        match = _ARGOCD_APP.match(path)
        if match is not None and match.group("name") in by_name:
            candidates.append(by_name[match.group("name")].path)
        if everything is not None:
            candidates.append(everything.path)
        return min(candidates, key=order.__getitem__) if candidates else ""

    grouped: dict[str, list[str]] = {}
    for path in paths:
        grouped.setdefault(owner(path, order), []).append(path)
    return dict(sorted(grouped.items(), key=lambda item: order.get(item[0], len(order))))


DIRS = st.sampled_from(["apps/a", "apps/b", "apps/a/charts/c", "apps", ".", "argocd/stg/apps", "b"])
NAMES = st.sampled_from(["values.yaml", "a.yaml", "b.yaml", "templates/x.yaml", "a/y.yaml"])
PATHS = st.builds(lambda d, n: n if d == "." else f"{d}/{n}", DIRS, NAMES)


@settings(max_examples=300, deadline=None)
@given(st.lists(PATHS, max_size=40), st.lists(DIRS, unique=True, max_size=6))
def test_group_by_app_is_what_looking_up_each_path_gives(paths: list[str], app_dirs: list[str]) -> None:
    apps = [App(d) for d in app_dirs]
    assert group_by_app(paths, apps) == reference_group_by_app(paths, apps)


def test_paths_whose_result_is_not_the_targets_found_without_lookups(repositories: list[Path]) -> None:  # noqa: F811
    for path in repositories:
        for source, target in STEPS:
            with Repository(path) as repo:
                try:
                    prepared = prepare(repo, PromotionRequest(source, target, fetch=False))
                except RefusedError:
                    continue
                plan, trees = prepared.plan, prepared.target_tree
                expected = {p for p in {*plan.files, *plan.changes} if plan.entries.get(p) != trees.get(p)}
                merge = _stepfiles_of(prepared)
                assert merge._not_the_targets() == expected, (path, source)


def _stepfiles_of(p: Prepared) -> StepTrees:
    """The step's StepTrees again, over the plan `prepare` made."""
    return StepTrees(
        p.repo, p.governance, p.source, p.target, p.source_tree, p.target_tree, p.plan, p.owned, p.key_rules, p.blobs
    )
