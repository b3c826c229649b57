"""Faults: kill -9 mid-promotion, a server that goes away or refuses, hooks, Ctrl-C.

Everything runs for real: the CLI in subprocesses, git daemon on loopback as the server.
"""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
from conftest import GitopsRepo, git, make_gitops_repo
from conftest_daemon import DaemonRemote
from gitdaemon import free_port
from reliability_checks import (
    check_promotion_history,
    fsck,
    leftovers,
    local_state,
    refs,
    run_gitops,
    spawn_gitops,
    wait_for_git_child,
)

SEED = int(os.environ.get("GITOPS_TEST_SEED", "0")) or random.randrange(1 << 30)


def rng(name: str) -> random.Random:
    print(f"random moments of {name}: GITOPS_TEST_SEED={SEED}")  # shown when a test fails
    return random.Random(f"{SEED}-{name}")


def old_or_complete(repo: Path, old: str, branch: str = "stg") -> bool:
    """The branch is at its old commit, or one complete promotion on top of it (True)."""
    tip = git(repo, "rev-parse", f"refs/heads/{branch}")
    if tip == old:
        return False
    assert check_promotion_history(repo, branch, old, "dev", "dev") == [tip]
    return True


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate(timeout=30)


def install_hook(hooks: Path, name: str, body: str) -> None:
    hooks.mkdir(parents=True, exist_ok=True)
    hook = hooks / name
    hook.write_text("#!/bin/sh\n" + body + "\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


# ---- kill -9 ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_kill_9_during_local_promotions(tmp_path: Path) -> None:
    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    moments = rng("local kill -9")
    completed = 0
    for i in range(6):
        repo.commit("dev", {"apps/api/values.yaml": f"image:\n  tag: '1.{i}.0'\n"}, f"api 1.{i}.0")
        old = repo.head("stg")
        proc = spawn_gitops(repo.path, "promote", "dev", "stg")
        wait_for_git_child(proc)
        time.sleep(moments.uniform(0, 0.6))
        kill_group(proc)
        completed += old_or_complete(repo.path, old)
        fsck(repo.path)
    old = repo.head("stg")
    after = run_gitops(repo.path, "promote", "dev", "stg")
    assert after.code == 0, after.stderr
    assert old_or_complete(repo.path, old) or "nothing to promote" in after.stderr
    assert repo.tree("stg")["apps/api/values.yaml"] == repo.tree("dev")["apps/api/values.yaml"]
    print(f"{completed} of 6 killed runs had completed")


@pytest.mark.slow
def test_kill_9_during_remote_promotions(daemon_remote: DaemonRemote) -> None:
    r = daemon_remote
    moments = rng("remote kill -9")
    for i in range(5):
        r.remote.commit("dev", {"apps/api/values.yaml": f"image:\n  tag: '1.{i}.0'\n"}, f"api 1.{i}.0")
        old = r.remote.head("stg")
        branches_before = local_state(r.clone.path)[0]
        proc = spawn_gitops(r.clone.path, "promote", "dev", "stg")
        wait_for_git_child(proc)
        time.sleep(moments.uniform(0, 0.9))
        kill_group(proc)
        time.sleep(0.2)  # a receive-pack cut off mid-push finishes or aborts on the server
        old_or_complete(r.remote.path, old)
        assert local_state(r.clone.path)[0] == branches_before
        fsck(r.remote.path)
        fsck(r.clone.path)
    old = r.remote.head("stg")
    after = run_gitops(r.clone.path, "promote", "dev", "stg")
    assert after.code == 0, after.stderr
    assert old_or_complete(r.remote.path, old) or "nothing to promote" in after.stderr
    assert r.remote.tree("stg")["apps/api/values.yaml"] == r.remote.tree("dev")["apps/api/values.yaml"]


# ---- the server goes away, is unreachable, refuses ---------------------------------------------


def change_dev(r: DaemonRemote) -> None:
    r.remote.commit("dev", {"apps/api/values.yaml": "image:\n  tag: '9.9.9'\n"}, "api 9.9.9")


def test_unreachable_server_exits_3_and_changes_nothing(daemon_remote: DaemonRemote) -> None:
    r = daemon_remote
    change_dev(r)
    git(r.clone.path, "remote", "set-url", "origin", f"git://127.0.0.1:{free_port()}/nowhere.git")
    before, refs_before = local_state(r.clone.path), refs(r.clone.path)
    result = run_gitops(r.clone.path, "promote", "dev", "stg")
    assert result.code == 3, result.stderr
    assert "unable to connect" in result.stderr  # git's own message
    assert "Traceback" not in result.stderr
    assert local_state(r.clone.path) == before
    assert refs(r.clone.path) == refs_before


def test_stopped_server_exits_3_and_changes_nothing(private_daemon_remote: DaemonRemote) -> None:
    r = private_daemon_remote
    change_dev(r)
    stg = r.remote.head("stg")
    r.daemon.stop()
    before, refs_before = local_state(r.clone.path), refs(r.clone.path)
    result = run_gitops(r.clone.path, "promote", "dev", "stg")
    assert result.code == 3, result.stderr
    assert "unable to connect" in result.stderr
    assert local_state(r.clone.path) == before
    assert refs(r.clone.path) == refs_before
    assert r.remote.head("stg") == stg


def test_server_going_away_mid_push_exits_3_and_changes_nothing(
    private_daemon_remote: DaemonRemote, tmp_path: Path
) -> None:
    r = private_daemon_remote
    change_dev(r)
    stg = r.remote.head("stg")
    inside = tmp_path / "push-reached-the-server"
    install_hook(r.remote.path / "hooks", "pre-receive", f"touch '{inside}'\nsleep 60\nexit 1")
    before = local_state(r.clone.path)
    proc = spawn_gitops(r.clone.path, "promote", "dev", "stg")
    deadline = time.monotonic() + 30
    while not inside.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    assert inside.exists(), proc.communicate()[1].decode()
    r.daemon.kill()  # the daemon, receive-pack and the hook, at once
    _, err = proc.communicate(timeout=60)
    stderr = err.decode()
    assert proc.returncode == 3, stderr
    assert "hung up" in stderr or "fatal:" in stderr, stderr  # git's message
    assert "Traceback" not in stderr
    assert local_state(r.clone.path) == before
    assert git(r.clone.path, "rev-parse", "refs/remotes/origin/stg") == stg
    assert r.remote.head("stg") == stg
    assert leftovers(r.clone.path / ".git") == []


def test_server_hook_refusal_exits_3_with_the_servers_message(daemon_remote: DaemonRemote) -> None:
    r = daemon_remote
    change_dev(r)
    stg = r.remote.head("stg")
    install_hook(r.remote.path / "hooks", "pre-receive", "echo 'stg is frozen until CAB-42 is approved' >&2\nexit 1")
    before = local_state(r.clone.path)
    result = run_gitops(r.clone.path, "promote", "dev", "stg")
    assert result.code == 3, result.stderr
    assert "stg is frozen until CAB-42 is approved" in result.stderr
    assert "gave up" not in result.stderr  # a refusal is not a lost race: no retries
    assert r.remote.head("stg") == stg
    assert local_state(r.clone.path) == before


# ---- no hooks run locally ------------------------------------------------------------------------

LOCAL_HOOKS = (
    "pre-push",
    "reference-transaction",
    "post-commit",
    "pre-commit",
    "commit-msg",
    "prepare-commit-msg",
    "post-checkout",
    "post-merge",
    "post-rewrite",
    "pre-auto-gc",
    "post-index-change",
)


def install_marker_hooks(repo_git_dir: Path, extra_dir: Path, markers: Path) -> None:
    markers.mkdir()
    for hooks in (repo_git_dir / "hooks", extra_dir):
        for name in LOCAL_HOOKS:
            install_hook(hooks, name, f"touch '{markers}/{name}'")


@pytest.mark.parametrize("push", [True, False], ids=["push-over-git-daemon", "no-push"])
def test_no_local_hooks_run_during_a_promotion(daemon_remote: DaemonRemote, tmp_path: Path, push: bool) -> None:
    r = daemon_remote
    change_dev(r)
    git(r.clone.path, "fetch", "--quiet", "origin", "stg:stg")  # a local stg for --no-push to move
    markers = tmp_path / "markers"
    install_marker_hooks(r.clone.path / ".git", tmp_path / "hookspath", markers)
    git(r.clone.path, "config", "core.hooksPath", str(tmp_path / "hookspath"))
    result = run_gitops(r.clone.path, "promote", "dev", "stg", *([] if push else ["--no-push"]))
    assert result.code == 0, result.stderr
    assert sorted(p.name for p in markers.iterdir()) == []
    # the hooks were live: a plain git ref update in the clone runs one
    git(r.clone.path, "update-ref", "refs/heads/probe", "HEAD")
    assert (markers / "reference-transaction").exists()


# ---- Ctrl-C ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["local", "remote"])
@pytest.mark.parametrize("to_group", [True, False], ids=["terminal-ctrl-c", "sigint-to-process"])
def test_ctrl_c_exits_130_and_leaves_nothing_behind(
    daemon_remote: DaemonRemote, tmp_path: Path, where: str, to_group: bool
) -> None:
    r = daemon_remote
    repo: GitopsRepo = r.clone if where == "remote" else make_gitops_repo(tmp_path / "local", bare=True)
    source = r.remote if where == "remote" else repo
    git_dir = repo.path / ".git" if where == "remote" else repo.path
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    moments = rng(f"ctrl-c {where} {to_group}")
    interrupted = runs = 0
    latest = 0.25  # the latest moment to interrupt, after the first git command started
    while interrupted < 2 and runs < 10:
        runs += 1
        i = runs
        source.commit("dev", {"apps/api/values.yaml": f"image:\n  tag: '2.{i}.0'\n"}, f"api 2.{i}.0")
        old = source.head("stg")
        proc = spawn_gitops(repo.path, "promote", "dev", "stg", env={**os.environ, "TMPDIR": str(tmp)})
        wait_for_git_child(proc)
        time.sleep(moments.uniform(0, latest))
        try:
            if to_group:
                os.killpg(proc.pid, signal.SIGINT)
            else:
                proc.send_signal(signal.SIGINT)
        except ProcessLookupError:
            pass  # it had already finished
        _, err = proc.communicate(timeout=60)
        stderr = err.decode()
        assert "Traceback" not in stderr, stderr
        if proc.returncode == 130:
            interrupted += 1
            assert stderr.strip().splitlines() == ["interrupted"], stderr
        else:
            # It had finished before the signal (or was finishing): a SIGINT that arrives while
            # the interpreter shuts down ends the process by the signal, which the shell shows
            # as 130 too, without a traceback.
            assert proc.returncode in (0, -signal.SIGINT), stderr
            latest /= 2  # it was quicker than that: interrupt earlier next time
            assert "promoted dev to stg" in stderr or stderr.strip() == "interrupted", stderr
        assert list(git_dir.rglob("*.lock")) == []
        assert leftovers(git_dir) == []
        assert all(k.startswith(("refs/heads/", "refs/remotes/")) for k in refs(repo.path)), refs(repo.path)
        assert list(tmp.iterdir()) == [], (proc.returncode, stderr)  # no temporary index left
        if where == "local":
            old_or_complete(repo.path, old)
        fsck(repo.path)
    after = run_gitops(repo.path, "promote", "dev", "stg")
    assert after.code == 0, after.stderr
    assert interrupted, "no run was interrupted"


FINALIZER_INTERRUPT = r"""
import sys, time
from gitops_promote import cli

sys.unraisablehook = cli._redeliver_interrupt  # as cli.main() installs it

class Finalized:
    def __del__(self):
        raise KeyboardInterrupt  # Ctrl-C landing in a finalizer, e.g. subprocess.Popen.__del__

try:
    Finalized()
    time.sleep(5)
    print("the interrupt was lost")
except KeyboardInterrupt:
    print("interrupted")
"""


def test_ctrl_c_landing_in_a_finalizer_is_not_lost() -> None:
    import sys

    proc = subprocess.run(  # noqa: S603
        [sys.executable, "-c", FINALIZER_INTERRUPT], capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.stdout.strip() == "interrupted", proc
    assert "Exception ignored" not in proc.stderr, proc.stderr
