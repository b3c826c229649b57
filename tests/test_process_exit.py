"""How a run ends its process (cli.main, cli._leave): without the interpreter's teardown, yet
with the exit functions run, every byte of the output flushed, a live thread waited for, and
output that cannot be written reported as exit 3 (docs/exit-codes.md), never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_gitops_repo, run_cli

import gitops_promote

SRC = Path(gitops_promote.__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
FULL_DISK = Path("/dev/full")  # every write fails with ENOSPC (Linux)


def _gitops(cwd: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # noqa: S603 - argument list
        [sys.executable, "-m", "gitops_promote", *args], cwd=cwd, env=ENV, check=False, timeout=120, **kwargs
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    made = make_gitops_repo(tmp_path / "repo")
    # Over a pipe's 64 KiB of JSON, so that most of it is written after the first write.
    made.commit("dev", {f"apps/api/conf-{n:04}.yaml": f"key: {n}\n" for n in range(600)})
    return made.path


def test_a_big_output_through_a_pipe_is_complete(repo: Path) -> None:
    done = _gitops(repo, "diff", "dev", "stg", "--output", "json", capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    assert len(done.stdout) > 65_536
    in_process = run_cli(repo, "diff", "dev", "stg", "--output", "json")
    assert done.stdout.decode() == in_process.stdout
    assert len(json.loads(done.stdout)["files"]) == 600


@pytest.mark.skipif(not FULL_DISK.exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize(
    "args",
    [
        ("history", "stg", "--output", "json"),  # one write, inside the command
        ("diff", "dev", "stg", "--output", "json"),  # written file by file
        ("status", "--no-fetch"),  # a rich table
        ("promote", "dev", "stg", "--dry-run"),  # a short text, flushed only as the process ends
        ("--version",),  # click's own output, outside any command
        ("--help",),
    ],
)
def test_output_onto_a_full_disk_is_exit_3_and_says_so(repo: Path, args: tuple[str, ...]) -> None:
    with FULL_DISK.open("wb") as full:
        done = _gitops(repo, *args, stdout=full, stderr=subprocess.PIPE)
    stderr = done.stderr.decode()
    assert done.returncode == 3, stderr
    assert "error: could not write the output: No space left on device" in stderr
    assert "hint: make room on the device" in stderr
    assert "Traceback" not in stderr and "internal error" not in stderr


@pytest.mark.parametrize("closed", [1, 2])
def test_a_closed_output_is_discarded_as_into_dev_null(repo: Path, closed: int) -> None:
    done = subprocess.run(  # noqa: S603 - argument list
        [sys.executable, "-m", "gitops_promote", "promote", "dev", "stg", "--no-push"],
        cwd=repo,
        env=ENV,
        check=False,
        timeout=120,
        capture_output=True,
        preexec_fn=lambda: os.close(closed),  # noqa: PLW1509 - the test's own child, no threads
    )
    assert done.returncode == 0, done.stderr.decode()
    assert b"Traceback" not in done.stdout + done.stderr
    dev_tree, stg_tree = subprocess.run(  # noqa: S603
        ["git", "rev-parse", "dev^{tree}", "stg^{tree}"], cwd=repo, capture_output=True, check=True
    ).stdout.split()
    assert stg_tree == dev_tree  # the promotion ran (these env files are alike on both)
    shown = done.stderr if closed == 1 else done.stdout
    assert (b"promoted dev to stg" if closed == 1 else b"dev ") in shown  # the other output still works


EXIT_FUNCTIONS = r"""
import atexit, pathlib, sys, threading, time
out = pathlib.Path(sys.argv[1])

def late_writer():
    time.sleep(0.3)
    (out / "thread").write_text("done")

threading.Thread(target=late_writer).start()  # not a daemon: the exit waits for it
atexit.register(lambda: (out / "atexit").write_text("ran"))
sys.argv = ["gitops", *sys.argv[2:]]
from gitops_promote.cli import main
main()
"""


@pytest.mark.parametrize(("args", "code"), [(("--version",), 0), (("no-such-command",), 2)])
def test_exit_functions_run_and_a_live_thread_is_waited_for(tmp_path: Path, args: tuple[str, ...], code: int) -> None:
    done = subprocess.run(  # noqa: S603 - argument list
        [sys.executable, "-c", EXIT_FUNCTIONS, str(tmp_path), *args],
        env=ENV,
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == code, done.stderr.decode()
    assert (tmp_path / "atexit").read_text() == "ran"
    assert (tmp_path / "thread").read_text() == "done"


FAST_EXIT = r"""
import atexit, os, sys
atexit.register(lambda: os.write(2, b"exit functions ran\n"))
sys.argv = ["gitops", *sys.argv[1:]]
from gitops_promote.cli import main
try:
    main()
finally:
    os.write(2, b"teardown reached\n")  # only when main() raised instead of ending the process
"""


def test_without_threads_the_process_ends_in_main(repo: Path) -> None:
    done = subprocess.run(  # noqa: S603 - argument list
        [sys.executable, "-c", FAST_EXIT, "-C", str(repo), "promote", "dev", "stg", "--dry-run"],
        env=ENV,
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert b"exit functions ran" in done.stderr
    assert b"teardown reached" not in done.stderr
    assert b"dev " in done.stdout  # the report, flushed before the end
