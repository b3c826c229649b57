"""The registry: the reference file parses; every kind of mistake is reported with its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REGISTRY, GitopsRepo, make_gitops_repo, run_cli

from gitops_promote.core.registry import parse_registry
from gitops_promote.errors import ConfigError


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_registry(text, "environments.yaml")
    return [str(p) for p in info.value.problems] or [info.value.message]


def test_reference_registry_parses() -> None:
    registry = parse_registry(REGISTRY)
    assert registry.order == ("dev", "stg", "prd")
    assert [e.branch for e in registry.environments] == ["dev", "stg", "prd"]
    prd = registry.get("prd")
    assert prd is not None and prd.availability == "99.5%" and prd.backups.enabled
    assert registry.allowed_steps() == [("dev", "stg"), ("stg", "prd")]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    audience: [devops, developers]",
            "    audiance: [devops]",
            "environments.yaml:7:5: unknown key 'audiance'",
        ),
        ("  - codename: stg", "  - name_only: stg", "environments.yaml:11:5: environment without 'codename'"),
        ("  - codename: stg", "  - codename: dev", "duplicate codename 'dev'"),
        ("    branch: dev ", "    branch: stg ", "duplicate branch 'stg'"),
        (
            "  order: [dev, stg, prd]",
            "  order: [dev, stg, qa, prd]",
            "environments.yaml:24:21: 'promotion.order' names unknown environment 'qa'",
        ),
        ("  order: [dev, stg, prd]", "  order: [dev, prd]", "'promotion.order' leaves out stg"),
        (
            '    availability: "90%"',
            '    availability: "ninety"',
            "environments.yaml:14:5: invalid availability 'ninety'",
        ),
        ('    availability: "90%"', '    availability: "120%"', "invalid availability '120%'"),
        ("    branch: dev ", "    branch: dev..x ", "invalid branch name 'dev..x'"),
        ("    branch: dev ", "    branch: -dev ", "invalid branch name '-dev'"),
        (
            '    - "apps/*/values-{env}.yaml"',
            '    - "../apps/*/values-{env}.yaml"',
            "environments.yaml:26:7: env_specific pattern '../apps/*/values-{env}.yaml'",
        ),
        ('    - "apps/*/values-{env}.yaml"', '    - "/etc/values-{env}.yaml"', "is absolute"),
        (
            "    persistence: ephemeral\n    backups: false                  # or",
            "    persistence: forever\n    backups: false                  # or",
            "invalid persistence 'forever'",
        ),
    ],
)
def test_each_mistake_is_reported_with_its_line(old: str, new: str, expected: str) -> None:
    assert old in REGISTRY
    found = problems(REGISTRY.replace(old, new, 1))
    assert any(expected in p for p in found), found


def test_unknown_key_suggests_the_right_one() -> None:
    found = problems(REGISTRY.replace("    audience: [devops, developers]", "    audiance: [devops]"))
    assert any("did you mean 'audience'" in p for p in found)


def test_every_problem_is_reported_at_once() -> None:
    text = REGISTRY.replace('"90%"', '"ninety"').replace("  order: [dev, stg, prd]", "  order: [dev, prd]")
    assert len(problems(text)) == 2


def test_duplicate_key_and_syntax_errors_have_lines() -> None:
    dup = REGISTRY.replace("    name: Staging\n", "    name: Staging\n    name: Again\n")
    assert any("environments.yaml:13:5" in p and "duplicate key" in p for p in problems(dup))
    broken = REGISTRY.replace("  order: [dev, stg, prd]", "  order: [dev, stg, prd")
    assert any("environments.yaml:" in p and "not valid YAML" in p for p in problems(broken))


def test_not_a_mapping() -> None:
    assert any("must be a mapping" in p for p in problems("- just\n- a list\n"))


def test_bom_and_crlf_registry_parses() -> None:
    text = "\ufeff" + REGISTRY.replace("\n", "\r\n")
    assert parse_registry(text.encode("utf-8")).order == ("dev", "stg", "prd")


def test_cli_reports_invalid_registry_with_exit_2(tmp_path: Path) -> None:
    bad = REGISTRY.replace('"99.5%"', "lots")
    repo = make_gitops_repo(tmp_path / "r", {"environments.yaml": bad, "apps/a/values.yaml": "a: 1\n"})
    result = run_cli(repo.path, "envs", "--registry", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2 and "cannot read registry" in result.stderr
    result = run_cli(repo.path, "promote", "dev", "stg")
    assert result.exit_code == 2
    assert "dev:environments.yaml:20:5: invalid availability 'lots'" in result.stderr
    assert "Traceback" not in result.stderr


def test_envs_text_and_json(gitops_repo: GitopsRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # xdist workers may say 80: 12-character ids from 100 columns on
    result = run_cli(gitops_repo.path, "envs", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert [e["codename"] for e in data["environments"]] == ["dev", "stg", "prd"]
    assert data["environments"][0]["head"] == gitops_repo.head("dev")
    assert data["environments"][2]["backups"] == {"enabled": True, "policy": "TBD"}
    text = run_cli(gitops_repo.path, "envs")
    assert "Production" in text.stdout and "99.5%" in text.stdout and gitops_repo.head("prd")[:12] in text.stdout


def test_no_registry_anywhere(tmp_path: Path) -> None:
    repo = make_gitops_repo(tmp_path / "r", {"README.md": "x\n"})
    result = run_cli(repo.path, "promote", "dev", "stg")
    assert result.exit_code == 2 and "no environments.yaml found" in result.stderr
