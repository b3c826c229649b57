"""A big diff reads its blobs by a `cat-file --batch` of their own, started before the apps
are looked up (commands/diff._prefetch, adapters/catfile.BlobBatch); a small one through the
run's session as before. Either way the same reports; the blobs over the size limit stay
unread."""

from __future__ import annotations

import pytest
from conftest import GitopsRepo, run_cli
from test_diff_cli import SECRET, scenario

from gitops_promote.adapters.git import Repository
from gitops_promote.commands import diff as command
from gitops_promote.commands._engine import PromotionRequest


def _request() -> PromotionRequest:
    return PromotionRequest("dev", "stg", None, None, None, True, apps=())


def _bulk(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every diff read in bulk; the blobs each bulk read asked for."""
    monkeypatch.setattr(command, "BULK_BLOBS", 1)
    asked: list[list[str]] = []
    real = Repository.blob_batch

    def counted(self: Repository, shas: list[str]) -> object:
        asked.append(list(shas))
        return real(self, shas)

    monkeypatch.setattr(Repository, "blob_batch", counted)
    return asked


def test_bulk_and_session_reads_make_the_same_diff(gitops_repo: GitopsRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario(gitops_repo)
    session = run_cli(gitops_repo.path, "diff", "dev", "stg", "-o", "json")
    assert session.exit_code == 0, session.stderr
    asked = _bulk(monkeypatch)
    bulk = run_cli(gitops_repo.path, "diff", "dev", "stg", "-o", "json")
    assert asked and len(asked[0]) > 3  # the scenario's changed files, read in bulk
    assert bulk.stdout == session.stdout and SECRET not in bulk.stdout
    eager = command.run(gitops_repo.path, _request())
    assert eager.report.files == command.run(gitops_repo.path, _request(), stream=True).report.files


def test_a_blob_over_the_limit_stays_unread(gitops_repo: GitopsRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    """The target's copy over the limit (the source's the step reads itself)."""
    big = "big: " + "x" * 5000 + "\n"
    gitops_repo.commit("stg", {"apps/api/config.yaml": big, "apps/web/config.yaml": "a: 0\n"}, "big")
    gitops_repo.commit("dev", {"apps/api/config.yaml": "big: 0\n", "apps/web/config.yaml": "a: 1\n"}, "small")
    asked = _bulk(monkeypatch)
    monkeypatch.setattr(command, "MAX_DIFF_BYTES", 4096)
    result = command.run(gitops_repo.path, _request(), stream=True)
    assert result.source is not None
    big_sha = result.source.prepared.target_tree["apps/api/config.yaml"].sha
    assert asked and big_sha not in asked[0] and big_sha not in result.source.prepared.blobs.contents
    files = {f.path: f for f in result.files()}
    diff = files["apps/api/config.yaml"].diff
    assert diff is not None and diff.kind == "binary" and any("skipped" in n for n in diff.notes)
    small = files["apps/web/config.yaml"].diff
    assert small is not None and small.changes
