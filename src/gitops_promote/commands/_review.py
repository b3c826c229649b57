"""`gitops promote SRC DST --pr`: push the promotion commit to a review branch, not to DST.

The commit is exactly the one `gitops promote` would push to DST (first parent: DST's tip), on
`promote/<src>-to-<dst>`. Merging the pull request as a fast-forward therefore ships exactly the
tree that was reviewed. The branch is force-updated on a re-run, with a lease on the value read
from the remote just before, so a concurrent re-run is detected, not overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._engine import Prepared
from gitops_promote.errors import GitError, UsageError
from gitops_promote.render.console import md, md_code

if TYPE_CHECKING:
    from gitops_promote.core.forge import ForgeRepo

MAX_BODY = 60_000  # GitHub refuses bodies over 65,536 characters


@dataclass
class PrTarget:
    branch: str
    forge: ForgeRepo | None
    compare_url: str | None


def check_options(prepared: Prepared, push: bool) -> None:
    if not push:
        raise UsageError("--pr pushes a branch for review; it cannot be combined with --no-push")
    if prepared.refs.remote is None:
        raise UsageError(
            "--pr needs a remote to push the promotion branch to, and this repository has none",
            hint="add one (git remote add origin URL), or pass --remote NAME",
        )


def target(repo: Repository, prepared: Prepared) -> PrTarget:
    from gitops_promote.core.forge import compare_url, parse_remote_url, pr_branch  # promote --pr only

    branch = pr_branch(prepared.source.branch, prepared.target.branch)
    assert prepared.refs.remote is not None
    forge = parse_remote_url(repo.remote_url(prepared.refs.remote))
    url = compare_url(forge, prepared.target.branch, branch) if forge else None
    return PrTarget(branch, forge, url)


def push(repo: Repository, prepared: Prepared, pr: PrTarget, new_commit: str) -> bool:
    """Force-update the review branch with a lease. False when somebody moved it meanwhile."""
    remote = prepared.refs.remote
    assert remote is not None
    current = repo.remote_heads(remote, [pr.branch]).get(pr.branch)
    outcome = repo.push(remote, new_commit, pr.branch, current)
    if not outcome.ok:
        if outcome.lost_race:
            return False
        raise GitError(f"the remote refused the push to {pr.branch}: {outcome.message}")
    tracking = f"refs/remotes/{remote}/{pr.branch}"
    repo.update_ref(tracking, new_commit, repo.resolve_commit(tracking), "gitops promote --pr: pushed")
    return True


def merge_command(prepared: Prepared, pr: PrTarget) -> str:
    """The command that merges the review branch as a fast-forward (git refuses anything else
    without --force), so that the commit that ships is the one that was reviewed."""
    remote, target = prepared.refs.remote, prepared.target.branch
    return f"git fetch {remote} && git push {remote} refs/remotes/{remote}/{pr.branch}:refs/heads/{target}"


def merge_note(prepared: Prepared, pr: PrTarget) -> str:
    return f"to merge it by fast-forward once approved: {merge_command(prepared, pr)}"


def delete_if_contained(repo: Repository, prepared: Prepared, tip: str) -> list[str]:
    """After a promotion, the review branch of the same step is done with once the target
    contains its commit (it was merged by fast-forward): delete it on the remote, with a lease."""
    remote = prepared.refs.remote
    if remote is None:
        return []
    from gitops_promote.core.forge import pr_branch

    branch = pr_branch(prepared.source.branch, prepared.target.branch)
    sha = repo.remote_heads(remote, [branch]).get(branch)
    if sha is None or repo.resolve_commit(sha) is None or not repo.is_ancestor(sha, tip):
        return []
    outcome = repo.delete_remote_branch(remote, branch, sha)
    if not outcome.ok:
        return [f"could not delete the merged review branch {remote}/{branch}: {outcome.message}"]
    return [f"deleted the review branch {remote}/{branch}: {prepared.target.branch} contains it"]


def open_pull_request(prepared: Prepared, pr: PrTarget) -> tuple[str | None, list[str]]:
    """Open or update the pull request with gh when it is installed and logged in."""
    if pr.forge is None or pr.forge.kind != "github":
        return None, []
    from gitops_promote.adapters import github  # only when a pull request can be opened

    gh = github.executable()
    if gh is None or not github.authenticated(gh, pr.forge.host):
        return None, []
    title = f"Promote {prepared.source.codename} to {prepared.target.codename}"
    try:
        opened = github.open_or_update(gh, pr.forge.path, prepared.target.branch, pr.branch, title, body(prepared))
    except GitError as exc:
        return None, [f"{exc}; open the pull request by hand"]
    verb = "opened" if opened.created else "updated"
    return opened.url, [f"{verb} pull request {opened.url}"]


def body(prepared: Prepared) -> str:
    """The plan, as Markdown, for the pull request's description."""
    src, dst = prepared.source, prepared.target
    lines = [
        f"Promotes `{src.codename}` {prepared.source_commit[:12]} into `{dst.codename}` "
        f"(`{dst.branch}` at {prepared.target_commit[:12]}).",
        "",
        "Merge with a **fast-forward** (or rebase merge) so that the reviewed commit is what ships.",
        "",
        f"### {len(prepared.commits)} commit(s)",
        "",
    ]
    lines += [f"- {c.sha[:12]} {md(c.subject)}" for c in prepared.commits[:100]]
    if len(prepared.commits) > 100:
        lines.append(f"- … and {len(prepared.commits) - 100} more")
    changed = [a for a in prepared.plan.actions if a.action != "kept"]
    lines += ["", f"### {len(changed)} file(s)", "", "| action | path |", "| --- | --- |"]
    lines += [f"| {a.action} | {md_code(a.path)} |" for a in changed]
    text = "\n".join(lines) + "\n"
    if len(text) > MAX_BODY:
        text = text[: MAX_BODY - 200].rsplit("\n", 1)[0] + "\n\n… (truncated: run `gitops plan` for the rest)\n"
    return text
