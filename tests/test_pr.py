"""`gitops promote --pr`: a review branch instead of the target, a compare URL, gh when logged in.

Real git (a bare remote and a clone); the GitHub CLI is a fake script given through GITOPS_GH
that records its arguments: tests never reach the network.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from conftest import RemoteSetup, git, run_cli

from gitops_promote.core.forge import compare_url, parse_remote_url, pr_branch

NEW_API = {"apps/api/values.yaml": "image:\n  repository: ghcr.io/example/api\n  tag: '1.1.0'\n"}


def _point_origin_at(setup: RemoteSetup, url: str) -> None:
    """origin says `url` (a forge) while git really talks to the local bare remote."""
    clone = setup.clone.path
    git(clone, "config", "remote.origin.url", url)
    git(clone, "config", f"url.{setup.remote.path}.insteadOf", url)


def _expected_tree(setup: RemoteSetup, source: str, target: str) -> dict[str, tuple[str, str]]:
    """The rules on the standard repository: the source's files, the target's values-{target}."""
    src, dst = setup.remote.tree(source), setup.remote.tree(target)
    tree = {p: e for p, e in src.items() if not p.endswith(f"/values-{target}.yaml")}
    tree |= {p: e for p, e in dst.items() if p.endswith(f"/values-{target}.yaml")}
    return tree


def test_pr_pushes_the_review_branch_and_leaves_the_target(remote_setup: RemoteSetup) -> None:
    remote = remote_setup.remote
    remote.commit("dev", NEW_API, "api 1.1.0")
    stg_before = remote.head("stg")

    result = run_cli(remote_setup.clone.path, "promote", "dev", "stg", "--pr", "-o", "json")

    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["pr_branch"] == "promote/dev-to-stg"
    assert data["compare_url"] is None  # a local path is no forge
    assert data["pushed"] is True and data["promoted"] is False
    assert remote.head("stg") == stg_before
    commit = remote.head("promote/dev-to-stg")
    assert commit == data["target_commit"]
    parents = git(remote.path, "rev-list", "--parents", "-n1", commit).split()[1:]
    assert parents == [stg_before, remote.head("dev")]


def test_fast_forwarding_the_target_to_the_review_branch_ships_the_planned_tree(
    remote_setup: RemoteSetup,
) -> None:
    remote, clone = remote_setup.remote, remote_setup.clone.path
    remote.commit("dev", NEW_API, "api 1.1.0")
    remote.commit("stg", {"apps/api/values-stg.yaml": "replicas: 3\n"}, "stg: 3 replicas")
    planned = _expected_tree(remote_setup, "dev", "stg")
    assert run_cli(clone, "promote", "dev", "stg", "--pr").exit_code == 0

    git(clone, "fetch", "--quiet", "origin")
    # What "merge with a fast-forward" does on the server; no --force: it must be a fast-forward.
    git(clone, "push", "--quiet", "origin", "refs/remotes/origin/promote/dev-to-stg:refs/heads/stg")

    assert remote.tree("stg") == planned
    assert remote.head("stg") == remote.head("promote/dev-to-stg")
    # Once merged there is nothing left to promote.
    again = run_cli(clone, "promote", "dev", "stg", "--dry-run", "-o", "json").json()
    assert again["target_commit"] == again["target_commit_before"]


def test_a_rerun_force_updates_the_review_branch(remote_setup: RemoteSetup) -> None:
    remote, clone = remote_setup.remote, remote_setup.clone.path
    remote.commit("dev", NEW_API, "api 1.1.0")
    first = run_cli(clone, "promote", "dev", "stg", "--pr", "-o", "json").json()["target_commit"]
    remote.commit("dev", {"apps/web/values.yaml": "replicas: 2\n"}, "web: 2 replicas")

    second = run_cli(clone, "promote", "dev", "stg", "--pr", "-o", "json")

    assert second.exit_code == 0, second.stderr
    commit = second.json()["target_commit"]
    assert commit != first and remote.head("promote/dev-to-stg") == commit
    assert git(remote.path, "rev-parse", f"{commit}^1") == remote.head("stg")
    assert git(clone, "rev-parse", "refs/remotes/origin/promote/dev-to-stg") == commit


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("git@github.com:o/r.git", "https://github.com/o/r/compare/stg...promote/dev-to-stg?expand=1"),
        ("https://github.com/o/r", "https://github.com/o/r/compare/stg...promote/dev-to-stg?expand=1"),
        ("https://github.com/o/r.git", "https://github.com/o/r/compare/stg...promote/dev-to-stg?expand=1"),
        ("ssh://git@github.com/o/r.git", "https://github.com/o/r/compare/stg...promote/dev-to-stg?expand=1"),
        (
            "git@gitlab.com:g/sub/r.git",
            "https://gitlab.com/g/sub/r/-/merge_requests/new?merge_request[source_branch]=promote/dev-to-stg"
            "&merge_request[target_branch]=stg",
        ),
        (
            "https://gitlab.com/g/r.git",
            "https://gitlab.com/g/r/-/merge_requests/new?merge_request[source_branch]=promote/dev-to-stg"
            "&merge_request[target_branch]=stg",
        ),
        ("https://git.example.com/o/r.git", None),
        ("/srv/git/r.git", None),
    ],
)
def test_compare_url_from_remote_url(url: str, expected: str | None) -> None:
    forge = parse_remote_url(url)
    assert (compare_url(forge, "stg", pr_branch("dev", "stg")) if forge else None) == expected


def test_pr_prints_the_compare_url_for_a_github_remote(remote_setup: RemoteSetup) -> None:
    _point_origin_at(remote_setup, "git@github.com:acme/deploy.git")
    remote_setup.remote.commit("dev", NEW_API, "api 1.1.0")

    result = run_cli(remote_setup.clone.path, "promote", "dev", "stg", "--pr")

    assert result.exit_code == 0, result.stderr
    url = "https://github.com/acme/deploy/compare/stg...promote/dev-to-stg?expand=1"
    assert f"open a pull request: {url}" in result.stdout
    assert "stg has not moved" in result.stderr


def _fake_gh(tmp_path: Path, *, logged_in: bool, existing: list[dict[str, object]]) -> tuple[Path, Path]:
    log = tmp_path / "gh-calls.jsonl"
    script = tmp_path / "fake-gh"
    script.write_text(
        f"""#!/usr/bin/env python3
import json, sys
args = sys.argv[1:]
stdin = sys.stdin.read() if "--body-file" in args else ""
with open({str(log)!r}, "a") as f:
    f.write(json.dumps({{"args": args, "stdin": stdin}}) + "\\n")
if args[:2] == ["auth", "status"]:
    sys.exit({0 if logged_in else 1})
if args[:2] == ["pr", "list"]:
    print({json.dumps(existing)!r})
elif args[:2] == ["pr", "create"]:
    print("https://github.com/acme/deploy/pull/7")
"""
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, log


def _calls(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_pr_opens_a_pull_request_with_gh(
    remote_setup: RemoteSetup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gh, log = _fake_gh(tmp_path, logged_in=True, existing=[])
    monkeypatch.setenv("GITOPS_GH", str(gh))
    _point_origin_at(remote_setup, "https://github.com/acme/deploy.git")
    remote_setup.remote.commit("dev", NEW_API, "api 1.1.0")

    result = run_cli(remote_setup.clone.path, "promote", "dev", "stg", "--pr", "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert result.json()["pull_request"] == "https://github.com/acme/deploy/pull/7"
    calls = _calls(log)
    assert [c["args"][:2] for c in calls] == [["auth", "status"], ["pr", "list"], ["pr", "create"]]
    create = calls[2]["args"]
    assert isinstance(create, list)
    for flag, value in [("--repo", "acme/deploy"), ("--base", "stg"), ("--head", "promote/dev-to-stg")]:
        assert create[create.index(flag) + 1] == value
    body = str(calls[2]["stdin"])
    assert "api 1.1.0" in body and "apps/api/values.yaml" in body and "fast-forward" in body


def test_pr_updates_the_open_pull_request_in_place(
    remote_setup: RemoteSetup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = [{"number": 7, "url": "https://github.com/acme/deploy/pull/7"}]
    gh, log = _fake_gh(tmp_path, logged_in=True, existing=existing)
    monkeypatch.setenv("GITOPS_GH", str(gh))
    _point_origin_at(remote_setup, "git@github.com:acme/deploy.git")
    remote_setup.remote.commit("dev", NEW_API, "api 1.1.0")

    result = run_cli(remote_setup.clone.path, "promote", "dev", "stg", "--pr", "-o", "json")

    assert result.exit_code == 0, result.stderr
    calls = _calls(log)
    assert [c["args"][:3] for c in calls][-1] == ["pr", "edit", "7"]
    assert not any(c["args"][:2] == ["pr", "create"] for c in calls)


def test_pr_without_a_gh_login_only_prints_the_url(
    remote_setup: RemoteSetup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gh, log = _fake_gh(tmp_path, logged_in=False, existing=[])
    monkeypatch.setenv("GITOPS_GH", str(gh))
    _point_origin_at(remote_setup, "git@github.com:acme/deploy.git")
    remote_setup.remote.commit("dev", NEW_API, "api 1.1.0")

    result = run_cli(remote_setup.clone.path, "promote", "dev", "stg", "--pr", "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert result.json()["pull_request"] is None
    assert [c["args"][:2] for c in _calls(log)] == [["auth", "status"]]


def test_pr_needs_a_remote(remote_setup: RemoteSetup) -> None:
    remote_setup.remote.commit("dev", NEW_API, "api 1.1.0")
    result = run_cli(remote_setup.remote.path, "promote", "dev", "stg", "--pr")
    assert result.exit_code == 2
    assert "--pr needs a remote" in result.stderr


def test_pr_refuses_no_push(remote_setup: RemoteSetup) -> None:
    result = run_cli(remote_setup.clone.path, "promote", "dev", "stg", "--pr", "--no-push")
    assert result.exit_code == 2
    assert "--no-push" in result.stderr


def _freeze_stg_everywhere(setup: RemoteSetup) -> None:
    registry = (Path(__file__).parent.parent / "environments.yaml").read_text()
    window = '      - {from: "2020-01-01T00:00:00Z", to: "2099-01-01T00:00:00Z", reason: long freeze}\n'
    frozen = registry.replace("  - codename: stg\n", "  - codename: stg\n    freeze:\n" + window, 1)
    assert frozen != registry
    for branch in ("dev", "stg", "prd"):  # the same registry everywhere: no drift, stg's own says frozen
        setup.remote.commit(branch, {"environments.yaml": frozen}, "freeze stg")


def test_pr_during_a_freeze_pushes_the_review_branch_with_a_note(remote_setup: RemoteSetup) -> None:
    remote, clone = remote_setup.remote, remote_setup.clone
    _freeze_stg_everywhere(remote_setup)
    remote.commit("dev", NEW_API, "api 1.1.0")
    stg_before = remote.head("stg")
    assert run_cli(clone.path, "promote", "dev", "stg").exit_code == 1  # the target itself stays frozen

    result = run_cli(clone.path, "promote", "dev", "stg", "--pr")

    assert result.exit_code == 0, result.stderr
    assert remote.head("stg") == stg_before
    review = git(remote.path, "rev-parse", "refs/heads/promote/dev-to-stg")
    assert git(remote.path, "rev-parse", f"{review}^1") == stg_before
    assert "stg is frozen" in result.stderr and "the review branch is pushed (it deploys nothing)" in result.stderr
    assert "merging it into stg is refused until the freeze ends" in result.stderr
    assert "to write into stg anyway" not in result.stderr
    assert "git fetch origin && git push origin refs/remotes/origin/promote/dev-to-stg:refs/heads/stg" in result.stderr


def test_status_lists_the_review_branch_until_a_promotion_contains_it(remote_setup: RemoteSetup) -> None:
    remote, clone = remote_setup.remote, remote_setup.clone
    remote.commit("dev", NEW_API, "api 1.1.0")
    assert run_cli(clone.path, "promote", "dev", "stg", "--pr").exit_code == 0
    status = run_cli(clone.path, "status", "-o", "json").json()
    assert status["review_branches"] == ["promote/dev-to-stg"]
    assert "review branch waiting to be merged: origin/promote/dev-to-stg" in run_cli(clone.path, "status").stdout

    # merged by fast-forward with the printed command: stg is the reviewed commit
    git(clone.path, "fetch", "--quiet", "origin")
    git(clone.path, "push", "--quiet", "origin", "refs/remotes/origin/promote/dev-to-stg:refs/heads/stg")
    assert run_cli(clone.path, "status", "-o", "json").json()["review_branches"] == []

    remote.commit("dev", {"apps/web/values.yaml": "replicas: 3\n"}, "web 3")
    result = run_cli(clone.path, "promote", "dev", "stg")
    assert result.exit_code == 0, result.stderr
    assert "deleted the review branch origin/promote/dev-to-stg: stg contains it" in result.stderr
    assert git(remote.path, "for-each-ref", "refs/heads/promote/") == ""
    assert git(clone.path, "for-each-ref", "refs/remotes/origin/promote/") == ""


def test_an_unmerged_review_branch_is_not_deleted(remote_setup: RemoteSetup) -> None:
    remote, clone = remote_setup.remote, remote_setup.clone
    remote.commit("dev", NEW_API, "api 1.1.0")
    assert run_cli(clone.path, "promote", "dev", "stg", "--pr").exit_code == 0
    remote.commit("dev", {"apps/web/values.yaml": "replicas: 3\n"}, "web 3")
    assert run_cli(clone.path, "promote", "dev", "stg").exit_code == 0  # promoted directly, not merged
    left = git(remote.path, "for-each-ref", "--format=%(refname)", "refs/heads/promote/")
    assert left == "refs/heads/promote/dev-to-stg"
    assert run_cli(clone.path, "status", "-o", "json").json()["review_branches"] == ["promote/dev-to-stg"]
