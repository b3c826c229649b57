"""One long-lived `git cat-file` session per repository: every object a command reads.

A command used to start a `cat-file` per registry, per blob batch and per lookup (and
GitPython's reader beside them). One `--batch` process answers every content read of a run
(blobs, tree objects, `<commit>:<path>` lookups, sizes, commit names): `--batch-command`
(git 2.36+) takes both `contents` and `info` requests; older gits get a `--batch` and a
`--batch-check` process. The number of processes no longer grows with what is read.

Requests are written in chunks small enough to sit in the pipe's buffer before their answers
are read: git never waits on us while we wait on it (no deadlock, no thread).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Any, NoReturn, TypeVar

from gitops_promote.errors import GitError

CHUNK_BYTES = 16 * 1024  # well under a pipe's 64 KiB: a chunk of requests never blocks


class ObjectMissing(Exception):
    """The name does not resolve to an object (or is ambiguous)."""


class _Unsupported(Exception):
    """The session's git died before answering (e.g. no `--batch-command` before git 2.36)."""


T = TypeVar("T")
Answer = Callable[[bytes, IO[bytes]], T]  # (header line, stdout) -> value; reads any body itself


class _Session:
    """A `git cat-file --batch…` process, started on first use."""

    def __init__(self, argv: Sequence[str], cwd: str, env: Mapping[str, str]) -> None:
        self._argv, self._cwd, self._env = list(argv), cwd, dict(env)
        self._proc: subprocess.Popen[bytes] | None = None

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        if self._proc is None:
            try:
                self._proc = subprocess.Popen(  # noqa: S603 - argument list, no shell
                    self._argv,
                    cwd=self._cwd,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env=self._env,
                )
            except FileNotFoundError as exc:
                raise GitError("git is not installed or not on PATH", hint="install git") from exc
        assert self._proc.stdin is not None and self._proc.stdout is not None
        return self._proc.stdin, self._proc.stdout

    def ask(self, lines: Sequence[str], answer: Answer[T]) -> list[T]:
        """One answer per request line, in order."""
        answers: list[T] = []
        for start, stop in _chunks(lines):
            stdin, stdout = self._pipes()
            try:
                stdin.write("".join(f"{n}\n" for n in lines[start:stop]).encode("utf-8", "surrogateescape"))
                stdin.flush()
            except BrokenPipeError:
                self._died(answers)
            for _ in range(start, stop):
                header = stdout.readline()
                if not header:
                    self._died(answers)
                answers.append(answer(header.rstrip(b"\n"), stdout))
        return answers

    def _died(self, answers: list[Any]) -> NoReturn:
        if not answers:
            self.close()
            raise _Unsupported()
        raise GitError("git cat-file stopped answering", hint="check the repository with git fsck")

    def close(self) -> None:
        if self._proc is not None:
            proc, self._proc = self._proc, None
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
            proc.stdout.close()
            proc.wait()


def _chunks(names: Sequence[str]) -> Iterable[tuple[int, int]]:
    start, size = 0, 0
    for index, name in enumerate(names):
        if "\n" in name:
            raise ValueError(f"cannot look up an object name holding a newline: {name!r}")
        size += len(name) + 1
        if size > CHUNK_BYTES and index > start:
            yield start, index
            start, size = index, len(name) + 1
    if start < len(names):
        yield start, len(names)


def _found(header: bytes) -> list[bytes] | None:
    """`<id> <type> <size>` split, or None for "<name> missing" (a name may hold spaces)."""
    parts = header.split(b" ")
    if len(parts) == 3 and parts[2].isdigit() and len(parts[0]) in (40, 64):
        return parts
    return None


def _contents(header: bytes, stdout: IO[bytes]) -> tuple[str, bytes] | None:
    parts = _found(header)
    if parts is None:
        return None  # "<name> missing" / "<name> ambiguous": no body follows
    return parts[1].decode(), stdout.read(int(parts[2]) + 1)[:-1]


def _info(header: bytes, _stdout: IO[bytes]) -> tuple[str, str, int] | None:
    parts = _found(header)
    return None if parts is None else (parts[0].decode(), parts[1].decode(), int(parts[2]))


class ObjectReader:
    """Contents, types and sizes of objects: one `cat-file --batch-command` session per
    repository (git 2.36 and later), else a `--batch` and a `--batch-check` session."""

    def __init__(self, git_argv: Sequence[str], cwd: str, env: Mapping[str, str]) -> None:
        cat_file = [*git_argv, "cat-file"]
        self._command: _Session | None = _Session([*cat_file, "--batch-command"], cwd, env)
        self._contents = _Session([*cat_file, "--batch"], cwd, env)
        self._info = _Session([*cat_file, "--batch-check"], cwd, env)

    def _ask(self, verb: str, names: Sequence[str], answer: Answer[T]) -> list[T]:
        if self._command is not None:
            try:
                return self._command.ask([f"{verb} {n}" for n in names], answer)
            except _Unsupported:
                self._command = None  # an older git: the two classic sessions instead
        session = self._contents if verb == "contents" else self._info
        try:
            return session.ask(names, answer)
        except _Unsupported:
            raise GitError("git cat-file could not start", hint="check the repository with git fsck") from None

    def read_many(self, names: Iterable[str]) -> dict[str, tuple[str, bytes] | None]:
        """name -> (type, content), or None when the name resolves to no object."""
        wanted = list(dict.fromkeys(names))
        return dict(zip(wanted, self._ask("contents", wanted, _contents), strict=True))

    def read(self, name: str) -> tuple[str, bytes]:
        got = self.read_many([name])[name]
        if got is None:
            raise ObjectMissing(name)
        return got

    def info_many(self, names: Iterable[str]) -> dict[str, tuple[str, str, int] | None]:
        """name -> (object id, type, size), or None when the name resolves to no object."""
        wanted = list(dict.fromkeys(names))
        return dict(zip(wanted, self._ask("info", wanted, _info), strict=True))

    def close(self) -> None:
        for session in (self._command, self._contents, self._info):
            if session is not None:
                session.close()
