"""One function run on the other core: a forked child computes it while the caller goes on.

`gitops parity` on a cold run spends about a second making each environment's rows (listing
the charts, reading and parsing 100,000 files) and most of another planning the steps: two
independent halves, and the machines it runs on (a laptop, a CI runner) have two cores or more.
The child is a fork of this process: it inherits what the caller built (no arguments to send)
and sends its answer back pickled, through an anonymous file.

The same answer either way: where fork is missing or unsafe (not Linux, or another thread is
running), where the child fails for any reason (an error, a signal, an answer that does not
unpickle), the function is simply run here, in the caller, after all — so an error is raised
as without a child, and a result never depends on where it was computed. The function must
not use anything the caller goes on using meanwhile (the run's `cat-file` session: a child
started here finds it closed), and what it writes it must write atomically.
"""

from __future__ import annotations

import gc
import os
import pickle
import struct
import sys
import tempfile
import threading
from collections.abc import Callable, Generator, Iterator
from typing import IO, Generic, TypeVar

T = TypeVar("T")

ENABLED = sys.platform.startswith("linux") and hasattr(os, "fork")  # macOS: fork is unsafe with its frameworks


Finish = Callable[[], None]  # what is left to do once the value is known (writing kept files)


class Background(Generic[T]):
    """`function()` -> (value, finish), computed in a forked child when possible: `result()`
    gets the value as soon as the child has it, while the child goes on with `finish()`;
    `close()` waits for that (or stops a child whose value nobody asked for)."""

    def __init__(self, function: Callable[[], tuple[T, Finish]], before_child: Finish = lambda: None) -> None:
        self._function = function
        self._pid: int | None = None
        self._answer: IO[bytes] | None = None
        self._ready: int | None = None  # the pipe the child says it answered on
        self._answered = False
        # Not while another thread runs (the spinner on a terminal): a lock it held at the fork
        # would stay held in the child for good. CI, where cold runs happen, has no spinner.
        if ENABLED and threading.active_count() == 1:
            self._fork(before_child)

    def _fork(self, before_child: Finish) -> None:
        answer = tempfile.TemporaryFile()
        ready, said = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()  # nothing buffered here is written twice
        try:
            pid = os.fork()
        except OSError:
            answer.close()
            os.close(ready)
            os.close(said)
            return  # no child (a process limit): `result()` computes it here
        if pid == 0:  # the child: compute, answer, finish, leave without running anything of the parent's
            code = 1
            try:
                os.close(ready)
                before_child()
                value, finish = self._function()
                pickle.dump(value, answer, protocol=pickle.HIGHEST_PROTOCOL)
                answer.flush()
                os.write(said, b".")
                finish()
                code = 0
            finally:
                os._exit(code)
        os.close(said)
        self._pid, self._answer, self._ready = pid, answer, ready

    def result(self) -> T:
        """The function's value (raises what the function raises)."""
        if self._answer is not None and self._ready is not None:
            answer, self._answer = self._answer, None
            with answer:
                self._answered = os.read(self._ready, 1) == b"."  # nothing: the child died first
                os.close(self._ready)
                self._ready = None
                if self._answered:
                    answer.seek(0)
                    try:
                        return pickle.load(answer)  # type: ignore[no-any-return]
                    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
                        self._answered = False
            self.close()
        value, finish = self._function()  # no child, or it failed: the same computation, here
        finish()
        return value

    def close(self) -> None:
        """Wait for the child to finish (stop it first when its value was never taken)."""
        if self._pid is not None:
            if not self._answered:
                try:
                    os.kill(self._pid, 9)
                except ProcessLookupError:
                    pass
            pid, self._pid = self._pid, None
            os.waitpid(pid, 0)
        if self._ready is not None:
            os.close(self._ready)
            self._ready = None
        if self._answer is not None:
            self._answer.close()
            self._answer = None


# ---- text made in a child, handed over in order ------------------------------------------------
#
# `gitops diff -o json` of 20,000 changed apps spends seconds comparing files and writing their
# records, one file at a time, while the other core idles: the second half of the files is
# compared by a child while this process does the first, and its text follows this process's
# own. The child writes its pieces to an anonymous file as it makes them (a pipe would stall it
# once full, until the parent came to read it), then its value; the parent reads them once it
# has written its own half. Where the child failed, the same pieces are made here: the text
# never depends on where it was made. (Where there is no child at all, `forked` says so and
# the caller makes the whole text itself, as without this module.)

Produce = Callable[[], Generator[str, None, T]]


class BackgroundText(Generic[T]):
    """`produce()`'s pieces of text and the value it returns, made in a forked child when
    possible (`forked`). `result()` waits for them: (value, the pieces in order); made here
    when the child failed (held in memory then: a rare path)."""

    def __init__(self, produce: Produce[T]) -> None:
        self._produce = produce
        self._pid: int | None = None
        self._files: tuple[IO[bytes], IO[bytes]] | None = None  # the pieces, the pickled value
        self._ready: int | None = None
        self._answered = False
        if ENABLED and threading.active_count() == 1:  # see Background: no fork beside a thread
            self._fork()

    @property
    def forked(self) -> bool:
        return self._pid is not None

    def _fork(self) -> None:
        try:
            pieces, answer = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        except OSError:
            return  # no room for the child's text (TMPDIR): made here
        ready, said = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError:
            pieces.close()
            answer.close()
            os.close(ready)
            os.close(said)
            return
        if pid == 0:
            code = 1
            try:
                os.close(ready)
                gc.freeze()  # the parent's objects stay shared: a collection would copy their pages
                _write(self._produce, pieces, answer)
                os.write(said, b".")
                code = 0
            finally:
                os._exit(code)
        os.close(said)
        self._pid, self._files, self._ready = pid, (pieces, answer), ready

    def result(self) -> tuple[T, Iterator[str]]:
        """The value, and the pieces (read from the child's file as they are asked for)."""
        files = self._files
        if files is not None and self._ready is not None:
            self._answered = os.read(self._ready, 1) == b"."  # nothing: the child died first
            os.close(self._ready)
            self._ready = None
            if self._answered:
                try:
                    files[1].seek(0)
                    value: T = pickle.load(files[1])
                    files[0].seek(0)
                    return value, _pieces(files[0])
                except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
                    self._answered = False
            self.close()
        return _made_here(self._produce)  # no child, or it failed: the same pieces, made here

    def close(self) -> None:
        """Wait for the child (stopped first when its text was never taken); drop the files."""
        if self._pid is not None:
            if not self._answered:
                try:
                    os.kill(self._pid, 9)
                except ProcessLookupError:
                    pass
            pid, self._pid = self._pid, None
            os.waitpid(pid, 0)
        if self._ready is not None:
            os.close(self._ready)
            self._ready = None
        if self._files is not None:
            for file in self._files:
                file.close()
            self._files = None


_LENGTH = struct.Struct("<Q")


def _write(produce: Produce[T], pieces: IO[bytes], answer: IO[bytes]) -> T:
    """Every piece, framed by its length, then the value, pickled."""
    made = produce()
    while True:
        try:
            piece = next(made)
        except StopIteration as done:
            value: T = done.value
            break
        data = piece.encode("utf-8", "surrogatepass")  # any str, back exactly as it was
        pieces.write(_LENGTH.pack(len(data)))
        pieces.write(data)
    pieces.flush()
    pickle.dump(value, answer, protocol=pickle.HIGHEST_PROTOCOL)
    answer.flush()
    return value


def _made_here(produce: Produce[T]) -> tuple[T, Iterator[str]]:
    made, pieces = produce(), []
    while True:
        try:
            pieces.append(next(made))
        except StopIteration as done:
            return done.value, iter(pieces)


def _pieces(file: IO[bytes]) -> Iterator[str]:
    while header := file.read(_LENGTH.size):
        (length,) = _LENGTH.unpack(header)
        yield file.read(length).decode("utf-8", "surrogatepass")
