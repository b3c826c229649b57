"""Several promotions of dev into stg at the same time, while dev keeps moving.

Every promotion runs as a real subprocess (`python -m gitops_promote promote dev stg`); the
remote is a real git server on loopback (git daemon), and a separate process keeps pushing
commits to dev. Afterwards stg must hold only complete promotions, and every promotion that a
run reported must be on stg's first-parent history.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import GitopsRepo, git, make_gitops_repo
from conftest_daemon import DaemonRemote
from reliability_checks import Run, check_promotion_history, fsck, leftovers, run_gitops

ROUNDS = 3  # promotions per clone, one after the other
CLONES = 3  # clones promoting at the same time

# Pushes (or, with "local", writes) commits to dev until STOP exists: the API tag changes every
# time, every 3rd commit also changes dev's copy of values-stg.yaml (which stg must keep), every
# 4th adds a file and every 5th deletes one.
DEV_MOVER = r"""
import os, subprocess, sys, tempfile, time
repo, stop, mode = sys.argv[1], sys.argv[2], sys.argv[3]
scratch = tempfile.mkdtemp()
index = os.path.join(scratch, "index")
env = {**os.environ, "GIT_INDEX_FILE": index}

def g(*args, data=None, check=True):
    proc = subprocess.run(["git", "-C", repo, "--work-tree", scratch, *args], input=data, capture_output=True, env=env)
    if check and proc.returncode:
        raise SystemExit(proc.stderr.decode())
    return proc

def out(*args, data=None):
    return g(*args, data=data).stdout.decode().strip()

def blob(text):
    return out("hash-object", "-w", "--stdin", data=text.encode())

i = 0
while not os.path.exists(stop) and i < 500:
    i += 1
    if mode == "remote":
        g("fetch", "--quiet", "origin", "+refs/heads/dev:refs/remotes/origin/dev")
        parent = out("rev-parse", "refs/remotes/origin/dev")
    else:
        parent = out("rev-parse", "refs/heads/dev")
    g("read-tree", parent)
    tag = blob(f"image:\n  tag: '1.{i}.0'\n")
    g("update-index", "--add", "--cacheinfo", "100644," + tag + ",apps/api/values.yaml")
    if i % 3 == 0:
        stg = blob(f"dev's idea of stg {i}\n")
        g("update-index", "--add", "--cacheinfo", "100644," + stg + ",apps/api/values-stg.yaml")
    if i % 4 == 0:
        g("update-index", "--add", "--cacheinfo", "100644," + blob(f"extra {i}\n") + f",apps/web/extra-{i}.txt")
    if i % 5 == 0:
        g("update-index", "--force-remove", f"apps/web/extra-{i - 1 - (i - 1) % 4}.txt")
    tree = out("write-tree")
    commit = out("commit-tree", "-p", parent, "-m", f"dev change {i}", tree)
    if mode == "remote":
        g("push", "--quiet", "origin", f"{commit}:refs/heads/dev", check=False)  # lost races retry
    else:
        g("update-ref", "refs/heads/dev", commit, parent, check=False)
    time.sleep(0.15)
"""


def start_dev_mover(repo: Path, stop: Path, mode: str, watched: Path | None = None) -> subprocess.Popen[bytes]:
    """The mover, once it has moved dev (in `watched`, the repository it writes to) at least
    once: on a loaded machine its start-up could otherwise outlast every promotion, leaving
    them nothing to promote (a flaky test)."""
    watched = watched or repo
    before = git(watched, "rev-parse", "refs/heads/dev")
    mover = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", DEV_MOVER, str(repo), str(stop), mode],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while git(watched, "rev-parse", "refs/heads/dev") == before and mover.poll() is None:
        assert time.monotonic() < deadline, "the dev mover made no commit in 60 s"
        time.sleep(0.05)
    return mover


def promote_concurrently(clones: list[Path], rounds: int, *extra: str) -> list[Run]:
    runs: list[Run] = []
    lock = threading.Lock()

    def worker(path: Path) -> None:
        for _ in range(rounds):
            run = run_gitops(path, "promote", "dev", "stg", "-o", "json", *extra)
            with lock:
                runs.append(run)

    threads = [threading.Thread(target=worker, args=(p,)) for p in clones]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return runs


def reported_promotions(runs: list[Run]) -> list[str]:
    """The promotion commits the runs reported; every run ended in one of the allowed ways."""
    promoted = []
    for run in runs:
        assert run.code in (0, 3), f"exit {run.code}\n{run.stderr}"
        assert "Traceback" not in run.stderr, run.stderr
        if run.code == 3:
            assert "gave up after" in run.stderr, run.stderr  # a clean give-up, nothing else
            continue
        data = json.loads(run.stdout)
        if data["promoted"]:
            assert data["target_commit"] != data["target_commit_before"]
            promoted.append(data["target_commit"])
        else:  # nothing to promote
            assert data["target_commit"] == data["target_commit_before"], data
    return promoted


def check_outcome(repo: GitopsRepo, base: str, promoted: list[str]) -> None:
    line = check_promotion_history(repo.path, "stg", base, "dev", "dev")
    missing = set(promoted) - set(line)
    assert not missing, f"reported promotions missing from stg's first-parent history: {missing}"
    # Two clones promoting the same dev commit onto the same stg tip in the same second write
    # the very same commit (same tree, parents, message and time): both report it, rightly.
    fsck(repo.path)


@pytest.mark.slow
def test_concurrent_promotions_over_git_daemon(daemon_remote: DaemonRemote, tmp_path: Path) -> None:
    r = daemon_remote
    base = r.remote.head("stg")
    clones = [r.clone.path] + [r.clone_again(tmp_path / f"clone{i}").path for i in range(1, CLONES)]
    mover_clone = r.clone_again(tmp_path / "mover")
    stop = tmp_path / "stop"
    mover = start_dev_mover(mover_clone.path, stop, "remote", r.remote.path)
    try:
        runs = promote_concurrently(clones, ROUNDS)
    finally:
        stop.touch()
        _, err = mover.communicate(timeout=60)
    assert mover.returncode == 0, err.decode()
    dev_commits = int(git(r.remote.path, "rev-list", "--count", "refs/heads/dev"))
    assert dev_commits > 5, "dev did not move during the promotions"

    promoted = reported_promotions(runs)
    assert promoted, "no run promoted anything"
    # dev is still now: one more promotion brings stg to dev's latest content
    final = run_gitops(r.clone.path, "promote", "dev", "stg", "-o", "json")
    assert final.code == 0, final.stderr
    promoted += reported_promotions([final])
    check_outcome(r.remote, base, promoted)
    assert json.loads(final.stdout)["source_commit"] == r.remote.head("dev")
    for clone in clones:
        assert leftovers(clone / ".git") == []


def test_concurrent_promotions_in_one_repository(tmp_path: Path) -> None:
    """No remote: the processes race on the same local branch (compare-and-swap only)."""
    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    base = repo.head("stg")
    stop = tmp_path / "stop"
    mover = start_dev_mover(repo.path, stop, "local")
    try:
        runs = promote_concurrently([repo.path] * CLONES, 2)
    finally:
        stop.touch()
        _, err = mover.communicate(timeout=60)
    assert mover.returncode == 0, err.decode()
    promoted = reported_promotions(runs)
    assert promoted
    check_outcome(repo, base, promoted)
    assert leftovers(repo.path) == []


def test_push_losing_to_another_push_on_the_server_is_retried(daemon_remote: DaemonRemote, tmp_path: Path) -> None:
    """The server moves stg between our lease check and its ref update (a pre-receive hook does
    it, once): git reports "cannot lock ref … is at X but expected Y", which is a lost race."""
    r = daemon_remote
    r.remote.commit("dev", {"apps/api/values.yaml": "image:\n  tag: '3.0.0'\n"}, "api 3.0.0")
    old = r.remote.head("stg")
    other = r.remote.commit("stg", {"apps/api/values-stg.yaml": "replicas: 3\n"}, "stg: scale")
    git(r.remote.path, "update-ref", "refs/heads/stg", old, other)  # `other` exists, stg is back
    once = tmp_path / "moved"
    hook = r.remote.path / "hooks" / "pre-receive"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(
        "#!/bin/sh\n"
        f"[ -e '{once}' ] && exit 0\n"
        f"touch '{once}'\n"
        f"env -u GIT_QUARANTINE_PATH git update-ref refs/heads/stg {other} {old}\n"
    )
    hook.chmod(0o755)
    result = run_gitops(r.clone.path, "promote", "dev", "stg", "-o", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert once.exists() and data["attempts"] == 2, data
    assert git(r.remote.path, "rev-parse", "refs/heads/stg^1") == other  # on top of the winner
    assert r.remote.read("stg", "apps/api/values-stg.yaml") == b"replicas: 3\n"
    check_promotion_history(r.remote.path, "stg", other, "dev", "dev")
