"""One walker builds plain data from libyaml's nodes: core/yamlload.NodeWalk, used by the diff's
loader (`_load_walked`, duplicate keys as problems) and by parity's (adapters/yaml_data, keys of
any scalar type, timestamps as text). Each still gives what its reference gives (the full
loaders: `_load_with`, `load_documents`), on the corpus and on the generated files the older
tests use; where both walks build a file they build the same data; they stop at the same
limits; and no other module walks nodes into data.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from test_yamlload_walk import _files
from test_yamlload_walk import _same as walked_as_pyyaml

from gitops_promote.adapters import yaml_data
from gitops_promote.adapters.yaml_nodes import YamlSyntaxError, decode, load_documents
from gitops_promote.core import yamlload
from gitops_promote.core.yamlload import MAX_DEPTH, NodeWalk, Unusual

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
CORPUS = sorted(p for p in DATA.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _walks(text: str) -> tuple[Any, Any]:
    """What each walk builds of every document (Unusual when it leaves the file to its caller)."""
    return _walked(text, lambda loader: yamlload._DiffWalk(loader, "x.yaml"), yamlload._Loader), _walked(
        text, yaml_data._DataWalk, yaml_data._Loader
    )


def _walked(text: str, walk: Any, loader_class: Any) -> Any:
    loader = loader_class(text)
    try:
        built = []
        while loader.check_node():
            built.append(walk(loader).build(loader.get_node()))
        return repr(built)
    except (Unusual, yaml.YAMLError) as exc:
        return type(exc).__name__
    finally:
        loader.dispose()


def _reference_first(raw: bytes) -> tuple[str, Any]:
    try:
        documents = load_documents(decode(raw))
    except YamlSyntaxError as exc:
        return "error", str(exc)
    return "data", repr(documents[0].data if documents else None)


def _first(raw: bytes) -> tuple[str, Any]:
    try:
        return "data", repr(yaml_data.first_document(raw))
    except YamlSyntaxError as exc:
        return "error", str(exc)


def _check(raw: bytes) -> None:
    walked_as_pyyaml("x.yaml", raw)  # the diff's walk is its reference's, or leaves the file to it
    assert _first(raw) == _reference_first(raw)  # parity's too
    diff_walk, data_walk = _walks(raw.decode("utf-8", "replace"))
    if diff_walk not in ("Unusual", "YAMLError") and data_walk not in ("Unusual", "YAMLError"):
        assert diff_walk == data_walk  # one walker: the same data where both build it


def test_the_corpus() -> None:
    both = 0
    for file in CORPUS:
        raw = file.read_bytes()
        _check(raw)
        both += "Unusual" not in _walks(raw.decode("utf-8", "replace"))
    assert both > len(CORPUS) // 3  # most real files are built by both walks


@settings(max_examples=300, deadline=None)
@given(_files())
def test_generated_files(text: str) -> None:
    _check(text.encode())


@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, MAX_DEPTH + 2])
def test_both_walks_stop_at_the_same_depth(depth: int) -> None:
    text = "[" * depth + "]" * depth + "\n"
    diff_walk, data_walk = _walks(text)
    assert (diff_walk == "Unusual") is (data_walk == "Unusual") is (depth > MAX_DEPTH)  # 256 levels: 0 to 255
    _check(text.encode())


@pytest.mark.parametrize(
    "text",
    [
        "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n",  # aliases sized as expanded
        "loop: &l [1, *l]\n",  # recursive
        "? [a, b]\n: unhashable key\n",
        "<<: {a: 1}\n",
        "x: !custom 1\n",
    ],
)
def test_both_walks_share_aliases_and_refuse_the_same(text: str) -> None:
    diff_walk, data_walk = _walks(text)
    assert (diff_walk == "Unusual") is (data_walk == "Unusual")
    _check(text.encode())


def test_a_bomb_is_over_the_limit_in_both_walks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlload, "MAX_EXPANDED_NODES", 20)  # the limit both read, lowered for a small bomb
    text = "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n"  # 61 nodes expanded, 10 written
    assert _walks(text) == ("Unusual", "Unusual")
    assert _walks("a: [x, x]\n") != ("Unusual", "Unusual")


def test_the_walks_differ_only_in_keys_and_scalars() -> None:
    assert issubclass(yamlload._DiffWalk, NodeWalk) and issubclass(yaml_data._DataWalk, NodeWalk)
    assert _walks("1: a\nwhen: 2024-01-01\n") == ("Unusual", "[{1: 'a', 'when': '2024-01-01'}]")


def test_no_other_walker_builds_data_from_nodes() -> None:
    """A class walking nodes into data defines `_mapping`/`_sequence` over `node.value`: only
    NodeWalk does, anywhere in the package."""
    found = []
    for path in (ROOT / "src" / "gitops_promote").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                methods = {f.name for f in node.body if isinstance(f, ast.FunctionDef)}
                if {"_mapping", "_sequence"} & methods or {"_collection"} & methods:
                    found.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert found == ["src/gitops_promote/core/yamlload.py:NodeWalk"]
