"""Safe, bounded YAML loading for the diff: plain data out, problems as data, never a crash.

PyYAML's C safe loader is ~20x faster than ruamel's round-trip and the diff only reads.
Before constructing a document we walk its node graph once, which lets us refuse what would
hurt later (alias bombs, recursive aliases, absurd nesting) and report duplicate keys, which
PyYAML silently resolves to the last value while Helm and kubectl reject them.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from gitops_promote.core import yamlfast
from gitops_promote.core.pyyaml import yaml
from gitops_promote.errors import Location, Problem

_BaseLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A "billion laughs" file is tiny but expands through aliases; the diff, the JSON output and
# the renderers all walk expanded data, so bound it before constructing anything.
# These limits apply to every YAML file the tool reads, except the registry (core/registry.py,
# tighter: 10,000 nodes, 64 levels); docs/reliability.md lists them.
MAX_EXPANDED_NODES = 1_000_000
MAX_DEPTH = 256
MAX_FILE_BYTES = 8 * 1024 * 1024  # a values file or manifest; larger ones are not parsed
# Python refuses str -> int beyond 4,300 digits (CVE-2020-10735); no real value comes close.
MAX_INT_DIGITS = 4000


class LimitExceeded(Exception):
    """A YAML file over one of the limits above, with a 1-based position (0: the whole file)."""

    def __init__(self, message: str, line: int = 0, column: int = 0, hint: str = "") -> None:
        super().__init__(message)
        self.message, self.line, self.column, self.hint = message, line, column, hint


def check_size(data: bytes | str) -> None:
    if len(data) > MAX_FILE_BYTES:
        raise LimitExceeded(
            f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB ({len(data):,} bytes); not parsed",
            hint="split the file; gitops reads YAML files up to this size",
        )


def check_limits(root: Any, max_nodes: int = MAX_EXPANDED_NODES, max_depth: int = MAX_DEPTH) -> None:
    """Refuse a composed document (PyYAML or ruamel nodes) over the alias or depth limits."""
    try:
        if _size(root, {}, set(), 0, max_nodes, max_depth) > max_nodes:
            raise _Refused(
                f"aliases expand this document to more than {max_nodes:,} nodes "
                "(a 'billion laughs' document); refusing to read it",
                root,
                "remove the alias chain; Helm would refuse or exhaust memory on it too",
            )
    except _Refused as exc:
        mark = exc.node.start_mark
        raise LimitExceeded(exc.message, mark.line + 1, mark.column + 1, exc.hint) from None


def construct_int(loader: Any, node: Any) -> Any:
    """`!!int` with a bound on digits: a clear problem at the value, never a ValueError."""
    digits = sum(c.isdigit() for c in str(node.value))
    if digits > MAX_INT_DIGITS:
        raise yaml.constructor.ConstructorError(
            None, None, f"an integer of {digits:,} digits (more than {MAX_INT_DIGITS:,}); quote it", node.start_mark
        )
    return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """The C safe loader with bounded ints and lenient timestamps."""


def _construct_timestamp(loader: Any, node: Any) -> Any:
    """An impossible date (`2024-02-30`) is the text written, as Helm reads it, plus a note."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        mark = node.start_mark
        notes = loader.__dict__.setdefault("value_notes", [])
        message = f"{node.value!r} is not a valid date ({exc}); read as the string"
        notes.append((message, mark.line + 1, mark.column + 1))
        return str(node.value)


_Loader.add_constructor("tag:yaml.org,2002:int", construct_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)

MERGE_TAG = "tag:yaml.org,2002:merge"
Path = tuple[str | int, ...]


class _Refused(Exception):
    def __init__(self, message: str, node: yaml.Node, hint: str = "") -> None:
        super().__init__(message)
        self.message, self.node, self.hint = message, node, hint


@dataclass
class Loaded:
    """The documents of one file as plain data, their nodes, and what went wrong."""

    documents: list[Any] = field(default_factory=list)
    nodes: list[yaml.Node] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    fatal: bool = False  # no usable data: show the file as a line diff instead
    # Read by core/yamlfast.py (no nodes): each document's ambiguous plain scalars.
    found_ambiguous: list[list[Ambiguous]] | None = None

    def ambiguous(self, index: int, prefix: Path = ()) -> list[Ambiguous]:
        """Plain scalars of document `index` that YAML 1.1 and 1.2 read differently."""
        if self.found_ambiguous is None:
            return ambiguous_scalars(self.nodes[index], prefix)
        return [Ambiguous((*prefix, *a.path), a.line, a.raw, a.note) for a in self.found_ambiguous[index]]


# Typed as Any so that this module type-checks with or without types-PyYAML installed.
_Composer: Any = yaml.composer.Composer


class _ReanchoringComposer(_Composer):  # type: ignore[misc]
    """YAML 1.2 lets an anchor be defined again (later aliases see the new one); PyYAML's
    composers refuse it. GOV.UK's values-integration.yaml does this with `&max-upload-size`."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        if not self.check_event(yaml.AliasEvent):
            anchor = self.peek_event().anchor
            if anchor is not None:
                self.anchors.pop(anchor, None)
        node: yaml.Node = super().compose_node(parent, index)
        return node


# The C parser when libyaml is there (through getattr: the stubs do not declare it).
_Parser: type[Any] = getattr(getattr(yaml, "cyaml", None), "CParser", None) or yaml.parser.Parser


_Bases: tuple[type[Any], ...] = (
    _ReanchoringComposer,
    _Parser,
    yaml.constructor.SafeConstructor,
    yaml.resolver.Resolver,
)


class _ReanchoringLoader(*_Bases):  # type: ignore[misc]
    """libyaml events, the Python composer (slower, so only when an anchor is redefined)."""

    def __init__(self, stream: bytes) -> None:
        _Parser.__init__(self, stream)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)


_ReanchoringLoader.add_constructor("tag:yaml.org,2002:int", construct_int)
_ReanchoringLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def load(path: str, data: bytes, *, nodes: bool = False) -> Loaded:
    """Load every document of `data`; problems name `path` with 1-based line and column.

    Files in core/yamlfast.py's plain subset are read without PyYAML (same result, no
    nodes) unless `nodes` asks for the node trees.
    """
    try:
        check_size(data)
    except LimitExceeded as exc:
        return Loaded(problems=[Problem(exc.message, Location(path), exc.hint)], fatal=True)
    fast = None if nodes else _load_fast(path, data)
    if fast is not None:
        return fast
    walked = _load_walked(path, data)
    if walked is not None:
        return walked
    result = _load_with(_Loader, path, data)
    if any("found duplicate anchor" in p.message for p in result.problems):
        result = _load_with(_ReanchoringLoader, path, data)
    return result


def _load_fast(path: str, data: bytes) -> Loaded | None:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return None
    found = yamlfast.read(text, _known_note)
    if found is None:
        return None
    if found.nodes > MAX_EXPANDED_NODES:  # refused at once, as the node walk would after composing
        message, hint = _too_many(aliases=False)
        return Loaded(problems=[Problem(message, Location(path, *found.root), hint)], fatal=True)
    problems = [
        Problem(
            f"duplicate key {d.key!r} (first defined on line {d.first_line})",
            Location(path, d.line, d.column),
            DUPLICATE_HINT,
        )
        for d in found.duplicates
    ]
    ambiguous = [Ambiguous(s.path, s.line, s.raw, note) for s in found.scalars if (note := _known_note(s.raw))]
    return Loaded(found.documents, [], problems, found_ambiguous=[ambiguous] if found.documents else [])


def _load_with(loader_class: type[Any], path: str, data: bytes) -> Loaded:
    result = Loaded()
    loader = loader_class(data)
    try:
        while loader.check_node():
            node = loader.get_node()
            _check(path, node, result)
            result.nodes.append(node)
            result.documents.append(plain(loader.construct_document(node)))
        for message, line, column in loader.__dict__.get("value_notes", []):
            result.problems.append(Problem(message, Location(path, line, column), "quote it if it is text"))
    except yaml.MarkedYAMLError as exc:
        result.fatal = True
        result.problems.append(_parse_problem(path, exc))
    except yaml.YAMLError as exc:  # e.g. a reader error (invalid UTF-8) carries no mark
        result.fatal = True
        result.problems.append(Problem(f"cannot parse YAML: {exc}", Location(path)))
    except _Refused as exc:
        result.fatal = True
        result.problems.append(Problem(exc.message, _where(path, exc.node), exc.hint))
    finally:
        loader.dispose()
    return result


# ---- the common file in one walk ---------------------------------------------------------------
#
# `_load_with` walks each composed document four times in Python (PyYAML's constructor,
# `plain`, the size walk, the duplicate-key walk): 190 µs for a 12-line values file with a flow
# mapping, against 50 µs for libyaml to compose it. `NodeWalk` does all four in one walk for
# the common documents (maps, sequences, strings, numbers, booleans, nulls; aliases shared):
# the same data, the same duplicate-key problems in the same order. Anything else (other tags
# such as timestamps or binary, merge keys, non-scalar keys, a limit reached, a syntax error)
# returns None and the file takes `_load_with`, which decides. test_yamlload_walk.py compares
# the two on the corpus and on generated files.
#
# `NodeWalk` is the one such walker: adapters/yaml_data.py (parity's 100,000 files, data only)
# walks with it too, its own scalars and keys aside.

_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_ScalarNode, _MappingNode, _SequenceNode = yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode
_SafeConstructor: Any = yaml.constructor.SafeConstructor
_SCALAR_TAGS: dict[str, Any] = {
    "tag:yaml.org,2002:int": construct_int,
    "tag:yaml.org,2002:float": _SafeConstructor.construct_yaml_float,
    "tag:yaml.org,2002:bool": _SafeConstructor.construct_yaml_bool,
    "tag:yaml.org,2002:null": _SafeConstructor.construct_yaml_null,
}


class Unusual(Exception):
    """A document `NodeWalk` does not build: its caller's full loader decides."""


def _load_walked(path: str, data: bytes) -> Loaded | None:
    loader = _Loader(data)
    result = Loaded()
    try:
        while loader.check_node():
            node = loader.get_node()
            walk = _DiffWalk(loader, path)
            result.documents.append(walk.build(node))
            result.nodes.append(node)
            result.problems.extend(walk.duplicates)
    except (yaml.YAMLError, Unusual, RecursionError):
        return None
    finally:
        loader.dispose()
    return result


class NodeWalk:
    """One document's plain data from its composed nodes, in one pre-order walk that also
    counts what the limits count (expanded nodes, depth): mappings with scalar keys of
    `key_types`, sequences, strings and the scalars `scalar` constructs; aliases shared, as
    PyYAML shares them, and sized as expanded. Anything else (another tag, a merge key, an
    alias inside the node it names, a limit reached) raises Unusual."""

    key_types: tuple[type, ...] = (str,)  # `1:`, `true:` may merge in PyYAML's dict before `plain`

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.memo: dict[int, tuple[Any, int] | None] = {}  # node id -> (data, expanded size); None: open

    def build(self, node: Any) -> Any:
        data, size = self._node(node, 0)
        if size > MAX_EXPANDED_NODES:
            raise Unusual()
        return data

    def scalar(self, node: Any) -> Any:
        """A scalar that is not a string: ints (bounded), floats, booleans, nulls."""
        construct = _SCALAR_TAGS.get(node.tag)
        if construct is None:
            raise Unusual()  # timestamps (and their notes), binary, merge keys, other tags
        return construct(self.loader, node)

    def saw_mapping(self, node: Any) -> None:
        """Called with each mapping once, in pre-order, before its items are walked."""

    def _node(self, node: Any, depth: int) -> tuple[Any, int]:
        kind = type(node)
        if kind is _ScalarNode:
            return (node.value if node.tag == _STR else self.scalar(node)), 1
        key = id(node)
        if key in self.memo:
            done = self.memo[key]
            if done is None:
                raise Unusual()  # an alias inside the node it names: recursive data
            return done
        if depth >= MAX_DEPTH:
            raise Unusual()
        self.memo[key] = None
        if kind is _MappingNode and node.tag == _MAP:
            done = self._mapping(node, depth + 1)
        elif kind is _SequenceNode and node.tag == _SEQ:
            done = self._sequence(node, depth + 1)
        else:
            raise Unusual()
        self.memo[key] = done
        return done

    def _mapping(self, node: Any, depth: int) -> tuple[dict[Any, Any], int]:
        self.saw_mapping(node)
        data: dict[Any, Any] = {}
        size = 1
        key_types = self.key_types
        for key_node, value_node in node.value:
            if type(key_node) is not _ScalarNode:
                raise Unusual()  # PyYAML refuses unhashable keys with a position: let it
            key = key_node.value if key_node.tag == _STR else self.scalar(key_node)
            if type(key) not in key_types:
                raise Unusual()
            value, value_size = self._node(value_node, depth)
            data[key] = value
            size += 1 + value_size
            if size > MAX_EXPANDED_NODES:
                raise Unusual()
        return data, size

    def _sequence(self, node: Any, depth: int) -> tuple[list[Any], int]:
        items = []
        size = 1
        for item in node.value:
            value, item_size = self._node(item, depth)
            items.append(value)
            size += item_size
            if size > MAX_EXPANDED_NODES:
                raise Unusual()
        return items, size


class _DiffWalk(NodeWalk):
    """The walk of `load`: string keys only, and the duplicate keys as problems naming `path`
    (in the order of `_mappings`, so they are reported as `_load_with` reports them)."""

    def __init__(self, loader: Any, path: str) -> None:
        super().__init__(loader)
        self.path = path
        self.duplicates: list[Problem] = []

    def saw_mapping(self, node: Any) -> None:
        self.duplicates.extend(_duplicates(self.path, node))


def _parse_problem(path: str, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    what = " ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
    loc = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path)
    return Problem(f"cannot parse YAML: {what}", loc, "fix the syntax; shown as a line diff")


def _where(path: str, node: yaml.Node) -> Location:
    mark = node.start_mark
    return Location(path, mark.line + 1, mark.column + 1)


def _too_many(aliases: bool) -> tuple[str, str]:
    """(message, hint) for a document over MAX_EXPANDED_NODES."""
    if aliases:
        return (
            f"aliases expand this document to more than {MAX_EXPANDED_NODES:,} nodes "
            "(a 'billion laughs' document); refusing to diff it",
            "remove the alias chain; Helm would refuse or exhaust memory on it too",
        )
    return (
        f"this document has more than {MAX_EXPANDED_NODES:,} nodes (keys and values); refusing to diff it",
        "split the file; gitops reads YAML documents up to this many nodes",
    )


def _check(path: str, root: yaml.Node, result: Loaded) -> None:
    """Count expanded nodes (memoised per node: an alias is the same node object)."""
    sizes: dict[int, int] = {}
    if _size(root, sizes, set(), 0, MAX_EXPANDED_NODES, MAX_DEPTH) > MAX_EXPANDED_NODES:
        # The walk stops past the limit: having met that many distinct nodes, it is the file's
        # own size, not aliases, that is over.
        message, hint = _too_many(aliases=len(sizes) < MAX_EXPANDED_NODES)
        raise _Refused(message, root, hint)
    seen: set[int] = set()
    for mapping in _mappings(root, seen):
        result.problems.extend(_duplicates(path, mapping))


def _size(node: Any, sizes: dict[int, int], active: set[int], depth: int, max_nodes: int, max_depth: int) -> int:
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in active:
        raise _Refused("an alias refers to a node that contains it (recursive data)", node)
    if depth > max_depth:
        raise _Refused(f"nested deeper than {max_depth} levels; refusing to read it", node)
    active.add(key)
    total = 1
    for child in _children(node):
        total += _size(child, sizes, active, depth + 1, max_nodes, max_depth)
        if total > max_nodes:
            break  # stop early: a bomb's remaining siblings need not be counted
    active.discard(key)
    sizes[key] = min(total, max_nodes + 1)  # cap: keeps the ints small on bombs
    return sizes[key]


def _children(node: Any) -> Iterator[Any]:
    """Child nodes of a PyYAML or ruamel node (both spell the kind in `id`)."""
    kind = getattr(node, "id", "")
    if kind == "sequence":
        yield from node.value
    elif kind == "mapping":
        for key, value in node.value:
            yield key
            yield value


def _mappings(node: yaml.Node, seen: set[int]) -> Iterator[yaml.MappingNode]:
    """Every mapping node once (the graph is acyclic and bounded by now)."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        yield node
    for child in _children(node):
        yield from _mappings(child, seen)


DUPLICATE_HINT = "Helm and kubectl reject duplicate keys (PyYAML keeps the last); remove one"


def _duplicates(path: str, mapping: yaml.MappingNode) -> Iterator[Problem]:
    first: dict[tuple[str, str], int] = {}
    for key, _value in mapping.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == MERGE_TAG:
            continue
        ident = (key.tag, key.value)
        line = key.start_mark.line + 1
        if ident in first:
            yield Problem(
                f"duplicate key {key.value!r} (first defined on line {first[ident]})",
                _where(path, key),
                DUPLICATE_HINT,
            )
        else:
            first[ident] = line


def plain(value: Any) -> Any:
    """Constructed YAML -> JSON-like data, as Helm sees it (sigs.k8s.io/yaml goes via JSON).

    Keys become strings, timestamps ISO strings, `!!binary` base64, `!!set` a sorted list.
    """
    if isinstance(value, dict):
        return {key_text(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((plain(v) for v in value), key=repr)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def key_text(key: Any) -> str:
    """A mapping key as text: `true`, `null`, `1` (YAML spelling for non-strings)."""
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(plain(key))


# --- YAML 1.1 vs 1.2: plain scalars whose meaning depends on the YAML version -------------

_BOOL_WORDS = {"yes": True, "on": True, "y": True, "no": False, "off": False, "n": False}
_OCTAL_11 = re.compile(r"[-+]?0[0-7]+\Z")
_OCTAL_12 = re.compile(r"0o[0-7]+\Z")
_SEXAGESIMAL = re.compile(r"[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+\Z")


def version_note(raw: str) -> str | None:
    """How YAML 1.1 and YAML 1.2 read the plain scalar `raw`, when they disagree."""
    word = raw.lower()
    if word in _BOOL_WORDS and raw in (word, word.capitalize(), word.upper()):
        value = "true" if _BOOL_WORDS[word] else "false"
        extra = " (PyYAML reads `y`/`n` as strings)" if word in ("y", "n") else ""
        return f"the boolean {value} in YAML 1.1{extra} but the string {raw!r} in YAML 1.2"
    if _OCTAL_11.match(raw) and int(raw, 8) != int(raw, 10):
        return f"the octal integer {int(raw, 8)} in YAML 1.1 but the decimal integer {int(raw, 10)} in YAML 1.2"
    if _OCTAL_12.match(raw):
        return f"the string {raw!r} in YAML 1.1 but the octal integer {int(raw, 8)} in YAML 1.2"
    if _SEXAGESIMAL.match(raw):
        return f"a base-60 integer in YAML 1.1 but the string {raw!r} in YAML 1.2"
    return None


# The same short plain scalars (`1`, `on`, `y`) recur in every values file: each is asked once.
_known_note = lru_cache(maxsize=4096)(version_note)


class Ambiguous(NamedTuple):
    path: Path
    line: int
    raw: str
    note: str


def ambiguous_scalars(node: yaml.Node, prefix: Path = ()) -> list[Ambiguous]:
    """Plain scalars (keys and values) whose meaning differs between YAML 1.1 and 1.2."""
    found: list[Ambiguous] = []
    _walk_ambiguous(node, prefix, found, 0)
    return found


def _walk_ambiguous(node: yaml.Node, path: Path, found: list[Ambiguous], depth: int) -> None:
    if depth > MAX_DEPTH or len(found) > 1000:
        return
    if isinstance(node, yaml.ScalarNode):
        _record(node, path, found)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk_ambiguous(item, (*path, i), found, depth + 1)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.tag == MERGE_TAG:
                _walk_merged(value, path, found, depth)
                continue
            if isinstance(key, yaml.ScalarNode):
                _record(key, (*path, _scalar_key(key)), found)
                _walk_ambiguous(value, (*path, _scalar_key(key)), found, depth + 1)


def _walk_merged(value: yaml.Node, path: Path, found: list[Ambiguous], depth: int) -> None:
    sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
    for source in sources:
        _walk_ambiguous(source, path, found, depth + 1)


def _record(node: yaml.ScalarNode, path: Path, found: list[Ambiguous]) -> None:
    if node.style:  # quoted or block scalars are strings in every version
        return
    note = _known_note(node.value)
    if note:
        found.append(Ambiguous(path, node.start_mark.line + 1, node.value, note))


_KEY_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _scalar_key(node: yaml.ScalarNode) -> str:
    """The key as `plain()` spells it, so paths here match paths in the diff."""
    if node.tag == _STR:
        return str(node.value)  # what the constructor gives a string, without asking it
    try:
        return key_text(_KEY_CONSTRUCTOR.construct_object(node))
    except yaml.YAMLError:
        return str(node.value)
    finally:
        _KEY_CONSTRUCTOR.constructed_objects.clear()
