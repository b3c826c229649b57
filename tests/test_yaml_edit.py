"""carry_keys: env-specific keys spliced into promoted files, every other byte preserved."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_promote.adapters.yaml_edit import YamlEditError, carry_keys, keys_equal_ignoring
from gitops_promote.errors import RefusedError

GOLDEN = Path(__file__).parent / "data" / "golden" / "carry"
CORPUS = Path(__file__).parent / "data" / "corpus"
KEYS = [
    "spec.source.targetRevision",
    "spec.destination.namespace",
    "spec.source.helm.valueFiles",
    "spec.destination.name",
    "spec.source.helm.releaseName",
]


def golden(name: str) -> bytes:
    return (GOLDEN / name).read_bytes()


def changed_source_lines(before: bytes, after: bytes) -> list[str]:
    a, b = before.decode().splitlines(), after.decode().splitlines()
    opcodes = difflib.SequenceMatcher(None, a, b).get_opcodes()
    return [line for tag, i1, i2, _, _ in opcodes if tag != "equal" for line in a[i1:i2]]


@pytest.mark.parametrize(
    "source,target,expected",
    [
        ("app-dev.yaml", "app-stg.yaml", "app-dev.from-stg.yaml"),  # block list <- flow list; key added
        ("app-stg.yaml", "app-dev.yaml", "app-stg.from-dev.yaml"),  # flow list <- block list, re-indented
        ("multi-dev.yaml", "multi-stg.yaml", "multi-dev.from-stg.yaml"),  # docs paired by kind/name
    ],
)
def test_golden(source: str, target: str, expected: str) -> None:
    result = carry_keys(golden(source), golden(target), KEYS, source)
    assert result == golden(expected)


def test_only_listed_key_lines_differ_and_values_are_the_targets() -> None:
    dev, stg = golden("app-dev.yaml"), golden("app-stg.yaml")
    result = carry_keys(dev, stg, KEYS, "app.yaml")
    assert changed_source_lines(dev, result) == [
        "    targetRevision: dev  # dev tracks dev",
        "      valueFiles:",
        "        - values.yaml",
        "        - values-dev.yaml",
        '    namespace: "guestbook-dev"',
    ]
    data, source_data, target_data = (yaml.safe_load(x) for x in (result, dev, stg))
    assert data["spec"]["source"]["targetRevision"] == "stg"
    assert data["spec"]["destination"] == target_data["spec"]["destination"]  # name added
    assert data["spec"]["syncPolicy"] == source_data["spec"]["syncPolicy"]
    assert b"# Guestbook, dev\n" in result and b"name: guestbook   # app name" in result


def test_key_absent_in_target_is_left_alone() -> None:
    stg = golden("app-stg.yaml")
    result = carry_keys(stg, golden("app-dev.yaml"), ["spec.destination.name"], "app.yaml")
    assert result == stg


def test_no_change_when_values_already_equal() -> None:
    dev = golden("app-dev.yaml")
    assert carry_keys(dev, dev, KEYS, "app.yaml") is dev or carry_keys(dev, dev, KEYS, "app.yaml") == dev


def test_real_operator_manual_application() -> None:
    """Argo CD's annotated application.yaml (comments everywhere, `source` and `sources`)."""
    original = (CORPUS / "argocd-crds/examples/operator-manual/application.yaml").read_bytes()
    stg = original.replace(b"targetRevision: HEAD  # For Helm", b'targetRevision: "stg"  # stg', 1)
    stg = stg.replace(
        b"      valueFiles:\n      - values-prod.yaml\n", b"      valueFiles: [values-stg.yaml, extra.yaml]\n"
    )
    keys = ["spec.source.targetRevision", "spec.source.helm.valueFiles", "spec.sources[*].targetRevision"]
    result = carry_keys(original, stg, keys, "application.yaml")
    assert result == stg  # everything else equal, so the result is the target byte for byte
    back = carry_keys(stg, original, keys, "application.yaml")
    assert back == original
    assert keys_equal_ignoring(original, stg, keys) and not keys_equal_ignoring(original, stg, keys[:1])


def test_crlf_and_bom_are_kept() -> None:
    src = b"\xef\xbb\xbfa: 1\r\nspec:\r\n  rev: dev # c\r\n  keep: x\r\n"
    tgt = b"spec:\n  rev: stg\n  new:\n    - 1\n"
    result = carry_keys(src, tgt, ["spec.rev", "spec.new"], "f.yaml")
    assert result == b"\xef\xbb\xbfa: 1\r\nspec:\r\n  rev: stg\r\n  keep: x\r\n  new:\r\n    - 1\r\n"


def test_nested_missing_parents_are_created() -> None:
    src = b"spec:\n  source:\n    path: a\n  other: 1\n"
    tgt = b"spec:\n    source:\n        helm:\n            valueFiles: [v.yaml]\n"
    result = carry_keys(src, tgt, ["spec.source.helm.valueFiles"], "f.yaml")
    assert result == b"spec:\n  source:\n    path: a\n    helm:\n        valueFiles: [v.yaml]\n  other: 1\n"


def test_refuses_flow_mapping_with_block_value() -> None:
    src = b"spec: {helm: {valueFiles: [a.yaml]}}\n"
    tgt = b"spec:\n  helm:\n    valueFiles:\n      - b.yaml\n"
    with pytest.raises(YamlEditError) as info:
        carry_keys(src, tgt, ["spec.helm.valueFiles"], "apps/x.yaml")
    assert isinstance(info.value, RefusedError)
    assert "apps/x.yaml" in str(info.value) and "spec.helm.valueFiles" in str(info.value)


def test_refuses_alias_values() -> None:
    src = b"base: &b dev\nspec:\n  rev: *b\n"
    tgt = b"spec:\n  rev: stg\n"
    with pytest.raises(YamlEditError, match="alias"):
        carry_keys(src, tgt, ["spec.rev"], "f.yaml")


def test_refuses_anchor_used_elsewhere() -> None:
    src = b"spec:\n  rev: &r dev\nother: *r\n"
    with pytest.raises(YamlEditError):
        carry_keys(src, b"spec:\n  rev: stg\n", ["spec.rev"], "f.yaml")


def test_refuses_unparseable_input_naming_the_file() -> None:
    with pytest.raises(YamlEditError, match="broken.yaml"):
        carry_keys(b"a: [\n", b"a: 1\n", ["a"], "broken.yaml")


def test_keys_equal_ignoring() -> None:
    dev, stg = golden("multi-dev.yaml"), golden("multi-stg.yaml")
    assert not keys_equal_ignoring(dev, stg, KEYS[:2])
    carried = carry_keys(dev, stg, KEYS, "m.yaml")
    assert keys_equal_ignoring(dev, stg, KEYS)  # they differ only in env-specific keys
    assert keys_equal_ignoring(carried, dev, KEYS) and keys_equal_ignoring(carried, stg, KEYS)
    assert not keys_equal_ignoring(dev, stg.replace(b"path: apps/web", b"path: apps/www"), KEYS)
    assert not keys_equal_ignoring(dev, stg.split(b"---")[0], KEYS)  # a document less


@settings(max_examples=150, deadline=None)
@given(
    st.text(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x85\u2028\u2029\ufeff"), max_size=30
    )
)
def test_any_string_value_is_carried_exactly(value: str) -> None:
    src = golden("app-dev.yaml")
    tgt = src.replace(
        b"targetRevision: dev  # dev tracks dev", b"targetRevision: " + json.dumps(value, ensure_ascii=False).encode()
    )
    result = carry_keys(src, tgt, ["spec.source.targetRevision"], "app.yaml")
    assert yaml.safe_load(result)["spec"]["source"]["targetRevision"] == value
    assert len(changed_source_lines(src, result)) <= 1
