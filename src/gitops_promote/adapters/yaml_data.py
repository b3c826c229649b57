"""The first document of a YAML file as plain data: fast, with the limits of core/yamlload.py.

`gitops parity` reads 100,000 files at 20,000 apps and needs only their data. libyaml composes
the nodes; plain mappings, sequences and the common scalars are built in one walk that also
counts what the limits count (expanded nodes, depth): core/yamlload.NodeWalk, the diff's walk
too, so the common file is composed once and walked once. Everything else (merge keys, other
tags, recursive aliases, a limit reached, a syntax error, a re-defined anchor) goes through
`yaml_nodes.load_documents`, which decides: the result is always that function's first
document, or its error.
"""

from __future__ import annotations

from typing import Any

from gitops_promote.adapters.yaml_nodes import YamlSyntaxError, decode, load_documents
from gitops_promote.adapters.yaml_nodes import _Loader as Loader
from gitops_promote.core.pyyaml import yaml
from gitops_promote.core.yamlload import MAX_FILE_BYTES, NodeWalk, Unusual

_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
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


def first_document(raw: bytes | str) -> Any:
    """The data of the first document (None for an empty file); YamlSyntaxError otherwise.
    The one reader of data only (no nodes, no positions): `parity`'s 100,000 files.

    The same data and errors as `load_documents(decode(raw))[0].data`, the limits included.
    """
    text = decode(raw).lstrip("\ufeff")
    if len(text) <= MAX_FILE_BYTES:
        try:
            return _fast(text)
        except Unusual:  # left to `load_documents`: what it raises or returns is the answer
            pass
    documents = load_documents(text)
    return documents[0].data if documents else None


def _fast(text: str) -> Any:
    loader = _Loader(text)
    try:
        nodes = []
        while loader.check_node():
            nodes.append(loader.get_node())
        datas = [_DataWalk(loader).build(node) for node in nodes]  # every document: as the full path
    except yaml.YAMLError:
        raise Unusual() from None
    finally:
        loader.dispose()
    return datas[0] if datas else None


class _DataWalk(NodeWalk):
    """Parity's walk: keys of any scalar type (as `load_documents` keeps them) and timestamps
    as text, each (tag, text) constructed once."""

    key_types = _KEY_TYPES

    def scalar(self, node: Any) -> Any:
        key = (node.tag, node.value)
        if key in _SCALARS:
            return _SCALARS[key]
        if node.tag not in _PLAIN_SCALARS:
            raise Unusual()  # merge keys, binary, sets, other tags
        value = self.loader.yaml_constructors[node.tag](self.loader, node)
        if len(_SCALARS) < _CACHE_LIMIT:
            _SCALARS[key] = value
        return value


__all__ = ["YamlSyntaxError", "first_document"]
