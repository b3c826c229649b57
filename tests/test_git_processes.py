"""How many git processes each command starts, counted by a `git` on PATH that logs its
arguments and runs the real git (real git, just counted; no mock)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import GitopsRepo, git, load_benchmark, run_cli

make_repo = load_benchmark("make_repo")

COMMANDS = {
    "promote": ["promote", "dev", "stg", "--no-push"],
    "plan": ["plan", "dev", "stg"],
    "diff": ["diff", "dev", "stg"],
    "status": ["status"],
    "history": ["history", "stg"],
    "verify": ["verify", "stg"],  # recomputes stg's promotion and compares it with the commit
    "attest": ["attest", "stg"],
}
# Where the counts stand; the target for promote is 8. history's fifth lists the first
# commit's files (this repository's line reaches it): ls-tree, cheaper than log's comparison.
BOUNDS = {"promote": 8, "plan": 5, "diff": 5, "status": 10, "history": 5, "verify": 7, "attest": 5}


@pytest.fixture(scope="module")
def one_change(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dev one values.yaml ahead of a promoted stg: the everyday case."""
    spec = make_repo.RepoSpec(apps=30, bare=True, one_change=True)
    path: Path = make_repo.build_repo(tmp_path_factory.mktemp("counts") / "repo.git", spec).path
    return path


def counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo: Path, argv: list[str]) -> list[list[str]]:
    """The git command lines `gitops ARGV` ran (global -c options left out)."""
    real = shutil.which("git")
    assert real is not None
    log = tmp_path / "git.log"
    shim = tmp_path / "bin" / "git"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nprintf "%s\\0" "$@" >> "{log}"\nprintf "\\n" >> "{log}"\nexec "{real}" "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim.parent}:{Path(real).parent}")
    work = tmp_path / "repo.git"
    shutil.copytree(repo, work)  # promote moves stg: every test starts from the same state
    result = run_cli(work, *argv)
    assert result.exit_code in (0, 1), result.stderr
    calls = [line.split("\0")[:-1] for line in log.read_text().splitlines()]
    return [_without_config(call) for call in calls]


def _without_config(call: list[str]) -> list[str]:
    out, skip = [], False
    for arg in call:
        if skip:
            skip = False
        elif arg == "-c":
            skip = True
        else:
            out.append(arg)
    return out


@pytest.mark.parametrize("command", COMMANDS)
def test_process_counts_stay_within_their_bounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_change: Path, command: str
) -> None:
    calls = counted(tmp_path, monkeypatch, one_change, COMMANDS[command])
    assert len(calls) <= BOUNDS[command], "\n".join(" ".join(c) for c in calls)
    readers = [c for c in calls if c[0] == "cat-file"]
    assert len(readers) <= 1, readers  # one object reader for the whole run
    assert sum(c[0] == "var" for c in calls) <= 1
    assert not any(c[0] == "rev-parse" and "--verify" in c for c in calls)  # refs come from the reader
    assert not any(c[0] in ("read-tree", "update-index", "write-tree") for c in calls)  # no index


def test_promote_writes_its_tree_without_an_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_change: Path
) -> None:
    calls = counted(tmp_path, monkeypatch, one_change, COMMANDS["promote"])
    names = [c[0] for c in calls]
    assert names.count("mktree") == 1 and names.count("commit-tree") == 1 and names.count("update-ref") == 1


@pytest.mark.parametrize("command", COMMANDS)
def test_no_whole_tree_listing_for_a_one_file_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_change: Path, command: str
) -> None:
    calls = counted(tmp_path, monkeypatch, one_change, COMMANDS[command])
    # a listing limited by pathspecs (a removed app's Application) is the size of what it names
    listings = [c for c in calls if c[0] == "ls-tree" and "-r" in c and "--" not in c]
    if command == "history":
        # history shows what each commit changed, and a first commit added every file: its
        # listing is its change. Only a commit without parents may be listed.
        listings = [c for c in listings if _parents(one_change, c[-1])]
    assert not listings


def _parents(repo: Path, commit: str) -> list[str]:
    out = subprocess.run(["git", "rev-list", "--parents", "-n", "1", commit], cwd=repo, capture_output=True, text=True)
    return out.stdout.split()[1:]


def test_promote_of_one_app_by_directory_lists_no_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_change: Path
) -> None:
    calls = counted(tmp_path, monkeypatch, one_change, [*COMMANDS["promote"], "--app", "apps/app0001"])
    assert not [c for c in calls if c[0] == "ls-tree"]  # its Chart.yaml is looked up
    assert len(calls) <= BOUNDS["promote"] + 1  # and the commits are filtered by what they touched


def test_promote_of_one_app_by_name_lists_no_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_change: Path
) -> None:
    calls = counted(tmp_path, monkeypatch, one_change, [*COMMANDS["promote"], "--app", "app0001"])
    assert not [c for c in calls if c[0] == "ls-tree"]  # git searches for **/app0001/Chart.yaml
    assert sum(c[0] == "diff-tree" for c in calls) == 3  # the step, and one search per branch


def test_promote_spawns_at_most_eight_git_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_change: Path
) -> None:
    assert len(counted(tmp_path, monkeypatch, one_change, COMMANDS["promote"])) <= 8


@pytest.fixture(scope="module")
def promoted_twice(tmp_path_factory: pytest.TempPathFactory, one_change: Path) -> Path:
    """stg promoted twice: a rollback has an earlier promotion to go back to."""
    path = tmp_path_factory.mktemp("twice") / "repo.git"
    shutil.copytree(one_change, path)
    assert run_cli(path, "promote", "dev", "stg", "--no-push").exit_code == 0
    return path


@pytest.mark.parametrize("extra", [[], ["--with-env-files"]])
def test_rollback_lists_no_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, promoted_twice: Path, extra: list[str]
) -> None:
    calls = counted(tmp_path, monkeypatch, promoted_twice, ["rollback", "stg", "--no-push", *extra])
    assert not [c for c in calls if c[0] == "ls-tree"]  # planned from the difference, as a step is
    assert not any(c[0] in ("read-tree", "update-index", "write-tree") for c in calls)  # no index


def _std_repo(tmp_path: Path) -> Path:
    """stg has its own commits since the commit it shares with dev: its env files, tuned there."""
    spec = make_repo.RepoSpec(apps=30, bare=True)
    path: Path = make_repo.build_repo(tmp_path / "std" / "repo.git", spec).path
    return path


def _drift_logs(calls: list[list[str]]) -> list[int]:
    return [index for index, c in enumerate(calls) if c[0] == "log" and "--name-only" in c]


def test_a_target_that_changed_only_its_own_files_needs_no_drift_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The step's one diff-tree also compares stg's base with stg: only env files changed,
    which a promotion never overwrites, so no commit since can be drift; no log of them."""
    calls = counted(tmp_path, monkeypatch, _std_repo(tmp_path), COMMANDS["promote"])
    assert not _drift_logs(calls), calls
    assert [c for c in calls if c[0] == "diff-tree"] == [["diff-tree", "--stdin", "-r", "-t", "-z", "--no-renames"]]
    assert len(calls) <= BOUNDS["promote"], calls


@pytest.mark.parametrize("changed_back", [False, True])
def test_a_direct_change_on_the_target_is_read_from_one_log_after_the_diff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, changed_back: bool
) -> None:
    """A file of dev's changed on stg itself is drift: the log of stg's commits is read (once,
    once the diff says so) and the promotion refused. Changed and changed back, stg holds the
    shared content again: nothing to read, nothing refused."""
    repo = _std_repo(tmp_path)
    stg = GitopsRepo(repo)
    original = git(repo, "show", "stg:apps/app0001/values.yaml")
    stg.commit("stg", {"apps/app0001/values.yaml": "hotfix: true\n"}, "hotfix on stg")
    if changed_back:
        stg.commit("stg", {"apps/app0001/values.yaml": original + "\n"}, "undo the hotfix")
    calls = counted(tmp_path, monkeypatch, repo, COMMANDS["promote"])
    refused = run_cli(tmp_path / "repo.git", *COMMANDS["promote"])
    if changed_back:
        assert not _drift_logs(calls), calls
        assert refused.exit_code == 0, refused.stderr
        return
    assert refused.exit_code == 1 and "apps/app0001/values.yaml" in refused.stderr, refused.stderr
    tree_diffs = [index for index, c in enumerate(calls) if c[0] == "diff-tree"]
    assert len(_drift_logs(calls)) == 1 and _drift_logs(calls)[0] > tree_diffs[0], calls


def test_after_a_hand_merge_the_drift_log_is_started_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hand merge's conflicts were resolved on the target: its files are not all upstream's,
    so the log is read whatever the diff says, and started before the trees are compared."""
    repo = _std_repo(tmp_path)
    work = tmp_path / "work"
    git(tmp_path, "clone", "--quiet", "--branch", "stg", str(repo), str(work))
    git(
        work,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "merge",
        "--quiet",
        "--no-ff",
        "origin/dev",
        "-m",
        "merge dev",
    )
    git(work, "push", "--quiet", "origin", "stg")
    GitopsRepo(repo).commit("stg", {"apps/app0003/values-stg.yaml": "replicas: 2\n"}, "tune stg after the merge")
    GitopsRepo(repo).commit("dev", {"apps/app0003/values.yaml": "replicas: 9\n"}, "next change")
    calls = counted(tmp_path, monkeypatch, repo, ["plan", "dev", "stg", "--output", "json"])
    tree_diffs = [index for index, c in enumerate(calls) if c[0] == "diff-tree"]
    assert len(_drift_logs(calls)) == 1 and tree_diffs, calls
    assert _drift_logs(calls)[0] < tree_diffs[0]  # git walks the target's commits while the trees are compared
