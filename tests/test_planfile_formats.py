"""A plan saved in a SHA-256 repository and applied in a SHA-1 one, or the reverse (issue 12):
refused with exit 2 and a message naming the mismatch, not "does not name a commit". Real
repositories made with `git init --object-format=...`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import GitopsRepo, git, run_cli, standard_files

from gitops_promote.adapters.git import Repository
from gitops_promote.adapters.scaffold import commit_changes, commit_files, set_branch
from gitops_promote.core import planfile
from gitops_promote.errors import ConfigError

MISMATCH = "the object-name length does not match this repository's object format"


def make_repo(path: Path, object_format: str) -> GitopsRepo:
    path.mkdir()
    git(path, "init", "-q", "--bare", f"--object-format={object_format}", "--initial-branch=main")
    with Repository(path) as repo:
        root = commit_files(repo, standard_files(), [], "initial")
        for branch in ("dev", "stg", "prd"):
            set_branch(repo, branch, root)
        set_branch(repo, "dev", commit_changes(repo, root, {"apps/api/values.yaml": "replicas: 3\n"}, "dev change"))
    return GitopsRepo(path)


@pytest.fixture
def repos(tmp_path: Path) -> dict[str, tuple[GitopsRepo, Path]]:
    """Per object format: the repository and a plan saved in it by `gitops plan --save`."""
    found = {}
    for object_format in ("sha1", "sha256"):
        repo = make_repo(tmp_path / f"{object_format}.git", object_format)
        plan = tmp_path / f"{object_format}.json"
        assert run_cli(repo.path, "plan", "dev", "stg", "--save", str(plan)).exit_code == 0
        found[object_format] = (repo, plan)
    return found


def id_length(repo: GitopsRepo) -> int:
    with Repository(repo.path) as opened:
        return opened.id_length


@pytest.mark.parametrize(("saved_in", "applied_in"), [("sha256", "sha1"), ("sha1", "sha256")])
def test_a_plan_of_the_other_object_format_is_refused(
    repos: dict[str, tuple[GitopsRepo, Path]], saved_in: str, applied_in: str
) -> None:
    plan = repos[saved_in][1]
    lengths = {len(json.loads(plan.read_text())[k]) for k in planfile.COMMIT_FIELDS}
    assert lengths == {64 if saved_in == "sha256" else 40}
    with pytest.raises(ConfigError, match=MISMATCH) as refused:
        planfile.read(plan, id_length(repos[applied_in][0]))
    assert refused.value.exit_code == 2
    assert f"object format is {applied_in}" in str(refused.value), str(refused.value)
    assert "gitops plan SRC DST --save FILE" in refused.value.hint


@pytest.mark.parametrize("object_format", ["sha1", "sha256"])
def test_a_plan_of_the_same_object_format_reads(repos: dict[str, tuple[GitopsRepo, Path]], object_format: str) -> None:
    repo, plan = repos[object_format]
    assert planfile.read(plan, id_length(repo)).source == "dev"


@pytest.mark.parametrize(("saved_in", "applied_in"), [("sha256", "sha1"), ("sha1", "sha256")])
def test_promote_with_a_plan_of_the_other_object_format_exits_2(
    repos: dict[str, tuple[GitopsRepo, Path]], saved_in: str, applied_in: str
) -> None:
    result = run_cli(repos[applied_in][0].path, "promote", "--plan", str(repos[saved_in][1]), "--dry-run")
    assert result.exit_code == 2, result.stderr
    assert MISMATCH in result.stderr, result.stderr
