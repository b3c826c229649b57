"""The environment registry (`environments.yaml`): model and validation.

Validation reports every problem of the file at once, each with file, line and column and a
hint, so that a broken registry is fixed in one edit rather than one error per run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

from gitops_promote.core.freeze import FREEZE, WINDOWS, validate_windows
from gitops_promote.core.lookup import closest, node_position
from gitops_promote.core.paths import REGISTRY_FILE as REGISTRY_FILE  # re-exported: the commands read it here
from gitops_promote.core.paths import EnvSpecificPaths, pattern_problem
from gitops_promote.core.refnames import branch_name_problem
from gitops_promote.core.signatures import SignaturePolicy, parse_policy
from gitops_promote.errors import ConfigError, Findings, Location

ENV_KEYS = {"codename", "name", "branch", "audience", "availability", "persistence", "backups", "freeze", "windows"}
ENV_KEYS |= {"signatures"}  # core/signatures.py
TOP_KEYS = {"environments", "promotion"}
PROMOTION_KEYS = {"order", "env_specific", "env_specific_keys"}
PERSISTENCE = ("ephemeral", "persistent")
# The registry lists environments, not tenants: above this many, refuse (exit 2) rather than
# slow every command down (docs/registry.md).
MAX_ENVIRONMENTS = 1000
MAX_REGISTRY_BYTES = 1024 * 1024
CODENAME = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?$")
AVAILABILITY = re.compile(r"^(?:100(?:\.0+)?|\d{1,2}(?:\.\d+)?)%$")


class Backups(NamedTuple):
    enabled: bool
    policy: str | None = None

    def describe(self) -> str:
        if not self.enabled:
            return "no"
        return f"yes (policy: {self.policy})" if self.policy else "yes"

    def to_json(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "policy": self.policy}


class Environment(NamedTuple):
    codename: str
    name: str
    branch: str
    audience: tuple[str, ...] = ()
    availability: str | None = None
    persistence: str = "ephemeral"
    backups: Backups = Backups(False)
    # Raw freeze/windows entries; their own module validates and evaluates them.
    freeze: tuple[Any, ...] = ()
    windows: tuple[Any, ...] = ()
    line: int = 0
    signatures: SignaturePolicy | None = None  # core/signatures.py; None: no policy

    def to_json(self) -> dict[str, Any]:
        return {
            "codename": self.codename,
            "name": self.name,
            "branch": self.branch,
            "audience": list(self.audience),
            "availability": self.availability,
            "persistence": self.persistence,
            "backups": self.backups.to_json(),
        }


@dataclass(frozen=True)
class Registry:
    """A valid registry: its environments, their promotion graph and env-specific paths."""

    environments: tuple[Environment, ...]
    order: tuple[str, ...]  # every environment, position by position (docs/environment-graph.md)
    env_specific: tuple[str, ...]
    env_specific_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = REGISTRY_FILE
    # The promotion graph: each position holds the environments fed by the same upstream
    # position. Empty means one environment per position (the linear order).
    positions: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        if not self.positions:
            object.__setattr__(self, "positions", tuple((name,) for name in self.order))

    @cached_property
    def _by_codename(self) -> dict[str, Environment]:
        return {e.codename: e for e in reversed(self.environments)}  # the first one wins

    @cached_property
    def _by_branch(self) -> dict[str, Environment]:
        return {e.branch: e for e in reversed(self.environments)}

    def get(self, codename: str) -> Environment | None:
        return self._by_codename.get(codename)

    def by_branch(self, branch: str) -> Environment | None:
        return self._by_branch.get(branch)

    def ordered(self) -> list[Environment]:
        return [e for name in self.order if (e := self.get(name)) is not None]

    def position_of(self, codename: str) -> int:
        """The index of the position holding `codename` (ValueError when it has none)."""
        for index, group in enumerate(self.positions):
            if codename in group:
                return index
        raise ValueError(codename)

    def upstream_of(self, codename: str) -> tuple[Environment, ...]:
        """The environments promoting into `codename`: the position before (none for the first)."""
        index = self.position_of(codename)
        return self._envs(self.positions[index - 1]) if index > 0 else ()

    def next_environments(self, codename: str) -> tuple[Environment, ...]:
        """The environments `codename` promotes into: the next position (none for the last)."""
        index = self.position_of(codename)
        return self._envs(self.positions[index + 1]) if index + 1 < len(self.positions) else ()

    def _envs(self, names: tuple[str, ...]) -> tuple[Environment, ...]:
        return tuple(e for name in names if (e := self.get(name)) is not None)

    def owned_paths(self, codename: str) -> EnvSpecificPaths:
        return EnvSpecificPaths(self.env_specific, codename)

    def allows(self, source: str, target: str) -> bool:
        """Is SOURCE → TARGET a step: TARGET in the position right after SOURCE's?"""
        try:
            return self.position_of(target) == self.position_of(source) + 1
        except ValueError:
            return False

    def allowed_steps(self) -> list[tuple[str, str]]:
        """Every environment of a position to every environment of the next one."""
        return [
            (src, dst)
            for upstream, downstream in zip(self.positions, self.positions[1:], strict=False)
            for src in upstream
            for dst in downstream
        ]

    def describe_order(self) -> str:
        """The order as people read it: `dev → stg → {prd-eu, prd-us}`."""
        return " → ".join(_describe_group(g) for g in self.positions)


# ---------------------------------------------------------------------------------------------
# parsing


def parse_registry(text: str | bytes, source: str = REGISTRY_FILE) -> Registry:
    """Parse and validate a registry; raise ConfigError listing every problem with its line.

    Every command reads the registry (often the same blob from two branches), so a valid one
    is parsed once with PyYAML's C loader; ruamel's slower round-trip parse, which knows
    lines and columns, only runs to report problems.
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    if len(data) > MAX_REGISTRY_BYTES:
        raise ConfigError(
            f"{source}: the registry is {len(data):,} bytes; at most {MAX_REGISTRY_BYTES:,} are read",
            hint=f"a registry lists at most {MAX_ENVIRONMENTS:,} environments, which takes far less",
        )
    fast = _parse_valid(data)
    if fast is not None:
        return replace(fast, source=source)
    _refuse_too_many(data, source)
    return _parse_with_positions(text, source)


def _refuse_too_many(data: bytes, source: str) -> None:
    """More than MAX_ENVIRONMENTS: say so at once, before the slow positioned parse."""
    from gitops_promote.core.yamlload import load

    loaded = load(source, data.removeprefix(b"\xef\xbb\xbf"), nodes=True)
    root = loaded.nodes[0] if loaded.nodes and not loaded.fatal else None
    for key, value in root.value if getattr(root, "id", "") == "mapping" else []:  # type: ignore[union-attr]
        if key.value == "environments" and value.id == "sequence" and len(value.value) > MAX_ENVIRONMENTS:
            loc = Location(source, key.start_mark.line + 1, key.start_mark.column + 1)
            raise ConfigError(
                f"{loc}: 'environments' lists {len(value.value):,} entries; at most {MAX_ENVIRONMENTS:,} are supported",
                hint="one entry per environment branch (dev, stg, prd, ...)",
            )


@lru_cache(maxsize=16)
def _parse_valid(data: bytes) -> Registry | None:
    """The registry when the fast loader finds nothing wrong with it, else None."""
    from gitops_promote.core.yamlload import load

    loaded = load(REGISTRY_FILE, data.removeprefix(b"\xef\xbb\xbf"))
    if loaded.fatal or loaded.problems or len(loaded.documents) != 1 or _has_windows(loaded.documents[0]):
        return None
    findings = Findings()
    registry = _Validator(REGISTRY_FILE, findings).registry(loaded.documents[0])
    return None if findings else registry


def _has_windows(document: Any) -> bool:
    """Freeze messages cite the window's line, which only the positioned parse knows."""
    envs = document.get("environments") if isinstance(document, dict) else None
    return isinstance(envs, list) and any(isinstance(e, dict) and ("freeze" in e or "windows" in e) for e in envs)


def _parse_with_positions(text: str | bytes, source: str) -> Registry:
    document = _load_with_positions(text, source)
    findings = Findings()
    registry = _Validator(source, findings).registry(document)
    if findings or registry is None:
        raise ConfigError(
            f"invalid environment registry {source}",
            problems=findings.problems,
            hint="fix the lines above; docs/registry.md describes every key",
        )
    return registry


def _load_with_positions(text: str | bytes, source: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError

    if isinstance(text, bytes):
        raw = text
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            loc = Location(source, raw.count(b"\n", 0, exc.start) + 1)
            raise ConfigError(f"{loc}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    yaml = YAML(typ="rt")
    try:
        _refuse_bombs(text, source)
        return yaml.load(text)
    except ConfigError:
        raise
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        loc = Location(source, mark.line + 1, mark.column + 1) if mark else Location(source)
        raise ConfigError(f"{loc}: duplicate key: {exc.problem}", hint="each key may appear once per mapping") from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(source, mark.line + 1, mark.column + 1) if mark else Location(source)
        raise ConfigError(f"{loc}: not valid YAML: {exc.problem or exc.context}") from None
    except Exception as exc:  # ruamel raises assorted errors (e.g. on bombs or odd bytes)
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None


# A registry has a few hundred nodes. Aliases may not expand it beyond MAX_NODES (a "billion
# laughs" bomb expands nine aliases nine levels deep to 9**9 values: loading is cheap, but any
# message that quotes such a value never ends), nor may it nest deeper than MAX_DEPTH.
MAX_NODES = 10_000
MAX_DEPTH = 64


def _refuse_bombs(text: str, source: str) -> None:
    """Count the nodes the document would have with every alias expanded, from parser events."""
    from ruamel.yaml import YAML
    from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, ScalarEvent

    sizes: dict[Any, int] = {}  # anchor -> expanded size of the node it names
    stack: list[list[Any]] = [[None, 0]]  # [anchor, size so far] of each open collection
    for event in YAML(typ="rt").parse(text):
        if isinstance(event, CollectionStartEvent):
            stack.append([event.anchor, 1])
            if len(stack) > MAX_DEPTH + 1:
                _refuse(event, source, f"nests deeper than {MAX_DEPTH} levels")
            continue
        if isinstance(event, AliasEvent):
            size = sizes.get(event.anchor, 1)
        elif isinstance(event, ScalarEvent):
            size = 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, CollectionEndEvent) and len(stack) > 1:
            anchor, size = stack.pop()
            if anchor:
                sizes[anchor] = size
        else:
            continue
        stack[-1][1] += size
        if stack[-1][1] > MAX_NODES:
            _refuse(event, source, f"expands to more than {MAX_NODES} values through aliases")


def _refuse(event: Any, source: str, what: str) -> None:
    mark = event.start_mark
    loc = Location(source, mark.line + 1, mark.column + 1) if mark else Location(source, 1)
    raise ConfigError(
        f"{loc}: refusing a document that {what} (a YAML bomb?)",
        hint="a registry needs a few hundred values at most: write them out instead of nesting aliases",
    )


class _Validator:
    def __init__(self, source: str, findings: Findings) -> None:
        self.source = source
        self.findings = findings

    def at(self, node: Any, key: Any = None, index: int | None = None) -> Location:
        return Location(self.source, *(node_position(node, key, index) or (0, 0)))

    def error(self, message: str, where: Location, hint: str = "") -> None:
        self.findings.add(message, where, hint)

    def check_keys(self, node: dict[str, Any], allowed: set[str], what: str) -> None:
        for key in node:
            if key not in allowed:
                close = closest(str(key), allowed)
                hint = f"did you mean {close!r}?" if close else f"allowed keys: {', '.join(sorted(allowed))}"
                self.error(f"unknown key {key!r} in {what}", self.at(node, key), hint)

    # -- top level ------------------------------------------------------------------------
    def registry(self, doc: Any) -> Registry | None:
        if not isinstance(doc, dict):
            self.error(
                "the registry must be a mapping with 'environments' and 'promotion'",
                Location(self.source, 1, 1),
                "start from the reference registry in docs/registry.md",
            )
            return None
        self.check_keys(doc, TOP_KEYS, "the registry")
        envs = list(self.environments(doc))
        codenames = [e.codename for e in envs]
        promotion = doc.get("promotion")
        if promotion is None:
            self.error("missing 'promotion' section", Location(self.source, 1, 1), "add promotion.order")
            promotion = {}
        elif not isinstance(promotion, dict):
            self.error("'promotion' must be a mapping", self.at(doc, "promotion"))
            promotion = {}
        else:
            self.check_keys(promotion, PROMOTION_KEYS, "'promotion'")
        positions = self.order(promotion, doc, codenames)
        patterns = self.patterns(promotion)
        keys = self.env_specific_keys(promotion)
        order = tuple(name for group in positions for name in group)
        return Registry(tuple(envs), order, tuple(patterns), keys, self.source, positions)

    def environments(self, doc: dict[str, Any]) -> Iterator[Environment]:
        items = doc.get("environments")
        if not isinstance(items, list) or not items:
            where = self.at(doc, "environments") if "environments" in doc else Location(self.source, 1, 1)
            self.error("'environments' must be a non-empty list", where, "list dev, stg and prd")
            return
        if len(items) > MAX_ENVIRONMENTS:
            self.error(
                f"'environments' lists {len(items):,} entries; at most {MAX_ENVIRONMENTS:,} are supported",
                self.at(doc, "environments"),
                "one entry per environment branch (dev, stg, prd, ...); per-tenant settings belong in the branches",
            )
            return
        seen_codes: dict[str, int] = {}
        seen_branches: dict[str, int] = {}
        for index, item in enumerate(items):
            env = self.environment(items, index, item)
            if env is None:
                continue
            for value, seen, what in ((env.codename, seen_codes, "codename"), (env.branch, seen_branches, "branch")):
                if value in seen:
                    self.error(
                        f"duplicate {what} {value!r} (first used on line {seen[value]})",
                        self.at(items, index=index),
                        f"every environment needs its own {what}",
                    )
                seen.setdefault(value, env.line)
            yield env

    def environment(self, items: list[Any], index: int, item: Any) -> Environment | None:
        where = self.at(items, index=index)
        if not isinstance(item, dict):
            self.error("an environment must be a mapping (codename, name, branch, ...)", where)
            return None
        self.check_keys(item, ENV_KEYS, "an environment")
        codename = item.get("codename")
        if codename is None:
            self.error("environment without 'codename'", where, "add e.g. 'codename: dev'")
            return None
        if not isinstance(codename, str) or not CODENAME.match(codename):
            self.error(
                f"invalid codename {codename!r}",
                self.at(item, "codename"),
                "use lower-case letters, digits, '-' or '_' (e.g. dev, stg, prd)",
            )
            return None
        branch = item.get("branch", codename)
        if not isinstance(branch, str) or (problem := branch_name_problem(branch)):
            reason = problem if isinstance(branch, str) else "is not a string"
            self.error(
                f"invalid branch name {branch!r}: it {reason}", self.at(item, "branch"), "use a plain name like 'stg'"
            )
        name = item.get("name", codename)
        if not isinstance(name, str):
            self.error("'name' must be a string", self.at(item, "name"))
        self.windows(item, where.line)
        return Environment(
            codename=codename,
            name=str(name),
            branch=str(branch),
            audience=self.audience(item),
            availability=self.availability(item),
            persistence=self.persistence(item),
            backups=self.backups(item),
            freeze=_entries(item.get("freeze")),
            windows=_entries(item.get("windows")),
            line=where.line,
            signatures=self.signatures(item),
        )

    def signatures(self, item: dict[str, Any]) -> SignaturePolicy | None:
        """The environment's signature policy; its own module validates it."""
        if "signatures" not in item:
            return None
        value = item["signatures"]
        policy, problems = parse_policy(
            value, lambda key: self.at(value, key) if key and isinstance(value, dict) else self.at(item, "signatures")
        )
        self.findings.problems += problems
        return policy

    def windows(self, item: dict[str, Any], line: int) -> None:
        """Freeze and planned windows are checked by their own module, with line numbers."""
        for key in (FREEZE, WINDOWS):
            if key in item:
                self.findings.problems += validate_windows(item[key], key, self.source, line)

    def audience(self, item: dict[str, Any]) -> tuple[str, ...]:
        value = item.get("audience", [])
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error("'audience' must be a list of strings", self.at(item, "audience"))
            return ()
        return tuple(value)

    def availability(self, item: dict[str, Any]) -> str | None:
        value = item.get("availability")
        if value is None or value == "n/a":
            return None
        if isinstance(value, str) and AVAILABILITY.match(value.strip()):
            return value.strip()
        self.error(
            f"invalid availability {value!r}",
            self.at(item, "availability"),
            'write null (or "n/a") or a quoted percentage between 0% and 100%, e.g. "99.5%"',
        )
        return None

    def persistence(self, item: dict[str, Any]) -> str:
        value = item.get("persistence", "ephemeral")
        if value not in PERSISTENCE:
            self.error(
                f"invalid persistence {value!r}", self.at(item, "persistence"), "use 'ephemeral' or 'persistent'"
            )
            return "ephemeral"
        return str(value)

    def backups(self, item: dict[str, Any]) -> Backups:
        value = item.get("backups", False)
        if isinstance(value, bool):
            return Backups(value)
        if isinstance(value, dict):
            unknown = set(value) - {"enabled", "policy"}
            for key in unknown:
                self.error(f"unknown key {key!r} in 'backups'", self.at(value, key), "allowed: enabled, policy")
            enabled = value.get("enabled", True)
            if not isinstance(enabled, bool):
                self.error("'backups.enabled' must be true or false", self.at(value, "enabled"))
                enabled = False
            policy = value.get("policy")
            return Backups(enabled, None if policy is None else str(policy))
        self.error("'backups' must be false or {enabled: true, policy: ...}", self.at(item, "backups"))
        return Backups(False)

    # -- promotion ------------------------------------------------------------------------
    def order(
        self, promotion: dict[str, Any], doc: dict[str, Any], codenames: list[str]
    ) -> tuple[tuple[str, ...], ...]:
        """The positions of the order: a codename, or a list of codenames fed by one upstream."""
        order = promotion.get("order")
        linear = tuple((c,) for c in codenames)
        if order is None:
            self.error(
                "missing 'promotion.order'",
                self.at(doc, "promotion") if "promotion" in doc else Location(self.source, 1, 1),
                "e.g. order: [dev, stg, prd]",
            )
            return linear
        if not isinstance(order, list) or not all(_is_position(o) for o in order):
            self.error(
                "'promotion.order' must be a list of codenames (or of lists of codenames)",
                self.at(promotion, "order"),
                "e.g. order: [dev, stg, prd] or order: [dev, stg, [prd-eu, prd-us]]",
            )
            return linear
        positions = [self.position(order, index, item) for index, item in enumerate(order)]
        self.check_order_names(order, positions, codenames)
        listed = {name for group in positions for name in group}  # a set: linear in the environments
        missing = [c for c in codenames if c not in listed]
        if missing:
            self.error(
                f"'promotion.order' leaves out {', '.join(missing)}",
                self.at(promotion, "order"),
                "every environment must have its place in the promotion path",
            )
        return tuple(group for group in positions if group)

    def position(self, order: list[Any], index: int, item: Any) -> tuple[str, ...]:
        if isinstance(item, str):
            return (item,)
        if not item:
            self.error(
                "'promotion.order' has an empty group",
                self.at(order, index=index),
                "a group lists the environments fed by the same upstream, e.g. [prd-eu, prd-us]",
            )
        return tuple(item)

    def check_order_names(self, order: list[Any], positions: list[tuple[str, ...]], codenames: list[str]) -> None:
        seen: set[str] = set()
        known = set(codenames)
        for index, group in enumerate(positions):
            item = order[index]
            for inner, name in enumerate(group):
                where = self.at(item, index=inner) if isinstance(item, list) else self.at(order, index=index)
                if name not in known:
                    close = closest(name, known)
                    hint = f"did you mean {close!r}?" if close else f"known environments: {', '.join(codenames)}"
                    self.error(f"'promotion.order' names unknown environment {name!r}", where, hint)
                if name in seen:
                    self.error(f"'promotion.order' lists {name!r} twice", where)
                seen.add(name)

    def patterns(self, promotion: dict[str, Any]) -> list[str]:
        patterns = promotion.get("env_specific", [])
        if not isinstance(patterns, list):
            self.error("'promotion.env_specific' must be a list of path patterns", self.at(promotion, "env_specific"))
            return []
        good = []
        for index, pattern in enumerate(patterns):
            problem = "is not a string" if not isinstance(pattern, str) else pattern_problem(pattern)
            if problem:
                self.error(f"env_specific pattern {pattern!r} {problem}", self.at(patterns, index=index))
            else:
                good.append(pattern)
        return good

    def env_specific_keys(self, promotion: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        value = promotion.get("env_specific_keys", {})
        if not isinstance(value, dict):
            self.error(
                "'promotion.env_specific_keys' must map path patterns to lists of keys",
                self.at(promotion, "env_specific_keys"),
            )
            return {}
        result: dict[str, tuple[str, ...]] = {}
        for pattern, keys in value.items():
            problem = "is not a string" if not isinstance(pattern, str) else pattern_problem(pattern)
            if problem:
                self.error(f"env_specific_keys pattern {pattern!r} {problem}", self.at(value, pattern))
                continue
            if not isinstance(keys, list) or not all(isinstance(k, str) and k.strip() for k in keys):
                self.error(
                    f"env_specific_keys[{pattern!r}] must be a list of dotted keys",
                    self.at(value, pattern),
                    "e.g. [spec.source.targetRevision, spec.destination.namespace]",
                )
                continue
            result[pattern] = tuple(keys)
        return result


MAX_NAMED_IN_GROUP = 6


def _describe_group(group: tuple[str, ...]) -> str:
    if len(group) == 1:
        return group[0]
    if len(group) > MAX_NAMED_IN_GROUP:
        return "{" + ", ".join(group[:3]) + f", … {len(group) - 3} more" + "}"
    return "{" + ", ".join(group) + "}"


def _is_position(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _entries(value: Any) -> tuple[Any, ...]:
    """A freeze/windows list as a tuple; anything else was reported by windows() already."""
    return tuple(value) if isinstance(value, list) else ()
