"""`gitops validate`: branches read from git objects, findings with file and line, exit codes,
text / JSON / GitHub annotation output, and the working-tree mode for pre-commit hooks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import GitopsRepo, git, init_repo, run_cli

from gitops_promote.core.validation import Finding
from gitops_promote.render.validate import annotation

CORPUS = Path(__file__).parent / "data" / "corpus" / "charts"
ENVS = ("dev", "stg", "prd")


@pytest.fixture
def repo(tmp_path: Path) -> GitopsRepo:
    assert run_cli(tmp_path, "init", "repo", "--apps", "web,api").exit_code == 0
    return GitopsRepo(tmp_path / "repo")


def text_of(repo: GitopsRepo, rev: str, path: str) -> str:
    return repo.read(rev, path).decode()


def findings(result_json: dict, env: str) -> list[dict]:  # type: ignore[type-arg]
    [report] = [e for e in result_json["environments"] if e["env"] == env]
    return report["findings"]  # type: ignore[no-any-return]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_clean_repository_exits_0_with_json_shape(repo: GitopsRepo) -> None:
    result = run_cli(repo.path, "validate", "-o", "json")
    assert result.exit_code == 0
    data = result.json()
    assert set(data) == {"schema", "environments", "errors", "warnings", "notices"}
    assert data["schema"] == 1 and data["errors"] == 0
    assert [e["env"] for e in data["environments"]] == list(ENVS)
    for report in data["environments"]:
        assert set(report) == {
            "env",
            "branch",
            "commit",
            "ref",
            "registry",
            "errors",
            "warnings",
            "notices",
            "findings",
        }
        assert report["commit"] == repo.head(report["branch"])
        assert report["findings"] == []


def test_application_in_stg_tracking_dev(repo: GitopsRepo) -> None:
    bad = text_of(repo, "stg", "argocd/stg/apps/web.yaml").replace("targetRevision: stg", "targetRevision: dev")
    repo.commit("stg", {"argocd/stg/apps/web.yaml": bad})
    result = run_cli(repo.path, "validate", "-o", "json")
    assert result.exit_code == 1
    [finding] = findings(result.json(), "stg")
    assert finding["rule"] == "argocd-target-revision" and finding["severity"] == "error"
    assert finding["file"] == "argocd/stg/apps/web.yaml"
    assert finding["line"] == line_of(bad, "targetRevision: dev")
    assert "targetRevision: stg" in finding["hint"]
    assert findings(result.json(), "dev") == [] and findings(result.json(), "prd") == []


def test_another_environments_manifest_is_checked_against_its_owner(repo: GitopsRepo) -> None:
    """argocd/prd/ on the dev branch belongs to prd: tracking dev there is a mistake too."""
    bad = text_of(repo, "dev", "argocd/prd/root.yaml").replace("targetRevision: prd", "targetRevision: dev")
    repo.commit("dev", {"argocd/prd/root.yaml": bad})
    result = run_cli(repo.path, "validate", "dev", "-o", "json")
    assert result.exit_code == 1
    [finding] = findings(result.json(), "dev")
    assert finding["file"] == "argocd/prd/root.yaml" and "belongs to environment prd" in finding["message"]


def test_values_schema_violation_in_env_file(repo: GitopsRepo) -> None:
    schema = json.dumps({"type": "object", "properties": {"replicaCount": {"type": "integer", "minimum": 1}}})
    values_stg = text_of(repo, "stg", "apps/web/values-stg.yaml").replace("replicaCount: 2", 'replicaCount: "two"')
    repo.commit("stg", {"apps/web/values.schema.json": schema, "apps/web/values-stg.yaml": values_stg})
    result = run_cli(repo.path, "validate", "stg")
    assert result.exit_code == 1
    line = line_of(values_stg, "replicaCount")
    assert f"apps/web/values-stg.yaml:{line}:" in result.stdout
    assert "[helm-values-schema]" in result.stdout and "hint:" in result.stdout


def test_real_chart_schema_violation_in_env_file(repo: GitopsRepo) -> None:
    """bitnami/nginx's own values.schema.json, with a bad replicaCount in values-stg.yaml."""
    chart = {
        f"apps/nginx/{n}": (CORPUS / "nginx" / n).read_bytes()
        for n in ("Chart.yaml", "values.yaml", "values.schema.json")
    }
    app = text_of(repo, "stg", "argocd/stg/apps/web.yaml").replace("web", "nginx")
    env_values = {f"apps/nginx/values-{env}.yaml": "replicaCount: 1\n" for env in ENVS}
    env_values["apps/nginx/values-stg.yaml"] = "# staging\nreplicaCount: many\n"
    repo.commit("stg", {**chart, **env_values, "argocd/stg/apps/nginx.yaml": app})
    result = run_cli(repo.path, "validate", "stg", "-o", "json")
    errors = [f for f in findings(result.json(), "stg") if f["severity"] == "error"]
    assert result.exit_code == 1
    assert [(f["rule"], f["file"], f["line"]) for f in errors] == [
        ("helm-values-schema", "apps/nginx/values-stg.yaml", 2)
    ]


def test_application_missing_a_required_field(repo: GitopsRepo) -> None:
    text = text_of(repo, "prd", "argocd/prd/apps/api.yaml")
    bad = text.replace("  destination:\n    server: https://kubernetes.default.svc\n    namespace: api\n", "")
    assert bad != text
    repo.commit("prd", {"argocd/prd/apps/api.yaml": bad})
    result = run_cli(repo.path, "validate", "prd", "-o", "json")
    assert result.exit_code == 1
    [finding] = findings(result.json(), "prd")
    assert finding["rule"] == "argocd-schema"
    assert "spec.destination is required" in finding["message"]
    assert finding["file"] == "argocd/prd/apps/api.yaml" and finding["line"] == line_of(bad, "spec:")


def test_persistence_in_an_ephemeral_environment(repo: GitopsRepo) -> None:
    values = text_of(repo, "stg", "apps/api/values-stg.yaml") + "persistence:\n  enabled: true\n"
    repo.commit("stg", {"apps/api/values-stg.yaml": values})
    result = run_cli(repo.path, "validate", "-o", "json")
    assert result.exit_code == 1
    [finding] = findings(result.json(), "stg")
    assert finding["rule"] == "persistence-ephemeral"
    assert (finding["file"], finding["line"]) == ("apps/api/values-stg.yaml", line_of(values, "enabled: true"))
    assert result.json()["errors"] == 1


def test_warnings_alone_exit_0(repo: GitopsRepo) -> None:
    text = text_of(repo, "dev", "argocd/dev/apps/web.yaml").replace(
        "  project: default\n", "  project: default\n  projekt: x\n"
    )
    repo.commit("dev", {"argocd/dev/apps/web.yaml": text})
    result = run_cli(repo.path, "validate", "-o", "json")
    assert result.exit_code == 0
    assert result.json()["warnings"] == 1
    assert findings(result.json(), "dev")[0]["rule"] == "argocd-unknown-field"


def test_invalid_registry_on_a_branch_exits_2(repo: GitopsRepo) -> None:
    repo.commit(
        "prd",
        {
            "environments.yaml": text_of(repo, "prd", "environments.yaml").replace(
                "persistence: ephemeral", "persistence: forever", 1
            )
        },
    )
    result = run_cli(repo.path, "validate", "prd")
    assert result.exit_code == 2
    assert "prd:environments.yaml" in result.stderr and "forever" in result.stderr


def test_unknown_environment_exits_2(repo: GitopsRepo) -> None:
    result = run_cli(repo.path, "validate", "stage")
    assert result.exit_code == 2 and "did you mean 'stg'" in result.stderr


def test_reads_git_objects_not_the_working_tree(repo: GitopsRepo) -> None:
    (repo.path / "argocd/dev/apps/web.yaml").write_text("not: [valid\n")
    assert run_cli(repo.path, "validate").exit_code == 0


def test_github_annotations(repo: GitopsRepo) -> None:
    bad = text_of(repo, "stg", "argocd/stg/apps/web.yaml").replace("targetRevision: stg", "targetRevision: dev")
    repo.commit("stg", {"argocd/stg/apps/web.yaml": bad})
    result = run_cli(repo.path, "validate", "-o", "github")
    assert result.exit_code == 1
    first, summary = result.stdout.splitlines()
    line = line_of(bad, "targetRevision: dev")
    assert first.startswith(f"::error file=argocd/stg/apps/web.yaml,line={line},col=")
    assert ",title=argocd-target-revision (stg)::[stg] spec.source tracks 'dev'" in first
    assert summary.startswith("validation failed")


def test_github_output_cannot_be_injected() -> None:
    evil = Finding(
        "yaml-parse",
        "error",
        "a,b:c%\n::add-mask::x.yaml",
        3,
        1,
        "bad\r\n::set-env name=X::1 100%",
        "fix\n::stop-commands::t",
    )
    text = annotation(evil, "dev")
    assert "\n" not in text and "\r" not in text
    assert text.startswith(
        "::error file=a%2Cb%3Ac%25%0A%3A%3Aadd-mask%3A%3Ax.yaml,line=3,col=1,title=yaml-parse (dev)::"
    )
    assert text.endswith("::[dev] bad%0D%0A::set-env name=X::1 100%25 (hint: fix%0A::stop-commands::t)")


def test_github_output_with_hostile_file_names(repo: GitopsRepo) -> None:
    """A file name with a newline and `::` in the repository: every line stays ours."""
    name = "argocd/dev/apps/x\n::error::pwned.yaml"
    repo.commit("dev", {name: "a: [unclosed\n", "argocd/dev/apps/y.yaml": "key: 1\nkey: 2\n"})
    result = run_cli(repo.path, "validate", "dev", "-o", "github")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert all(line.startswith("::error file=") for line in lines[:2])
    assert not lines[2].startswith("::")
    assert "x%0A%3A%3Aerror%3A%3Apwned.yaml" in result.stdout
    plain = run_cli(repo.path, "validate", "dev")
    assert not any(line.lstrip().startswith("::") for line in plain.stdout.splitlines())


# ---- remotes --------------------------------------------------------------------------------


def test_remote_tracking_branches_fetched_and_never_pushed(tmp_path: Path) -> None:
    remote = init_repo(tmp_path / "remote.git", bare=True)
    assert run_cli(tmp_path, "init", "repo", "--remote", str(remote)).exit_code == 0
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--branch", "dev", str(remote), str(clone))
    server = GitopsRepo(remote)
    bad = server.read("stg", "argocd/stg/apps/web.yaml").decode().replace("targetRevision: stg", "targetRevision: prd")
    heads = {b: server.head(b) for b in ENVS}
    server.commit("stg", {"argocd/stg/apps/web.yaml": bad})
    stale = run_cli(clone, "validate", "--no-fetch")
    assert stale.exit_code == 0  # origin/stg as last fetched
    fresh = run_cli(clone, "validate", "-o", "json")
    assert fresh.exit_code == 1
    assert findings(fresh.json(), "stg")[0]["rule"] == "argocd-target-revision"
    assert {b: server.head(b) for b in ("dev", "prd")} == {b: heads[b] for b in ("dev", "prd")}


# ---- working tree ---------------------------------------------------------------------------


def test_worktree_validates_the_checked_out_environment(repo: GitopsRepo) -> None:
    assert run_cli(repo.path, "validate", "--worktree").exit_code == 0
    path = repo.path / "argocd/dev/apps/web.yaml"
    path.write_text(path.read_text().replace("targetRevision: dev", "targetRevision: stg"))
    (repo.path / "argocd/dev/apps/new.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: new}\n"
    )
    result = run_cli(repo.path, "validate", "--worktree", "-o", "json")
    assert result.exit_code == 1
    [report] = result.json()["environments"]
    assert (report["env"], report["commit"], report["ref"]) == ("dev", None, "worktree")
    found = {(f["rule"], f["file"]) for f in report["findings"]}
    assert ("argocd-target-revision", "argocd/dev/apps/web.yaml") in found
    assert ("argocd-schema", "argocd/dev/apps/new.yaml") in found  # untracked files count


def test_worktree_ignores_deleted_and_ignored_files(repo: GitopsRepo) -> None:
    (repo.path / "argocd/dev/apps/api.yaml").unlink()
    (repo.path / ".gitignore").write_text("scratch/\n")
    (repo.path / "scratch").mkdir()
    (repo.path / "scratch/broken.yaml").write_text("a: [\n")
    assert run_cli(repo.path, "validate", "--worktree").exit_code == 0


def test_worktree_on_a_feature_branch_needs_an_environment(repo: GitopsRepo) -> None:
    git(repo.path, "checkout", "--quiet", "-b", "feature/x")
    result = run_cli(repo.path, "validate", "--worktree")
    assert result.exit_code == 2
    assert "gitops validate --worktree ENV" in result.stderr
    assert run_cli(repo.path, "validate", "--worktree", "dev").exit_code == 0


def test_worktree_from_a_subdirectory(repo: GitopsRepo) -> None:
    result = run_cli(repo.path / "apps" / "web", "validate", "--worktree", "-o", "json")
    assert result.exit_code == 0
    paths = result.json()["environments"][0]
    assert paths["registry"] == "environments.yaml"
