"""Secret masking, applied to the diff model before any renderer sees it.

Rules (documented for users in docs/diff-format.md):

* A key is secret when, lower-cased with `-`, `_` and `.` removed, it contains one of
  `password`, `passwd`, `secret`, `token`, `apikey`, `privatekey`, `credential`
  (so `dbPassword`, `client_secret`, `api-key`, `private_key`, `AWS_CREDENTIALS` match).
* Except keys that *name or locate* a secret rather than hold it: ending in `name`, `ref`,
  `refs`, `file`, `path` or `dir`, or starting with `existing` (`secretName`,
  `secretKeyRef`, `existingSecret`, `passwordFile`, `tokenPath`). They are how charts point
  at a Secret object; hiding them would hide the change a reviewer most needs to see.
* Everything below a secret key is masked (`credentials: {user: .., pass: ..}`), except the
  reference keys above, booleans and nulls (`token: {enabled: true}` says nothing secret).
* Kubernetes `kind: Secret` documents: every value under `data` and `stringData`.
* Environment-style pairs: `{name: DB_PASSWORD, value: ...}` masks `value`.
* PEM blocks (`-----BEGIN ...-----` to `-----END ...-----`) inside any string.
* Text (line) diffs: `key: value` / `key=value` lines with a secret key, PEM bodies, and the
  `value:` line following a secret-like `name:` line. A value that is only a Helm template
  expression (`{{ .Values.db.password }}`) is a reference and stays visible.

Masked values read `***`; keys stay visible, so a reviewer sees *that* a secret changed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from gitops_promote.core.diffmodel import MASK, Change, Segment

_SECRET_WORDS = ("password", "passwd", "secret", "token", "apikey", "privatekey", "credential")
_REFERENCE_SUFFIXES = ("name", "ref", "refs", "file", "path", "dir")
_SECRET_DOC_KEYS = ("data", "stringData")

_PEM = re.compile(r"(-----BEGIN (?P<label>[A-Z0-9 ]+)-----)(?P<body>.*?)(-----END (?P=label)-----|\Z)", re.S)
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]+-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]+-----")
# `  - "dbPassword": value`, `API_KEY=value`, `password = value`
_KEY_LINE = re.compile(
    r"""^(?P<lead>\s*(?:-\s+)?["']?)(?P<key>[A-Za-z0-9_.\-]+)(?P<sep>["']?\s*[:=]\s*)(?P<value>\S.*)$"""
)
_TEMPLATE_ONLY = re.compile(r"^\{\{[^\"'`]*\}\}\s*$")


def _normalise(key: str) -> str:
    return key.lower().replace("-", "").replace("_", "").replace(".", "")


def is_reference_key(key: str) -> bool:
    """`secretName`, `secretKeyRef`, `existingSecret`: names a secret, does not hold one."""
    norm = _normalise(key)
    return norm.startswith("existing") or norm.endswith(_REFERENCE_SUFFIXES)


def is_secret_key(key: object) -> bool:
    """Whether the value under `key` is a secret (see the module docstring)."""
    if not isinstance(key, str):
        return False
    norm = _normalise(key)
    return any(w in norm for w in _SECRET_WORDS) and not is_reference_key(key)


def mask_pem(text: str) -> str:
    """Replace the body of every PEM block; the BEGIN/END lines stay as context."""
    return _PEM.sub(lambda m: f"{m.group(1)}{MASK}{m.group(4)}", text)


def _mask_leaf(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    return MASK


def mask_all(value: Any) -> Any:
    """Mask every leaf of a (sub)tree, whatever its key (Secret `data`, a secret path)."""
    if isinstance(value, Mapping):
        return {k: mask_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_all(v) for v in value]
    return _mask_leaf(value)


def mask_value(value: Any, *, inside_secret: bool = False) -> Any:
    """Mask a (sub)tree of plain data: secret keys, Secret documents, env pairs, PEM."""
    if isinstance(value, Mapping):
        return _mask_mapping(value, inside_secret)
    if isinstance(value, list):
        return [mask_value(v, inside_secret=inside_secret) for v in value]
    if inside_secret:
        return _mask_leaf(value)
    if isinstance(value, str):
        return mask_pem(value)
    return value


def _mask_mapping(value: Mapping[Any, Any], inside_secret: bool) -> dict[Any, Any]:
    secret_doc = value.get("kind") == "Secret" and isinstance(value.get("apiVersion"), str)
    env_secret = is_secret_key(value.get("name"))
    out: dict[Any, Any] = {}
    for key, item in value.items():
        if inside_secret and isinstance(key, str) and is_reference_key(key):
            out[key] = mask_value(item)
            continue
        if secret_doc and key in _SECRET_DOC_KEYS:
            out[key] = mask_all(item)
            continue
        secret = inside_secret or is_secret_key(key) or (env_secret and key == "value")
        out[key] = mask_value(item, inside_secret=secret)
    return out


def is_secret_path(path: list[Segment], ids: Mapping[int, str], *, secret_doc: bool, doc_depth: int) -> bool:
    """Whether the value at `path` is secret.

    `doc_depth` is where the document's own keys start in `path` (1 when the first segment
    is a document label), so that `data` of a `kind: Secret` document is recognised.
    """
    if secret_doc and len(path) > doc_depth and path[doc_depth] in _SECRET_DOC_KEYS:
        return True
    leaf = next((s for s in reversed(path) if isinstance(s, str)), None)
    if leaf is not None and is_reference_key(leaf):
        return False
    if any(is_secret_key(s) for s in path[doc_depth:]):
        return True
    return _is_env_secret(path, ids)


def _is_env_secret(path: list[Segment], ids: Mapping[int, str]) -> bool:
    """`env[name=DB_PASSWORD].value`: the item was matched by a secret-like name."""
    for i in range(len(path) - 1):
        ident = ids.get(i, "")
        if ident.startswith("name=") and is_secret_key(ident[5:]) and path[i + 1] == "value":
            return True
    return False


def mask_change(change: Change, *, secret_doc: bool = False, doc_depth: int = 0) -> Change:
    """A copy of `change` whose old/new carry no secret."""
    if change.op == "moved":
        return change
    if is_secret_path(change.path, change.ids, secret_doc=secret_doc, doc_depth=doc_depth):
        # Whole subtree: a reference key nested under a secret path is rare, and a leak is
        # worse than an over-masked `secretName`.
        return replace(change, old=mask_all(change.old), new=mask_all(change.new), masked=True)
    return replace(change, old=mask_value(change.old), new=mask_value(change.new))


@dataclass
class _LineState:
    in_pem: bool = False
    after_secret_name: bool = False
    # Indent of a `password: |` line whose block scalar body is being masked.
    block_indent: int | None = None


def mask_lines(lines: list[str]) -> list[str]:
    """Mask text line by line, keeping the line count (so a diff can index into it)."""
    state = _LineState()
    return [_mask_line(line, state) for line in lines]


def _mask_line(line: str, state: _LineState) -> str:
    indent = _indent_of(line)
    if state.in_pem:
        state.in_pem = not _PEM_END.search(line)
        return line if not state.in_pem else indent + MASK
    if state.block_indent is not None:
        if not line.strip() or len(indent) > state.block_indent:
            return indent + MASK if line.strip() else line
        state.block_indent = None
    masked, state.in_pem = _mask_pem_line(line)
    if masked is not None:
        return masked
    return _mask_key_line(line, state)


def _mask_pem_line(line: str) -> tuple[str | None, bool]:
    """A line holding `-----BEGIN`: mask what follows it; report whether the block is open."""
    begin = _PEM_BEGIN.search(line)
    if begin is None:
        return None, False
    rest = line[begin.end() :]
    end = _PEM_END.search(rest)
    if end is not None:
        return line[: begin.end()] + MASK + rest[end.start() :], False
    return line[: begin.end()] + (MASK if rest.strip() else ""), True


def _mask_key_line(line: str, state: _LineState) -> str:
    m = _KEY_LINE.match(line)
    after_name, state.after_secret_name = state.after_secret_name, False
    if m is None:
        return line
    key, value = m.group("key"), m.group("value").strip()
    if not (is_secret_key(key) or (after_name and key == "value")):
        state.after_secret_name = key == "name" and is_secret_key(value.strip("\"'"))
        return line
    if _TEMPLATE_ONLY.match(value):
        return line
    if value.startswith(("|", ">")):
        # A block scalar: its body is on the following, more indented lines.
        state.block_indent = len(_indent_of(line))
        return line
    return m.group("lead") + key + m.group("sep") + MASK


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def mask_text(text: str) -> str:
    """Mask a whole text (see `mask_lines`)."""
    keep_end = text.endswith("\n")
    masked = "\n".join(mask_lines(text.split("\n")[:-1] if keep_end else text.split("\n")))
    return masked + ("\n" if keep_end else "")
