"""Text rendering of `gitops verify ENV` and `gitops attest` (data on stdout, the verdict on stderr)."""

from __future__ import annotations

from rich.text import Text

from gitops_promote.core.audit import AuditedCommit
from gitops_promote.render import console
from gitops_promote.render.console import visible
from gitops_promote.results.verify import VerifyResult

KIND_STYLE = {"promotion": "green", "rollback": "magenta", "direct": "yellow"}


def text(result: VerifyResult) -> None:
    out = console.out()
    out.print(
        Text(
            f"Verify {result.environment} ({result.ref} at {result.head[:12]}): "
            f"{len(result.commits)} commit(s), {result.scope}",
            style="bold",
        )
    )
    out.print(Text(policy_line(result)))
    for entry in result.commits:
        print_commit(entry)
    for note in result.notes:
        console.message(note)
    verdict(result)


def policy_line(result: VerifyResult) -> str:
    policy = result.policy
    if policy is None or not policy.require:
        return "signatures: no policy (not required)"
    signers = f"allowed signers {policy.allowed_signers}" if policy.allowed_signers else "no ssh allowed signers"
    return f"signatures: required ({policy.mode}; {signers})"


def print_commit(entry: AuditedCommit) -> None:
    mark, style = ("ok", "green") if entry.ok else ("FAIL", "bold red")
    line = Text(f"  {mark:<4} ", style=style)
    line.append(f"{entry.commit[:12]} ")
    line.append(f"{entry.kind:<9} ", style=KIND_STYLE.get(entry.kind, ""))
    if entry.kind == "promotion":
        line.append(f"from {visible(entry.source or '')}@{visible(entry.promoted_commit or '')[:12]} ")
    elif entry.kind == "rollback":
        line.append(f"to {visible(entry.promoted_commit or '')[:12]} ")
    line.append(visible(entry.subject))
    console.out().print(line)
    for finding in entry.findings:
        console.out().print(Text(f"         {finding.kind}: {visible(finding.message)}", style="red"))


def verdict(result: VerifyResult) -> None:
    findings = result.findings
    if not findings:
        console.message(f"{result.environment}: clean ({len(result.commits)} commit(s) verified)", "green")
        return
    failing = sum(1 for c in result.commits if not c.ok)
    console.error(f"{result.environment}: {len(findings)} finding(s) in {failing} commit(s)")
