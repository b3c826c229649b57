"""`--app`: promote some apps, not the whole branch (docs/per-app.md). Real git repositories."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import GitopsRepo, RemoteSetup, git, run_cli

from gitops_promote.adapters.git import Repository
from gitops_promote.adapters.scaffold import set_branch

API_11 = "image:\n  repository: ghcr.io/example/api\n  tag: '1.1.0'\n"
API_12 = "image:\n  repository: ghcr.io/example/api\n  tag: '1.2.0'\n"
WEB_21 = "image:\n  repository: ghcr.io/example/web\n  tag: '2.1.0'\n"
WEB_22 = "image:\n  repository: ghcr.io/example/web\n  tag: '2.2.0'\n"
WEB_HOTFIX = "image:\n  repository: ghcr.io/example/web\n  tag: '2.0.1-hotfix'\n"


def argo(app: str, env: str, revision: str = "HEAD") -> str:
    return f"apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {app}-{env}\n# {revision}\n"


@pytest.fixture
def repo(gitops_repo: GitopsRepo) -> GitopsRepo:
    """Both apps with an Argo CD Application per environment; dev then changes both apps."""
    manifests = {
        f"argocd/{env}/apps/{app}.yaml": argo(app, env) for env in ("dev", "stg", "prd") for app in ("api", "web")
    }
    # One commit for all three branches: three identical commits made in different seconds
    # would be three commits, and the test would depend on the clock.
    shared = gitops_repo.commit("dev", manifests, "Argo CD Applications")
    with Repository(gitops_repo.path) as git_repo:
        for branch in ("stg", "prd"):
            set_branch(git_repo, branch, shared)
    gitops_repo.commit(
        "dev",
        {
            "apps/api/values.yaml": API_11,
            "apps/web/values.yaml": WEB_21,
            "argocd/stg/apps/api.yaml": argo("api", "stg", "v2"),
            "argocd/stg/apps/web.yaml": argo("web", "stg", "v2"),
            "README.md": "# changed on dev\n",
        },
        "api 1.1.0, web 2.1.0",
    )
    return gitops_repo


def test_promoting_one_app_changes_only_its_paths(repo: GitopsRepo) -> None:
    before = repo.tree("stg")
    result = run_cli(repo.path, "promote", "dev", "stg", "--app", "api", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["apps"] == ["apps/api"]
    assert sorted(f["path"] for f in data["files"]) == ["apps/api/values.yaml", "argocd/stg/apps/api.yaml"]
    after, dev = repo.tree("stg"), repo.tree("dev")
    changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
    assert changed == {"apps/api/values.yaml", "argocd/stg/apps/api.yaml"}
    assert after["apps/api/values.yaml"] == dev["apps/api/values.yaml"]
    assert after["apps/web/values.yaml"] == before["apps/web/values.yaml"]
    message = git(repo.path, "log", "-1", "--format=%B", "stg")
    assert message.startswith(f"Promote dev {repo.head('dev')[:7]} to stg (apps/api)")
    assert message.rstrip().endswith(
        f"Promoted-From: dev\nPromoted-Commit: {repo.head('dev')}\nPromoted-Apps: apps/api"
    )
    # only the apps it carried: not a merge of all of dev
    assert git(repo.path, "rev-list", "--parents", "-n1", "stg").split()[1:] == [data["target_commit_before"]]


def test_app_by_directory_by_name_and_several(repo: GitopsRepo) -> None:
    by_dir = run_cli(repo.path, "plan", "dev", "stg", "--app", "apps/api/", "-o", "json")
    by_name = run_cli(repo.path, "plan", "dev", "stg", "--app", "api", "-o", "json")
    assert by_dir.exit_code == by_name.exit_code == 0
    assert by_dir.json()["files"] == by_name.json()["files"]
    both = run_cli(repo.path, "plan", "dev", "stg", "--app", "web", "--app", "api", "-o", "json").json()
    assert both["apps"] == ["apps/api", "apps/web"]
    assert "README.md" not in [f["path"] for f in both["files"]]


def test_an_unknown_app_is_a_usage_error_listing_the_apps(repo: GitopsRepo) -> None:
    result = run_cli(repo.path, "promote", "dev", "stg", "--app", "apx")
    assert result.exit_code == 2
    assert "unknown app 'apx'" in result.stderr
    assert "did you mean 'api'?" in result.stderr and "apps: apps/api, apps/web" in result.stderr


def test_status_and_parity_show_what_is_pending_per_app_and_no_false_drift(repo: GitopsRepo) -> None:
    assert run_cli(repo.path, "promote", "dev", "stg", "--app", "api").exit_code == 0
    status = run_cli(repo.path, "status", "-o", "json").json()
    stg = next(e for e in status["environments"] if e["codename"] == "stg")
    assert stg["pending"]["apps"] == {"apps/web": 2} and stg["drift"] == []
    assert stg["last_promotion"]["apps"] == ["apps/api"]
    text = run_cli(repo.path, "status")
    assert "stg: pending from dev per app: apps/web (2 file(s))" in text.stdout
    parity = run_cli(repo.path, "parity", "-o", "json")
    assert parity.exit_code == 0, parity.stdout
    cells = parity.json()["apps"]
    assert cells["apps/api"]["stg"]["state"] == "same" and cells["apps/web"]["stg"]["state"] == "pending"

    # the apps left behind follow later, without drift: by app, then the whole branch
    web = run_cli(repo.path, "promote", "dev", "stg", "--app", "web", "-o", "json")
    assert web.exit_code == 0, web.stderr
    assert web.json()["drift"] == []
    full = run_cli(repo.path, "promote", "dev", "stg", "-o", "json")
    assert full.exit_code == 0, full.stderr
    assert [f["path"] for f in full.json()["files"] if f["action"] != "kept"] == ["README.md"]
    dev, stg_tree = repo.tree("dev"), repo.tree("stg")
    assert {p: e for p, e in stg_tree.items() if "values-" not in p} == {
        p: e for p, e in dev.items() if "values-" not in p
    }


def test_the_drift_guard_is_per_app(repo: GitopsRepo) -> None:
    repo.commit("stg", {"apps/web/values.yaml": WEB_HOTFIX}, "hotfix web on stg")
    api = run_cli(repo.path, "promote", "dev", "stg", "--app", "api")
    assert api.exit_code == 0, api.stderr  # web's hotfix does not block api
    assert repo.read("stg", "apps/web/values.yaml") == WEB_HOTFIX.encode()
    # the hotfix came before the partial promotion: promoting web, or everything, still sees it
    for args in (("--app", "web"), ()):
        refused = run_cli(repo.path, "promote", "dev", "stg", *args)
        assert refused.exit_code == 1, refused.stderr
        assert "apps/web/values.yaml" in refused.stderr
    assert run_cli(repo.path, "status", "-o", "json").json()["environments"][1]["drift"][0]["path"] == (
        "apps/web/values.yaml"
    )


def test_history_marks_a_partial_promotion_and_rollback_restores_exactly_its_apps(
    repo: GitopsRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # a wide table: every column shown in full
    assert run_cli(repo.path, "promote", "dev", "stg").exit_code == 0  # api 1.1.0, web 2.1.0
    repo.commit("dev", {"apps/api/values.yaml": API_12, "apps/web/values.yaml": WEB_22}, "api 1.2.0, web 2.2.0")
    assert run_cli(repo.path, "promote", "dev", "stg", "--app", "api").exit_code == 0
    repo.commit("stg", {"apps/web/values.yaml": WEB_HOTFIX}, "hotfix web on stg")
    history = run_cli(repo.path, "history", "stg", "-o", "json").json()["entries"]
    assert [e["apps"] for e in history if e["kind"] == "promotion"][:2] == [["apps/api"], None]
    assert "promotion (partial)" in run_cli(repo.path, "history", "stg").stdout

    result = run_cli(repo.path, "rollback", "stg", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["apps"] == ["apps/api"]
    assert [f["path"] for f in data["files"]] == ["apps/api/values.yaml"]
    assert repo.read("stg", "apps/api/values.yaml") == API_11.encode()  # back to the full promotion's
    assert repo.read("stg", "apps/web/values.yaml") == WEB_HOTFIX.encode()  # web never moved: untouched
    assert "Only apps/api" in git(repo.path, "log", "-1", "--format=%B", "stg")


def test_diff_dry_run_and_saved_plan_honour_the_scope(repo: GitopsRepo, tmp_path: Path) -> None:
    diff = run_cli(repo.path, "diff", "dev", "stg", "--app", "web", "-o", "json")
    assert diff.exit_code == 0, diff.stderr
    assert {f["path"] for f in diff.json()["files"]} == {"apps/web/values.yaml", "argocd/stg/apps/web.yaml"}
    head = repo.head("stg")
    dry = run_cli(repo.path, "promote", "dev", "stg", "--app", "web", "--dry-run", "-o", "json")
    assert dry.exit_code == 0 and dry.json()["apps"] == ["apps/web"] and repo.head("stg") == head

    saved = tmp_path / "plan.json"
    plan = run_cli(repo.path, "plan", "dev", "stg", "--app", "web", "--save", str(saved))
    assert plan.exit_code == 0 and "--plan" in plan.stderr and "--app apps/web" in plan.stderr
    mismatch = run_cli(repo.path, "promote", "dev", "stg", "--plan", str(saved), "--app", "api")
    assert mismatch.exit_code == 2 and "disagree" in mismatch.stderr
    applied = run_cli(repo.path, "promote", "dev", "stg", "--plan", str(saved), "-o", "json")
    assert applied.exit_code == 0, applied.stderr
    assert applied.json()["apps"] == ["apps/web"]
    assert repo.read("stg", "apps/web/values.yaml") == WEB_21.encode()
    assert repo.read("stg", "apps/api/values.yaml") != API_11.encode()


def test_pr_carries_only_the_apps(remote_setup: RemoteSetup) -> None:
    remote = remote_setup.remote
    remote.commit("dev", {"apps/api/values.yaml": API_11, "apps/web/values.yaml": WEB_21}, "both")
    stg = remote.head("stg")
    result = run_cli(remote_setup.clone.path, "promote", "dev", "stg", "--app", "api", "--pr", "-o", "json")
    assert result.exit_code == 0, result.stderr
    review = remote.head("promote/dev-to-stg")
    assert remote.head("stg") == stg
    assert remote.read(review, "apps/api/values.yaml") == API_11.encode()
    assert remote.read(review, "apps/web/values.yaml") == remote.read(stg, "apps/web/values.yaml")
    assert "Promoted-Apps: apps/api" in git(remote.path, "log", "-1", "--format=%B", review)


def test_the_commits_listed_are_those_that_changed_the_apps(repo: GitopsRepo) -> None:
    web_only = repo.commit("dev", {"apps/web/values.yaml": WEB_22}, "web 2.2.0")
    api = run_cli(repo.path, "plan", "dev", "stg", "--app", "api", "-o", "json").json()
    full = run_cli(repo.path, "plan", "dev", "stg", "-o", "json").json()
    assert web_only in [c["sha"] for c in full["commits"]]
    assert [c["subject"] for c in api["commits"]] == ["api 1.1.0, web 2.1.0"]


@pytest.mark.parametrize(
    ("apps", "message"),
    [(["../etc"], "which is not an app directory"), (["-x"], "which is not an app directory"),
     ("apps/api", "must be null or a list"), (["apps/nope"], "unknown app 'apps/nope'")],
)  # fmt: skip
def test_a_saved_plans_apps_are_checked(repo: GitopsRepo, tmp_path: Path, apps: object, message: str) -> None:
    import json

    saved = tmp_path / "plan.json"
    assert run_cli(repo.path, "plan", "dev", "stg", "--app", "api", "--save", str(saved)).exit_code == 0
    data = json.loads(saved.read_text())
    data["apps"] = apps
    saved.write_text(json.dumps(data))
    head = repo.head("stg")
    result = run_cli(repo.path, "promote", "--plan", str(saved))
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert repo.head("stg") == head


def test_verify_and_attest_recompute_a_partial_promotion_for_its_apps(repo: GitopsRepo, tmp_path: Path) -> None:
    """The audit applies the commit's Promoted-Apps scope, as promote did: no false tree-mismatch."""
    assert run_cli(repo.path, "promote", "dev", "stg", "--app", "api").exit_code == 0
    verified = run_cli(repo.path, "verify", "stg", "-o", "json")
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    statement = tmp_path / "statement.json"
    attested = run_cli(repo.path, "attest", "stg", "--file", str(statement))
    assert attested.exit_code == 0, attested.stderr
    assert statement.read_text().count("apps/web") == 0


@pytest.mark.parametrize("name", ["a*b", "a[b]", "a?b", "a\\b", ":(top)ab"])
def test_a_name_with_glob_or_magic_characters_names_only_that_app(gitops_repo: GitopsRepo, name: str) -> None:
    """--app by name is found by git's search for `<dir>/<name>/Chart.yaml`: the name is
    matched literally (no wildcard, no pathspec magic), nested apps and vendored subcharts
    included the way the listing counts them."""
    repo = gitops_repo
    chart = "apiVersion: v2\nname: x\nversion: 0.1.0\n"
    apps = {f"apps/{name}/Chart.yaml": chart, "apps/ab/Chart.yaml": chart, "apps/aXb/Chart.yaml": chart}
    apps |= {"apps/ab/charts/dep/Chart.yaml": chart}  # vendored: part of apps/ab
    repo.commit("dev", {**apps, f"apps/{name}/values.yaml": "x: 1\n", "apps/ab/values.yaml": "y: 2\n"}, "odd names")
    planned = run_cli(repo.path, "plan", "dev", "stg", "--app", name, "-o", "json")
    assert planned.exit_code == 0, planned.stderr
    assert planned.json()["apps"] == [f"apps/{name}"]
    assert run_cli(repo.path, "plan", "dev", "stg", "--app", "dep").exit_code == 2  # a vendored subchart


def test_glob_files_finds_files_in_a_sha256_repository(tmp_path: Path) -> None:
    path = tmp_path / "repo.git"
    path.mkdir()
    git(path, "init", "-q", "--bare", "--object-format=sha256")
    from gitops_promote.adapters.scaffold import commit_files

    with Repository(path) as opened:
        commit = commit_files(
            opened, {"a/api/Chart.yaml": b"x", "api/Chart.yaml": b"y", "b/web/Chart.yaml": b"z"}, [], "c"
        )
        assert opened.glob_files(commit, ["**/api/Chart.yaml"]) == ["a/api/Chart.yaml", "api/Chart.yaml"]


@pytest.mark.parametrize("variable", ["GIT_GLOB_PATHSPECS", "GIT_NOGLOB_PATHSPECS", "GIT_ICASE_PATHSPECS"])
def test_a_pathspec_setting_of_the_users_does_not_break_gitops(
    repo: GitopsRepo, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """git refuses to combine gitops's literal pathspecs with these: they are not inherited."""
    monkeypatch.setenv(variable, "1")
    planned = run_cli(repo.path, "plan", "dev", "stg", "--app", "api", "-o", "json")
    assert planned.exit_code == 0, planned.stderr
    assert planned.json()["apps"] == ["apps/api"]


def test_status_counts_an_application_file_for_its_app_found_by_name(repo: GitopsRepo) -> None:
    """An Application file (`argocd/<env>/apps/<name>.yaml`) belongs to the app of that name:
    status finds it by git's search for `**/<name>/Chart.yaml`, as the listing would."""
    from gitops_promote.commands._engine import PromotionRequest, apps_holding, prepare
    from gitops_promote.core.apps import discover, group_by_app

    repo.commit("dev", {"argocd/stg/apps/web.yaml": argo("web", "stg", "v2"), "services/web/Chart.yaml": "v: 1\n"}, "x")
    stg = next(e for e in run_cli(repo.path, "status", "-o", "json").json()["environments"] if e["codename"] == "stg")
    with Repository(repo.path) as opened:
        prepared = prepare(opened, PromotionRequest("dev", "stg", None, None, None, False))
        changed = [a.path for a in prepared.plan.actions if a.action != "kept"]
        listed = group_by_app(changed, discover(prepared.source_tree, prepared.target_tree))
        assert group_by_app(changed, apps_holding(prepared, changed)) == listed
    expected = {app: len(paths) for app, paths in listed.items() if app}
    assert stg["pending"]["apps"] == expected and expected["apps/web"] >= 2  # its values and its Application
