"""core/apps.py and core/backport.py: the pure rules of --app and of a backport's decisions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


APP_DIRS = st.lists(st.sampled_from(["apps/api", "apps/api/sub", "services/api", "apps/web", ".", "web"]), unique=True)
ANY_PATH = st.sampled_from(
    [
        "apps/api/values.yaml",
        "apps/api/sub/x.yaml",
        "services/api/values.yaml",
        "argocd/prd/apps/api.yaml",
        "argocd/stg/apps/web/extra.yaml",
        "argocd/prd/root.yaml",
        "web/Chart.yaml",
        "README.md",
    ]
)


@settings(max_examples=200, deadline=None)
@given(APP_DIRS, st.lists(ANY_PATH, max_size=12))
def test_grouping_by_lookup_is_grouping_by_trying_every_app(dirs: list[str], paths: list[str]) -> None:
    """The indexed grouping gives what the first-matching-app rule gives (its definition)."""
    from gitops_promote.core.apps import _belongs, group_by_app

    apps = [App(d) for d in dirs]
    expected: dict[str, list[str]] = {}
    for path in paths:
        owner = next((a.path for a in apps if _belongs(path, a)), "")
        expected.setdefault(owner, []).append(path)
    order = {a.path: i for i, a in enumerate(apps)}
    expected = dict(sorted(expected.items(), key=lambda item: order.get(item[0], len(order))))
    assert group_by_app(paths, apps) == expected


CHART_FILES = st.sampled_from(
    [
        "Chart.yaml",
        "apps/Chart.yaml",
        "apps/api/Chart.yaml",
        "apps/api/charts/redis/Chart.yaml",
        "apps/api/templates/deployment.yaml",
        "apps/web/Chart.yaml",
        "apps/web/values.yaml",
        "services/api/Chart.yaml",
        "platform/charts/x/Chart.yaml",
    ]
)
REQUESTS = st.sampled_from(
    [
        "apps/api",
        "apps/api/",
        "apps/web",
        "services/api",
        "apps/api/charts/redis",
        "platform/charts/x",
        "apps/nope",
        "web",
        "api",
        "redis",
        "x",
        "apps",
        "nope",
        ".",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.sets(CHART_FILES), st.sets(CHART_FILES), st.lists(REQUESTS, min_size=1, max_size=3))
def test_an_app_looked_up_is_the_app_the_listing_finds(
    source: set[str], target: set[str], requested: list[str]
) -> None:
    """--app looked up (a directory by its Chart.yaml, a name by the charts of that name) gives
    the scope, or the error, the listing of both trees gives; an unknown app is left to the
    listing (None), whose error carries the hint."""
    from gitops_promote.core.apps import scope_looked_up

    def charts_named(name: str) -> list[str]:
        return sorted(p for p in source | target if p == f"{name}/Chart.yaml" or p.endswith(f"/{name}/Chart.yaml"))

    def outcome(find: object) -> object:
        try:
            return find()  # type: ignore[operator]
        except UsageError as exc:
            return ("error", exc.message)

    looked_up = outcome(lambda: scope_looked_up(requested, (source, target), charts_named))
    listed = outcome(lambda: scope_for(requested, source, target))
    if looked_up is not None:
        assert looked_up == listed
    else:
        # only an unknown app (or the root chart, ".") is left to the listing
        assert isinstance(listed, tuple) or "." in [r.strip().rstrip("/") for r in requested]


def test_an_unknown_apps_hint_lists_twenty_apps_and_counts_the_rest() -> None:
    apps = [App(f"apps/app{i:05d}") for i in range(20_000)]
    with pytest.raises(UsageError) as info:
        resolve(["nope"], apps)
    assert info.value.hint.endswith("apps/app00019 … and 19,980 more (gitops parity lists every app)")
    assert "apps/app00020" not in info.value.hint
