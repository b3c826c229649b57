"""Secret masking: the one masker for structured YAML, line diffs, schema messages and subjects.

Rules (documented for users in docs/secrets.md):

* A key is secret when, lower-cased with `-`, `_` and `.` removed, it contains one of
  `password`, `passwd`, `passphrase`, `pwd`, `secret`, `token`, `apikey`, `privatekey`,
  `credential` (so `dbPassword`, `client_secret`, `api-key`, `private_key`, `DB_PWD` match).
* Except keys that *name or locate* a secret rather than hold it: ending in `name`, `ref`,
  `refs`, `file`, `path` or `dir`, or starting with `existing` (`secretName`,
  `secretKeyRef`, `existingSecret`, `passwordFile`, `tokenPath`). They are how charts point
  at a Secret object; hiding them would hide the change a reviewer most needs to see.
* Everything below a secret key is masked (`credentials: {user: .., pass: ..}`), except the
  reference keys above, booleans and nulls (`token: {enabled: true}` says nothing secret).
* Kubernetes `kind: Secret` objects, also as items of a `kind: List`: every value under
  `data` and `stringData`.
* Environment-style pairs: `{name: DB_PASSWORD, value: ...}` masks `value`.
* In every string (a YAML value, a line of a text file, a commit subject): PEM bodies,
  URL passwords (`postgres://user:***@host`), and `key: value` / `key=value` / `"key": "value"`
  pairs with a secret key wherever they stand on the line (flow mappings, JSON,
  `export DB_PASSWORD=x`, `--password=x`).
* Line diffs also follow structure across lines: the value on the next, more indented lines of
  a secret key with nothing after its colon (`password:` then the value), block scalars
  (`token: |`), the `value:` after a secret-like `name:`, and the `data:`/`stringData:` blocks
  of a text that declares `kind: Secret`. A YAML file declaring `kind: Secret` that cannot be
  parsed is masked whole (`mask_whole`).
* A value that is only Helm template expressions (`{{ .Values.db.password }}`) is a reference
  and stays visible; text around or between expressions is masked.
* Schema validation messages never quote the value (`schema_message`).

Masked values read `***`; keys stay visible, so a reviewer sees *that* a secret changed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Types only: a commit subject is masked by every run (adapters/git.py), the diff model is
    # loaded by the commands that diff.
    from gitops_promote.core.diffmodel import Change, Segment

MASK = "***"  # what a masked value reads

_SECRET_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "apikey",
    "privatekey",
    "credential",
)
_SECRET_WORD = re.compile("|".join(map(re.escape, _SECRET_WORDS)))  # any of them, one C scan
_REFERENCE_SUFFIXES = ("name", "ref", "refs", "file", "path", "dir")
_SECRET_DOC_KEYS = ("data", "stringData")

_PEM = re.compile(r"(-----BEGIN (?P<label>[A-Z0-9 ]+)-----)(?P<body>.*?)(-----END (?P=label)-----|\Z)", re.S)
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]+-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]+-----")
# `scheme://user:password@host`: the password part (no `@`, `/` or space inside it).
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]{0,31}://[^\s/@:\"'<>]*:)(?P<pw>[^\s/@\"'<>]+)(?=@)")
# A line that starts with a key: `  - "dbPassword": value`, `export API_KEY=value`.
_KEY_LINE = re.compile(
    r"""^(?P<lead>\s*(?:-\s+)?(?:export\s+)?["']?)(?P<key>[A-Za-z0-9_.\-]+)(?P<sep>["']?\s*[:=]\s*)(?P<value>.*)$"""
)
# A pair anywhere on a line: `{password: x}`, `"password": "x"`, `--db-password=x`.
# The key starts at a word boundary (linear time on long lines without separators); an
# unquoted value never starts with `{` or `[`, so `env: {password: x}` finds the inner pair.
_PAIR = re.compile(
    r"""(?P<q>["']?)(?<![A-Za-z0-9_.\-])(?P<key>[A-Za-z0-9_.\-]{1,200})(?P=q)(?P<sep>\s*[:=]\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|[^\s,;&{}\[\]()"'][^\s,;&}\])"']*)"""
)
_TEMPLATE = re.compile(r"\{\{.*?\}\}")
_SECRET_KIND = re.compile(r"""^\s*["']?kind["']?\s*:\s*["']?Secret["']?\s*(#.*)?$""", re.M)


def _normalise(key: str) -> str:
    return key.lower().replace("-", "").replace("_", "").replace(".", "")


@lru_cache(maxsize=8192)
def is_reference_key(key: str) -> bool:
    """`secretName`, `secretKeyRef`, `existingSecret`: names a secret, does not hold one.
    (Cached: the same few hundred keys recur in every file of a 20,000-app diff.)"""
    norm = _normalise(key)
    return norm.startswith("existing") or norm.endswith(_REFERENCE_SUFFIXES)


def is_secret_key(key: object) -> bool:
    """Whether the value under `key` is a secret (see the module docstring)."""
    return isinstance(key, str) and _is_secret_word(key)


@lru_cache(maxsize=8192)
def _is_secret_word(key: str) -> bool:
    return _SECRET_WORD.search(_normalise(key)) is not None and not is_reference_key(key)


def mask_pem(text: str) -> str:
    """Replace the body of every PEM block; the BEGIN/END lines stay as context."""
    return _PEM.sub(lambda m: f"{m.group(1)}{MASK}{m.group(4)}", text)


def mask_url(text: str) -> str:
    """`postgres://user:pw@host` -> `postgres://user:***@host`."""
    return _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)


def is_template_only(value: str) -> bool:
    """Only Helm expressions (and quotes/space around them): a reference, not a secret."""
    core = value.strip().strip("\"'")
    return bool(core) and core.startswith("{{") and not _TEMPLATE.sub("", core).strip()


def mask_string(text: str) -> str:
    """Every rule that applies inside one string: PEM, URL passwords, secret pairs, per line."""
    if not text or not _may_hold_secret(text):
        return text
    if len(text) <= _CACHED_STRING:
        return _mask_short_string(text)
    return mask_text(mask_pem(text))


def _may_hold_secret(text: str) -> bool:
    """Whether any rule of `mask_string` can match: each needs a `:` or `=` (a pair, a key
    line, a URL's `://`, `kind: Secret`) or a PEM `-----BEGIN`. Most values (image tags,
    hosts, numbers as text) have none, and are returned as they are without a regex."""
    return ":" in text or "=" in text or "-----BEGIN" in text


_CACHED_STRING = 200  # short values (image tags, hosts, flags) recur across files: masked once


@lru_cache(maxsize=16384)
def _mask_short_string(text: str) -> str:
    return mask_text(mask_pem(text))


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
    """Mask a (sub)tree of plain data: secret keys, Secret objects, env pairs, strings."""
    kind = type(value)
    if kind in _UNMASKED_SCALARS and not inside_secret:
        return value  # a number, boolean or null outside a secret: nothing to hide
    if kind is str and not inside_secret:
        return mask_string(value)
    if isinstance(value, Mapping):
        return _mask_mapping(value, inside_secret)
    if isinstance(value, list):
        return [mask_value(v, inside_secret=inside_secret) for v in value]
    if inside_secret:
        return _mask_leaf(value)
    if isinstance(value, str):
        return mask_string(value)
    return value


_UNMASKED_SCALARS = frozenset((int, float, bool, type(None)))


def _is_secret_object(value: Any) -> bool:
    if type(value) is dict:  # plain data: spares the slower ABC check
        return value.get("kind") == "Secret"
    return isinstance(value, Mapping) and value.get("kind") == "Secret"


def _mask_mapping(value: Mapping[Any, Any], inside_secret: bool) -> dict[Any, Any]:
    secret_doc = _is_secret_object(value)
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


def is_secret_path(
    path: list[Segment],
    ids: Mapping[int, str],
    *,
    secret_doc: bool,
    doc_depth: int,
    docs: Sequence[Any] = (),
) -> bool:
    """Whether the value at `path` is secret.

    `doc_depth` is where the document's own keys start in `path` (1 when the first segment
    is a document label), so that `data` of a `kind: Secret` document is recognised;
    `docs` (the old and new document) let a Secret nested in a `kind: List` be recognised.
    """
    idents = tuple(sorted(ids.items())) if ids else ()
    in_secret_doc, by_name = _path_secrecy(tuple(path), idents, secret_doc, doc_depth)
    if in_secret_doc:
        return True
    inner = path[doc_depth:]
    for doc in docs:  # loops, not any() over generators: this runs for every change
        if _in_secret_object(doc, inner):
            return True
    return by_name


@lru_cache(maxsize=4096)
def _path_secrecy(
    path: tuple[Segment, ...], ids: tuple[tuple[int, str], ...], secret_doc: bool, doc_depth: int
) -> tuple[bool, bool]:
    """What the path alone says (the documents aside): (under a Secret document's `data`,
    secret by its keys or an env item's name). The same few paths recur in every file of a
    20,000-app diff (`image.tag`, `replicaCount`): each is judged once."""
    if secret_doc and len(path) > doc_depth and path[doc_depth] in _SECRET_DOC_KEYS:
        return True, True
    leaf = next((s for s in reversed(path) if isinstance(s, str)), None)
    if leaf is not None and is_reference_key(leaf):
        return False, False
    for segment in path[doc_depth:]:
        if is_secret_key(segment):
            return False, True
    return False, bool(ids) and _is_env_secret(path, dict(ids))


def _in_secret_object(doc: Any, path: Sequence[Segment]) -> bool:
    """Whether `path` walks through the `data`/`stringData` of a `kind: Secret` inside `doc`."""
    node = doc
    for seg in path:
        if seg in _SECRET_DOC_KEYS and _is_secret_object(node):
            return True
        try:
            node = node[seg]
        except (KeyError, IndexError, TypeError):
            return False
    return False


def _is_env_secret(path: Sequence[Segment], ids: Mapping[int, str]) -> bool:
    """`env[name=DB_PASSWORD].value`: the item was matched by a secret-like name."""
    for i in range(len(path) - 1):
        ident = ids.get(i, "")
        if ident.startswith("name=") and is_secret_key(ident[5:]) and path[i + 1] == "value":
            return True
    return False


def mask_change(change: Change, *, secret_doc: bool = False, doc_depth: int = 0, docs: Sequence[Any] = ()) -> Change:
    """`change` with old/new that carry no secret (a copy when anything was masked)."""
    if change.op == "moved":
        return change
    if is_secret_path(change.path, change.ids, secret_doc=secret_doc, doc_depth=doc_depth, docs=docs):
        # Whole subtree: a reference key nested under a secret path is rare, and a leak is
        # worse than an over-masked `secretName`.
        return replace(change, old=mask_all(change.old), new=mask_all(change.new), masked=True)
    old, new = mask_value(change.old), mask_value(change.new)
    if old is change.old and new is change.new:
        return change  # nothing was masked (most changes): no copy
    return replace(change, old=old, new=new)


# ---- text, line by line ---------------------------------------------------------------------


@dataclass
class _LineState:
    """What `mask_lines` carries from one line to the next."""

    in_pem: bool = False
    after_secret_name: bool = False
    # A secret block is open below the line at this indent: its more indented lines are masked
    # (whole lines for a secret key's value, values only for a Secret's `data:` block).
    block_indent: int | None = None
    block_keeps_keys: bool = False
    secret_doc: bool = False


def declares_secret(text: str) -> bool:
    """Whether a text (a manifest, a template) declares `kind: Secret`."""
    return _SECRET_KIND.search(text) is not None


def mask_lines(lines: list[str], *, secret_doc: bool | None = None) -> list[str]:
    """Mask text line by line, keeping the line count (so a diff can index into it)."""
    if secret_doc is None:
        secret_doc = any(_SECRET_KIND.match(line) for line in lines)
    state = _LineState(secret_doc=secret_doc)
    return [_mask_line(line, state) for line in lines]


def mask_whole(lines: list[str]) -> list[str]:
    """A Secret we cannot parse: only `apiVersion:`/`kind:` lines and the keys stay visible."""
    return [_mask_whole_line(line) for line in lines]


def _mask_whole_line(line: str) -> str:
    m = _KEY_LINE.match(line)
    if m is not None and m.group("key") in ("apiVersion", "kind") and not m.group("lead").strip():
        return mask_pairs(line)
    if m is not None:
        return m.group("lead") + m.group("key") + m.group("sep") + (MASK if m.group("value").strip() else "")
    return _indent_of(line) + MASK if line.strip() else line


def _mask_line(line: str, state: _LineState) -> str:
    indent = _indent_of(line)
    if state.in_pem:
        state.in_pem = not _PEM_END.search(line)
        return line if not state.in_pem else indent + MASK
    if state.block_indent is not None:
        if not line.strip() or len(indent) > state.block_indent:
            return _mask_block_line(line, state)
        state.block_indent = None
    masked, state.in_pem = _mask_pem_line(line)
    if masked is not None:
        return masked
    return _mask_key_line(mask_url(line), state)


def _mask_block_line(line: str, state: _LineState) -> str:
    if not line.strip():
        return line
    if state.block_keeps_keys:
        m = _KEY_LINE.match(line)
        if m is not None and m.group("value").strip():
            value = m.group("value")
            return line if is_template_only(value) else m.group("lead") + m.group("key") + m.group("sep") + MASK
    return _indent_of(line) + MASK


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
        return mask_pairs(line)
    key, value = m.group("key"), m.group("value").strip()
    if state.secret_doc and key in _SECRET_DOC_KEYS:
        if not value:
            _open_block(line, state, keeps_keys=True)
            return line
        # `data: {k: v, ...}` on one line: every value in it, whatever its key
        masked = mask_pairs(m.group("value"), every_key=True)
        return m.group("lead") + key + m.group("sep") + (masked if masked != m.group("value") else MASK)
    if not (is_secret_key(key) or (after_name and key == "value")):
        state.after_secret_name = key == "name" and is_secret_key(value.strip("\"'"))
        return mask_pairs(line)
    if not value or value.startswith("#"):
        _open_block(line, state, keeps_keys=False)  # the value is on the next lines
        return line
    if is_template_only(value):
        return line
    if value.startswith(("|", ">")):
        _open_block(line, state, keeps_keys=False)  # a block scalar's body follows
        return line
    return m.group("lead") + key + m.group("sep") + MASK


def _open_block(line: str, state: _LineState, *, keeps_keys: bool) -> None:
    state.block_indent = len(_indent_of(line))
    state.block_keeps_keys = keeps_keys


def mask_pairs(line: str, *, every_key: bool = False) -> str:
    """Secret `key: value` / `key=value` pairs anywhere on one line, and env-style
    `{name: API_TOKEN, value: x}` pairs; URL passwords. `every_key`: mask every pair's value."""
    line = mask_url(line)
    pairs = list(_PAIR.finditer(line))
    env_secret = any(p.group("key") == "name" and is_secret_key(p.group("value").strip("\"'")) for p in pairs)
    out, last = [], 0
    for p in pairs:
        key, value = p.group("key"), p.group("value")
        secret = every_key or is_secret_key(key) or (env_secret and key == "value")
        if not secret or is_template_only(value):
            continue
        quote = value[0] if value[:1] in ("'", '"') and len(value) > 1 else ""
        out.append(line[last : p.start("value")] + quote + MASK + quote)
        last = p.end("value")
    return "".join(out) + line[last:] if out else line


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def mask_text(text: str, *, secret_doc: bool | None = None) -> str:
    """Mask a whole text (see `mask_lines`)."""
    keep_end = text.endswith("\n")
    lines = text.split("\n")[:-1] if keep_end else text.split("\n")
    return "\n".join(mask_lines(lines, secret_doc=secret_doc)) + ("\n" if keep_end else "")


def mask_subject(subject: str) -> str:
    """A commit subject (or any one-line message): the in-line rules."""
    return mask_pairs(mask_pem(subject))


# ---- schema messages ------------------------------------------------------------------------

_SCHEMA_PHRASES = {
    "type": "is not of type {expected}",
    "enum": "is not one of the allowed values {expected}",
    "const": "is not the required value {expected}",
    "pattern": "does not match the pattern {expected}",
    "format": "is not a valid {expected}",
    "minLength": "is shorter than {expected} characters",
    "maxLength": "is longer than {expected} characters",
    "minimum": "is less than the minimum {expected}",
    "maximum": "is more than the maximum {expected}",
    "exclusiveMinimum": "is not more than {expected}",
    "exclusiveMaximum": "is not less than {expected}",
    "multipleOf": "is not a multiple of {expected}",
    "minItems": "has fewer than {expected} items",
    "maxItems": "has more than {expected} items",
    "uniqueItems": "has repeated items",
    "minProperties": "has fewer than {expected} keys",
    "maxProperties": "has more than {expected} keys",
    "not": "is a value the schema forbids",
}
_TYPE_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a map"}


def schema_message(validator: object, expected: object, instance: object) -> str:
    """What a JSON-schema error says, without the value (jsonschema's own message quotes the
    instance, which may be a password). The schema's side (`expected`) is not secret."""
    shown = _short(expected)
    phrase = _SCHEMA_PHRASES.get(str(validator), "fails the schema's {validator!r} rule ({expected})")
    got = _TYPE_NAMES.get(type(instance), "a value")
    text = phrase.format(expected=shown, validator=str(validator))
    return f"the value ({got}) {text}" if validator == "type" else f"the value {text}"


def _short(value: object, width: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"
