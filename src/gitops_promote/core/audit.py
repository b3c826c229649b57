"""`gitops verify`'s judgements, as pure functions over data read from git.

An environment branch's first-parent line is audited commit by commit. A *promotion* (trailers
Promoted-From/Promoted-Commit) must name a commit of its source's history, and its tree must be
what the promotion rules give for (its first parent, that commit); a *rollback* (Rolled-Back-To)
must restore an earlier promotion of the branch; any *other* commit may edit the environment's
own files only: an edit of a promoted file is drift. Signature verdicts come from
core/signatures.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitops_promote.core.drift import PROMOTED_COMMIT, PROMOTED_FROM, ROLLED_BACK_TO
from gitops_promote.core.tree import TreeEntry
from gitops_promote.core.words import listed

PROMOTION, ROLLBACK, DIRECT = "promotion", "rollback", "direct"

# Finding kinds (docs/commands/verify.md)
MISSING_COMMIT = "missing-promoted-commit"
NOT_ON_SOURCE = "not-on-source"
UNKNOWN_SOURCE = "unknown-source"
WRONG_PARENT = "wrong-parent"
TREE_MISMATCH = "tree-mismatch"
DRIFT = "drift"
BAD_ROLLBACK = "bad-rollback-target"
ROLLBACK_MISMATCH = "rollback-tree-mismatch"
SIGNATURE = "signature"  # the finding's `detail` is the signature verdict (core/signatures.py)

MAX_PATHS = 20


@dataclass(frozen=True)
class AuditFinding:
    commit: str
    kind: str
    message: str
    paths: tuple[str, ...] = ()
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "kind": self.kind,
            "message": self.message,
            "paths": list(self.paths),
            "detail": self.detail,
        }


@dataclass
class AuditedCommit:
    commit: str
    kind: str
    subject: str
    author: str
    date: str
    source: str | None = None  # promotion: Promoted-From
    promoted_commit: str | None = None  # promotion: Promoted-Commit; rollback: Rolled-Back-To
    findings: list[AuditFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "kind": self.kind,
            "subject": self.subject,
            "author": self.author,
            "date": self.date,
            "source": self.source,
            "promoted_commit": self.promoted_commit,
            "ok": self.ok,
            "findings": [f.to_json() for f in self.findings],
        }


def classify(trailers: Mapping[str, Sequence[str]]) -> tuple[str, str | None, str | None]:
    """(kind, source environment, referenced commit) of a commit, from its trailers."""
    if trailers.get(ROLLED_BACK_TO):
        return ROLLBACK, None, trailers[ROLLED_BACK_TO][0]
    if trailers.get(PROMOTED_COMMIT) and trailers.get(PROMOTED_FROM):
        return PROMOTION, trailers[PROMOTED_FROM][0], trailers[PROMOTED_COMMIT][0]
    return DIRECT, None, None


def differing_paths(expected: Mapping[str, TreeEntry], actual: Mapping[str, TreeEntry]) -> list[str]:
    return sorted(p for p in {*expected, *actual} if expected.get(p) != actual.get(p))


def tree_finding(commit: str, expected: Mapping[str, TreeEntry], actual: Mapping[str, TreeEntry]) -> list[AuditFinding]:
    """A promotion whose tree is not the rules' result: edited by hand, or a forged trailer."""
    paths = differing_paths(expected, actual)
    if not paths:
        return []
    return [
        AuditFinding(
            commit,
            TREE_MISMATCH,
            f"the tree is not what the promotion rules give for its parent and promoted commit: "
            f"{_listed(paths)} differ (edited by hand, or a forged trailer)",
            tuple(paths),
        )
    ]


def rollback_finding(
    commit: str, candidates: Sequence[Mapping[str, TreeEntry]], actual: Mapping[str, TreeEntry], restored: str
) -> list[AuditFinding]:
    """A rollback must restore the content of the promotion it names (env files kept or not)."""
    if any(not differing_paths(tree, actual) for tree in candidates):
        return []
    paths = differing_paths(candidates[0], actual) if candidates else []
    return [
        AuditFinding(
            commit,
            ROLLBACK_MISMATCH,
            f"does not restore the content of {restored[:12]}: {_listed(paths)} differ",
            tuple(paths),
        )
    ]


def direct_edit_findings(commit: str, changed: Sequence[str], owned: Callable[[str], bool]) -> list[AuditFinding]:
    """A commit that is neither promotion nor rollback may change the environment's own files."""
    promoted = sorted(p for p in changed if not owned(p))
    if not promoted:
        return []
    return [
        AuditFinding(
            commit,
            DRIFT,
            f"changes promoted files directly (drift): {_listed(promoted)}",
            tuple(promoted),
        )
    ]


def _listed(paths: Sequence[str]) -> str:
    return listed(paths, MAX_PATHS)
