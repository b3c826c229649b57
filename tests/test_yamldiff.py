"""The structural YAML diff, against real files from tests/data/corpus (see its README)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_promote.core.yamldiff import Change, diff_file, is_yaml_path

CORPUS = Path(__file__).parent / "data" / "corpus"
EDGE = CORPUS / "yaml-edge"
GOVUK = CORPUS / "env-values/alphagov-govuk-helm-charts/charts/app-config"

# Valid yaml-test-suite cases that libyaml (PyYAML's C loader) rejects. The corpus INDEX lists
# the 10 the pure-Python loader rejects; libyaml also rejects 96NN-00 and Y79Y-001 (tabs in
# block scalars). They must give per-file errors, never an exception.
LIBYAML_REJECTS = {
    "7Z25",
    "8XYN",
    "96NN-00",
    "C4HZ",
    "DK3J",
    "FRK4",
    "M5DY",
    "NKF9",
    "RZP5",
    "S3PD",
    "W4TN",
    "Y79Y-001",
}


def _edge_cases() -> list[str]:
    with (EDGE / "INDEX.tsv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [r["id"] for r in rows if r["is_error_case"] == "no"]


@pytest.mark.parametrize("case", _edge_cases())
def test_yaml_edge_case_against_itself_is_empty(case: str) -> None:
    data = (EDGE / f"{case}.yaml").read_bytes()
    d = diff_file(f"{case}.yaml", data, data)
    assert d.changes == [] and not d.formatting_only and d.text_diff == ""
    if case in LIBYAML_REJECTS:
        assert d.errors and d.errors[0].location is not None
    else:
        assert d.errors == []


@pytest.mark.parametrize("path", sorted(p.name for p in (EDGE / "invalid").glob("*.yaml")))
def test_invalid_yaml_gives_per_file_errors(path: str) -> None:
    data = (EDGE / "invalid" / path).read_bytes()
    d = diff_file(f"x/{path}", None, data)
    if path == "9JBA.yaml":  # the spec says invalid; libyaml accepts it (corpus README)
        assert d.errors == []
        return
    assert d.errors, path
    loc = d.errors[0].location
    assert loc is not None and loc.file == f"x/{path}" and loc.line >= 1
    assert "cannot parse YAML" in d.errors[0].message
    assert d.text_diff.startswith("--- /dev/null")  # still shown, as lines


def _env_values_files() -> list[Path]:
    return sorted(
        p for p in (CORPUS / "env-values").rglob("*") if p.is_file() and is_yaml_path(str(p.relative_to(CORPUS)))
    )


@pytest.mark.parametrize("path", _env_values_files(), ids=lambda p: p.name)
def test_real_values_file_against_itself_is_empty(path: Path) -> None:
    data = path.read_bytes()
    d = diff_file(str(path.relative_to(CORPUS)), data, data)
    assert d.is_empty, d


def test_govuk_staging_vs_production() -> None:
    staging = (GOVUK / "values-staging.yaml").read_bytes()
    production = (GOVUK / "values-production.yaml").read_bytes()
    d = diff_file("charts/app-config/values.yaml", staging, production)
    assert d.errors == [] and d.kind == "yaml"
    by_path = {c.display_path(): c for c in d.changes}
    env = by_path["govukEnvironment"]
    assert (env.op, env.old, env.new) == ("changed", "staging", "production")
    assert by_path["replicaCount"].new == 3
    # Merge keys come resolved: the wafv2 ARN merged into the backend group changes too.
    assert '_alb-ingress-group-backend["alb.ingress.kubernetes.io/wafv2-acl-arn"]' in by_path
    # govukApplications and extraEnv items are matched by name, not position.
    assert any(p.startswith("govukApplications[name=") and "extraEnv[name=" in p for p in by_path)
    # Deterministic: the same input gives the same list.
    assert diff_file("charts/app-config/values.yaml", staging, production).changes == d.changes


def test_image_tag_json_pointer() -> None:
    d = diff_file("values.yaml", b'image:\n  tag: "1.0.0"\n', b'image:\n  tag: "1.1.0"\n')
    assert [(c.json_pointer(), c.op, c.old, c.new) for c in d.changes] == [("/image/tag", "changed", "1.0.0", "1.1.0")]


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
{containers}
"""
APP = """\
        - name: app
          image: app:{tag}
          ports:
            - containerPort: 8080
            - containerPort: 9090
              protocol: UDP
          volumeMounts:
            - mountPath: /data
              name: data
            - mountPath: /cache
              name: data"""
SIDECAR = """\
        - name: sidecar
          image: envoy:1"""


def test_reordered_containers_show_only_the_image_change() -> None:
    old = DEPLOYMENT.format(containers=APP.format(tag="1") + "\n" + SIDECAR)
    new = DEPLOYMENT.format(containers=SIDECAR + "\n" + APP.format(tag="2"))
    d = diff_file("deploy.yaml", old.encode(), new.encode())
    assert [(c.display_path(), c.json_pointer(), c.op) for c in d.changes] == [
        ("spec.template.spec.containers[name=app].image", "/spec/template/spec/containers/1/image", "changed"),
    ]


def test_ports_and_volume_mounts_match_by_identity() -> None:
    old = DEPLOYMENT.format(containers=APP.format(tag="1"))
    new = (
        old.replace("            - containerPort: 8080\n", "")
        .replace(
            "              protocol: UDP",
            "              protocol: UDP\n            - containerPort: 8080\n              name: http",
        )
        .replace("mountPath: /cache\n              name: data", "mountPath: /cache\n              name: cache")
    )
    d = diff_file("deploy.yaml", old.encode(), new.encode())
    assert sorted(c.display_path() for c in d.changes) == [
        "spec.template.spec.containers[name=app].ports[containerPort=8080,protocol=TCP].name",
        "spec.template.spec.containers[name=app].volumeMounts[mountPath=/cache].name",
    ]


def test_chart_dependencies_match_by_alias_then_name() -> None:
    old = b"""dependencies:
  - name: redis
    alias: cache
    version: 1.0.0
  - name: redis
    alias: queue
    version: 1.0.0
"""
    new = b"""dependencies:
  - name: redis
    alias: queue
    version: 1.0.0
  - name: redis
    alias: cache
    version: 1.1.0
"""
    d = diff_file("apps/x/Chart.yaml", old, new)
    assert [c.display_path() for c in d.changes] == ["dependencies[alias=cache].version"]


def test_ordered_list_reports_moved_and_changed() -> None:
    d = diff_file("v.yaml", b"args: [a, b, c, d]\n", b"args: [d, a, b, x]\n")
    ops = [(c.op, c.json_pointer(), c.old, c.new) for c in d.changes]
    assert ("moved", "/args/0", 3, 0) in ops
    assert ("removed", "/args/2", "c", None) in ops or ("changed", "/args/3", "c", "x") in ops
    assert len(ops) == 2


def test_formatting_only_edits() -> None:
    base = b"a:\n  b: [1, 2]\n  c: 'x'  # comment\n"
    for edited in (
        b"a:\n    b: [1, 2]\n    c: 'x'  # comment\n",  # re-indent
        b'a:\n  b: [1, 2]\n  c: "x"  # comment\n',  # re-quote
        b"# header\na:\n  b:\n    - 1\n    - 2\n  c: x\n",  # comments and block style
    ):
        d = diff_file("values.yaml", base, edited)
        assert d.formatting_only and d.changes == [] and d.errors == []
    assert not diff_file("values.yaml", base, base).formatting_only


def test_type_changes_are_changes() -> None:
    d = diff_file("v.yaml", b"a: 1\nb: 'true'\n", b"a: '1'\nb: true\n")
    assert [(c.json_pointer(), c.old, c.new) for c in d.changes] == [("/a", 1, "1"), ("/b", "true", True)]


def test_multi_document_matching() -> None:
    old = b"""apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: ClusterIP}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {replicas: 1}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: gone}
"""
    new = b"""apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {replicas: 2}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: ClusterIP}
---
plain: document
"""
    d = diff_file("all.yaml", old, new)
    got = [(c.display_path(), c.op) for c in d.changes]
    assert got == [
        ("Deployment/shop/web.spec.replicas", "changed"),
        ("#2", "added"),
        ("ConfigMap/gone", "removed"),
    ]
    assert d.changes[0].json_pointer() == "/Deployment~1shop~1web/spec/replicas"


def test_duplicate_keys_are_reported_with_line() -> None:
    d = diff_file("v.yaml", None, b"a: 1\nb:\n  c: 1\n  c: 2\n")
    assert len(d.errors) == 1
    assert "duplicate key 'c'" in d.errors[0].message
    assert d.errors[0].location is not None and d.errors[0].location.line == 4


def test_merge_keys_are_not_duplicates() -> None:
    data = b"base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  x: 3\n"
    d = diff_file("v.yaml", data, data.replace(b"x: 3", b"x: 4"))
    assert d.errors == []
    assert [(c.display_path(), c.new) for c in d.changes] == [("child.x", 4)]


def test_billion_laughs_is_refused() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb = ("\n".join(lines) + "\n").encode()
    d = diff_file("bomb.yaml", None, bomb)
    assert d.errors and "1,000,000" in d.errors[0].message
    assert d.changes == []


def test_recursive_alias_is_refused() -> None:
    d = diff_file("r.yaml", None, b"a: &a [*a]\n")
    assert d.errors and "recursive" in d.errors[0].message


def test_yaml_11_vs_12_notes() -> None:
    d = diff_file("v.yaml", b"x: 1\n", b"x: 1\nenabled: on\nmode: 0644\nquoted: 'on'\n")
    assert len(d.notes) == 2
    assert "enabled" in d.notes[0] and "YAML 1.1" in d.notes[0] and "YAML 1.2" in d.notes[0]
    assert "mode" in d.notes[1] and "420" in d.notes[1] and "644" in d.notes[1]


def test_templates_are_text_and_binaries_are_sizes() -> None:
    base = CORPUS / "env-values/aws-samples-eks-blueprints-workloads/teams/team-burnham"
    dev = (base / "dev/templates/deployment.yaml").read_bytes()
    prod = (base / "prod/templates/deployment.yaml").read_bytes()
    d = diff_file("chart/templates/deployment.yaml", dev, prod)
    assert d.kind == "text" and d.changes == []
    assert d.text_diff.startswith("--- a/chart/templates/deployment.yaml\n+++ b/")
    assert "\n-            - containerPort: 80\n+          - containerPort: 80\n" in d.text_diff
    b = diff_file("logo.png", b"\x89PNG\0\0", b"\x89PNG\0\0\0")
    assert b.kind == "binary" and b.binary_summary == "binary, 6 bytes → 7 bytes"


def test_change_paths_escape() -> None:
    c = Change(["metadata", "annotations", "a.b/c~d"], "changed")
    assert c.json_pointer() == "/metadata/annotations/a.b~1c~0d"
    assert c.display_path() == 'metadata.annotations["a.b/c~d"]'
    assert Change([], "added").display_path() == "(root)"


_text = st.text(st.characters(exclude_categories=("Cs", "Cc", "Co", "Cn")), max_size=8)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), _text)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(_values, _values)
def test_property_self_diff_empty_and_diff_nonempty_iff_different(a: object, b: object) -> None:
    import json

    def dump(v: object) -> bytes:
        # JSON is YAML; no \\u escapes (libyaml does not join surrogate pairs).
        return json.dumps({"root": v}, ensure_ascii=False).encode()

    assert diff_file("p.yaml", dump(a), dump(a)).changes == []
    d = diff_file("p.yaml", dump(a), dump(b), show_secrets=True)
    assert d.errors == []
    assert (d.changes == []) == (dump(a) == dump(b) or json.loads(dump(a)) == json.loads(dump(b)) and _same_types(a, b))


def _same_types(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_types(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_types(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b)
