"""Where a pull request for a promotion branch can be opened: pure functions over remote URLs.

`gitops promote --pr` pushes `promote/<src>-to-<dst>` and prints the page that opens a pull
(merge) request for it. Only github.com and gitlab.com URLs are recognised: a self-hosted
forge's page layout cannot be guessed, so no URL is printed for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

PR_BRANCH_PREFIX = "promote/"

# git@github.com:o/r.git, ssh://git@github.com/o/r.git, https://github.com/o/r(.git),
# https://user:token@github.com/o/r.git; GitLab allows nested groups (o/sub/r).
_URL = re.compile(
    r"""^(?:
        (?:ssh://)?[^@/\s]+@(?P<ssh_host>[^:/\s]+)(?::\d+)?[:/](?P<ssh_path>[^\s]+?)
      | https?://(?:[^@/\s]+@)?(?P<http_host>[^/:\s]+)(?::\d+)?/(?P<http_path>[^\s]+?)
    )(?:\.git)?/?$""",
    re.VERBOSE,
)
_FORGES = {"github.com": "github", "gitlab.com": "gitlab"}


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
    match = _URL.match(url.strip())
    if match is None:
        return None
    host = (match["ssh_host"] or match["http_host"]).lower()
    path = (match["ssh_path"] or match["http_path"]).strip("/")
    kind = _FORGES.get(host)
    if kind is None or path.count("/") < 1 or (kind == "github" and path.count("/") != 1):
        return None
    return ForgeRepo(kind, host, path)


def compare_url(repo: ForgeRepo, target_branch: str, head_branch: str) -> str:
    """The page that opens a pull (merge) request of `head_branch` into `target_branch`."""
    if repo.kind == "github":
        return f"{repo.web_url}/compare/{quote(target_branch)}...{quote(head_branch)}?expand=1"
    return (
        f"{repo.web_url}/-/merge_requests/new"
        f"?merge_request[source_branch]={quote(head_branch, safe='/')}"
        f"&merge_request[target_branch]={quote(target_branch, safe='/')}"
    )
