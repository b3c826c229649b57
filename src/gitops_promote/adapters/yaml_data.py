"""The first document of a YAML file as plain data: fast, with the limits of core/yamlload.py.

`gitops parity` reads 100,000 files at 20,000 apps and needs only their data. libyaml composes
the nodes; plain mappings, sequences and the common scalars are built here in one walk that
also counts what the limits count (expanded nodes, depth), so the common file is composed once
and walked once. Everything else (merge keys, other tags, recursive aliases, a limit reached,
a syntax error, a re-defined anchor) goes through `yaml_nodes.load_documents`, which decides:
the result is always that function's first document, or its error.
"""

from __future__ import annotations

from typing import Any

import yaml

from gitops_promote.adapters.yaml_nodes import MERGE_TAG, YamlSyntaxError, decode, load_documents
from gitops_promote.adapters.yaml_nodes import _Loader as Loader
from gitops_promote.core.yamlload import MAX_DEPTH, MAX_EXPANDED_NODES, MAX_FILE_BYTES

_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_PLAIN_SCALARS = {f"tag:yaml.org,2002:{t}" for t in ("int", "float", "bool", "null", "timestamp")}
_KEY_TYPES = (str, int, float, bool, type(None))
_ScalarNode, _MappingNode, _SequenceNode = yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode


class _Loader(Loader):
    """The loader of `yaml_nodes`, with the implicit tag of a plain scalar remembered by text.

    Resolving is a regex scan per scalar in Python, 1.7 million of them at 20,000 apps, over a
    few thousand distinct texts (keys, `true`, `1`, `ClusterIP`). Without path resolvers (the
    safe loaders have none) the tag depends on the text and its style only, so it is cached.
    """

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is _ScalarNode:
            key = (value, implicit)
            tag = _TAGS.get(key)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(_TAGS) < _CACHE_LIMIT:
                    _TAGS[key] = tag
            return tag
        return _MAP if kind is _MappingNode else _SEQ


assert not Loader.yaml_path_resolvers, "the tag cache assumes no path resolvers"
_CACHE_LIMIT = 200_000  # distinct texts remembered (keys are short; bounded memory either way)
_TAGS: dict[tuple[Any, Any], str] = {}
_SCALARS: dict[tuple[str, str], Any] = {}  # (tag, text) -> constructed value (all immutable)


class _Full(Exception):
    """Leave this file to `load_documents` (what it raises or returns is the answer)."""


def first_document(raw: bytes | str) -> Any:
    """The data of the first document (None for an empty file); YamlSyntaxError otherwise.
    The one reader of data only (no nodes, no positions): `parity`'s 100,000 files.

    The same data and errors as `load_documents(decode(raw))[0].data`, the limits included.
    """
    text = decode(raw).lstrip("\ufeff")
    if len(text) <= MAX_FILE_BYTES:
        try:
            return _fast(text)
        except _Full:
            pass
    documents = load_documents(text)
    return documents[0].data if documents else None


def _fast(text: str) -> Any:
    loader = _Loader(text)
    try:
        nodes = []
        while loader.check_node():
            nodes.append(loader.get_node())
        datas = [_Builder(loader).build(node) for node in nodes]  # every document: as the full path
    except yaml.YAMLError:
        raise _Full() from None
    finally:
        loader.dispose()
    return datas[0] if datas else None


class _Builder:
    """Data from one document's nodes; aliases shared (as PyYAML does) and sized as expanded."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.memo: dict[int, tuple[Any, int] | None] = {}  # node id -> (data, expanded size); None: building

    def build(self, node: Any) -> Any:
        data, size = self._node(node, 0)
        if size > MAX_EXPANDED_NODES:
            raise _Full()
        return data

    def _node(self, node: Any, depth: int) -> tuple[Any, int]:
        kind = type(node)
        if kind is _ScalarNode:
            if node.tag == _STR:
                return node.value, 1
            return self._scalar(node), 1
        key = id(node)
        if key in self.memo:
            done = self.memo[key]
            if done is None:
                raise _Full()  # an alias inside the node it names: recursive data
            return done
        if depth >= MAX_DEPTH:
            raise _Full()
        self.memo[key] = None
        data, size = self._collection(kind, node, depth + 1)
        if size > MAX_EXPANDED_NODES:
            raise _Full()
        self.memo[key] = (data, size)
        return data, size

    def _scalar(self, node: Any) -> Any:
        key = (node.tag, node.value)
        if key in _SCALARS:
            return _SCALARS[key]
        if node.tag not in _PLAIN_SCALARS:
            raise _Full()
        value = self.loader.yaml_constructors[node.tag](self.loader, node)
        if len(_SCALARS) < _CACHE_LIMIT:
            _SCALARS[key] = value
        return value

    def _collection(self, kind: Any, node: Any, depth: int) -> tuple[Any, int]:
        size = 1
        if kind is _MappingNode and node.tag == _MAP:
            data: Any = {}
            for key_node, value_node in node.value:
                if key_node.tag == MERGE_TAG:
                    raise _Full()
                key, key_size = self._node(key_node, depth)
                if not isinstance(key, _KEY_TYPES):
                    raise _Full()  # PyYAML refuses unhashable keys with a position: let it
                data[key], value_size = self._node(value_node, depth)
                size += key_size + value_size
            return data, size
        if kind is _SequenceNode and node.tag == _SEQ:
            items = []
            for item in node.value:
                value, item_size = self._node(item, depth)
                items.append(value)
                size += item_size
            return items, size
        raise _Full()


__all__ = ["YamlSyntaxError", "first_document"]
