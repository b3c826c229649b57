"""Structural diff of one file between two versions: pure, no git, no printing.

`diff_file` is the entry point. YAML files (`*.yaml`/`*.yml` outside `templates/`) are
compared as data, so re-indenting, re-quoting or editing comments is `formatting_only`.
Helm templates and other text get a unified line diff; binaries a size line. Secrets are
masked here (core/secrets.py), before any renderer sees a value.
"""

from __future__ import annotations

import json
import posixpath
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from gitops_promote.core import secrets, seqdiff
from gitops_promote.core.diffmodel import (
    Change,
    DiffReport,
    FileDiff,
    FileReport,
    Segment,
)
from gitops_promote.core.paths import is_yaml_path
from gitops_promote.core.yamlload import Loaded, load
from gitops_promote.errors import Problem

__all__ = ["Change", "DiffReport", "FileDiff", "FileReport", "diff_file", "is_yaml_path"]

_BINARY_SNIFF = 8000  # git's heuristic: a NUL in the first 8000 bytes means binary
_CONTEXT_LINES = 3


def diff_file(path: str, old: bytes | None, new: bytes | None, *, show_secrets: bool = False) -> FileDiff:
    """Compare two versions of `path` (None: the file does not exist on that side)."""
    if _is_binary(old) or _is_binary(new):
        result = FileDiff(path, "binary")
    elif is_yaml_path(path):
        result = _diff_yaml(path, old, new, show_secrets)
    else:
        result = FileDiff(path, "text", text_diff=_text_diff(path, old, new, show_secrets))
    result.old_size, result.new_size = _len(old), _len(new)
    return result


def _len(data: bytes | None) -> int | None:
    return None if data is None else len(data)


def _is_binary(data: bytes | None) -> bool:
    if data is None:
        return False
    if b"\0" in data[:_BINARY_SNIFF]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


# --- text --------------------------------------------------------------------------------


def _text_diff(path: str, old: bytes | None, new: bytes | None, show_secrets: bool, whole: bool = False) -> str:
    """Unified diff computed on the raw lines, displayed from the masked lines.

    Masking keeps the line count, so the hunks found on the real text index the masked
    text: a changed password still shows as a changed line, with `***` on both sides.
    """
    a = _lines(old)
    b = _lines(new)
    if a == b:
        return ""
    show_a, show_b = (a, b) if show_secrets else _masked_lines(a, b, whole)
    out = [
        f"--- {_header_path('a/' + path) if old is not None else '/dev/null'}",
        f"+++ {_header_path('b/' + path) if new is not None else '/dev/null'}",
    ]
    for group in seqdiff.grouped(seqdiff.opcodes(a, b), _CONTEXT_LINES):
        out.append(_hunk_header(group))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [" " + line for line in show_a[i1:i2]]
                continue
            out += ["-" + line for line in show_a[i1:i2]]
            out += ["+" + line for line in show_b[j1:j2]]
    return "\n".join(out) + "\n"


def _masked_lines(a: list[str], b: list[str], whole: bool) -> tuple[list[str], list[str]]:
    """Both sides masked by the same rules: a side declaring `kind: Secret` makes both one."""
    if whole:
        return secrets.mask_whole(a), secrets.mask_whole(b)
    secret_doc = secrets.declares_secret("\n".join(a)) or secrets.declares_secret("\n".join(b))
    return secrets.mask_lines(a, secret_doc=secret_doc), secrets.mask_lines(b, secret_doc=secret_doc)


def _header_path(path: str) -> str:
    """A path in a `---`/`+++` line, quoted as git does when it holds a control character,
    so that a newline in a file name cannot forge a diff line."""
    if path.isprintable() and '"' not in path:
        return path
    return json.dumps(path, ensure_ascii=False)


def _lines(data: bytes | None) -> list[str]:
    return [] if data is None else data.decode("utf-8").splitlines()


def _hunk_header(group: list[tuple[str, int, int, int, int]]) -> str:
    first, last = group[0], group[-1]
    return f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@"


def _range(start: int, stop: int) -> str:
    """Same format as difflib.unified_diff (and git): `3`, `3,4`, `2,0`."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


# --- YAML --------------------------------------------------------------------------------


def _diff_yaml(path: str, old: bytes | None, new: bytes | None, show_secrets: bool) -> FileDiff:
    after = load(path, new) if new is not None else Loaded()
    # The same bytes (a file whose mode alone changed) read the same: parsed once.
    before = after if old == new else load(path, old) if old is not None else Loaded()
    errors = after.problems if old == new else (_side("old", before.problems) + _side("new", after.problems))
    result = FileDiff(path, "yaml", errors=errors)
    if before.fatal or after.fatal:
        # A Secret we cannot parse is masked whole: its lines cannot be trusted to be structure.
        whole = any(secrets.declares_secret(_decoded(d)) for d in (old, new))
        result.text_diff = _text_diff(path, old, new, show_secrets, whole)
        return result
    ctx = _Context(posixpath.basename(path), show_secrets)
    result.changes, labels = _diff_documents(before.documents, after.documents, ctx)
    result.formatting_only = not result.changes and old is not None and new is not None and old != new
    result.notes = _version_notes(path, result.changes, after, labels)
    return result


def _decoded(data: bytes | None) -> str:
    return "" if data is None else data.decode("utf-8", "replace")


def _side(side: str, problems: list[Problem]) -> list[Problem]:
    """Say which version a problem is in (one version when both are identical)."""
    return [p._replace(message=f"{p.message} (in the {side} version)") for p in problems]


@dataclass(frozen=True)
class _Context:
    file_name: str
    show_secrets: bool


# --- documents ---------------------------------------------------------------------------

DocKey = tuple[Any, ...]


@dataclass(frozen=True)
class _Doc:
    key: DocKey
    index: int
    data: Any
    ident: tuple[str, str, str, str] | None


def _diff_documents(old: list[Any], new: list[Any], ctx: _Context) -> tuple[list[Change], list[str] | None]:
    """Single-document files diff at the root; multi-document files match documents.

    Also returns the label of each new document (None for a single-document file).
    """
    if len(old) <= 1 and len(new) <= 1:
        a = old[0] if old else _ABSENT
        b = new[0] if new else _ABSENT
        return _diff_root(a, b, [], ctx, _is_secret_doc(a, b), 0), None
    olds, news = _keyed(old), _keyed(new)
    labels = _labels([d.ident for d in olds + news if d.ident])
    by_key = {d.key: d for d in olds}
    new_keys = {d.key for d in news}
    changes: list[Change] = []
    for doc in news:
        before = by_key.get(doc.key)
        label = _doc_label(doc, labels)
        a = before.data if before else _ABSENT
        changes += _diff_root(a, doc.data, [label], ctx, _is_secret_doc(a, doc.data), 1)
    for doc in olds:
        if doc.key not in new_keys:
            label = _doc_label(doc, labels)
            secret = _is_secret_doc(doc.data, _ABSENT)
            changes += _diff_root(doc.data, _ABSENT, [label], ctx, secret, 1)
    return changes, [_doc_label(doc, labels) for doc in news]


class _Absent:
    """A side without the document (distinct from an empty document, which is None)."""

    def __repr__(self) -> str:
        return "<absent>"


_ABSENT: Any = _Absent()


def _diff_root(a: Any, b: Any, path: list[Segment], ctx: _Context, secret_doc: bool, doc_depth: int) -> list[Change]:
    if a is _ABSENT and b is _ABSENT:
        return []
    if a is _ABSENT:
        raw = [Change(list(path), "added", None, b)]
    elif b is _ABSENT:
        raw = [Change(list(path), "removed", a, None)]
    else:
        raw = []
        _diff(a, b, path, {}, ctx, raw)
    if ctx.show_secrets:
        return raw
    docs = [d for d in (a, b) if d is not _ABSENT]
    return [secrets.mask_change(c, secret_doc=secret_doc, doc_depth=doc_depth, docs=docs) for c in raw]


def _is_secret_doc(*docs: Any) -> bool:
    return any(isinstance(d, dict) and d.get("kind") == "Secret" for d in docs)


def _identity(doc: Any) -> tuple[str, str, str, str] | None:
    """(apiVersion group, kind, namespace, name) of a Kubernetes object, else None."""
    if not isinstance(doc, dict):
        return None
    meta = doc.get("metadata")
    kind = doc.get("kind")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not (isinstance(kind, str) and isinstance(name, str)):
        return None
    api = doc.get("apiVersion")
    group = api.rsplit("/", 1)[0] if isinstance(api, str) and "/" in api else ""
    namespace = meta.get("namespace") if isinstance(meta, dict) else None
    return group, kind, namespace if isinstance(namespace, str) else "", name


def _keyed(docs: list[Any]) -> list[_Doc]:
    """Key documents by identity (repeated identities get an occurrence number)."""
    seen: dict[Any, int] = {}
    out: list[_Doc] = []
    positional = 0
    for index, data in enumerate(docs):
        ident = _identity(data)
        if ident is None:
            out.append(_Doc(("#", positional), index, data, None))
            positional += 1
            continue
        n = seen.get(ident, 0)
        seen[ident] = n + 1
        out.append(_Doc((ident, n), index, data, ident))
    return out


def _labels(idents: Iterable[tuple[str, str, str, str]]) -> dict[tuple[str, str, str, str], str]:
    """`Kind/ns/name`; `Kind.group/ns/name` only when two groups would share a label."""
    unique = sorted(set(idents))
    short = {i: "/".join(x for x in (i[1], i[2], i[3]) if x) for i in unique}
    counts: dict[str, int] = {}
    for label in short.values():
        counts[label] = counts.get(label, 0) + 1
    return {
        i: label if counts[label] == 1 or not i[0] else "/".join(x for x in (f"{i[1]}.{i[0]}", i[2], i[3]) if x)
        for i, label in short.items()
    }


def _doc_label(doc: _Doc, labels: dict[tuple[str, str, str, str], str]) -> str:
    if doc.ident is None:
        return f"#{doc.index}"
    occurrence = doc.key[1]
    return labels[doc.ident] + (f"#{occurrence}" if occurrence else "")


# --- values ------------------------------------------------------------------------------


def _diff(a: Any, b: Any, path: list[Segment], ids: dict[int, str], ctx: _Context, out: list[Change]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        _diff_maps(a, b, path, ids, ctx, out)
    elif isinstance(a, list) and isinstance(b, list):
        _diff_lists(a, b, path, ids, ctx, out)
    elif not _same(a, b):
        out.append(Change(list(path), "changed", a, b, dict(ids)))


_SCALARS = (str, int, float, bool, type(None))


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same type (`1` is not `true`, `1` is not `1.0`); NaN equals NaN."""
    if type(a) is not type(b):
        return False
    return bool(a == b) or (a != a and b != b)


def _diff_maps(
    a: dict[str, Any], b: dict[str, Any], path: list[Segment], ids: dict[int, str], ctx: _Context, out: list[Change]
) -> None:
    for key, value in b.items():
        if key in a:
            old = a[key]
            kind = type(value)
            if type(old) is kind and kind in _SCALARS and old == value:
                continue  # the common case in a big file, without a call per key
            if kind is dict and type(old) is dict:
                _diff_maps(old, value, [*path, key], ids, ctx, out)  # what `_diff` would do, one call less
            elif kind in _SCALARS and type(old) in _SCALARS and not _same(old, value):
                out.append(Change([*path, key], "changed", old, value, dict(ids)))
            else:
                _diff(old, value, [*path, key], ids, ctx, out)
        else:
            out.append(Change([*path, key], "added", None, value, dict(ids)))
    for key, value in a.items():
        if key not in b:
            out.append(Change([*path, key], "removed", value, None, dict(ids)))


# A list item's identity: (key used for matching, label shown as `[label]`).
Identity = Callable[[Any], "tuple[Any, str] | None"]


def _diff_lists(
    a: list[Any], b: list[Any], path: list[Segment], ids: dict[int, str], ctx: _Context, out: list[Change]
) -> None:
    identity = _identity_rule(a, b, path, ctx)
    if identity is None:
        _diff_ordered(a, b, path, ids, ctx, out)
    else:
        _diff_by_identity(a, b, identity, path, ids, ctx, out)


def _identity_rule(a: list[Any], b: list[Any], path: list[Segment], ctx: _Context) -> Identity | None:
    """The first rule under which every item on both sides has a unique identity."""
    parent = path[-1] if path else None
    rules: list[Identity] = []
    if parent == "volumeMounts":
        rules.append(_by_field("mountPath"))
    if parent == "ports":
        rules.append(_by_port)
    if parent == "dependencies" and ctx.file_name in ("Chart.yaml", "requirements.yaml"):
        rules.append(_by_dependency)
    rules.append(_by_field("name"))
    for rule in rules:
        if _unique(a, rule) and _unique(b, rule):
            return rule
    return None


def _unique(items: list[Any], rule: Identity) -> bool:
    keys = [rule(item) for item in items]
    if any(k is None for k in keys):
        return False
    return len({k[0] for k in keys if k is not None}) == len(keys)


def _by_field(name: str) -> Identity:
    def rule(item: Any) -> tuple[Any, str] | None:
        if not isinstance(item, dict):
            return None
        value = item.get(name)
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return None
        return value, f"{name}={value}"

    return rule


def _by_port(item: Any) -> tuple[Any, str] | None:
    """`containerPort` + `protocol` (TCP when omitted, as Kubernetes defaults it)."""
    if not isinstance(item, dict) or "containerPort" not in item:
        return None
    port, protocol = item["containerPort"], item.get("protocol") or "TCP"
    return (str(port), str(protocol)), f"containerPort={port},protocol={protocol}"


def _by_dependency(item: Any) -> tuple[Any, str] | None:
    """Chart.yaml dependencies: `alias` (the same chart may appear twice), then `name`."""
    if not isinstance(item, dict):
        return None
    for name in ("alias", "name"):
        value = item.get(name)
        if isinstance(value, str):
            return (name, value), f"{name}={value}"
    return None


def _diff_by_identity(
    a: list[Any],
    b: list[Any],
    identity: Identity,
    path: list[Segment],
    ids: dict[int, str],
    ctx: _Context,
    out: list[Change],
) -> None:
    """Match items by identity: reordering alone is no change."""
    olds = {_key(identity, item): item for item in a}
    for j, item in enumerate(b):
        key, label = _key_label(identity, item)
        item_ids = {**ids, len(path): label}
        if key in olds:
            _diff(olds[key], item, [*path, j], item_ids, ctx, out)
        else:
            out.append(Change([*path, j], "added", None, item, item_ids))
    new_keys = {_key(identity, item) for item in b}
    for i, item in enumerate(a):
        key, label = _key_label(identity, item)
        if key not in new_keys:
            out.append(Change([*path, i], "removed", item, None, {**ids, len(path): label}))


def _key_label(identity: Identity, item: Any) -> tuple[Any, str]:
    found = identity(item)
    assert found is not None  # checked by _unique
    return found


def _key(identity: Identity, item: Any) -> Any:
    return _key_label(identity, item)[0]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _diff_ordered(
    a: list[Any], b: list[Any], path: list[Segment], ids: dict[int, str], ctx: _Context, out: list[Change]
) -> None:
    """Ordered lists: an item that reappears elsewhere is `moved`; the rest pair up."""
    ca, cb = [_canonical(x) for x in a], [_canonical(x) for x in b]
    opcodes = seqdiff.opcodes(ca, cb)
    moves = _moves(ca, cb, opcodes)
    moved_old = set(moves.values())
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        olds = [i for i in range(i1, i2) if i not in moved_old]
        news = [j for j in range(j1, j2) if j not in moves]
        for i, j in zip(olds, news, strict=False):
            _diff(a[i], b[j], [*path, j], ids, ctx, out)
        for j in range(j1, j2):
            if j in moves:
                out.append(Change([*path, j], "moved", moves[j], j, dict(ids)))
        for j in news[len(olds) :]:
            out.append(Change([*path, j], "added", None, b[j], dict(ids)))
        for i in olds[len(news) :]:
            out.append(Change([*path, i], "removed", a[i], None, dict(ids)))


def _moves(ca: list[str], cb: list[str], opcodes: Sequence[tuple[str, int, int, int, int]]) -> dict[int, int]:
    """New index -> old index for inserted items equal to a deleted one."""
    pool: dict[str, deque[int]] = {}
    for tag, i1, i2, _j1, _j2 in opcodes:
        if tag in ("delete", "replace"):
            for i in range(i1, i2):
                pool.setdefault(ca[i], deque()).append(i)
    moves: dict[int, int] = {}
    for tag, _i1, _i2, j1, j2 in opcodes:
        if tag in ("insert", "replace"):
            for j in range(j1, j2):
                if pool.get(cb[j]):
                    moves[j] = pool[cb[j]].popleft()  # deque: many equal items stay linear
    return moves


# --- YAML 1.1 vs 1.2 notes ---------------------------------------------------------------


def _version_notes(path: str, changes: list[Change], after: Loaded, labels: list[str] | None) -> list[str]:
    """Notes for changed/added plain scalars that YAML 1.1 and 1.2 read differently."""
    targets = [c for c in changes if c.op in ("changed", "added") and not c.masked]
    notes: list[str] = []
    for index in range(len(after.documents) if targets else 0):
        prefix: tuple[Segment, ...] = (labels[index],) if labels else ()
        for amb in after.ambiguous(index, prefix):
            change = next((c for c in targets if _under(amb.path, c.path)), None)
            if change is not None:
                shown = Change(list(amb.path), change.op, ids=change.ids).display_path()
                notes.append(
                    f"{path}:{amb.line}: {shown}: plain `{amb.raw}` is {amb.note}; quote it if you mean a string"
                )
    return notes


def _under(path: tuple[Segment, ...], prefix: list[Segment]) -> bool:
    return list(path[: len(prefix)]) == prefix
