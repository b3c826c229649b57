"""Property-based tests: the promotion rules hold for random trees and layouts.

The oracle below is written independently of core/promotion.py, straight from the rules.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from conftest import REGISTRY, GitopsRepo, git, init_repo, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_promote.adapters.git import Repository
from gitops_promote.adapters.scaffold import commit_files, set_branch
from gitops_promote.core.paths import EnvSpecificPaths
from gitops_promote.core.promotion import plan_tree
from gitops_promote.core.tree import TreeEntry

APPS = ["apps/a", "apps/b", "apps/c", "apps/d/sub"]
NAMES = ["Chart.yaml", "values.yaml", "values-dev.yaml", "values-stg.yaml", "values-prd.yaml", "templates/x.yaml"]
PATHS = [f"{app}/{name}" for app in APPS for name in NAMES] + ["README.md", "values-stg.yaml"]
OWNED_STG = re.compile(r"^apps/[^/]+/values-stg\.yaml$")  # "apps/*/values-{env}.yaml" for stg

contents = st.sampled_from(["a: 1\n", "a: 2\n", "b: [1, 2]\n", "# comment\n"])
trees = st.dictionaries(st.sampled_from(PATHS), contents, max_size=len(PATHS))


def entry(content: str) -> TreeEntry:
    return TreeEntry("100644", f"{abs(hash(content)):040x}"[-40:])


def oracle(source: dict[str, TreeEntry], target: dict[str, TreeEntry]) -> dict[str, TreeEntry]:
    expected: dict[str, TreeEntry] = {}
    for path in set(source) | set(target):
        if OWNED_STG.match(path):
            directory = path.rsplit("/", 1)[0]
            if path in target:
                if any(p.startswith(directory + "/") for p in source):
                    expected[path] = target[path]  # a: kept byte for byte
                # c: orphaned otherwise
            else:
                expected[path] = source[path]  # b: seeded
        elif path in source:
            expected[path] = source[path]  # d: the source's
    return expected


@settings(max_examples=300, deadline=None)
@given(trees, trees)
def test_plan_follows_rules_a_to_d(source_files: dict[str, str], target_files: dict[str, str]) -> None:
    source = {p: entry(c) for p, c in source_files.items()}
    target = {p: entry(c) for p, c in target_files.items()}
    owned = EnvSpecificPaths(("apps/*/values-{env}.yaml",), "stg")
    plan = plan_tree(source, target, owned.owns)
    assert plan.entries == oracle(source, target)
    # promoting the result again changes nothing
    assert plan_tree(source, plan.entries, owned.owns).entries == plan.entries
    for action in plan.actions:
        if action.action in ("kept", "orphaned"):
            assert action.path in target
        if action.action == "seeded":
            assert action.path in source and action.path not in target


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=trees, dev_edits=trees, stg_edits=trees, deletions=st.sets(st.sampled_from(PATHS), max_size=8))
def test_end_to_end_promotion_through_git(
    base: dict[str, str], dev_edits: dict[str, str], stg_edits: dict[str, str], deletions: set[str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = init_repo(Path(tmp) / "repo")
        base_files = {"environments.yaml": REGISTRY, **base}
        dev_files = {
            p: c for p, c in {**base_files, **dev_edits}.items() if p not in deletions or p == "environments.yaml"
        }
        # stg edits only its own env files (so there is no drift to refuse)
        stg_files = {**base_files, **{p: c for p, c in stg_edits.items() if OWNED_STG.match(p)}}
        with Repository(path) as repo:
            root = commit_files(repo, base_files, [], "base")
            set_branch(repo, "dev", commit_files(repo, dev_files, [root], "dev"))
            set_branch(repo, "stg", commit_files(repo, stg_files, [root], "stg"))
        (path / "untracked.txt").write_text("keep me\n")
        gitops = GitopsRepo(path)
        dev_tree, stg_tree = gitops.tree("dev"), gitops.tree("stg")

        result = run_cli(path, "promote", "dev", "stg", "-o", "json")
        assert result.exit_code == 0, result.stderr
        promoted = gitops.tree("stg")
        to_entry = {p: TreeEntry(*e) for p, e in dev_tree.items()}
        expected = oracle(to_entry, {p: TreeEntry(*e) for p, e in stg_tree.items()})
        assert promoted == {p: (e.mode, e.sha) for p, e in expected.items()}
        assert result.json()["promoted"] == (expected != {p: TreeEntry(*e) for p, e in stg_tree.items()})

        head = gitops.head("stg")
        again = run_cli(path, "promote", "dev", "stg", "-o", "json")
        assert again.exit_code == 0 and again.json()["promoted"] is False
        assert gitops.head("stg") == head
        assert (path / "untracked.txt").read_text() == "keep me\n"
        assert git(path, "status", "--porcelain") == "?? untracked.txt"
        git(path, "fsck", "--no-progress")


def test_a_kept_file_where_the_source_has_a_directory_is_refused() -> None:
    import pytest

    from gitops_promote.errors import RefusedError

    owned = EnvSpecificPaths(("apps/*/values-{env}.yaml",), "stg")
    source = {"apps/a/values-stg.yaml/x": entry("a: 1\n"), "apps/a/Chart.yaml": entry("a: 2\n")}
    target = {"apps/a/values-stg.yaml": entry("b: [1, 2]\n"), "apps/a/Chart.yaml": entry("a: 2\n")}
    with pytest.raises(RefusedError, match="both a file and a directory"):
        plan_tree(source, target, owned.owns)


# ---- per-app scope (docs/per-app.md) ---------------------------------------------------------

ARGO_PATHS = [f"argocd/{env}/apps/{name}.yaml" for env in ("dev", "stg") for name in ("a", "b", "sub")]
SCOPED_PATHS = PATHS + ARGO_PATHS
scoped_trees = st.dictionaries(st.sampled_from(SCOPED_PATHS), contents, max_size=len(SCOPED_PATHS))


def in_apps(path: str, apps: set[str]) -> bool:
    """Written from docs/per-app.md: under the app's directory, or its Argo CD Application."""
    if any(path.startswith(app + "/") for app in apps):
        return True
    parts = path.split("/")
    return (
        len(parts) == 4
        and parts[0] == "argocd"
        and parts[2] == "apps"
        and any(parts[3] == app.rsplit("/", 1)[-1] + ".yaml" for app in apps)
    )


@settings(max_examples=300, deadline=None)
@given(scoped_trees, scoped_trees, st.sets(st.sampled_from(APPS), min_size=1))
def test_a_scoped_plan_is_the_full_plan_inside_and_the_target_outside(
    source_files: dict[str, str], target_files: dict[str, str], apps: set[str]
) -> None:
    from gitops_promote.core.apps import App, Scope

    source = {p: entry(c) for p, c in source_files.items()}
    target = {p: entry(c) for p, c in target_files.items()}
    owned = EnvSpecificPaths(("apps/*/values-{env}.yaml",), "stg")
    scope = Scope(tuple(App(a) for a in sorted(apps)))
    plan = plan_tree(source, target, owned.owns, scope.contains)
    full = oracle(source, target)
    expected = {p: e for p, e in full.items() if in_apps(p, apps)}
    expected |= {p: e for p, e in target.items() if not in_apps(p, apps)}
    assert plan.entries == expected
    assert all(in_apps(a.path, apps) for a in plan.actions)
    # promoting the same apps again changes nothing; promoting everything then is the full plan
    assert plan_tree(source, plan.entries, owned.owns, scope.contains).entries == plan.entries
    assert plan_tree(source, plan.entries, owned.owns).entries == oracle(source, plan.entries)
