"""The benchmark generator and the plumbing floor on a small repository (no timings here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import load_benchmark

from gitops_promote.core.paths import EnvSpecificPaths
from gitops_promote.core.promotion import plan_tree
from gitops_promote.core.tree import TreeEntry

APPS = 20
make_repo = load_benchmark("make_repo")
floor = load_benchmark("floor")


def listing(repo: Path, rev: str) -> dict[str, TreeEntry]:
    out = make_repo.git(repo, "ls-tree", "-r", "-z", "--full-tree", rev)
    entries = {}
    for record in out.split("\0"):
        if record:
            meta, path = record.split("\t", 1)
            mode, _kind, sha = meta.split(" ")
            entries[path] = TreeEntry(mode, sha)
    return entries


@pytest.fixture(scope="module", params=[False, True], ids=["default", "all-env-files-differ"])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    spec = make_repo.RepoSpec(apps=APPS, all_env_files_differ=request.param, bare=True)
    return make_repo.build_repo(tmp_path_factory.mktemp("bench") / "repo.git", spec)


@pytest.fixture
def repo(built: Any) -> Path:
    path: Path = built.path
    return path


def test_branches_and_file_counts(repo: Path) -> None:
    heads = make_repo.git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/").split()
    assert sorted(heads) == ["dev", "prd", "stg"]
    dev, stg = listing(repo, "dev"), listing(repo, "stg")
    # one app added and one removed on dev; 7 files per app, plus the registry
    assert len(stg) == APPS * 7 + 1
    assert len(dev) == APPS * 7 + 1
    assert "apps/app0021/values-stg.yaml" in dev and "apps/app0021/values-stg.yaml" not in stg
    assert not any(p.startswith("apps/app0002/") for p in dev)
    root = make_repo.git(repo, "merge-base", "dev", "stg").strip()
    assert root == make_repo.git(repo, "merge-base", "dev", "prd").strip()
    assert int(make_repo.git(repo, "rev-list", "--count", "stg..dev")) == 5
    registry = make_repo.git(repo, "cat-file", "blob", "dev:environments.yaml")
    assert registry == make_repo.REFERENCE_REGISTRY.read_text()


def test_env_files_differ_between_branches(built: Any) -> None:
    dev, stg, prd = (listing(built.path, b) for b in ("dev", "stg", "prd"))
    apps = [f"apps/{make_repo.app_name(i)}" for i in range(1, APPS + 1) if i != 2]  # 2: removed
    expected = {f"apps/{make_repo.app_name(i)}" for i in range(1, APPS + 1) if i != 2 and built.spec.tuned(i)}
    for env, branch in (("stg", stg), ("prd", prd), ("dev", dev)):
        root = stg if env == "dev" else dev  # stg still has the root's values-dev.yaml
        tuned = {a for a in apps if branch[f"{a}/values-{env}.yaml"] != root[f"{a}/values-{env}.yaml"]}
        assert tuned == expected, env
    assert len(expected) == (len(apps) if built.spec.all_env_files_differ else 2)  # app0010, app0020


def test_floor_follows_the_promotion_rules(repo: Path) -> None:
    dev, stg = listing(repo, "dev"), listing(repo, "stg")
    old = make_repo.git(repo, "rev-parse", "stg").strip()
    result = floor.promote(repo, "dev", "stg")
    new = listing(repo, "stg")
    assert result.tree == make_repo.git(repo, "rev-parse", "stg^{tree}").strip()
    assert make_repo.git(repo, "rev-parse", "stg^1", "stg^2").split() == [old, dev_sha(repo)]
    owned = EnvSpecificPaths(("apps/*/values-{env}.yaml",), "stg").owns
    assert new == plan_tree(dev, stg, owned).entries
    for path, entry in new.items():
        if owned(path) and path in stg:
            assert entry == stg[path]  # rule a: stg's own file kept
        else:
            assert entry == dev[path]  # everything else (incl. seeded app0021) is dev's
    assert "apps/app0002/values-stg.yaml" in stg and "apps/app0002/values-stg.yaml" not in new  # rule c
    make_repo.git(repo, "update-ref", "refs/heads/stg", old, result.commit)  # CAS back, for reuse


def dev_sha(repo: Path) -> str:
    return str(make_repo.git(repo, "rev-parse", "dev")).strip()


def test_normal_repository_has_dev_checked_out(tmp_path: Path) -> None:
    info = make_repo.build_repo(tmp_path / "work", make_repo.RepoSpec(apps=2))
    assert (info.path / "apps/app0001/values.yaml").is_file()
    assert make_repo.git(info.path, "symbolic-ref", "HEAD").strip() == "refs/heads/dev"
    assert make_repo.git(info.path, "status", "--porcelain") == ""
