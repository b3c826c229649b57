"""`gitops verify ENV`: audit an environment branch's history (docs/commands/verify.md).

Every commit of the branch's first-parent line, newest first, down to the first promotion (or
`--depth N` commits, or those committed `--since DATE`): promotions are recomputed from their
parent and promoted commit and compared with what was committed, their promoted commit must be
on the source's history and signed as the environment's policy (at that time) requires;
rollbacks must restore an earlier promotion; any other commit may only edit the environment's
own files. Exit 0 when clean, 1 with findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from gitops_promote.adapters.git import CommitInfo, Repository
from gitops_promote.commands._audit import expected_promotion, promotion_trees, rollback_trees
from gitops_promote.commands._context import BranchRefs, bootstrap_registry, environment, registry_at
from gitops_promote.commands._engine import PromotionRequest, last_promotion, sync
from gitops_promote.commands._signatures import allowed_signers, check_signatures
from gitops_promote.core import audit
from gitops_promote.core.audit import AuditedCommit, AuditFinding
from gitops_promote.core.registry import Environment, Registry
from gitops_promote.core.signatures import SignatureStatus, judge
from gitops_promote.errors import ConfigError, GitopsError, UsageError
from gitops_promote.results.verify import VerifyResult

_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1 or SHA-256


@dataclass(frozen=True)
class VerifyRequest:
    environment: str
    since: str | None = None  # ISO date or date and time
    depth: int | None = None  # the newest N commits
    registry_file: Path | None = None
    remote: str | None = None
    fetch: bool = True


def run(repo_path: Path, request: VerifyRequest) -> VerifyResult:
    since = _since(request.since)
    if request.depth is not None and request.depth < 1:
        raise UsageError(f"--depth {request.depth} must be 1 or more")
    with Repository(repo_path) as repo:
        registry, env, refs, head = _open(repo, request)
        line = repo.log([head], first_parent=True)
        scoped, scope = _scope(repo, head, line, request.depth, since)
        auditor = _Auditor(repo, registry, env, refs, {c.sha for c in line})
        result = VerifyResult(env.codename, env.branch, refs.ref(env.branch), head, scope, env.signatures)
        result.commits = [auditor.audit(commit) for commit in scoped]
        if not scoped:
            result.notes.append(f"{env.branch} has no promotion commit in the range audited: nothing to verify")
        return result


def _since(text: str | None) -> datetime | None:
    """--since DATE as an aware datetime (a date or time without a zone is UTC)."""
    if text is None:
        return None
    try:
        moment = _parse_iso(text.strip())
    except ValueError:
        raise UsageError(
            f"--since {text!r} is not an ISO 8601 date", hint="e.g. --since 2026-11-01 or --since 2026-11-01T09:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)


def _open(repo: Repository, request: VerifyRequest) -> tuple[Registry, Environment, BranchRefs, str]:
    """The environment (from its own branch's registry), its upstream fetched too, its head."""
    registry = bootstrap_registry(repo, request.registry_file, [request.environment])
    env = environment(registry, request.environment)
    upstream = registry.upstream_of(env.codename)
    branches = [env.branch] + [u.branch for u in upstream]  # a group before it: every upstream
    sync_request = PromotionRequest(
        env.codename, env.codename, None, request.registry_file, request.remote, request.fetch
    )
    refs = sync(repo, sync_request, branches).refs
    head = repo.resolve_commit(refs.ref(env.branch))
    assert head is not None  # sync checked it
    if request.registry_file is None and (own := registry_at(repo, head, env.branch)) is not None:
        registry, env = own, own.get(env.codename) or env
    return registry, env, refs, head


def _scope(
    repo: Repository, head: str, line: list[CommitInfo], depth: int | None, since: datetime | None
) -> tuple[list[CommitInfo], str]:
    """The commits audited, newest first, and a phrase saying which."""
    if depth is None and since is None:
        oldest = max((i for i, c in enumerate(line) if audit.classify(c.trailers())[0] == audit.PROMOTION), default=-1)
        return line[: oldest + 1], "back to the first promotion"
    scoped = line
    if since is not None:
        dates = repo.committer_dates(head)
        scoped = [c for c in scoped if c.sha in dates and _parse_iso(dates[c.sha]) >= since]
    if depth is not None:
        scoped = scoped[:depth]
    parts = ([f"committed since {since.isoformat()}"] if since else []) + ([f"the newest {depth}"] if depth else [])
    return scoped, " and ".join(parts)


class _Auditor:
    def __init__(self, repo: Repository, registry: Registry, env: Environment, refs: BranchRefs, line: set[str]):
        self.repo, self.registry, self.env, self.refs, self.line = repo, registry, env, refs, line

    def audit(self, commit: CommitInfo) -> AuditedCommit:
        kind, source, referenced = audit.classify(commit.trailers())
        entry = AuditedCommit(commit.sha, kind, commit.subject, commit.author, commit.date, source, referenced)
        parent = commit.parents[0] if commit.parents else None
        if parent is None:
            return entry  # the branch's first commit: nothing it could have changed
        if kind == audit.PROMOTION:
            assert source is not None and referenced is not None
            entry.findings += self._promotion(commit, parent, source, referenced)
        elif kind == audit.ROLLBACK:
            assert referenced is not None
            entry.findings += self._rollback(commit, parent, referenced)
        else:
            entry.findings += self._direct(commit, parent)
        if kind != audit.DIRECT:
            entry.findings += self._own_signature(commit, parent)
        return entry

    # ---- promotions --------------------------------------------------------------------------
    def _promotion(self, commit: CommitInfo, parent: str, source: str, referenced: str) -> list[AuditFinding]:
        promoted = self.repo.resolve_commit(referenced) if _SHA.fullmatch(referenced) else None
        if promoted is None:
            message = f"its Promoted-Commit {referenced[:40]!r} is no commit of this repository (a forged trailer?)"
            return [AuditFinding(commit.sha, audit.MISSING_COMMIT, message)]
        found = self._origin(commit, source, promoted)
        try:
            apps = _promoted_apps(commit)
            plan = expected_promotion(self.repo, self.registry, source, self.env, parent, promoted, apps)
        except GitopsError as exc:
            message = f"the promotion rules cannot be applied to it: {exc.message}"
            return [*found, AuditFinding(commit.sha, audit.TREE_MISMATCH, message)]
        found += audit.tree_finding(commit.sha, *promotion_trees(self.repo, plan, promoted, commit.sha))
        return found + self._promoted_signatures(commit.sha, parent, source, promoted)

    def _origin(self, commit: CommitInfo, source: str, promoted: str) -> list[AuditFinding]:
        """The promoted commit is on the source's history, and the promotion's second parent."""
        found = []
        if len(commit.parents) > 1 and commit.parents[1] != promoted:
            message = f"its second parent {commit.parents[1][:12]} is not its Promoted-Commit {promoted[:12]}"
            found.append(AuditFinding(commit.sha, audit.WRONG_PARENT, message))
        src = self.registry.get(source)
        tip = self._branch_tip(src.branch) if src is not None else None
        if src is None or tip is None:
            message = f"Promoted-From names {source!r}, which is no environment whose branch is here"
            found.append(AuditFinding(commit.sha, audit.UNKNOWN_SOURCE, message))
        elif not self.repo.is_ancestor(promoted, tip):
            message = f"its Promoted-Commit {promoted[:12]} is not on {src.branch}'s history"
            found.append(AuditFinding(commit.sha, audit.NOT_ON_SOURCE, message))
        return found

    def _branch_tip(self, branch: str) -> str | None:
        return self.repo.resolve_commit(self.refs.ref(branch)) or self.repo.resolve_commit(f"refs/heads/{branch}")

    def _policy_entry(self, parent: str) -> Environment:
        """The environment's entry as its branch held it before the commit: the policy then."""
        then = registry_at(self.repo, parent, self.env.branch)
        return (then.get(self.env.codename) if then else None) or self.env

    def _promoted_signatures(self, commit: str, parent: str, source: str, promoted: str) -> list[AuditFinding]:
        entry = self._policy_entry(parent)
        if entry.signatures is None or not entry.signatures.require:
            return []
        base = last_promotion(self.repo, parent, promoted, source)
        pending = [c.sha for c in self.repo.log([*([f"^{base.source_commit}"] if base else []), promoted])]
        try:
            verdicts = check_signatures(self.repo, entry, parent, pending, promoted)
        except ConfigError as exc:
            return [AuditFinding(commit, audit.SIGNATURE, exc.message, detail="no-allowed-signers")]
        return [
            AuditFinding(commit, audit.SIGNATURE, f"promoted commit {v.describe()}", detail=v.kind) for v in verdicts
        ]

    def _own_signature(self, commit: CommitInfo, parent: str) -> list[AuditFinding]:
        """Promotion and rollback commits themselves are signed by an allowed signer too."""
        entry = self._policy_entry(parent)
        if entry.signatures is None or not entry.signatures.require:
            return []
        try:
            statuses: list[SignatureStatus] = self.repo.signature_status(
                [commit.sha], allowed_signers(self.repo, entry, parent)
            )
        except ConfigError as exc:
            return [AuditFinding(commit.sha, audit.SIGNATURE, exc.message, detail="no-allowed-signers")]
        kind = audit.classify(commit.trailers())[0]
        return [
            AuditFinding(commit.sha, audit.SIGNATURE, f"the {kind} commit itself: {v.message}", detail=v.kind)
            for v in judge(statuses)
        ]

    # ---- rollbacks and other commits ---------------------------------------------------------
    def _rollback(self, commit: CommitInfo, parent: str, referenced: str) -> list[AuditFinding]:
        restored = self.repo.resolve_commit(referenced) if _SHA.fullmatch(referenced) else None
        if restored is None or restored not in self.line or not self.repo.is_ancestor(restored, parent):
            message = f"its Rolled-Back-To {referenced[:40]!r} is no earlier commit of {self.env.branch}"
            return [AuditFinding(commit.sha, audit.BAD_ROLLBACK, message)]
        info = self.repo.log([restored], limit=1)[0]
        if audit.classify(info.trailers())[0] != audit.PROMOTION:
            message = f"its Rolled-Back-To {restored[:12]} is not a promotion commit"
            return [AuditFinding(commit.sha, audit.BAD_ROLLBACK, message)]
        candidates, actual = rollback_trees(self.repo, self.registry, self.env, parent, restored, commit.sha)
        return audit.rollback_finding(commit.sha, candidates, actual, restored)

    def _direct(self, commit: CommitInfo, parent: str) -> list[AuditFinding]:
        """Owned paths by the registry the branch held before the commit (a commit cannot
        make its own edit legitimate by adding an env_specific pattern)."""
        registry = registry_at(self.repo, parent, self.env.branch) or self.registry
        changed = sorted(self.repo.changed_paths(parent, commit.sha))  # one diff-tree, no listing
        return audit.direct_edit_findings(commit.sha, changed, registry.owned_paths(self.env.codename).owns)


def _promoted_apps(commit: CommitInfo) -> tuple[str, ...]:
    """A partial promotion's apps (Promoted-Apps), () for a promotion of the whole branch."""
    from gitops_promote.core.apps import PROMOTED_APPS, parse_trailer

    value = commit.trailers().get(PROMOTED_APPS)
    return tuple(parse_trailer(value[0])) if value else ()
