"""One model, one verdict: status, parity, plan and `promote --dry-run` agree on the step dev → stg.

Every scenario is a real repository (a bare remote and a clone); every command is run on it and
asked the same three questions: is anything pending, which paths drift, may stg be written now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from conftest import REGISTRY, RemoteSetup, git, run_cli

from gitops_promote.adapters.git import Repository
from gitops_promote.adapters.scaffold import set_branch

API = "apps/api/values.yaml"
FREEZE = '    freeze:\n      - {from: "2020-01-01T00:00:00Z", to: "2099-01-01T00:00:00Z", reason: release}\n'
STG_FREEZE = REGISTRY.replace('    availability: "90%"\n', '    availability: "90%"\n' + FREEZE)


@dataclass(frozen=True)
class Verdict:
    pending: bool
    drift: tuple[str, ...]
    allowed: bool


def promote(setup: RemoteSetup, *args: str) -> None:
    result = run_cli(setup.clone.path, "promote", "dev", "stg", *args)
    assert result.exit_code == 0, result.stderr


def fresh(setup: RemoteSetup) -> None:
    setup.remote.commit("dev", {API: "image:\n  tag: '1.1.0'\n"}, "api 1.1.0")


def after_promotion(setup: RemoteSetup) -> None:
    fresh(setup)
    promote(setup)


def hotfix_on_target(setup: RemoteSetup) -> None:
    after_promotion(setup)
    setup.remote.commit("stg", {API: "image:\n  tag: '1.1.1-hotfix'\n"}, "hotfix on stg")


def hand_merge(setup: RemoteSetup) -> None:
    fresh(setup)
    server = setup.remote
    with Repository(server.path) as repo:
        dev, stg = server.head("dev"), server.head("stg")
        merge = repo.commit_tree(repo.tree_of(dev), [stg, dev], "Merge branch 'dev' into stg\n")
        set_branch(repo, "stg", merge)


def manual_fast_forward(setup: RemoteSetup) -> None:
    fresh(setup)
    with Repository(setup.remote.path) as repo:
        set_branch(repo, "stg", setup.remote.head("dev"))


def after_rollback(setup: RemoteSetup) -> None:
    after_promotion(setup)
    setup.remote.commit("dev", {API: "image:\n  tag: '1.2.0'\n"}, "api 1.2.0")
    promote(setup)
    result = run_cli(setup.clone.path, "rollback", "stg")
    assert result.exit_code == 0, result.stderr


def unpushed_local_commit(setup: RemoteSetup) -> None:
    git(setup.clone.path, "fetch", "--quiet")
    setup.clone.commit("dev", {API: "image:\n  tag: '9.9.9'\n"}, "not pushed")


def during_a_freeze(setup: RemoteSetup) -> None:
    setup.remote.commit("stg", {"environments.yaml": STG_FREEZE}, "freeze stg")
    fresh(setup)


SCENARIOS: dict[str, tuple[Callable[[RemoteSetup], None], Verdict]] = {
    "fresh": (fresh, Verdict(True, (), True)),
    "after a promotion": (after_promotion, Verdict(False, (), True)),
    "after a hotfix on the target": (hotfix_on_target, Verdict(True, (API,), True)),
    "after a hand merge": (hand_merge, Verdict(False, (), True)),
    "after a manual fast-forward": (manual_fast_forward, Verdict(False, (), True)),
    "after a rollback": (after_rollback, Verdict(True, (), True)),
    "with an unpushed local commit": (unpushed_local_commit, Verdict(False, (), True)),
    "during a freeze": (during_a_freeze, Verdict(True, (), False)),
}


def from_status(setup: RemoteSetup) -> Verdict:
    rows = run_cli(setup.clone.path, "status", "-o", "json").json()["environments"]
    stg = next(r for r in rows if r["codename"] == "stg")
    pending = bool(stg["pending"]["files"])
    return Verdict(pending, tuple(d["path"] for d in stg["drift"]), stg["promotion_allowed"]["allowed"])


def from_parity(setup: RemoteSetup) -> Verdict:
    pair = run_cli(setup.clone.path, "parity", "-o", "json").json()["pairs"][0]
    plan = run_cli(setup.clone.path, "plan", "dev", "stg", "-o", "json").json()  # parity has no freeze
    return Verdict(bool(pair["differences"]), tuple(d["path"] for d in pair["drift"]), plan["freeze"]["allowed"])


def from_plan(setup: RemoteSetup) -> Verdict:
    plan = run_cli(setup.clone.path, "plan", "dev", "stg", "-o", "json").json()
    return Verdict(plan["changes_target"], tuple(d["path"] for d in plan["drift"]), plan["freeze"]["allowed"])


def from_dry_run(setup: RemoteSetup) -> Verdict:
    result = run_cli(setup.clone.path, "promote", "dev", "stg", "--dry-run", "-o", "json")
    data = result.json()
    assert result.exit_code == (1 if data["refused"] else 0), result.stderr
    pending = data["target_commit"] != data["target_commit_before"]
    return Verdict(pending, tuple(d["path"] for d in data["drift"]), data["freeze"]["allowed"])


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_command_gives_the_same_verdict(remote_setup: RemoteSetup, scenario: str) -> None:
    build, expected = SCENARIOS[scenario]
    build(remote_setup)
    verdicts = {
        "status": from_status(remote_setup),
        "parity": from_parity(remote_setup),
        "plan": from_plan(remote_setup),
        "promote --dry-run": from_dry_run(remote_setup),
    }
    assert verdicts == dict.fromkeys(verdicts, expected)


def test_every_command_reports_an_unpushed_local_commit(remote_setup: RemoteSetup) -> None:
    unpushed_local_commit(remote_setup)
    said = "dev is 1 commit ahead of origin/dev"
    clone = remote_setup.clone.path
    for args in (("status",), ("parity",), ("plan", "dev", "stg"), ("diff", "dev", "stg"), ("history", "dev")):
        result = run_cli(clone, *args)
        assert said in result.stdout + result.stderr, (args, result.stderr)
    promoted = run_cli(clone, "promote", "dev", "stg", "-o", "json")
    assert any(w["kind"] == "unpushed" for w in promoted.json()["warnings"])


def test_after_a_rollback_plan_names_the_rollback_and_lists_the_commits_again(remote_setup: RemoteSetup) -> None:
    after_rollback(remote_setup)
    plan = run_cli(remote_setup.clone.path, "plan", "dev", "stg", "-o", "json").json()
    rollback = remote_setup.remote.head("stg")
    assert plan["last_promotion"]["rollback"] == rollback
    assert [c["subject"] for c in plan["commits"]] == ["api 1.2.0"]
    warning = next(w for w in plan["warnings"] if w["kind"] == "rolled-back")
    assert rollback[:12] in warning["message"] and "re-applies" in warning["message"]
    status = run_cli(remote_setup.clone.path, "status")
    assert "re-applies the rolled-back content" in status.stderr


def test_no_fetch_works_without_the_remote_and_says_how_old(remote_setup: RemoteSetup) -> None:
    fresh(remote_setup)
    clone = remote_setup.clone.path
    assert run_cli(clone, "status").exit_code == 0  # fetches once
    git(clone, "remote", "set-url", "origin", str(remote_setup.remote.path) + "-gone")
    for args in (("status",), ("parity",), ("plan", "dev", "stg"), ("diff", "dev", "stg"), ("history", "stg")):
        offline = run_cli(clone, *args)
        assert offline.exit_code == 3 and "--no-fetch" in offline.stderr, (args, offline.stderr)
        result = run_cli(clone, *args, "--no-fetch")
        assert result.exit_code in (0, 1), (args, result.stderr)
        said = result.stdout + result.stderr
        assert "as fetched" in said and "ago" in said, (args, said)
    dry = run_cli(clone, "promote", "dev", "stg", "--dry-run", "--no-fetch")
    assert dry.exit_code == 0 and "as fetched" in dry.stderr
