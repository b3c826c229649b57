"""Signature policies applied to promotions (docs/signing.md).

The policy is the target's own: its entry in the registry committed on the target branch's tip,
and the allowed-signers file read from that same commit. A source branch can therefore neither
lift nor weaken the policy of the environment it promotes into.
"""

from __future__ import annotations

from collections.abc import Sequence

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._engine import Prepared
from gitops_promote.core.registry import Environment
from gitops_promote.core.signatures import SignatureFinding, commits_covered, judge
from gitops_promote.errors import ConfigError, RefusedError


def check_signatures(
    repo: Repository,
    target_registry_entry: Environment,
    target_commit: str,
    commits: Sequence[str],
    promoted: str | None = None,
) -> list[SignatureFinding]:
    """Findings for the commits a promotion of `promoted` brings (`commits`: the new ones)."""
    policy = target_registry_entry.signatures
    head = promoted or (commits[0] if commits else None)
    if policy is None or not policy.require or head is None:
        return []
    covered = commits_covered(policy, commits, head)
    allowed = allowed_signers(repo, target_registry_entry, target_commit)
    return judge(repo.signature_status(covered, allowed))


def allowed_signers(repo: Repository, entry: Environment, commit: str) -> bytes:
    """The allowed-signers file the policy names, as committed in `commit` (b"": none named)."""
    policy = entry.signatures
    if policy is None or policy.allowed_signers is None:
        return b""
    data = repo.read_file_at(commit, policy.allowed_signers)
    if data is None:
        raise ConfigError(
            f"{entry.branch}:{policy.allowed_signers} does not exist: {entry.codename}'s signatures.allowed_signers "
            f"names it (at {commit[:12]})",
            hint=f"commit the ssh allowed-signers file to {entry.branch} (docs/signing.md), or fix the path",
        )
    return data


def promotion_findings(prepared: Prepared) -> list[SignatureFinding]:
    """What the target's policy says about the promotion `prepared` describes."""
    if not prepared.changes_target:
        return []
    own = prepared.governance.target_registry  # the registry on the target's tip, if it has one
    entry = (own.get(prepared.target.codename) if own is not None else None) or prepared.target
    pending = [c.sha for c in prepared.commits]
    return check_signatures(prepared.repo, entry, prepared.target_commit, pending, prepared.source_commit)


def refuse_unsigned(prepared: Prepared) -> None:
    findings = promotion_findings(prepared)
    if findings:
        raise SignaturesRefused(prepared.target.codename, findings)


class SignaturesRefused(RefusedError):
    def __init__(self, target: str, findings: list[SignatureFinding]) -> None:
        super().__init__(
            f"refusing to promote into {target}: its signature policy refuses {len(findings)} commit(s):\n  "
            + "\n  ".join(f.describe() for f in findings),
            hint=f"sign those commits with a key in {target}'s allowed signers (docs/signing.md); "
            "there is no flag that skips the policy",
        )
        self.findings = findings
