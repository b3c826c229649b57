"""Shared fixtures: real git repositories in temporary directories, isolated from the user's
git configuration and HOME, built with git plumbing (never through a checkout)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from gitops_promote.adapters.git import Repository
from gitops_promote.adapters.scaffold import FileSpec, commit_changes, commit_files, set_branch
from gitops_promote.cli import app
from gitops_promote.core.charts import chart_files

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load_benchmark(name: str) -> ModuleType:
    """benchmarks/ is a folder of scripts, not a package: each script loaded once from its file."""
    module_name = f"benchmarks_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, BENCHMARKS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


REGISTRY = (Path(__file__).parent.parent / "environments.yaml").read_text()


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's ~/.gitconfig, and every commit has a fixed identity."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    for key, value in {
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Committer",
        "GIT_COMMITTER_EMAIL": "committer@example.com",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    for key in list(os.environ):
        if key.startswith("GITOPS_"):
            monkeypatch.delenv(key)


def git(cwd: Path, *args: str, input: bytes | None = None) -> str:
    """Run git in a test (the suite's own calls, not the tool's)."""
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc.stdout.decode("utf-8", "surrogateescape").strip()


def init_repo(path: Path, *, bare: bool = False) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--quiet", "--initial-branch=main", *(["--bare"] if bare else []))
    return path


def standard_files() -> dict[str, FileSpec]:
    """A registry and two Helm chart apps with values-{dev,stg,prd}.yaml."""
    files: dict[str, FileSpec] = {"environments.yaml": REGISTRY}
    files |= chart_files("api", image="ghcr.io/example/api", tag="1.0.0")
    files |= chart_files("web", image="ghcr.io/example/web", tag="2.0.0")
    return files


@dataclass
class GitopsRepo:
    """A repository with dev/stg/prd branches and helpers to commit on them."""

    path: Path

    def commit(self, branch: str, changes: Mapping[str, FileSpec | None], message: str = "change") -> str:
        with Repository(self.path) as repo:
            parent = repo.resolve_commit(f"refs/heads/{branch}")
            assert parent is not None, branch
            sha = commit_changes(repo, parent, changes, message)
            set_branch(repo, branch, sha)
            return sha

    def head(self, branch: str) -> str:
        return git(self.path, "rev-parse", f"refs/heads/{branch}")

    def tree(self, rev: str) -> dict[str, tuple[str, str]]:
        with Repository(self.path) as repo:
            return {p: (e.mode, e.sha) for p, e in repo.ls_tree(rev).items()}

    def read(self, rev: str, path: str) -> bytes:
        return subprocess.run(
            ["git", "cat-file", "blob", f"{rev}:{path}"], cwd=self.path, capture_output=True, check=True
        ).stdout


def make_gitops_repo(path: Path, files: Mapping[str, FileSpec] | None = None, *, bare: bool = False) -> GitopsRepo:
    init_repo(path, bare=bare)
    with Repository(path) as repo:
        root = commit_files(repo, files if files is not None else standard_files(), [], "initial")
        for branch in ("dev", "stg", "prd"):
            set_branch(repo, branch, root)
    return GitopsRepo(path)


@pytest.fixture
def gitops_repo(tmp_path: Path) -> GitopsRepo:
    return make_gitops_repo(tmp_path / "repo", bare=True)


@dataclass
class RemoteSetup:
    remote: GitopsRepo  # the bare "server" repository
    clone: GitopsRepo  # a working clone with origin pointing at the remote


@pytest.fixture
def remote_setup(tmp_path: Path) -> RemoteSetup:
    remote = make_gitops_repo(tmp_path / "remote.git", bare=True)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--branch", "dev", str(remote.path), str(clone))
    return RemoteSetup(remote, GitopsRepo(clone))


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> dict:  # type: ignore[type-arg]
        return json.loads(self.stdout)


def run_cli(cwd: Path, *args: str) -> CliResult:
    """Invoke the CLI in-process, as `gitops -C cwd ARGS`, with separate stdout/stderr."""
    runner = CliRunner()
    result = runner.invoke(app, ["-C", str(cwd), *args], catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)


# A real git server on loopback (git daemon) for remote tests: see tests/conftest_daemon.py.
from conftest_daemon import (  # noqa: E402,F401
    daemon_remote,
    git_daemon,
    private_daemon_remote,
    private_git_daemon,
)
