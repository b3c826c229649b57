"""What `gitops envs` returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_promote.core.registry import Environment, Registry


@dataclass(frozen=True)
class EnvRow:
    environment: Environment
    head: str | None
    head_ref: str | None

    def to_json(self) -> dict[str, Any]:
        return {**self.environment.to_json(), "head": self.head, "head_ref": self.head_ref}


@dataclass(frozen=True)
class EnvsResult:
    registry: Registry
    rows: list[EnvRow]

    def to_json(self) -> dict[str, Any]:
        return {
            "registry": self.registry.source,
            "order": list(self.registry.order),
            "positions": [list(group) for group in self.registry.positions],
            "env_specific": list(self.registry.env_specific),
            "environments": [row.to_json() for row in self.rows],
        }
