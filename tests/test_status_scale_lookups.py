"""The step's fast paths against their reference paths, on real git repositories (issue 11):

- a tree view's lookup starts at the nearest directory the diff names (never the root, nor the
  20,000-entry `apps/` tree, on its way) and answers what `ls-tree -r` answers;
- a big tree object is parsed only as far as its lookups need, in git's sorted order;
- the diff-tree that compares the step's trees also compares the last promotion's source with
  the source (`diff-tree --stdin`): the step's records and the files changed since then are
  what two separate diffs give.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from conftest import git, init_repo
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_tree_writer import build_random, commit

from gitops_promote.adapters import treeview, treewriter
from gitops_promote.adapters.git import Repository
from gitops_promote.core.apps import chart_files_above
from gitops_promote.core.promotion import directories_of
from gitops_promote.core.tree import TreeEntry, iter_parents
from gitops_promote.errors import GitError

SEEDS = range(4)
BRANCHES = ("root", "dev", "stg")


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    base = tmp_path_factory.mktemp("lookups")
    return {seed: build_random(base / f"r{seed}.git", seed) for seed in SEEDS}


def commits(repo: Repository) -> dict[str, str]:
    found = {name: repo.resolve_commit(f"refs/heads/{name}") for name in ("dev", "stg", "prd")}
    assert all(found.values())
    return {"root": found["prd"] or "", "dev": found["dev"] or "", "stg": found["stg"] or ""}


def asked_paths(listings: list[dict[str, object]]) -> list[str]:
    """Every file and directory of both trees, and paths that are in neither (under a file,
    under a directory of one side only, at the top)."""
    files = {p for listing in listings for p in listing}
    dirs = directories_of(files)
    absent = {f"{p}/x.yaml" for p in sorted(files)[::3]} | {f"{d}/absent.yaml" for d in dirs} | {"absent.yaml"}
    return sorted(files | dirs | absent)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.sampled_from(list(SEEDS)),
    pair=st.sampled_from(list(itertools.permutations(BRANCHES, 2))),
    data=st.data(),
)
def test_lookups_from_the_diffs_directories_answer_like_the_listings(
    repos: dict[int, Path], seed: int, pair: tuple[str, str], data: st.DataObject
) -> None:
    with Repository(repos[seed]) as repo:
        shas = commits(repo)
        source_sha, target_sha = shas[pair[0]], shas[pair[1]]
        source_listing, target_listing = repo.ls_tree(source_sha), repo.ls_tree(target_sha)
        every = asked_paths([source_listing, target_listing])
        asked = data.draw(st.lists(st.sampled_from(every), unique=True, max_size=len(every)))
        _records, source, target = treeview.pair(repo, source_sha, target_sha)
        first, second = data.draw(st.sampled_from([(source, target), (target, source)]))
        first.prefetch(asked)  # one side asks first; the other reads the shared answers
        second.prefetch(asked)
        source_dirs, target_dirs = directories_of(source_listing), directories_of(target_listing)
        for path in asked:
            assert source.get(path) == source_listing.get(path), path
            assert target.get(path) == target_listing.get(path), path
            assert source.is_dir(path) == (path in source_dirs), path
            assert target.is_dir(path) == (path in target_dirs), path


def test_a_lookup_inside_a_differing_directory_reads_no_tree_above_it(repos: dict[int, Path]) -> None:
    with Repository(repos[0]) as repo:
        shas = commits(repo)
        records, source, _target = treeview.pair(repo, shas["dev"], shas["stg"])
        deepest = max((r for r in records if r.is_tree_record and r.source and r.target), key=lambda r: r.path)
        assert deepest.source is not None and "/" in deepest.path
        root, top = repo.tree_of(shas["dev"]), repo.entries_at(shas["dev"], [deepest.path.split("/")[0]])
        repo._trees.clear()  # forget what finding them read
        source.get(f"{deepest.path}/not-in-the-diff.yaml")
        assert set(repo._trees) == {deepest.source.sha}  # that directory's tree only
        assert root not in repo._trees and all(e is None or e.sha not in repo._trees for e in top.values())


@pytest.mark.parametrize("seed", SEEDS)
def test_the_diff_beside_the_step_gives_both_diffs(repos: dict[int, Path], seed: int) -> None:
    with Repository(repos[seed]) as reference:
        shas = commits(reference)
        for since, source, target in itertools.product(BRANCHES, repeat=3):
            with Repository(repos[seed]) as repo:  # a fresh run: nothing compared yet
                records = repo.tree_diff(shas[source], shas[target], shas[since])
                assert (shas[since], shas[source]) in repo._changes  # answered from that one process
                expected = reference.changed_paths(shas[since], shas[source])
                assert records == reference.tree_diff(shas[source], shas[target])
                assert repo.changed_paths(shas[since], shas[source]) == expected
                every = sorted({*reference.ls_tree(shas[since]), *reference.ls_tree(shas[source]), "absent.yaml"})
                assert repo.changed_among(shas[since], shas[source], every) == expected & set(every)
                assert repo.changed_among(shas[since], shas[source], every[::2]) == expected & set(every[::2])


# ---- a big tree parsed only as far as its lookups need ---------------------------------------

# Names from few parts, so that a tree often holds names sorting between "a" and "a/" ("a-b",
# "a.b") beside a directory "a": where a lookup that stops too early goes wrong.
PARTS = [b"a", b"a-", b"b", b".", b" ", b"\xc3\xa9", b"Chart.yaml"]
NAME_LIST = sorted({x + y for x in PARTS for y in [b"", *PARTS]})
NAMES = st.sampled_from(NAME_LIST)
MODES = st.sampled_from([treewriter.TREE_MODE, b"100644", b"100755", b"120000", b"160000"])
OIDS = st.binary(min_size=20, max_size=20)  # any bytes: NULs and spaces included


# what is looked up: the names, and names sorting just around them ("a-a" stops a lookup at
# "a-b", before the directory "a")
ASKED = st.sampled_from(sorted({n + end for n in NAME_LIST for end in (b"", b"-", b"-a", b".")} | {b"a"}))
CLASH = {b"a": (treewriter.TREE_MODE, b"1" * 20), b"a-b": (b"100644", b"2" * 20), b"b": (b"100644", b"3" * 20)}


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(NAMES, st.tuples(MODES, OIDS), max_size=30), st.lists(ASKED, max_size=12))
@example(CLASH, [b"a-a", b"a"])
def test_lazy_entries_answer_like_the_whole_parse(
    entries: dict[bytes, tuple[bytes, bytes]], asked: list[bytes]
) -> None:
    raw = treewriter.tree_bytes(entries)  # sorted as git sorts a tree
    whole = treewriter.parse_tree(raw, 20)
    assert whole == entries
    lazy = treewriter.LazyEntries(raw, 20)
    for name in asked:  # in any order: each lookup parses on from where the last one stopped
        assert lazy.get(name) == whole.get(name), name
        assert (name in lazy) == (name in whole)
    assert dict(lazy) == whole and len(lazy) == len(whole)


def test_lookups_in_a_big_directory_answer_like_the_listing(tmp_path: Path) -> None:
    """A big directory (git's own tree object, read through the session)."""
    init_repo(tmp_path / "big.git", bare=True)
    with Repository(tmp_path / "big.git") as repo:
        blob = repo.write_blob(b"x\n")
        names = [f"app{i:05d}" for i in range(2500)]
        files = {f"apps/{n}/values.yaml": TreeEntry("100644", blob) for n in names[::2]}
        files |= {f"apps/{n}": TreeEntry("100644", blob) for n in names[1::2]}
        files |= {"apps/Chart.yaml": TreeEntry("100644", blob), "apps/zz-last.yaml": TreeEntry("100755", blob)}
        sha = commit(repo, files, [], "big")
        assert int(git(tmp_path / "big.git", "cat-file", "-s", f"{sha}:apps")) > 64 * 1024
        listing = repo.ls_tree(sha)
        asked = ["apps/Chart.yaml", "apps/app00001", "apps/app00000/values.yaml", "apps/zz-last.yaml"]
        asked += ["apps/Chart", "apps/app0", "apps/zzz", "apps/app02499", "apps/app02498/values.yaml", "apps/a"]
        found = repo.entries_at(sha, [*asked, "apps/app00000"])
        assert found.pop("apps/app00000") == TreeEntry(
            "040000", git(tmp_path / "big.git", "rev-parse", f"{sha}:apps/app00000")
        )
        assert found == {p: listing.get(p) for p in asked}
        assert isinstance(repo._trees[repo.entries_at(sha, ["apps"])["apps"].sha], treewriter.LazyEntries)  # type: ignore[union-attr]


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_a_diff_started_ahead_reads_as_the_diff_run_when_asked(repos: dict[int, Path], seed: int) -> None:
    """`start_tree_diff` then `tree_diff`: the records and the changes since, as without it."""
    with Repository(repos[seed]) as reference:
        shas = commits(reference)
        for since, source, target in [("root", "dev", "stg"), ("stg", "stg", "dev"), (None, "dev", "root")]:
            old = shas[since] if since else None
            with Repository(repos[seed]) as repo:
                repo.start_tree_diff(shas[source], shas[target], old)
                repo.start_tree_diff(shas[target], shas[source])  # started, never read: closed with the run
                assert repo._started
                assert repo.tree_diff(shas[source], shas[target], old) == reference.tree_diff(
                    shas[source], shas[target]
                )
                assert (shas[source], shas[target], old) not in repo._started  # read once, then gone
                if old:
                    assert repo._changes[(old, shas[source])] == reference.changed_paths(old, shas[source])
            assert not repo._started


def test_a_started_diff_that_fails_says_so_as_a_run_diff_does(repos: dict[int, Path]) -> None:
    with Repository(repos[0]) as repo:
        blob = repo.write_blob(b"not a tree\n")
        repo.start_tree_diff(blob, blob)
        with pytest.raises(GitError, match="git could not compare two trees"):
            repo.tree_diff(blob, blob)
        with pytest.raises(GitError, match="git could not compare two trees"):
            repo.tree_diff(blob, blob)  # the same words from the process run when asked


SEGMENTS = st.sampled_from(["apps", "a", "b", "templates", "charts", "x.yaml", "é"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(SEGMENTS, min_size=1, max_size=5).map("/".join), max_size=30))
def test_chart_files_above_are_the_chart_yaml_of_every_parent(paths: list[str]) -> None:
    """Each directory walked once: the same files as every parent of every path."""
    expected = sorted({"Chart.yaml", *(f"{d}/Chart.yaml" for path in paths for d in iter_parents(path))})
    assert chart_files_above(paths) == expected
