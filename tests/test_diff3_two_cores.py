"""`gitops diff -o json` on two cores: a forked child writes the second half of the records.

The reference is the one-process stream (`DiffResult.files` then `record_text`, as the CLI
wrote it before): every split point, on real repositories with secrets, a Secret template,
binaries, kept and seeded files and broken YAML, gives the same bytes; an all-unparsable diff
is refused before anything is written whichever half its files fall in; a child that dies
leaves the text to be made here, the same.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import GitopsRepo, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_diff_cli import SECRET, scenario

from gitops_promote.adapters import background
from gitops_promote.adapters.background import BackgroundText
from gitops_promote.commands import diff as command
from gitops_promote.commands._engine import PromotionRequest
from gitops_promote.errors import GitError
from gitops_promote.render.diffreport import json_record_chunks, record_text


def _request() -> PromotionRequest:
    return PromotionRequest("dev", "stg", None, None, None, True, apps=())


def _one_process(result: command.DiffResult) -> str:
    """The reference: every record made here, in order (the stream before the child)."""
    assert result.source is not None
    records = (record_text(f) for f in result.files())
    tail = {"warnings": [w.to_json() for w in result.warnings]}
    return "".join(json_record_chunks(result.head, result.summary, records, tail))


def _split_at(result: command.DiffResult, split: int) -> str:
    assert result.source is not None
    records = command._records_on_two_cores(result.source, split)
    tail = {"warnings": [w.to_json() for w in result.warnings]}
    return "".join(json_record_chunks(result.head, result.summary, records, tail))


def test_every_split_gives_the_one_process_text(gitops_repo: GitopsRepo) -> None:
    scenario(gitops_repo)
    result = command.run(gitops_repo.path, _request(), stream=True)
    assert result.source is not None
    expected = _one_process(result)
    assert SECRET not in expected
    assert expected == run_cli(gitops_repo.path, "diff", "dev", "stg", "-o", "json").stdout
    for split in range(1, len(result.source.actions)):
        assert _split_at(result, split) == expected, split


def test_without_a_fork_the_text_is_made_here(gitops_repo: GitopsRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not Linux, or another thread running (the spinner): no child, the same text."""
    scenario(gitops_repo)
    result = command.run(gitops_repo.path, _request(), stream=True)
    expected = _one_process(result)
    stop = threading.Event()
    spinner = threading.Thread(target=stop.wait)
    spinner.start()
    try:
        assert not BackgroundText(lambda: _pieces()).forked  # type: ignore[arg-type,return-value]
        assert _split_at(result, 2) == expected
    finally:
        stop.set()
        spinner.join()
    monkeypatch.setattr(background, "ENABLED", False)
    assert _split_at(result, 3) == expected


_CONTENTS = st.sampled_from(
    [
        "a: 1\n",
        "a: 2\nb: [x, {c: d}]\n",
        f"password: {SECRET}\nimage: {{tag: '1.0'}}\n",
        f"kind: Secret\ndata:\n  k: {SECRET}\n",
        "a: [unclosed\n",
        "env:\n  - {name: DB_PASSWORD, value: " + SECRET + "}\n",
        "on: yes\nmode: 0755\n",
        "---\nkind: A\nmetadata: {name: x}\n---\nkind: B\nmetadata: {name: y}\n",
    ]
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    files=st.dictionaries(st.sampled_from(["api", "web", "db", "new"]), _CONTENTS, min_size=1),
    split=st.integers(1, 60),
)
def test_generated_changes_split_anywhere(gitops_repo: GitopsRepo, files: dict[str, str], split: int) -> None:
    """Changed values files (broken ones too) on dev: any split gives the reference's text, or
    the same refusal."""
    gitops_repo.commit("dev", {f"apps/{app}/values.yaml": text for app, text in files.items()}, "change")
    result = command.run(gitops_repo.path, _request(), stream=True)
    assert result.source is not None
    split = min(split, len(result.source.actions) - 1) or 1
    try:
        expected = _one_process(result)
    except GitError as refused:
        with pytest.raises(GitError, match=str(refused)):
            _split_at(result, split)
        return
    assert _split_at(result, split) == expected
    assert SECRET not in expected


def test_broken_files_in_both_halves_are_refused_before_writing(gitops_repo: GitopsRepo) -> None:
    gitops_repo.commit(
        "dev", {"apps/api/values.yaml": "a: [unclosed\n", "apps/web/values.yaml": "b: {unclosed\n"}, "broken"
    )
    result = command.run(gitops_repo.path, _request(), stream=True)
    assert result.source is not None
    compared = [i for i, (_app, a) in enumerate(result.source.actions) if a.action != "kept"]
    records = command._records_on_two_cores(result.source, compared[-1])  # one broken file each side
    chunks = json_record_chunks(result.head, result.summary, records, {})
    with pytest.raises(GitError, match="nothing could be compared"):
        next(chunks)  # not even the opening brace


def test_a_readable_file_in_the_childs_half_is_enough(gitops_repo: GitopsRepo) -> None:
    """The first half all broken, the second readable: the first half's records are held, then
    written in their place."""
    gitops_repo.commit("dev", {"apps/api/values.yaml": "a: [unclosed\n", "apps/web/values.yaml": "a: 9\n"}, "one")
    result = command.run(gitops_repo.path, _request(), stream=True)
    assert result.source is not None
    paths = [a.path for _app, a in result.source.actions]
    split = paths.index("apps/api/values.yaml") + 1
    assert "apps/web/values.yaml" in paths[split:]
    assert _split_at(result, split) == _one_process(result)


def _pieces() -> object:
    yield "a"
    yield "\udcff \u202e \n"  # what the seam never writes raw, carried exactly all the same
    yield ""
    return {"seen": (True, False)}


def _dies_in_the_child(parent: int) -> object:
    if os.getpid() != parent:
        os._exit(3)
    return _pieces()


@pytest.mark.parametrize("die", [False, True])
def test_background_text_is_the_same_from_a_child_or_from_here(die: bool) -> None:
    parent = os.getpid()
    child = BackgroundText(lambda: _dies_in_the_child(parent) if die else _pieces())  # type: ignore[arg-type,return-value]
    try:
        assert child.forked  # the test process runs no other thread
        value, pieces = child.result()
        assert (value, list(pieces)) == ({"seen": (True, False)}, ["a", "\udcff \u202e \n", ""])
    finally:
        child.close()


_CHILD_RUN = """
import atexit, os, sys
import gitops_promote.commands.diff as command
from gitops_promote.cli import main
forks = []
real_fork = os.fork
def fork():
    pid = real_fork()
    if pid:
        forks.append(pid)
    return pid
os.fork = fork
command.PARALLEL_FILES = 1
sys.argv = ["gitops", "-C", sys.argv[1], "diff", "dev", "stg", "-o", "json"]
atexit.register(lambda: sys.stderr.write(f"forks={len(forks)}"))  # main() ends the process
main()
"""


def test_the_cli_writes_the_same_bytes_with_a_child(gitops_repo: GitopsRepo) -> None:
    """The real command in a fresh process, the child's share lowered to one file: one fork,
    and the bytes of the one-process run."""
    scenario(gitops_repo)
    serial = run_cli(gitops_repo.path, "diff", "dev", "stg", "-o", "json")
    assert serial.exit_code == 0, serial.stderr
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent / "src")}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD_RUN, str(gitops_repo.path)], capture_output=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr.decode().endswith("forks=1")
    assert done.stdout.decode() == serial.stdout
