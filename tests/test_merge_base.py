"""The base of a step with no promotion yet: read off the first-parent walk where that is
certain, and always the commit `git merge-base` names (real repositories, plumbing)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._engine import COMMON_ANCESTOR, HAND_MERGE, last_promotion

ENV = {"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.invalid", "GIT_AUTHOR_DATE": "1700000000 +0000"}
ENV |= {"GIT_COMMITTER_NAME": "C", "GIT_COMMITTER_EMAIL": "c@example.invalid", "GIT_COMMITTER_DATE": "1700000000 +0000"}


def git(repo: Path, *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True, check=True, env=ENV)
    return done.stdout.decode().strip()


def commit(repo: Path, message: str, *parents: str) -> str:
    blob = git(repo, "hash-object", "-w", "--stdin", stdin=message.encode())
    tree = git(repo, "mktree", stdin=f"100644 blob {blob}\tf\n".encode())
    return git(repo, "commit-tree", tree, *[a for p in parents for a in ("-p", p)], "-m", message)


def shapes(repo: Path) -> dict[str, tuple[str, str]]:
    """(target, source) pairs of the shapes a never-promoted step has."""
    root = commit(repo, "root")
    a1 = commit(repo, "a1", root)
    s1 = commit(repo, "s1", a1)
    s2 = commit(repo, "s2", s1)
    t1 = commit(repo, "t1", a1)  # the target's own commits since the shared one
    t2 = commit(repo, "t2", t1)
    side = commit(repo, "side", root)
    merged = commit(repo, "merge", t2, side)  # a merge on the target's line: git decides
    tm = commit(repo, "after merge", merged)
    other_root = commit(repo, "unrelated")
    crossed = commit(repo, "target took s1", t2, s1)  # a criss-cross: merge-base is s1
    return {
        "diverged": (t2, s2),
        "target behind": (a1, s2),  # nothing walked: the target is in the source's history
        "same": (s2, s2),
        "merge on the line": (tm, s2),
        "unrelated": (other_root, s2),
        "source merged in": (crossed, s2),
    }


@pytest.mark.parametrize(
    "shape", ["diverged", "target behind", "same", "merge on the line", "unrelated", "source merged in"]
)
def test_the_common_ancestor_is_git_merge_base(tmp_path: Path, shape: str) -> None:
    repo = tmp_path / "repo.git"
    subprocess.run(["git", "init", "-q", "--bare", str(repo)], check=True)
    target, source = shapes(repo)[shape]
    expected = subprocess.run(["git", "merge-base", target, source], cwd=repo, capture_output=True, text=True)
    with Repository(repo) as opened:
        base = last_promotion(opened, target, source, "dev")
    if expected.returncode != 0:
        assert base is None  # no shared history
        return
    assert base is not None
    if shape == "source merged in":  # a `git merge` of the source by hand is the base itself
        assert base.kind == HAND_MERGE and base.source_commit == expected.stdout.strip()
        return
    assert base.kind == COMMON_ANCESTOR
    assert base.commit == base.source_commit == expected.stdout.strip()
