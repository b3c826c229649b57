"""Environment-specific path patterns.

Pattern syntax (documented in docs/promotion-rules.md): paths relative to the repository root,
`/`-separated; `*` matches within one path component, `?` one character of a component,
`[abc]` / `[a-z]` / `[!abc]` a character class, `**` as a whole component any number of
components (zero included; as the last component, at least one); `{env}` stands for the
codename of the branch being written. A pattern without `{env}` is owned by every
environment's branch.

Patterns come from a file anyone who can push the source branch may edit, so matching must
never be exponential: `compile_glob` matches in time linear in path length x pattern length
(the classic wildcard algorithm, applied first to components with `**` as the star, then to
the characters of each component with `*` as the star), and `pattern_problem` validates every
character class when the registry is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple, TypeVar, Union

ENV_PLACEHOLDER = "{env}"
MAX_PATTERN_LENGTH = 1024


class PatternError(ValueError):
    """A pattern that cannot be used; the message completes "pattern 'x' ..."."""


@dataclass(frozen=True)
class _Class:
    """`[abc]`, `[a-z0-9]`, `[!x]`: single characters and inclusive ranges."""

    chars: frozenset[str]
    ranges: tuple[tuple[str, str], ...]
    negate: bool

    def __contains__(self, c: str) -> bool:
        found = c in self.chars or any(lo <= c <= hi for lo, hi in self.ranges)
        return found != self.negate and c != "/"


class _Star:
    """`*` in a component (any run of characters) or `**` in a path (any run of components)."""


STAR = _Star()
_ANY_CHAR = "?"
Token = Union[str, _Class, _Star]  # noqa: UP007 - a runtime alias on Python 3.10


def _parse_class(component: str, start: int) -> tuple[_Class, int]:
    """The class opening at `component[start] == '['`; returns it and the index after `]`."""
    end = component.find("]", start + 1)
    if end == -1:
        raise PatternError("has an unbalanced '[' character class")
    body = component[start + 1 : end]
    negate = body.startswith("!")
    body = body[1:] if negate else body
    if not body:
        raise PatternError(f"has an empty character class {component[start : end + 1]!r}")
    if "[" in body:
        raise PatternError(f"has a '[' inside the character class {component[start : end + 1]!r}")
    chars, ranges, i = set(), [], 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            lo, hi = body[i], body[i + 2]
            if lo > hi:
                raise PatternError(f"has the reversed range {lo + '-' + hi!r} in a character class")
            ranges.append((lo, hi))
            i += 3
        else:
            chars.add(body[i])
            i += 1
    return _Class(frozenset(chars), tuple(ranges), negate), end + 1


def parse_component(component: str) -> tuple[Token, ...]:
    """One path component of a pattern as tokens: characters, `?`, classes, `*` (runs merged)."""
    tokens: list[Token] = []
    i = 0
    while i < len(component):
        c = component[i]
        if c == "[":
            cls, i = _parse_class(component, i)
            tokens.append(cls)
            continue
        if c == "]":
            raise PatternError("has a ']' that closes no character class")
        if c == "*":
            if not tokens or tokens[-1] is not STAR:
                tokens.append(STAR)
        else:
            tokens.append(c)
        i += 1
    return tuple(tokens)


def _char_matches(token: Token, c: str) -> bool:
    if isinstance(token, _Class):
        return c in token
    return token == _ANY_CHAR or token == c


Item = TypeVar("Item")
Unit = TypeVar("Unit")


def _wildcard(items: Sequence[Item], units: Sequence[Unit], one: Callable[[Item, Unit], bool]) -> bool:
    """Whether `items` (STAR or single-unit matchers) match all of `units`.

    Greedy with one backtrack point (the last star): O(len(units) x len(items)), never
    exponential, however many stars.
    """
    i = u = 0
    star, mark = -1, 0
    while u < len(units):
        if i < len(items) and items[i] is STAR:
            star, mark = i, u
            i += 1
        elif i < len(items) and one(items[i], units[u]):
            i += 1
            u += 1
        elif star >= 0:
            i, mark = star + 1, mark + 1
            u = mark
        else:
            return False
    while i < len(items) and items[i] is STAR:
        i += 1
    return i == len(items)


def _component_matches(tokens: tuple[Token, ...], component: str) -> bool:
    return _wildcard(tokens, component, _char_matches)


class Glob(NamedTuple):
    """A compiled pattern (after `{env}` is filled in)."""

    pattern: str
    parts: tuple[tuple[Token, ...] | _Star, ...]

    def matches(self, path: str) -> bool:
        return _wildcard(self.parts, path.split("/"), _component_matches)  # type: ignore[arg-type]


def compile_glob(pattern: str) -> Glob:
    """Compile a pattern (raises PatternError); `{env}` must already be expanded."""
    parts: list[tuple[Token, ...] | _Star] = []
    components = pattern.split("/")
    for index, component in enumerate(components):
        if component == "**":
            if index == len(components) - 1:
                parts.append((STAR,))  # a trailing `**` needs at least one component
            if not parts or parts[-1] is not STAR:
                parts.append(STAR)
        else:
            parts.append(parse_component(component))
    return Glob(pattern, tuple(parts))


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
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"is longer than {MAX_PATTERN_LENGTH} characters"
    if pattern.startswith("/") or re.match(r"^[A-Za-z]:", pattern):
        return "is absolute; write it relative to the repository root (e.g. apps/*/values-{env}.yaml)"
    if "\\" in pattern:
        return "contains a backslash; use '/' between directories"
    if any(c < " " or c == "\x7f" for c in pattern):
        return "contains a control character"
    parts = pattern.split("/")
    if any(part in ("..", ".") for part in parts):
        return "contains a '.' or '..' component, which would point outside the path it names"
    if any(part == "" for part in parts):
        return "has an empty component ('//' or a trailing '/')"
    leftover = pattern.replace(ENV_PLACEHOLDER, "")
    if "{" in leftover or "}" in leftover:
        return "uses a placeholder other than {env}"
    if any("[" in part and "]" not in part for part in leftover.split("/")):
        return "has a '[' character class that spans a '/' or is not closed (a class matches one character)"
    try:
        compile_glob(expand(pattern, "env"))
    except PatternError as exc:
        return str(exc)
    return None


def _token_regex(token: Token) -> str:
    if token is STAR:
        return "[^/]*"
    if isinstance(token, _Class):
        body = "".join(re.escape(c) for c in sorted(token.chars))
        body += "".join(f"{re.escape(lo)}-{re.escape(hi)}" for lo, hi in token.ranges)
        return f"[{'^' if token.negate else ''}{body}]"
    return "[^/]" if token == _ANY_CHAR else re.escape(str(token))


def glob_to_regex(pattern: str) -> str:
    """The pattern as a regular expression (for callers that need one). Prefer
    `compile_glob(...).matches`: a regex with many `**` backtracks exponentially."""
    parts = pattern.split("/")
    regex = ""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            regex += ".*" if last else "(?:[^/]+/)*"
        else:
            regex += "".join(_token_regex(t) for t in parse_component(part)) + ("" if last else "/")
    return regex


def expand(pattern: str, env: str) -> str:
    """The pattern with `{env}` replaced by a literal codename (escaped for globbing)."""
    literal = re.sub(r"([*?\[\]])", r"[\1]", env)
    return pattern.replace(ENV_PLACEHOLDER, literal)


def _is_simple(glob: Glob) -> bool:
    """At most one `**` and one `*` per component: Python's regex cannot blow up on it."""
    stars = glob.pattern.split("/").count("**")  # before compile_glob merged `**/**`
    components = [p for p in glob.parts if isinstance(p, tuple)]
    return stars <= 1 and all(sum(1 for t in p if t is STAR) <= 1 for p in components)


@dataclass(frozen=True)
class EnvSpecificPaths:
    """The paths a given environment's branch owns, from a list of patterns."""

    patterns: tuple[str, ...]
    env: str

    @cached_property
    def _globs(self) -> tuple[Glob, ...]:
        return tuple(compile_glob(expand(p, self.env)) for p in self.patterns)

    @cached_property
    def _regex(self) -> re.Pattern[str]:
        """The simple patterns as one regex (fast in C); the others go through `Glob.matches`."""
        simple = [g.pattern for g in self._globs if _is_simple(g)]
        if not simple:
            return re.compile(r"(?!)")
        body = "|".join(f"(?:{glob_to_regex(p)})" for p in simple)
        return re.compile(f"^(?:{body})$", re.DOTALL)

    @cached_property
    def _complex(self) -> tuple[Glob, ...]:
        return tuple(g for g in self._globs if not _is_simple(g))

    def owns(self, path: str) -> bool:
        if self._regex.match(path) is not None:
            return True
        return any(g.matches(path) for g in self._complex)

    def union(self, other_patterns: Iterable[str]) -> EnvSpecificPaths:
        merged = tuple(dict.fromkeys([*self.patterns, *other_patterns]))
        return EnvSpecificPaths(merged, self.env)
