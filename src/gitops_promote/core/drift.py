"""The drift guard, as pure decisions over data gathered from git.

A direct change on the target branch is *drift* when a promotion would overwrite it and its
content never existed upstream: the target's version of the path differs from the promotion's
result and from every version of that path in the source's history since the last promotion.
A fix made the same way on both branches, or a return to content that was promoted before,
is not drift.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from gitops_promote.core.tree import TreeEntry

PROMOTED_FROM = "Promoted-From"
PROMOTED_COMMIT = "Promoted-Commit"
ROLLED_BACK_TO = "Rolled-Back-To"


class Drift(NamedTuple):
    path: str
    commits: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "commits": list(self.commits)}


def drift_candidates(
    touched: Mapping[str, list[str]],
    target: Mapping[str, TreeEntry],
    result: Mapping[str, TreeEntry],
    owned: Callable[[str], bool],
) -> dict[str, list[str]]:
    """Paths changed directly on the target that the promotion would change again."""
    return {
        path: commits for path, commits in touched.items() if not owned(path) and target.get(path) != result.get(path)
    }


def find_drift(
    candidates: Mapping[str, list[str]],
    target: Mapping[str, TreeEntry],
    upstream_versions: Mapping[str, set[str | None]],
    same_content: Callable[[str, str | None, set[str | None]], bool] | None = None,
) -> list[Drift]:
    """Candidates whose target content is none of the versions upstream ever had.

    `same_content(path, target_sha, upstream_shas)` may widen equality (e.g. ignoring
    environment-specific keys inside a file).
    """
    drift = []
    for path, commits in sorted(candidates.items()):
        entry = target.get(path)
        version = entry.sha if entry else None
        known = upstream_versions.get(path, set())
        if version in known:
            continue
        if same_content is not None and same_content(path, version, known):
            continue
        drift.append(Drift(path, tuple(commits)))
    return drift
