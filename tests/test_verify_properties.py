"""Property: whatever sequence of upstream commits, direct edits of the target's own files and
promotions the tool makes, `gitops verify` finds nothing; a hand change of the newest
promotion's tree is found, naming the path. Real git; few examples (each is a repository)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from conftest import GitopsRepo, git, make_gitops_repo, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_promote.adapters.git import Repository
from gitops_promote.core.tree import TreeEntry

COMMON = ["apps/api/values.yaml", "apps/web/values.yaml", "apps/new/values.yaml", "README.md"]
OWN = ["apps/api/values-stg.yaml", "apps/web/values-stg.yaml"]
TAMPERED = "apps/api/values.yaml"
contents = st.sampled_from(["a: 1\n", "a: 2\n", "b: [1, 2]\n"])
step = st.one_of(
    st.tuples(st.just("dev"), st.sampled_from([*COMMON, "apps/new/values-stg.yaml"]), contents),
    st.tuples(st.just("stg"), st.sampled_from(OWN), contents),
    st.tuples(st.just("promote"), st.just(""), st.just("")),
)


def _forge_tip(repo: GitopsRepo, content: bytes) -> str:
    """The tip promotion again, same parents and message, with TAMPERED's content replaced."""
    tip = repo.head("stg")
    parents = git(repo.path, "log", "-1", "--format=%P", tip).split()
    message = git(repo.path, "log", "-1", "--format=%B", tip)
    with Repository(repo.path) as handle:
        entries = dict(handle.ls_tree(tip))
        if entries.get(TAMPERED) and handle.read_blob(entries[TAMPERED].sha) == content:
            content += b"# changed by hand\n"
        entries[TAMPERED] = TreeEntry("100644", handle.write_blob(content))
        forged = handle.commit_tree(handle.write_tree(entries), parents, message)
    git(repo.path, "update-ref", "refs/heads/stg", forged, tip)
    return forged


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=6), contents)
def test_tool_made_history_verifies_and_tampering_is_found(steps: list[tuple[str, str, str]], edit: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_gitops_repo(Path(tmp) / "repo", bare=True)
        repo.commit("dev", {"apps/api/values.yaml": "first: true\n"}, "something to promote")
        for kind, path, content in [*steps, ("promote", "", "")]:
            if kind == "promote":
                result = run_cli(repo.path, "promote", "dev", "stg")
                assert result.exit_code == 0, result.stderr
            else:
                repo.commit(kind, {path: content}, f"{kind}: {path}")
        result = run_cli(repo.path, "verify", "stg", "-o", "json")
        assert result.exit_code == 0, result.stdout
        kinds = [c["kind"] for c in result.json()["commits"]]
        assert kinds[-1] == "promotion" and set(kinds) <= {"promotion", "direct"}
        if kinds[0] != "promotion":
            return  # the final promotion found nothing new: stg's tip is a direct edit
        forged = _forge_tip(repo, edit.encode())
        found = run_cli(repo.path, "verify", "stg", "-o", "json").json()["findings"]
        assert [(f["commit"], f["kind"], f["paths"]) for f in found] == [(forged, "tree-mismatch", [TAMPERED])]
