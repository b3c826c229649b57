"""Text output counts kept env files beyond ten; JSON and --verbose list every one."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import load_benchmark, run_cli

make_repo = load_benchmark("make_repo")


@pytest.fixture(scope="module")
def many_kept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = make_repo.RepoSpec(apps=24, all_env_files_differ=True, bare=True)  # 23 kept stg files
    path: Path = make_repo.build_repo(tmp_path_factory.mktemp("kept") / "repo.git", spec).path
    return path


@pytest.mark.parametrize("command", ["plan", "promote"])
def test_text_counts_the_kept_files(many_kept: Path, command: str) -> None:
    argv = [command, "dev", "stg"] + (["--dry-run"] if command == "promote" else [])
    shown = run_cli(many_kept, *argv)
    assert shown.exit_code == 0, shown.stderr
    assert "= kept      23 env files kept (the target's own copies; --verbose lists them)" in shown.stdout
    assert "= kept      apps/" not in shown.stdout
    verbose = run_cli(many_kept, *argv, "--verbose")
    assert verbose.stdout.count("= kept      apps/") == 23 and "env files kept" not in verbose.stdout
    listed = run_cli(many_kept, *argv, "-o", "json")
    assert sum(f["action"] == "kept" for f in listed.json()["files"]) == 23


def test_few_kept_files_are_listed(tmp_path: Path) -> None:
    spec = make_repo.RepoSpec(apps=30, bare=True)  # every 10th app tuned: 3 kept
    repo = make_repo.build_repo(tmp_path / "repo.git", spec).path
    shown = run_cli(repo, "plan", "dev", "stg")
    assert shown.stdout.count("= kept      apps/") == 3 and "env files kept" not in shown.stdout
