"""One long-lived `git cat-file` session per repository: every object a command reads.

A command used to start a `cat-file` per registry, per blob batch and per lookup (and
GitPython's reader beside them). One `--batch` process answers every content read of a run
(blobs, tree objects, `<commit>:<path>` lookups) and one `--batch-check` process every size or
existence question, so the number of processes no longer grows with what is read.

Requests are written in chunks small enough to sit in the pipe's buffer before their answers
are read: git never waits on us while we wait on it (no deadlock, no thread).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping, Sequence
from typing import IO

from gitops_promote.errors import GitError

CHUNK_BYTES = 16 * 1024  # well under a pipe's 64 KiB: a chunk of requests never blocks


class ObjectMissing(Exception):
    """The name does not resolve to an object (or is ambiguous)."""


class _Session:
    """A `git cat-file --batch` or `--batch-check` process, started on first use."""

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

    def ask(self, names: Sequence[str]) -> Iterable[tuple[str, bytes, IO[bytes]]]:
        """(name, header line, stdout) per name, in order; the caller reads any body itself."""
        for start, stop in _chunks(names):
            stdin, stdout = self._pipes()
            try:
                stdin.write("".join(f"{n}\n" for n in names[start:stop]).encode("utf-8", "surrogateescape"))
                stdin.flush()
            except BrokenPipeError as exc:
                raise GitError("git cat-file stopped answering", hint="check the repository with git fsck") from exc
            for name in names[start:stop]:
                header = stdout.readline()
                if not header:
                    raise GitError("git cat-file stopped answering", hint="check the repository with git fsck")
                yield name, header.rstrip(b"\n"), stdout

    def close(self) -> None:
        if self._proc is not None:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.close()
            self._proc.stdout.close()
            self._proc.wait()
            self._proc = None


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


class ObjectReader:
    """Contents, types and sizes of objects, from the repository's two cat-file sessions."""

    def __init__(self, git_argv: Sequence[str], cwd: str, env: Mapping[str, str]) -> None:
        self._contents = _Session([*git_argv, "cat-file", "--batch"], cwd, env)
        self._info = _Session([*git_argv, "cat-file", "--batch-check"], cwd, env)

    def read_many(self, names: Sequence[str]) -> dict[str, tuple[str, bytes] | None]:
        """name -> (type, content), or None when the name resolves to no object."""
        found: dict[str, tuple[str, bytes] | None] = {}
        for name, header, stdout in self._contents.ask(list(dict.fromkeys(names))):
            parts = _found(header)
            if parts is None:
                found[name] = None  # "<name> missing" / "<name> ambiguous"
                continue
            body = stdout.read(int(parts[2]) + 1)[:-1]
            found[name] = (parts[1].decode(), body)
        return found

    def read(self, name: str) -> tuple[str, bytes]:
        got = self.read_many([name])[name]
        if got is None:
            raise ObjectMissing(name)
        return got

    def info_many(self, names: Sequence[str]) -> dict[str, tuple[str, str, int] | None]:
        """name -> (object id, type, size), or None when the name resolves to no object."""
        found: dict[str, tuple[str, str, int] | None] = {}
        for name, header, _stdout in self._info.ask(list(dict.fromkeys(names))):
            parts = _found(header)
            found[name] = None if parts is None else (parts[0].decode(), parts[1].decode(), int(parts[2]))
        return found

    def close(self) -> None:
        self._contents.close()
        self._info.close()
