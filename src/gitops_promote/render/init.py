"""Text rendering of `gitops init`."""

from __future__ import annotations

from gitops_promote.render import console
from gitops_promote.render.console import visible
from gitops_promote.results.init import InitResult


def text(result: InitResult) -> None:
    out = console.out()
    out.print(f"created a GitOps repository in {visible(str(result.path))}", style="bold")
    out.print(
        f"  branches: {', '.join(result.branches)} (all at {result.commit[:12]}; {result.checked_out} checked out)"
    )
    out.print(f"  apps:     {', '.join(result.apps)} (Helm charts in apps/<app>/)")
    out.print(f"  Argo CD:  argocd/<env>/root.yaml per environment, repoURL {visible(result.repo_url)}")
    if result.remote_url:
        out.print(f"  pushed:   {', '.join(result.pushed)} to origin ({visible(result.remote_url)})")
    for note in result.notes:
        console.warning(note)
    if result.repo_url_placeholder:
        console.warning(
            f"the Argo CD manifests use the placeholder repoURL {result.repo_url}; "
            "change it on every branch (README.md says how) or run init again with --repo-url URL"
        )
    out.print("next:")
    out.print(f"  cd {visible(str(result.path))}")
    out.print("  gitops validate                      # every environment branch")
    out.print("  cat README.md                        # bootstrap each cluster: kubectl apply its root Application")
    if len(result.branches) > 1:
        first, second = result.branches[:2]
        out.print(f"  gitops promote {first} {second}               # after changing {first}")
