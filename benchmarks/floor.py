"""The fastest honest promotion: the same dev -> stg step done with bare git plumbing.

It is the floor `gitops promote` is measured against: no registry parsing, no YAML, no
reporting, just the rules of docs/promotion-rules.md for the reference registry's single
pattern `apps/*/values-{env}.yaml`:

  1. read-tree the source tree into a temporary index (GIT_INDEX_FILE), so every common path
     is the source's (rule d) and a file only the source has is seeded (rule b);
  2. update-index --index-info puts back the target's own `apps/<app>/values-<target>.yaml`
     entries (rule a), except where the app's directory is gone in the source (rule c: orphan);
  3. write-tree, commit-tree -p target -p source, update-ref target NEW OLD (compare-and-swap).

Usage: python benchmarks/floor.py REPO [--source dev] [--target stg] [--dry-run]
Prints the new tree id.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Variables that would point git at another repository or index (e.g. when run from a hook).
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
IDENTITY = {
    "GIT_AUTHOR_NAME": "Floor Benchmark",
    "GIT_AUTHOR_EMAIL": "floor@example.invalid",
    "GIT_COMMITTER_NAME": "Floor Benchmark",
    "GIT_COMMITTER_EMAIL": "floor@example.invalid",
}


@dataclass(frozen=True)
class FloorResult:
    tree: str
    commit: str | None
    old: str


def _env(index_file: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in REDIRECTING}
    env.update(IDENTITY)
    if index_file:
        env["GIT_INDEX_FILE"] = index_file
    return env


def git(repo: Path, *args: str, stdin: bytes | None = None, index_file: str | None = None) -> bytes:
    done = subprocess.run(  # noqa: S603 - argument list, no shell
        ["git", "-C", str(repo), "-c", "core.hooksPath=/dev/null", *args],
        input=stdin,
        capture_output=True,
        env=_env(index_file),
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def kept_entries(repo: Path, source: str, target: str) -> bytes:
    """index-info lines for the target's own env files whose app still exists in the source."""
    owned = re.compile(rb"^apps/([^/]+)/values-" + re.escape(target.encode()) + rb"\.yaml$")
    source_apps = set(git(repo, "ls-tree", "-z", "--name-only", f"refs/heads/{source}", "--", "apps/").split(b"\0"))
    lines = []
    listing = git(repo, "ls-tree", "-r", "-z", "--full-tree", f"refs/heads/{target}", "--", "apps/")
    for record in listing.split(b"\0"):
        meta, _, path = record.partition(b"\t")
        match = owned.match(path)
        if match and b"apps/" + match.group(1) in source_apps:
            mode, _kind, sha = meta.split(b" ")
            lines.append(b"%s %s\t%s\0" % (mode, sha, path))
    return b"".join(lines)


def promote(repo: Path, source: str = "dev", target: str = "stg", dry_run: bool = False) -> FloorResult:
    old = git(repo, "rev-parse", "--verify", f"refs/heads/{target}").decode().strip()
    new_source = git(repo, "rev-parse", "--verify", f"refs/heads/{source}").decode().strip()
    with tempfile.TemporaryDirectory(prefix="floor-") as scratch:
        index = str(Path(scratch) / "index")
        git(repo, "read-tree", f"{new_source}^{{tree}}", index_file=index)
        git(
            repo,
            "update-index",
            "-z",
            "--index-info",
            stdin=kept_entries(repo, source, target),
            index_file=index,
        )
        tree = git(repo, "write-tree", index_file=index).decode().strip()
    if dry_run:
        return FloorResult(tree, None, old)
    message = f"Promote {source} to {target}\n".encode()
    commit = git(repo, "commit-tree", tree, "-p", old, "-p", new_source, stdin=message).decode().strip()
    git(repo, "update-ref", "-m", f"floor: promote {source}", f"refs/heads/{target}", commit, old)
    return FloorResult(tree, commit, old)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--source", default="dev")
    parser.add_argument("--target", default="stg")
    parser.add_argument("--dry-run", action="store_true", help="build the tree, move no branch")
    args = parser.parse_args(argv)
    print(promote(args.repo, args.source, args.target, args.dry_run).tree)
    return 0


if __name__ == "__main__":
    sys.exit(main())
