"""The pure validation core against real charts and Argo CD manifests (tests/data/corpus)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops_promote.core.registry import Registry, parse_registry
from gitops_promote.core.validation import (
    Finding,
    argocd_validator,
    deep_merge,
    effective_values,
    expected_env_files,
    validate_tree,
)

CORPUS = Path(__file__).parent / "data" / "corpus"
EXAMPLES = CORPUS / "argocd-crds" / "examples"
CHARTS = ("nginx", "alertmanager", "external-dns")

REGISTRY = b"""
environments:
  - {codename: dev, branch: dev, persistence: ephemeral}
  - {codename: stg, branch: stg, persistence: persistent, backups: {enabled: true, policy: daily}}
  - {codename: prd, branch: prd, persistence: persistent, backups: true}
promotion:
  order: [dev, stg, prd]
  env_specific: ["apps/*/values-{env}.yaml"]
"""

# Upstream examples that do not validate against the v3.5.1 CRDs (older design docs, and a
# `revision:` typo for `targetRevision:` in the operator manual). Pinned so a change shows up.
KNOWN_UPSTREAM = {
    (
        "applicationset/design-doc__git-directory-discovery.yaml",
        "argocd-schema",
        32,
        "spec.generators[0].git.revision is required",
    ),
    (
        "applicationset/design-doc__git-directory-discovery.yaml",
        "argocd-schema",
        39,
        "spec.template.spec.project is required",
    ),
    (
        "applicationset/design-doc__git-files-discovery.yaml",
        "argocd-schema",
        43,
        "spec.generators[0].git.revision is required",
    ),
    (
        "applicationset/design-doc__git-files-discovery.yaml",
        "argocd-schema",
        50,
        "spec.template.spec.project is required",
    ),
    (
        "operator-manual/applicationset.yaml",
        "argocd-unknown-field",
        23,
        "spec.generators[0].list.template.spec.source.revision is not a field",
    ),
    (
        "operator-manual/applicationset.yaml",
        "argocd-unknown-field",
        88,
        "spec.generators[3].scmProvider.github.values is not a field",
    ),
    (
        "operator-manual/applicationset.yaml",
        "argocd-unknown-field",
        118,
        "spec.generators[4].configMapRef is not a field",
    ),
    ("operator-manual/applicationset.yaml", "argocd-schema", 186, "spec.generators[6].matrix.generators is required"),
    (
        "operator-manual/applicationset.yaml",
        "argocd-unknown-field",
        219,
        "spec.generators[8].configMapRef is not a field",
    ),
    (
        "operator-manual/applicationset.yaml",
        "argocd-unknown-field",
        268,
        "spec.template.spec.source.helm.useCredentials is not a field",
    ),
    (
        "operator-manual/applicationset.yaml",
        "argocd-unknown-field",
        269,
        "spec.template.spec.source.parameters is not a field",
    ),
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return parse_registry(REGISTRY)


def read(rel: str) -> bytes:
    return (CORPUS / rel).read_bytes()


def chart_tree(name: str, root: str = "apps/web", extra: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """A repo tree holding one real chart, with an empty env values file per environment."""
    files = {
        f"{root}/{p.relative_to(CORPUS / 'charts' / name)}": p.read_bytes()
        for p in (CORPUS / "charts" / name).rglob("*")
        if p.is_file()
    }
    for env in ("dev", "stg", "prd"):
        files[f"{root}/values-{env}.yaml"] = b"{}\n"
    files.update(extra or {})
    return files


def rules(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


# -- real data validates clean --------------------------------------------------------------


@pytest.mark.parametrize("chart", CHARTS)
def test_real_chart_values_validate_against_their_own_schema(registry: Registry, chart: str) -> None:
    findings = validate_tree(chart_tree(chart), registry, "prd")
    assert [f for f in findings if f.rule != "backups-missing"] == []


@pytest.mark.parametrize(
    "chart,ci",
    [("alertmanager", p.name) for p in (CORPUS / "charts/alertmanager/ci").iterdir()]
    + [("external-dns", "ci-values.yaml")],
)
def test_real_ci_values_merged_over_values_validate(registry: Registry, chart: str, ci: str) -> None:
    files = chart_tree(chart, extra={"apps/web/values-prd.yaml": read(f"charts/{chart}/ci/{ci}")})
    assert [f for f in validate_tree(files, registry, "prd") if f.rule == "helm-values-schema"] == []


def test_argocd_examples_validate_except_known_upstream_findings(registry: Registry) -> None:
    files = {f"examples/{p.relative_to(EXAMPLES)}": p.read_bytes() for p in EXAMPLES.rglob("*.yaml")}
    findings = validate_tree(files, registry, "dev")
    got = {
        (f.file.removeprefix("examples/"), f.rule, f.line, f.message.split(" but")[0].split(" of this")[0])
        for f in findings
    }
    expected = {(file, rule, line, f"ApplicationSet: {msg}") for file, rule, line, msg in KNOWN_UPSTREAM}
    normalise = {(a, b, c, d.removesuffix(" but missing")) for a, b, c, d in got}
    assert normalise == {(a, b, c, d.removesuffix(" but missing")) for a, b, c, d in expected}


def test_operator_manual_application_and_project_are_valid(registry: Registry) -> None:
    for name in ("application.yaml", "project.yaml"):
        files = {name: (EXAMPLES / "operator-manual" / name).read_bytes()}
        assert validate_tree(files, registry, "dev") == []


# -- broken copies fail precisely -----------------------------------------------------------


def application_without_destination() -> bytes:
    text = (EXAMPLES / "operator-manual" / "application.yaml").read_text()
    start = text.index("  # Destination cluster and namespace")
    end = text.index("  # Extra information to show")
    return (text[:start] + text[end:]).encode()


def test_application_missing_destination_names_field_and_line(registry: Registry) -> None:
    findings = validate_tree({"argocd/guestbook.yaml": application_without_destination()}, registry, "dev")
    [finding] = [f for f in findings if f.rule == "argocd-schema"]
    assert "spec.destination is required" in finding.message
    assert (finding.file, finding.line, finding.severity) == ("argocd/guestbook.yaml", 16, "error")
    assert application_without_destination().decode().splitlines()[15] == "spec:"


def test_wrong_type_names_the_nested_field_and_its_line(registry: Registry) -> None:
    text = (EXAMPLES / "operator-manual" / "application.yaml").read_text()
    text = text.replace("    server: https://kubernetes.default.svc\n", "    server: [not, a, string]\n", 1)
    [finding] = validate_tree({"a.yaml": text.encode()}, registry, "dev")
    assert finding.message.startswith("Application: spec.destination.server:")
    lines = text.splitlines()
    assert lines[finding.line - 1].strip().startswith("server: [not")


def test_missing_metadata_name(registry: Registry) -> None:
    doc = b"apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata: {}\nspec: {}\n"
    [finding] = validate_tree({"p.yaml": doc}, registry, "dev")
    assert "metadata.name is required" in finding.message and finding.line == 3


def test_env_values_schema_violation_points_into_the_env_file(registry: Registry) -> None:
    bad = b"# stg overrides\nreplicaCount: 2\nimage:\n  tag: v1\nservice:\n  type: NodePort\n  port: http\n"
    files = chart_tree("alertmanager", extra={"apps/web/values-stg.yaml": bad})
    findings = [f for f in validate_tree(files, registry, "stg") if f.rule == "helm-values-schema"]
    assert len(findings) == 1
    assert (findings[0].file, findings[0].line) == ("apps/web/values-stg.yaml", 7)
    assert findings[0].message.startswith("service.port:")


def test_values_schema_violation_from_values_yaml_points_there(registry: Registry) -> None:
    files = chart_tree("external-dns")
    files["apps/web/values.yaml"] = files["apps/web/values.yaml"].replace(b"\nlogLevel: info ", b"\nlogLevel: chatty ")
    [finding] = [f for f in validate_tree(files, registry, "prd") if f.rule == "helm-values-schema"]
    assert finding.file == "apps/web/values.yaml"
    assert files["apps/web/values.yaml"].decode().splitlines()[finding.line - 1].startswith("logLevel: chatty")
    assert finding.message.startswith("logLevel: the value is not one of the allowed values ['panic'")
    assert "chatty" not in finding.message  # a schema message never quotes the value (issue 12)


APP = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
spec:
  project: default
  source:
    repoURL: https://example.com/gitops.git
    targetRevision: {rev}
    path: apps/web
    helm:
      valueFiles:
        - values.yaml
        - values-{env}.yaml
  destination:
    server: https://kubernetes.default.svc
    namespace: web
"""


def test_application_in_stg_tracking_dev_is_an_error(registry: Registry) -> None:
    files = chart_tree("nginx", extra={"argocd/web.yaml": APP.format(rev="dev", env="stg").encode()})
    [finding] = [f for f in validate_tree(files, registry, "stg") if f.rule == "argocd-target-revision"]
    assert (finding.file, finding.line, finding.severity) == ("argocd/web.yaml", 9, "error")
    assert "tracks 'dev'" in finding.message and "'stg'" in finding.message


def test_application_tracking_its_branch_is_clean(registry: Registry) -> None:
    files = chart_tree("nginx", extra={"argocd/web.yaml": APP.format(rev="stg", env="stg").encode()})
    assert validate_tree(files, registry, "stg") == [] or all(
        f.rule == "backups-missing" for f in validate_tree(files, registry, "stg")
    )


def test_missing_value_file_is_reported_at_the_entry(registry: Registry) -> None:
    files = chart_tree("nginx", extra={"argocd/web.yaml": APP.format(rev="stg", env="qa").encode()})
    [finding] = [f for f in validate_tree(files, registry, "stg") if f.rule == "argocd-value-files"]
    assert finding.line == 14 and "apps/web/values-qa.yaml" in finding.message


def test_foreign_repository_application_is_not_checked(registry: Registry) -> None:
    text = APP.format(rev="main", env="stg").replace("path: apps/web", "path: guestbook")
    assert validate_tree({"argocd/x.yaml": text.encode()}, registry, "stg") == []


def test_templated_applicationset_values_are_skipped(registry: Registry) -> None:
    text = read("argocd-crds/examples/applicationset/design-doc__list.yaml")
    assert [f for f in validate_tree({"appset.yaml": text}, registry, "dev") if f.severity == "error"] == []


def test_persistence_in_ephemeral_env_is_an_error(registry: Registry) -> None:
    files = chart_tree("alertmanager")  # alertmanager's values.yaml enables persistence
    [finding] = [f for f in validate_tree(files, registry, "dev") if f.rule == "persistence-ephemeral"]
    assert finding.file == "apps/web/values.yaml"
    assert files[finding.file].decode().splitlines()[finding.line - 1].strip() == "enabled: true"
    assert "S3, RDS" in finding.message


def test_persistence_disabled_in_env_file_is_clean(registry: Registry) -> None:
    files = chart_tree("alertmanager", extra={"apps/web/values-dev.yaml": b"persistence:\n  enabled: false\n"})
    assert validate_tree(files, registry, "dev") == []


def test_ephemeral_storage_can_be_accepted(registry: Registry) -> None:
    files = chart_tree("alertmanager")
    chart = files["apps/web/Chart.yaml"]
    files["apps/web/Chart.yaml"] = chart.replace(
        b"annotations:\n", b"annotations:\n  gitops-promote/ephemeral-storage: accepted\n"
    )
    assert rules(validate_tree(files, registry, "dev")) == ["ephemeral-accepted"]


def test_stateful_app_without_backup_warns_where_backups_required(registry: Registry) -> None:
    files = chart_tree("alertmanager")
    [finding] = validate_tree(files, registry, "stg")
    assert (finding.rule, finding.severity) == ("backups-missing", "warning")
    files["apps/web/values-stg.yaml"] = b"backup:\n  enabled: true\n"
    assert validate_tree(files, registry, "stg") == []


def test_pvc_template_counts_when_no_persistence_switch(registry: Registry) -> None:
    files = chart_tree("nginx", extra={"apps/web/templates/pvc.yaml": b"apiVersion: v1\nkind: PersistentVolumeClaim\n"})
    assert "persistence-ephemeral" in rules(validate_tree(files, registry, "dev"))


def test_env_values_file_missing(registry: Registry) -> None:
    files = chart_tree("nginx")
    del files["apps/web/values-stg.yaml"]
    [finding] = validate_tree(files, registry, "stg")
    assert finding.rule == "env-values-missing" and "apps/web/values-stg.yaml" in finding.message
    assert expected_env_files("apps/web", ("apps/*/values-{env}.yaml", "clusters/{env}/**"), "stg") == [
        "apps/web/values-stg.yaml"
    ]


def test_yaml_parse_errors_and_duplicate_keys(registry: Registry) -> None:
    findings = validate_tree(
        {"a.yaml": b"a: [1, 2\n", "b.yml": b"x: 1\ny: 2\nx: 3\n", "t/templates/x.yaml": b"{{ if }}: ["}, registry, "dev"
    )
    assert [(f.file, f.rule, f.line) for f in findings] == [("a.yaml", "yaml-parse", 2), ("b.yml", "yaml-parse", 3)]


def test_lazy_loader_does_not_read_templates_when_no_rule_needs_them(registry: Registry) -> None:
    def boom() -> bytes:
        raise AssertionError("read")

    files: dict[str, object] = dict(chart_tree("nginx"))
    files["apps/web/templates/big.yaml"] = boom
    prd = parse_registry(REGISTRY.replace(b"backups: true", b"backups: false"))
    assert validate_tree(files, prd, "prd") == []  # type: ignore[arg-type]


# -- Helm merging ---------------------------------------------------------------------------


def test_deep_merge_like_helm() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1, "e": {"f": 1}}
    overlay = {"a": {"c": [3]}, "d": None, "e": "x", "g": {"h": 1}}
    assert deep_merge(base, overlay) == {"a": {"b": 1, "c": [3]}, "e": "x", "g": {"h": 1}}
    assert base["d"] == 1  # inputs untouched


def test_effective_values_layers_in_order() -> None:
    assert effective_values(b"a: 1\nb: {c: 1}\n", b"b: {d: 2}\n", None, b"a: 3\n") == {"a": 3, "b": {"c": 1, "d": 2}}


def test_schemas_compile_once() -> None:
    assert argocd_validator("ApplicationSet") is argocd_validator("ApplicationSet")


def test_finding_shapes() -> None:
    finding = Finding("yaml-parse", "error", "a.yaml", 2, 3, "boom", "fix")
    assert str(finding.location()) == "a.yaml:2:3"
    assert json.loads(json.dumps(finding.to_json()))["rule"] == "yaml-parse"
    assert "boom" in str(finding.to_problem())
