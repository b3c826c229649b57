"""Rendering of `gitops validate`: text, and GitHub Actions annotations.

(JSON is `ValidateResult.to_json()`, printed by the CLI; docs/commands/validate.md.)
Repository data never reaches the terminal or the Actions log raw: text output shows control
characters escaped, and annotations escape per the workflow-command rules so that no file name
or message can end the annotation or start a line of its own (`::`-commands are only read at
the start of a line).
"""

from __future__ import annotations

from gitops_promote.commands.validate import EnvReport, ValidateResult
from gitops_promote.core.validation import ERROR, NOTICE, WARNING, Finding
from gitops_promote.render import console
from gitops_promote.render.console import gh_data, gh_property, visible

_STYLE = {ERROR: "red", WARNING: "yellow", NOTICE: "cyan"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _counts(errors: int, warnings: int, notices: int) -> str:
    parts = [_plural(errors, "error"), _plural(warnings, "warning")]
    if notices:
        parts.append(_plural(notices, "notice"))
    return ", ".join(parts)


# ---- text -----------------------------------------------------------------------------------


def text(result: ValidateResult) -> None:
    out = console.out()
    for report in result.environments:
        out.print(visible(_heading(report)), style="bold")
        for finding in report.findings:
            where = visible(str(finding.location()))
            out.print(f"  {where}: ", end="")
            out.print(finding.severity, style=_STYLE.get(finding.severity), end="")
            out.print(f" [{finding.rule}] {visible(finding.message)}")
            if finding.hint:
                out.print(f"      hint: {visible(finding.hint)}", style="dim")
    out.print(visible(_summary(result)))


def _heading(report: EnvReport) -> str:
    where = "working tree" if report.commit is None else f"{report.commit[:12]} ({_short_ref(report.ref)})"
    counts = _counts(report.count(ERROR), report.count(WARNING), report.count(NOTICE))
    status = "ok" if not report.findings else counts
    return f"{report.env}: branch {report.branch}, {where}: {status}"


def _short_ref(ref: str) -> str:
    return ref.removeprefix("refs/remotes/").removeprefix("refs/heads/")


def _summary(result: ValidateResult) -> str:
    envs = ", ".join(r.env for r in result.environments)
    counts = _counts(result.count(ERROR), result.count(WARNING), result.count(NOTICE))
    verdict = "failed" if result.exit_code else "passed"
    return f"validation {verdict} ({envs}): {counts}"


# ---- GitHub Actions -------------------------------------------------------------------------

_COMMAND = {ERROR: "error", WARNING: "warning", NOTICE: "notice"}


def annotation(finding: Finding, env: str) -> str:
    """`::error file=F,line=L,col=C,title=RULE::[env] message (hint)` on one line."""
    props = [f"file={gh_property(finding.file)}"]
    if finding.line:
        props.append(f"line={finding.line}")
        if finding.column:
            props.append(f"col={finding.column}")
    props.append(f"title={gh_property(f'{finding.rule} ({env})')}")
    message = f"[{env}] {finding.message}" + (f" (hint: {finding.hint})" if finding.hint else "")
    return f"::{_COMMAND.get(finding.severity, 'warning')} {','.join(props)}::{gh_data(message)}"


def github(result: ValidateResult) -> None:
    lines = [annotation(f, report.env) for report in result.environments for f in report.findings]
    lines.append(visible(_summary(result)))
    console.write("\n".join(lines))
