"""Run every rule family over one environment's tree and collect the findings, sorted."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping, Sequence

from gitops_promote.adapters.yaml_nodes import (
    Document,
)
from gitops_promote.core.helm import chart_dirs
from gitops_promote.core.paths import is_yaml_path
from gitops_promote.core.registry import Environment, Registry
from gitops_promote.core.validation.applications import check_application_env, owning_environment
from gitops_promote.core.validation.apps import build_app
from gitops_promote.core.validation.argocd_schema import argocd_kind, check_argocd_schema
from gitops_promote.core.validation.env_files import check_env_values_present
from gitops_promote.core.validation.files import Files, RepoIndex
from gitops_promote.core.validation.findings import ERROR, FileSource, Finding, make_finding
from gitops_promote.core.validation.helm_schema import check_values_schema
from gitops_promote.core.validation.persistence import check_persistence
from gitops_promote.core.validation.yaml_syntax import check_yaml


def _environment(registry: Registry, env: str | Environment) -> Environment:
    if isinstance(env, Environment):
        return env
    found = registry.get(env)
    if found is None:
        raise KeyError(f"unknown environment {env!r}")
    return found


def validate_tree(files: Mapping[str, FileSource], registry: Registry, env: str | Environment) -> list[Finding]:
    """Every finding for environment `env`'s tree, sorted by file and line."""
    environment = _environment(registry, env)
    tree = Files(files)
    repo = RepoIndex.of(tree.paths())
    findings: list[Finding] = []
    applications: list[Document] = []
    for path in [p for p in tree.under("") if is_yaml_path(p)]:
        findings += check_yaml(path, tree)
        docs = tree.documents(path)
        for doc in docs if isinstance(docs, list) else []:
            findings += check_argocd_schema(path, doc)
            findings += check_application_env(path, doc, environment, registry, repo)
            # Another environment's Applications say how *it* layers values, not this one.
            own = owning_environment(path, registry, environment) is environment
            if own and argocd_kind(doc.data) == "Application":
                applications.append(doc)
    for app_dir in chart_dirs(tree.paths()):
        findings += check_app(app_dir, tree, registry, environment, applications, repo)
    return sorted(findings, key=lambda f: (f.file, f.line, f.column, f.rule))


def check_app(
    app_dir: str, files: Files, registry: Registry, env: Environment, applications: Sequence[Document], repo: RepoIndex
) -> list[Finding]:
    app = build_app(app_dir, files, registry, env, applications, repo)
    findings = check_env_values_present(app, registry, env, files)
    schema_path = posixpath.join(app_dir, "values.schema.json") if app_dir else "values.schema.json"
    if schema_path in files:
        try:
            schema = json.loads(files.read(schema_path))
        except ValueError as exc:
            findings.append(make_finding("helm-values-schema", ERROR, schema_path, (0, 0), f"not valid JSON: {exc}"))
        else:
            findings += check_values_schema(schema_path, schema, app.values, app.layers)
    if env.persistence == "ephemeral" or env.backups.enabled:
        findings += check_persistence(app, env, files)
    return findings
