"""`gitops promote --attest FILE` and `gitops attest ENV [COMMIT]`: in-toto Statements v1,
checked against the Statement layer's shape, and signed/verified with `ssh-keygen -Y`."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
from conftest import GitopsRepo, RemoteSetup, git, run_cli
from signing_keys import make_ssh_key
from test_freeze_cli import HOLIDAYS, repo_with

from gitops_promote import __version__
from gitops_promote.core.attestation import PREDICATE_TYPE, STATEMENT_TYPE

SCHEMA = json.loads((Path(__file__).parent / "data" / "in-toto" / "statement-v1.schema.json").read_text())
API = "apps/api/values.yaml"
ACTIONS = {"kept", "seeded", "orphaned", "added", "modified", "deleted"}


def api(tag: str) -> dict[str, str]:
    return {API: f"image:\n  repository: ghcr.io/example/api\n  tag: '{tag}'\n"}


def check_statement(data: dict) -> None:  # type: ignore[type-arg]
    jsonschema.Draft202012Validator(SCHEMA).validate(data)


def test_the_schema_rejects_what_is_no_statement() -> None:
    good = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": "prd", "digest": {"gitCommit": "a" * 40}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {},
    }
    check_statement(good)
    for broken in (
        {**good, "_type": "https://in-toto.io/Statement/v0.1"},
        {**good, "subject": []},
        {**good, "subject": [{"name": "prd", "digest": {}}]},
        {**good, "subject": [{"name": "prd", "digest": {"gitCommit": "abc"}}]},
        {k: v for k, v in good.items() if k != "predicate"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            check_statement(broken)


def test_promote_attest_writes_a_statement_of_the_promotion(gitops_repo: GitopsRepo, tmp_path: Path) -> None:
    gitops_repo.commit("dev", api("1.1.0") | {"apps/new/values-dev.yaml": "x: 1\n"}, "api 1.1.0, new app")
    before = gitops_repo.head("stg")
    out = tmp_path / "promotion.intoto.json"

    result = run_cli(gitops_repo.path, "promote", "dev", "stg", "--attest", str(out), "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert f"attestation written to {out}" in result.stderr
    promoted = result.json()
    statement = json.loads(out.read_text())
    check_statement(statement)
    assert statement["subject"] == [{"name": "stg", "digest": {"gitCommit": promoted["target_commit"]}}]
    assert statement["predicateType"] == PREDICATE_TYPE
    predicate = statement["predicate"]
    assert predicate["source"] == {"environment": "dev", "branch": "dev", "commit": gitops_repo.head("dev")}
    assert predicate["target"]["previousCommit"] == before == predicate["previousTargetCommit"]
    assert predicate["promotedCommit"] == gitops_repo.head("dev")
    assert set(predicate["files"]) == ACTIONS
    assert predicate["files"]["modified"] == [API]
    assert "apps/new/values-dev.yaml" in predicate["files"]["added"]
    assert predicate["driftDiscarded"] == []
    assert predicate["freezeOverride"] == {"overridden": False, "reason": None}
    assert predicate["plan"] is None
    assert predicate["tool"] == {"name": "gitops-promote", "version": __version__}


def test_attest_recomputes_an_existing_promotion(gitops_repo: GitopsRepo, tmp_path: Path) -> None:
    gitops_repo.commit("dev", api("1.1.0"), "api 1.1.0")
    gitops_repo.commit("stg", {"apps/api/values-stg.yaml": "replicas: 3\n"}, "stg's own file")
    out = tmp_path / "a.json"
    assert run_cli(gitops_repo.path, "promote", "dev", "stg", "--attest", str(out)).exit_code == 0
    at_promotion = json.loads(out.read_text())

    result = run_cli(gitops_repo.path, "attest", "stg")

    assert result.exit_code == 0, result.stderr
    later = result.json()
    check_statement(later)
    assert later["subject"] == at_promotion["subject"]
    for key in ("source", "target", "promotedCommit", "previousTargetCommit", "files", "freezeOverride"):
        assert later["predicate"][key] == at_promotion["predicate"][key], key
    assert later["predicate"]["files"]["kept"] == ["apps/api/values-stg.yaml"]
    assert later["predicate"]["driftDiscarded"] is None  # only the promotion itself knew
    # by commit, and into a file
    commit = at_promotion["subject"][0]["digest"]["gitCommit"]
    again = tmp_path / "b.json"
    assert run_cli(gitops_repo.path, "attest", "stg", commit, "--file", str(again)).exit_code == 0
    assert json.loads(again.read_text()) == later


def test_discarded_drift_and_a_saved_plan_are_recorded(gitops_repo: GitopsRepo, tmp_path: Path) -> None:
    gitops_repo.commit("dev", api("1.1.0"), "api 1.1.0")
    gitops_repo.commit("stg", api("6.6.6"), "hotfix on stg")
    plan = tmp_path / "plan.json"
    assert run_cli(gitops_repo.path, "plan", "dev", "stg", "--save", str(plan)).exit_code == 0
    out = tmp_path / "a.json"

    result = run_cli(
        gitops_repo.path, "promote", "dev", "stg", "--plan", str(plan), "--discard-drift", "--attest", str(out)
    )

    assert result.exit_code == 0, result.stderr
    predicate = json.loads(out.read_text())["predicate"]
    assert predicate["driftDiscarded"] == [API]
    assert predicate["plan"] == {"digest": {"sha256": hashlib.sha256(plan.read_bytes()).hexdigest()}}


def test_a_freeze_override_and_its_reason_are_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = repo_with(tmp_path, HOLIDAYS)
    monkeypatch.setenv("GITOPS_NOW", "2026-12-25T10:00:00Z")
    out = tmp_path / "a.json"
    args = ["promote", "stg", "prd", "--override-freeze", "--reason", "INC-42 hotfix", "--attest", str(out)]
    assert run_cli(repo.path, *args).exit_code == 0
    assert json.loads(out.read_text())["predicate"]["freezeOverride"] == {"overridden": True, "reason": "INC-42 hotfix"}
    assert run_cli(repo.path, "attest", "prd").json()["predicate"]["freezeOverride"]["reason"] == "INC-42 hotfix"


def test_nothing_promoted_writes_no_attestation(gitops_repo: GitopsRepo, tmp_path: Path) -> None:
    out = tmp_path / "a.json"
    result = run_cli(gitops_repo.path, "promote", "dev", "stg", "--attest", str(out))
    assert result.exit_code == 0 and not out.exists()
    assert "no attestation written" in result.stderr
    gitops_repo.commit("dev", api("1.1.0"), "api 1.1.0")
    assert run_cli(gitops_repo.path, "promote", "dev", "stg", "--dry-run", "--attest", str(out)).exit_code == 0
    assert not out.exists()


def test_pr_attestation_names_the_target_and_the_review_branch(remote_setup: RemoteSetup, tmp_path: Path) -> None:
    remote_setup.remote.commit("dev", api("1.1.0"), "api 1.1.0")
    out = tmp_path / "a.json"
    result = run_cli(remote_setup.clone.path, "promote", "dev", "stg", "--pr", "--attest", str(out), "-o", "json")
    assert result.exit_code == 0, result.stderr
    statement = json.loads(out.read_text())
    assert statement["subject"][0] == {"name": "stg", "digest": {"gitCommit": result.json()["target_commit"]}}
    assert statement["predicate"]["reviewBranch"] == "promote/dev-to-stg"


def test_attest_refuses_what_is_no_promotion(gitops_repo: GitopsRepo) -> None:
    assert run_cli(gitops_repo.path, "attest", "stg").exit_code == 2  # no promotion yet
    direct = gitops_repo.commit("stg", {"apps/api/values-stg.yaml": "x: 1\n"}, "direct")
    result = run_cli(gitops_repo.path, "attest", "stg", direct)
    assert result.exit_code == 2 and "is not a promotion commit of stg" in result.stderr
    assert run_cli(gitops_repo.path, "attest", "stg", "--upload-pack=x").exit_code == 2


def test_the_statement_signed_with_ssh_keygen_verifies(gitops_repo: GitopsRepo, tmp_path: Path) -> None:
    """docs/signing.md: sign the Statement with `ssh-keygen -Y sign`, check it with `-Y verify`."""
    gitops_repo.commit("dev", api("1.1.0"), "api 1.1.0")
    out = tmp_path / "promotion.intoto.json"
    assert run_cli(gitops_repo.path, "promote", "dev", "stg", "--attest", str(out)).exit_code == 0
    key = make_ssh_key(tmp_path / "keys", "ci@example.com")
    namespace = "gitops-promote-attestation"
    subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-f", str(key.private), "-n", namespace, str(out)], check=True, capture_output=True
    )
    signers = tmp_path / "allowed_signers"
    signers.write_text(key.allowed_signers_line)

    def verify() -> int:
        with out.open("rb") as data:
            return subprocess.run(
                [
                    "ssh-keygen",
                    "-Y",
                    "verify",
                    "-f",
                    str(signers),
                    "-I",
                    key.principal,
                    "-n",
                    namespace,
                    "-s",
                    f"{out}.sig",
                ],
                stdin=data,
                capture_output=True,
                check=False,
            ).returncode

    assert verify() == 0
    out.write_text(out.read_text().replace('"stg"', '"prd"'))
    assert verify() != 0
    assert git(gitops_repo.path, "rev-parse", "stg")  # the repository is untouched by signing
