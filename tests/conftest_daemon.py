"""Fixtures for remote tests over a real git server on loopback (`git://127.0.0.1:PORT/...`).

- `git_daemon`: one `git daemon` per test session (per xdist worker), shared by tests that only
  need a server; each test gets its own bare repository under its base path.
- `private_git_daemon`: a daemon of the test's own, for tests that stop or kill the server.
- `daemon_remote` / `private_daemon_remote`: a bare GitOps repository (dev/stg/prd) served by
  the daemon, and a clone of it whose `origin` is the git:// URL.

Imported by tests/conftest.py so that every test module can use them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import GitopsRepo, git, make_gitops_repo
from gitdaemon import GitDaemon

_names = itertools.count()


@pytest.fixture(scope="session")
def git_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitDaemon]:
    daemon = GitDaemon(tmp_path_factory.mktemp("daemon") / "repos").start()
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def private_git_daemon(tmp_path: Path) -> Iterator[GitDaemon]:
    daemon = GitDaemon(tmp_path / "served").start()
    try:
        yield daemon
    finally:
        daemon.kill()


@dataclass
class DaemonRemote:
    daemon: GitDaemon
    url: str
    remote: GitopsRepo  # the bare repository the daemon serves
    clone: GitopsRepo  # a working clone whose origin is `url`

    def clone_again(self, path: Path) -> GitopsRepo:
        git(path.parent, "clone", "--quiet", "--branch", "dev", self.url, str(path))
        return GitopsRepo(path)


def serve_gitops_repo(daemon: GitDaemon, tmp_path: Path, files: dict | None = None) -> DaemonRemote:  # type: ignore[type-arg]
    name = f"gitops-{next(_names)}-{tmp_path.name}.git"
    remote = make_gitops_repo(daemon.path(name), files, bare=True)
    url = daemon.url(name)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--branch", "dev", url, str(clone))
    return DaemonRemote(daemon, url, remote, GitopsRepo(clone))


@pytest.fixture
def daemon_remote(git_daemon: GitDaemon, tmp_path: Path) -> DaemonRemote:
    return serve_gitops_repo(git_daemon, tmp_path)


@pytest.fixture
def private_daemon_remote(private_git_daemon: GitDaemon, tmp_path: Path) -> DaemonRemote:
    return serve_gitops_repo(private_git_daemon, tmp_path)
