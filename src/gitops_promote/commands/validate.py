"""`gitops validate [ENV...]`: check each environment branch's tree (docs/validation.md).

Branch mode reads git objects, never the working tree: the remote-tracking branches when the
repository has `origin` (fetched first unless `--no-fetch`; nothing is pushed), else the local
branches. Each branch is checked with the registry committed on it. Worktree mode
(`--worktree`) checks the files on disk, tracked and untracked but not ignored, for the
environment whose branch is checked out: what a pre-commit hook needs, before the commit exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._context import BranchRefs, bootstrap_registry, environment, open_repository, registry_at
from gitops_promote.commands._engine import PromotionRequest, sync
from gitops_promote.core.registry import Environment, Registry
from gitops_promote.core.tree import MODE_GITLINK, MODE_SYMLINK
from gitops_promote.core.validation import validate_tree
from gitops_promote.errors import UsageError
from gitops_promote.results.validate import EnvReport, ValidateResult


@dataclass(frozen=True)
class ValidateRequest:
    envs: tuple[str, ...] = ()  # codenames (or branches); empty: every environment
    registry_file: Path | None = None
    remote: str | None = None  # None: origin when the repository has it
    fetch: bool = True
    worktree: bool = False


def run(path: Path, request: ValidateRequest) -> ValidateResult:
    with open_repository(path) as repo:
        if request.worktree:
            return _validate_worktree(repo, request)
        return _validate_branches(repo, request)


# ---- branches -------------------------------------------------------------------------------


def _validate_branches(repo: Repository, request: ValidateRequest) -> ValidateResult:
    bootstrap = bootstrap_registry(repo, request.registry_file, [])
    envs = _selected(bootstrap, request.envs)
    sync_request = PromotionRequest(
        "", "", registry_file=request.registry_file, remote=request.remote, fetch=request.fetch
    )
    refs = sync(repo, sync_request, [e.branch for e in envs]).refs
    blobs: dict[str, bytes] = {}  # shared: environment branches hold mostly the same blobs
    override = request.registry_file is not None
    reports = [_validate_branch(repo, refs, bootstrap, env, override, blobs) for env in envs]
    return ValidateResult(reports, remote=refs.remote)


def _selected(registry: Registry, names: tuple[str, ...]) -> list[Environment]:
    if not names:
        return registry.ordered()
    chosen = [environment(registry, name) for name in names]
    return list({e.codename: e for e in chosen}.values())


def _validate_branch(
    repo: Repository, refs: BranchRefs, bootstrap: Registry, env: Environment, override: bool, blobs: dict[str, bytes]
) -> EnvReport:
    ref = refs.ref(env.branch)
    commit = repo.resolve_commit(ref)
    assert commit is not None  # sync() made sure the branch exists
    registry = bootstrap if override else (registry_at(repo, commit, env.branch) or bootstrap)
    own = registry.get(env.codename)
    if own is None:  # the branch's registry does not know its own environment: use the bootstrap one
        registry, own = bootstrap, env
    files = tree_files(repo, commit, blobs)
    findings = validate_tree(files, registry, own)
    return EnvReport(env.codename, env.branch, commit, ref, registry.source, findings)


# Files nearly every run reads (YAML, values schemas, and the Helm templates the persistence
# rules scan): read up front in one `cat-file --batch`; anything else only if a rule asks.
PREFETCHED = (".yaml", ".yml", ".json")


def tree_files(
    repo: Repository, commit: str, blobs: dict[str, bytes] | None = None
) -> dict[str, bytes | Callable[[], bytes]]:
    """path -> bytes or lazy blob reader, for the regular files of a commit (links and
    submodules skipped). `blobs` (sha -> bytes) is read from and added to: a blob that several
    branches share is read once."""
    blobs = {} if blobs is None else blobs
    entries = {p: e for p, e in repo.ls_tree(commit).items() if e.mode not in (MODE_GITLINK, MODE_SYMLINK)}
    wanted = {e.sha for p, e in entries.items() if p.endswith(PREFETCHED) and e.sha not in blobs}
    blobs.update(repo.read_blobs(wanted))
    return {path: blobs.get(entry.sha) or _blob_reader(repo, entry.sha) for path, entry in entries.items()}


def _blob_reader(repo: Repository, sha: str) -> Callable[[], bytes]:
    return lambda: repo.read_blob(sha)


# ---- working tree ---------------------------------------------------------------------------


def _validate_worktree(repo: Repository, request: ValidateRequest) -> ValidateResult:
    if repo.work_tree is None:
        raise UsageError("--worktree needs a working tree, and this repository is bare", hint="run it in a clone")
    registry = bootstrap_registry(repo, request.registry_file, [])
    env = _worktree_environment(repo, registry, request.envs)
    files = worktree_files(repo.work_tree, repo.worktree_files())
    findings = validate_tree(files, registry, env)
    report = EnvReport(env.codename, env.branch, None, "worktree", registry.source, findings)
    return ValidateResult([report], worktree=str(repo.work_tree))


def _worktree_environment(repo: Repository, registry: Registry, names: tuple[str, ...]) -> Environment:
    if len(names) > 1:
        raise UsageError("--worktree validates one environment", hint="name at most one ENV with --worktree")
    if names:
        return environment(registry, names[0])
    branch = repo.current_branch()
    found = registry.by_branch(branch) if branch else None
    if found is None:
        what = f"the checked-out branch {branch!r} is" if branch else "HEAD is detached, which is"
        known = ", ".join(f"{e.codename} ({e.branch})" for e in registry.ordered())
        raise UsageError(
            f"{what} not an environment branch of {registry.source}",
            hint=f"name the environment to check the working tree as: gitops validate --worktree ENV; known: {known}",
        )
    return found


def worktree_files(top: Path, paths: list[str]) -> dict[str, Callable[[], bytes]]:
    """path -> lazy file reader, for the regular files that exist (deleted ones are skipped)."""
    files: dict[str, Callable[[], bytes]] = {}
    for path in paths:
        full = top / path
        if full.is_file() and not full.is_symlink():
            files[path] = full.read_bytes
    return files
