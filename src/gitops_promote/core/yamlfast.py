"""A line reader for the plainest YAML: block mappings of simple keys and one-line scalars.

PyYAML builds a Python node (and two marks) for every scalar, and resolves each one with
Python regular expressions: about 10 µs a key, 3 s for one 300,000-key values file even with
the C parser. Most values files are this plain subset, which one regular expression per line
reads exactly as PyYAML does: the same data, the same duplicate-key problems, the same YAML
1.1/1.2 notes. Anything outside it (sequences, flow collections, anchors, tags, escapes,
multi-line scalars, several documents, timestamps, non-ASCII or control characters, tabs,
CR, odd indentation, keys that are not strings) returns None, and the caller uses PyYAML.
`tests/test_yamlfast.py` checks the two agree on generated files inside and outside the subset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from gitops_promote.core.pyyaml import yaml

STR = "tag:yaml.org,2002:str"
MAX_DEPTH = 200  # below the loaders' 256: deeper files take PyYAML's path and its message
MAX_KEY = 1000  # PyYAML refuses implicit keys over 1024 characters
MAX_AMBIGUOUS = 1000  # ambiguous_scalars stops near here; past it, let PyYAML's walk decide
MAX_SCALAR = 100  # longer non-strings (a 4,000-digit int) take PyYAML's path and its limits

# Anything but printable ASCII and LF: PyYAML rejects some of it, reads the rest its own way.
_OUTSIDE = re.compile(r"[^\n\x20-\x7e]")
_TOKEN = r"[A-Za-z0-9_./+=@%~^$()-]"
_LINE = re.compile(
    r"(?P<indent> *)(?P<key>[A-Za-z_][A-Za-z0-9_./-]*):"
    r"(?: +(?:(?P<plain>[A-Za-z0-9_./]" + _TOKEN + r"*(?: +" + _TOKEN + r"+)*)"
    r"|\"(?P<dq>[^\"\\]*)\"|'(?P<sq>[^']*)'))?"
    r"(?: +#.*)? *\Z"
)
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]{0,17})\Z")
_RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_SIMPLE_TAGS = {
    "tag:yaml.org,2002:null": lambda node: None,
    "tag:yaml.org,2002:bool": _CONSTRUCTOR.construct_yaml_bool,
    "tag:yaml.org,2002:float": _CONSTRUCTOR.construct_yaml_float,
}


def _inside(text: str) -> bool:
    """No character outside printable ASCII and LF (what `_OUTSIDE` finds), without a regex
    scan: an ASCII text is printable but for its controls (3 µs a small file by `_OUTSIDE`)."""
    return text.isascii() and text.replace("\n", "").isprintable()


class NotPlain(Exception):
    """The file is outside the subset: read it with PyYAML."""


class Scalar(NamedTuple):
    """A plain (unquoted) key or value, where the YAML 1.1/1.2 notes need it."""

    path: tuple[str, ...]
    line: int
    raw: str


class Duplicate(NamedTuple):
    key: str
    line: int
    column: int
    first_line: int


class _Mapping:
    """A block mapping being read. A plain class with slots: a mapping is opened 126,000 times
    in a big diff and its attributes read on every line (a dataclass would cost every run
    0.6 ms to make, a slots dataclass twice that, and a NamedTuple's fields read slower)."""

    __slots__ = ("indent", "line", "data", "path", "first", "duplicates", "children")

    def __init__(self, indent: int, line: int, path: tuple[str, ...]) -> None:
        self.indent = indent
        self.line = line
        self.data: dict[str, Any] = {}
        self.path = path
        self.first: dict[str, int] = {}  # each key's first line
        self.duplicates: list[Duplicate] = []
        self.children: list[_Mapping] = []  # nested mappings, in order


@dataclass
class Read:
    """The file's documents (none or one), its duplicate keys in PyYAML's order, its plain
    scalars whose meaning may depend on the YAML version, its node count (no aliases: the
    count PyYAML's limit checks) and the 1-based (line, column) of its root mapping."""

    documents: list[Any]
    duplicates: list[Duplicate]
    scalars: list[Scalar]
    nodes: int
    root: tuple[int, int]
    mapping: _Mapping | None = None  # the root mapping, for walks in another order

    def duplicates_depth_first(self) -> list[Duplicate]:
        """The duplicates in the order of a last-in-first-out walk (adapters/yaml_nodes.py's)."""
        found, stack = [], [self.mapping] if self.mapping else []
        while stack:
            current = stack.pop()
            found += current.duplicates
            stack += current.children
        return found


def read(text: str, note: Any) -> Read | None:
    """The document of `text` when it is in the subset, else None. `note(raw)` says whether a
    plain scalar may read differently in YAML 1.1 and 1.2 (core/yamlload.version_note)."""
    if not _inside(text):
        return None
    try:
        return _Reader(note).run(text)
    except NotPlain:
        return None


class _Reader:
    def __init__(self, note: Any) -> None:
        self.note = note
        self.stack: list[_Mapping] = []
        self.mappings: list[_Mapping] = []  # in creation order: PyYAML's pre-order walk
        self.scalars: list[Scalar] = []
        self.nodes = 0

    def run(self, text: str) -> Read:
        lines = text.split("\n")
        stack = self.stack  # the one list, grown and shrunk in place by _open and _mapping_for
        note, resolvers, is_str_key, constructed = self.note, _RESOLVERS, _is_str_key, _constructed
        nodes = 0
        pending: _Mapping | None = None  # the mapping whose last key has no value yet
        pending_key = ""
        # The hot loop (300,000 lines in a big file): one C-level call per line (the regex, or
        # its remembered match for a small file), and the common case (a key at the current
        # mapping's indent) without other calls.
        for number, match in enumerate(map(_line_match if len(lines) <= _SMALL else _LINE.match, lines), 1):
            if match is None:
                _skip(lines[number - 1])
                continue
            spaces, key, plain, dq, sq = match.groups()
            if pending is None and stack and stack[-1].indent == len(spaces):
                mapping = stack[-1]
            else:
                mapping = self._mapping_for(len(spaces), number, pending, pending_key)
                pending = None
            if len(key) > MAX_KEY or (key[0] in resolvers and not is_str_key(key)):
                raise NotPlain()  # `true:`, `null:`, `on:` become other keys in plain(): PyYAML decides
            nodes += 2
            if len(key) <= 3 and note(key):
                self._ambiguous(mapping, key, number, key)
            first = mapping.first
            if key in first:
                mapping.duplicates.append(Duplicate(key, number, len(spaces) + 1, first[key]))
            else:
                first[key] = number
            if plain is not None:
                if (len(plain) <= 3 or plain[0] in "0+-") and note(plain):
                    self._ambiguous(mapping, key, number, plain)
                if plain.isdigit() and plain[0] != "0" and len(plain) <= 18:
                    mapping.data[key] = int(plain)  # resolved as a decimal int (no `.`, `:`, `-`)
                elif plain[0] in resolvers:
                    mapping.data[key] = constructed(plain)
                else:
                    mapping.data[key] = plain
            elif dq is not None or sq is not None:
                mapping.data[key] = sq if dq is None else dq  # no escapes: the text between the quotes
            else:  # `key:` alone: null, unless a deeper line opens a mapping under it
                mapping.data[key] = None
                pending, pending_key = mapping, key
        self.nodes += nodes
        if not self.mappings:
            return Read([], [], [], 0, (0, 0))  # blank lines and comments only: no document at all
        duplicates = [d for m in self.mappings for d in m.duplicates]
        root = self.mappings[0]
        return Read([root.data], duplicates, self.scalars, self.nodes, (root.line, root.indent + 1), root)

    def _mapping_for(self, indent: int, number: int, pending: _Mapping | None, pending_key: str) -> _Mapping:
        """The mapping a key at `indent` belongs to: a new one under `pending`'s key without a
        value when it is deeper, else an open one at exactly this indent."""
        stack = self.stack
        if not stack:
            return self._open(indent, number, ())
        if pending is not None and indent > pending.indent:
            child = self._open(indent, number, (*pending.path, pending_key))
            pending.data[pending_key] = child.data
            pending.children.append(child)
            return child
        while stack and stack[-1].indent > indent:
            stack.pop()
        if not stack or stack[-1].indent != indent:
            raise NotPlain()  # an indentation PyYAML refuses or reads as a continuation
        return stack[-1]

    def _open(self, indent: int, number: int, path: tuple[str, ...]) -> _Mapping:
        if len(self.stack) >= MAX_DEPTH:
            raise NotPlain()
        mapping = _Mapping(indent, number, path)
        self.stack.append(mapping)
        self.mappings.append(mapping)
        self.nodes += not path  # the root; every other mapping was counted as its key's value
        return mapping

    def _ambiguous(self, mapping: _Mapping, key: str, number: int, raw: str) -> None:
        """Record a plain key or value that may read differently in YAML 1.1 and 1.2."""
        self.scalars.append(Scalar((*mapping.path, key), number, raw))
        if len(self.scalars) > MAX_AMBIGUOUS:
            raise NotPlain()


# A small file's lines by their text: the same lines (`  enabled: true`, `env:`,
# `replicaCount: 1`) recur in every values file of a repository (most lines of a 20,000-app
# diff), and the regex reads each once. A big file's lines are mostly its own: there the cache
# would only add its cost to every line.
_line_match = lru_cache(maxsize=4096)(_LINE.match)
_SMALL = 200  # lines


def _skip(line: str) -> None:
    """A line that is not `key: ...` must be blank or a comment."""
    stripped = line.lstrip(" ")
    if stripped and stripped[0] != "#":
        raise NotPlain()


def _resolve(raw: str) -> str:
    """The tag PyYAML's resolver gives the plain scalar `raw` (same table, same order)."""
    for tag, regexp in _RESOLVERS.get(raw[0], ()):
        if regexp.match(raw):
            return str(tag)
    return STR


@lru_cache(maxsize=4096)
def _is_str_key(key: str) -> bool:
    """Whether the plain key `key` resolves to a string (keys recur in every file: once each)."""
    return _resolve(key) == STR


_NOT_PLAIN: Any = object()
_CONSTRUCTED: dict[str, Any] = {}  # a plain value's text -> its value (all immutable), or _NOT_PLAIN
_CACHE_LIMIT = 20_000  # distinct texts remembered (`true`, `1.5`, `Foo`): bounded memory either way
_CACHED_TEXT = 64  # longer texts are constructed each time


def _constructed(raw: str) -> Any:
    """`_construct(raw)`, remembered for the short texts that recur across files."""
    value = _CONSTRUCTED.get(raw, _CONSTRUCTED)
    if value is _CONSTRUCTED:
        try:
            value = _construct(raw)
        except NotPlain:
            value = _NOT_PLAIN
        if len(raw) <= _CACHED_TEXT and len(_CONSTRUCTED) < _CACHE_LIMIT:
            _CONSTRUCTED[raw] = value
    if value is _NOT_PLAIN:
        raise NotPlain()
    return value


def _construct(raw: str) -> Any:
    tag = _resolve(raw)
    if tag == STR:
        return raw
    if len(raw) > MAX_SCALAR:
        raise NotPlain()
    if tag == "tag:yaml.org,2002:int":
        if _DECIMAL.match(raw):  # what the int constructor gives, without building a node
            return int(raw)
        return _CONSTRUCTOR.construct_yaml_int(yaml.ScalarNode(tag, raw))
    constructor = _SIMPLE_TAGS.get(tag)
    if constructor is None:
        raise NotPlain()  # timestamps (and their impossible-date notes), merge keys, `=`
    return constructor(yaml.ScalarNode(tag, raw))
