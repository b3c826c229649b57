"""`gitops diff` on real repositories: statuses, structural changes, masking, formats, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import GitopsRepo, RemoteSetup, make_gitops_repo, run_cli

SECRET = "hunter2-very-secret"


def scenario(repo: GitopsRepo) -> None:
    web = repo.read("dev", "apps/web/values.yaml").decode()
    reformatted = "# reformatted\n" + web.replace('tag: "2.0.0"', "tag: '2.0.0'   # same value")
    repo.commit("stg", {"apps/api/values-stg.yaml": f"replicaCount: 2\ndb:\n  password: stg-{SECRET}\n"}, "stg")
    repo.commit("dev", {
        "apps/api/values.yaml": "image:\n  repository: ghcr.io/example/api\n  tag: \"1.1.0\"\n",
        "apps/api/values-stg.yaml": f"replicaCount: 9\ndb:\n  password: dev-{SECRET}\n",
        "apps/api/templates/secret.yaml": f"apiVersion: v1\nkind: Secret\nstringData:\n  token: {SECRET}\n",
        "apps/api/templates/service.yaml": "kind: Service\nspec:\n  ports: [{port: 81}]\n",
        "apps/api/config.yaml": f"apiKey: {SECRET}\nlevel: debug\n",
        "apps/web/values.yaml": reformatted,  # same data, other formatting
        "apps/new/Chart.yaml": "apiVersion: v2\nname: new\nversion: 0.1.0\n",
        "apps/new/values-stg.yaml": "replicaCount: 1\n",
        "apps/api/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00binary",
    }, "dev work")  # fmt: skip


def test_json_reports_structural_changes_and_statuses(gitops_repo: GitopsRepo) -> None:
    gitops_repo.commit("dev", {"apps/api/values.yaml": 'image:\n  tag: "1.0.0"\n'}, "pin")
    gitops_repo.commit("stg", {"apps/api/values.yaml": 'image:\n  tag: "1.0.0"\n'}, "pin")
    scenario(gitops_repo)
    result = run_cli(gitops_repo.path, "diff", "dev", "stg", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["schema"] == 1 and data["source"] == "dev" and data["target"] == "stg"
    assert data["source_commit"] == gitops_repo.head("dev") and data["target_commit"] == gitops_repo.head("stg")
    files = {f["path"]: f for f in data["files"]}
    values = files["apps/api/values.yaml"]
    assert values["app"] == "apps/api" and values["status"] == "modified"
    core = [{k: c[k] for k in ("path", "op", "old", "new")} for c in values["changes"]]
    assert {"path": "/image/tag", "op": "changed", "old": "1.0.0", "new": "1.1.0"} in core
    assert files["apps/api/values-stg.yaml"]["status"] == "kept"
    assert not files["apps/api/values-stg.yaml"].get("changes")
    assert files["apps/new/values-stg.yaml"]["status"] == "seeded"
    assert files["apps/web/values.yaml"]["status"] == "formatting-only"
    assert "+  ports: [{port: 81}]" in files["apps/api/templates/service.yaml"]["text_diff"]
    assert list(files) == sorted(files, key=lambda p: (files[p]["app"], p))


def test_no_secret_in_any_format(gitops_repo: GitopsRepo) -> None:
    scenario(gitops_repo)
    for fmt in ("text", "brief", "json", "markdown", "github"):
        result = run_cli(gitops_repo.path, "diff", "dev", "stg", "-o", fmt)
        assert result.exit_code == 0, (fmt, result.stderr)
        assert SECRET not in result.stdout + result.stderr, fmt
    shown = run_cli(gitops_repo.path, "diff", "dev", "stg", "-o", "json", "--show-secrets")
    assert SECRET in shown.stdout
    assert "stg-" + SECRET not in shown.stdout  # the kept env file is never shown


def test_show_secrets_warns_in_ci(gitops_repo: GitopsRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario(gitops_repo)
    monkeypatch.setenv("CI", "true")
    result = run_cli(gitops_repo.path, "diff", "dev", "stg", "-o", "brief", "--show-secrets")
    assert "warning: --show-secrets in CI" in result.stderr


def test_exit_code(gitops_repo: GitopsRepo) -> None:
    assert run_cli(gitops_repo.path, "diff", "dev", "stg", "--exit-code").exit_code == 0
    gitops_repo.commit("dev", {"apps/api/values.yaml": "x: 1\n"})
    assert run_cli(gitops_repo.path, "diff", "dev", "stg", "--exit-code").exit_code == 1
    assert run_cli(gitops_repo.path, "diff", "dev", "stg").exit_code == 0
    assert run_cli(gitops_repo.path, "diff", "dev", "prd", "--exit-code").exit_code == 2  # not ambiguous with 1


def test_github_output_writes_step_summary_and_cannot_be_injected(
    gitops_repo: GitopsRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    gitops_repo.commit("dev", {
        "apps/api/values.yaml": "note: \"x\\n::error::pwned\"\n",
        "apps/api/templates/t.yaml": "line\n::set-output name=x::y\n",
        "::warning::evil.yaml": "a: 1\n",
    }, "hostile")  # fmt: skip
    result = run_cli(gitops_repo.path, "diff", "dev", "stg", "-o", "github")
    assert result.exit_code == 0, result.stderr
    commands = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert commands, result.stdout
    for line in commands:
        assert line.split(" ", 1)[0].split("::")[1] in {"warning", "notice", "error", "group", "endgroup"}, line
        assert "pwned" not in line.split("::", 2)[1]
    assert not any("::set-output" in line.split("::")[1] for line in commands)
    assert "apps/api" in summary.read_text()


def test_markdown_stays_within_max_size_on_a_400_app_change(tmp_path: Path) -> None:
    files: dict[str, str] = {"environments.yaml": (Path(__file__).parent.parent / "environments.yaml").read_text()}
    for i in range(400):
        files[f"apps/app{i:03}/Chart.yaml"] = f"apiVersion: v2\nname: app{i:03}\nversion: 0.1.0\n"
        files[f"apps/app{i:03}/values.yaml"] = "image:\n  tag: '1.0.0'\nreplicas: 1\n"
    repo = make_gitops_repo(tmp_path / "big", files)
    repo.commit(
        "dev",
        {f"apps/app{i:03}/values.yaml": f"image:\n  tag: '1.1.{i}'\nreplicas: 2\n" for i in range(400)},
        "bump all",
    )
    for max_size in (60_000, 10_000, 3_000):
        out = run_cli(repo.path, "diff", "dev", "stg", "-o", "markdown", "--max-size", str(max_size)).stdout
        assert len(out.rstrip("\n")) <= max_size
        assert out.count("<details>") == out.count("</details>")
        assert out.count("```") % 2 == 0


def test_diff_through_remote_uses_remote_commits(remote_setup: RemoteSetup) -> None:
    remote_setup.remote.commit("dev", {"apps/api/values.yaml": "image:\n  tag: remote\n"}, "remote only")
    result = run_cli(remote_setup.clone.path, "diff", "dev", "stg", "-o", "json")
    assert result.exit_code == 0
    assert result.json()["source_commit"] == remote_setup.remote.head("dev")


def test_unparsable_yaml_is_reported_per_file(gitops_repo: GitopsRepo) -> None:
    gitops_repo.commit(
        "dev", {"apps/api/values.yaml": "a: [unclosed\n", "apps/web/values.yaml": "a: 1\nb: 2\n"}, "broken"
    )
    result = run_cli(gitops_repo.path, "diff", "dev", "stg", "-o", "json")
    assert result.exit_code == 0, result.stderr
    files = {f["path"]: f for f in result.json()["files"]}
    assert files["apps/api/values.yaml"]["errors"]
    assert files["apps/web/values.yaml"]["changes"]


def test_identical_environments_diff_cleanly(gitops_repo: GitopsRepo) -> None:
    gitops_repo.commit("stg", {"apps/api/values-stg.yaml": "replicaCount: 3\n"}, "stg only")
    result = run_cli(gitops_repo.path, "diff", "dev", "stg", "-o", "brief", "--exit-code")
    assert result.exit_code == 0, result.stderr
    assert "0 to add, 0 to change, 0 to delete, 1 kept" in result.stdout


def test_only_broken_yaml_exits_3(gitops_repo: GitopsRepo) -> None:
    gitops_repo.commit("dev", {"apps/api/values.yaml": "a: [unclosed\n"}, "broken")
    result = run_cli(gitops_repo.path, "diff", "dev", "stg", "-o", "json")
    assert result.exit_code == 3 and "nothing could be compared" in result.stderr


def test_max_size_below_1000_is_a_usage_error_and_documented(gitops_repo) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    result = run_cli(gitops_repo.path, "diff", "dev", "stg", "--output", "markdown", "--max-size", "999")
    assert result.exit_code == 2 and "999" in result.stderr
    docs = Path(__file__).resolve().parent.parent / "docs"
    for page in ("diff-format.md", "commands/diff.md"):
        text = " ".join((docs / page).read_text().split())
        assert "at least 1000" in text or "smallest accepted is 1000" in text, page
        assert "--json" not in text and "--format" not in text, page
