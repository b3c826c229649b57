"""env_specific patterns (issue 12): validated in full when the registry is read (exit 2 with
file:line in every command, never exit 4), matched in time linear in path x pattern (a dozen
`**` once hung a promotion), the same answers as the regex translation; a registry of more
than MAX_ENVIRONMENTS environments is refused quickly, and one of 1,000 parses in linear time.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml
from conftest import REGISTRY, make_gitops_repo, run_cli, standard_files
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_promote.core.paths import EnvSpecificPaths, compile_glob, glob_to_regex, pattern_problem
from gitops_promote.core.registry import MAX_ENVIRONMENTS, parse_registry
from gitops_promote.errors import ConfigError

BAD_PATTERNS = ["apps/[a/b]/x.yaml", "apps/]x[/v.yaml", "apps/[]/v.yaml", "apps/[z-a]/v.yaml", "apps/[!]/v.yaml"]
COMMANDS = [
    ("promote", "dev", "stg", "--dry-run"),
    ("diff", "dev", "stg"),
    ("plan", "dev", "stg"),
    ("status",),
    ("parity",),
    ("validate",),
]


def registry_with(patterns: list[str]) -> str:
    doc = yaml.safe_load(REGISTRY)
    doc["promotion"]["env_specific"] = [*doc["promotion"].get("env_specific", []), *patterns]
    return yaml.safe_dump(doc, sort_keys=False)


@pytest.mark.parametrize("pattern", BAD_PATTERNS)
def test_bad_class_is_refused_at_registry_read(pattern: str) -> None:
    assert pattern_problem(pattern) is not None
    with pytest.raises(ConfigError) as caught:
        parse_registry(registry_with([pattern]))
    assert re.search(r"environments\.yaml:\d+", str(caught.value)), str(caught.value)


@pytest.mark.parametrize("pattern", BAD_PATTERNS)
def test_every_command_exits_2_on_a_bad_pattern(tmp_path: Path, pattern: str) -> None:
    files = standard_files()
    files["environments.yaml"] = registry_with([pattern])
    repo = make_gitops_repo(tmp_path / "repo", files, bare=True)
    repo.commit("dev", {"apps/api/values.yaml": "replicas: 2\n"})
    for args in COMMANDS:
        result = run_cli(repo.path, *args)
        assert result.exit_code == 2, (args, result.exit_code, result.stderr)
        assert "Traceback" not in result.stderr
        assert re.search(r"environments\.yaml:\d+", result.stderr), (args, result.stderr)


def test_many_double_stars_and_a_deep_path_do_not_hang(tmp_path: Path) -> None:
    hostile = "/".join(["**"] * 16) + "/x.yaml"
    files = standard_files()
    files["environments.yaml"] = registry_with([hostile, "a/**/b/**/c/**/d/**/e.yaml"])
    repo = make_gitops_repo(tmp_path / "repo", files, bare=True)
    deep = "/".join(["d"] * 120)
    repo.commit("dev", {f"{deep}/y.yaml": "a: 1\n", f"{deep}/x.yaml": "a: 1\n"})
    start = time.monotonic()
    result = run_cli(repo.path, "promote", "dev", "stg", "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - start < 10
    actions = {f["path"]: f["action"] for f in result.json()["files"]}
    assert actions[f"{deep}/y.yaml"] == "added"
    assert f"{deep}/x.yaml" not in actions or actions[f"{deep}/x.yaml"] != "added"  # env-specific: not promoted


def test_matching_is_linear_in_path_and_pattern() -> None:
    pattern = "/".join(["**"] * 40) + "/x.yaml"
    path = "/".join(["d"] * 2000) + "/y.yaml"
    owned = EnvSpecificPaths((pattern, "*a*a*a*a*a*a*a*a*b/**"), "dev")
    start = time.monotonic()
    assert not owned.owns(path)
    assert not owned.owns("a" * 5000 + "/x")
    assert time.monotonic() - start < 1


COMPONENTS = st.sampled_from(["a", "b", "*", "?", "[ab]", "[!a]", "a*", "*b", "[a-b]*", "**"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(COMPONENTS, min_size=1, max_size=5).map("/".join),
    st.lists(st.text("ab", min_size=1, max_size=3), min_size=1, max_size=6).map("/".join),
)
def test_matcher_agrees_with_the_regex_translation(pattern: str, path: str) -> None:
    expected = re.fullmatch(glob_to_regex(pattern), path, re.DOTALL) is not None
    assert compile_glob(pattern).matches(path) == expected, (pattern, path)
    assert EnvSpecificPaths((pattern,), "dev").owns(path) == expected


def environments(n: int) -> str:
    envs = [{"codename": f"e{i}", "branch": f"e{i}"} for i in range(n)]
    return yaml.safe_dump({"environments": envs, "promotion": {"order": [e["codename"] for e in envs]}})


def test_max_environments_parses_quickly() -> None:
    text = environments(MAX_ENVIRONMENTS)
    start = time.monotonic()
    registry = parse_registry(text)
    assert len(registry.ordered()) == MAX_ENVIRONMENTS
    assert registry.upstream_of(f"e{MAX_ENVIRONMENTS - 1}") == registry.get(f"e{MAX_ENVIRONMENTS - 2}")
    assert time.monotonic() - start < 3


@pytest.mark.parametrize("n", [MAX_ENVIRONMENTS + 1, 50_000])
def test_too_many_environments_exit_2_quickly(tmp_path: Path, n: int) -> None:
    registry = tmp_path / "environments.yaml"
    registry.write_text(environments(n))
    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    start = time.monotonic()
    result = run_cli(repo.path, "envs", "--registry", str(registry))
    assert result.exit_code == 2, result.stderr
    assert "at most" in result.stderr and "Traceback" not in result.stderr
    assert time.monotonic() - start < 5
