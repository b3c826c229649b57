"""`gitops promote SRC` without a target: one promotion per environment of the next position.

Each target is promoted on its own (its own commit, freeze window, drift guard and policies);
a refusal for one is recorded and the others go on. The caller passes the function that
promotes into one target, so this module knows nothing of git or of the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from gitops_promote.errors import EXIT_OK, GitopsError


class Result(Protocol):
    def to_json(self) -> dict[str, Any]: ...


@dataclass
class TargetOutcome:
    """One target's promotion: its result, or the error that refused or stopped it."""

    target: str
    result: Result | None = None
    error: GitopsError | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.error is None else self.error.exit_code

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "ok": self.error is None,
            "exit_code": self.exit_code,
            "error": None if self.error is None else self.error.message,
            "hint": None if self.error is None else self.error.hint or None,
            "result": None if self.result is None else self.result.to_json(),
        }


@dataclass
class FanoutResult:
    source: str
    outcomes: list[TargetOutcome] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when every target went through, else the most serious failure (1: refused)."""
        return max((o.exit_code for o in self.outcomes), default=EXIT_OK)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "targets": [o.to_json() for o in self.outcomes],
            "exit_code": self.exit_code,
        }


def promote_each(source: str, targets: Sequence[str], promote_one: Callable[[str], Result]) -> FanoutResult:
    """Promote into every target in order; an expected failure of one does not stop the rest."""
    fanout = FanoutResult(source)
    for target in targets:
        try:
            fanout.outcomes.append(TargetOutcome(target, promote_one(target)))
        except GitopsError as exc:
            fanout.outcomes.append(TargetOutcome(target, getattr(exc, "result", None), exc))
    return fanout
