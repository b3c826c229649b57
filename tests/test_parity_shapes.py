"""Parity's facts from shapes (core/yamlshape.py, adapters/file_facts.py) are the facts from
each file parsed whole (`file_facts.read_one`: the one limited loader, the oracle), on generated
files inside and outside what shapes read, on hostile files and on the real files of
tests/data/corpus; and files alike are parsed once."""

from __future__ import annotations

import os
import posixpath
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import GitopsRepo, git, init_repo, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_parity_index import CORPUS
from test_yaml_limits import billion_laughs

from gitops_promote.adapters import background, facts_cache, file_facts, listing
from gitops_promote.adapters.file_facts import facts_of, read_one
from gitops_promote.adapters.git import Repository
from gitops_promote.commands import parity as command
from gitops_promote.core import parity as core_parity
from gitops_promote.core.parity import Tables
from gitops_promote.core.yamlload import MAX_FILE_BYTES
from gitops_promote.core.yamlshape import PLACEHOLDER, shape, shapes
from gitops_promote.errors import GitError

KEYS = ["a", "host", "image", "tag", "version", "appVersion", "env", "on", "1", "x.y", "<<", "? version", "- a", "-"]
KEYS += ['"tag"', "'image'", '"version"', "k#", "a b", "null", "true"]
VALUES = ["", "x", "app0007.dev.example.com", "1", "1.0", "0b_", "0x_1", "0_7", "0o7", "1_000", "=", "<<", "~"]
VALUES += ["null", "Null", "yes", "off", ".inf", "2024-02-30", "2024-01-01", "100m", "a b", "a  b", "a -b", "x__v"]
VALUES += ["/p/q", "$(x)", "50%", "a=b", "x@y", "(a)", "1.0.0", "9" * 120, "v" * 120, "é", "a\tb", "a:b", "a: b"]
VALUES += ['"dq"', "'sq'", '"a # b"', "'it''s'", '"\\e"', '"multi', "'multi", "{a: b}", "[1, 2]", "{}", "[]"]
VALUES += ["{a: b,", "[a,", "|", ">", "|+", "|2", "&a x", "&a", "*a", "!!str x", "!!int x", "!x y", "@x", "`x"]
COMMENTS = ["", " # c", " # it's", ' # "q"', " # a: b", "#x", "  ", " # \\", " # é", "\t# tab"]
RAW_LINES = ["", "# comment: x", "  # indented", "# it's", '# "q', "---", "...", "--- x", "%YAML 1.1", "? a", ": b"]
RAW_LINES += ["  continued", "- x", "- a: b", "]", "}", '"', "end'", '  end"', "\t", "  - y: z", "\x00", "\x01"]


@st.composite
def lines(draw: Any) -> str:
    indent = " " * draw(st.sampled_from([0, 0, 2, 2, 4, 1, 3]))
    if draw(st.integers(0, 4)) == 0:
        return indent + draw(st.sampled_from(RAW_LINES))
    key, value, comment = draw(st.sampled_from(KEYS)), draw(st.sampled_from(VALUES)), draw(st.sampled_from(COMMENTS))
    return f"{indent}{key}:{' ' * draw(st.integers(0, 2))}{value}{comment}"


@st.composite
def files(draw: Any) -> bytes:
    text = "\n".join(draw(st.lists(lines(), max_size=8)))
    if draw(st.booleans()):
        text += "\n"
    if draw(st.integers(0, 9)) == 0:
        text = text.replace("\n", "\r\n")
    return text.encode()


def _agree(contents: list[bytes]) -> None:
    assert facts_of(contents) == [read_one(raw) for raw in contents]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(files(), min_size=1, max_size=4))
def test_facts_from_shapes_are_the_files_facts(contents: list[bytes]) -> None:
    _agree(contents)


# Values files as the benchmark repositories and real repositories write them.
PLAIN = (
    "# {env} settings for {app}\nreplicaCount: {n}\ningress:\n  enabled: true\n  host: {app}.{env}.example.com\n"
    "env:\n  LOG_LEVEL: debug # {app}\n"
)
CHART = 'apiVersion: v2\nname: {app}\ndescription: Synthetic app {app}\nversion: 0.{n}.0\nappVersion: "1.{n}"\n'
VALUES_FILE = (
    'image:\n  repository: registry.example.com/{app}\n  tag: "1.{n}"\nresources:\n  requests: {{cpu: 100m}}\n'
)


def test_files_alike_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    contents = [
        template.format(app=f"app{n:04}", env=env, n=n % 3).encode()
        for n in range(300)
        for env in ("dev", "prd")
        for template in (PLAIN, CHART, VALUES_FILE)
    ]
    parsed: list[bytes] = []
    real = file_facts.first_document
    monkeypatch.setattr(file_facts, "first_document", lambda raw: parsed.append(raw) or real(raw))
    found = facts_of(contents)
    assert len(parsed) == len(set(parsed)) <= 2 + 3 + 3  # the env files, charts and values by version
    assert found == [read_one(raw) for raw in contents]
    assert found[0].keys == frozenset({"replicaCount", "ingress.enabled", "ingress.host", "env.LOG_LEVEL"})
    assert (found[1].version, found[1].app_version, found[2].image) == ("0.0.0", "1.0", "tag:1.0")


def test_a_shape_keeps_lines_quotes_and_what_parity_reads() -> None:
    raw = b'# about {x}\nhost: a.example.com # where\nversion: 1.0\nname: "q" # kept\nimage: null\n  tag: x\n'
    assert shape(raw) == b'#__v\nhost: __v #__v\nversion: 1.0\nname: "q" #__v\nimage: null\n  tag: x\n'
    assert shape(b"a: 0b_\nb: " + b"9" * 120 + b"\nc: =\nd: x\r\n") == b"a: 0b_\nb: " + b"9" * 120 + b"\nc: =\nd: x\r\n"


@pytest.mark.parametrize(
    "text",
    [
        "version: |\n  a: b\n",  # a block scalar: its text held the placeholder
        "appVersion: 'x\n  a: b'\n",
        "version: one\n  two: 2\n",  # not YAML: the file's own error
        '"version": 1.0\n"image": null\n',  # keys the shape does not see
        "? version\n: 1.2\n? image\n: ~\n",
        "image:\n  repository: x\n  'tag': null\n",
        "? |\n  a: b\n: key from a block scalar\n",
        "base: &b\n  version: 2\n  other: z\n<<: *b\n",
        "a: " + "9" * 4100 + "\n",
        "a: 0b_\nb: 0x_\n",
        "a: =\n",
        "a: x\x01\n",
        "a: \xe9\n",
        "\ufeffa: x\n",
        "a: x\n---\nb: [unclosed\n",
        "a: x\nb: x\nc: y # {\n",
        "deep:" + " [" * 300 + "]" * 300 + "\n",
        "k: ok\n" + billion_laughs(),
        f"a: {PLACEHOLDER}\nversion: {PLACEHOLDER}\n",
    ],
)
def test_hostile_and_odd_files(text: str) -> None:
    _agree([text.encode(), text.encode().replace(b"\n", b"\r\n"), b"a: b\n"])


def test_files_over_the_limit_or_with_nul_are_their_own_shape() -> None:
    big = b"a: " + b"x" * MAX_FILE_BYTES + b"\n"
    assert shapes([big, b"a: b\0\n", b"a: b\n"]) == [big, b"a: b\0\n", b"a: __v\n"]
    _agree([big, b"a: b\0\n", b"a: b\n---\n\x00"])


def test_the_real_values_files() -> None:
    contents = [path.read_bytes() for path in CORPUS]
    assert len(contents) > 100
    _agree(contents)
    # and each line of them alone, and their first lines (files cut anywhere)
    pieces = [b"\n".join(raw.split(b"\n")[:n]) for raw in contents[:60] for n in (3, 10, 40)]
    _agree(pieces)


# ---- reading the blobs -----------------------------------------------------------------------------


def test_blobs_are_read_in_order_and_a_missing_one_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo_path = init_repo(tmp_path / "repo", bare=True)
    contents = [b"a: 1\n", b"", b"\0binary\n\n", b"no newline at the end", b"a: 1\n" * 5000]
    shas = [git(repo_path, "hash-object", "-w", "--stdin", input=raw) for raw in contents]
    with Repository(repo_path) as repo:
        assert repo.blob_batch([*shas, shas[0]]).contents() == [*contents, contents[0]]
        assert repo.blob_batch([]).contents() == []
        for size in (3, 700, 1 << 20):  # answers cut anywhere: across headers, bodies, their LF
            chunks = list(repo.blob_batch(shas).chunks(size))
            assert [raw for chunk in chunks for raw in chunk] == contents
            assert all(chunks) and (len(chunks) > 1 or size > 100)
        with monkeypatch.context() as without:
            without.delattr(os, "pread")  # Windows: read once git is done
            assert [raw for chunk in repo.blob_batch(shas).chunks(700) for raw in chunk] == contents
        with pytest.raises(GitError, match="could not read blob 0{40}"):
            repo.blob_batch([shas[0], "0" * 40]).contents()
        with pytest.raises(ValueError):
            repo.blob_batch(["--help"]).contents()
        tree = git(repo_path, "mktree", input=f"100644 blob {shas[0]}\ta\n".encode())
        with pytest.raises(GitError, match="could not read blob"):
            repo.blob_batch([tree]).contents()  # a tree is no blob
        batch = repo.blob_batch(shas)
        batch.close()  # a run that failed before it needed them: git is stopped, nothing is left
        assert batch._proc is not None and batch._proc.returncode is not None


# ---- the rows made on the other core ----------------------------------------------------------------


def test_rows_made_in_a_child_are_the_rows_made_here(gitops_repo: GitopsRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = gitops_repo
    repo.commit(
        "prd", {"apps/web/values-prd.yaml": "image: {tag: hotfix}\nenv: {A: 1}\n", "apps/api/values.yaml": "a: [\n"}
    )
    here: list[int] = []  # the pids that made rows in this process (a child's list is its own)
    real = command._made
    monkeypatch.setattr(command, "_made", lambda *args: here.append(os.getpid()) or real(*args))
    forked = _cold(repo)
    assert here == [] or not background.ENABLED  # the child made them: it used no cat-file session
    monkeypatch.setattr(background, "ENABLED", False)
    assert _cold(repo) == forked
    assert here == [os.getpid()]
    assert "not valid YAML" in forked  # the problem, with the file's line and column, from either
    monkeypatch.setattr(background, "ENABLED", True)
    assert run_cli(repo.path, "parity", "-o", "json").stdout == forked  # warm: from the kept files


def _cold(repo: GitopsRepo) -> str:
    git_dir = Path(git(repo.path, "rev-parse", "--absolute-git-dir"))
    for name in (facts_cache.FILE_NAME, facts_cache.TABLES_FILE, listing.LISTING_FILE):
        (git_dir / name).unlink(missing_ok=True)
    result = run_cli(repo.path, "parity", "-o", "json")
    assert result.exit_code in (0, 1), result.stderr
    return result.stdout


def test_a_failing_child_leaves_the_work_to_the_caller(tmp_path: Path) -> None:
    caller = os.getpid()
    finished = tmp_path / "finished"

    def here_only() -> tuple[str, Callable[[], None]]:
        if os.getpid() != caller:
            raise RuntimeError("in the child")
        return "here", lambda: finished.write_text("here")

    def boom() -> tuple[None, Callable[[], None]]:
        raise ValueError("raised as without a child")

    assert background.Background(here_only).result() == "here"  # the child failed: computed here
    assert finished.read_text() == "here"
    if background.ENABLED:
        # the value handed over first, then the child finishes; close() waits for it
        work = background.Background(lambda: (os.getpid(), lambda: (time.sleep(0.5), finished.write_text("child"))))
        assert work.result() != caller and finished.read_text() == "here"
        work.close()
        assert finished.read_text() == "child"
    with pytest.raises(ValueError, match="as without a child"):
        background.Background(boom).result()
    start = time.monotonic()
    background.Background(lambda: (time.sleep(30), lambda: None)).close()  # stopped, not waited for
    assert time.monotonic() - start < 10


def test_the_chart_directories_of_a_table_are_those_of_their_chart_files() -> None:
    files: dict[str, str | None] = {
        "apps/a/Chart.yaml": "1" * 40,
        "Chart.yaml": "2" * 40,  # the root chart: listed, not read
        "apps/bChart.yaml": "3" * 40,  # no Chart.yaml
        "apps/a/values-dev.yaml": "4" * 40,
        "x/y/Chart.yaml": None,  # a submodule: there, nothing to read
        "Chart.yaml.bak": "5" * 40,
    }
    tables = Tables({})
    table, needed = tables.table("dev", files)
    assert (table, needed) == ({}, {"1" * 40, "4" * 40})
    tables.learn({sha: core_parity.file_facts({"version": sha[0]}) for sha in needed})
    done = tables.complete("dev", files, table)
    assert list(done) == [posixpath.dirname(p) for p in files if posixpath.basename(p) == "Chart.yaml"]
    assert done[""] is None and done["apps/a"] is not None and done["apps/a"].version == "1"
    assert done["x/y"] is not None and done["x/y"].version is None


def test_no_child_is_forked_while_another_thread_runs() -> None:
    """A lock another thread held at the fork would stay held in the child: the function runs
    here instead, with the same answer."""
    import threading

    from gitops_promote.adapters.background import Background

    stop = threading.Event()
    spinner = threading.Thread(target=stop.wait)
    spinner.start()
    try:
        job = Background(lambda: (os.getpid(), lambda: None))
        assert job._pid is None and job.result() == os.getpid()
        job.close()
    finally:
        stop.set()
        spinner.join()
