"""`gitops status`: heads, last promotions, pending and drift of every environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import GitopsRepo, RemoteSetup, git, make_gitops_repo, run_cli, standard_files


def prd_registry(extra: str) -> str:
    """The standard registry with `extra` (indented YAML lines) added to prd's entry."""
    registry = str(standard_files()["environments.yaml"])
    anchor = "    backups: {enabled: true, policy: TBD}\n"
    assert registry.count(anchor) == 1
    return registry.replace(anchor, anchor + extra)


@pytest.fixture
def busy_repo(tmp_path: Path) -> GitopsRepo:
    """dev promoted to stg once, then more work on dev, and a hotfix made directly on prd."""
    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    repo.commit("dev", {"apps/api/values.yaml": "image:\n  tag: '1.1.0'\n"}, "api 1.1.0")
    assert run_cli(repo.path, "promote", "dev", "stg").exit_code == 0
    repo.commit("dev", {"apps/web/values.yaml": "image:\n  tag: '2.1.0'\n"}, "web 2.1.0")
    repo.commit("dev", {"apps/web/Chart.yaml": "name: web\nversion: 0.2.0\n"}, "web chart 0.2.0")
    repo.commit("prd", {"apps/api/templates/service.yaml": "# hotfix\n"}, "hotfix straight on prd")
    return repo


def test_status_json_shows_every_environment(busy_repo: GitopsRepo) -> None:
    result = run_cli(busy_repo.path, "status", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    envs = {e["codename"]: e for e in data["environments"]}
    assert list(envs) == ["dev", "stg", "prd"]
    for name in envs:
        assert envs[name]["head"]["sha"] == busy_repo.head(name)  # full commit ids
    assert envs["prd"]["availability"] == "99.5%" and envs["prd"]["backups"]["enabled"] is True

    # dev has no upstream
    assert envs["dev"]["pending"] is None and envs["dev"]["last_promotion"] is None

    # stg: promoted once from dev; two dev commits (two files) pending since
    last = envs["stg"]["last_promotion"]
    assert last["commit"] == busy_repo.head("stg")
    assert last["source"] == "dev" and len(last["source_commit"]) == 40
    assert last["author"].startswith("Test Author")
    pending = envs["stg"]["pending"]
    assert pending["upstream"] == "dev"
    assert [c["subject"] for c in pending["commits"]] == ["web chart 0.2.0", "web 2.1.0"]
    assert {f["path"] for f in pending["files"]} == {"apps/web/values.yaml", "apps/web/Chart.yaml"}
    assert envs["stg"]["drift"] == []

    # prd: never promoted into; its hotfix is drift against stg
    assert envs["prd"]["last_promotion"] is None
    assert envs["prd"]["drift"] == [{"path": "apps/api/templates/service.yaml", "commits": [busy_repo.head("prd")]}]
    assert envs["prd"]["freeze"] == {"frozen": False, "current": [], "next": None}


def test_status_text_is_one_table(busy_repo: GitopsRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # xdist workers say 80; a release manager's terminal is wider
    result = run_cli(busy_repo.path, "status")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for text in ("dev", "stg", "prd", "Production", "99.5%", busy_repo.head("prd")[:12], "2 files, 2 commits"):
        assert text in out
    assert "1 path" in out  # prd's drift count in the table
    assert "drift: apps/api/templates/service.yaml" in out  # and the path below it


def test_status_reads_the_remote(remote_setup: RemoteSetup) -> None:
    """Heads come from the remote (fetched), not from stale local branches."""
    new = remote_setup.remote.commit("dev", {"apps/api/values.yaml": "image:\n  tag: '9'\n"}, "api 9")
    result = run_cli(remote_setup.clone.path, "status", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["remote"] == "origin"
    dev, stg = data["environments"][0], data["environments"][1]
    assert dev["head"]["sha"] == new and dev["ref"] == "refs/remotes/origin/dev"
    assert [c["sha"] for c in stg["pending"]["commits"]] == [new]


def test_status_tolerates_a_missing_branch(tmp_path: Path) -> None:
    repo = make_gitops_repo(tmp_path / "repo")
    git(repo.path, "update-ref", "-d", "refs/heads/prd")
    result = run_cli(repo.path, "status", "-o", "json")
    assert result.exit_code == 0, result.stderr
    prd = result.json()["environments"][2]
    assert prd["head"] is None and prd["pending"] is None


def test_status_shows_current_and_next_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = prd_registry(
        "    freeze:\n"
        '      - {from: "2026-12-24T00:00:00Z", to: "2026-12-27T00:00:00Z", reason: holidays}\n'
        '      - weekly: {from: "Fri 16:00", to: "Mon 08:00", timezone: Europe/Berlin}\n'
    )
    repo = make_gitops_repo(tmp_path / "repo", standard_files() | {"environments.yaml": registry}, bare=True)
    monkeypatch.setenv("GITOPS_NOW", "2026-12-25T10:00:00Z")  # a Friday, inside the holidays
    data = run_cli(repo.path, "status", "-o", "json").json()
    prd = data["environments"][2]["freeze"]
    assert prd["frozen"] is True
    reasons = {o["window"]["reason"] for o in prd["current"]}
    assert "holidays" in reasons
    assert prd["next"]["start"] == "2026-12-25T15:00:00Z"  # Fri 16:00 Berlin (CET) = 15:00 UTC
    monkeypatch.setenv("COLUMNS", "200")
    text = run_cli(repo.path, "status").stdout
    assert "FROZEN until" in text and "holidays" in text

    monkeypatch.setenv("GITOPS_NOW", "2026-12-01T10:00:00Z")  # a Tuesday
    prd = run_cli(repo.path, "status", "-o", "json").json()["environments"][2]["freeze"]
    assert prd["frozen"] is False and prd["current"] == []
    assert prd["next"]["start"] == "2026-12-04T15:00:00Z"
    assert "next:" in run_cli(repo.path, "status").stdout
