"""Rendering of `gitops plan`: text for a terminal, markdown for a release ticket or PR."""

from __future__ import annotations

from gitops_promote.core.promotion import ACTIONS
from gitops_promote.render import console
from gitops_promote.render.console import md, md_code, visible
from gitops_promote.render.promote import file_action_rows
from gitops_promote.results.plan import PlanResult


def text(result: PlanResult, verbose: bool = False) -> None:
    head = (
        f"Plan: promote {visible(result.source)} {result.source_commit[:12]} "
        f"into {visible(result.target)} {result.target_commit[:12]}"
    )
    rows = [
        (head, "bold"),
        *(
            [(visible(f"Apps: {', '.join(result.apps)} (every other path of {result.target} stays as it is)"), "")]
            if result.apps is not None
            else []
        ),
        ("", ""),
        (f"Commits to promote ({len(result.commits)}):", ""),
    ]
    rows += [
        (f"  {c['sha'][:12]} {visible(c['subject'])}  ({visible(c['author'])}, {visible(c['date'][:10])})", "")
        for c in result.commits
    ]
    rows += [("", ""), (f"Files ({len(result.files)}): {_counts(result)}", "")]
    rows += file_action_rows(result.files, verbose)
    if result.drift:
        rows += [("", ""), (f"Drift that blocks the promotion ({len(result.drift)}):", "bold red")]
        rows += [(f"  {visible(d.path)}  (commits {', '.join(c[:12] for c in d.commits)})", "") for d in result.drift]
        rows.append((f"  the way out: gitops backport {result.target} (then promote it forward)", ""))
    if result.signatures:
        rows += [("", ""), (f"Signatures that block the promotion ({len(result.signatures)}):", "bold red")]
        rows += [(f"  {visible(finding.describe())}", "") for finding in result.signatures]
    if result.warnings:
        rows += [("", ""), (f"Warnings ({len(result.warnings)}):", "yellow")]
        for warning in result.warnings:
            where = f"{visible(warning.path)}: " if warning.path else ""
            rows.append((f"  [{warning.kind}] {where}{visible(warning.message)}", ""))
    if result.freeze is not None:
        style = "green" if result.freeze.allowed and not result.freeze.overridden else "bold red"
        rows += [("", ""), (f"Freeze: {visible(result.freeze.message)}", style)]
    console.lines(rows)  # one write
    if not result.changes_target:
        console.message(f"nothing to promote: {result.target} already has {result.source}'s content")


def _counts(result: PlanResult) -> str:
    counts = {a: sum(1 for f in result.files if f.action == a) for a in ACTIONS}
    return ", ".join(f"{n} {a}" for a, n in counts.items() if n) or "no changes"


def markdown(result: PlanResult) -> str:
    lines = [
        f"## Promotion plan: {md(result.source)} → {md(result.target)}",
        "",
        f"- source {md_code(result.source_commit)}",
        f"- target {md_code(result.target_commit)}",
        f"- files: {_counts(result)}",
        *([f"- apps: {', '.join(md_code(a) for a in result.apps)}"] if result.apps is not None else []),
        "",
        "### Commits",
        "",
        "| commit | subject | author | date |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {md_code(c['sha'][:12])} | {md(c['subject'])} | {md(c['author'])} | {md(c['date'][:10])} |"
        for c in result.commits
    ]
    lines += ["", "### Files", "", "| action | path |", "| --- | --- |"]
    lines += [f"| {f.action} | {md_code(f.path)} |" for f in result.files]
    if result.drift:
        lines += ["", "### Drift (blocks the promotion)", ""]
        lines += [f"- {md_code(d.path)}: {', '.join(c[:12] for c in d.commits)}" for d in result.drift]
    if result.signatures:
        lines += ["", "### Signatures (block the promotion)", ""]
        lines += [f"- `{f.commit[:12]}` {md(f.author)}: {md(f.message)}" for f in result.signatures]
    if result.warnings:
        lines += ["", "### Warnings", ""]
        lines += [
            f"- **{md(w.kind)}** " + (f"{md_code(w.path)}: " if w.path else "") + md(w.message) for w in result.warnings
        ]
    if result.freeze is not None:
        lines += ["", "### Freeze", "", md(result.freeze.message)]
    return "\n".join(lines) + "\n"
