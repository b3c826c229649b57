"""Planning from `diff-tree -r -t` records gives what `plan_tree` gives from full listings."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git
from hypothesis import given, settings
from hypothesis import strategies as st
from test_tree_writer import build_random, tree_floor

from gitops_promote.adapters.git import Repository
from gitops_promote.core.paths import EnvSpecificPaths
from gitops_promote.core.promotion import directories_of, plan_tree
from gitops_promote.core.tree import TreeEntry
from gitops_promote.core.treediff import MODE_TREE, DiffRecord, plan_delta
from gitops_promote.errors import RefusedError

OWNED = EnvSpecificPaths(("apps/*/values-{env}.yaml", "shared/**/stg.yaml"), "stg")
NAMES = ["Chart.yaml", "values.yaml", "values-stg.yaml", "values-dev.yaml", "t/x.yaml"]
PATHS = [f"apps/{a}/{n}" for a in "abcd" for n in NAMES] + ["apps/a", "apps/b/values-stg.yaml/x", "shared/stg.yaml"]
entries = st.sampled_from([TreeEntry("100644", "1" * 40), TreeEntry("100755", "2" * 40), TreeEntry("120000", "3" * 40)])
trees = st.dictionaries(st.sampled_from(PATHS), entries, max_size=len(PATHS))


def valid(tree: dict[str, TreeEntry]) -> dict[str, TreeEntry]:
    """A real tree cannot hold a file and a directory at one path: drop the file."""
    dirs = directories_of(tree)
    return {p: e for p, e in tree.items() if p not in dirs}


def records(source: dict[str, TreeEntry], target: dict[str, TreeEntry]) -> list[DiffRecord]:
    """What `diff-tree -r -t` reports for two listings: differing files and directories."""
    found = [DiffRecord(p, source.get(p), target.get(p)) for p in {*source, *target} if source.get(p) != target.get(p)]
    src_dirs, dst_dirs = directories_of(source), directories_of(target)
    for directory in src_dirs | dst_dirs:
        inside = directory + "/"
        if {p: e for p, e in source.items() if p.startswith(inside)} != {
            p: e for p, e in target.items() if p.startswith(inside)
        }:
            tree = TreeEntry(MODE_TREE, "f" * 40)
            found.append(DiffRecord(directory, tree if directory in src_dirs else None, None))
            found[-1] = DiffRecord(directory, found[-1].source, tree if directory in dst_dirs else None)
    return found


@settings(max_examples=300, deadline=None)
@given(trees, trees)
def test_delta_plan_equals_the_listing_plan(
    source_files: dict[str, TreeEntry], target_files: dict[str, TreeEntry]
) -> None:
    source, target = valid(source_files), valid(target_files)
    try:
        expected = plan_tree(source, target, OWNED.owns)
    except RefusedError:
        with pytest.raises(RefusedError):
            plan_delta(records(source, target), OWNED.owns)
        return
    delta = plan_delta(records(source, target), OWNED.owns, source=source)
    assert delta.actions == expected.actions
    assert applied(source, delta.changes) == expected.entries == dict(delta.entries)
    assert delta.changes_target(target) == expected.changes_target(target)


def applied(source: dict[str, TreeEntry], changes: dict[str, TreeEntry | None]) -> dict[str, TreeEntry]:
    result = {p: e for p, e in source.items() if p not in changes}
    return result | {p: e for p, e in changes.items() if e is not None}


SCOPES = st.sets(st.sampled_from(["apps/a", "apps/b", "apps/c"]), min_size=1)


@settings(max_examples=300, deadline=None)
@given(trees, trees, SCOPES)
def test_a_scoped_delta_plan_equals_the_scoped_listing_plan(
    source_files: dict[str, TreeEntry], target_files: dict[str, TreeEntry], apps: set[str]
) -> None:
    """--app: the same actions, the same tree and the same clash refusals as `plan_tree`."""
    source, target = valid(source_files), valid(target_files)

    def scope(path: str) -> bool:
        return any(path.startswith(app + "/") for app in apps)

    try:
        expected = plan_tree(source, target, OWNED.owns, scope)
    except RefusedError:
        with pytest.raises(RefusedError):
            plan_delta(records(source, target), OWNED.owns, scope, source)
        return
    delta = plan_delta(records(source, target), OWNED.owns, scope, source)
    assert delta.actions == expected.actions
    assert applied(source, delta.changes) == expected.entries
    assert delta.changes_target(target) == expected.changes_target(target)


@pytest.mark.parametrize("seed", range(6))
def test_diff_tree_plan_and_index_free_writer_give_the_floors_tree(tmp_path: Path, seed: int) -> None:
    """From git's own records, through write_tree_from: the tree floor's tree, no listing."""
    repo_path = build_random(tmp_path / "repo.git", seed)
    owned = EnvSpecificPaths(("apps/*/values-{env}.yaml",), "stg")
    with Repository(repo_path) as repo:
        delta = plan_delta(repo.tree_diff("refs/heads/dev", "refs/heads/stg"), owned.owns)
        tree = repo.write_tree_from(repo.tree_of("refs/heads/dev"), delta.changes)
    assert tree == tree_floor.promote(repo_path, dry_run=True).tree
    assert delta.changes_target(repo.ls_tree("refs/heads/stg")) == (
        tree != git(repo_path, "rev-parse", "refs/heads/stg^{tree}")
    )


def test_records_of_a_real_diff_include_the_directories(tmp_path: Path) -> None:
    repo_path = build_random(tmp_path / "repo.git", 3)
    with Repository(repo_path) as repo:
        found = repo.tree_diff("refs/heads/dev", "refs/heads/stg")
    assert any(r.is_tree_record for r in found) and any(not r.is_tree_record for r in found)


@pytest.mark.parametrize("seed", range(4))
def test_changed_among_is_the_diff_restricted_to_the_paths_asked(tmp_path: Path, seed: int) -> None:
    """The in-process walk that prunes equal trees answers what diff-tree answers."""
    repo_path = build_random(tmp_path / "repo.git", seed)
    with Repository(repo_path) as repo:
        dev, stg = repo.resolve_commit("refs/heads/dev"), repo.resolve_commit("refs/heads/stg")
        assert dev and stg
        every = sorted({*repo.ls_tree(dev), *repo.ls_tree(stg), "apps/none/x.yaml", "top-level-absent"})
        expected = repo.changed_paths(dev, stg)
        assert repo.changed_among(dev, stg, every) == expected & set(every)
        some = every[::3]
        assert repo.changed_among(stg, dev, some) == expected & set(some)
        assert repo.changed_among(dev, dev, every) == set()
        # within a budget of trees read the answer is the same; past it, None (diff-tree then)
        assert repo.changed_among(dev, stg, every, max_trees=10_000) == expected & set(every)
        assert repo.changed_among(dev, stg, every, max_trees=1) is None
        assert repo.changed_among(dev, dev, every, max_trees=2) == set()  # the two roots only
