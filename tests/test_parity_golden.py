"""`gitops parity` prints what it printed before its reads were rewritten (issue 11).

The golden files were written by the code before the rewrite (`GITOPS_REGENERATE_GOLDEN=1`
writes them again); the JSON ones were written again by main at 775365c, whose JSON layout
puts a container of scalars on one line (e1e05ea; the same data, checked). The repository has
several apps, pending changes, drift, apps absent from some environments, nested and vendored
charts, and files that are not valid YAML. Commit ids change with the clock, so the outputs
name each commit by the label the test gave it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from types import ModuleType

import pytest
from conftest import GitopsRepo, git, load_benchmark, make_gitops_repo, run_cli

from gitops_promote.core.charts import chart_files

GOLDEN = Path(__file__).parent / "data" / "golden" / "parity"
REGENERATE = os.environ.get("GITOPS_REGENERATE_GOLDEN") == "1"


def _files() -> dict[str, str | bytes | tuple[str, str | bytes]]:
    files: dict[str, str | bytes | tuple[str, str | bytes]] = {}
    files["environments.yaml"] = (Path(__file__).parent.parent / "environments.yaml").read_text()
    for app, tag in (("api", "1.0.0"), ("web", "2.0.0"), ("old", "0.3.0"), ("edge", "5")):
        files |= chart_files(app, image=f"ghcr.io/example/{app}", tag=tag)
    # anchors, merge keys, a timestamp, a number as tag; an env file that pins or drops the tag
    files["apps/edge/values.yaml"] = (
        "defaults: &d {repository: ghcr.io/example/edge, tag: 1.10}\nimage:\n  <<: *d\n  pullPolicy: Always\n"
        "released: 2024-01-01\n"
    )
    files["apps/edge/values-stg.yaml"] = "image:\n  tag: null\nenv: {A: 1, B: [1, 2]}\n"
    files["apps/edge/values-prd.yaml"] = "image: {tag: {nested: true}}\nenv: {A: 2, C: {}}\n"
    files["apps/edge/values-dev.yaml"] = "env: {A: 0, B: []}\n1: int key\ntrue: bool key\n"
    # a re-defined anchor (YAML 1.2; PyYAML refuses it, the ruamel fallback reads it)
    files["apps/web/values-prd.yaml"] = "a: &x 1\nb: &x 2\nc: *x\nimage:\n  tag: '2.0.0-prd'\n"
    # a nested chart, and a vendored subchart that is not an app of its own
    files |= {
        "apps/group/Chart.yaml": "apiVersion: v2\nname: group\nversion: 1.0.0\n",
        "apps/group/inner/Chart.yaml": "apiVersion: v2\nname: inner\nversion: 0.0.1\nappVersion: 7\n",
        "apps/group/inner/values.yaml": "image:\n  tag: inner-1\n",
        "apps/api/charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 9.9.9\n",
        "apps/api/charts/sub/values.yaml": "image: {tag: sub}\n",
    }
    # a chart that is a list, a multi-document values file, an empty overlay, a symlinked chart
    files["apps/odd/Chart.yaml"] = "- not\n- a mapping\n"
    files["apps/odd/values.yaml"] = "image: {tag: first}\n---\nimage: {tag: second}\n"
    files["apps/odd/values-dev.yaml"] = ""
    files["apps/odd/values-stg.yaml"] = "# only a comment\n"
    files["apps/odd/values-prd.yaml"] = "- a list\n"
    files["apps/link/Chart.yaml"] = ("120000", "../api/Chart.yaml")
    files["apps/link/values.yaml"] = "image: nginx:1.25\n"
    return files


def _build(path: Path) -> tuple[GitopsRepo, dict[str, str]]:
    repo = make_gitops_repo(path, _files(), bare=True)
    labels = {repo.head("dev"): "initial"}

    def commit(label: str, branch: str, changes: dict[str, str | bytes | None]) -> None:
        labels[repo.commit(branch, dict(changes), label)] = label

    # pending on dev: a release, a new app, a removed app, broken files
    commit(
        "release-api",
        "dev",
        {
            "apps/api/Chart.yaml": 'apiVersion: v2\nname: api\nversion: 0.2.0\nappVersion: "1.1.0"\n',
            "apps/api/values.yaml": 'image:\n  repository: ghcr.io/example/api\n  tag: "1.1.0"\n',
        },
    )
    commit("new-jobs", "dev", {"apps/jobs/Chart.yaml": "name: jobs\nversion: 1.0.0\n", "apps/jobs/values.yaml": ""})
    commit("drop-old", "dev", {p: None for p in _files() if p.startswith("apps/old/")})
    commit(
        "break-dev",
        "dev",
        {
            "apps/web/values.yaml": "image: [unclosed\n",
            "apps/web/values-dev.yaml": b"\xff\xfe not utf-8\n",
            "apps/group/inner/values.yaml": "image:\n  tag: 1\n  tag: 2\nbig: " + "9" * 4100 + "\n",
        },
    )
    # key gaps: dev and prd set env.FEATURE, stg does not
    commit("feature-dev", "dev", {"apps/api/values-dev.yaml": "replicaCount: 1\nenv:\n  FEATURE: on\n"})
    commit("feature-prd", "prd", {"apps/api/values-prd.yaml": "replicaCount: 3\nenv:\n  FEATURE: off\n"})
    # drift: hotfixes straight on stg and prd
    commit("hotfix-web-prd", "prd", {"apps/web/values.yaml": "image:\n  tag: '2.0.1-hotfix'\n"})
    commit("hotfix-edge-stg", "stg", {"apps/edge/templates/service.yaml": "kind: Service\n"})
    commit("chart-stg", "stg", {"apps/group/Chart.yaml": "version: [1, 2]\nappVersion: {a: b}\n"})
    return repo, labels


def _normalise(text: str, labels: dict[str, str]) -> str:
    def name(match: re.Match[str]) -> str:
        sha = match.group()
        for full, label in labels.items():
            if full.startswith(sha):
                return f"<{label}>"
        return sha  # not a commit of the test (a blob id, say): kept as it is

    return re.sub(r"\b[0-9a-f]{12}(?:[0-9a-f]{28})?\b", name, text)


def _check(name: str, actual: str) -> None:
    golden = GOLDEN / name
    if REGENERATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitopsRepo, dict[str, str]]:
    # module scope: the autouse isolation fixture is function-scoped, so set identities here too
    env = {
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Committer",
        "GIT_COMMITTER_EMAIL": "committer@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return _build(tmp_path_factory.mktemp("parity-golden") / "repo")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.mark.parametrize("output", ["json", "markdown", "text"])
def test_parity_output_is_unchanged(
    scenario: tuple[GitopsRepo, dict[str, str]], output: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, labels = scenario
    monkeypatch.delenv("COLUMNS", raising=False)  # text tables are 200 columns wide off a terminal
    result = run_cli(repo.path, "parity", "-o", output)
    assert result.exit_code == 1, result.stderr  # the hotfixes are drift
    if output == "json":
        data = json.loads(result.stdout)
        assert data["state"] == "drift" and data["apps"]["apps/jobs"]["stg"]["state"] == "pending"
    _check(f"parity.{output}.txt", _normalise(result.stdout + "\n--- stderr ---\n" + result.stderr, labels))


def test_parity_output_without_a_branch_is_unchanged(
    scenario: tuple[GitopsRepo, dict[str, str]], tmp_path: Path
) -> None:
    repo, labels = scenario
    copy = tmp_path / "copy.git"  # the fixture's repository is shared: prd goes from a copy
    shutil.copytree(repo.path, copy)
    git(copy, "update-ref", "-d", "refs/heads/prd")
    result = run_cli(copy, "parity", "-o", "json", "--no-fetch")
    assert result.exit_code == 1, result.stderr  # the hotfix on stg is drift
    assert result.json()["missing_branches"] == ["prd"]
    _check("parity-no-prd.json.txt", _normalise(result.stdout, labels))


# ---- the benchmark generator's repositories (fixed dates: the same commit ids every run) --------

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _make_repo() -> ModuleType:
    return load_benchmark("make_repo")


@pytest.mark.parametrize("one_change", [False, True], ids=["std-40", "one-40"])
def test_parity_on_generated_repositories_is_unchanged(tmp_path: Path, one_change: bool) -> None:
    make_repo = _make_repo()
    spec = make_repo.RepoSpec(apps=40, bare=True, one_change=one_change)
    repo = tmp_path / "repo.git"
    make_repo.build_repo(repo, spec)
    result = run_cli(repo, "parity", "-o", "json", "--no-fetch")
    assert result.exit_code in (0, 1), result.stderr
    _check(
        f"generated-{'one' if one_change else 'std'}-40.json.txt", result.stdout + "\n--- stderr ---\n" + result.stderr
    )
