"""The streamed JSON of `gitops diff` is byte for byte what `console.print_json` writes.

`DiffResult.json_chunks` writes a file's record as it is made (the whole report of a
40,000-file diff is never built); these tests pin that its pieces join to exactly the text of
`print_json(result.to_json())`, hostile data included, and that a streamed run refuses
an all-unparsable diff before writing anything, as the eager run does.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import GitopsRepo, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st
from test_diff_cli import SECRET, scenario

from gitops_promote.commands import diff as command
from gitops_promote.commands._engine import PromotionRequest
from gitops_promote.core.diffmodel import DiffReport, FileReport
from gitops_promote.core.yamldiff import diff_file
from gitops_promote.errors import GitError
from gitops_promote.render import console
from gitops_promote.render.diffreport import _scalar_texts, counts, json_chunks, to_json


def _printed(data: Any) -> str:
    """What `console.print_json` writes for `data`."""
    out, saved = io.StringIO(), sys.stdout
    sys.stdout = out
    try:
        console.print_json(data)
    finally:
        sys.stdout = saved
    return out.getvalue()


def _streamed(report: DiffReport, tail: dict[str, Any]) -> str:
    return "".join(json_chunks(report, counts(report), report.sorted_files(), tail))


# Paths, apps and file contents with what the seam must escape: controls, line breaks, bidi
# overrides, quotes, backslashes, undecodable bytes (surrogate escapes), non-ASCII.
_HOSTILE = st.text(
    alphabet=st.sampled_from(
        [*'ab/.:=, -"\\\n\t{}[]', "\x1b", "\x7f", "\x85", "\u202e", "\u2028", "\udcff", "é", "日"]
    ),
    max_size=12,
)
_YAML = st.sampled_from(
    [
        b"a: 1\n",
        b"a: 2\nb: [x, {c: d}]\n",
        b"password: hunter2\nimage: {tag: '1.0'}\n",
        b"kind: Secret\ndata:\n  k: dmFsdWU=\n",
        b"a: [unclosed\n",
        b"---\nkind: A\nmetadata: {name: x}\n---\nkind: B\nmetadata: {name: y}\n",
        b"\x00\x01binary",
        "x: caf\u00e9 \u202e\n".encode(),
    ]
)


@st.composite
def _reports(draw: st.DrawFn) -> DiffReport:
    files = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(_HOSTILE)
        path = f"apps/{name}/values.yaml" if draw(st.booleans()) else f"apps/{name}/templates/t.txt"
        app = draw(st.sampled_from(["apps/a", draw(_HOSTILE), ""]))
        status = draw(st.sampled_from(["added", "modified", "deleted", "kept", "seeded", "orphaned"]))
        if status == "kept":
            files.append(FileReport(path, app, "kept"))
            continue
        old = None if status in ("added", "seeded") else draw(_YAML)
        new = None if status in ("deleted", "orphaned") else draw(_YAML)
        diff = diff_file(path, old, new)
        diff.notes += draw(st.lists(_HOSTILE, max_size=2))
        files.append(FileReport(path, app, status, diff))  # type: ignore[arg-type]
    source, target = draw(_HOSTILE), draw(_HOSTILE)
    return DiffReport(source, target, "a" * 40, "b" * 40, files)


@settings(max_examples=150, deadline=None)
@given(_reports(), st.lists(st.dictionaries(st.sampled_from(["message", "path"]), _HOSTILE), max_size=2))
def test_streamed_json_is_print_json(report: DiffReport, warnings: list[dict[str, str]]) -> None:
    tail = {"warnings": warnings}
    assert _streamed(report, tail) == _printed({**to_json(report), **tail})


def test_no_files_and_no_tail() -> None:
    report = DiffReport("dev", "stg", "a" * 40, "b" * 40)
    assert _streamed(report, {}) == _printed(to_json(report))
    assert '"files": []' in _streamed(report, {})


def test_many_records_span_chunks() -> None:
    """More records than one chunk holds: the joins between chunks are as inside one."""
    files = [FileReport(f"apps/a{i:04d}/values-stg.yaml", f"apps/a{i:04d}", "kept") for i in range(600)]
    files += [
        FileReport(
            f"apps/a{i:04d}/values.yaml", f"apps/a{i:04d}", "modified", diff_file("values.yaml", b"a: 1\n", b"a: 2\n")
        )
        for i in range(300)
    ]
    report = DiffReport("dev", "stg", "a" * 40, "b" * 40, files)
    chunks = list(json_chunks(report, counts(report), report.sorted_files(), {"warnings": []}))
    assert len(chunks) > 4
    assert "".join(chunks) == _printed({**to_json(report), "warnings": []})


def _request() -> PromotionRequest:
    return PromotionRequest("dev", "stg", None, None, None, True, apps=())


@pytest.mark.parametrize("show_secrets", [False, True])
def test_a_streamed_run_writes_what_the_cli_writes(gitops_repo: GitopsRepo, show_secrets: bool) -> None:
    """A real repository (secrets, a Secret template, a binary, kept and seeded env files, a
    reformatted file): the streamed run's text is the CLI's `--output json`, byte for byte."""
    scenario(gitops_repo)
    flags = ["--show-secrets"] if show_secrets else []
    cli = run_cli(gitops_repo.path, "diff", "dev", "stg", "-o", "json", *flags)
    assert cli.exit_code == 0, cli.stderr
    streamed = command.run(gitops_repo.path, _request(), show_secrets=show_secrets, stream=True)
    text = "".join(streamed.json_chunks())
    assert text == cli.stdout
    assert (SECRET in text) is show_secrets
    eager = command.run(gitops_repo.path, _request(), show_secrets=show_secrets)
    assert _printed(eager.to_json()) == text
    assert eager.report.files == streamed.report.files  # `report` after streaming: the same reports


def test_a_streamed_run_of_only_broken_yaml_refuses_before_writing(gitops_repo: GitopsRepo) -> None:
    gitops_repo.commit("dev", {"apps/api/values.yaml": "a: [unclosed\n"}, "broken")
    with pytest.raises(GitError, match="nothing could be compared"):
        command.run(gitops_repo.path, _request())
    streamed = command.run(gitops_repo.path, _request(), stream=True)
    chunks = streamed.json_chunks()
    with pytest.raises(GitError, match="nothing could be compared"):
        next(chunks)  # not even the opening brace: the refusal comes first


def test_one_readable_file_is_enough(gitops_repo: GitopsRepo, tmp_path: Path) -> None:
    """Broken files sorted before a readable one are held back, then written in their place."""
    gitops_repo.commit(
        "dev", {"apps/api/values.yaml": "a: [unclosed\n", "apps/web/values.yaml": "a: 1\nb: 2\n"}, "broken"
    )
    streamed = command.run(gitops_repo.path, _request(), stream=True)
    paths = [f.path for f in streamed.files()]
    assert paths == sorted(paths, key=lambda p: (p.split("/")[1], p)) and "apps/api/values.yaml" in paths


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_HOSTILE, st.none(), st.booleans(), st.integers()), max_size=8))
def test_scalars_split_from_one_pass_of_the_seam(values: list[Any]) -> None:
    """A `", "` or `\\"` inside a string never splits it: each text is what the seam gives alone."""
    assert _scalar_texts(values) == [console.json_text(v, indent=None) for v in values]
