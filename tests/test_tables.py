"""Tables that fit: every table readable at 80 and at 60 columns, columns given up in the
stated order and never squeezed to nothing; `gitops --help` without "..." truncation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import GitopsRepo, make_gitops_repo, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from gitops_promote.render.fit import Column, fit

WIDTHS = (80, 60)
LONG_SUBJECT = "Raise the api's memory limit for the end-of-month batch jobs that the billing team runs"


@pytest.fixture
def busy(tmp_path: Path) -> GitopsRepo:
    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    repo.commit("dev", {"apps/api/values.yaml": "image:\n  tag: '1.1.0'\n"}, "api 1.1.0")
    assert run_cli(repo.path, "promote", "dev", "stg").exit_code == 0
    repo.commit("dev", {"apps/web/values.yaml": "image:\n  tag: '2.1.0'\n"}, "web 2.1.0")
    assert run_cli(repo.path, "promote", "dev", "stg").exit_code == 0
    assert run_cli(repo.path, "promote", "stg", "prd").exit_code == 0
    repo.commit("dev", {"apps/web/values.yaml": "image:\n  tag: ''\n"}, "web: no tag")
    return repo


def _columns_of(border: str) -> list[int]:
    """Inner widths of the columns from a table's top border (`┏━━━┳━━┓`)."""
    return [len(part) for part in border.strip()[1:-1].split("┳")]


def _check_fits(stdout: str, width: int) -> list[str]:
    lines = stdout.splitlines()
    too_wide = [line for line in lines if len(line) > width]
    assert not too_wide, f"lines wider than {width}: {too_wide}"
    borders = [line for line in lines if line.startswith("┏")]
    for border in borders:
        assert all(w >= 3 for w in _columns_of(border)), f"a column squeezed to nothing: {border}"
    return lines


def _headers(lines: list[str]) -> str:
    """The header row's words (headers may wrap over two lines)."""
    start = next(i for i, line in enumerate(lines) if line.startswith("┏"))
    end = next(i for i, line in enumerate(lines) if line.startswith("┡"))
    return " ".join(" ".join(cell.split()) for line in lines[start + 1 : end] for cell in line.split("┃"))


@pytest.mark.parametrize("width", WIDTHS)
def test_history_fits_and_keeps_subject_and_when(busy: GitopsRepo, monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    busy.commit("stg", {"apps/api/values-stg.yaml": "resources: {}\n"}, LONG_SUBJECT)  # a direct commit
    monkeypatch.setenv("COLUMNS", str(width))
    result = run_cli(busy.path, "history", "stg")
    assert result.exit_code == 0, result.stderr
    lines = _check_fits(result.stdout, width)
    headers = _headers(lines)
    for kept in ("commit", "kind", "subject", "when"):
        assert kept in headers
    # the long subject is wrapped, not cut: all of its words are there
    body = " ".join(" ".join(cell.split()) for line in lines for cell in line.split("│"))
    assert all(word in body for word in ("billing", "end-of-month", "memory"))
    dropped = {80: ["files"], 60: ["from", "who", "files"]}[width]
    assert f"{width} columns: {', '.join(dropped)} left out" in result.stderr
    assert all(name not in headers for name in dropped)


@pytest.mark.parametrize("width", WIDTHS)
def test_status_fits(busy: GitopsRepo, monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    result = run_cli(busy.path, "status")
    assert result.exit_code == 0, result.stderr
    headers = _headers(_check_fits(result.stdout, width))
    for kept in ("env", "head", "last", "promotion", "pending", "drift", "freeze"):
        assert kept in headers.split()
    assert "data" not in headers and "gitops envs" in result.stderr


@pytest.mark.parametrize("width", WIDTHS)
def test_envs_fits(busy: GitopsRepo, monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    result = run_cli(busy.path, "envs")
    assert result.exit_code == 0, result.stderr
    headers = _headers(_check_fits(result.stdout, width))
    for kept in ("name", "codename", "branch", "head"):
        assert kept in headers
    assert "backups" in result.stderr  # given up first


@pytest.mark.parametrize("width", WIDTHS)
def test_parity_fits_and_counts_pending_per_app(busy: GitopsRepo, monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    result = run_cli(busy.path, "parity")
    assert result.exit_code == 0, result.stderr
    lines = _check_fits(result.stdout, width)
    assert all(env in _headers(lines) for env in ("app", "dev", "stg", "prd"))
    assert "dev → stg: 1 file, 1 commit pending" in result.stdout
    assert "  pending  apps/web: 1 file" in result.stdout
    assert "apps/web/values.yaml" not in result.stdout  # a count per app, not every file
    assert "tag (none)" in " ".join(result.stdout.split())
    assert not re.search(r"tag\s+\[", result.stdout) and "tag  " not in result.stdout


@pytest.mark.parametrize("width", WIDTHS)
def test_validate_wraps_findings(busy: GitopsRepo, monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    busy.commit("dev", {"apps/web/values-dev.yaml": "a: [1\n"}, "broken")
    monkeypatch.setenv("COLUMNS", str(width))
    result = run_cli(busy.path, "validate", "dev")
    assert result.exit_code == 1, result.stderr
    lines = _check_fits(result.stdout, width)
    assert not [line for line in lines if line != line.rstrip()], "trailing spaces"
    assert any(line.startswith("      hint: ") for line in lines)


@pytest.mark.parametrize("width", WIDTHS)
def test_top_level_help_never_truncates_a_description(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    import typer.main

    from gitops_promote.cli import app

    monkeypatch.setenv("COLUMNS", str(width))
    result = run_cli(Path("."), "--help")
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:", 1)[1]
    assert "..." not in commands
    for name, command in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        assert command.short_help and f"  {name}" in result.stdout
        assert " ".join(command.short_help.split()) in " ".join(result.stdout.split())


@settings(max_examples=60, deadline=None)
@given(
    width=st.integers(min_value=40, max_value=160),
    cells=st.lists(st.lists(st.text("abcdefghij ", min_size=0, max_size=40), min_size=5, max_size=5), max_size=4),
)
def test_fit_never_overflows_or_squeezes_below_the_minimum(width: int, cells: list[list[str]]) -> None:
    columns = [
        Column("id", min=7, wrap=False),
        Column("kind", min=4),
        Column("subject", min=10),
        Column("who", min=6, drop=2),
        Column("files", min=5, drop=1),
    ]
    fitted = fit("t", columns, cells, width)
    console = Console(width=width, file=open("/dev/null", "w"), record=True)  # noqa: SIM115
    console.print(fitted.table)
    rendered = console.export_text()
    assert all(len(line) <= width for line in rendered.splitlines())
    kept = [c for c in columns if c.header not in fitted.dropped]
    widths = [col.width for col in fitted.table.columns]
    assert all(w is not None and w >= min(c.narrowest(), 1) for w, c in zip(widths, kept, strict=True))
    assert [c for c in ("files", "who") if c in fitted.dropped] == fitted.dropped[: len(fitted.dropped)]
