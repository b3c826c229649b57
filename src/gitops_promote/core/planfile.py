"""Saved plan files (`gitops plan --save FILE`, `gitops promote --plan FILE`): read and check.

A plan file is input like any other: it may be truncated, tampered with or not a plan at all
(`--plan /dev/zero`). Reading is bounded (MAX_PLAN_BYTES, and a file that does not start like
a JSON object is refused after its first chunk); the fields promote relies on are checked for
type and shape: codenames, and commit ids that are full hex object names, all of one length
(40 for SHA-1 repositories, 64 for SHA-256). Anything else is a ConfigError (exit 2) that
says what is wrong; the other fields of the file (files, commits, warnings) are for humans
and are not trusted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_promote.errors import ConfigError

PLAN_SCHEMA = 1
MAX_PLAN_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024
OBJECT_ID_LENGTHS = (40, 64)  # SHA-1, SHA-256
OBJECT_FORMATS = {40: "sha1", 64: "sha256"}  # hex digits of an object name -> git's object format
_HEX = re.compile(r"[0-9a-f]+\Z")
_CODENAME = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?\Z")
COMMIT_FIELDS = ("source_tip", "source_commit", "target_commit")
_HINT = "save the plan again with gitops plan SRC DST --save FILE"


@dataclass(frozen=True)
class PlanFields:
    """What promote needs from a saved plan."""

    source: str
    target: str
    source_tip: str
    source_commit: str
    target_commit: str
    apps: tuple[str, ...] = ()  # --app: the app directories planned (docs/per-app.md)

    @property
    def object_id_length(self) -> int:
        return len(self.target_commit)

    @property
    def commit_ids(self) -> tuple[str, str, str]:
        return self.source_tip, self.source_commit, self.target_commit


def read(path: Path, id_length: int | None = None) -> PlanFields:
    """Read and check the plan at `path` (ConfigError on any problem); with `id_length`, the
    hex length of the repository's object names, its commit ids must have that length."""
    fields = parse(read_bounded(path), str(path))
    if id_length is not None:
        check_object_format(fields.commit_ids, id_length, str(path))
    return fields


def check_object_format(commit_ids: Iterable[str], id_length: int, name: str = "") -> None:
    """Refuse a plan saved in a repository of the other object format (SHA-1 vs SHA-256):
    its commits cannot exist here, and looking them up would only say "not a commit"."""
    lengths = sorted({len(c) for c in commit_ids})
    if lengths == [id_length]:
        return
    theirs = " and ".join(f"{n} ({OBJECT_FORMATS.get(n, 'unknown')})" for n in lengths)
    ours = OBJECT_FORMATS.get(id_length, "unknown")
    raise ConfigError(
        f"cannot apply the saved plan{' ' + name if name else ''}: its commit ids have {theirs} hex digits, "
        f"but this repository's object format is {ours} ({id_length}); the object-name length does not match "
        "this repository's object format (a plan saved in another repository?)",
        hint=f"save the plan again in this repository: {_HINT.removeprefix('save the plan again with ')}",
    )


def read_bounded(path: Path) -> bytes:
    """At most MAX_PLAN_BYTES; devices and pipes that never end are cut off early."""
    chunks: list[bytes] = []
    size = 0
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                if not chunks and not chunk.lstrip().startswith(b"{"):
                    raise _bad(path, "not a saved plan (it does not start with '{')")
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_PLAN_BYTES:
                    raise _bad(path, f"larger than {MAX_PLAN_BYTES // (1024 * 1024)} MiB; not a plan gitops saved")
    except OSError as exc:
        raise _bad(path, f"{exc.strerror or exc}") from None
    return b"".join(chunks)


def parse(data: bytes, name: str) -> PlanFields:
    """Check a plan's bytes; `name` is how messages refer to the file."""
    import json  # only with a saved plan: a plain promotion does without

    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _bad(name, f"not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise _bad(name, "nested too deeply to be a saved plan") from None
    except ValueError as exc:
        raise _bad(name, f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise _bad(name, f"a saved plan is a JSON object, not {_kind(doc)}")
    if doc.get("schema") != PLAN_SCHEMA or isinstance(doc.get("schema"), bool):
        raise _bad(name, f"unsupported plan schema {_short(doc.get('schema'))}")
    fields = {key: _codename(doc, key, name) for key in ("source", "target")}
    fields |= {key: _object_id(doc, key, name) for key in COMMIT_FIELDS}
    lengths = {len(fields[key]) for key in COMMIT_FIELDS}
    if len(lengths) != 1:
        raise _bad(name, f"the commit ids have different lengths ({sorted(lengths)})")
    return PlanFields(**fields, apps=_apps(doc, name))


MAX_APPS = 1000


def _apps(doc: dict[str, Any], name: str) -> tuple[str, ...]:
    """null (the whole branch) or a list of app directories: relative paths, plain text."""
    value = doc.get("apps")
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_APPS:
        raise _bad(name, f"'apps' must be null or a list of at most {MAX_APPS} app directories, not {_short(value)}")
    for app in value:
        bad = not isinstance(app, str) or not app or len(app) > 1024 or app.startswith(("-", "/"))
        if bad or any(ord(c) < 0x20 or c == "\x7f" for c in app) or ".." in app.split("/"):
            raise _bad(name, f"'apps' lists {_short(app)}, which is not an app directory")
    return tuple(value)


def _bad(name: object, what: str) -> ConfigError:
    return ConfigError(f"cannot read the saved plan {name}: {what}", hint=_HINT)


def _codename(doc: dict[str, Any], key: str, name: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not _CODENAME.match(value):
        raise _bad(name, f"'{key}' must be an environment codename, not {_short(value)}")
    return value


def _object_id(doc: dict[str, Any], key: str, name: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or len(value) not in OBJECT_ID_LENGTHS or not _HEX.match(value):
        raise _bad(name, f"'{key}' must be a full commit id (40 or 64 lower-case hex digits), not {_short(value)}")
    return value


def _kind(value: object) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(value), "null"
    )


def _short(value: object) -> str:
    import json

    text = json.dumps(value, ensure_ascii=True) if value is not None else "missing"
    return text if len(text) <= 60 else text[:59] + "…"
