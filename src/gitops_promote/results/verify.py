"""What `gitops verify` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitops_promote.core.audit import AuditedCommit, AuditFinding
from gitops_promote.core.signatures import SignaturePolicy
from gitops_promote.errors import EXIT_OK, EXIT_REFUSED


@dataclass
class VerifyResult:
    environment: str
    branch: str
    ref: str
    head: str
    scope: str
    policy: SignaturePolicy | None
    commits: list[AuditedCommit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[AuditFinding]:
        return [f for c in self.commits for f in c.findings]

    @property
    def exit_code(self) -> int:
        return EXIT_REFUSED if self.findings else EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "branch": self.branch,
            "ref": self.ref,
            "head": self.head,
            "scope": self.scope,
            "policy": None if self.policy is None else self.policy.to_json(),
            "clean": not self.findings,
            "commits": [c.to_json() for c in self.commits],
            "findings": [f.to_json() for f in self.findings],
            "notes": self.notes,
        }
