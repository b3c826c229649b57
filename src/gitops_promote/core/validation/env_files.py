"""Rule `env-values-missing`: every app has the env-specific files its environment needs."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from gitops_promote.core.paths import compile_glob, expand
from gitops_promote.core.registry import Environment, Registry
from gitops_promote.core.validation.apps import App
from gitops_promote.core.validation.files import Files
from gitops_promote.core.validation.findings import ERROR, Finding, make_finding


def expected_env_files(chart_dir: str, patterns: Sequence[str], env: str) -> list[str]:
    """Paths the env_specific patterns say this chart must have for `env`.

    A pattern applies when its leading components match the chart directory and the rest is
    literal once `{env}` is filled: `apps/*/values-{env}.yaml` -> `apps/web/values-stg.yaml`.
    Patterns with wildcards after the chart directory cannot name one file; see
    `_sibling_env_files` for those.
    """
    expected = []
    for pattern in patterns:
        parts = expand(pattern, env).split("/")
        for k in range(0, len(parts)):
            prefix, rest = "/".join(parts[:k]), parts[k:]
            if not _glob_matches(prefix, chart_dir) or any(re.search(r"[*?\[]", p) for p in rest):
                continue
            expected.append(posixpath.join(chart_dir, *rest) if chart_dir else "/".join(rest))
            break
    return list(dict.fromkeys(expected))


def _glob_matches(prefix: str, directory: str) -> bool:
    if not prefix:
        return directory == ""
    return compile_glob(prefix).matches(directory)


def check_env_values_present(app: App, registry: Registry, env: Environment, files: Files) -> list[Finding]:
    findings = []
    for expected in expected_env_files(app.dir, registry.env_specific, env.codename):
        if expected in files:
            continue
        findings.append(
            make_finding(
                "env-values-missing",
                ERROR,
                app.chart_yaml,
                (0, 0),
                f"app {app.dir or '.'} has no {expected} for environment {env.codename}",
                f"create {expected} (it may be empty: '{{}}'); env-specific files are never promoted, so "
                f"each branch needs its own",
            )
        )
    return findings
