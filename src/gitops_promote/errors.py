"""One domain error type per exit code; the CLI turns them into messages and exit codes.

Exit codes across the whole CLI (documented in docs/exit-codes.md):
0 success, 1 refused or findings, 2 usage or configuration error,
3 operational failure (git, remote, lost race), 4 internal bug, 130 interrupted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_OPERATIONAL = 3
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130


class Location(NamedTuple):
    """Where in a file a problem is (1-based line and column; 0 means unknown)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line and self.column:
            return f"{self.file}:{self.line}:{self.column}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file


class Problem(NamedTuple):
    """One finding: what is wrong, where, and how to fix it."""

    message: str
    location: Location | None = None
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        hint = f"\n  hint: {self.hint}" if self.hint else ""
        return f"{where}{self.message}{hint}"


class GitopsError(Exception):
    """Base of every expected failure. `exit_code` says how the CLI ends."""

    exit_code = EXIT_OPERATIONAL

    def __init__(self, message: str, hint: str = "", problems: list[Problem] | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.problems = problems or []

    def __str__(self) -> str:
        lines = [self.message]
        lines += [f"  {p}" for p in self.problems]
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


class RefusedError(GitopsError):
    """The operation is possible but refused to protect something (drift, freeze, moved plan)."""

    exit_code = EXIT_REFUSED


class UsageError(GitopsError):
    """Bad arguments: unknown environment, a step that is not allowed, an option-like name."""

    exit_code = EXIT_USAGE


class ConfigError(GitopsError):
    """The registry (or another configuration file) is invalid."""

    exit_code = EXIT_USAGE


class GitError(GitopsError):
    """git failed: a missing object, a refused push, an unreachable remote, a lost race."""

    exit_code = EXIT_OPERATIONAL


@dataclass
class Findings:
    """Accumulates problems so that a whole file is reported at once, not its first error."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, message: str, location: Location | None = None, hint: str = "") -> None:
        self.problems.append(Problem(message, location, hint))

    def __bool__(self) -> bool:
        return bool(self.problems)
