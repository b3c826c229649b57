"""core/apps.py and core/backport.py: the pure rules of --app and of a backport's decisions."""

from __future__ import annotations

import pytest

from gitops_promote.core.apps import App, Scope, covers, discover, parse_trailer, resolve, scope_for
from gitops_promote.core.backport import ALREADY, CONFLICT, MERGE, TAKE, decide
from gitops_promote.core.tree import TreeEntry
from gitops_promote.errors import UsageError

PATHS = [
    "apps/api/Chart.yaml",
    "apps/api/charts/redis/Chart.yaml",  # vendored subchart: part of api
    "services/api/Chart.yaml",
    "apps/web/Chart.yaml",
    "argocd/prd/apps/web.yaml",
    "argocd/prd/apps/web/extra.yaml",
    "argocd/prd/apps/website.yaml",
    "argocd/prd/root.yaml",
]


def test_apps_are_chart_directories_without_vendored_subcharts() -> None:
    assert [a.path for a in discover(PATHS)] == ["apps/api", "apps/web", "services/api"]


def test_by_name_by_directory_and_ambiguity() -> None:
    apps = discover(PATHS)
    assert [a.path for a in resolve(["web"], apps)] == ["apps/web"]
    assert [a.path for a in resolve(["services/api/", "apps/web"], apps)] == ["apps/web", "services/api"]
    with pytest.raises(UsageError, match="names several apps: apps/api, services/api"):
        resolve(["api"], apps)
    with pytest.raises(UsageError) as info:
        resolve(["wbe"], apps)
    assert "did you mean 'web'?" in info.value.hint and "apps: apps/api, apps/web, services/api" in info.value.hint


def test_an_apps_paths_include_its_argo_cd_applications_only() -> None:
    scope = Scope((App("apps/web"),))
    inside = [p for p in PATHS if scope.contains(p)]
    assert inside == ["apps/web/Chart.yaml", "argocd/prd/apps/web.yaml", "argocd/prd/apps/web/extra.yaml"]
    assert scope_for([], PATHS) is None


def test_which_promotions_count_as_a_base() -> None:
    assert covers(None, ()) and covers(None, ("apps/api",))  # a full promotion covers everything
    assert covers(("apps/api", "apps/web"), ("apps/api",))
    assert not covers(("apps/api",), ())  # a partial one is no base for the whole branch
    assert not covers(("apps/api",), ("apps/web",))
    assert parse_trailer("apps/api, apps/web") == ("apps/api", "apps/web")


A, B, C = (TreeEntry("100644", c * 40) for c in "abc")
LINK = TreeEntry("120000", "d" * 40)


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "expected"),
    [
        (A, A, B, TAKE),  # the receiving side still has the base: take the hotfix
        (A, B, B, ALREADY),
        (A, B, C, MERGE),  # both changed the file: three-way merge of contents
        (A, A, None, TAKE),  # deleted by the hotfix
        (A, B, None, CONFLICT),  # deleted against an edit
        (None, None, B, TAKE),  # a new file
        (None, C, B, CONFLICT),  # two different new files
        (A, LINK, B, CONFLICT),  # a symlink on one side
    ],
)
def test_backport_decisions(
    base: TreeEntry | None, ours: TreeEntry | None, theirs: TreeEntry | None, expected: str
) -> None:
    assert decide(base, ours, theirs) == expected
