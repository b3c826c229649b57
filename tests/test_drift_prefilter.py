"""The drift check's shortcut (commands/_engine._changed_where_promoted): when the step's
diff-tree shows that the target changed no file the promotion changes since its base, the
log of the target's commits is not read. It must find exactly the drift that reading the
log finds, on any history of direct changes, reverts, promotions and rollbacks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import GitopsRepo, make_gitops_repo, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_promote.adapters.git import Repository
from gitops_promote.commands._engine import PromotionRequest, prepare

FILES = ["apps/api/values.yaml", "apps/api/values-stg.yaml", "apps/web/values.yaml", "apps/web/extra.yaml"]
CONTENTS = ["a: 1\n", "a: 2\n", "a: 3\n", None]  # None: the file deleted
BRANCH_STEP = st.tuples(st.sampled_from(["dev", "stg"]), st.sampled_from(FILES), st.sampled_from(CONTENTS))
# A history: commits on dev or stg, promotions of dev into stg, and rollbacks of stg.
STEPS = st.lists(st.one_of(BRANCH_STEP, st.just(("promote",)), st.just(("rollback",))), max_size=6)
# ... and, last, commits on stg itself: what the check looks at.
STG_TAIL = st.lists(
    st.tuples(st.just("stg"), st.sampled_from(FILES), st.sampled_from(CONTENTS)), min_size=1, max_size=3
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_gitops_repo(tmp_path_factory.mktemp("drift") / "repo", bare=True).path


def _drift(path: Path, shortcut: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[str, ...]:
    with monkeypatch.context() as patched:
        if not shortcut:  # as if the step's diff had not compared the target with its base
            patched.setattr(Repository, "recorded_changes", lambda self, old, new: None)
        with Repository(path) as repo:
            prepared = prepare(repo, PromotionRequest("dev", "stg", fetch=False))
    return tuple(d.path for d in prepared.drift)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS, tail=STG_TAIL)
def test_the_shortcut_finds_the_drift_the_log_finds(
    template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    steps: list[tuple[str, ...]],
    tail: list[tuple[str, str, str | None]],
) -> None:
    path = tmp_path_factory.mktemp("case") / "repo"
    shutil.copytree(template, path)
    repo = GitopsRepo(path)
    for step in [*steps, *tail]:
        if step == ("promote",):
            run_cli(path, "promote", "dev", "stg", "--no-push", "--discard-drift")
        elif step == ("rollback",):
            run_cli(path, "rollback", "stg", "--no-push")
        else:
            branch, file, content = step
            repo.commit(branch, {file: content})
    assert _drift(path, True, monkeypatch) == _drift(path, False, monkeypatch)


def test_the_shortcut_still_finds_a_direct_change(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not vacuous: a case where both ways find drift."""
    path = tmp_path / "repo"
    shutil.copytree(template, path)
    repo = GitopsRepo(path)
    repo.commit("dev", {"apps/api/values.yaml": "a: 1\n"})
    repo.commit("stg", {"apps/api/values.yaml": "a: 2\n"})
    assert _drift(path, True, monkeypatch) == _drift(path, False, monkeypatch) == ("apps/api/values.yaml",)
