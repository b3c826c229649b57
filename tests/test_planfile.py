"""Tampered plan files (issue 12): `promote --plan` reads at most MAX_PLAN_BYTES, checks every
field it relies on, and exits 2 with a clear message — never exit 4 or an endless read."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import GitopsRepo, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_promote.core import planfile
from gitops_promote.errors import ConfigError


@pytest.fixture
def saved(gitops_repo: GitopsRepo, tmp_path: Path) -> tuple[GitopsRepo, dict[str, Any]]:
    path = tmp_path / "plan.json"
    gitops_repo.commit("dev", {"a.yaml": "a: 1\n"})
    assert run_cli(gitops_repo.path, "plan", "dev", "stg", "--save", str(path)).exit_code == 0
    return gitops_repo, json.loads(path.read_text())


def promote_with(repo: GitopsRepo, tmp_path: Path, content: str | bytes) -> Any:
    path = tmp_path / "tampered.json"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return run_cli(repo.path, "promote", "dev", "stg", "--plan", str(path), "--dry-run")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"source_commit": ["a"]}, "'source_commit' must be a full commit id"),
        ({"target_commit": 123}, "'target_commit' must be a full commit id"),
        ({"source_tip": "abc"}, "'source_tip' must be a full commit id"),
        ({"source_commit": "G" * 40}, "'source_commit' must be a full commit id"),
        ({"source_commit": "a" * 64}, "different lengths"),
        ({"source": {"x": 1}}, "'source' must be an environment codename"),
        ({"target": "--upload-pack=x"}, "'target' must be an environment codename"),
        ({"schema": True}, "unsupported plan schema"),
        ({"schema": 2}, "unsupported plan schema"),
    ],
)
def test_tampered_fields_exit_2(
    saved: tuple[GitopsRepo, dict[str, Any]], tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    repo, plan = saved
    result = promote_with(repo, tmp_path, json.dumps(plan | change))
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[" * 100_000, "not a saved plan"),
        ('{"a":' * 100_000, "nested too deeply"),
        ("[1, 2]", "not a saved plan"),
        ('"plan"', "not a saved plan"),
        ("{not json", "not valid JSON"),
        (b"{\xff}", "not UTF-8"),
        ("", "not valid JSON"),
    ],
)
def test_garbage_plans_exit_2(
    saved: tuple[GitopsRepo, dict[str, Any]], tmp_path: Path, content: str | bytes, message: str
) -> None:
    result = promote_with(saved[0], tmp_path, content)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_dev_zero_and_huge_plans_are_cut_off(saved: tuple[GitopsRepo, dict[str, Any]], tmp_path: Path) -> None:
    start = time.monotonic()
    result = run_cli(saved[0].path, "promote", "dev", "stg", "--plan", "/dev/zero")
    assert result.exit_code == 2 and "not a saved plan" in result.stderr
    huge = tmp_path / "huge.json"
    with huge.open("wb") as fh:
        fh.write(b'{"pad": "')
        fh.truncate(planfile.MAX_PLAN_BYTES + 10)
    result = run_cli(saved[0].path, "promote", "dev", "stg", "--plan", str(huge))
    assert result.exit_code == 2 and "MiB" in result.stderr
    assert time.monotonic() - start < 10


def test_a_plan_from_a_sha256_repository_is_refused_in_a_sha1_one(
    saved: tuple[GitopsRepo, dict[str, Any]], tmp_path: Path
) -> None:
    repo, plan = saved
    fields = {k: plan[k] + "0" * 24 for k in planfile.COMMIT_FIELDS}
    result = promote_with(repo, tmp_path, json.dumps(plan | fields))
    assert result.exit_code == 2, result.stderr
    assert "the object-name length does not match this repository's object format" in result.stderr


def test_the_untampered_plan_still_applies(saved: tuple[GitopsRepo, dict[str, Any]], tmp_path: Path) -> None:
    repo, plan = saved
    assert promote_with(repo, tmp_path, json.dumps(plan)).exit_code == 0


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["schema", "source", "target", *planfile.COMMIT_FIELDS]), JSON))
def test_parse_never_crashes(doc: dict[str, Any]) -> None:
    try:
        fields = planfile.parse(json.dumps(doc).encode(), "plan.json")
    except ConfigError as exc:
        assert "plan.json" in str(exc)
    else:
        assert all(len(getattr(fields, k)) in planfile.OBJECT_ID_LENGTHS for k in planfile.COMMIT_FIELDS)
