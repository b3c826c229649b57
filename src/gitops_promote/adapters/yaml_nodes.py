"""YAML documents with positions: plain data plus the node tree it was built from.

Read-only work uses PyYAML's C loader (about 20x faster than ruamel's round-trip). Files PyYAML
rejects but YAML 1.2 allows (a re-defined anchor, as in GOV.UK's values-integration.yaml) fall
back to ruamel's pure-Python safe loader, whose nodes have the same shape (`id`, `value`,
`start_mark`, `end_mark`), so everything downstream works on either.
"""

from __future__ import annotations

import datetime
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitops_promote.core import yamlfast
from gitops_promote.core.pyyaml import yaml
from gitops_promote.core.yamlload import (
    MAX_EXPANDED_NODES,
    LimitExceeded,
    check_limits,
    check_size,
    construct_int,
)

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MERGE_TAG = "tag:yaml.org,2002:merge"

PathPart = str | int
DataPath = tuple[PathPart, ...]


class _Loader(_BaseLoader):  # type: ignore[misc]
    """Safe loader that keeps timestamps as the text written.

    Kubernetes and Helm read YAML into JSON, where `2024-01-01` is a string; a datetime
    would fail every `type: string` schema check.
    """


def _timestamp_as_text(loader: Any, node: Any) -> str:
    return str(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)
_Loader.add_constructor("tag:yaml.org,2002:int", construct_int)


class YamlSyntaxError(ValueError):
    """Not parseable YAML, with a 1-based position (0 when unknown)."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True)
class DuplicateKey:
    key: str
    line: int
    column: int
    first_line: int


_LATER = object()  # a Document's node tree, composed when first asked for


@dataclass
class Document:
    """One YAML document: its data, its node tree and the text it came from.

    Documents read by core/yamlfast.py compose their node tree only when a position is asked
    for (an error to point at): most values files never need one.
    """

    data: Any
    _node: Any = field(repr=False)
    text: str
    duplicates: list[DuplicateKey] = field(default_factory=list)

    @property
    def node(self) -> Any:
        if self._node is _LATER:
            loader = _Loader(self.text)
            try:
                self._node = loader.get_single_node()
            finally:
                loader.dispose()
        return self._node

    def node_at(self, path: Sequence[PathPart]) -> Any | None:
        return node_at(self.node, path)

    def key_node_at(self, path: Sequence[PathPart]) -> Any | None:
        """The key node of the last mapping step of `path` (None for an index or the root)."""
        if not path or isinstance(path[-1], int):
            return None
        parent = node_at(self.node, path[:-1])
        found = _mapping_item(parent, path[-1]) if parent is not None else None
        return found[0] if found else None

    def position(self, path: Sequence[PathPart]) -> tuple[int, int]:
        """1-based (line, column) of the deepest existing node along `path` (its key if any)."""
        for depth in range(len(path), -1, -1):
            prefix = path[:depth]
            key = self.key_node_at(prefix)
            node = key if key is not None else node_at(self.node, prefix)
            if node is not None:
                return node.start_mark.line + 1, node.start_mark.column + 1
        return (1, 1)

    def has(self, path: Sequence[PathPart]) -> bool:
        return get_path(self.data, path)[0]


def get_path(data: Any, path: Sequence[PathPart]) -> tuple[bool, Any]:
    """(found, value) of a data path in plain data."""
    for part in path:
        if isinstance(data, dict) and not isinstance(part, int) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return False, None
    return True, data


def _scalar_key(node: Any) -> str | None:
    return str(node.value) if node.id == "scalar" else None


def _mapping_item(node: Any, key: PathPart) -> tuple[Any, Any] | None:
    """(key node, value node) for `key`; merged (`<<`) mappings are searched after own keys."""
    if node is None or node.id != "mapping":
        return None
    merges = []
    for key_node, value_node in reversed(node.value):  # the last duplicate wins, as in data
        if key_node.tag == MERGE_TAG:
            merges.append(value_node)
        elif _scalar_key(key_node) == str(key):
            return key_node, value_node
    for merged in merges:
        for candidate in merged.value if merged.id == "sequence" else [merged]:
            found = _mapping_item(candidate, key)
            if found:
                return found
    return None


def node_at(node: Any, path: Sequence[PathPart]) -> Any | None:
    for part in path:
        if node is None:
            return None
        if isinstance(part, int):
            node = node.value[part] if node.id == "sequence" and 0 <= part < len(node.value) else None
        else:
            found = _mapping_item(node, part)
            node = found[1] if found else None
    return node


def duplicate_keys(node: Any) -> Iterator[DuplicateKey]:
    """Keys written twice in one mapping (PyYAML keeps the last silently; Helm/kubectl differ)."""
    stack, seen_nodes = [node], set()
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen_nodes:  # aliases share nodes
            continue
        seen_nodes.add(id(current))
        if current.id == "mapping":
            first: dict[str, int] = {}
            for key_node, value_node in current.value:
                key = _scalar_key(key_node)
                if key is not None and key_node.tag != MERGE_TAG:
                    line = key_node.start_mark.line + 1
                    if key in first:
                        yield DuplicateKey(key, line, key_node.start_mark.column + 1, first[key])
                    first.setdefault(key, line)
                stack += [key_node, value_node]
        elif current.id == "sequence":
            stack += current.value


def _plain(value: Any) -> Any:
    """ruamel's fallback builds dates; make them text as the C loader does."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def decode(data: bytes | str, name: str = "") -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def load_documents(text: str) -> list[Document]:
    """Every document of `text`, raising YamlSyntaxError with a position on failure.

    The limits of core/yamlload.py apply (file size, aliases, depth, integer digits), so a
    YAML bomb is a syntax problem at its line, not a hang.
    """
    text = text.lstrip("\ufeff")
    try:
        check_size(text)
        return _load_fast(text) or _load_pyyaml(text)
    except LimitExceeded as exc:
        raise YamlSyntaxError(exc.message, exc.line, exc.column) from None
    except yaml.MarkedYAMLError as exc:
        if "duplicate anchor" not in str(exc):
            raise _syntax_error(exc) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc)) from None
    return _load_ruamel(text)


def _syntax_error(exc: Any) -> YamlSyntaxError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    if exc.context and exc.problem:
        problem = f"{exc.problem} ({exc.context})"
    if mark is None:
        return YamlSyntaxError(str(problem))
    return YamlSyntaxError(str(problem), mark.line + 1, mark.column + 1)


def _load_fast(text: str) -> list[Document] | None:
    """The plain subset without PyYAML (core/yamlfast.py): same data, same duplicates; None
    for anything else, and for a file over the node limit (PyYAML's path says so)."""
    found = yamlfast.read(text, _no_note)
    if found is None or found.nodes > MAX_EXPANDED_NODES:
        return None
    dups = [DuplicateKey(d.key, d.line, d.column, d.first_line) for d in found.duplicates_depth_first()]
    return [Document(data, _LATER, text, dups) for data in found.documents]


def _no_note(raw: str) -> bool:
    return False  # YAML 1.1/1.2 notes are the diff's; validation does not ask for them


def _load_pyyaml(text: str) -> list[Document]:
    loader = _Loader(text)
    documents = []
    try:
        while loader.check_node():
            node = loader.get_node()
            check_limits(node)
            # Nodes first: construction flattens `<<` merges into the mapping in place, which
            # would make merged keys look like duplicates. Duplicate checks walk the raw nodes.
            dups = list(duplicate_keys(node))
            data = loader.construct_document(node)
            documents.append(Document(data, node, text, dups))
    finally:
        loader.dispose()
    return documents


def _load_ruamel(text: str) -> list[Document]:
    import ruamel.yaml
    from ruamel.yaml.error import MarkedYAMLError as RuamelMarked

    parser = ruamel.yaml.YAML(typ="safe", pure=True)
    parser.allow_duplicate_keys = True  # reported by duplicate_keys() like the fast path
    try:
        with warnings.catch_warnings():  # ReusedAnchorWarning: allowed by YAML 1.2, as here
            warnings.simplefilter("ignore")
            nodes = list(parser.compose_all(text))
            for node in nodes:
                check_limits(node)
            # Duplicates first: constructing flattens `<<` merges into the nodes in place.
            dups = [list(duplicate_keys(n)) for n in nodes]
            datas = [parser.constructor.construct_document(n) for n in nodes]
    except LimitExceeded as exc:
        raise YamlSyntaxError(exc.message, exc.line, exc.column) from None
    except RuamelMarked as exc:
        raise _syntax_error(exc) from None
    except Exception as exc:  # ruamel raises assorted errors on odd input
        raise YamlSyntaxError(str(exc)) from None
    return [Document(_plain(d), n, text, x) for n, d, x in zip(nodes, datas, dups, strict=True)]


_SPLIT = re.compile(r"(?<!\\)\.")
_INDEX = re.compile(r"^(.*?)((?:\[(?:\d+|\*)\])*)$")


def parse_key(dotted: str) -> tuple[PathPart | None, ...]:
    """'spec.sources[0].targetRevision' -> ('spec', 'sources', 0, 'targetRevision').

    `\\.` escapes a dot inside a key (annotations); `[*]` becomes None (every item).
    """
    parts: list[PathPart | None] = []
    for piece in _SPLIT.split(dotted.strip()):
        match = _INDEX.match(piece)
        name, indexes = (match.group(1), match.group(2)) if match else (piece, "")
        if name:
            parts.append(name.replace("\\.", "."))
        for index in re.findall(r"\[(\d+|\*)\]", indexes):
            parts.append(None if index == "*" else int(index))
    return tuple(parts)
