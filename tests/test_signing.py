"""Promotion, rollback and review-branch commits are signed as `git commit` would sign them.

Real keys (ssh-keygen, gpg in a temporary GNUPGHOME), real git: results are checked with
`git verify-commit`; a bare remote whose pre-receive hook rejects unsigned commits on prd plays
the protected branch.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import RemoteSetup, git, run_cli
from signing_keys import HAVE_GPG, HAVE_GPGSM, SshKey, configure, gpg_home, make_ssh_key, verify_commit, x509_home

NEW_API = {"apps/api/values.yaml": "image:\n  repository: ghcr.io/example/api\n  tag: '1.1.0'\n"}


@pytest.fixture
def key(tmp_path: Path) -> SshKey:
    return make_ssh_key(tmp_path / "keys", "promoter@example.com")


def _allowed(tmp_path: Path, *keys: SshKey) -> Path:
    path = tmp_path / "allowed_signers"
    path.write_text("".join(k.allowed_signers_line for k in keys))
    return path


def _signature_code(repo: Path, commit: str, allowed: Path) -> str:
    return git(repo, "-c", f"gpg.ssh.allowedSignersFile={allowed}", "log", "-1", "--format=%G?", commit)


def test_promotion_is_ssh_signed_when_git_would_sign(remote_setup: RemoteSetup, key: SshKey, tmp_path: Path) -> None:
    clone, remote = remote_setup.clone.path, remote_setup.remote
    configure(clone, {**key.config, "commit.gpgsign": "true"})
    remote.commit("dev", NEW_API, "api 1.1.0")

    result = run_cli(clone, "promote", "dev", "stg", "-o", "json")

    assert result.exit_code == 0, result.stderr
    commit = result.json()["target_commit"]
    assert remote.head("stg") == commit
    checked = verify_commit(remote.path, commit, _allowed(tmp_path, key))
    assert checked.returncode == 0, checked.stderr
    assert b'Good "git" signature for promoter@example.com' in checked.stderr


def test_not_signed_without_commit_gpgsign(remote_setup: RemoteSetup, key: SshKey, tmp_path: Path) -> None:
    clone, remote = remote_setup.clone.path, remote_setup.remote
    configure(clone, key.config)  # a key, but commit.gpgsign is not set: git commit would not sign
    remote.commit("dev", NEW_API, "api 1.1.0")
    commit = run_cli(clone, "promote", "dev", "stg", "-o", "json").json()["target_commit"]
    assert _signature_code(remote.path, commit, _allowed(tmp_path, key)) == "N"


@pytest.mark.parametrize(
    ("gpgsign", "args", "env", "expected"),
    [
        ("false", ["--sign"], {}, "G"),
        ("true", ["--no-sign"], {}, "N"),
        ("true", [], {"GITOPS_SIGN": "false"}, "N"),
        ("false", [], {"GITOPS_SIGN": "true"}, "G"),
    ],
)
def test_flags_and_environment_override_git_config(
    remote_setup: RemoteSetup,
    key: SshKey,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    gpgsign: str,
    args: list[str],
    env: dict[str, str],
    expected: str,
) -> None:
    clone, remote = remote_setup.clone.path, remote_setup.remote
    configure(clone, {**key.config, "commit.gpgsign": gpgsign})
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    remote.commit("dev", NEW_API, "api 1.1.0")
    result = run_cli(clone, "promote", "dev", "stg", *args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert _signature_code(remote.path, result.json()["target_commit"], _allowed(tmp_path, key)) == expected


def test_signing_failure_is_exit_3_with_gits_message_and_nothing_moves(
    remote_setup: RemoteSetup, tmp_path: Path
) -> None:
    clone, remote = remote_setup.clone.path, remote_setup.remote
    configure(clone, {"gpg.format": "ssh", "user.signingkey": str(tmp_path / "no-such-key"), "commit.gpgsign": "true"})
    remote.commit("dev", NEW_API, "api 1.1.0")
    before = remote.head("stg")

    result = run_cli(clone, "promote", "dev", "stg")

    assert result.exit_code == 3
    assert "could not sign" in result.stderr and "no-such-key" in result.stderr
    assert "--no-sign" in result.stderr
    assert remote.head("stg") == before
    assert git(clone, "rev-parse", "refs/remotes/origin/stg") == before


def test_rollback_is_signed(remote_setup: RemoteSetup, key: SshKey, tmp_path: Path) -> None:
    clone, remote = remote_setup.clone.path, remote_setup.remote
    remote.commit("dev", NEW_API, "api 1.1.0")
    assert run_cli(clone, "promote", "dev", "stg").exit_code == 0
    remote.commit("dev", {"apps/web/values.yaml": "replicas: 2\n"}, "web: 2 replicas")
    newest = run_cli(clone, "promote", "dev", "stg", "-o", "json").json()["target_commit"]
    configure(clone, {**key.config, "commit.gpgsign": "true"})

    result = run_cli(clone, "rollback", "stg", "-o", "json")

    assert result.exit_code == 0, result.stderr
    commit = result.json()["commit"]
    assert verify_commit(remote.path, commit, _allowed(tmp_path, key)).returncode == 0
    unsigned = run_cli(clone, "rollback", "stg", "--to", newest, "--no-sign", "-o", "json")
    assert unsigned.exit_code == 0, unsigned.stderr
    assert _signature_code(remote.path, unsigned.json()["commit"], _allowed(tmp_path, key)) == "N"


def test_pr_review_branch_commit_is_signed(remote_setup: RemoteSetup, key: SshKey, tmp_path: Path) -> None:
    clone, remote = remote_setup.clone.path, remote_setup.remote
    configure(clone, {**key.config, "commit.gpgsign": "true"})
    remote.commit("dev", NEW_API, "api 1.1.0")

    result = run_cli(clone, "promote", "dev", "stg", "--pr", "-o", "json")

    assert result.exit_code == 0, result.stderr
    review = remote.head("promote/dev-to-stg")
    assert review == result.json()["target_commit"]
    assert verify_commit(remote.path, review, _allowed(tmp_path, key)).returncode == 0


@pytest.mark.skipif(not HAVE_GPG, reason="gpg is not installed")
def test_promotion_is_openpgp_signed(remote_setup: RemoteSetup, monkeypatch: pytest.MonkeyPatch) -> None:
    clone, remote = remote_setup.clone.path, remote_setup.remote
    with gpg_home() as gpg:
        monkeypatch.setenv("GNUPGHOME", str(gpg.home))
        configure(clone, {**gpg.config, "commit.gpgsign": "true"})
        remote.commit("dev", NEW_API, "api 1.1.0")

        result = run_cli(clone, "promote", "dev", "stg", "-o", "json")

        assert result.exit_code == 0, result.stderr
        commit = result.json()["target_commit"]
        checked = verify_commit(remote.path, commit)
        assert checked.returncode == 0, checked.stderr
        assert b"Good signature from" in checked.stderr
        assert git(remote.path, "log", "-1", "--format=%GF", commit) == gpg.fingerprint


@pytest.mark.skipif(not HAVE_GPGSM, reason="gpgsm is not installed")
def test_promotion_is_x509_signed(remote_setup: RemoteSetup, monkeypatch: pytest.MonkeyPatch) -> None:
    clone, remote = remote_setup.clone.path, remote_setup.remote
    with x509_home() as cert:
        monkeypatch.setenv("GNUPGHOME", str(cert.home))
        configure(clone, {**cert.config, "commit.gpgsign": "true"})
        remote.commit("dev", NEW_API, "api 1.1.0")

        result = run_cli(clone, "promote", "dev", "stg", "-o", "json")

        assert result.exit_code == 0, result.stderr
        commit = result.json()["target_commit"]
        assert verify_commit(remote.path, commit).returncode == 0
        assert git(remote.path, "log", "-1", "--format=%G? %GK", commit) == f"G {cert.fingerprint}"


# ---- a protected branch: the server refuses unsigned commits on prd -------------------------

PRE_RECEIVE = """#!/bin/sh
# What a protected branch with "require signed commits" does: refuse any new unsigned commit.
while read old new ref; do
  [ "$ref" = refs/heads/prd ] || continue
  for commit in $(git rev-list "$new" --not --branches); do
    if ! git cat-file commit "$commit" | grep -q '^gpgsig'; then
      echo "GH006: Protected branch update failed for refs/heads/prd: commit $commit must be signed" >&2
      exit 1
    fi
  done
done
"""


@pytest.fixture
def protected(remote_setup: RemoteSetup) -> RemoteSetup:
    hook = remote_setup.remote.path / "hooks" / "pre-receive"
    hook.write_text(PRE_RECEIVE)
    hook.chmod(0o755)
    remote_setup.remote.commit("stg", NEW_API, "api 1.1.0 on stg")
    return remote_setup


def test_protected_branch_accepts_a_signed_promotion(protected: RemoteSetup, key: SshKey, tmp_path: Path) -> None:
    clone, remote = protected.clone.path, protected.remote
    configure(clone, {**key.config, "commit.gpgsign": "true"})
    result = run_cli(clone, "promote", "stg", "prd", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert remote.head("prd") == result.json()["target_commit"]
    assert verify_commit(remote.path, remote.head("prd"), _allowed(tmp_path, key)).returncode == 0


def test_protected_branch_rejects_an_unsigned_promotion(protected: RemoteSetup) -> None:
    clone, remote = protected.clone.path, protected.remote
    before = remote.head("prd")
    result = run_cli(clone, "promote", "stg", "prd")
    assert result.exit_code == 3
    assert "GH006: Protected branch update failed" in result.stderr
    assert "must be signed" in result.stderr
    assert remote.head("prd") == before
