"""Listings of a few kinds of file (by name) in several commits, from one `ls-tree` and diffs.

`gitops parity` needs every chart of every environment branch, but only three files of each:
Chart.yaml, values.yaml and the environment's values file. Building a 140,000-entry listing of
TreeEntry objects per branch (20,000 apps) to look up 60,000 of them cost more than reading
them; here the raw `ls-tree -r -z` bytes are split once and only the wanted names are kept.
The other commits are derived from `diff-tree` against the first: environment branches share
almost every file, so their listings cost their differences. The first listing is kept in the
git directory by tree id (`gitops-parity-listing`, one tree): a tree never changes, and the
next run on the same upstream head reads it back instead of listing 140,000 entries again.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from gitops_promote.adapters.facts_cache import write_kept
from gitops_promote.adapters.git import Repository
from gitops_promote.core.tree import MODE_GITLINK

# path -> blob id; None for a submodule (gitlink), which is there but has no content to read
NamedFiles = dict[str, str | None]

_GITLINK = MODE_GITLINK.encode()


def named_files(
    repo: Repository,
    commits: Mapping[str, str],
    names: Collection[str],
    trees: Mapping[str, str] | None = None,
    later: list[Callable[[], None]] | None = None,
    first_listed: Callable[[str, NamedFiles], None] = lambda _key, _files: None,
) -> dict[str, NamedFiles]:
    """key -> the files of `commits[key]` whose base name is one of `names` (in commit order).
    `trees` (key -> tree id of the commit), when known, spares asking for the first one; with
    `later`, the listing is kept by a function put there (for the caller to call while git
    works) instead of at once; `first_listed(key, files)` is called with the first listing as
    soon as it is made (the caller may start reading its files while the others are derived)."""
    wanted = {name.encode() for name in names}
    found: dict[str, NamedFiles] = {}
    first: tuple[str, NamedFiles] | None = None
    for key, commit in commits.items():
        if first is None:
            first = (commit, _first(repo, commit, wanted, trees[key] if trees else repo.tree_of(commit), later))
            found[key] = first[1]
            first_listed(key, first[1])
        else:
            found[key] = _derived(repo, first, commit, wanted)
    return found


def _base(path: bytes) -> bytes:
    return path.rpartition(b"/")[2]


LISTING_FILE = "gitops-parity-listing"
_FORMAT = "gitops-parity-listing 1"


def _first(
    repo: Repository, commit: str, wanted: set[bytes], tree: str, later: list[Callable[[], None]] | None
) -> NamedFiles:
    """The first commit's files: kept from the last run when its tree is the same, derived from
    the kept tree by `diff-tree` when the branch moved (a push changes a few files), else listed."""
    names = hashlib.sha256(b"\0".join(sorted(wanted))).hexdigest()[:16]  # which files: ASCII, no space
    kept = _load(repo.git_dir, names)
    if kept is not None and kept[0] == tree:
        return kept[1]
    files = _derived(repo, kept, commit, wanted) if kept is not None else _listed(repo, commit, wanted)
    keep = functools.partial(_save, repo.git_dir, f"{_FORMAT} {names} {tree}", files)
    if later is None:
        keep()
    else:
        later.append(keep)
    return files


def _load(git_dir: Path, names: str) -> tuple[str, NamedFiles] | None:
    """(tree id, files) kept for the same `names`, or None."""
    try:
        header, _newline, body = (git_dir / LISTING_FILE).read_bytes().partition(b"\n")
        format_, kept_names, tree, checksum = header.decode("ascii").rsplit(" ", 3)
        if (format_, kept_names, checksum) != (_FORMAT, names, hashlib.sha256(body).hexdigest()):
            return None
        paths, shas = json.loads(body)
        files = dict(zip(paths, shas, strict=True))
        if all(isinstance(p, str) for p in paths) and all(isinstance(s, str | None) for s in shas):
            return tree, files
        return None
    except (OSError, ValueError, TypeError, UnicodeDecodeError):
        return None


def _save(git_dir: Path, key: str, files: NamedFiles) -> None:
    body = json.dumps([list(files), list(files.values())], separators=(",", ":")).encode("ascii")
    write_kept(git_dir, LISTING_FILE, f"{key} {hashlib.sha256(body).hexdigest()}\n".encode("ascii") + body)


def _listed(repo: Repository, commit: str, wanted: set[bytes]) -> NamedFiles:
    out = repo.run(["ls-tree", "-r", "-z", "--full-tree", "--end-of-options", commit], what="list a tree")
    # "<mode> <type> <id>\t<path>" NUL: decoded once (the separators are ASCII, so each path
    # decodes as it would alone), split once, and only the records wanted looked inside
    names = {name.decode("utf-8", "surrogateescape") for name in wanted}
    gitlink = MODE_GITLINK + " "
    records = (record.partition("\t") for record in out.decode("utf-8", "surrogateescape").split("\0"))
    return {
        path: None if meta.startswith(gitlink) else meta.rpartition(" ")[2]
        for meta, _tab, path in records
        if path and path.rpartition("/")[2] in names
    }


def _derived(repo: Repository, first: tuple[str, NamedFiles], commit: str, wanted: set[bytes]) -> NamedFiles:
    base_commit, base_files = first
    files = dict(base_files)
    out = repo.run(
        ["diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", "--end-of-options", base_commit, commit],
        what="compare two trees",
    )
    fields = out.split(b"\0")
    # ":<old mode> <new mode> <old id> <new id> <status>" NUL "<path>" NUL, per differing file
    for meta, raw_path in zip(fields[0:-1:2], fields[1::2], strict=True):
        if _base(raw_path) not in wanted:
            continue
        _old_mode, new_mode, _old_sha, new_sha, _status = meta[1:].split(b" ")
        path = raw_path.decode("utf-8", "surrogateescape")
        if new_mode == b"000000":
            files.pop(path, None)
        else:
            files[path] = None if new_mode == _GITLINK else new_sha.decode()
    return files
