"""Byte-preserving edits: carry env-specific keys from a branch's file into a promoted file.

`carry_keys` splices text at node positions (never re-serialises), then verifies the result:
it parses, the listed keys hold the target's values, all other data is the source's, and only
lines of the listed keys differ from the source. When any of that cannot be guaranteed it
refuses with YamlEditError naming the file and key. Semantics: docs/validation.md
("env_specific_keys").
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gitops_promote.adapters.yaml_nodes import (
    DataPath,
    Document,
    PathPart,
    YamlSyntaxError,
    decode,
    get_path,
    load_documents,
    node_at,
    parse_key,
)
from gitops_promote.errors import RefusedError

HINT = (
    "edit the key by hand on the target branch after promoting, or remove it from "
    "promotion.env_specific_keys; docs/validation.md explains what can be carried"
)


class YamlEditError(RefusedError):
    """An env-specific key could not be carried without touching other bytes."""

    def __init__(self, path: str, key: str, reason: str) -> None:
        where = f"{path}: {key}: " if key else f"{path}: "
        super().__init__(f"{where}cannot carry the environment's value: {reason}", hint=HINT)
        self.path = path
        self.key = key


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str
    key: str
    doc: int = 0
    created: DataPath | None = None  # the first parent mapping this edit had to create


# ---------------------------------------------------------------------------------------------
# public API


def carry_keys(source: bytes, target: bytes, keys: Sequence[str], path: str) -> bytes:
    """`source` with each dotted key in `keys` taking `target`'s value.

    Replaced when both files have the key, added when only the target has it, left alone when
    the target lacks it. Documents are matched by kind/namespace/name, else by position.
    """
    if not keys:
        return source
    src_text, tgt_text = _text(source, path), _text(target, path)
    src_docs, tgt_docs = _load(src_text, path), _load(tgt_text, path)
    pairs = match_documents(src_docs, tgt_docs, path)
    edits: list[_Edit] = []
    for si, ti in pairs:
        if ti is None:
            continue
        for key in keys:
            for key_path in _expand(parse_key(key), src_docs[si].data, tgt_docs[ti].data):
                edit = _edit_for(src_docs[si], tgt_docs[ti], key_path, key, path, src_text, tgt_text)
                if edit is not None:
                    edits.append(dataclasses.replace(edit, doc=si))
    if not edits:
        return source
    result_text = _apply(src_text, edits, path)
    _verify(src_text, result_text, src_docs, tgt_docs, pairs, keys, edits, path)
    bom = "\ufeff" if source.startswith(b"\xef\xbb\xbf") else ""
    return (bom + result_text).encode("utf-8")


def keys_equal_ignoring(source: bytes, target: bytes, keys: Sequence[str]) -> bool:
    """Whether both files hold the same data once the listed keys are ignored (drift guard)."""
    try:
        src_docs = load_documents(decode(source))
        tgt_docs = load_documents(decode(target))
    except YamlSyntaxError:
        return source == target
    if len(src_docs) != len(tgt_docs):
        return False
    try:
        pairs = match_documents(src_docs, tgt_docs, "")
    except YamlEditError:
        return False
    paths = [parse_key(k) for k in keys]
    return all(
        ti is not None and _without(src_docs[si].data, paths) == _without(tgt_docs[ti].data, paths) for si, ti in pairs
    )


def match_documents(src: Sequence[Document], tgt: Sequence[Document], path: str) -> list[tuple[int, int | None]]:
    """Pair each source document with a target one: by identity when unique, else position."""
    src_ids = [_identity(d.data) for d in src]
    tgt_ids = [_identity(d.data) for d in tgt]
    pairs: dict[int, int | None] = {}
    used: set[int] = set()
    for si, ident in enumerate(src_ids):
        if ident is not None and src_ids.count(ident) == 1 and tgt_ids.count(ident) == 1:
            partner = tgt_ids.index(ident)
            pairs[si] = partner
            used.add(partner)
    for si in range(len(src)):
        if si in pairs:
            continue
        positional = len(src) == len(tgt) and si not in used and src_ids[si] is None and tgt_ids[si] is None
        pairs[si] = si if positional else None
        if positional:
            used.add(si)
    unmatched_src = [si for si, ti in pairs.items() if ti is None and src_ids[si] is None]
    unmatched_tgt = [ti for ti in range(len(tgt)) if ti not in used and tgt_ids[ti] is None]
    if unmatched_src and unmatched_tgt:
        raise YamlEditError(
            path,
            "",
            "documents without kind/metadata.name differ in number between the branches, so they cannot be paired",
        )
    return sorted(pairs.items())


# ---------------------------------------------------------------------------------------------
# helpers: loading and paths


def _text(data: bytes, path: str) -> str:
    try:
        return decode(data)
    except YamlSyntaxError as exc:
        raise YamlEditError(path, "", exc.message) from None


def _load(text: str, path: str) -> list[Document]:
    try:
        return load_documents(text)
    except YamlSyntaxError as exc:
        raise YamlEditError(path, "", f"not valid YAML (line {exc.line}): {exc.message}") from None


def _identity(data: Any) -> tuple[str, str, str] | None:
    meta = data.get("metadata") if isinstance(data, dict) else None
    if not isinstance(meta, dict) or not data.get("kind") or not meta.get("name"):
        return None
    return (str(data["kind"]), str(meta.get("namespace") or ""), str(meta["name"]))


def _expand(parts: tuple[PathPart | None, ...], src: Any, tgt: Any) -> list[DataPath]:
    """Concrete paths for a key; `[*]` ranges over items present in the target."""
    paths: list[DataPath] = [()]
    for part in parts:
        if part is not None:
            paths = [(*p, part) for p in paths]
            continue
        grown: list[DataPath] = []
        for p in paths:
            items = get_path(tgt, p)[1]
            grown += [(*p, i) for i in range(len(items))] if isinstance(items, list) else []
        paths = grown
    return paths


def _without(data: Any, paths: Sequence[tuple[PathPart | None, ...]]) -> Any:
    data = copy.deepcopy(data)
    for parts in paths:
        for concrete in sorted(_expand(parts, data, data), reverse=True):
            found, parent = get_path(data, concrete[:-1])
            last = concrete[-1] if concrete else None
            if found and isinstance(parent, dict) and last in parent:
                del parent[last]
            elif found and isinstance(parent, list) and isinstance(last, int) and last < len(parent):
                parent[last] = None  # keep positions of later items
    return data


# ---------------------------------------------------------------------------------------------
# helpers: spans


def _content_end(node: Any, text: str) -> int:
    """Index just after the node's last content character (block collections' end marks run
    on to the next token, over trailing comments and blank lines, which we must not touch)."""
    if node.id == "scalar":
        start, end = int(node.start_mark.index), int(node.end_mark.index)
        return start + len(text[start:end].rstrip()) if end > start else end
    if getattr(node, "flow_style", False) or not node.value:
        return int(node.end_mark.index)
    last = node.value[-1]
    if node.id == "mapping":
        return max(_content_end(last[0], text), _content_end(last[1], text))
    return _content_end(last, text)


def _line_end(text: str, index: int) -> int:
    """Extend over the rest of the line when it holds only blanks or a comment."""
    newline = text.find("\n", index)
    newline = len(text) if newline < 0 else newline
    rest = text[index:newline].rstrip("\r")
    if rest.strip() == "" or rest.lstrip().startswith("#"):
        return index + len(rest)
    return index


def _value_span(key_node: Any, value_node: Any, text: str, what: str, path: str) -> tuple[int, int]:
    """From the end of the key to the end of the value's line: ': value  # comment'."""
    key_end = key_node.end_mark.index
    if value_node.start_mark.index < key_end:
        raise YamlEditError(
            path, what, "the value is an alias or comes from a merge key (<<); the text at the key is not the value"
        )
    if value_node.id == "scalar" and value_node.value == "" and not value_node.style:
        end = text.index(":", key_end) + 1  # an empty value: ruamel's mark is on the next line
    else:
        end = _content_end(value_node, text)
    return key_end, _line_end(text, end)


def _item_span(node: Any, text: str) -> tuple[int, int]:
    return node.start_mark.index, _line_end(text, _content_end(node, text))


def _reindent(fragment: str, delta: int, newline: str, what: str, path: str) -> str:
    """Shift every line but the first by `delta` columns (block values keep their layout)."""
    lines = fragment.replace("\r\n", "\n").split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        if delta >= 0 or not line.strip():
            out.append(" " * delta + line if line.strip() else line)
        elif line[:-delta].strip() == "":
            out.append(line[-delta:])
        else:
            raise YamlEditError(path, what, "the target's value is indented less than the source needs")
    return newline.join(out)


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


# ---------------------------------------------------------------------------------------------
# edits


def _edit_for(
    src: Document, tgt: Document, key_path: DataPath, key: str, path: str, src_text: str, tgt_text: str
) -> _Edit | None:
    t_found, t_value = get_path(tgt.data, key_path)
    if not t_found or not key_path:
        return None
    s_found, s_value = get_path(src.data, key_path)
    if s_found and s_value == t_value and type(s_value) is type(t_value):
        return None  # already equal: leave every byte alone
    if s_found:
        return _replace(src, tgt, key_path, key, path, src_text, tgt_text)
    return _insert(src, tgt, key_path, key, path, src_text, tgt_text)


def _spans(doc: Document, key_path: DataPath, text: str, key: str, path: str) -> tuple[int, int, int]:
    """(start, end, column of the key or item) for the value at key_path."""
    last = key_path[-1]
    if isinstance(last, int):
        item = node_at(doc.node, key_path)
        if item is None:
            raise YamlEditError(path, key, "the list item's position could not be found")
        start, end = _item_span(item, text)
        return start, end, int(item.start_mark.column)
    key_node, value_node = doc.key_node_at(key_path), node_at(doc.node, key_path)
    if key_node is None or value_node is None:
        raise YamlEditError(path, key, "the key's position could not be found")
    start, end = _value_span(key_node, value_node, text, key, path)
    return start, end, key_node.start_mark.column


def _replace(
    src: Document, tgt: Document, key_path: DataPath, key: str, path: str, src_text: str, tgt_text: str
) -> _Edit:
    s_start, s_end, s_col = _spans(src, key_path, src_text, key, path)
    t_start, t_end, t_col = _spans(tgt, key_path, tgt_text, key, path)
    fragment = _reindent(tgt_text[t_start:t_end], s_col - t_col, _newline(src_text), key, path)
    if "\n" in fragment and _in_flow(src, key_path):
        raise YamlEditError(
            path,
            key,
            "the source writes this key inside a flow collection ({...} or [...]) and the target's value "
            "spans lines; write it in block style on one of the branches",
        )
    return _Edit(s_start, s_end, fragment, key)


def _in_flow(doc: Document, key_path: DataPath) -> bool:
    return any(getattr(node_at(doc.node, key_path[:depth]), "flow_style", False) for depth in range(len(key_path)))


def _insert(
    src: Document, tgt: Document, key_path: DataPath, key: str, path: str, src_text: str, tgt_text: str
) -> _Edit:
    depth = max(d for d in range(len(key_path)) if get_path(src.data, key_path[:d])[0])
    missing = key_path[depth:]
    anchor = node_at(src.node, key_path[:depth])
    if any(isinstance(p, int) for p in missing):
        raise YamlEditError(path, key, "the source lacks the list item to add the key to")
    if anchor is None or anchor.id != "mapping" or getattr(anchor, "flow_style", False) or not anchor.value:
        raise YamlEditError(
            path,
            key,
            f"the source has no block mapping at "
            f"{'.'.join(map(str, key_path[:depth])) or 'the document root'} to add the key to",
        )
    newline = _newline(src_text)
    base_col = anchor.value[0][0].start_mark.column
    found = [tgt.key_node_at(key_path[: depth + i + 1]) for i in range(len(missing))]
    t_keys = [k for k in found if k is not None]
    if len(t_keys) != len(found):
        raise YamlEditError(path, key, "the key's position in the target could not be found")
    first_col = t_keys[0].start_mark.column
    lines = []
    for t_key in t_keys[:-1]:
        indent = base_col + t_key.start_mark.column - first_col
        lines.append(" " * indent + tgt_text[t_key.start_mark.index : t_key.end_mark.index] + ":")
    last_key = t_keys[-1]
    indent = base_col + last_key.start_mark.column - first_col
    t_start, t_end, t_col = _spans(tgt, key_path, tgt_text, key, path)
    fragment = _reindent(tgt_text[t_start:t_end], indent - t_col, newline, key, path)
    lines.append(" " * indent + tgt_text[last_key.start_mark.index : last_key.end_mark.index] + fragment)
    at = _line_end(src_text, _content_end(anchor, src_text))
    created = key_path[: depth + 1] if len(missing) > 1 else None
    return _Edit(at, at, newline + newline.join(lines), key, created=created)


def _apply(text: str, edits: Sequence[_Edit], path: str) -> str:
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.start < before.end or (after.start == before.start and after.end == before.end):
            raise YamlEditError(path, after.key, f"it overlaps {before.key} (list a key or its parent, not both)")
    for edit in reversed(ordered):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


# ---------------------------------------------------------------------------------------------
# verification


def _verify(
    src_text: str,
    result: str,
    src_docs: Sequence[Document],
    tgt_docs: Sequence[Document],
    pairs: Sequence[tuple[int, int | None]],
    keys: Sequence[str],
    edits: Sequence[_Edit],
    path: str,
) -> None:
    try:
        out_docs = load_documents(result)
    except YamlSyntaxError as exc:
        raise YamlEditError(
            path, _key_near(edits, src_text, exc.line), f"the spliced file would not parse ({exc.message})"
        ) from None
    if len(out_docs) != len(src_docs):
        raise YamlEditError(path, "", "the spliced file would have a different number of documents")
    parsed = [parse_key(k) for k in keys]
    for si, ti in pairs:
        out, src = out_docs[si].data, src_docs[si].data
        created = [e.created for e in edits if e.doc == si and e.created is not None]
        if _without(out, [*parsed, *created]) != _without(src, parsed):
            raise YamlEditError(path, ", ".join(keys), "the splice would change data outside the listed keys")
        if ti is None:
            continue
        for key, parts in zip(keys, parsed, strict=True):
            for key_path in _expand(parts, src, tgt_docs[ti].data):
                expected = get_path(tgt_docs[ti].data, key_path)
                if expected[0] and get_path(out, key_path) != expected:
                    raise YamlEditError(path, key, "after splicing, the key does not hold the target's value")
    _verify_lines(src_text, result, edits, path)


def _verify_lines(src_text: str, result: str, edits: Sequence[_Edit], path: str) -> None:
    """Only lines the edits touched may differ (difflib), as the splice promises."""
    allowed_src: set[int] = set()
    allowed_out: set[int] = set()
    shift = 0
    for edit in sorted(edits, key=lambda e: e.start):
        first = src_text.count("\n", 0, edit.start)
        allowed_src.update(range(first, src_text.count("\n", 0, edit.end) + 1))
        out_start = edit.start + shift
        out_first = result.count("\n", 0, out_start)
        allowed_out.update(range(out_first, result.count("\n", 0, out_start + len(edit.text)) + 1))
        shift += len(edit.text) - (edit.end - edit.start)
    a, b = src_text.splitlines(), result.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal" and (not set(range(i1, i2)) <= allowed_src or not set(range(j1, j2)) <= allowed_out):
            raise YamlEditError(path, "", f"the splice would change line {i1 + 1}, which belongs to no listed key")


def _key_near(edits: Sequence[_Edit], text: str, line: int) -> str:
    """The key of the last edit starting at or before `line` (a best guess for the culprit)."""
    before = [e for e in edits if text.count("\n", 0, e.start) + 1 <= line]
    return max(before, key=lambda e: e.start).key if before else (edits[0].key if edits else "")
