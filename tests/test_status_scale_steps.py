"""`status` begins every step before planning the first (its base found, git comparing its
trees in the background): the same result as planning each step on its own, on the benchmark
repositories' shapes and on random ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import load_benchmark, run_cli
from test_tree_writer import build_random

from gitops_promote.commands import _engine, status

make_repo = load_benchmark("make_repo")
NOW = "2026-12-02T08:00:00Z"


def shapes(base: Path) -> list[Path]:
    specs = [
        make_repo.RepoSpec(apps=24, bare=True, one_change=True),  # prd never promoted: a big step
        make_repo.RepoSpec(apps=24, bare=True, all_env_files_differ=True),
        make_repo.RepoSpec(apps=12, bare=True),
    ]
    made = [make_repo.build_repo(base / f"bench{i}.git", spec).path for i, spec in enumerate(specs)]
    return [*made, *(build_random(base / f"random{seed}.git", seed) for seed in range(3))]


@pytest.fixture(scope="module")
def repositories(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return shapes(tmp_path_factory.mktemp("steps"))


def test_steps_begun_ahead_give_the_status_of_steps_planned_one_by_one(
    repositories: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITOPS_NOW", NOW)
    for path in repositories:
        ahead = [run_cli(path, "status", *extra) for extra in ([], ["--output", "json"])]
        with monkeypatch.context() as patched:
            patched.setattr(status, "start_step", lambda *args: None)  # the reference: nothing begun
            one_by_one = [run_cli(path, "status", *extra) for extra in ([], ["--output", "json"])]
        assert ahead == one_by_one, path
        assert ahead[1].exit_code in (0, 1) and '"pending"' in ahead[1].stdout


def test_a_step_begun_ahead_has_the_base_prepare_finds(repositories: list[Path]) -> None:
    from gitops_promote.adapters.git import Repository

    for path in repositories:
        with Repository(path) as repo:
            registry = _engine.bootstrap_registry(repo, None, [])
            synced = _engine.sync_existing(repo, None, [e.branch for e in registry.ordered()], False)
            for source, target in registry.allowed_steps():
                upstream, env = registry.get(source), registry.get(target)
                assert upstream and env
                started = _engine.start_step(repo, upstream, env, synced, None)
                assert started is not None
                assert started.base == _engine.last_promotion(
                    repo, started.target_commit, started.source_commit, source
                )
                prepared = _engine.prepare_step(repo, upstream, env, synced, None, None, started)
                assert prepared.base == started.base and not repo._started  # its diff was read
