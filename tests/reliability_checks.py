"""Helpers of the reliability tests (tests/test_reliability_*.py, tests/test_hostile_input.py).

They run the real CLI in subprocesses (`python -m gitops_promote`) and check what a promotion
guarantees about the target branch with plain git commands, independently of the tool's code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from conftest import git

ENV_FILES_OF = "values-{env}.yaml"


def gitops_argv(cwd: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "gitops_promote", "-C", str(cwd), *args]


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def run_gitops(cwd: Path, *args: str, timeout: float = 120) -> Run:
    """The CLI in a subprocess, as a user runs it."""
    proc = subprocess.run(  # noqa: S603 - argument list
        gitops_argv(cwd, *args), capture_output=True, timeout=timeout, check=False
    )
    return Run(proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace"))


def spawn_gitops(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """The CLI in its own process group (a terminal's Ctrl-C reaches the whole group)."""
    return subprocess.Popen(  # noqa: S603 - argument list
        gitops_argv(cwd, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env=env,
    )


def tree(repo: Path, rev: str) -> dict[bytes, tuple[bytes, bytes]]:
    """path -> (mode, object id), byte-exact (paths are not decoded)."""
    out = subprocess.run(  # noqa: S603
        ["git", "ls-tree", "-r", "-z", "--full-tree", rev], cwd=repo, capture_output=True, check=True
    ).stdout
    entries = {}
    for record in out.split(b"\0"):
        if record:
            meta, _, path = record.partition(b"\t")
            mode, _kind, sha = meta.split(b" ")
            entries[path] = (mode, sha)
    return entries


def is_env_file(path: bytes, env: str) -> bool:
    parts = path.split(b"/")
    return len(parts) == 3 and parts[0] == b"apps" and parts[2] == f"values-{env}.yaml".encode()


def without_env_files(entries: dict[bytes, tuple[bytes, bytes]], env: str) -> dict[bytes, tuple[bytes, bytes]]:
    return {p: e for p, e in entries.items() if not is_env_file(p, env)}


def env_files(entries: dict[bytes, tuple[bytes, bytes]], env: str) -> dict[bytes, tuple[bytes, bytes]]:
    return {p: e for p, e in entries.items() if is_env_file(p, env)}


def trailers(repo: Path, commit: str) -> dict[str, str]:
    out = git(repo, "log", "-1", "--format=%(trailers:only,unfold)", commit)
    found = {}
    for line in out.splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            found[key] = value.strip()
    return found


def first_parent_line(repo: Path, tip: str, stop: str) -> list[str]:
    """Commits on tip's first-parent line down to (excluding) `stop`, newest first."""
    out = git(repo, "rev-list", "--first-parent", tip, f"^{stop}")
    return out.split()


def check_promotion_history(repo: Path, branch: str, base: str, source: str, source_branch: str) -> list[str]:
    """Assert that `branch` holds only complete promotions from `source` on top of `base`.

    Each commit on its first-parent line after `base` is a promotion: two parents (the
    previous tip, the promoted commit), trailers naming `source` and the promoted commit, the
    promoted commit reachable from `source_branch`, the target's env-specific files as they
    were at `base`, and every other path exactly the promoted commit's. Returns the line.
    """
    env = branch
    base_env_files = env_files(tree(repo, base), env)
    line = first_parent_line(repo, f"refs/heads/{branch}", base)
    for commit in line:
        parents = git(repo, "rev-list", "--parents", "-1", commit).split()[1:]
        assert len(parents) == 2, f"{commit} on {branch} is not a promotion (parents {parents})"
        found = trailers(repo, commit)
        assert found.get("Promoted-From") == source, (commit, found)
        promoted = found.get("Promoted-Commit")
        assert promoted == parents[1], (commit, found, parents)
        git(repo, "merge-base", "--is-ancestor", promoted, f"refs/heads/{source_branch}")
        entries = tree(repo, commit)
        assert env_files(entries, env) == base_env_files, f"{env}'s own files changed in {commit}"
        assert without_env_files(entries, env) == without_env_files(tree(repo, promoted), env), (
            f"{commit} does not hold the content of {promoted}"
        )
    return line


def fsck(repo: Path) -> None:
    proc = subprocess.run(  # noqa: S603
        ["git", "fsck", "--no-progress", "--no-dangling"], cwd=repo, capture_output=True, check=False
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    errors = [line for line in proc.stdout.decode(errors="replace").splitlines() if line]
    assert not errors, errors


def leftovers(git_dir: Path) -> list[str]:
    """Lock files and temporary index files a run may have left in a git directory."""
    found = [str(p.relative_to(git_dir)) for p in git_dir.rglob("*.lock")]
    found += [str(p.relative_to(git_dir)) for p in git_dir.glob("index.*") if p.name != "index"]
    return sorted(found)


def refs(repo: Path) -> dict[str, str]:
    out = git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
    pairs = (line.split(" ", 1) for line in out.splitlines())
    return {name: sha for name, sha in pairs}


def child_pids(pid: int) -> list[int]:
    """Processes whose parent is `pid` (Linux /proc)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                text = stat.read()
        except OSError:  # the process ended meanwhile
            continue
        # the command name may hold spaces and parentheses: the fields follow the last ')'
        fields = text[text.rfind(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(name))
    return found


def wait_for_git_child(proc: subprocess.Popen[bytes], timeout: float = 30) -> bool:
    """Wait until the CLI runs its first git command (it is then past start-up, in the command).

    False when the process ended first.
    """
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if child_pids(proc.pid):
            return True
        time.sleep(0.005)
    return False


def local_state(clone: Path) -> tuple[dict[str, str], str, str]:
    """Local branches, HEAD and `git status` of a clone: what a failed run must not change."""
    branches = {k: v for k, v in refs(clone).items() if k.startswith("refs/heads/")}
    head = git(clone, "rev-parse", "HEAD")
    status = git(clone, "status", "--porcelain=v1", "--untracked-files=all", "--ignored")
    return branches, head, status
