"""A promotion writes the directories that end up the target's own whole (treediff.collapsed):
the same tree as the plan's changes applied path by path, on real repositories."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git, load_benchmark, run_cli
from test_step_model import scaffolded
from test_tree_writer import build_random

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._engine import PromotionRequest, changes_to_write, prepare
from gitops_promote.core.treediff import MODE_TREE
from gitops_promote.errors import RefusedError

make_repo = load_benchmark("make_repo")


@pytest.fixture(scope="module")
def repositories(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    base = tmp_path_factory.mktemp("collapse")
    bench = [
        make_repo.build_repo(base / f"bench{i}.git", spec).path
        for i, spec in enumerate(
            [
                make_repo.RepoSpec(apps=20, bare=True, one_change=True),
                make_repo.RepoSpec(apps=20, bare=True, all_env_files_differ=True),
            ]
        )
    ]
    return [*bench, *(build_random(base / f"random{seed}.git", seed) for seed in range(12))]


STEPS = [("dev", "stg"), ("stg", "prd")]


def test_collapsed_changes_write_the_tree_the_plain_changes_write(repositories: list[Path]) -> None:
    collapsed_some = 0
    for path in repositories:
        for source, target in STEPS:
            with Repository(path) as repo:
                try:
                    prepared = prepare(repo, PromotionRequest(source, target, fetch=False))
                except RefusedError:
                    continue  # a clash: nothing is written
                plain = {p: e for p, e in prepared.plan.changes.items() if e != prepared.source_tree.get(p)}
                written = changes_to_write(prepared)
                base = repo.tree_of(prepared.source_commit)
                assert repo.write_tree_from(base, written) == repo.write_tree_from(base, plain), (path, source)
                collapsed_some += any(e is not None and e.mode == MODE_TREE for e in written.values())
                assert len(written) <= len(plain) or not plain
    assert collapsed_some >= 3  # the comparison covers directories put back whole


def test_a_change_to_a_path_both_branches_share_keeps_its_directory_from_being_put_back(tmp_path: Path) -> None:
    """dev removes apps/web and leaves stg's Application alone (the same bytes on both
    branches: no difference names it), while stg tuned its own api Application: the
    directory differs only by what stg keeps, yet the removal of web.yaml must be written."""
    path = scaffolded(tmp_path)
    git(path, "checkout", "--quiet", "stg")
    api = path / "argocd/stg/apps/api.yaml"
    api.write_text(api.read_text() + "# tuned on stg\n")
    git(path, "commit", "--quiet", "-am", "stg: tune its api Application")
    git(path, "checkout", "--quiet", "dev")
    git(path, "rm", "-r", "--quiet", "apps/web")
    git(path, "commit", "--quiet", "-m", "remove web, keep the Applications")
    with Repository(path) as repo:
        prepared = prepare(repo, PromotionRequest("dev", "stg", fetch=False))
        assert prepared.plan.changes.get("argocd/stg/apps/web.yaml", "absent") is None  # removed
        assert "argocd/stg/apps" in prepared.target_tree.differing_directories()
        written = changes_to_write(prepared)
        assert "argocd/stg/apps" not in written and written["argocd/stg/apps/web.yaml"] is None
    assert run_cli(path, "promote", "dev", "stg", "--no-push").exit_code == 0
    listed = git(path, "ls-tree", "-r", "--name-only", "stg")
    assert "argocd/stg/apps/web.yaml" not in listed and "argocd/stg/apps/api.yaml" in listed
