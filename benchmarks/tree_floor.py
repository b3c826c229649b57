"""The tree-level floor: a promotion that touches only the trees on differing paths.

Written independently of the package (no import from gitops_promote), for the reference
registry's single pattern `apps/*/values-{env}.yaml` (`--owned` changes it), with four git
processes whatever the size of the repository:

  1. `rev-parse`: both commits and the source's tree in one call;
  2. `diff-tree -r -t -z` between the source and the target: the only paths the rules can
     change (a path equal on both sides is the source's under every rule), with the trees on
     their way, which answer the two questions about the source's directories: does a kept
     file's directory still exist there (rule c, orphan), and does the source hold a
     directory where it is a file, or a file where it needs a directory (the clash refusal);
  3. one `fast-import` stream: the source's root tree (`M 040000 <tree> ""`) plus the kept
     entries; git rewrites only the trees on their paths (the commit goes to a scratch ref);
  4. `update-ref --stdin`: one transaction moving the target from its old value to the new
     commit (compare-and-swap) and deleting the scratch ref.

Usage: python benchmarks/tree_floor.py REPO [--source dev] [--target stg] [--dry-run]
Prints the new tree id (exit 1 with a message when the promotion must be refused).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REDIRECTING = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_COMMON_DIR",
)
IDENTITY = "Tree Floor <floor@example.invalid> 1767225600 +0000"
PATTERN = "apps/*/values-{env}.yaml"


class Refused(Exception):
    """The rules refuse this promotion (a file where the source has a directory, or back)."""


@dataclass(frozen=True)
class FloorResult:
    tree: str
    commit: str
    old: str
    kept: int
    orphaned: int


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in REDIRECTING}
    env["LC_ALL"] = "C"
    return env


def _argv(repo: Path, *args: str) -> list[str]:
    return ["git", "-C", str(repo), "-c", "core.hooksPath=/dev/null", *args]


def git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(_argv(repo, *args), input=stdin, capture_output=True, env=_env(), check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def owned_regex(pattern: str, env: str) -> re.Pattern[bytes]:
    """A glob with `*` inside one component (all the floor needs) as a regex over bytes."""
    parts = [re.escape(part).replace(r"\*", "[^/]*") for part in pattern.replace("{env}", env).split("/")]
    return re.compile(("^" + "/".join(parts) + "$").encode(), re.DOTALL)


def differing(repo: Path, source: str, target: str) -> list[tuple[bytes, bytes, bytes, bytes]]:
    """(path, source mode, target mode, target id) for every differing path, trees included.

    `-t` adds the trees on the way to each differing file: every directory holding a
    differing path differs itself, so its record says whether the source has it (rule c)
    and whether the source holds a file or a directory there (the clash refusal) — no
    lookup into the 20,000-entry `apps/` tree is needed.
    """
    out = git(repo, "diff-tree", "-r", "-t", "-z", "--no-renames", "--end-of-options", source, target)
    fields = out.split(b"\0")
    rows = []
    for meta, path in zip(fields[0:-1:2], fields[1::2], strict=True):
        src_mode, dst_mode, _src_sha, dst_sha, _status = meta[1:].split(b" ")
        rows.append((path, src_mode, dst_mode, dst_sha))
    return rows


ABSENT, TREE = b"000000", b"040000"


def parents(path: bytes) -> list[bytes]:
    out = []
    while b"/" in path:
        path = path.rsplit(b"/", 1)[0]
        out.append(path)
    return out


def kept_entries(
    rows: list[tuple[bytes, bytes, bytes, bytes]], owned: re.Pattern[bytes]
) -> tuple[list[tuple[bytes, bytes, bytes]], int]:
    """(mode, id, path) of the target's own entries to put into the source's tree; orphans."""
    in_source: dict[bytes, set[bytes]] = {}  # path -> the source's modes there (file and tree)
    for path, src_mode, _dst_mode, _sha in rows:
        if src_mode != ABSENT:
            in_source.setdefault(path, set()).add(src_mode)
    kept, orphaned = [], 0
    for path, _src_mode, dst_mode, sha in rows:
        if dst_mode in (ABSENT, TREE) or not owned.match(path):
            continue  # rules b and d: the source's entry, already in the source's tree
        above = parents(path)
        if above and TREE not in in_source.get(above[0], set()):
            orphaned += 1  # rule c: nothing at all left of its directory in the source
            continue
        clash = TREE in in_source.get(path, set()) or any(in_source.get(a, set()) - {TREE} for a in above)
        if clash:
            raise Refused(f"{path.decode(errors='replace')}: a file and a directory would share this path")
        kept.append((dst_mode, sha, path))
    return kept, orphaned


def quote(path: bytes) -> bytes:
    """A fast-import path in C-style quotes (spaces, quotes and control bytes are safe)."""
    escaped = path.replace(b"\\", b"\\\\").replace(b'"', b'\\"').replace(b"\n", b"\\n")
    return b'"' + escaped + b'"'


def stream(old: str, new_source: str, source_tree: str, kept: list[tuple[bytes, bytes, bytes]], label: str) -> bytes:
    message = f"Promote {label}\n\nPromoted-From: {label.split()[0]}\nPromoted-Commit: {new_source}\n".encode()
    head = [
        f"commit refs/tree-floor/{os.getpid()}\nmark :1\ncommitter {IDENTITY}\n".encode(),
        b"data %d\n%s\n" % (len(message), message),
        f'from {old}\nmerge {new_source}\nM 040000 {source_tree} ""\n'.encode(),
    ]
    body = [b"M %s %s %s\n" % (mode, sha, quote(path)) for mode, sha, path in kept]
    return b"".join(head + body + [b'\nget-mark :1\nls :1 ""\ndone\n'])


def promote(
    repo: Path, source: str = "dev", target: str = "stg", dry_run: bool = False, pattern: str = PATTERN
) -> FloorResult:
    src_ref, dst_ref = f"refs/heads/{source}", f"refs/heads/{target}"
    ids = git(repo, "rev-parse", src_ref, dst_ref, src_ref + "^{tree}")
    new_source, old, source_tree = ids.decode().split()
    kept, orphaned = kept_entries(differing(repo, new_source, old), owned_regex(pattern, target))
    out = git(
        repo,
        "fast-import",
        "--quiet",
        "--done",
        stdin=stream(old, new_source, source_tree, kept, f"{source} to {target}"),
    )
    commit, listing = out.decode().splitlines()[:2]
    tree = listing.split()[2]
    scratch = f"refs/tree-floor/{os.getpid()}"
    moves = f"delete {scratch} {commit}\n"
    if not dry_run:
        moves = f"update {dst_ref} {commit} {old}\n" + moves  # one transaction: both or neither
    git(repo, "update-ref", "--stdin", "-m", f"tree floor: promote {source}", stdin=moves.encode())
    return FloorResult(tree, commit, old, len(kept), orphaned)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--source", default="dev")
    parser.add_argument("--target", default="stg")
    parser.add_argument("--owned", default=PATTERN, help="the target's env-specific pattern ({env}, *)")
    parser.add_argument("--dry-run", action="store_true", help="build the tree, move no branch")
    args = parser.parse_args(argv)
    try:
        result = promote(args.repo, args.source, args.target, args.dry_run, args.owned)
    except Refused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(result.tree)
    return 0


if __name__ == "__main__":
    sys.exit(main())
