"""`gitops init`: a repository that validates, promotes, and bootstraps Argo CD per environment."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import GitopsRepo, git, init_repo, run_cli
from gitdaemon import GitDaemon

from gitops_promote.core.forge import parse_repo_url
from gitops_promote.core.registry import parse_registry
from gitops_promote.core.scaffold_repo import PLACEHOLDER_REPO_URL, repository_files
from gitops_promote.core.validation import validate_tree

ENVS = ("dev", "stg", "prd")


def init(tmp_path: Path, *args: str, name: str = "repo") -> GitopsRepo:
    result = run_cli(tmp_path, "init", name, *args)
    assert result.exit_code == 0, result.stderr
    return GitopsRepo(tmp_path / name)


def docs(repo: GitopsRepo, rev: str, path: str) -> list[dict]:  # type: ignore[type-arg]
    return list(yaml.safe_load_all(repo.read(rev, path)))


def test_init_creates_branches_with_dev_checked_out(tmp_path: Path) -> None:
    repo = init(tmp_path)
    heads = {b: repo.head(b) for b in ENVS}
    assert len(set(heads.values())) == 1
    assert git(repo.path, "symbolic-ref", "HEAD") == "refs/heads/dev"
    assert git(repo.path, "status", "--porcelain") == ""
    assert (repo.path / "argocd/stg/root.yaml").is_file()
    tree = repo.tree("dev")
    for app in ("web", "api"):
        for name in ("Chart.yaml", "values.yaml", "templates/deployment.yaml", "templates/service.yaml"):
            assert f"apps/{app}/{name}" in tree
        for env in ENVS:
            assert f"apps/{app}/values-{env}.yaml" in tree
            assert f"argocd/{env}/apps/{app}.yaml" in tree
    assert "argocd/stg/apps/pr-previews.yaml" in tree
    registry = parse_registry(repo.read("dev", "environments.yaml"))
    assert "argocd/{env}/**" in registry.env_specific


def test_each_environment_tracks_its_own_branch(tmp_path: Path) -> None:
    repo = init(tmp_path, "--apps", "shop")
    for env in ENVS:
        [root] = docs(repo, "dev", f"argocd/{env}/root.yaml")
        assert root["kind"] == "Application"
        assert root["spec"]["source"]["targetRevision"] == env
        assert root["spec"]["source"]["path"] == f"argocd/{env}/apps"
        [child] = docs(repo, "dev", f"argocd/{env}/apps/shop.yaml")
        assert child["spec"]["source"]["targetRevision"] == env
        assert child["spec"]["source"]["path"] == "apps/shop"
        assert child["spec"]["source"]["helm"]["valueFiles"] == ["values.yaml", f"values-{env}.yaml"]
        assert child["spec"]["source"]["repoURL"] == PLACEHOLDER_REPO_URL
    assert "CHANGE ME" in repo.read("dev", "argocd/dev/root.yaml").decode()
    readme = repo.read("dev", "README.md").decode()
    assert "kubectl apply -n argocd -f -" in readme and "gitops promote dev stg" in readme
    assert PLACEHOLDER_REPO_URL in readme


def test_chart_templates_use_the_values(tmp_path: Path) -> None:
    repo = init(tmp_path, "--apps", "web")
    deployment = repo.read("dev", "apps/web/templates/deployment.yaml").decode()
    for used in (
        ".Values.replicaCount",
        ".Values.image.repository",
        ".Values.image.tag",
        ".Values.resources",
        ".Values.env",
    ):
        assert used in deployment
    assert ".Values.service.port" in repo.read("dev", "apps/web/templates/service.yaml").decode()


def test_manifests_validate_against_the_argocd_schemas(tmp_path: Path) -> None:
    """Every generated file, for every forge shape of the pull-request generator."""
    for url in (PLACEHOLDER_REPO_URL, "https://github.com/acme/gitops.git", "git@gitlab.com:acme/team/gitops.git"):
        files = {k: v.encode() for k, v in repository_files(["web", "api"], url, url == PLACEHOLDER_REPO_URL).items()}
        registry = parse_registry(files["environments.yaml"])
        for env in ENVS:
            assert validate_tree(files, registry, env) == [], (url, env)


def test_pull_request_previews_in_staging(tmp_path: Path) -> None:
    repo = init(tmp_path, "--repo-url", "https://github.com/acme/gitops.git")
    [appset] = docs(repo, "stg", "argocd/stg/apps/pr-previews.yaml")
    assert appset["kind"] == "ApplicationSet"
    pull_request, apps = appset["spec"]["generators"][0]["matrix"]["generators"]
    assert pull_request["pullRequest"]["github"] == {"owner": "acme", "repo": "gitops"}
    assert pull_request["pullRequest"]["filters"] == [{"targetBranchMatch": "^dev$"}]
    # the apps at the pull request's head: a pull request adding an app previews it too
    assert apps["git"]["revision"] == "{{ .head_sha }}"
    assert apps["git"]["directories"] == [{"path": "apps/*"}]
    template = appset["spec"]["template"]["spec"]
    assert template["destination"]["namespace"] == "preview-pr-{{ .number }}"
    assert template["source"]["targetRevision"] == "{{ .head_sha }}"
    assert template["source"]["helm"]["valueFiles"] == ["values.yaml", "values-stg.yaml"]
    assert not any(
        p.endswith("pr-previews.yaml") for p in repo.tree("dev") if p.startswith(("argocd/dev/", "argocd/prd/"))
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/gitops.git", ("github.com", "acme", "gitops")),
        ("git@github.com:acme/gitops.git", ("github.com", "acme", "gitops")),
        ("ssh://git@gitea.example.com:2222/org/gitops", ("gitea.example.com", "org", "gitops")),
        ("/srv/git/gitops.git", None),
    ],
)
def test_parse_repo_url(url: str, expected: tuple[str, str, str] | None) -> None:
    found = parse_repo_url(url)
    assert (found and (found.host, found.owner, found.name)) == expected


def test_validate_passes_on_every_branch_and_promotion_works(tmp_path: Path) -> None:
    repo = init(tmp_path)
    assert run_cli(repo.path, "validate").exit_code == 0
    assert run_cli(repo.path, "promote", "dev", "stg").exit_code == 0  # nothing to promote yet
    # work on dev: a new image tag and a change to dev's own Argo CD manifest
    values = repo.read("dev", "apps/web/values.yaml").decode().replace('tag: "1.27-alpine"', 'tag: "1.27.3-alpine"')
    web_dev = (
        repo.read("dev", "argocd/dev/apps/web.yaml")
        .decode()
        .replace("  name: web\n", "  name: web\n  labels:\n    team: web\n")
    )
    repo.commit("dev", {"apps/web/values.yaml": values, "argocd/dev/apps/web.yaml": web_dev}, "web 1.27.3")
    stg_own = repo.read("stg", "argocd/stg/apps/web.yaml")
    promoted = run_cli(repo.path, "promote", "dev", "stg", "-o", "json")
    assert promoted.exit_code == 0, promoted.stderr
    assert repo.read("stg", "apps/web/values.yaml").decode() == values
    assert repo.read("stg", "argocd/stg/apps/web.yaml") == stg_own  # stg's manifests are stg's
    assert repo.read("stg", "argocd/dev/apps/web.yaml").decode() == web_dev
    assert run_cli(repo.path, "promote", "stg", "prd").exit_code == 0
    checked = run_cli(repo.path, "validate", "-o", "json")
    assert checked.exit_code == 0, checked.stdout
    assert checked.json()["errors"] == 0 and checked.json()["warnings"] == 0


def test_new_app_added_on_dev_promotes_and_validates(tmp_path: Path) -> None:
    repo = init(tmp_path, "--apps", "web")
    other = repository_files(["web", "cart"], PLACEHOLDER_REPO_URL, True)
    new = {p: c for p, c in other.items() if "cart" in p}
    repo.commit("dev", new, "cart: new app")
    result = run_cli(repo.path, "promote", "dev", "stg", "-o", "json")
    assert result.exit_code == 0, result.stderr
    seeded = {f["path"] for f in result.json()["files"] if f["action"] == "seeded"}
    assert {"apps/cart/values-stg.yaml", "argocd/stg/apps/cart.yaml"} <= seeded
    assert run_cli(repo.path, "validate").exit_code == 0


def test_remote_gets_every_branch(tmp_path: Path) -> None:
    remote = init_repo(tmp_path / "remote.git", bare=True)
    repo = init(tmp_path, "--remote", str(remote))
    for env in ENVS:
        assert git(remote, "rev-parse", f"refs/heads/{env}") == repo.head(env)
        assert git(repo.path, "rev-parse", f"refs/remotes/origin/{env}") == repo.head(env)
        assert git(repo.path, "config", f"branch.{env}.remote") == "origin"
    [child] = docs(repo, "dev", "argocd/prd/apps/web.yaml")
    assert child["spec"]["source"]["repoURL"] == str(remote)  # --repo-url defaults to --remote
    checked = run_cli(repo.path, "validate", "-o", "json")
    assert checked.exit_code == 0
    assert [e["ref"] for e in checked.json()["environments"]] == [f"refs/remotes/origin/{e}" for e in ENVS]
    assert run_cli(repo.path, "promote", "dev", "stg").exit_code == 0


def test_repo_url_overrides_the_remote(tmp_path: Path) -> None:
    remote = init_repo(tmp_path / "remote.git", bare=True)
    repo = init(tmp_path, "--remote", str(remote), "--repo-url", "https://github.com/acme/gitops.git")
    [child] = docs(repo, "dev", "argocd/dev/apps/api.yaml")
    assert child["spec"]["source"]["repoURL"] == "https://github.com/acme/gitops.git"
    assert "CHANGE ME" not in repo.read("dev", "argocd/dev/apps/api.yaml").decode()


def test_existing_remote_branch_is_never_overwritten(tmp_path: Path) -> None:
    remote = init_repo(tmp_path / "remote.git", bare=True)
    init(tmp_path, "--remote", str(remote), name="first")
    before = git(remote, "rev-parse", "refs/heads/dev")
    # other apps: two inits within the same second would otherwise write identical commits
    result = run_cli(tmp_path, "init", "second", "--remote", str(remote), "--apps", "other")
    assert result.exit_code == 2
    assert "already has the branch(es) dev, prd, stg" in result.stderr and "git clone" in result.stderr
    assert git(remote, "rev-parse", "refs/heads/dev") == before
    assert not (tmp_path / "second").exists()  # a failed init leaves nothing behind


def test_the_remote_head_points_at_dev_so_a_clone_checks_it_out(tmp_path: Path) -> None:
    remote = init_repo(tmp_path / "remote.git", bare=True)  # HEAD -> main, which will never exist
    repo = init(tmp_path, "--remote", str(remote))
    assert git(remote, "symbolic-ref", "HEAD") == "refs/heads/dev"
    assert git(repo.path, "symbolic-ref", "refs/remotes/origin/HEAD") == "refs/remotes/origin/dev"
    git(tmp_path, "clone", "--quiet", str(remote), "cloned")
    assert git(tmp_path / "cloned", "branch", "--show-current") == "dev"


def test_a_server_whose_head_cannot_be_set_gets_a_note(tmp_path: Path, git_daemon: GitDaemon) -> None:
    name = f"init-note-{tmp_path.name}.git"
    init_repo(git_daemon.path(name), bare=True)  # its HEAD names main; git cannot change it remotely
    result = run_cli(tmp_path, "init", "repo", "--remote", git_daemon.url(name))
    assert result.exit_code == 0, result.stderr
    assert "the remote's default branch is" in result.stderr and "make dev the default branch" in result.stderr
    assert run_cli(tmp_path, "init", "json", "--remote", git_daemon.url(name)).exit_code == 2  # branches exist now


def test_a_failed_push_leaves_nothing_behind(tmp_path: Path, git_daemon: GitDaemon) -> None:
    name = f"init-refused-{tmp_path.name}.git"
    remote = init_repo(git_daemon.path(name), bare=True)
    hook = remote / "hooks" / "pre-receive"  # the server refuses every push
    hook.write_text("#!/bin/sh\necho 'refused by policy' >&2\nexit 1\n")
    hook.chmod(0o755)
    (tmp_path / "empty").mkdir()
    result = run_cli(tmp_path, "init", "empty", "--remote", git_daemon.url(name))
    assert result.exit_code == 3, result.stderr
    assert "refused by policy" in result.stderr and "nothing was created" in result.stderr
    assert list((tmp_path / "empty").iterdir()) == []  # emptied again, not removed: it was given
    assert git(remote, "for-each-ref") == ""
    assert run_cli(tmp_path, "init", "fresh", "--remote", git_daemon.url(name)).exit_code == 3
    assert not (tmp_path / "fresh").exists()  # created by init, so removed


def test_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine\n")
    result = run_cli(tmp_path, "init", "busy")
    assert result.exit_code == 2
    assert "not empty" in result.stderr
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["notes.txt"]


def test_an_empty_directory_is_fine(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    init(tmp_path, name="empty")


@pytest.mark.parametrize("apps", ["Web", "-x", "a_b", ",", "x" * 41])
def test_refuses_invalid_app_names(tmp_path: Path, apps: str) -> None:
    result = run_cli(tmp_path, "init", "repo", "--apps", apps)
    assert result.exit_code == 2, result.stderr
    assert not (tmp_path / "repo").exists()


def test_apps_comma_separated_or_repeated(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "init", "repo", "--apps", "a,b", "--apps", "c,a", "-o", "json")
    assert result.exit_code == 0
    assert result.json()["apps"] == ["a", "b", "c"]


def test_refuses_option_like_remote(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "init", "repo", "--remote=--upload-pack=touch /tmp/x")
    assert result.exit_code == 2


def test_without_identity_leaves_the_directory_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(key, raising=False)
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tuseConfigOnly = true\n")  # no identity guessed from the host name
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    (tmp_path / "repo").mkdir()
    result = run_cli(tmp_path, "init", "repo")
    assert result.exit_code == 2
    assert "git has no identity to record as the author of the repository's first commit" in result.stderr
    assert "promotion" not in result.stderr and 'git config --global user.name "Your Name"' in result.stderr
    assert list((tmp_path / "repo").iterdir()) == []


def test_relative_remote_path_is_made_absolute(tmp_path: Path) -> None:
    init_repo(tmp_path / "server.git", bare=True)
    repo = init(tmp_path, "--remote", "server.git")  # relative to -C, like git -C
    assert git(repo.path, "remote", "get-url", "origin") == str((tmp_path / "server.git").resolve())
    assert git(tmp_path / "server.git", "rev-parse", "refs/heads/prd") == repo.head("prd")
