"""The only place that talks to the GitHub CLI (`gh`), to open or update a pull request.

`gh` is optional: without it, or when it is not logged in, `gitops promote --pr` prints the
compare URL instead. Its path can be given with GITOPS_GH (tests put a fake script there; they
never reach the network). Every call is an argument list; the body goes through stdin.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass

from gitops_promote.errors import GitError


@dataclass(frozen=True)
class PullRequest:
    url: str
    created: bool


def executable() -> str | None:
    """The gh to run: $GITOPS_GH, else gh on PATH, else None."""
    configured = os.environ.get("GITOPS_GH")
    if configured:
        return configured if os.path.exists(configured) else shutil.which(configured)
    return shutil.which("gh")


def _run(gh: str, args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GH_PROMPT_DISABLED="1", NO_COLOR="1")
    try:
        return subprocess.run(  # noqa: S603 - argument list, no shell
            [gh, *args], input=stdin, capture_output=True, text=True, env=env, check=False, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"could not run {gh}: {exc}") from exc


def authenticated(gh: str, host: str) -> bool:
    """`gh auth status` exits 0 only when gh has a usable login for the host."""
    try:
        return _run(gh, ["auth", "status", "--hostname", host]).returncode == 0
    except GitError:
        return False


def open_or_update(gh: str, repo: str, base: str, head: str, title: str, body: str) -> PullRequest:
    """Edit the open pull request of `head` into `base` in place, or open one."""
    found = _run(
        gh,
        [
            "pr",
            "list",
            "--repo",
            repo,
            "--base",
            base,
            "--head",
            head,
            "--state",
            "open",
            "--json",
            "number,url",
            "--limit",
            "1",
        ],
    )
    _check(found, "list pull requests")
    existing = json.loads(found.stdout or "[]")
    if existing:
        number, url = str(existing[0]["number"]), str(existing[0]["url"])
        _check(
            _run(gh, ["pr", "edit", number, "--repo", repo, "--title", title, "--body-file", "-"], body),
            "update the pull request",
        )
        return PullRequest(url, created=False)
    created = _run(
        gh, ["pr", "create", "--repo", repo, "--base", base, "--head", head, "--title", title, "--body-file", "-"], body
    )
    _check(created, "open the pull request")
    lines = created.stdout.strip().splitlines()
    return PullRequest(lines[-1] if lines else "", created=True)


def _check(proc: subprocess.CompletedProcess[str], what: str) -> None:
    if proc.returncode != 0:
        raise GitError(f"gh could not {what}: {(proc.stderr or proc.stdout).strip()}")
