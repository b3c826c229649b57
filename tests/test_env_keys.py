"""env_specific_keys: promoted files keep the target's values for the listed keys, nothing else."""

from __future__ import annotations

import difflib
from pathlib import Path

from conftest import REGISTRY, make_gitops_repo, run_cli

KEYS_REGISTRY = REGISTRY + (
    "  env_specific_keys:\n"
    '    "argocd/*.yaml": [spec.source.targetRevision, spec.destination.namespace, spec.source.helm.valueFiles]\n'
)

APP = """\
# The api application: Argo CD syncs it from this environment's branch.
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: api   # keep the name short
spec:
  project: default
  source:
    repoURL: https://git.example.com/org/gitops.git
    targetRevision: {branch}
    path: apps/api
    helm:
      valueFiles: [values.yaml, values-{branch}.yaml]
  destination:
    server: https://kubernetes.default.svc
    namespace: "api-{branch}"
  syncPolicy:
    automated: {{prune: true}}
"""


def test_only_listed_keys_differ_from_the_source(tmp_path: Path) -> None:
    repo = make_gitops_repo(
        tmp_path / "repo", {"environments.yaml": KEYS_REGISTRY, "argocd/api.yaml": APP.format(branch="dev")}
    )
    repo.commit("stg", {"argocd/api.yaml": APP.format(branch="stg")}, "stg tracks stg")
    dev_file = APP.format(branch="dev").replace("prune: true", "prune: true, selfHeal: true")
    repo.commit("dev", {"argocd/api.yaml": dev_file}, "self-heal")

    plan = run_cli(repo.path, "plan", "dev", "stg", "-o", "json")
    assert plan.exit_code == 0, plan.stderr
    entry = next(f for f in plan.json()["files"] if f["path"] == "argocd/api.yaml")
    assert entry == {
        "path": "argocd/api.yaml",
        "action": "modified",
        "kept_keys": ["spec.source.targetRevision", "spec.destination.namespace", "spec.source.helm.valueFiles"],
    }
    assert plan.json()["drift"] == []
    diff = run_cli(repo.path, "diff", "dev", "stg", "-o", "json").json()
    notes = next(f for f in diff["files"] if f["path"] == "argocd/api.yaml")["notes"]
    assert any(n.startswith("kept keys (stg's values): spec.source.targetRevision") for n in notes)

    result = run_cli(repo.path, "promote", "dev", "stg")
    assert result.exit_code == 0, result.stderr
    promoted = repo.read("stg", "argocd/api.yaml").decode()
    diff = difflib.ndiff(dev_file.splitlines(), promoted.splitlines())
    changed = [line[0] + line[2:] for line in diff if line[:1] in "+-"]
    assert changed == [
        "-    targetRevision: dev", "+    targetRevision: stg",
        "-      valueFiles: [values.yaml, values-dev.yaml]", "+      valueFiles: [values.yaml, values-stg.yaml]",
        '-    namespace: "api-dev"', '+    namespace: "api-stg"',
    ]  # fmt: skip
    assert "repoURL: https://git.example.com/org/gitops.git" in promoted
    assert "# keep the name short" in promoted and "selfHeal: true" in promoted

    again = run_cli(repo.path, "promote", "dev", "stg", "-o", "json")
    assert again.exit_code == 0 and again.json()["promoted"] is False


def test_keys_only_change_is_not_drift_and_not_a_change(tmp_path: Path) -> None:
    repo = make_gitops_repo(
        tmp_path / "repo", {"environments.yaml": KEYS_REGISTRY, "argocd/api.yaml": APP.format(branch="dev")}
    )
    repo.commit("stg", {"argocd/api.yaml": APP.format(branch="stg")}, "stg tracks stg")
    result = run_cli(repo.path, "promote", "dev", "stg", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["promoted"] is False  # only the env's own keys differ


def test_other_direct_changes_are_still_drift(tmp_path: Path) -> None:
    repo = make_gitops_repo(
        tmp_path / "repo", {"environments.yaml": KEYS_REGISTRY, "argocd/api.yaml": APP.format(branch="dev")}
    )
    hotfix = repo.commit(
        "stg", {"argocd/api.yaml": APP.format(branch="stg").replace("default", "hotfix")}, "stg hotfix"
    )
    repo.commit("dev", {"apps/x.yaml": "x: 1\n"}, "dev")
    result = run_cli(repo.path, "promote", "dev", "stg", "-o", "json")
    assert result.exit_code == 1
    assert result.json()["drift"] == [{"path": "argocd/api.yaml", "commits": [hotfix]}]


def test_unsafe_edit_is_refused_not_rewritten(tmp_path: Path) -> None:
    aliased = "base: &rev dev\nspec:\n  source:\n    targetRevision: *rev\n"
    repo = make_gitops_repo(tmp_path / "repo", {"environments.yaml": KEYS_REGISTRY, "argocd/x.yaml": aliased})
    repo.commit("stg", {"argocd/x.yaml": "spec:\n  source:\n    targetRevision: stg\n"}, "stg")
    repo.commit("dev", {"argocd/x.yaml": aliased + "extra: 1\n"}, "dev")
    stg = repo.head("stg")
    result = run_cli(repo.path, "promote", "dev", "stg", "--discard-drift")
    assert result.exit_code == 1 and "argocd/x.yaml" in result.stderr
    assert repo.head("stg") == stg
