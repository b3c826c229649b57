"""`gitops attest ENV [COMMIT]` and `gitops promote --attest FILE`: in-toto Statements.

The Statement (core/attestation.py) says what a promotion commit did: which commit of which
source it promoted onto which previous target commit, and the files by action. For an existing
promotion the files are recomputed with the promotion rules (the same ones `gitops verify`
checks); `promote --attest` also knows what only the promotion itself saw: the drift it
discarded and the digest of the saved plan it applied.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_promote import __version__
from gitops_promote.adapters.git import CommitInfo, Repository
from gitops_promote.commands._audit import expected_promotion
from gitops_promote.commands._context import bootstrap_registry, environment, registry_at
from gitops_promote.commands._engine import PromotionRequest, sync
from gitops_promote.core import audit
from gitops_promote.core.apps import PROMOTED_APPS, parse_trailer
from gitops_promote.core.attestation import PromotionFacts, sha256_hex, statement
from gitops_promote.core.freeze import TRAILER_KEY as FREEZE_OVERRIDE
from gitops_promote.core.promotion import FileAction
from gitops_promote.core.registry import Environment, Registry
from gitops_promote.errors import ConfigError, UsageError

_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1 or SHA-256


@dataclass(frozen=True)
class AttestRequest:
    environment: str
    commit: str | None = None  # a promotion commit of ENV; None: its newest promotion
    registry_file: Path | None = None
    remote: str | None = None
    fetch: bool = True


@dataclass
class AttestResult:
    statement: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return self.statement


def run(repo_path: Path, request: AttestRequest) -> AttestResult:
    with Repository(repo_path) as repo:
        registry, env, head = _open(repo, request)
        commit = _promotion_commit(repo, env, head, request.commit)
        _kind, source, referenced = audit.classify(commit.trailers())
        assert source is not None and referenced is not None
        promoted = repo.resolve_commit(referenced) if _SHA.fullmatch(referenced) else None
        if promoted is None:
            raise UsageError(
                f"{commit.sha[:12]}'s Promoted-Commit {referenced[:40]!r} is no commit of this repository",
                hint=f"gitops verify {env.codename} audits the branch; attest only what it finds clean",
            )
        apps = parse_trailer(commit.trailers().get(PROMOTED_APPS, [""])[0])
        plan = expected_promotion(repo, registry, source, env, commit.parents[0], promoted, apps)
        src = registry.get(source)
        facts = PromotionFacts(
            source=source,
            source_branch=src.branch if src is not None else source,
            target=env.codename,
            target_branch=env.branch,
            commit=commit.sha,
            previous_target_commit=commit.parents[0],
            promoted_commit=promoted,
            files=plan.actions,
            tool_version=__version__,
            freeze_override=_freeze_override(commit),
        )
        return AttestResult(statement(facts))


def _open(repo: Repository, request: AttestRequest) -> tuple[Registry, Environment, str]:
    registry = bootstrap_registry(repo, request.registry_file, [request.environment])
    env = environment(registry, request.environment)
    sync_request = PromotionRequest(
        env.codename, env.codename, None, request.registry_file, request.remote, request.fetch
    )
    refs = sync(repo, sync_request, [env.branch]).refs
    head = repo.resolve_commit(refs.ref(env.branch))
    assert head is not None  # sync checked it
    if request.registry_file is None and (own := registry_at(repo, head, env.branch)) is not None:
        registry, env = own, own.get(env.codename) or env
    return registry, env, head


def _promotion_commit(repo: Repository, env: Environment, head: str, wanted: str | None) -> CommitInfo:
    """The promotion commit named (which must be on ENV's first-parent line), else the newest."""
    line = repo.log([head], first_parent=True)
    promotions = [c for c in line if audit.classify(c.trailers())[0] == audit.PROMOTION and c.parents]
    if wanted is None:
        if not promotions:
            raise UsageError(f"{env.branch} has no promotion commit to attest")
        return promotions[0]
    sha = repo.resolve_commit(wanted) if not wanted.startswith("-") else None
    found = next((c for c in promotions if c.sha == sha), None)
    if found is None:
        raise UsageError(
            f"{wanted!r} is not a promotion commit of {env.branch}",
            hint=f"gitops history {env.codename} lists its promotions",
        )
    return found


def _freeze_override(commit: CommitInfo) -> str | None:
    values = commit.trailers().get(FREEZE_OVERRIDE)
    return values[0] if values else None


# ---- promote --attest FILE -------------------------------------------------------------------


def for_promotion(
    repo_path: Path, promotion: Mapping[str, Any], plan_file: Path | None, registry_file: Path | None, out: Path
) -> bool:
    """Write the Statement of the promotion `gitops promote` just made (its JSON result).

    False (nothing written) when the run wrote no commit: nothing to promote, or a dry run.
    """
    commit = promotion.get("target_commit")
    made = promotion.get("promoted") or (promotion.get("pr_branch") and promotion.get("pushed"))
    if not made or not isinstance(commit, str):
        return False
    with Repository(repo_path) as repo:
        registry = bootstrap_registry(repo, registry_file, [promotion["source"]])
        src, dst = environment(registry, promotion["source"]), environment(registry, promotion["target"])
        info = repo.log([commit], limit=1)[0]
    drift = [d["path"] for d in promotion.get("drift", [])] if promotion.get("drift_discarded") else []
    facts = PromotionFacts(
        source=src.codename,
        source_branch=src.branch,
        target=dst.codename,
        target_branch=dst.branch,
        commit=commit,
        previous_target_commit=promotion["target_commit_before"],
        promoted_commit=promotion["source_commit"],
        files=[FileAction(f["path"], f["action"]) for f in promotion.get("files", [])],
        tool_version=__version__,
        drift_discarded=drift,
        freeze_override=_freeze_override(info),
        plan_sha256=_digest(plan_file) if plan_file is not None else None,
        review_branch=promotion.get("pr_branch"),
    )
    write_statement(statement(facts), out)
    return True


def _digest(path: Path) -> str:
    try:
        return sha256_hex(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read the saved plan {path} to record its digest: {exc.strerror}") from None


def write_statement(data: Mapping[str, Any], out: Path) -> None:
    try:
        out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the attestation to {out}: {exc.strerror}") from None
