"""One long-lived `git cat-file` session per repository: every object a command reads.

A command used to start a `cat-file` per registry, per blob batch and per lookup (and
GitPython's reader beside them). One `--batch` process answers every content read of a run
(blobs, tree objects, `<commit>:<path>` lookups, sizes, commit names): `--batch-command`
(git 2.36+) takes both `contents` and `info` requests; older gits get a `--batch` and a
`--batch-check` process. The number of processes no longer grows with what is read.

Requests are written in chunks small enough to sit in the pipe's buffer before their answers
are read: git never waits on us while we wait on it (no deadlock, no thread).

The one other way a run reads objects is here too: `BlobBatch`, for tens of thousands of
blobs at once (parity's cold run), one `--batch --buffer` process writing into a file that is
followed as it grows.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any, NoReturn, TypeVar

from gitops_promote.errors import GitError

CHUNK_BYTES = 16 * 1024  # well under a pipe's 64 KiB: two chunks of requests never block
READ_BUFFER = 64 * 1024  # answers taken from the pipe at a time (a chunk's answers come at once)


class ObjectMissing(Exception):
    """The name does not resolve to an object (or is ambiguous)."""


class _Unsupported(Exception):
    """The session's git died before answering (e.g. no `--batch-command` before git 2.36)."""


T = TypeVar("T")
Answer = Callable[[bytes, IO[bytes]], T]  # (header line, stdout) -> value; reads any body itself


class _Session:
    """A `git cat-file --batch…` process, started on first use."""

    def __init__(self, argv: Sequence[str], cwd: str, env: Mapping[str, str], *, flush: bool = False) -> None:
        self._argv, self._cwd, self._env = list(argv), cwd, dict(env)
        self._proc: subprocess.Popen[bytes] | None = None
        # `--batch-command --buffer`: git holds its answers until a `flush` command, so a
        # chunk of requests is answered in a few large writes, not one write per object
        self._flush = b"flush\n" if flush else b""

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
                    bufsize=READ_BUFFER,
                )
            except FileNotFoundError as exc:
                raise GitError("git is not installed or not on PATH", hint="install git") from exc
        assert self._proc.stdin is not None and self._proc.stdout is not None
        return self._proc.stdin, self._proc.stdout

    def ask(self, lines: Sequence[str], answer: Answer[T]) -> list[T]:
        """One answer per request line, in order.

        The next chunk of requests is written before this chunk's answers are read: git looks
        up the next objects while these are parsed here (two processes, two cores). At most
        two chunks wait in the pipe, well under its size: neither side ever blocks the other.
        """
        answers: list[T] = []
        chunks = list(_chunks(lines))
        if chunks:
            self._send(lines, chunks[0], answers)
        for index, (start, stop) in enumerate(chunks):
            if index + 1 < len(chunks):
                self._send(lines, chunks[index + 1], answers)
            stdout = self._pipes()[1]
            for _ in range(start, stop):
                header = stdout.readline()
                if not header:
                    self._died(answers)
                answers.append(answer(header.rstrip(b"\n"), stdout))
        return answers

    def _send(self, lines: Sequence[str], chunk: tuple[int, int], answers: list[Any]) -> None:
        stdin = self._pipes()[0]
        start, stop = chunk
        try:
            stdin.write("".join(f"{n}\n" for n in lines[start:stop]).encode("utf-8", "surrogateescape") + self._flush)
            stdin.flush()
        except BrokenPipeError:
            self._died(answers)

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
        self._command: _Session | None = _Session([*cat_file, "--batch-command", "--buffer"], cwd, env, flush=True)
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


# ---- many blobs at once ---------------------------------------------------------------------
# One `git cat-file --batch --buffer` over all their ids, in the background.
#
# `gitops parity` reads 100,000 blobs on a cold run. The run's `cat-file` session answers
# object by object (a header line, then the body, each read in Python, git flushing its output
# after every object): 1.6 s for 100,000 blobs. Here git gets every id at once from a file and
# writes every answer, buffered, into another (0.4 s of git's own time), started as soon as the
# ids are known; `chunks()` follows that file as git writes it (`blob <size>` headers cut it
# into bodies), so the caller parses the first blobs while git reads the next. Both files are
# anonymous (unlinked at once): an interrupted run leaves nothing behind.

READ_BYTES = 4 * 1024 * 1024  # git's answers taken at a time
_IDS = re.compile(r"(?:[0-9a-f]{40}\n|[0-9a-f]{64}\n)*")  # SHA-1 or SHA-256 ids, one a line


class BlobBatch:
    """The contents of `shas` (blob ids), read by a git process started at once."""

    def __init__(self, git_argv: Sequence[str], cwd: str, env: Mapping[str, str], shas: Sequence[str]) -> None:
        self.shas = list(shas)
        self._names = "".join(sha + "\n" for sha in self.shas)
        if not _IDS.fullmatch(self._names):
            raise ValueError("blob ids are hexadecimal")
        self._files: list[IO[bytes]] = []
        self._proc: subprocess.Popen[bytes] | None = None
        if self.shas:
            self._start(git_argv, cwd, env)

    def _start(self, git_argv: Sequence[str], cwd: str, env: Mapping[str, str]) -> None:
        names, self._out, self._err = (tempfile.TemporaryFile() for _ in range(3))
        self._files = [names, self._out, self._err]
        names.write(self._names.encode("ascii"))
        names.seek(0)
        argv = [*git_argv, "cat-file", "--batch=%(objecttype) %(objectsize)", "--buffer"]
        try:
            self._proc = subprocess.Popen(  # noqa: S603 - argument list, no shell
                argv, stdin=names, stdout=self._out, stderr=self._err, cwd=cwd, env=dict(env)
            )
        except FileNotFoundError as exc:
            self.close()
            raise GitError("git is not installed or not on PATH", hint="install git") from exc

    def __enter__(self) -> BlobBatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def contents(self) -> list[bytes]:
        """The blobs, in the order of `shas` (waits for git)."""
        return [raw for chunk in self.chunks() for raw in chunk]

    def chunks(self, size: int = READ_BYTES) -> Iterator[list[bytes]]:
        """The blobs in order, a list at a time as git writes them (about `size` bytes each):
        the caller parses the first while git reads the next."""
        if self._proc is None:
            return
        try:
            yield from self._follow(self._proc, self._out.fileno(), size)
        finally:
            self.close()

    def _follow(self, proc: subprocess.Popen[bytes], fd: int, size: int) -> Iterator[list[bytes]]:
        # os.pread: git writes through the same open file, whose offset a read would move
        read, tail, index = 0, b"", 0
        while index < len(self.shas):
            exited = proc.poll() is not None
            data = _read_at(fd, size, read, proc)
            if not data:
                if exited:
                    break
                time.sleep(0.002)  # git is still reading its pack
                continue
            read += len(data)
            out = tail + data if tail else data
            found, used = split_some(out, self.shas, index)
            tail, index = out[used:], index + len(found)
            if found:
                yield found
        code = proc.wait()
        if code != 0:
            self._err.seek(0)
            message = self._err.read().decode("utf-8", "replace").strip() or f"exit status {code}"
            raise GitError(f"git could not read blobs: {message}")
        if index < len(self.shas):
            raise GitError(f"git could not read blob {self.shas[index]}", hint="check the repository with git fsck")

    def close(self) -> None:
        """Stop git if it still runs (a run that failed before it needed the blobs)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        for handle in self._files:
            handle.close()
        self._files = []


def _read_at(fd: int, size: int, offset: int, proc: subprocess.Popen[bytes]) -> bytes:
    """Up to `size` bytes of the file at `offset`, its offset left where git's writes need it."""
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    proc.wait()  # no pread (Windows): the whole answer once git is done
    with open(os.dup(fd), "rb") as whole:  # noqa: SIM115 - a duplicate, closed here
        whole.seek(offset)
        return whole.read(size)


def split_batch(out: bytes, shas: Sequence[str]) -> list[bytes]:
    """The bodies of `cat-file --batch='%(objecttype) %(objectsize)'` output, all of `shas`."""
    found, _used = split_some(out, shas, 0)
    if len(found) < len(shas):
        raise GitError(f"git could not read blob {shas[len(found)]}", hint="check the repository with git fsck")
    return found


def split_some(out: bytes, shas: Sequence[str], index: int) -> tuple[list[bytes], int]:
    """The bodies `out` holds whole from `shas[index]` on (`blob <size>` LF body LF per object,
    in the order asked; `<id> missing` for an object that is not there), and how many of its
    bytes they took."""
    contents: list[bytes] = []
    position, find, length, count = 0, out.find, len(out), len(shas) - index
    while len(contents) < count:
        end = find(b"\n", position)
        if end < 0:
            break
        if out[position : position + 5] != b"blob " or not out[position + 5 : end].isdigit():
            raise GitError(
                f"git could not read blob {shas[index + len(contents)]}", hint="check the repository with git fsck"
            )
        stop = end + 1 + int(out[position + 5 : end])
        if stop >= length:
            break  # the body, or the LF after it, is still to come
        contents.append(out[end + 1 : stop])
        position = stop + 1
    return contents, position
