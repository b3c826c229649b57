"""What `gitops parity` read in each file, kept by blob id in the git directory between runs.

A blob id names its content, so what a file says never goes stale: at 20,000 apps a run reads
100,000 files, almost all of them unchanged since the last run, and parsing them is most of
the cost (issue 11). The file `gitops-parity-facts` holds JSON, a header naming the format,
the reader and a checksum of the body; anything unexpected (another version of gitops or
PyYAML, a truncated or edited file) makes it ignored and written again. Only facts are kept
(versions, image tags, key names, YAML problems), never values. A repository that cannot be
written (read-only, full disk) is read every time, as without the file.

`gitops-parity-tables` keeps, the same way, each environment's rows (core.parity.Row) by tree
id and environment: a run on branches that did not move reads neither listings nor files.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gitops_promote.core.parity import FACTS_VERSION, FileFacts, Row, Table
from gitops_promote.core.pyyaml import yaml
from gitops_promote.core.yamlload import MAX_DEPTH, MAX_EXPANDED_NODES, MAX_FILE_BYTES, MAX_INT_DIGITS

FILE_NAME = "gitops-parity-facts"
MAX_BYTES = 256 * 1024 * 1024  # a larger file is not read (nor written again)
# Whatever could change what a blob (or a tree's rows) says: the extraction (FACTS_VERSION
# covers core.parity's rows too), the YAML reader and its limits.
FORMAT = " ".join(
    str(part)
    for part in (
        "gitops-parity-facts",
        FACTS_VERSION,
        yaml.__version__,
        getattr(yaml, "__with_libyaml__", False),
        MAX_FILE_BYTES,
        MAX_EXPANDED_NODES,
        MAX_DEPTH,
        MAX_INT_DIGITS,
    )
)


def load(git_dir: Path) -> dict[str, FileFacts]:
    """blob id -> facts from the last run (empty when there is no usable file)."""
    try:
        path = git_dir / FILE_NAME
        if path.stat().st_size > MAX_BYTES:
            return {}
        header, _newline, body = path.read_bytes().partition(b"\n")
        if header != f"{FORMAT} {hashlib.sha256(body).hexdigest()}".encode():
            return {}
        distinct, ids, indexes = json.loads(body)
        table = [_facts(record) for record in distinct]
        width = len(ids) // len(indexes) if indexes else 0
        return {ids[i * width : (i + 1) * width]: table[index] for i, index in enumerate(indexes)}
    except (OSError, ValueError, TypeError, AttributeError, IndexError, ZeroDivisionError):
        return {}


def _facts(record: list[Any]) -> FileFacts:
    problem, version, app_version, image, keys = record
    texts_ok = all(x is None or isinstance(x, str) for x in (problem, version, app_version))
    if not texts_ok or not (image is None or isinstance(image, str) or (type(image) is int and image == 0)):
        raise ValueError("not a record of facts")
    return FileFacts(problem, version, app_version, image, None if keys is None else frozenset(map(str, keys)))


def save(git_dir: Path, facts: Mapping[str, FileFacts], shas: Iterable[str]) -> None:
    """Keep the facts of `shas` (this run's files: what other runs knew is dropped).

    Most files say the same as many others (every values-dev.yaml sets the same keys, most
    charts are at the same version): each distinct answer is written once, and each blob id
    (all of one length, concatenated) names its answer by index.
    """
    ordered = sorted(shas)
    answers = list(map(facts.__getitem__, ordered))
    # files alike share one FileFacts object (adapters/file_facts.py): number the objects
    # (C-level maps over 100,000 blobs), then the distinct values among them (a handful)
    table: dict[FileFacts, int] = {}
    objects = dict(zip(map(id, answers), answers, strict=True))
    by_object = {key: table.setdefault(f, len(table)) for key, f in objects.items()}
    indexes = list(map(by_object.__getitem__, map(id, answers)))
    body = json.dumps([[_record(f) for f in table], "".join(ordered), indexes], separators=(",", ":"))
    # \\u escapes (the default): any text round-trips, the body is ASCII
    data = f"{FORMAT} {hashlib.sha256(body.encode()).hexdigest()}\n{body}".encode("ascii")
    if len(set(map(len, ordered))) <= 1:
        write_kept(git_dir, FILE_NAME, data)


def _record(facts: FileFacts) -> list[Any]:
    keys = None if facts.keys is None else sorted(facts.keys)
    return [facts.problem, facts.version, facts.app_version, facts.image, keys]


# ---- the rows of each environment, by tree id -----------------------------------------------------

TABLES_FILE = "gitops-parity-tables"


def load_tables(git_dir: Path, keys: Mapping[str, str]) -> dict[str, Table]:
    """env -> its rows, for those of `keys` (env -> "<tree id> <env>") the last run kept."""
    try:
        path = git_dir / TABLES_FILE
        if path.stat().st_size > MAX_BYTES:
            return {}
        header, _newline, body = path.read_bytes().partition(b"\n")
        if header != f"{FORMAT} {hashlib.sha256(body).hexdigest()}".encode():
            return {}
        distinct, kept = json.loads(body)
        rows = [_row(record) for record in distinct]
        return {
            env: dict(zip(kept[key][0], (None if i < 0 else rows[i] for i in kept[key][1]), strict=True))
            for env, key in keys.items()
            if key in kept
        }
    except (OSError, ValueError, TypeError, AttributeError, IndexError, KeyError):
        return {}


def _row(record: list[Any]) -> Row:
    version, app_version, tag, problems, keys = record
    if not all(x is None or isinstance(x, str) for x in (version, app_version, tag)):
        raise ValueError("not a row")
    return Row(
        version, app_version, tag, tuple(map(str, problems)), None if keys is None else frozenset(map(str, keys))
    )


def save_tables(git_dir: Path, keys: Mapping[str, str], tables: Mapping[str, Table]) -> None:
    """Keep this run's tables (only: a table of a tree no branch is at is dropped)."""
    distinct: dict[Row, int] = {}
    kept = {}
    for env, key in keys.items():
        table = tables[env]
        kept[key] = [
            list(table),
            [-1 if row is None else distinct.setdefault(row, len(distinct)) for row in table.values()],
        ]
    records = [
        [r.version, r.app_version, r.tag, list(r.problems), None if r.keys is None else sorted(r.keys)]
        for r in distinct
    ]
    body = json.dumps([records, kept], separators=(",", ":"))
    write_kept(git_dir, TABLES_FILE, f"{FORMAT} {hashlib.sha256(body.encode()).hexdigest()}\n{body}".encode("ascii"))


def write_kept(git_dir: Path, name: str, data: bytes) -> None:
    """Replace a kept file of the git directory atomically; a repository that cannot be written
    keeps none (the next run reads again)."""
    if len(data) > MAX_BYTES:
        return
    try:
        handle, temporary = tempfile.mkstemp(prefix=f"{name}.", dir=git_dir)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, git_dir / name)  # atomic: a concurrent run reads old or new
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # a read-only repository: the next run reads the files again
