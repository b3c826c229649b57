"""Renderers of the diff report: JSON, brief, Markdown, GitHub Actions, rich text."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from gitops_promote.core.yamldiff import DiffReport, FileReport, diff_file
from gitops_promote.render.diffreport import (
    gh_data,
    gh_property,
    to_brief,
    to_github,
    to_json,
    to_markdown,
    to_text,
)

CORPUS = Path(__file__).parent / "data" / "corpus"
GOVUK = CORPUS / "env-values/alphagov-govuk-helm-charts/charts/app-config"

SECRETS = ("hunter2", "correcthorse", "aHVudGVyMg", "c2VjcmV0", "MIIEpAIBAAKC", "s3cr3tvalue", "tok-9f8e")
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END PRIVATE KEY-----\n"


def _report(files: list[FileReport]) -> DiffReport:
    return DiffReport("dev", "stg", "a" * 40, "b" * 40, files)


def _modified(app: str, path: str, old: bytes | None, new: bytes | None, status: str = "modified") -> FileReport:
    return FileReport(path, app, status, diff_file(path, old, new))  # type: ignore[arg-type]


def secret_report() -> DiffReport:
    values_old = b'image:\n  tag: "1.0.0"\ndb:\n  password: hunter2\nenv:\n  - name: API_TOKEN\n    value: tok-9f8e\n'
    values_new = (
        b'image:\n  tag: "1.1.0"\ndb:\n  password: correcthorse\nenv:\n'
        b"  - name: API_TOKEN\n    value: s3cr3tvalue\ntls:\n  key: |\n"
        + b"".join(b"    " + line.encode() + b"\n" for line in PEM.splitlines())
    )
    secret_old = b"apiVersion: v1\nkind: Secret\nmetadata: {name: db}\ndata: {pw: aHVudGVyMg==}\n"
    secret_new = secret_old.replace(b"aHVudGVyMg==", b"c2VjcmV0")
    template_old = b"kind: ConfigMap\ndata:\n  password: hunter2\n"
    template_new = b"kind: ConfigMap\ndata:\n  password: correcthorse\n" + PEM.encode()
    return _report(
        [
            _modified("api", "apps/api/values.yaml", values_old, values_new),
            _modified("api", "apps/api/secret.yaml", secret_old, secret_new),
            _modified("api", "apps/api/templates/cm.yaml", template_old, template_new),
            _modified("web", "apps/web/values.yaml", None, values_new, "added"),
            FileReport("apps/api/values-stg.yaml", "api", "kept"),
        ]
    )


def test_no_secret_in_any_output(tmp_path: Path) -> None:
    report = secret_report()
    console = Console(file=io.StringIO(), width=200, color_system=None)
    to_text(report, console)
    summary = tmp_path / "summary.md"
    outputs = {
        "json": json.dumps(to_json(report)),
        "brief": to_brief(report),
        "markdown": to_markdown(report),
        "github": to_github(report, str(summary)),
        "text": console.file.getvalue(),  # type: ignore[attr-defined]
        "summary": summary.read_text(encoding="utf-8"),
    }
    for name, text in outputs.items():
        for secret in SECRETS:
            assert secret not in text, (name, secret)
    assert "*** (changed)" in outputs["text"] and "*** (changed)" in outputs["brief"] + outputs["github"]
    assert "&#42;&#42;&#42; (changed)</code>" in outputs["markdown"]  # `*` escaped for Markdown


def test_json_shape() -> None:
    data = to_json(secret_report())
    assert data["schema"] == 1 and data["source"] == "dev" and data["target_commit"] == "b" * 40
    assert data["summary"] == {"add": 1, "change": 3, "delete": 0, "kept": 1}
    files = {f["path"]: f for f in data["files"]}
    assert [f["path"] for f in data["files"]] == sorted(files, key=lambda p: (files[p]["app"], p))
    tag = files["apps/api/values.yaml"]["changes"][0]
    assert tag == {
        "path": "/image/tag",
        "display_path": "image.tag",
        "op": "changed",
        "old": "1.0.0",
        "new": "1.1.0",
        "masked": False,
    }
    assert set(files["apps/api/values.yaml"]) >= {
        "path",
        "app",
        "status",
        "changes",
        "errors",
        "notes",
        "text_diff",
        "kind",
    }
    assert json.loads(json.dumps(data)) == data  # plain JSON all the way down


def test_brief() -> None:
    text = to_brief(secret_report())
    assert text.splitlines()[-1] == "dev → stg: 1 to add, 3 to change, 0 to delete, 1 kept"
    assert "~ apps/api/values.yaml (api: modified, 4 changes)" in text


# --- Markdown ----------------------------------------------------------------------------


def assert_balanced(markdown: str) -> None:
    """Every <details> closed, every fence closed, no <details> tag inside a fence."""
    fence: str | None = None
    depth = 0
    for line in markdown.splitlines():
        if fence is not None:
            if re.fullmatch(re.escape(fence) + "`*\\s*", line):
                fence = None
            continue
        m = re.match(r"(`{3,})", line)
        if m:
            fence = m.group(1)
            continue
        depth += line.count("<details>") - line.count("</details>")
        assert depth >= 0
    assert fence is None and depth == 0


def many_apps_report(n: int = 400) -> DiffReport:
    files = []
    for i in range(n):
        old = f'image:\n  tag: "1.0.{i}"\nreplicas: 1\nnote: "<b>|`x`</b>"\n'.encode()
        new = f'image:\n  tag: "1.1.{i}"\nreplicas: 2\nnote: "</details>```"\n'.encode()
        files.append(_modified(f"app-{i:03d}", f"apps/app-{i:03d}/values.yaml", old, new))
        files.append(
            _modified(f"app-{i:03d}", f"apps/app-{i:03d}/templates/d.yaml", b"a: 1\n", b"a: 2\n```\n</details>\n")
        )
    return _report(files)


MANY = many_apps_report()


def test_markdown_400_apps_within_limit() -> None:
    for max_size in (60000, 5000, 600):
        text = to_markdown(MANY, max_size=max_size)
        assert len(text.encode()) <= max_size
        assert_balanced(text)
    assert "Shortened to fit" in to_markdown(MANY, max_size=60000)
    full = to_markdown(MANY, max_size=10**8)
    assert "Shortened" not in full and "app-399" in full
    assert_balanced(full)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=400_000))
def test_markdown_property_never_exceeds_and_stays_balanced(max_size: int) -> None:
    text = to_markdown(MANY, max_size=max_size)
    assert len(text.encode("utf-8")) <= max_size
    assert_balanced(text)


def test_markdown_escapes_repository_data() -> None:
    report = _report([_modified("<img src=x>|@admin", "apps/`x`/values.yaml", b"a: 1\n", b"a: '</details><script>'\n")])
    text = to_markdown(report)
    assert "<img" not in text and "<script>" not in text and "@admin" not in text
    assert text.count("</details>") == text.count("<details>") == 1
    assert "&#60;img src=x&#62;&#124;&#64;admin" in text


def test_govuk_markdown_within_limit() -> None:
    staging = (GOVUK / "values-staging.yaml").read_bytes()
    production = (GOVUK / "values-production.yaml").read_bytes()
    report = _report([_modified("app-config", "charts/app-config/values.yaml", staging, production)])
    for max_size in (60000, 20000, 2000):
        text = to_markdown(report, max_size=max_size)
        assert len(text.encode()) <= max_size
        assert_balanced(text)
    assert "govukApplications&#91;name=" in to_markdown(report, max_size=10**7)


# --- GitHub ------------------------------------------------------------------------------

_OUR_COMMANDS = re.compile(r"::(group|endgroup|error|warning|notice)( [^:]*)?::")


def test_github_cannot_be_injected(tmp_path: Path) -> None:
    evil = "x\n::error::pwned"
    report = _report(
        [
            _modified(
                evil,
                f"apps/{evil}/values.yaml",
                b"a: 1\n",
                json.dumps({"a": evil, "b": "\r\n::warning::pwned"}).encode(),
            ),
            _modified("app", "apps/app/templates/x.yaml", b"a: 1\n", b"::error::pwned\n"),
        ]
    )
    out = to_github(report, str(tmp_path / "summary.md"))
    for line in out.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("::"):
            assert _OUR_COMMANDS.match(stripped), line
            assert not stripped.startswith("::error::pwned")
    assert "%0A::error::pwned" in out  # escaped inside a command, as data


def test_github_annotations_and_groups(tmp_path: Path) -> None:
    files = [_modified(f"app{i}", f"apps/app{i}/v.yaml", b"a: 1\n", b"a: 2\n") for i in range(12)]
    files.append(_modified("bad", "apps/bad,x:y/v.yaml", b"a: 1\n", b"a: [\n"))
    out = to_github(_report(files), None)
    annotations = [line for line in out.splitlines() if re.match(r"::(error|warning|notice) ", line)]
    assert len(annotations) == 10
    assert annotations[0].startswith("::error file=apps/bad%2Cx%3Ay/v.yaml,line=2,")
    assert out.count("::group::") == out.count("::endgroup::") == 13
    assert gh_data("50%\r\n") == "50%25%0D%0A"
    assert gh_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_step_summary_stays_under_one_mib(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_bytes(b"x" * (1024 * 1024 - 3000))
    to_github(MANY, str(summary))
    assert summary.stat().st_size <= 1024 * 1024
    assert_balanced(summary.read_text(encoding="utf-8")[1024 * 1024 - 3000 :])


# --- rich text ---------------------------------------------------------------------------


def test_text_never_interprets_markup() -> None:
    report = _report(
        [_modified("[bold red]app[/]", "apps/[link=x]a[/link]/values.yaml", b"a: 1\n", b"a: '[red]x[/red]'\n")]
    )
    console = Console(file=io.StringIO(), width=300, color_system=None)
    to_text(report, console)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "[bold red]app[/]" in out and "[link=x]a[/link]" in out and '"[red]x[/red]"' in out
    assert "a: 1 → 2" not in out and 'a: 1 → "[red]x[/red]"' in out


@pytest.mark.parametrize("status", ["added", "modified", "deleted", "kept", "seeded", "orphaned", "formatting-only"])
def test_every_status_renders(status: str) -> None:
    report = _report(
        [
            FileReport(
                "apps/a/values.yaml",
                "a",
                status,  # type: ignore[arg-type]
                diff_file("apps/a/values.yaml", b"a: 1\n", b"a:  1\n"),
            )
        ]
    )
    assert status in to_brief(report)
    assert_balanced(to_markdown(report))
    to_json(report)
    to_github(report, None)


def test_the_shortened_note_names_options_that_exist() -> None:
    note = next(line for line in to_markdown(MANY, max_size=60000).splitlines() if "Shortened to fit" in line)
    assert f"gitops diff {MANY.source} {MANY.target}" in note and "--output json" in note
    assert "--json" not in note
