"""The pure parts of signing: policy validation, commits a policy covers, verdicts, the audit's
judgements and the attestation builder (no git needed)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_promote.core import audit
from gitops_promote.core.attestation import PromotionFacts, files_by_action, statement
from gitops_promote.core.promotion import ACTIONS, FileAction
from gitops_promote.core.signatures import (
    HEAD,
    STRICT,
    SignaturePolicy,
    SignatureStatus,
    commits_covered,
    judge,
    parse_policy,
)
from gitops_promote.core.tree import TreeEntry
from gitops_promote.errors import Location


def _at(key: str | None) -> Location:
    return Location("environments.yaml", 7 if key else 6)


def test_policy_defaults_and_values() -> None:
    assert parse_policy({}, _at) == (SignaturePolicy(True, None, STRICT), [])
    policy, problems = parse_policy({"require": False, "allowed_signers": ".gitops/signers", "mode": "head"}, _at)
    assert problems == [] and policy == SignaturePolicy(False, ".gitops/signers", HEAD)


def test_policy_problems_name_the_key_and_its_line() -> None:
    _policy, problems = parse_policy({"mode": "lax", "allowed_signers": "/etc/passwd", "extra": 1}, _at)
    messages = sorted(p.message for p in problems)
    assert messages == [
        "invalid signatures.mode 'lax'",
        "signatures.allowed_signers '/etc/passwd' must be a relative path inside the repository",
        "unknown key 'extra' in 'signatures'",
    ]
    assert all(str(p.location) == "environments.yaml:7" for p in problems)
    assert parse_policy([1], _at)[0] is None


def test_commits_covered_by_mode() -> None:
    strict, head = SignaturePolicy(mode=STRICT), SignaturePolicy(mode=HEAD)
    assert commits_covered(strict, ["c", "b", "a"], "c") == ["c", "b", "a"]
    assert commits_covered(strict, [], "c") == ["c"]  # a re-promotion still checks its commit
    assert commits_covered(head, ["c", "b", "a"], "c") == ["c"]
    assert commits_covered(SignaturePolicy(require=False), ["c"], "c") == []


def test_only_good_valid_signatures_pass() -> None:
    statuses = [
        SignatureStatus(sha, "A <a@x>", code, "KEY") for sha, code in zip("GNBUEXYR?", "GNBUEXYR?", strict=True)
    ]
    kinds = [(f.commit, f.kind) for f in judge(statuses)]
    assert kinds == [
        ("N", "unsigned"),
        ("B", "bad-signature"),
        ("U", "signer-not-allowed"),
        ("E", "unknown-key"),
        ("X", "expired"),
        ("Y", "expired"),
        ("R", "revoked"),
        ("?", "unknown-key"),
    ]
    assert judge(statuses)[0].describe() == "N by A <a@x>: not signed (key KEY)"


def test_audit_classification_and_direct_edits() -> None:
    assert audit.classify({"Promoted-From": ["dev"], "Promoted-Commit": ["abc"]}) == ("promotion", "dev", "abc")
    assert audit.classify({"Rolled-Back-To": ["abc"], "Promoted-From": ["dev"]}) == ("rollback", None, "abc")
    assert audit.classify({"Promoted-Commit": ["abc"]})[0] == "direct"  # half a trailer pair is no promotion
    owned = lambda path: path.endswith("-stg.yaml")  # noqa: E731
    assert audit.direct_edit_findings("c1", ["apps/a/values-stg.yaml"], owned) == []
    [finding] = audit.direct_edit_findings("c1", ["apps/a/values-stg.yaml", "apps/a/values.yaml"], owned)
    assert (finding.kind, finding.paths) == ("drift", ("apps/a/values.yaml",))


def test_tree_and_rollback_findings() -> None:
    a, b = TreeEntry("100644", "a" * 40), TreeEntry("100644", "b" * 40)
    assert audit.tree_finding("c", {"x": a}, {"x": a}) == []
    [finding] = audit.tree_finding("c", {"x": a, "y": a}, {"x": b})
    assert finding.paths == ("x", "y")
    assert audit.rollback_finding("c", [{"x": b}, {"x": a}], {"x": a}, "r" * 40) == []
    assert audit.rollback_finding("c", [{"x": b}], {"x": a}, "r" * 40)[0].kind == "rollback-tree-mismatch"


paths = st.lists(st.from_regex(r"[a-z]{1,3}(/[a-z]{1,3}){0,2}", fullmatch=True), unique=True, max_size=20)


@settings(max_examples=50)
@given(paths, st.data())
def test_files_by_action_lists_every_path_once_under_its_action(names: list[str], data: st.DataObject) -> None:
    files = [FileAction(name, data.draw(st.sampled_from(ACTIONS))) for name in names]
    grouped = files_by_action(files)
    assert set(grouped) == set(ACTIONS)
    assert sorted(p for group in grouped.values() for p in group) == sorted(names)
    for action in files:
        assert action.path in grouped[action.action]


def test_statement_shape() -> None:
    facts = PromotionFacts("stg", "stg", "prd", "production", "c" * 40, "p" * 40, "s" * 40, [], "1.0")
    data = statement(facts)
    assert data["_type"] == "https://in-toto.io/Statement/v1"
    assert data["subject"] == [{"name": "production", "digest": {"gitCommit": "c" * 40}}]
    assert data["predicate"]["target"] == {
        "environment": "prd",
        "branch": "production",
        "previousCommit": "p" * 40,
        "commit": "c" * 40,
    }
    assert data["predicate"]["driftDiscarded"] is None and data["predicate"]["plan"] is None
