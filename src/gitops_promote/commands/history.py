"""`gitops history ENV`: what reached an environment branch, newest first.

Every commit of the branch's first-parent line is one entry: a *promotion* (trailers
`Promoted-From`/`Promoted-Commit`), a *rollback* (`Rolled-Back-To`), a *merge* made by hand
(a merge commit without those trailers), or a *direct* commit. `status`, `parity` and
`rollback` read the same entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_promote.adapters.git import CommitInfo, Repository
from gitops_promote.commands._context import BranchRefs, bootstrap_registry, environment
from gitops_promote.commands._engine import PromotionRequest, sync
from gitops_promote.core.apps import PROMOTED_APPS, parse_trailer
from gitops_promote.core.drift import PROMOTED_COMMIT, PROMOTED_FROM, ROLLED_BACK_TO
from gitops_promote.core.freeze import TRAILER_KEY as FREEZE_OVERRIDE
from gitops_promote.core.promotion import ADDED, DELETED, MODIFIED, FileAction
from gitops_promote.core.registry import Environment
from gitops_promote.core.tree import TreeEntry
from gitops_promote.errors import UsageError

ROLLBACK_REASON = "Rollback-Reason"
PROMOTION, ROLLBACK, MERGE, DIRECT = "promotion", "rollback", "merge", "direct"
DEFAULT_LIMIT = 20


@dataclass
class Entry:
    """One commit of an environment branch's first-parent line."""

    commit: str
    kind: str
    subject: str
    author: str
    date: str
    parents: tuple[str, ...]
    source: str | None = None  # promotion: the environment it came from
    source_commit: str | None = None  # promotion: the commit of the source it promoted
    rolled_back_to: str | None = None
    reason: str | None = None  # rollback: Rollback-Reason
    freeze_override: str | None = None
    files: list[FileAction] | None = None  # None: not computed
    apps: tuple[str, ...] | None = None  # promotion: Promoted-Apps (None: the whole branch)

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "kind": self.kind,
            "subject": self.subject,
            "author": self.author,
            "date": self.date,
            "source": self.source,
            "source_commit": self.source_commit,
            "rolled_back_to": self.rolled_back_to,
            "reason": self.reason,
            "freeze_override": self.freeze_override,
            "files": None if self.files is None else [f.to_json() for f in self.files],
            "apps": None if self.apps is None else list(self.apps),
        }


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


def promotions(repo: Repository, tip: str) -> list[Entry]:
    """Every promotion commit on the first-parent line of `tip`, newest first."""
    found = repo.log([tip], first_parent=True, grep=f"^{PROMOTED_COMMIT}: ")
    return [e for c in found if (e := classify(c)).kind == PROMOTION]


def last_promotion(repo: Repository, tip: str) -> Entry | None:
    found = promotions(repo, tip)
    return found[0] if found else None


def changed_files(before: dict[str, TreeEntry], after: dict[str, TreeEntry]) -> list[FileAction]:
    actions = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old != new:
            actions.append(FileAction(path, ADDED if old is None else DELETED if new is None else MODIFIED))
    return actions


class TreeCache:
    """Tree listings by commit: consecutive history entries share one side."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._trees: dict[str, dict[str, TreeEntry]] = {}

    def __call__(self, commit: str) -> dict[str, TreeEntry]:
        if commit not in self._trees:
            self._trees[commit] = self.repo.ls_tree(commit)
        return self._trees[commit]


def with_files(repo: Repository, found: list[Entry]) -> list[Entry]:
    trees = TreeCache(repo)
    for entry in found:
        before = trees(entry.parents[0]) if entry.parents else {}
        entry.files = changed_files(before, trees(entry.commit))
    return found


# ---- the command ------------------------------------------------------------------------------


@dataclass
class HistoryResult:
    environment: Environment
    branch_ref: str
    head: str
    entries: list[Entry] = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    more: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment.codename,
            "branch": self.environment.branch,
            "ref": self.branch_ref,
            "head": self.head,
            "limit": self.limit,
            "more": self.more,
            "entries": [e.to_json() for e in self.entries],
        }


def open_branch(
    repo: Repository, env_name: str, registry_file: Path | None, remote: str | None
) -> tuple[Environment, BranchRefs, str]:
    """The environment, where its branch is read from (after a fetch), and its head."""
    registry = bootstrap_registry(repo, registry_file, [env_name])
    env = environment(registry, env_name)
    refs = sync(repo, PromotionRequest(env.codename, env.codename, None, registry_file, remote), [env.branch])
    head = repo.resolve_commit(refs.ref(env.branch))
    assert head is not None  # sync checked it
    return env, refs, head


def run(
    repo_path: Path,
    env_name: str,
    limit: int = DEFAULT_LIMIT,
    registry_file: Path | None = None,
    remote: str | None = None,
) -> HistoryResult:
    if limit < 0:
        raise UsageError(f"--limit {limit} is negative", hint="give a number of entries, or 0 for all")
    with Repository(repo_path) as repo:
        env, refs, head = open_branch(repo, env_name, registry_file, remote)
        found = entries(repo, head, limit=limit + 1 if limit else 0)
        more = bool(limit) and len(found) > limit
        found = with_files(repo, found[:limit] if limit else found)
        return HistoryResult(env, refs.ref(env.branch), head, found, limit, more)
