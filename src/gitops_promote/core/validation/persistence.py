"""Rules `persistence-ephemeral`, `ephemeral-accepted` and `backups-missing`: data kept where it
would die with the cluster, or kept without backups."""

from __future__ import annotations

import posixpath
import re
from typing import Any

from gitops_promote.adapters.yaml_nodes import (
    DataPath,
    get_path,
)
from gitops_promote.core.registry import Environment
from gitops_promote.core.validation.apps import App, locate
from gitops_promote.core.validation.files import Files
from gitops_promote.core.validation.findings import ERROR, NOTICE, WARNING, Finding, dotted

ACCEPT_EPHEMERAL = "gitops-promote/ephemeral-storage"


BACKUP_ANNOTATION = "gitops-promote/backup"


EPHEMERAL_HINT = "data there dies with the cluster; use external storage (S3, RDS, OpenSearch, ElastiCache)"


_PVC = re.compile(rb"^\s*kind:\s*[\"']?PersistentVolumeClaim\b|volumeClaimTemplates\s*:", re.M)


def enabled_persistence(values: Any, path: DataPath = ()) -> list[DataPath]:
    """Every `<...>.persistence.enabled: true` path in the values (any depth)."""
    found: list[DataPath] = []
    if isinstance(values, dict):
        for key, value in values.items():
            sub = (*path, key)
            if key == "persistence" and isinstance(value, dict) and value.get("enabled") is True:
                found.append((*sub, "enabled"))
            found += enabled_persistence(value, sub)
    return found


def _has_persistence_toggle(values: Any) -> bool:
    if isinstance(values, dict):
        for key, value in values.items():
            if key == "persistence" and isinstance(value, dict) and "enabled" in value:
                return True
            if _has_persistence_toggle(value):
                return True
    return False


def _template_claims(app: App, files: Files) -> list[str]:
    """Templates that declare a PersistentVolumeClaim or volumeClaimTemplates.

    Only counted when the values have no `persistence.enabled` switch: charts that have one
    guard their claims with it, and the switch is what the values rule reads.
    """
    if _has_persistence_toggle(app.values):
        return []
    templates = posixpath.join(app.dir, "templates") if app.dir else "templates"
    return [p for p in files.under(templates) if _PVC.search(files.read(p))]


def check_persistence(app: App, env: Environment, files: Files) -> list[Finding]:
    stateful = _stateful_reasons(app, files)
    if not stateful:
        return []
    reasons = ", ".join(reason for reason, _ in stateful)
    findings = []
    if env.persistence == "ephemeral":
        file, line, column = stateful[0][1]
        if app.annotation(ACCEPT_EPHEMERAL) == "accepted":
            findings.append(
                Finding(
                    "ephemeral-accepted",
                    NOTICE,
                    app.chart_yaml,
                    0,
                    0,
                    f"app {app.dir or '.'} keeps data ({reasons}) in ephemeral environment "
                    f"{env.codename}; accepted by Chart.yaml annotation",
                    "remove the annotation to turn this back into an error",
                )
            )
        else:
            findings.append(
                Finding(
                    "persistence-ephemeral",
                    ERROR,
                    file,
                    line,
                    column,
                    f"app {app.dir or '.'} keeps data ({reasons}) but environment {env.codename} is "
                    f"ephemeral: {EPHEMERAL_HINT}",
                    f"disable persistence in the env values, or accept it with Chart.yaml annotations: "
                    f"{{{ACCEPT_EPHEMERAL}: accepted}}",
                )
            )
    if env.backups.enabled and not _declares_backup(app):
        findings.append(
            Finding(
                "backups-missing",
                WARNING,
                app.chart_yaml,
                0,
                0,
                f"app {app.dir or '.'} keeps data ({reasons}) and environment {env.codename} requires "
                f"backups, but it declares none",
                f"add Chart.yaml annotations: {{{BACKUP_ANNOTATION}: <policy>}} or set backup.enabled: "
                f"true in its values",
            )
        )
    return findings


def _stateful_reasons(app: App, files: Files) -> list[tuple[str, tuple[str, int, int]]]:
    reasons = [(dotted(p), locate(p, app.layers)) for p in enabled_persistence(app.values)]
    reasons += [(f"{t} declares a volume claim", (t, 0, 0)) for t in _template_claims(app, files)]
    return reasons


def _declares_backup(app: App) -> bool:
    if app.annotation(BACKUP_ANNOTATION):
        return True
    return get_path(app.values, ("backup", "enabled")) == (True, True)
