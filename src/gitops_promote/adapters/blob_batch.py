"""Many blobs at once: one `git cat-file --batch --buffer` over all their ids, in the background.

`gitops parity` reads 100,000 blobs on a cold run. The run's `cat-file` session answers
object by object (a header line, then the body, each read in Python, git flushing its output
after every object): 1.6 s for 100,000 blobs. Here git gets every id at once from a file and
writes every answer, buffered, into another (0.4 s of git's own time), started as soon as the
ids are known; `chunks()` follows that file as git writes it (`blob <size>` headers cut it
into bodies), so the caller parses the first blobs while git reads the next. Both files are
anonymous (unlinked at once): an interrupted run leaves nothing behind.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from typing import IO

from gitops_promote.adapters.git import Repository, git_env
from gitops_promote.errors import GitError

READ_BYTES = 4 * 1024 * 1024  # git's answers taken at a time
_IDS = re.compile(r"(?:[0-9a-f]{40}\n|[0-9a-f]{64}\n)*")  # SHA-1 or SHA-256 ids, one a line


class BlobBatch:
    """The contents of `shas` (blob ids), read by a git process started at once."""

    def __init__(self, repo: Repository, shas: Sequence[str]) -> None:
        self.shas = list(shas)
        self._names = "".join(sha + "\n" for sha in self.shas)
        if not _IDS.fullmatch(self._names):
            raise ValueError("blob ids are hexadecimal")
        self._files: list[IO[bytes]] = []
        self._proc: subprocess.Popen[bytes] | None = None
        if self.shas:
            self._start(repo)

    def _start(self, repo: Repository) -> None:
        names, self._out, self._err = (tempfile.TemporaryFile() for _ in range(3))
        self._files = [names, self._out, self._err]
        names.write(self._names.encode("ascii"))
        names.seek(0)
        # the flags of every git call of the run (no hooks)
        argv = repo._git_argv(["cat-file", "--batch=%(objecttype) %(objectsize)", "--buffer"])
        try:
            self._proc = subprocess.Popen(  # noqa: S603 - argument list, no shell
                argv, stdin=names, stdout=self._out, stderr=self._err, cwd=repo.git_dir, env=git_env()
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


def read_blobs(repo: Repository, shas: Sequence[str]) -> list[bytes]:
    """The contents of `shas`, in order (started and waited for at once)."""
    return BlobBatch(repo, shas).contents()


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
