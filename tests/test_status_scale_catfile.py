"""The run's cat-file session, buffered (`--batch-command --buffer`, a `flush` per chunk) and
pipelined (the next chunk of requests sent before this chunk's answers are read), against
git's own answers object by object and against the classic `--batch`/`--batch-check` pair."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import init_repo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_promote.adapters import catfile
from gitops_promote.adapters.git import Repository, git_env

MISSING = ["0" * 40, "no-such-ref", "x" * 9000]
Answers = dict[str, tuple[object, object]]


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], Answers]:
    """A repository with blobs of many sizes (some far larger than a pipe's buffer), and
    git's answers for each name (and for names of no object)."""
    path = tmp_path_factory.mktemp("catfile") / "repo.git"
    init_repo(path, bare=True)
    with Repository(path) as repo:
        sizes = [0, 1, 100, 5_000, 70_000, 300_000]
        shas = [repo.write_blob(b"%d:" % i + b"x" * sizes[i % len(sizes)]) for i in range(60)]
    expected = {n: (reference(path, n, contents=True), reference(path, n, contents=False)) for n in [*shas, *MISSING]}
    return path, shas, expected


def reference(path: Path, name: str, contents: bool) -> tuple[str, bytes] | tuple[str, str, int] | None:
    """git's answer for one name, from a process of its own."""
    kind = subprocess.run(["git", "cat-file", "-t", name], cwd=path, capture_output=True, check=False)
    if kind.returncode != 0:
        return None
    kind_text = kind.stdout.decode().strip()
    if not contents:
        size = subprocess.run(["git", "cat-file", "-s", name], cwd=path, capture_output=True, check=True)
        oid = subprocess.run(["git", "rev-parse", "--verify", name], cwd=path, capture_output=True, check=True)
        return oid.stdout.decode().strip(), kind_text, int(size.stdout)
    body = subprocess.run(["git", "cat-file", kind_text, name], cwd=path, capture_output=True, check=True)
    return kind_text, body.stdout


# an index into the blobs, or one of the names of no object (one long enough to fill a chunk)
NAMES = st.one_of(st.integers(0, 59), st.sampled_from(MISSING))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(NAMES, min_size=1, max_size=1500), st.booleans())
def test_buffered_pipelined_answers_are_gits_answers(
    objects: tuple[Path, list[str], Answers], asked: list[int | str], classic: bool
) -> None:
    path, shas, expected = objects
    names = [shas[v] if isinstance(v, int) else v for v in asked]
    reader = catfile.ObjectReader(["git"], str(path), git_env())
    if classic:
        reader._command = None  # as before git 2.36: a --batch and a --batch-check session
    try:
        got = reader.read_many(names)
        infos = reader.info_many(names)
    finally:
        reader.close()
    for name in set(names):
        assert (got[name], infos[name]) == expected[name], name[:50]


def test_many_chunks_of_large_answers_do_not_block(objects: tuple[Path, list[str], Answers]) -> None:
    """Thousands of requests whose answers are far larger than the pipe: both chunks in
    flight, git writing while we read, no deadlock and every answer in order."""
    path, shas, _expected = objects
    names = shas * 80  # 4,800 requests
    assert len(list(catfile._chunks([f"contents {n}" for n in names]))) > 10
    reader = catfile.ObjectReader(["git"], str(path), git_env())
    try:
        answers = reader._command.ask([f"contents {n}" for n in names], catfile._contents)  # type: ignore[union-attr]
    finally:
        reader.close()
    assert [a[1][: a[1].index(b":")] if a else None for a in answers] == [
        b"%d" % (i % len(shas)) for i in range(len(names))
    ]
