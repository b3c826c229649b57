"""One function run on the other core: a forked child computes it while the caller goes on.

`gitops parity` on a cold run spends about a second making each environment's rows (listing
the charts, reading and parsing 100,000 files) and most of another planning the steps: two
independent halves, and the machines it runs on (a laptop, a CI runner) have two cores or more.
The child is a fork of this process: it inherits what the caller built (no arguments to send)
and sends its answer back pickled, through an anonymous file.

The same answer either way: where fork is missing or unsafe (not Linux), where the child fails
for any reason (an error, a signal, an answer that does not unpickle), the function is simply
run here, in the caller, after all — so an error is raised as without a child, and a result
never depends on where it was computed. The function must not use anything the caller goes
on using meanwhile (the run's `cat-file` session: a child started here finds it closed), and
what it writes it must write atomically.
"""

from __future__ import annotations

import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from typing import IO, Generic, TypeVar

T = TypeVar("T")

ENABLED = sys.platform.startswith("linux") and hasattr(os, "fork")  # macOS: fork is unsafe with its frameworks


class Background(Generic[T]):
    """`function()`, computed in a forked child when possible; `result()` waits for it."""

    def __init__(self, function: Callable[[], T], before_child: Callable[[], None] = lambda: None) -> None:
        self._function = function
        self._pid: int | None = None
        self._answer: IO[bytes] | None = None
        if ENABLED:
            self._fork(before_child)

    def _fork(self, before_child: Callable[[], None]) -> None:
        answer = tempfile.TemporaryFile()
        sys.stdout.flush()
        sys.stderr.flush()  # nothing buffered here is written twice
        try:
            pid = os.fork()
        except OSError:
            answer.close()
            return  # no child (a process limit): `result()` computes it here
        if pid == 0:  # the child: compute, answer, leave without running anything of the parent's
            code = 1
            try:
                before_child()
                pickle.dump(self._function(), answer, protocol=pickle.HIGHEST_PROTOCOL)
                answer.flush()
                code = 0
            finally:
                os._exit(code)
        self._pid, self._answer = pid, answer

    def result(self) -> T:
        """The function's value (raises what the function raises)."""
        if self._pid is not None and self._answer is not None:
            answer, self._answer = self._answer, None
            with answer:
                if self._wait() == 0:
                    answer.seek(0)
                    try:
                        return pickle.load(answer)  # type: ignore[no-any-return]
                    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
                        pass
        return self._function()  # no child, or it failed: the same computation, here

    def _wait(self) -> int:
        pid, self._pid = self._pid, None
        if pid is None:
            return -1
        _pid, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)

    def cancel(self) -> None:
        """Stop the child if it still runs (the caller failed and will not ask for the result)."""
        if self._pid is not None:
            try:
                os.kill(self._pid, 9)
            except ProcessLookupError:
                pass
            self._wait()
        if self._answer is not None:
            self._answer.close()
            self._answer = None
