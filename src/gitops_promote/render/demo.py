"""Text rendering of `gitops demo`: what was built, the plan, the promotion, where to look."""

from __future__ import annotations

from rich.rule import Rule
from rich.text import Text

from gitops_promote.render import console
from gitops_promote.render import plan as plan_render
from gitops_promote.render import promote as promote_render
from gitops_promote.results.demo import DemoResult

# The tutorial for one's own repository, in the docs of the repository the package comes from.
TUTORIAL_URL = "https://github.com/gitops-promote/gitops-promote/blob/main/docs/tutorial.md"


def text(result: DemoResult) -> None:
    out = console.out()
    out.print(Text("A throwaway GitOps repository was created at:", style="bold"))
    out.print(Text(f"  {result.path}"))
    out.print(
        Text(
            "Branches dev, stg and prd; dev is a few commits ahead (api 1.4.0, a readiness probe, a new app 'worker')."
        )
    )
    out.print(Rule("1. The plan: gitops plan dev stg"))
    plan_render.text(result.plan)
    out.print(Rule("2. The promotion: gitops promote dev stg"))
    out.print(Text(promote_render.summary(result.promotion)))
    promote_render.outcome(result.promotion)
    out.print(Rule("Look around"))
    for line in (
        f"cd {result.path}",
        "git log --oneline --graph --all",
        "git show stg            # the promotion commit, its parents and trailers",
        "git log stg..dev        # what is still pending (nothing now)",
        "gitops status           # every environment at a glance",
        "gitops diff stg prd     # what production would get",
        "gitops plan stg prd",
    ):
        out.print(Text(f"  {line}"))
    out.print(Rule("Your own repository"))
    out.print(Text("  gitops init my-gitops --remote URL   # registry, charts, Argo CD apps, branches"))
    out.print(Text(f"  the tutorial, step by step: {TUTORIAL_URL}"))
