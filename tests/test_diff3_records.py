"""A changed file's JSON record made from one pass of the seam over its values
(render/diffreport._changes_record_text) is the record the general writer makes
(`_record_text(_file_json(f))`, itself pinned to `console.print_json` by test_diff_stream.py):
on generated reports with hostile text, every scalar type, NaN and infinities, masked
changes and identities, and on the records of a real diff."""

from __future__ import annotations

import math
from typing import Any

from conftest import GitopsRepo
from hypothesis import given, settings
from hypothesis import strategies as st
from test_diff_cli import scenario
from test_diff_stream import _HOSTILE

from gitops_promote.commands import diff as command
from gitops_promote.commands._engine import PromotionRequest
from gitops_promote.core.diffmodel import Change, FileDiff, FileReport
from gitops_promote.errors import Location, Problem
from gitops_promote.render.diffreport import _changes_record_text, _file_json, _record_text, record_text

_SCALARS = st.one_of(
    _HOSTILE,
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e300]),
)
_VALUES = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=2), st.dictionaries(_HOSTILE, _SCALARS, max_size=2))
_SEGMENTS = st.one_of(_HOSTILE, st.integers(0, 3))


@st.composite
def _changes(draw: st.DrawFn, values: st.SearchStrategy[Any]) -> Change:
    path = draw(st.lists(_SEGMENTS, max_size=3))
    ids = draw(st.dictionaries(st.integers(0, 3), _HOSTILE, max_size=1))
    op = draw(st.sampled_from(["changed", "added", "removed", "moved"]))
    return Change(path, op, draw(values), draw(values), ids, draw(st.booleans()))


@st.composite
def _reports(draw: st.DrawFn, values: st.SearchStrategy[Any]) -> FileReport:
    diff = FileDiff(
        draw(_HOSTILE),
        draw(st.sampled_from(["yaml", "text", "binary"])),
        draw(st.lists(_changes(values), max_size=4)),
        text_diff=draw(_HOSTILE),
        formatting_only=draw(st.booleans()),
        old_size=draw(st.none() | st.integers(0, 10**6)),
        new_size=draw(st.none() | st.integers(0, 10**6)),
    )
    if draw(st.integers(0, 4)) == 0:
        diff.notes.append(draw(_HOSTILE))
    if draw(st.integers(0, 4)) == 0:
        diff.errors.append(Problem(draw(_HOSTILE), Location(draw(_HOSTILE), 1, 2), draw(_HOSTILE)))
    status = draw(st.sampled_from(["added", "modified", "deleted", "seeded", "orphaned", "formatting-only"]))
    return FileReport(draw(_HOSTILE), draw(_HOSTILE), status, diff)


def _general(report: FileReport) -> str:
    return _record_text(_file_json(report))


@settings(max_examples=400, deadline=None)
@given(_reports(_SCALARS))
def test_scalar_changes_make_the_general_record(report: FileReport) -> None:
    assert record_text(report) == _general(report)
    assert report.diff is not None
    if report.diff.changes and not (report.diff.errors or report.diff.notes):
        assert _changes_record_text(report, report.diff) == _general(report)  # the fast path itself


@settings(max_examples=200, deadline=None)
@given(_reports(_VALUES))
def test_nested_values_are_left_to_the_general_writer(report: FileReport) -> None:
    assert record_text(report) == _general(report)
    assert report.diff is not None
    nested = any(isinstance(v, (dict, list)) for c in report.diff.changes for v in (c.old, c.new))
    if nested:
        assert _changes_record_text(report, report.diff) is None


def test_the_records_of_a_real_diff(gitops_repo: GitopsRepo) -> None:
    scenario(gitops_repo)
    web = gitops_repo.read("dev", "apps/web/values.yaml").decode().replace("2.0.0", "2.1.0")
    gitops_repo.commit("dev", {"apps/web/values.yaml": web + "password: hunter2\nreplicaCount: 3\n"}, "tag")
    request = PromotionRequest("dev", "stg", None, None, None, True, apps=())
    files = list(command.run(gitops_repo.path, request, stream=True).files())
    fast = [f for f in files if f.diff and f.diff.changes and _changes_record_text(f, f.diff) is not None]
    assert fast  # the scenario has changed values files
    assert [record_text(f) for f in files] == [_general(f) for f in files]
