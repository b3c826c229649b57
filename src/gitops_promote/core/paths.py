"""Environment-specific path patterns.

Pattern syntax (documented in docs/promotion-rules.md): paths relative to the repository root,
`/`-separated; `*` matches within one path component, `?` one character of a component,
`[abc]` a character class, `**` as a whole component any number of components (zero included);
`{env}` stands for the codename of the branch being written. A pattern without `{env}` is owned
by every environment's branch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

ENV_PLACEHOLDER = "{env}"
REGISTRY_FILE = "environments.yaml"  # at the root of every environment branch


def is_yaml_path(path: str) -> bool:
    """YAML we parse (diff, validate): `*.yaml`/`*.yml` in any case, outside Helm `templates/`
    directories (those hold Go templates, not YAML)."""
    parts = path.split("/")
    return parts[-1].lower().endswith((".yaml", ".yml")) and "templates" not in parts[:-1]


def pattern_problem(pattern: str) -> str | None:
    """Why a pattern is unusable, or None. Patterns may never reach outside the repository."""
    if not pattern.strip():
        return "is empty"
    if pattern.startswith("/") or re.match(r"^[A-Za-z]:", pattern):
        return "is absolute; write it relative to the repository root (e.g. apps/*/values-{env}.yaml)"
    if "\\" in pattern:
        return "contains a backslash; use '/' between directories"
    parts = pattern.split("/")
    if any(part in ("..", ".") for part in parts):
        return "contains a '.' or '..' component, which would point outside the path it names"
    if any(part == "" for part in parts):
        return "has an empty component ('//' or a trailing '/')"
    leftover = pattern.replace(ENV_PLACEHOLDER, "")
    if "{" in leftover or "}" in leftover:
        return "uses a placeholder other than {env}"
    if leftover.count("[") != leftover.count("]"):
        return "has an unbalanced '[' character class"
    return None


def _component_regex(component: str) -> str:
    out = []
    i = 0
    while i < len(component):
        c = component[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = component.index("]", i + 1)
            body = component[i + 1 : end]
            negate = body.startswith("!")
            body = re.escape(body[1:] if negate else body).replace("\\-", "-")
            out.append(f"[{'^' if negate else ''}{body}]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def glob_to_regex(pattern: str) -> str:
    parts = pattern.split("/")
    regex = ""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            regex += ".*" if last else "(?:[^/]+/)*"
        else:
            regex += _component_regex(part) + ("" if last else "/")
    return regex


def expand(pattern: str, env: str) -> str:
    """The pattern with `{env}` replaced by a literal codename (escaped for globbing)."""
    literal = re.sub(r"([*?\[\]])", r"[\1]", env)
    return pattern.replace(ENV_PLACEHOLDER, literal)


@dataclass(frozen=True)
class EnvSpecificPaths:
    """The paths a given environment's branch owns, from a list of patterns."""

    patterns: tuple[str, ...]
    env: str

    @cached_property
    def _regex(self) -> re.Pattern[str]:
        if not self.patterns:
            return re.compile(r"(?!)")
        body = "|".join(f"(?:{glob_to_regex(expand(p, self.env))})" for p in self.patterns)
        return re.compile(f"^(?:{body})$", re.DOTALL)

    def owns(self, path: str) -> bool:
        return self._regex.match(path) is not None

    def union(self, other_patterns: Iterable[str]) -> EnvSpecificPaths:
        merged = tuple(dict.fromkeys([*self.patterns, *other_patterns]))
        return EnvSpecificPaths(merged, self.env)
