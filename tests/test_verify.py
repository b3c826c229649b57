"""`gitops verify ENV`: a hand-edited promotion, a forged trailer, a direct commit, rollbacks,
signatures; exit 0 when clean, 1 with findings, 2 on bad options. Real git throughout."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import GitopsRepo, RemoteSetup, git, make_gitops_repo, run_cli, standard_files
from signing_keys import commit_signed, configure, make_ssh_key
from test_signature_policy import SIGNERS, policy_registry

API = "apps/api/values.yaml"
WEB = "apps/web/values.yaml"


def api(tag: str) -> dict[str, str]:
    return {API: f"image:\n  repository: ghcr.io/example/api\n  tag: '{tag}'\n"}


@pytest.fixture
def promoted(gitops_repo: GitopsRepo) -> GitopsRepo:
    """dev promoted into stg twice, with an edit of stg's own file in between."""
    gitops_repo.commit("dev", api("1.1.0"), "api 1.1.0")
    assert run_cli(gitops_repo.path, "promote", "dev", "stg").exit_code == 0
    gitops_repo.commit("stg", {"apps/api/values-stg.yaml": "replicas: 3\n"}, "stg: 3 replicas")
    gitops_repo.commit("dev", {WEB: "replicas: 2\n"}, "web: 2 replicas")
    assert run_cli(gitops_repo.path, "promote", "dev", "stg").exit_code == 0
    return gitops_repo


def _findings(repo: GitopsRepo, *args: str) -> list[dict[str, object]]:
    result = run_cli(repo.path, "verify", "stg", *args, "-o", "json")
    data = result.json()
    assert result.exit_code == (1 if data["findings"] else 0)
    return list(data["findings"])


def _replace_tip(repo: GitopsRepo, branch: str, message: str, changes: dict[str, str], parents: list[str]) -> str:
    """A commit with the given parents and message, whose tree is the tip's with `changes`."""
    tip = repo.head(branch)
    with_changes = repo.commit(branch, changes, "scratch")  # only to get the tree written
    tree = git(repo.path, "rev-parse", f"{with_changes}^{{tree}}")
    args = [arg for parent in parents for arg in ("-p", parent)]
    sha = git(repo.path, "commit-tree", *args, "-m", message, tree)
    git(repo.path, "update-ref", f"refs/heads/{branch}", sha)
    assert tip != sha
    return sha


def test_a_clean_history_verifies(promoted: GitopsRepo) -> None:
    result = run_cli(promoted.path, "verify", "stg", "-o", "json")
    assert result.exit_code == 0, result.stdout
    data = result.json()
    assert data["clean"] is True and data["findings"] == []
    assert [c["kind"] for c in data["commits"]] == ["promotion", "direct", "promotion"]
    assert data["scope"] == "back to the first promotion"
    text = run_cli(promoted.path, "verify", "stg")
    assert text.exit_code == 0 and "stg: clean (3 commit(s) verified)" in text.stderr


def test_a_hand_edited_promotion_is_found(promoted: GitopsRepo) -> None:
    tip = promoted.head("stg")
    message = git(promoted.path, "log", "-1", "--format=%B", tip)
    parents = git(promoted.path, "log", "-1", "--format=%P", tip).split()
    git(promoted.path, "update-ref", "refs/heads/stg", parents[0])
    edited = _replace_tip(promoted, "stg", message, {WEB: "replicas: 20\n"}, parents)

    findings = _findings(promoted)

    assert [(f["commit"], f["kind"], f["paths"]) for f in findings] == [(edited, "tree-mismatch", [WEB])]
    text = run_cli(promoted.path, "verify", "stg")
    assert text.exit_code == 1
    assert f"FAIL {edited[:12]} promotion" in text.stdout
    assert "stg: 1 finding(s) in 1 commit(s)" in text.stderr


def test_a_forged_trailer_is_found(promoted: GitopsRepo) -> None:
    dev = promoted.head("dev")
    message = f"Promote dev {dev[:7]} to stg\n\nPromoted-From: dev\nPromoted-Commit: {dev}\n"
    forged = _replace_tip(promoted, "stg", message, api("6.6.6"), [promoted.head("stg")])
    findings = _findings(promoted)
    assert [(f["commit"], f["kind"]) for f in findings] == [(forged, "tree-mismatch")]
    assert findings[0]["paths"] == [API]


def test_a_trailer_naming_no_commit_or_a_commit_off_the_source(promoted: GitopsRepo) -> None:
    message = "Promote dev to stg\n\nPromoted-From: dev\nPromoted-Commit: " + "d" * 40 + "\n"
    ghost = _replace_tip(promoted, "stg", message, {}, [promoted.head("stg")])
    assert [(f["commit"], f["kind"]) for f in _findings(promoted)] == [(ghost, "missing-promoted-commit")]

    stg_only = promoted.commit("stg", {"apps/web/values-stg.yaml": "x: 1\n"}, "stg only")
    message = f"Promote dev to stg\n\nPromoted-From: dev\nPromoted-Commit: {stg_only}\n"
    off_source = _replace_tip(promoted, "stg", message, {}, [promoted.head("stg")])
    kinds = {(f["commit"], f["kind"]) for f in _findings(promoted)}
    assert (off_source, "not-on-source") in kinds


def test_a_direct_commit_to_a_promoted_file_is_drift(promoted: GitopsRepo) -> None:
    direct = promoted.commit("stg", api("9.9.9"), "hotfix straight on stg")
    promoted.commit("stg", {"apps/web/values-stg.yaml": "replicas: 4\n"}, "stg's own file: fine")
    findings = _findings(promoted)
    assert [(f["commit"], f["kind"], f["paths"]) for f in findings] == [(direct, "drift", [API])]


def test_rollbacks_are_checked_against_the_promotion_they_restore(promoted: GitopsRepo) -> None:
    rolled = run_cli(promoted.path, "rollback", "stg", "-o", "json")
    assert rolled.exit_code == 0, rolled.stderr
    assert _findings(promoted) == []

    target = rolled.json()["rolled_back_to"]["commit"]
    message = f"Roll back stg\n\nRolled-Back-To: {target}\n"
    forged = _replace_tip(promoted, "stg", message, api("0.0.1"), [promoted.head("stg")])
    assert [(f["commit"], f["kind"]) for f in _findings(promoted)] == [(forged, "rollback-tree-mismatch")]


def test_a_rollback_to_no_promotion_of_the_branch_is_found(promoted: GitopsRepo) -> None:
    message = f"Roll back stg\n\nRolled-Back-To: {promoted.head('dev')}\n"
    forged = _replace_tip(promoted, "stg", message, {}, [promoted.head("stg")])
    assert [(f["commit"], f["kind"]) for f in _findings(promoted)] == [(forged, "bad-rollback-target")]


def test_depth_and_since_limit_the_audit(promoted: GitopsRepo) -> None:
    direct = promoted.commit("stg", api("9.9.9"), "hotfix")
    promoted.commit("stg", {"apps/web/values-stg.yaml": "replicas: 4\n"}, "own file")
    assert [f["commit"] for f in _findings(promoted, "--depth", "1")] == []
    assert [f["commit"] for f in _findings(promoted, "--depth", "2")] == [direct]
    future = run_cli(promoted.path, "verify", "stg", "--since", "2999-01-01", "-o", "json")
    assert future.exit_code == 0 and future.json()["commits"] == []
    assert [f["commit"] for f in _findings(promoted, "--since", "2000-01-01")] == [direct]


@pytest.mark.parametrize("args", [["--since", "last tuesday"], ["--depth", "0"], ["nope"]])
def test_bad_options_are_usage_errors(promoted: GitopsRepo, args: list[str]) -> None:
    env = [] if args == ["nope"] else ["stg"]
    result = run_cli(promoted.path, "verify", *env, *args)
    assert result.exit_code == 2 and "Traceback" not in result.stderr


def test_a_branch_without_promotions_has_nothing_to_verify(gitops_repo: GitopsRepo) -> None:
    gitops_repo.commit("prd", api("9.9.9"), "direct")
    result = run_cli(gitops_repo.path, "verify", "prd", "-o", "json")
    assert result.exit_code == 0 and result.json()["commits"] == []
    assert "nothing to verify" in result.json()["notes"][0]
    assert "nothing to verify" in run_cli(gitops_repo.path, "verify", "prd").stderr
    assert run_cli(gitops_repo.path, "verify", "prd", "--depth", "1").exit_code == 1


def test_signatures_of_promotions_are_verified(tmp_path: Path) -> None:
    alice = make_ssh_key(tmp_path / "keys", "alice@example.com")
    files = {**standard_files(), "environments.yaml": policy_registry(), SIGNERS: alice.allowed_signers_line}
    repo = make_gitops_repo(tmp_path / "repo", files, bare=True)
    commit_signed(repo.path, "stg", api("1.1.0"), "signed", alice.config)
    configure(repo.path, {**alice.config, "commit.gpgsign": "true"})
    assert run_cli(repo.path, "promote", "stg", "prd").exit_code == 0
    clean = run_cli(repo.path, "verify", "prd", "-o", "json")
    assert clean.exit_code == 0, clean.stdout
    assert clean.json()["policy"] == {"require": True, "allowed_signers": SIGNERS, "mode": "strict"}

    commit_signed(repo.path, "stg", api("1.2.0"), "signed too", alice.config)
    assert run_cli(repo.path, "promote", "stg", "prd", "--no-sign").exit_code == 0
    unsigned_promotion = repo.head("prd")
    findings = run_cli(repo.path, "verify", "prd", "-o", "json").json()["findings"]
    assert [(f["commit"], f["kind"], f["detail"]) for f in findings] == [(unsigned_promotion, "signature", "unsigned")]
    assert "the promotion commit itself" in str(findings[0]["message"])


@pytest.mark.parametrize("value", ["--output=/tmp/pwned", "HEAD", "dev", "d" * 39])
def test_trailer_values_are_never_revisions_or_options(promoted: GitopsRepo, value: str) -> None:
    """Only a full commit id counts: a trailer cannot name a branch, HEAD or an option."""
    message = f"Promote dev to stg\n\nPromoted-From: dev\nPromoted-Commit: {value}\n"
    forged = _replace_tip(promoted, "stg", message, {}, [promoted.head("stg")])
    assert [(f["commit"], f["kind"]) for f in _findings(promoted)] == [(forged, "missing-promoted-commit")]


def test_control_characters_in_a_subject_are_escaped(promoted: GitopsRepo) -> None:
    promoted.commit("stg", api("9.9.9"), "evil\x1b[2J subject")
    text = run_cli(promoted.path, "verify", "stg")
    assert text.exit_code == 1
    assert "\x1b" not in text.stdout and "evil\\x1b[2J subject" in text.stdout


def test_verify_reads_the_remote_and_no_fetch_keeps_what_was_fetched(remote_setup: RemoteSetup) -> None:
    remote, clone = remote_setup.remote, remote_setup.clone.path
    remote.commit("dev", api("1.1.0"), "api 1.1.0")
    assert run_cli(clone, "promote", "dev", "stg").exit_code == 0
    assert run_cli(clone, "verify", "stg").exit_code == 0
    direct = remote.commit("stg", api("6.6.6"), "hotfix pushed by hand")
    assert run_cli(clone, "verify", "stg", "--no-fetch").exit_code == 0  # not fetched yet
    found = run_cli(clone, "verify", "stg", "-o", "json")
    assert found.exit_code == 1
    assert found.json()["ref"] == "refs/remotes/origin/stg"
    assert [f["commit"] for f in found.json()["findings"]] == [direct]
