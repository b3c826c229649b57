"""Rules `argocd-schema` and `argocd-unknown-field`: Argo CD resources against the shipped v3.5.1 CRD schemas."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from gitops_promote.adapters.yaml_nodes import (
    Document,
    get_path,
)
from gitops_promote.core.validation.findings import (
    ERROR,
    WARNING,
    Finding,
    is_templated,
    make_finding,
    schema_error_path,
)

ARGOCD_API = "argoproj.io/v1alpha1"


ARGOCD_KINDS = {
    "Application": "application.schema.json",
    "ApplicationSet": "applicationset.schema.json",
    "AppProject": "appproject.schema.json",
}


def _openapi_to_jsonschema(node: Any) -> Any:
    """Make a CRD's structural OpenAPI schema checkable by a JSON Schema validator.

    `x-kubernetes-*` keys are ignored by jsonschema except where they change meaning:
    int-or-string (allow both), preserve-unknown-fields (leave open) and `nullable`.
    Objects with declared properties are closed (`additionalProperties: false`) because
    kubectl's strict field validation rejects unknown fields; such errors are reported as
    `argocd-unknown-field` warnings.
    """
    if isinstance(node, list):
        return [_openapi_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _openapi_to_jsonschema(value) for key, value in node.items()}
    if node.get("x-kubernetes-int-or-string") and "anyOf" not in node and "type" not in node:
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and isinstance(node.get("type"), str):
        out["type"] = [node["type"], "null"]
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@cache
def argocd_validator(kind: str) -> Any:
    """A compiled validator per kind, built once per process (the ApplicationSet schema is big)."""
    import jsonschema  # only when a schema is checked: promote's Application checks need none

    resource = resources.files("gitops_promote").joinpath("data", "argocd", ARGOCD_KINDS[kind])
    shipped = json.loads(resource.read_text(encoding="utf-8"))
    schema = _openapi_to_jsonschema(shipped["schema"])
    return jsonschema.Draft7Validator(schema)


def argocd_kind(data: Any) -> str | None:
    if isinstance(data, dict) and data.get("apiVersion") == ARGOCD_API and data.get("kind") in ARGOCD_KINDS:
        return str(data["kind"])
    return None


def prune_nulls(data: Any) -> Any:
    """Drop null fields, as the API server does for non-nullable CRD fields before validating
    (a key whose sub-keys are all commented out, `gitlab:`, is null and means "absent")."""
    if isinstance(data, dict):
        return {k: prune_nulls(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [prune_nulls(v) for v in data]
    return data


def check_argocd_schema(path: str, doc: Document) -> list[Finding]:
    kind = argocd_kind(doc.data)
    if kind is None:
        return []
    findings = []
    for error in argocd_validator(kind).iter_errors(prune_nulls(doc.data)):
        if is_templated(error.instance):
            continue
        field_path, message = schema_error_path(error)
        unknown = error.validator == "additionalProperties"
        rule, severity = ("argocd-unknown-field", WARNING) if unknown else ("argocd-schema", ERROR)
        hint = (
            "remove it or check its spelling against the Argo CD v3.5.1 CRD (kubectl's strict validation "
            "rejects unknown fields)"
            if unknown
            else f"see the {kind} reference: https://argo-cd.readthedocs.io/en/stable/operator-manual/declarative-setup/"
        )
        findings.append(make_finding(rule, severity, path, doc.position(field_path), f"{kind}: {message}", hint))
    name = get_path(doc.data, ("metadata", "name"))[1]
    if not name:
        findings.append(
            make_finding(
                "argocd-schema",
                ERROR,
                path,
                doc.position(("metadata", "name")),
                f"{kind}: metadata.name is required but missing",
                "every Argo CD resource needs a name",
            )
        )
    return findings
