"""The index-free tree writer against two independent references.

- `gitops promote` writes the same tree as `benchmarks/tree_floor.py` (plumbing written apart
  from the package: diff-tree, fast-import, update-ref) and as `benchmarks/floor.py` (a
  temporary index) on generated repositories: orphans, seeds, symlinks, submodules (gitlinks),
  executable bits, files turned into directories and back; clashes are refused by both.
- `Repository.write_tree_from` gives the same tree as writing the whole listing through an
  index (`Repository.write_tree`) for random changes to random trees.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path

import pytest
from conftest import REGISTRY, git, init_repo, load_benchmark, run_cli

from gitops_promote.adapters.git import Repository
from gitops_promote.adapters.scaffold import set_branch
from gitops_promote.adapters.treewriter import TreeClash
from gitops_promote.core.tree import TreeEntry

tree_floor = load_benchmark("tree_floor")
floor = load_benchmark("floor")
make_repo = load_benchmark("make_repo")

FAKE_COMMITS = [f"{i:x}" * 40 for i in range(1, 4)]  # submodule commits need not exist here


# ---- random repositories ------------------------------------------------------------------------


def random_file(rng: random.Random, repo: Repository) -> TreeEntry:
    kind = rng.random()
    if kind < 0.08:
        return TreeEntry("160000", rng.choice(FAKE_COMMITS))  # a submodule
    content = f"value: {rng.randrange(4)}\n".encode()
    if kind < 0.16:
        return TreeEntry("120000", repo.write_blob(b"../target-" + content[-2:-1]))  # a symlink
    mode = "100755" if kind < 0.26 else "100644"
    return TreeEntry(mode, repo.write_blob(content))


def random_base(rng: random.Random, repo: Repository, apps: int) -> dict[str, TreeEntry]:
    entries = {"environments.yaml": TreeEntry("100644", repo.write_blob(REGISTRY.encode()))}
    for i in range(apps):
        for name in rng.sample(["Chart.yaml", "values.yaml", "values-dev.yaml", "values-stg.yaml", "README"], 4):
            entries[f"apps/a{i}/{name}"] = random_file(rng, repo)
        if rng.random() < 0.5:
            entries[f"apps/a{i}/templates/deep/t{rng.randrange(3)}.yaml"] = random_file(rng, repo)
    entries["docs/guide.md"] = random_file(rng, repo)
    return entries


def mutate(rng: random.Random, repo: Repository, entries: dict[str, TreeEntry], apps: int) -> dict[str, TreeEntry]:
    out = dict(entries)
    for path in list(out):
        roll = rng.random()
        if path == "environments.yaml":
            continue
        if roll < 0.15:
            out[path] = random_file(rng, repo)  # content, mode, symlink or submodule changes
        elif roll < 0.22:
            del out[path]
    for i in rng.sample(range(apps), 2):  # a whole app goes: its other env files are orphans
        for path in [p for p in out if p.startswith(f"apps/a{i}/")]:
            del out[path]
    new = apps + rng.randrange(1, 4)  # a new app: its values-stg.yaml is seeded
    for name in ("Chart.yaml", "values.yaml", "values-stg.yaml"):
        out[f"apps/a{new}/{name}"] = random_file(rng, repo)
    if rng.random() < 0.5:  # a file becomes a directory (not an owned one: no clash)
        victim = rng.choice([p for p in out if p.endswith("README")] or ["apps/a0/README"])
        out.pop(victim, None)
        out[f"{victim}/index.md"] = random_file(rng, repo)
    return out


def commit(repo: Repository, entries: dict[str, TreeEntry], parents: list[str], message: str) -> str:
    return repo.commit_tree(repo.write_tree(entries), parents, message)


def build_random(path: Path, seed: int, apps: int = 6) -> Path:
    init_repo(path, bare=True)
    rng = random.Random(seed)
    with Repository(path) as repo:
        base = random_base(rng, repo, apps)
        root = commit(repo, base, [], "root")
        dev = commit(repo, mutate(rng, repo, base, apps), [root], "dev work")
        stg = commit(repo, mutate(rng, repo, base, apps), [root], "stg tuning")
        for branch, sha in (("dev", dev), ("stg", stg), ("prd", root)):
            set_branch(repo, branch, sha)
    return path


def promoted_tree(path: Path) -> str:
    done = run_cli(path, "promote", "dev", "stg", "--no-push", "--discard-drift")
    assert done.exit_code == 0, done.stderr
    return git(path, "rev-parse", "refs/heads/stg^{tree}")


# ---- the promotion against the floors --------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_promotion_tree_equals_the_tree_floor_on_random_repositories(tmp_path: Path, seed: int) -> None:
    repo = build_random(tmp_path / "repo.git", seed)
    expected = tree_floor.promote(repo, dry_run=True)
    assert expected.tree == floor.promote(repo, dry_run=True).tree  # the two floors agree
    assert promoted_tree(repo) == expected.tree


def test_random_repositories_cover_every_kind_of_entry(tmp_path: Path) -> None:
    """The comparison above is only worth something if these cases really occur."""
    modes, orphans, seeds = set(), 0, 0
    for seed in range(12):
        repo = build_random(tmp_path / f"r{seed}.git", seed)
        modes |= {line.split()[0] for line in git(repo, "ls-tree", "-r", "dev").splitlines()}
        result = tree_floor.promote(repo, dry_run=True)
        orphans += result.orphaned
        seeds += "values-stg.yaml" in git(repo, "diff-tree", "-r", "--name-status", "stg", "dev")
    assert modes == {"100644", "100755", "120000", "160000"}
    assert orphans and seeds


@pytest.mark.parametrize("differ", [False, True], ids=["default", "all-env-files-differ"])
def test_promotion_tree_equals_the_floors_on_benchmark_repositories(tmp_path: Path, differ: bool) -> None:
    spec = make_repo.RepoSpec(apps=30, all_env_files_differ=differ, bare=True)
    repo = make_repo.build_repo(tmp_path / "bench.git", spec).path
    expected = tree_floor.promote(repo, dry_run=True)
    assert expected.orphaned == 1 and expected.kept >= 3  # app0002's stg file; the tuned ones
    assert expected.tree == floor.promote(repo, dry_run=True).tree
    assert promoted_tree(repo) == expected.tree


def test_tree_floor_moves_the_branch_by_compare_and_swap(tmp_path: Path) -> None:
    repo = make_repo.build_repo(tmp_path / "b.git", make_repo.RepoSpec(apps=12, bare=True)).path
    old = git(repo, "rev-parse", "refs/heads/stg")
    result = tree_floor.promote(repo)
    assert git(repo, "rev-parse", "refs/heads/stg^{tree}") == result.tree
    assert git(repo, "rev-parse", "refs/heads/stg^@").split() == [old, git(repo, "rev-parse", "refs/heads/dev")]
    assert "tree-floor" not in git(repo, "for-each-ref")  # the scratch ref is gone


@pytest.mark.parametrize(
    "dev_change, stg_change, refused",
    [
        # the source turns the owned file's path into a directory: refused
        ({"apps/a0/values-stg.yaml/x": "a"}, {"apps/a0/values-stg.yaml": "mine"}, True),
        # the source turns the owned file's directory into a file: the directory is gone, an orphan
        ({"apps/a0": "a file now"}, {"apps/a0/values-stg.yaml": "mine", "apps/a0/Chart.yaml": "c"}, False),
    ],
    ids=["file-where-source-has-a-directory", "directory-where-source-has-a-file"],
)
def test_file_and_directory_swaps_agree_with_the_floor(
    tmp_path: Path, dev_change: dict[str, str], stg_change: dict[str, str], refused: bool
) -> None:
    path = init_repo(tmp_path / "clash.git", bare=True)
    with Repository(path) as repo:
        base = {
            "environments.yaml": TreeEntry("100644", repo.write_blob(REGISTRY.encode())),
            "apps/a0/Chart.yaml": TreeEntry("100644", repo.write_blob(b"name: a0\n")),
            "apps/a0/values-stg.yaml": TreeEntry("100644", repo.write_blob(b"base\n")),
            "apps/a1/Chart.yaml": TreeEntry("100644", repo.write_blob(b"name: a1\n")),
        }
        root = commit(repo, base, [], "root")
        for branch, change in (("dev", dev_change), ("stg", stg_change)):
            entries = {p: e for p, e in base.items() if not any(p.startswith(c + "/") for c in change)}
            entries = {p: e for p, e in entries.items() if not any(c.startswith(p + "/") for c in change)}
            entries |= {p: TreeEntry("100644", repo.write_blob(v.encode())) for p, v in change.items()}
            set_branch(repo, branch, commit(repo, entries, [root], branch))
        set_branch(repo, "prd", root)
    if not refused:
        assert promoted_tree(path) == tree_floor.promote(path, dry_run=True).tree
        return
    with pytest.raises(tree_floor.Refused):
        tree_floor.promote(path, dry_run=True)
    done = run_cli(path, "promote", "dev", "stg", "--no-push", "--discard-drift")
    assert done.exit_code == 1 and "both a file and a directory" in done.stderr


# ---- the writer against an index ---------------------------------------------------------------


def random_changes(rng: random.Random, repo: Repository, base: dict[str, TreeEntry]) -> dict[str, TreeEntry | None]:
    changes: dict[str, TreeEntry | None] = {}
    paths = sorted(base)
    for path in rng.sample(paths, min(len(paths), 8)):
        changes[path] = None if rng.random() < 0.5 else random_file(rng, repo)
    directory = rng.choice(sorted({p.rsplit("/", 1)[0] for p in paths if "/" in p}))
    for path in [p for p in paths if p.startswith(directory + "/")]:
        changes[path] = None  # a whole directory emptied: it must disappear
    if rng.random() < 0.5:
        changes[directory] = random_file(rng, repo)  # ...and a file takes its name
    changes[f"new/{rng.randrange(9)}/deeper/file"] = random_file(rng, repo)
    return changes


@pytest.mark.parametrize("seed", range(20))
def test_write_tree_from_equals_an_index_written_tree(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    with Repository(init_repo(tmp_path / "w.git", bare=True)) as repo:
        base = random_base(rng, repo, 5)
        base_tree = repo.write_tree(base)
        changes = random_changes(rng, repo, base)
        after = {p: e for p, e in base.items() if p not in changes}
        after |= {p: e for p, e in changes.items() if e is not None}
        assert repo.write_tree_from(base_tree, changes) == repo.write_tree(after)
        assert changes_between(base, after) == {p: e for p, e in changes.items() if base.get(p) != e}


def test_write_tree_from_refuses_a_file_inside_a_file(tmp_path: Path) -> None:
    with Repository(init_repo(tmp_path / "w.git", bare=True)) as repo:
        blob = TreeEntry("100644", repo.write_blob(b"x\n"))
        base_tree = repo.write_tree({"a/b": blob})
        with pytest.raises(TreeClash):
            repo.write_tree_from(base_tree, {"a/b/c": blob})
        assert repo.write_tree_from(base_tree, {}) == base_tree
        assert repo.write_tree_from(base_tree, {"a/b": None}) == repo.write_tree({})


def test_entries_at_reads_modes_like_ls_tree(tmp_path: Path) -> None:
    repo_path = build_random(tmp_path / "repo.git", 5)
    listed = {}
    for line in git(repo_path, "ls-tree", "-r", "-t", "refs/heads/dev").splitlines():
        meta, path = line.split("\t", 1)
        mode, _kind, sha = meta.split(" ")
        listed[path] = TreeEntry(mode, sha)
    with Repository(repo_path) as repo:
        found = repo.entries_at("refs/heads/dev", [*listed, "apps/nothing/here", "environments.yaml/x"])
        assert found == {**listed, "apps/nothing/here": None, "environments.yaml/x": None}
        assert repo.ls_path("refs/heads/dev", "environments.yaml") == listed["environments.yaml"]


def changes_between(base: Mapping[str, TreeEntry], entries: Mapping[str, TreeEntry]) -> dict[str, TreeEntry | None]:
    """path -> new entry (None: removed) turning the listing `base` into `entries`."""
    changes: dict[str, TreeEntry | None] = {p: e for p, e in entries.items() if base.get(p) != e}
    changes.update((p, None) for p in base if p not in entries)
    return changes
