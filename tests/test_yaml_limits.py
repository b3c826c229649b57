"""One YAML loader's limits everywhere (issue 12): a billion-laughs values file never hangs
`validate --worktree` (the node loader had no alias limit), 4,300+-digit integers and
impossible dates are per-file problems, and an invalid values.schema.json is a finding —
never exit 4 or a traceback, in any command that reads YAML.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from conftest import GitopsRepo, git, run_cli
from reliability_checks import gitops_argv

from gitops_promote.adapters.yaml_nodes import YamlSyntaxError, load_documents
from gitops_promote.core import yamlload

SCHEMA = json.dumps({"type": "object", "properties": {"replicaCount": {"type": "integer"}}})


def billion_laughs() -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        text += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    return text


@pytest.fixture
def repo(tmp_path: Path) -> GitopsRepo:
    assert run_cli(tmp_path, "init", "repo", "--apps", "web,api").exit_code == 0
    return GitopsRepo(tmp_path / "repo")


def commit_all(repo: GitopsRepo, message: str) -> None:
    git(repo.path, "add", "-A")
    git(repo.path, "commit", "-q", "-m", message)


def test_billion_laughs_values_with_a_schema_does_not_hang_validate_worktree(repo: GitopsRepo) -> None:
    (repo.path / "apps/web/values.schema.json").write_text(SCHEMA)
    (repo.path / "apps/web/values.yaml").write_text(billion_laughs())
    start = time.monotonic()
    proc = subprocess.run(  # noqa: S603
        gitops_argv(repo.path, "validate", "--worktree", "-o", "json"), capture_output=True, timeout=60, check=False
    )
    assert time.monotonic() - start < 30
    assert proc.returncode == 1, proc.stderr.decode()
    [report] = json.loads(proc.stdout)["environments"]
    bombs = [f for f in report["findings"] if f["file"] == "apps/web/values.yaml"]
    assert bombs and "billion laughs" in bombs[0]["message"] and bombs[0]["line"] == 1


@pytest.mark.parametrize(
    "values",
    ["replicaCount: " + "9" * 4400 + "\n", "releaseDate: 2024-02-30\n", "when: 2024-13-01 10:00:00\n"],
    ids=["big-int", "bad-date", "bad-timestamp"],
)
def test_odd_scalars_are_problems_not_crashes(repo: GitopsRepo, values: str) -> None:
    git(repo.path, "checkout", "-q", "dev")
    path = repo.path / "apps/web/values.yaml"
    path.write_text(path.read_text() + values)
    (repo.path / "apps/web/values.schema.json").write_text(SCHEMA)
    commit_all(repo, "odd scalar")
    for args in (
        ("diff", "dev", "stg", "-o", "json"),
        ("diff", "dev", "stg", "-o", "text"),
        ("validate", "-o", "json"),
        ("plan", "dev", "stg", "-o", "json"),
        ("promote", "dev", "stg", "--dry-run", "-o", "json"),
        ("parity", "-o", "json"),
        ("status", "-o", "json"),
    ):
        result = run_cli(repo.path, *args)
        assert result.exit_code in (0, 1), (args, result.stderr)
        assert "Traceback" not in result.stderr
    report = run_cli(repo.path, "diff", "dev", "stg", "-o", "json").json()
    [web] = [f for f in report["files"] if f["path"] == "apps/web/values.yaml"]
    if "9999" in values:
        assert any("digits" in e["message"] for e in web["errors"])
    else:
        assert any("not a valid date" in e["message"] for e in web["errors"])


def test_invalid_values_schema_is_a_finding(repo: GitopsRepo) -> None:
    (repo.path / "apps/web/values.schema.json").write_text(json.dumps({"type": "objectt"}))
    path = repo.path / "apps/web/values.yaml"
    path.write_text(path.read_text() + "dbPassword: hunter2-in-values\n")
    result = run_cli(repo.path, "validate", "--worktree", "-o", "json")
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr and "hunter2" not in result.stdout + result.stderr
    [report] = result.json()["environments"]
    [finding] = [f for f in report["findings"] if f["rule"] == "helm-values-schema"]
    assert finding["file"] == "apps/web/values.schema.json"
    assert "not a valid schema (at type" in finding["message"]


def test_node_loader_limits() -> None:
    with pytest.raises(YamlSyntaxError, match="billion laughs") as bomb:
        load_documents(billion_laughs())
    assert bomb.value.line == 1
    with pytest.raises(YamlSyntaxError, match="4,400 digits") as big:
        load_documents("a: 1\nb: " + "1" * 4400)
    assert big.value.line == 2
    with pytest.raises(YamlSyntaxError, match="MiB"):
        load_documents("a: " + "x" * (yamlload.MAX_FILE_BYTES + 1))
    assert load_documents("d: 2024-02-30")[0].data == {"d": "2024-02-30"}


def test_diff_loader_limits() -> None:
    big = yamlload.load("v.yaml", b"a: " + b"x" * (yamlload.MAX_FILE_BYTES + 1))
    assert big.fatal and "MiB" in big.problems[0].message
    date = yamlload.load("v.yaml", b"d: 2024-02-30\n")
    assert not date.fatal and date.documents == [{"d": "2024-02-30"}]
    assert str(date.problems[0].location) == "v.yaml:1:4"
