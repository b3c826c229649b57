"""in-toto attestations of promotions: a Statement v1 whose subject is the promotion commit.

Pure: the facts come in as plain data (gathered by commands/attest.py), the Statement goes out
as a dict ready for `json.dumps`. The predicate's shape is documented in docs/signing.md under
PREDICATE_TYPE; new keys may be added, none is renamed or removed within v1.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gitops_promote.core.promotion import ACTIONS, FileAction

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://gitops-promote.dev/promotion/v1"
TOOL = "gitops-promote"


@dataclass(frozen=True)
class PromotionFacts:
    """Everything a promotion attestation states."""

    source: str
    source_branch: str
    target: str
    target_branch: str
    commit: str  # the promotion commit: the Statement's subject
    previous_target_commit: str
    promoted_commit: str
    files: Sequence[FileAction]
    tool_version: str
    drift_discarded: Sequence[str] | None = None  # None: not known (attest of an existing commit)
    freeze_override: str | None = None  # the reason given with --override-freeze
    plan_sha256: str | None = None  # digest of the saved plan applied with --plan
    review_branch: str | None = None  # --pr: where the commit waits for review


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def statement(facts: PromotionFacts) -> dict[str, Any]:
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": facts.target_branch, "digest": {"gitCommit": facts.commit}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate(facts),
    }


def predicate(facts: PromotionFacts) -> dict[str, Any]:
    return {
        "source": {"environment": facts.source, "branch": facts.source_branch, "commit": facts.promoted_commit},
        "target": {
            "environment": facts.target,
            "branch": facts.target_branch,
            "previousCommit": facts.previous_target_commit,
            "commit": facts.commit,
        },
        "promotedCommit": facts.promoted_commit,
        "previousTargetCommit": facts.previous_target_commit,
        "files": files_by_action(facts.files),
        "driftDiscarded": None if facts.drift_discarded is None else sorted(facts.drift_discarded),
        "freezeOverride": {"overridden": facts.freeze_override is not None, "reason": facts.freeze_override},
        "plan": None if facts.plan_sha256 is None else {"digest": {"sha256": facts.plan_sha256}},
        "reviewBranch": facts.review_branch,
        "tool": {"name": TOOL, "version": facts.tool_version},
    }


def files_by_action(files: Sequence[FileAction]) -> dict[str, list[str]]:
    """Paths under each action (every action listed, empty when nothing had it)."""
    grouped: dict[str, list[str]] = {action: [] for action in ACTIONS}
    for action in files:
        grouped[action.action].append(action.path)
    return {action: sorted(paths) for action, paths in grouped.items()}
