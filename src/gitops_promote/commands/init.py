"""`gitops init PATH`: a new GitOps repository, ready for Argo CD and for promotion.

The content comes from `core/scaffold_repo.py` (docs/repository-layout.md). One commit holds it
and every environment branch starts there; the commit is written with plumbing, then the first
environment's branch is checked out. With `--remote URL` the branches are pushed (a lease that
the branch must not exist yet: init never overwrites a remote branch).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gitops_promote.adapters.git import DEFAULT_REMOTE, Repository, init_repository, set_symbolic_head
from gitops_promote.adapters.scaffold import commit_files, set_branch
from gitops_promote.commands._engine import require_git_identity
from gitops_promote.core.registry import CODENAME, parse_registry
from gitops_promote.core.scaffold_repo import (
    DEFAULT_APPS,
    PLACEHOLDER_REPO_URL,
    app_name_problem,
    registry_text,
    repository_files,
)
from gitops_promote.errors import GitError, UsageError
from gitops_promote.results.init import InitResult

COMMIT_MESSAGE = "gitops init: environments, apps {apps}, Argo CD app of apps per environment"


@dataclass(frozen=True)
class InitRequest:
    path: Path
    apps: tuple[str, ...] = DEFAULT_APPS
    remote: str | None = None  # URL to add as origin and push the branches to
    repo_url: str | None = None  # what Argo CD clones (default: the remote URL, else a placeholder)
    cwd: Path = Path(".")  # where a relative --remote path is relative to
    envs: tuple[str, ...] = ()  # --envs: codenames in order, "a+b" for a group (default dev,stg,prd)


def run(request: InitRequest) -> InitResult:
    apps = check_apps(request.apps)
    remote_url = (
        _local_path(_check_url(request.remote, "--remote"), request.cwd) if request.remote is not None else None
    )
    repo_url = _check_url(request.repo_url, "--repo-url") if request.repo_url is not None else remote_url
    placeholder = repo_url is None
    positions = check_envs(request.envs) if request.envs else None
    files = repository_files(apps, repo_url or PLACEHOLDER_REPO_URL, placeholder, positions)
    registry = parse_registry(registry_text(positions))
    branches = [env.branch for env in registry.ordered()]
    target, created = _prepare_directory(request.path)
    try:
        return _create(target, apps, files, branches, repo_url, remote_url)
    except BaseException:
        _remove_what_init_made(target, created)  # a failed init leaves nothing behind: it can run again
        raise


def _create(
    target: Path,
    apps: tuple[str, ...],
    files: dict[str, str],
    branches: list[str],
    repo_url: str | None,
    remote_url: str | None,
) -> InitResult:
    with init_repository(target, branches[0]) as repo:
        require_git_identity(repo, "the repository's first commit")
        commit = commit_files(repo, files, [], COMMIT_MESSAGE.format(apps=", ".join(apps)))
        for branch in branches:
            set_branch(repo, branch, commit)
        result = InitResult(
            target,
            commit,
            branches,
            branches[0],
            list(apps),
            repo_url or PLACEHOLDER_REPO_URL,
            repo_url is None,
            sorted(files),
        )
        if remote_url is not None:
            result.remote_url = remote_url
            result.pushed = _push(repo, remote_url, commit, branches)
            result.notes += _point_remote_head(repo, remote_url, branches[0])
        repo.checkout(branches[0])
    return result


def _remove_what_init_made(target: Path, created: Path | None) -> None:
    """Remove the directory init created, or empty again the empty one it was given."""
    if created is not None:
        shutil.rmtree(created, ignore_errors=True)
        return
    for child in target.iterdir() if target.is_dir() else ():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def check_apps(names: Sequence[str]) -> tuple[str, ...]:
    """App names from `--apps a,b --apps c`: split, de-duplicated, each a DNS label."""
    apps = tuple(dict.fromkeys(n.strip() for name in names for n in name.split(",") if n.strip()))
    if not apps:
        raise UsageError("--apps names no app", hint="e.g. --apps web,api")
    for app in apps:
        if problem := app_name_problem(app):
            raise UsageError(f"invalid app name {app!r}: it {problem}", hint="e.g. --apps web,api")
    return apps


def check_envs(names: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """Positions from `--envs dev,stg,prd-eu+prd-us`: commas separate positions, '+' groups."""
    positions = [
        tuple(e.strip() for e in item.split("+") if e.strip())
        for name in names
        for item in name.split(",")
        if item.strip()
    ]
    flat = [e for group in positions for e in group]
    if len(flat) < 2:
        raise UsageError("--envs needs at least two environments", hint="e.g. --envs dev,stg,prd-eu+prd-us")
    for env in flat:
        if not CODENAME.match(env):
            raise UsageError(
                f"invalid environment codename {env!r}", hint="use lower-case letters, digits, '-' or '_' (e.g. prd-eu)"
            )
        if flat.count(env) > 1:
            raise UsageError(f"--envs names {env!r} twice", hint="every environment has one place in the order")
    if len(positions[0]) > 1:
        raise UsageError(
            "the first environment of --envs cannot be a group", hint="work starts on one branch, e.g. dev"
        )
    return tuple(positions)


def _check_url(url: str, option: str) -> str:
    if not url.strip() or url.startswith("-") or any(ord(c) < 0x20 or c.isspace() for c in url):
        raise UsageError(
            f"invalid {option} {url!r}",
            hint="give a URL or path without spaces, e.g. https://github.com/org/gitops.git",
        )
    return url


def _local_path(url: str, cwd: Path) -> str:
    """A relative path to a local repository, made absolute: git runs in the new repository."""
    if "://" in url or re.match(r"^[^/]+:", url):  # a URL, or scp-like host:path
        return url
    local = cwd / url
    return str(local.resolve()) if local.exists() else url


def _prepare_directory(path: Path) -> tuple[Path, Path | None]:
    """The resolved directory, and the outermost directory init had to create (None if none)."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} exists and is not a directory", hint="give a new or empty directory")
    if path.is_dir() and any(path.iterdir()):
        raise UsageError(
            f"{path} is not empty: gitops init creates a new repository and never overwrites files",
            hint="give a new or empty directory",
        )
    absolute = path.resolve()
    created = next((p for p in reversed([absolute, *absolute.parents]) if not p.exists()), None)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {path}: {exc.strerror}") from None
    return path.resolve(), created


def _push(repo: Repository, url: str, commit: str, branches: list[str]) -> list[str]:
    """Add origin and push every branch in one atomic push (the remote must have none of them)."""
    repo.run(["remote", "add", "--", DEFAULT_REMOTE, url], what="add the remote")
    existing = sorted(repo.remote_heads(DEFAULT_REMOTE, branches))
    if existing:
        raise UsageError(
            f"{url} already has the branch(es) {', '.join(existing)}: gitops init never overwrites a remote branch",
            hint=f"give an empty repository, or work in a clone of this one: git clone {url}",
        )
    outcome = repo.push_new_branches(DEFAULT_REMOTE, commit, branches)
    if not outcome.ok:
        raise GitError(
            f"pushing {', '.join(branches)} to {url} failed: {outcome.message}",
            hint="nothing was created (here or on the remote); fix the remote and run gitops init again",
        )
    for branch in branches:
        repo.run(["config", f"branch.{branch}.remote", DEFAULT_REMOTE])
        repo.run(["config", f"branch.{branch}.merge", f"refs/heads/{branch}"])
    repo.fetch(DEFAULT_REMOTE, branches)
    return list(branches)


def _point_remote_head(repo: Repository, url: str, branch: str) -> list[str]:
    """Make `git clone URL` check out `branch`: set the remote's HEAD where we can (a repository
    on this machine), else say how; and record it as origin/HEAD here."""
    local = _local_bare_repository(url)
    if local is not None:
        set_symbolic_head(local, branch)
    head = repo.remote_head(DEFAULT_REMOTE)
    if head == branch:
        repo.run(["symbolic-ref", f"refs/remotes/{DEFAULT_REMOTE}/HEAD", f"refs/remotes/{DEFAULT_REMOTE}/{branch}"])
        return []
    return [
        f"the remote's default branch is {head or 'unset'}, not {branch}, so `git clone {url}` does not check out "
        f"{branch}; make {branch} the default branch on the server (GitHub: Settings > General > Default branch; "
        f"GitLab: Settings > Repository > Branch defaults)"
    ]


def _local_bare_repository(url: str) -> Path | None:
    """The git directory of a remote that is a bare repository on this machine, else None."""
    path = Path(url.removeprefix("file://")) if url.startswith(("/", "file://")) else None
    if path is None or not (path / "HEAD").is_file() or not (path / "objects").is_dir():
        return None
    return path
