"""A reader that closes stdout early (`gitops ... | head`) cuts the output, it is not a bug:
exit 3 and nothing on stderr, never exit 4 with a traceback (docs/exit-codes.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_gitops_repo

import gitops_promote

SRC = Path(gitops_promote.__file__).resolve().parent.parent


def _run_with_closed_stdout(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """`gitops ARGS` in `repo`, its stdout a pipe whose reader is gone before it writes."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone: the first write fails with EPIPE, deterministically
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    try:
        return subprocess.run(
            [sys.executable, "-m", "gitops_promote", *args],
            cwd=repo,
            stdout=write,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
            check=False,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize(
    "args",
    [
        ("history", "stg", "--output", "json"),  # one write of the whole JSON
        ("diff", "dev", "stg", "--output", "json"),  # written file by file
        ("status",),  # a rich table
    ],
)
def test_a_closed_stdout_is_exit_3_without_a_traceback(tmp_path: Path, args: tuple[str, ...]) -> None:
    repo = make_gitops_repo(tmp_path / "repo")
    repo.commit("dev", {"apps/api/values.yaml": "image: {tag: '2'}\n"})
    done = _run_with_closed_stdout(repo.path, *args, "--no-fetch")
    assert done.returncode == 3, done.stderr.decode()
    assert b"Traceback" not in done.stderr and b"internal error" not in done.stderr
    assert done.stderr == b""  # the reader chose to stop: nothing to report
