"""Commits read from their objects (adapters/commitobj) say what `git log` says of them.

The objects are written by `git hash-object -t commit --literally` (real git, real objects),
including the shapes that are handed to `git log` instead (an encoding header, odd idents).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_promote.adapters import commitobj
from gitops_promote.adapters.git import Repository

EXAMPLES = int(os.environ.get("GITOPS_FUZZ_EXAMPLES", "8")) * 5


def git(repo: Path, *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True, check=True)
    return done.stdout.decode().strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("objects") / "repo.git"
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    return path


def write_commit(repo: Path, header: bytes, message: bytes, parents: list[str] = ()) -> str:  # type: ignore[assignment]
    empty_tree = git(repo, "hash-object", "-t", "tree", "-w", "--stdin", stdin=b"")
    lines = [b"tree " + empty_tree.encode(), *(b"parent " + p.encode() for p in parents), header]
    body = b"\n".join(lines) + b"\ncommitter C <c@example.invalid> 1700000000 +0000\n\n" + message
    return git(repo, "hash-object", "-t", "commit", "-w", "--literally", "--stdin", stdin=body)


def both_ways(repo: Path, sha: str) -> tuple[object, object]:
    with Repository(repo) as opened:
        from_log = opened.log([sha], no_walk=True)[0]
        got = opened.objects.read_many([sha])[sha]
        from_object = opened._commit_object(sha, got)
    return from_log, from_object


names = st.text(st.characters(blacklist_characters="<>\n\0", blacklist_categories=("Cs",)), max_size=12)
messages = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=60)
zones = st.tuples(st.sampled_from("+-"), st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, email=names, stamp=st.integers(0, 4_000_000_000), zone=zones, message=messages)
def test_an_object_read_says_what_git_log_says(
    repo: Path, name: str, email: str, stamp: int, zone: tuple[str, int, int], message: str
) -> None:
    sign, hours, minutes = zone
    if sign == "-" and stamp < hours * 3600 + minutes * 60:
        stamp += 86_400  # git log refuses a local time before 1970 (the reader leaves it to git log)
    header = f"author {name} <{email}> {stamp} {sign}{hours:02d}{minutes:02d}".encode()
    sha = write_commit(repo, header, message.encode())
    from_log, from_object = both_ways(repo, sha)
    if from_object is not None:  # read from the object: exactly git log's answer
        assert from_object == from_log
    else:  # left to git log: only for idents git would have to interpret
        assert name == "" or name[0] in " \t\n\r\f\v" or name[-1] in " \t\n\r\f\v"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"author A <a@example.invalid> 1700000000 +0000\nencoding ISO-8859-1", b"caf\xe9\n"),
        (b"author A <a@example.invalid> 1700000000 +0000", b"not utf-8 \xff\n"),
        (b"author <a@example.invalid> 1700000000 +0000", b"no name\n"),
        (b"author A a@example.invalid 1700000000 +0000", b"no brackets\n"),
        (b"author A <a@example.invalid> 1700000000 +2500", b"a zone past a day\n"),
    ],
)
def test_what_git_log_must_interpret_is_left_to_it(repo: Path, header: bytes, message: bytes) -> None:
    sha = write_commit(repo, header, message)
    _from_log, from_object = both_ways(repo, sha)
    assert from_object is None
    with Repository(repo) as opened:
        assert opened.commit_infos([sha])[sha].sha == sha  # answered by git log instead


def test_a_signed_commit_is_read_past_its_signature(repo: Path) -> None:
    header = (
        b"author A <a@example.invalid> 1700000000 -0800\n"
        b"gpgsig -----BEGIN PGP SIGNATURE-----\n \n abc\n -----END PGP SIGNATURE-----"
    )
    sha = write_commit(repo, header, b"signed\n\nbody\n")
    from_log, from_object = both_ways(repo, sha)
    assert from_object == from_log


def test_a_line_of_commits_is_what_git_log_lists(repo: Path) -> None:
    header = b"author A <a@example.invalid> 1700000000 +0100"
    base = write_commit(repo, header, b"base\n")
    line = [base]
    for n in range(5):
        line.append(write_commit(repo, header, f"step {n}\n".encode(), [line[-1]]))
    with Repository(repo) as opened:
        walked = opened.line_between(line[-1], base)
        assert walked == opened.log([f"^{base}", line[-1]])
        assert opened.line_between(base, base) == []
        assert opened.line_between(line[-1], base, limit=3) is None  # longer than the limit


def test_a_merge_or_a_stop_off_the_line_is_left_to_git_log(repo: Path) -> None:
    header = b"author A <a@example.invalid> 1700000000 +0000"
    root = write_commit(repo, header, b"root\n")
    left = write_commit(repo, header, b"left\n", [root])
    right = write_commit(repo, header, b"right\n", [root])
    merge = write_commit(repo, header, b"merge\n", [left, right])
    with Repository(repo) as opened:
        assert opened.line_between(merge, root) is None
        assert opened.line_between(left, right) is None  # right is not on left's line: the root ends it


def test_parse_commit_refuses_a_message_without_its_separator() -> None:
    assert commitobj.parse_commit(b"tree " + b"0" * 40 + b"\nauthor A <a> 1 +0000", 40) is None


@pytest.mark.parametrize("name", ["\t", "a\t", "\ta", "a\r", " a", "a ", "a b", "a\tb", "\x1f", "a\x0bb"])
def test_white_space_in_a_name_is_read_as_git_log_reads_it(repo: Path, name: str) -> None:
    """git trims white space at the end of a name; a name with any at an edge is left to it."""
    sha = write_commit(repo, f"author {name} <a@example.invalid> 1700000000 +0000".encode(), b"x\n")
    from_log, from_object = both_ways(repo, sha)
    if name[0] in " \t\n\r\f\v" or name[-1] in " \t\n\r\f\v":
        assert from_object is None
    else:
        assert from_object == from_log
