"""A real git server on loopback for the test-suite: `git daemon` serving bare repositories.

The daemon listens on 127.0.0.1 only, on a free port, with pushes enabled
(`--enable=receive-pack`) and every repository under its base path exported. It runs in its own
process group so that a test can make the server "go away" mid-operation: `kill()` takes the
daemon and every `upload-pack`/`receive-pack`/hook it started down at once.

Used through the fixtures in tests/conftest_daemon.py (`git_daemon`, `daemon_remote`).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

START_TIMEOUT = 10.0


def free_port() -> int:
    """A TCP port nobody listens on right now (the daemon binds it with --reuseaddr)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def daemon_env(home: Path) -> dict[str, str]:
    """No user or system configuration leaks into the server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        LC_ALL="C",
    )
    return env


class GitDaemon:
    """`git daemon` on 127.0.0.1:PORT serving the bare repositories under `base_path`."""

    def __init__(self, base_path: Path, log_path: Path | None = None) -> None:
        self.base_path = base_path
        self.log_path = log_path or base_path.parent / f"{base_path.name}-daemon.log"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._home = base_path.parent / f"{base_path.name}-home"

    # ---- lifecycle ----------------------------------------------------------------------
    def start(self, attempts: int = 5) -> GitDaemon:
        if shutil.which("git") is None:
            raise RuntimeError("git is not installed")
        self.base_path.mkdir(parents=True, exist_ok=True)
        self._home.mkdir(parents=True, exist_ok=True)
        last_error = ""
        for _ in range(attempts):  # the free port may be taken between probe and bind
            self.port = free_port()
            self.proc = self._spawn(self.port)
            if self._wait_until_accepting():
                return self
            last_error = self.log()
            self.kill()
        raise RuntimeError(f"git daemon did not start: {last_error}")

    def _spawn(self, port: int) -> subprocess.Popen[bytes]:
        argv = [
            "git",
            "daemon",
            "--listen=127.0.0.1",
            f"--port={port}",
            "--reuseaddr",
            "--export-all",
            "--enable=receive-pack",
            "--informative-errors",
            f"--base-path={self.base_path}",
            "--verbose",
            str(self.base_path),
        ]
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        try:
            return subprocess.Popen(  # noqa: S603 - argument list
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=daemon_env(self._home),
                start_new_session=True,  # own process group: kill() reaches every child
            )
        finally:
            log.close()

    def _wait_until_accepting(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                return False
            if port_accepts(self.port):
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        """Stop the daemon gracefully (running transfers are cut off too)."""
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        """The server goes away at once: the daemon and every process it started."""
        self._signal(signal.SIGKILL)

    def _signal(self, sig: int) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None
        # wait until the port is closed so that "unreachable" tests are deterministic
        deadline = time.monotonic() + 5
        while port_accepts(self.port) and time.monotonic() < deadline:
            time.sleep(0.02)

    def __enter__(self) -> GitDaemon:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- addressing ---------------------------------------------------------------------
    def url(self, name: str) -> str:
        """git://127.0.0.1:PORT/NAME for the bare repository base_path/NAME."""
        return f"git://127.0.0.1:{self.port}/{name}"

    def path(self, name: str) -> Path:
        return self.base_path / name

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""
