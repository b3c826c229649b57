"""What `gitops validate` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitops_promote.core.validation import ERROR, NOTICE, WARNING, Finding

JSON_SCHEMA_VERSION = 1  # of `validate --output json`


@dataclass
class EnvReport:
    env: str
    branch: str
    commit: str | None  # None: the working tree was validated
    ref: str  # where the files came from: refs/remotes/origin/stg, refs/heads/stg, or "worktree"
    registry: str  # where the registry came from
    findings: list[Finding] = field(default_factory=list)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "branch": self.branch,
            "commit": self.commit,
            "ref": self.ref,
            "registry": self.registry,
            "errors": self.count(ERROR),
            "warnings": self.count(WARNING),
            "notices": self.count(NOTICE),
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass
class ValidateResult:
    environments: list[EnvReport]
    remote: str | None = None
    worktree: str | None = None

    def count(self, severity: str) -> int:
        return sum(r.count(severity) for r in self.environments)

    @property
    def exit_code(self) -> int:
        return 1 if self.count(ERROR) else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": JSON_SCHEMA_VERSION,
            "environments": [r.to_json() for r in self.environments],
            "errors": self.count(ERROR),
            "warnings": self.count(WARNING),
            "notices": self.count(NOTICE),
        }
