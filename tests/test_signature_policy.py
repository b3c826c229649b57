"""A target's signature policy (its own registry entry) in promote, plan and --pr.

Keys are real (ssh-keygen; gpg in a temporary GNUPGHOME); the commits on the source branch are
signed by git; verdicts come from git (`%G?`) with the target's allowed-signers file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REGISTRY, GitopsRepo, git, make_gitops_repo, run_cli, standard_files
from signing_keys import HAVE_GPG, HAVE_GPGSM, SshKey, commit_signed, gpg_home, make_ssh_key, tamper, x509_home

PRD_BACKUPS = "    backups: {enabled: true, policy: TBD}\n"
SIGNERS = ".gitops/allowed_signers"


def policy_registry(mode: str = "strict", signers: str | None = SIGNERS, require: str = "true") -> str:
    lines = ["    signatures:\n", f"      require: {require}\n", f"      mode: {mode}\n"]
    if signers is not None:
        lines.append(f"      allowed_signers: {signers}\n")
    assert PRD_BACKUPS in REGISTRY
    return REGISTRY.replace(PRD_BACKUPS, PRD_BACKUPS + "".join(lines))


@dataclass
class Signed:
    repo: GitopsRepo
    alice: SshKey  # an allowed signer
    mallory: SshKey  # a key nobody allowed

    def commit(self, message: str, key: SshKey | None, tag: str) -> str:
        change = {"apps/api/values.yaml": f"image:\n  repository: ghcr.io/example/api\n  tag: '{tag}'\n"}
        return commit_signed(self.repo.path, "stg", change, message, key.config if key else None)


def make_signed(tmp_path: Path, registry: str, *, signers: bool = True) -> Signed:
    alice = make_ssh_key(tmp_path / "keys", "alice@example.com")
    mallory = make_ssh_key(tmp_path / "keys", "mallory@example.com")
    files = {**standard_files(), "environments.yaml": registry}
    if signers:
        files[SIGNERS] = alice.allowed_signers_line
    return Signed(make_gitops_repo(tmp_path / "repo", files, bare=True), alice, mallory)


@pytest.fixture
def signed(tmp_path: Path) -> Signed:
    return make_signed(tmp_path, policy_registry())


def test_signed_by_an_allowed_signer_is_promoted(signed: Signed) -> None:
    signed.commit("api 1.1.0", signed.alice, "1.1.0")
    signed.commit("api 1.2.0", signed.alice, "1.2.0")
    result = run_cli(signed.repo.path, "promote", "stg", "prd", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert signed.repo.head("prd") == result.json()["target_commit"]


@pytest.mark.parametrize(
    ("how", "expected"),
    [("unsigned", "not signed"), ("unknown", "not allowed"), ("tampered", "bad signature")],
)
def test_refused_commits_are_listed_with_author_and_why(signed: Signed, how: str, expected: str) -> None:
    good = signed.commit("api 1.1.0", signed.alice, "1.1.0")
    if how == "unsigned":
        bad = signed.commit("api 1.2.0 unsigned", None, "1.2.0")
    elif how == "unknown":
        bad = signed.commit("api 1.2.0 by mallory", signed.mallory, "1.2.0")
    else:
        bad = tamper(signed.repo.path, "stg", signed.commit("api 1.2.0", signed.alice, "1.2.0"))
    before = signed.repo.head("prd")

    result = run_cli(signed.repo.path, "promote", "stg", "prd")

    assert result.exit_code == 1, result.stderr
    assert bad[:12] in result.stderr and expected in result.stderr
    assert "Test Author <author@example.com>" in result.stderr
    assert good[:12] not in result.stderr  # the good one is not listed
    assert signed.repo.head("prd") == before


def test_plan_shows_the_refusal_as_a_blocker(signed: Signed) -> None:
    bad = signed.commit("api 1.2.0 by mallory", signed.mallory, "1.2.0")
    result = run_cli(signed.repo.path, "plan", "stg", "prd", "-o", "json")
    assert result.exit_code == 0, result.stderr
    findings = result.json()["signatures"]
    assert [(f["commit"], f["kind"], f["author"]) for f in findings] == [
        (bad, "signer-not-allowed", "Test Author <author@example.com>")
    ]
    text = run_cli(signed.repo.path, "plan", "stg", "prd")
    assert "Signatures that block the promotion (1):" in text.stdout
    assert bad[:12] in text.stdout
    markdown = run_cli(signed.repo.path, "plan", "stg", "prd", "-o", "markdown")
    assert "### Signatures (block the promotion)" in markdown.stdout


def test_dry_run_is_refused_too(signed: Signed) -> None:
    signed.commit("unsigned", None, "1.2.0")
    assert run_cli(signed.repo.path, "promote", "stg", "prd", "--dry-run").exit_code == 1


def test_strict_checks_every_new_commit_head_only_the_promoted_one(tmp_path: Path) -> None:
    for mode, expected in (("strict", 1), ("head", 0)):
        signed = make_signed(tmp_path / mode, policy_registry(mode))
        signed.commit("unsigned, in the middle", None, "1.1.0")
        signed.commit("signed head", signed.alice, "1.2.0")
        result = run_cli(signed.repo.path, "promote", "stg", "prd")
        assert result.exit_code == expected, (mode, result.stderr)


def test_head_mode_refuses_an_unsigned_head(tmp_path: Path) -> None:
    signed = make_signed(tmp_path, policy_registry("head"))
    signed.commit("signed", signed.alice, "1.1.0")
    head = signed.commit("unsigned head", None, "1.2.0")
    result = run_cli(signed.repo.path, "promote", "stg", "prd")
    assert result.exit_code == 1 and head[:12] in result.stderr


def test_only_commits_since_the_last_promotion_are_checked(signed: Signed) -> None:
    signed.commit("signed", signed.alice, "1.1.0")
    assert run_cli(signed.repo.path, "promote", "stg", "prd").exit_code == 0
    signed.commit("signed again", signed.alice, "1.2.0")
    assert run_cli(signed.repo.path, "promote", "stg", "prd").exit_code == 0


def test_the_source_cannot_lift_the_targets_policy(signed: Signed) -> None:
    """The policy is read from prd's tip: stg's registry without it changes nothing."""
    lifted = {"environments.yaml": REGISTRY}
    commit_signed(signed.repo.path, "stg", lifted, "drop the policy", signed.alice.config)
    bad = signed.commit("unsigned", None, "1.2.0")
    result = run_cli(signed.repo.path, "promote", "stg", "prd")
    assert result.exit_code == 1 and bad[:12] in result.stderr
    # nor can it add its own key to the allowed signers
    mallory_too = {SIGNERS: signed.alice.allowed_signers_line + signed.mallory.allowed_signers_line}
    commit_signed(signed.repo.path, "stg", mallory_too, "trust mallory", signed.alice.config)
    result = run_cli(signed.repo.path, "promote", "stg", "prd")
    assert result.exit_code == 1 and bad[:12] in result.stderr


def test_no_policy_on_the_target_means_nothing_is_checked(tmp_path: Path) -> None:
    signed = make_signed(tmp_path, policy_registry(require="false"))
    signed.commit("unsigned", None, "1.1.0")
    assert run_cli(signed.repo.path, "promote", "stg", "prd").exit_code == 0


def test_missing_allowed_signers_file_is_a_config_error(tmp_path: Path) -> None:
    signed = make_signed(tmp_path, policy_registry(), signers=False)
    signed.commit("signed", signed.alice, "1.1.0")
    result = run_cli(signed.repo.path, "promote", "stg", "prd")
    assert result.exit_code == 2
    assert f"prd:{SIGNERS} does not exist" in result.stderr


def test_ssh_signature_without_allowed_signers_is_not_allowed(tmp_path: Path) -> None:
    signed = make_signed(tmp_path, policy_registry(signers=None), signers=False)
    bad = signed.commit("signed, but nobody is allowed", signed.alice, "1.1.0")
    result = run_cli(signed.repo.path, "promote", "stg", "prd")
    assert result.exit_code == 1 and bad[:12] in result.stderr and "not allowed" in result.stderr


def test_pr_into_a_protected_environment_is_refused(tmp_path: Path) -> None:
    signed = make_signed(tmp_path, policy_registry())
    clone = tmp_path / "clone"
    signed.commit("unsigned", None, "1.1.0")
    git(tmp_path, "clone", "--quiet", str(signed.repo.path), str(clone))
    result = run_cli(clone, "promote", "stg", "prd", "--pr")
    assert result.exit_code == 1, result.stderr
    assert "not signed" in result.stderr
    assert "promote/stg-to-prd" not in git(signed.repo.path, "branch", "--list")
    signed.commit("signed", signed.alice, "1.2.0")
    assert run_cli(clone, "promote", "stg", "prd", "--pr").exit_code == 1  # strict: the unsigned one is still new


def test_pr_passes_when_every_commit_is_signed(tmp_path: Path) -> None:
    signed = make_signed(tmp_path, policy_registry())
    clone = tmp_path / "clone"
    signed.commit("signed", signed.alice, "1.1.0")
    git(tmp_path, "clone", "--quiet", str(signed.repo.path), str(clone))
    result = run_cli(clone, "promote", "stg", "prd", "--pr")
    assert result.exit_code == 0, result.stderr
    assert signed.repo.head("promote/stg-to-prd")


@pytest.mark.skipif(not HAVE_GPG, reason="gpg is not installed")
def test_openpgp_signatures_are_checked_against_the_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    signed = make_signed(tmp_path, policy_registry())
    with gpg_home() as gpg:
        monkeypatch.setenv("GNUPGHOME", str(gpg.home))
        change = {"apps/api/values.yaml": "image:\n  tag: '1.1.0'\n"}
        commit = commit_signed(signed.repo.path, "stg", change, "gpg-signed", gpg.config)
        assert run_cli(signed.repo.path, "plan", "stg", "prd", "-o", "json").json()["signatures"] == []
        # Without the key in the keyring the signature cannot be checked: refused.
        monkeypatch.setenv("GNUPGHOME", str(tmp_path / "empty-gnupg"))
        (tmp_path / "empty-gnupg").mkdir(mode=0o700)
        result = run_cli(signed.repo.path, "promote", "stg", "prd")
        assert result.exit_code == 1 and commit[:12] in result.stderr and "unknown" in result.stderr


@pytest.mark.skipif(not HAVE_GPGSM, reason="gpgsm is not installed")
def test_x509_signatures_are_checked_against_the_keybox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    signed = make_signed(tmp_path, policy_registry())
    with x509_home() as cert:
        monkeypatch.setenv("GNUPGHOME", str(cert.home))
        change = {"apps/api/values.yaml": "image:\n  tag: '1.1.0'\n"}
        commit = commit_signed(signed.repo.path, "stg", change, "x509-signed", cert.config)
        assert run_cli(signed.repo.path, "plan", "stg", "prd", "-o", "json").json()["signatures"] == []
        # A keybox without the certificate cannot check it: refused as unknown, not as unsigned.
        other = tmp_path / "other-gnupg"
        other.mkdir(mode=0o700)
        monkeypatch.setenv("GNUPGHOME", str(other))
        result = run_cli(signed.repo.path, "plan", "stg", "prd", "-o", "json")
        assert [(f["commit"], f["kind"]) for f in result.json()["signatures"]] == [(commit, "unknown-key")]


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("    signatures:\n      mode: sometimes\n", "invalid signatures.mode 'sometimes'"),
        ("    signatures:\n      requires: true\n", "unknown key 'requires' in 'signatures'"),
        ("    signatures:\n      require: yes please\n", "'signatures.require' must be true or false"),
        ("    signatures:\n      allowed_signers: ../outside\n", "must be a plain relative path"),
        ("    signatures: true\n", "'signatures' must be a mapping"),
    ],
)
def test_invalid_policies_are_reported_with_their_line(tmp_path: Path, block: str, message: str) -> None:
    registry = REGISTRY.replace(PRD_BACKUPS, PRD_BACKUPS + block)
    repo = make_gitops_repo(tmp_path / "repo", {**standard_files(), "environments.yaml": registry}, bare=True)
    result = run_cli(repo.path, "envs")
    assert result.exit_code == 2
    assert message in result.stderr
    line = registry.splitlines().index(block.splitlines()[-1]) + 1
    assert f"environments.yaml:{line}:" in result.stderr
