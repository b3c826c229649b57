"""The per-path and per-text work a 20,000-app diff repeats is remembered, and remembering it
changes nothing: each fast path here against its reference (the code it replaced, kept below
as the oracle), on every path of the test corpus's documents and on generated ones.

- core/secrets.is_secret_path: the path's own verdict cached (`_path_secrecy`), the documents
  still walked each time;
- core/diffmodel: `display_path` and `json_pointer` spelled once per path;
- core/yamlfast: `_inside` instead of the `_OUTSIDE` regex scan, plain keys' and values'
  resolution remembered (`_is_str_key`, `_constructed`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_promote.core import secrets, yamlfast, yamlload
from gitops_promote.core.diffmodel import Change, Segment

DATA = Path(__file__).parent / "data"
CORPUS = sorted(p for p in DATA.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


# ---- the references: the code before the caches ------------------------------------------------


def reference_is_secret_path(
    path: list[Segment], ids: Mapping[int, str], *, secret_doc: bool, doc_depth: int, docs: Sequence[Any] = ()
) -> bool:
    if secret_doc and len(path) > doc_depth and path[doc_depth] in secrets._SECRET_DOC_KEYS:
        return True
    inner = path[doc_depth:]
    for doc in docs:
        if secrets._in_secret_object(doc, inner):
            return True
    leaf = next((s for s in reversed(path) if isinstance(s, str)), None)
    if leaf is not None and secrets.is_reference_key(leaf):
        return False
    for segment in inner:
        if secrets.is_secret_key(segment):
            return True
    return bool(ids) and secrets._is_env_secret(path, ids)


_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*\Z")


def reference_display_path(path: list[Segment], ids: Mapping[int, str]) -> str:
    out = []
    for i, seg in enumerate(path):
        ident = ids.get(i)
        if ident is not None:
            out.append(f"[{ident}]")
        elif isinstance(seg, int):
            out.append(f"[{seg}]")
        elif i == 0 or _PLAIN_KEY.match(seg):
            out.append(f".{seg}" if i else seg)
        else:
            escaped = seg.replace("\\", "\\\\").replace('"', '\\"')
            out.append(f'["{escaped}"]')
    return "".join(out).lstrip(".") or "(root)"


def reference_json_pointer(path: list[Segment]) -> str:
    return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in path)


# ---- paths: the corpus's and generated ones -----------------------------------------------------


def _paths(value: Any, prefix: list[Segment]) -> Iterator[list[Segment]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, [*prefix, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, [*prefix, index])


def _corpus_documents() -> Iterator[tuple[Path, Any]]:
    for file in CORPUS:
        for document in yamlload.load(str(file), file.read_bytes()).documents:
            yield file, document


def _ids_for(document: Any, path: list[Segment]) -> dict[int, str]:
    """Identities as list matching gives them: `name=...` for list items that have a name."""
    ids, node = {}, document
    for i, seg in enumerate(path):
        node = node[seg]
        if isinstance(seg, int) and isinstance(node, dict) and isinstance(node.get("name"), str):
            ids[i] = f"name={node['name']}"
    return ids


def test_every_corpus_path_is_judged_and_spelled_as_before() -> None:
    checked = secret = 0
    for _file, document in _corpus_documents():
        is_secret = isinstance(document, dict) and document.get("kind") == "Secret"
        for path in _paths(document, []):
            for ids in ({}, _ids_for(document, path)):
                for depth, labelled in ((0, path), (1, ["Deployment/ns/x", *path])):
                    want = reference_is_secret_path(
                        labelled, ids, secret_doc=is_secret, doc_depth=depth, docs=[document]
                    )
                    for _ in range(2):  # the second time from the cache
                        got = secrets.is_secret_path(
                            labelled, ids, secret_doc=is_secret, doc_depth=depth, docs=[document]
                        )
                        assert got == want, labelled
                        change = Change(labelled, "changed", ids=ids)
                        assert change.display_path() == reference_display_path(labelled, ids)
                        assert change.json_pointer() == reference_json_pointer(labelled)
                    checked += 1
                    secret += want
    assert checked > 10_000 and secret > 100  # the corpus has Secrets, passwords, env items


_SEGMENTS = st.one_of(
    st.sampled_from(
        ["data", "stringData", "password", "secretName", "dbPassword", "value", "name", "env", "a.b", "x/y", "~0"]
    ),
    st.text(max_size=6),
    st.integers(0, 3),
)
_DOCS = st.sampled_from(
    [
        {},
        {"kind": "Secret", "data": {"k": "v"}},
        {"kind": "List", "items": [{"kind": "Secret", "stringData": {"t": "v"}}]},
        {"env": [{"name": "DB_PASSWORD", "value": "x"}]},
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    path=st.lists(st.one_of(_SEGMENTS, st.just("value")), max_size=5),
    ids=st.dictionaries(st.integers(0, 5), st.sampled_from(["name=API_TOKEN", "name=web", "port=80"]), max_size=2),
    secret_doc=st.booleans(),
    doc_depth=st.integers(0, 2),
    docs=st.lists(_DOCS, max_size=2),
)
def test_generated_paths_are_judged_and_spelled_as_before(
    path: list[Segment], ids: dict[int, str], secret_doc: bool, doc_depth: int, docs: list[Any]
) -> None:
    want = reference_is_secret_path(path, ids, secret_doc=secret_doc, doc_depth=doc_depth, docs=docs)
    for _ in range(2):
        assert secrets.is_secret_path(path, ids, secret_doc=secret_doc, doc_depth=doc_depth, docs=docs) == want
        change = Change(path, "added", ids=ids)
        assert change.display_path() == reference_display_path(path, ids)
        assert change.json_pointer() == reference_json_pointer(path)


def test_ids_in_another_order_are_the_same_identities() -> None:
    path: list[Segment] = ["env", 0, "value"]
    first, second = {1: "name=DB_PASSWORD", 0: "x=y"}, {0: "x=y", 1: "name=DB_PASSWORD"}
    for ids in (first, second):
        assert secrets.is_secret_path(path, ids, secret_doc=False, doc_depth=0)
        assert Change(path, "added", ids=ids).display_path() == "[x=y][name=DB_PASSWORD].value"


# ---- yamlfast ----------------------------------------------------------------------------------


@pytest.mark.parametrize("block", range(0, 0x3000, 0x100))
def test_inside_is_the_outside_regex_on_every_character(block: int) -> None:
    for code in range(block, block + 0x100):
        char = chr(code)
        for text in (char, f"a: {char}\n", f"{char}\n{char}"):
            assert yamlfast._inside(text) is (yamlfast._OUTSIDE.search(text) is None), hex(code)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_inside_is_the_outside_regex_on_generated_texts(text: str) -> None:
    assert yamlfast._inside(text) is (yamlfast._OUTSIDE.search(text) is None)


_RAWS = [
    "true", "True", "TRUE", "yes", "on", "off", "n", "y", "null", "Null", "~", "1", "0", "-1", "+1", "0755",
    "0o17", "0x1F", "1_000", "1.5", ".5", "1e3", "1.0e+3", ".inf", "-.inf", ".nan", "2024-01-01",
    "2024-02-30", "=", "<<", "Foo", "false", "12:30", "1" * 120, "-", "+", ".", "+.inf", "0b101",
]  # fmt: skip


def _constructed_by_reference(raw: str) -> tuple[str, Any]:
    try:
        value = yamlfast._construct(raw)
    except yamlfast.NotPlain:
        return "not plain", None
    return type(value).__name__, repr(value)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.sampled_from(_RAWS), st.from_regex(r"[-+.~0-9a-zA-Z_:=<]{1,8}", fullmatch=True)))
def test_remembered_plain_values_are_constructed_values(raw: str) -> None:
    if raw[0] not in yamlfast._RESOLVERS:
        return  # the reader constructs only these; the rest are the text itself
    want = _constructed_by_reference(raw)
    for _ in range(2):
        try:
            value = yamlfast._constructed(raw)
        except yamlfast.NotPlain:
            assert want == ("not plain", None), raw
            continue
        assert (type(value).__name__, repr(value)) == want, raw
    assert yamlfast._is_str_key(raw) is (yamlfast._resolve(raw) == yamlfast.STR)


# ---- core/yamlload: a string key is its text ----------------------------------------------------


def _key_nodes(node: Any, seen: set[int]) -> Iterator[Any]:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield from _key_nodes(value, seen)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _key_nodes(item, seen)


def _reference_scalar_key(node: Any) -> str:
    try:
        return yamlload.key_text(yamlload._KEY_CONSTRUCTOR.construct_object(node))
    except yaml.YAMLError:
        return str(node.value)
    finally:
        yamlload._KEY_CONSTRUCTOR.constructed_objects.clear()


def test_every_corpus_key_is_spelled_as_the_constructor_spells_it() -> None:
    checked = 0
    for file in CORPUS:
        loaded = yamlload.load(str(file), file.read_bytes(), nodes=True)
        for root in loaded.nodes:
            for key in _key_nodes(root, set()):
                if isinstance(key, yaml.ScalarNode):
                    assert yamlload._scalar_key(key) == _reference_scalar_key(key), (file, key.value)
                    checked += 1
    assert checked > 5_000


# ---- yamlfast: a small file's lines matched once by their text ---------------------------------


def _read_fields(text: str) -> Any:
    found = yamlfast.read(text, yamlload._known_note)
    if found is None:
        return None
    return repr(found.documents), found.duplicates, found.scalars, found.nodes, found.root


def _both_reads(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    cached = _read_fields(text)
    with monkeypatch.context() as patch:
        patch.setattr(yamlfast, "_SMALL", 0)  # every line through the regex itself
        direct = _read_fields(text)
    return cached, direct


def test_corpus_files_read_the_same_with_remembered_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    read = 0
    for file in CORPUS:
        text = file.read_text(encoding="utf-8", errors="replace")
        for _ in range(2):  # the second time every line is remembered
            cached, direct = _both_reads(text, monkeypatch)
            assert cached == direct, file
        read += cached is not None
    assert read > 5  # some corpus files are in the plain subset


_LINES = st.sampled_from(
    ["a: 1", "  b: x", "b:", "  c: true", "# note", "", "a: 2", "    d: 'q'", "on: 1", "e: [1]", "  a: 1", " f: 1"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINES, max_size=12))
def test_generated_files_read_the_same_with_remembered_lines(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    cached = _read_fields(text)
    saved = yamlfast._SMALL
    yamlfast._SMALL = 0
    try:
        assert _read_fields(text) == cached
    finally:
        yamlfast._SMALL = saved
