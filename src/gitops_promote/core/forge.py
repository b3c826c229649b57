"""Where a pull request for a promotion branch can be opened: pure functions over remote URLs.

`gitops promote --pr` pushes `promote/<src>-to-<dst>` and prints the page that opens a pull
(merge) request for it. Only github.com and gitlab.com URLs are recognised: a self-hosted
forge's page layout cannot be guessed, so no URL is printed for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

PR_BRANCH_PREFIX = "promote/"

_FORGES = {"github.com": "github", "gitlab.com": "gitlab"}


@dataclass(frozen=True)
class RepoLocation:
    """host, owner (GitLab: group/subgroup) and name of a repository URL that has that shape."""

    host: str
    owner: str
    name: str

    @property
    def path(self) -> str:
        return f"{self.owner}/{self.name}"


_SCP = re.compile(r"^[\w.-]+@([\w.-]+):([^/\s]+(?:/[^/\s]+)*)/([^/\s]+?)(?:\.git)?/?$")


def parse_repo_url(url: str) -> RepoLocation | None:
    """The one parser of repository URLs (init's Argo CD generator and --pr's compare URL).

    Accepts https://[user[:token]@]host[:port]/owner/repo(.git), ssh://git@host[:port]/owner/repo,
    git://host/owner/repo and scp-like git@host:owner/repo; None for local paths and the rest.
    """
    url = url.strip()
    if any(c.isspace() for c in url):
        return None
    scp = _SCP.match(url)
    if scp and "://" not in url:
        return RepoLocation(scp.group(1).lower(), scp.group(2), scp.group(3))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ssh", "git") or not parts.hostname:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2:
        return None
    return RepoLocation(parts.hostname.lower(), "/".join(segments[:-1]), segments[-1].removesuffix(".git"))


@dataclass(frozen=True)
class ForgeRepo:
    kind: str  # "github" or "gitlab"
    host: str
    path: str  # owner/repo (GitLab: group/subgroup/repo)

    @property
    def web_url(self) -> str:
        return f"https://{self.host}/{self.path}"


def pr_branch(source_branch: str, target_branch: str) -> str:
    return f"{PR_BRANCH_PREFIX}{source_branch}-to-{target_branch}"


def parse_remote_url(url: str) -> ForgeRepo | None:
    """The GitHub or GitLab repository a remote URL points at, or None for anything else."""
    where = parse_repo_url(url)
    kind = _FORGES.get(where.host) if where else None
    if where is None or kind is None or (kind == "github" and "/" in where.owner):
        return None
    return ForgeRepo(kind, where.host, where.path)


def open_review_branches(
    steps: Sequence[tuple[str, str]], heads: Mapping[str, str], merged: Callable[[str, str], bool]
) -> list[str]:
    """The review branches (promote/SRC-to-DST) the remote has (`heads`: name -> commit) whose
    commit DST does not contain yet (`merged(commit, DST)`), in promotion order."""
    names = [(pr_branch(src, dst), dst) for src, dst in steps]
    return [name for name, dst in names if name in heads and not merged(heads[name], dst)]


def compare_url(repo: ForgeRepo, target_branch: str, head_branch: str) -> str:
    """The page that opens a pull (merge) request of `head_branch` into `target_branch`."""
    if repo.kind == "github":
        return f"{repo.web_url}/compare/{quote(target_branch)}...{quote(head_branch)}?expand=1"
    return (
        f"{repo.web_url}/-/merge_requests/new"
        f"?merge_request[source_branch]={quote(head_branch, safe='/')}"
        f"&merge_request[target_branch]={quote(target_branch, safe='/')}"
    )
