"""An environment branch's first-parent line, classified: shared by history, status, rollback.

Every commit is one entry: a *promotion* (trailers `Promoted-From`/`Promoted-Commit`), a
*rollback* (`Rolled-Back-To`), a *merge* made by hand (a merge commit without those
trailers), or a *direct* commit. Where the last promotion of a step is has one definition,
`_engine.last_promotion`; this module only lists and classifies.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from gitops_promote.adapters.git import CommitInfo, Repository
from gitops_promote.commands._context import BranchRefs, bootstrap_registry, environment, registry_at
from gitops_promote.commands._engine import PromotionRequest, sync
from gitops_promote.core.apps import PROMOTED_APPS, parse_trailer
from gitops_promote.core.drift import PROMOTED_COMMIT, PROMOTED_FROM, ROLLED_BACK_TO
from gitops_promote.core.freeze import TRAILER_KEY as FREEZE_OVERRIDE
from gitops_promote.core.notices import Warning
from gitops_promote.core.promotion import ADDED, DELETED, MODIFIED
from gitops_promote.core.registry import Environment
from gitops_promote.results.history import DIRECT, MERGE, ROLLBACK, ROLLBACK_REASON, ChangedFiles, Entry
from gitops_promote.results.steps import PROMOTION


def classify(commit: CommitInfo) -> Entry:
    trailers = commit.trailers()

    def first(key: str) -> str | None:
        values = trailers.get(key)
        return values[0] if values else None

    entry = Entry(commit.sha, DIRECT, commit.subject, commit.author, commit.date, commit.parents)
    entry.freeze_override = first(FREEZE_OVERRIDE)
    if first(ROLLED_BACK_TO):
        entry.kind, entry.rolled_back_to, entry.reason = ROLLBACK, first(ROLLED_BACK_TO), first(ROLLBACK_REASON)
    elif first(PROMOTED_COMMIT) and first(PROMOTED_FROM):
        entry.kind, entry.source, entry.source_commit = PROMOTION, first(PROMOTED_FROM), first(PROMOTED_COMMIT)
        apps = first(PROMOTED_APPS)
        entry.apps = parse_trailer(apps) if apps else None
    elif len(commit.parents) > 1:
        entry.kind = MERGE
    return entry


def entries(repo: Repository, tip: str, *, limit: int = 0, since: str | None = None) -> list[Entry]:
    """The first-parent line of `tip` (down to, not including, `since`), newest first."""
    rev_range = [f"^{since}", tip] if since else [tip]
    return [classify(c) for c in repo.log(rev_range, first_parent=True, limit=limit)]


def entries_with_files(repo: Repository, tip: str, *, limit: int = 0) -> list[Entry]:
    """The newest `limit` entries of the first-parent line, each with its changed files
    against its first parent, from one `git log --name-status`: cost follows the change, not
    the size of the trees."""
    found = []
    for commit, paths, statuses in repo.log_with_changes(tip, limit):
        entry = classify(commit)
        entry.files = _by_path(paths, list(map(_ACTIONS.__getitem__, statuses)))
        found.append(entry)
    return found


# git's status letters (A, D, M, T: a type change is a modification)
_ACTIONS = defaultdict(lambda: MODIFIED, {"A": ADDED, "D": DELETED})


def _by_path(paths: list[str], actions: list[str]) -> ChangedFiles:
    """git lists a commit's files by path already, except where a name is not UTF-8 (its
    bytes sort unlike its escaped text): checking costs one pass, sorting only then."""
    if all(map(operator.lt, paths, islice(paths, 1, None))):
        return ChangedFiles(paths, actions)
    pairs = sorted(zip(paths, actions, strict=True))
    return ChangedFiles([path for path, _ in pairs], [action for _, action in pairs])


@dataclass(frozen=True)
class OpenBranch:
    environment: Environment
    refs: BranchRefs
    head: str
    warnings: tuple[Warning, ...]


def open_branch(
    repo: Repository, env_name: str, registry_file: Path | None, remote: str | None, fetch: bool = True
) -> OpenBranch:
    """The environment (by the registry of its own branch), where it is read from, and its head."""
    registry = bootstrap_registry(repo, registry_file, [env_name])
    env = environment(registry, env_name)
    request = PromotionRequest(env.codename, env.codename, None, registry_file, remote, fetch)
    synced = sync(repo, request, [env.branch])
    head = repo.resolve_commit(synced.refs.ref(env.branch))
    assert head is not None  # sync checked it
    if registry_file is None and (own := registry_at(repo, head, env.branch)) is not None:
        env = own.get(env.codename) or env
    return OpenBranch(env, synced.refs, head, synced.warnings)
