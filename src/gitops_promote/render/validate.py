"""Rendering of `gitops validate`: text, and GitHub Actions annotations.

(JSON is `ValidateResult.to_json()`, printed by the CLI; docs/commands/validate.md.)
Repository data never reaches the terminal or the Actions log raw: text output shows control
characters escaped, and annotations escape per the workflow-command rules so that no file name
or message can end the annotation or start a line of its own (`::`-commands are only read at
the start of a line).
"""

from __future__ import annotations

from rich.text import Text

from gitops_promote.core.validation import ERROR, NOTICE, WARNING, Finding
from gitops_promote.render import console
from gitops_promote.render.console import gh_data, gh_property, visible
from gitops_promote.results.validate import EnvReport, ValidateResult

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
    """Findings wrapped to the terminal's width, each wrapped line indented under its finding."""
    out = console.out()
    for report in result.environments:
        out.print(Text(visible(_heading(report)), style="bold"), soft_wrap=False)
        for finding in report.findings:
            line = Text.assemble(
                f"{visible(str(finding.location()))}: ",
                (finding.severity, _STYLE.get(finding.severity, "")),
                f" [{finding.rule}] {visible(finding.message)}",
            )
            _print_wrapped(line, 2)
            if finding.hint:
                _print_wrapped(Text(f"hint: {visible(finding.hint)}", style="dim"), 6)
    out.print(Text(visible(_summary(result))), soft_wrap=False)


def _print_wrapped(text: Text, indent: int) -> None:
    """`text` wrapped at words to the terminal, every line indented by `indent` spaces."""
    out = console.out()
    for line in text.wrap(out, max(out.width - indent, 20)):
        line.rstrip()
        out.print(Text(" " * indent) + line)


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
