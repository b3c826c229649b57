"""Validate one environment's tree: pure functions from file bytes to findings (no git).

One module per rule family (rule ids, severities and how to fix or accept each are in
docs/validation.md); `runner.validate_tree` runs them all and collects the findings:

- `yaml_syntax`: yaml-parse
- `argocd_schema`: argocd-schema, argocd-unknown-field
- `applications`: argocd-target-revision, argocd-value-files
- `helm_schema`: helm-values-schema (over the values `apps` layers per environment)
- `env_files`: env-values-missing
- `persistence`: persistence-ephemeral, ephemeral-accepted, backups-missing

The command layer passes `files`: repo path -> bytes, or a zero-argument callable returning
bytes, so that big files nobody needs (Helm templates when no persistence rule applies) are
never read from git.
"""

from __future__ import annotations

from gitops_promote.core.helm import deep_merge
from gitops_promote.core.validation.applications import check_application_env
from gitops_promote.core.validation.apps import effective_values
from gitops_promote.core.validation.argocd_schema import argocd_validator
from gitops_promote.core.validation.env_files import expected_env_files
from gitops_promote.core.validation.files import RepoIndex
from gitops_promote.core.validation.findings import ERROR, NOTICE, SEVERITIES, WARNING, FileSource, Finding
from gitops_promote.core.validation.runner import validate_tree

__all__ = [
    "ERROR",
    "NOTICE",
    "SEVERITIES",
    "WARNING",
    "FileSource",
    "Finding",
    "RepoIndex",
    "argocd_validator",
    "check_application_env",
    "deep_merge",
    "effective_values",
    "expected_env_files",
    "validate_tree",
]
