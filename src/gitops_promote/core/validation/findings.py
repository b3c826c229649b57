"""Finding and the helpers every rule family uses to make one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitops_promote.adapters.yaml_nodes import (
    DataPath,
)
from gitops_promote.core import secrets
from gitops_promote.errors import Location, Problem

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

ERROR, WARNING, NOTICE = "error", "warning", "notice"


SEVERITIES = (ERROR, WARNING, NOTICE)


FileSource = bytes | Callable[[], bytes]


@dataclass(frozen=True)
class Finding:
    """One result of validation; `line`/`column` are 1-based, 0 when unknown."""

    rule: str
    severity: str
    file: str
    line: int
    column: int
    message: str
    hint: str = ""

    def location(self) -> Location:
        return Location(self.file, self.line, self.column)

    def to_problem(self) -> Problem:
        return Problem(f"[{self.rule}] {self.message}", self.location(), self.hint)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "hint": self.hint,
        }

    def __str__(self) -> str:
        return f"{self.location()}: {self.severity}: [{self.rule}] {self.message}"


def make_finding(rule: str, severity: str, file: str, where: tuple[int, int], message: str, hint: str = "") -> Finding:
    return Finding(rule, severity, file, where[0], where[1], message, hint)


def dotted(path: Iterable[Any]) -> str:
    """('spec', 'sources', 0, 'path') -> 'spec.sources[0].path'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def is_templated(value: Any) -> bool:
    """ApplicationSet/Helm placeholders are filled later; checks on them would be guesses."""
    return isinstance(value, str) and "{{" in value


def schema_error_path(error: ValidationError) -> tuple[DataPath, str]:
    """The offending field's path (the missing property for `required`) and a message."""
    path: DataPath = tuple(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [p for p in error.validator_value if p not in error.instance]
        if missing:
            return (*path, missing[0]), f"{dotted((*path, missing[0]))} is required but missing"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        extra = [p for p in error.instance if p not in allowed]
        if extra:
            return (*path, extra[0]), f"{dotted((*path, extra[0]))} is not a field of this kind"
    # Never jsonschema's own message: it quotes the value, which may be a secret.
    return path, f"{dotted(path)}: {secrets.schema_message(error.validator, error.validator_value, error.instance)}"
