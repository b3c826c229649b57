"""Rendering of `gitops plan`: text for a terminal, markdown for a release ticket or PR."""

from __future__ import annotations

from gitops_promote.commands.plan import PlanResult
from gitops_promote.core.promotion import ACTIONS
from gitops_promote.render import console
from gitops_promote.render.promote import file_action_rows


def text(result: PlanResult, verbose: bool = False) -> None:
    head = f"Plan: promote {result.source} {result.source_commit[:12]} into {result.target} {result.target_commit[:12]}"
    rows = [
        (head, "bold"),
        ("", ""),
        (f"Commits to promote ({len(result.commits)}):", ""),
    ]
    rows += [(f"  {c['sha'][:12]} {c['subject']}  ({c['author']}, {c['date'][:10]})", "") for c in result.commits]
    rows += [("", ""), (f"Files ({len(result.files)}): {_counts(result)}", "")]
    rows += file_action_rows(result.files, verbose)
    if result.drift:
        rows += [("", ""), (f"Drift that blocks the promotion ({len(result.drift)}):", "bold red")]
        rows += [(f"  {d.path}  (commits {', '.join(c[:12] for c in d.commits)})", "") for d in result.drift]
    if result.signatures:
        rows += [("", ""), (f"Signatures that block the promotion ({len(result.signatures)}):", "bold red")]
        rows += [(f"  {finding.describe()}", "") for finding in result.signatures]
    if result.warnings:
        rows += [("", ""), (f"Warnings ({len(result.warnings)}):", "yellow")]
        for warning in result.warnings:
            where = f"{warning.path}: " if warning.path else ""
            rows.append((f"  [{warning.kind}] {where}{warning.message}", ""))
    if result.freeze is not None:
        style = "green" if result.freeze.allowed and not result.freeze.overridden else "bold red"
        rows += [("", ""), (f"Freeze: {result.freeze.message}", style)]
    console.lines(rows)  # one write
    if not result.changes_target:
        console.message(f"nothing to promote: {result.target} already has {result.source}'s content")


def _counts(result: PlanResult) -> str:
    counts = {a: sum(1 for f in result.files if f.action == a) for a in ACTIONS}
    return ", ".join(f"{n} {a}" for a, n in counts.items() if n) or "no changes"


def _cell(value: str) -> str:
    """Repository data inside a markdown table cell or code span: nothing may break out."""
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("`", "'").replace("<", "&lt;").replace("\n", " ")


def markdown(result: PlanResult) -> str:
    lines = [
        f"## Promotion plan: {result.source} → {result.target}",
        "",
        f"- source `{result.source_commit}`",
        f"- target `{result.target_commit}`",
        f"- files: {_counts(result)}",
        "",
        "### Commits",
        "",
        "| commit | subject | author | date |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| `{c['sha'][:12]}` | {_cell(c['subject'])} | {_cell(c['author'])} | {c['date'][:10]} |"
        for c in result.commits
    ]
    lines += ["", "### Files", "", "| action | path |", "| --- | --- |"]
    lines += [f"| {f.action} | `{_cell(f.path)}` |" for f in result.files]
    if result.drift:
        lines += ["", "### Drift (blocks the promotion)", ""]
        lines += [f"- `{_cell(d.path)}`: {', '.join(c[:12] for c in d.commits)}" for d in result.drift]
    if result.signatures:
        lines += ["", "### Signatures (block the promotion)", ""]
        lines += [f"- `{f.commit[:12]}` {_cell(f.author)}: {_cell(f.message)}" for f in result.signatures]
    if result.warnings:
        lines += ["", "### Warnings", ""]
        lines += [
            f"- **{w.kind}** " + (f"`{_cell(w.path)}`: " if w.path else "") + _cell(w.message) for w in result.warnings
        ]
    if result.freeze is not None:
        lines += ["", "### Freeze", "", _cell(result.freeze.message)]
    return "\n".join(lines) + "\n"
