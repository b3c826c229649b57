"""Terminal comforts: --version, completion, -C, suggestions, GITOPS_* variables, no spinner off a TTY."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GitopsRepo, run_cli
from typer.testing import CliRunner

from gitops_promote import __version__
from gitops_promote.cli import app


def test_version(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"gitops-promote {__version__}"


def _gitops_script() -> str:
    """The installed console script: completion keys on the program's name (`gitops`)."""
    script = Path(sys.executable).parent / "gitops"
    if not script.exists():
        pytest.skip(f"no gitops console script next to {sys.executable}: pip install -e . first")
    return str(script)


def test_show_completion_bash() -> None:
    # Typer detects the user's shell from the process tree; its test switch lets us name it.
    env = dict(os.environ, _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1")
    proc = subprocess.run(
        [_gitops_script(), "--show-completion", "bash"], capture_output=True, text=True, check=False, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert "_GITOPS_COMPLETE=complete_bash" in proc.stdout
    assert proc.stdout.rstrip().endswith("complete -o default -F _gitops_completion gitops")


def test_completion_completes_command_names() -> None:
    env = dict(os.environ, _GITOPS_COMPLETE="complete_bash", COMP_WORDS="gitops pro", COMP_CWORD="1")
    proc = subprocess.run([_gitops_script()], capture_output=True, text=True, env=env, check=False)
    assert proc.stdout.split() == ["promote"]


def test_mistyped_command_gets_a_suggestion(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["promot", "dev", "stg"])
    assert result.exit_code == 2
    assert "Did you mean 'promote'?" in result.output


def test_mistyped_environment_gets_a_suggestion(gitops_repo: GitopsRepo) -> None:
    result = run_cli(gitops_repo.path, "promote", "dev", "stag", "--dry-run")
    assert result.exit_code == 2
    assert "unknown environment 'stag'" in result.stderr
    assert "did you mean 'stg'?" in result.stderr


def test_dash_c_runs_in_another_directory(gitops_repo: GitopsRepo, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["-C", str(gitops_repo.path), "envs", "-o", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "stg" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [("GITOPS_OUTPUT", "json"), ("GITOPS_DIR", None)],
)
def test_gitops_variables_set_option_defaults(
    gitops_repo: GitopsRepo, monkeypatch: pytest.MonkeyPatch, variable: str, value: str | None
) -> None:
    monkeypatch.setenv(variable, value if value is not None else str(gitops_repo.path))
    args = ["envs"] if variable == "GITOPS_DIR" else ["-C", str(gitops_repo.path), "envs"]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    if variable == "GITOPS_OUTPUT":
        assert result.stdout.lstrip().startswith("{")


def test_every_gitops_variable_is_documented() -> None:
    """Each envvar of the Typer app appears in the generated reference (and so in the docs)."""
    import typer.main

    root = typer.main.get_command(app)
    found = {p.envvar for p in root.params if getattr(p, "envvar", None)}
    for command in root.commands.values():  # type: ignore[attr-defined]
        found |= {p.envvar for p in command.params if getattr(p, "envvar", None)}
    text = (Path(__file__).resolve().parent.parent / "docs" / "reference" / "cli.md").read_text()
    assert found and all(isinstance(v, str) and v.startswith("GITOPS_") for v in found)
    assert all(f"`{v}`" in text for v in found)


def test_no_spinner_when_stderr_is_not_a_terminal(remote_setup) -> None:  # type: ignore[no-untyped-def]
    remote_setup.remote.commit("dev", {"apps/api/values.yaml": "replicas: 2\n"}, "api")
    result = run_cli(remote_setup.clone.path, "promote", "dev", "stg")
    assert result.exit_code == 0, result.stderr
    assert "fetching, planning" not in result.stderr


def test_completion_completes_environment_names(gitops_repo: GitopsRepo) -> None:
    env = dict(os.environ, _GITOPS_COMPLETE="complete_bash", COMP_WORDS="gitops promote dev s", COMP_CWORD="3")
    proc = subprocess.run(
        [_gitops_script()], capture_output=True, text=True, env=env, cwd=gitops_repo.path, check=False
    )
    assert proc.stdout.split() == ["stg"]
    outside = subprocess.run([_gitops_script()], capture_output=True, text=True, env=env, cwd="/", check=False)
    assert outside.stdout.split() == [] and outside.stderr == ""


def _stderr_on_a_terminal(cwd: Path, *args: str) -> tuple[int, str]:
    """Run gitops with stderr on a pseudo-terminal (stdout piped); what the terminal received."""
    import pty

    master, slave = pty.openpty()
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="100", PYTHONPATH=str(Path(__file__).parent.parent / "src"))
    code = "from gitops_promote.cli import main; main()"
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", code, "-C", str(cwd), *args], stdout=subprocess.PIPE, stderr=slave, env=env
    )
    os.close(slave)
    received = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        received += chunk
    proc.communicate()
    os.close(master)
    return proc.returncode, received.decode("utf-8", "replace")


def test_a_spinner_says_what_is_happening_on_a_terminal(remote_setup) -> None:  # type: ignore[no-untyped-def]
    code, terminal = _stderr_on_a_terminal(remote_setup.clone.path, "status")
    assert code == 0, terminal
    assert "reading every environment: fetching, comparing branches" in terminal
    code, terminal = _stderr_on_a_terminal(remote_setup.clone.path, "promote", "dev", "stg", "--dry-run")
    assert "dry run of promoting dev to stg" in terminal and "pushing" not in terminal


def test_no_spinner_for_status_when_piped(remote_setup) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(remote_setup.clone.path, "status")
    assert result.exit_code == 0 and "reading every environment" not in result.stderr


@pytest.mark.parametrize("value", ["markdown", "github", "brief"])
def test_gitops_output_a_command_lacks_falls_back_to_its_default(
    gitops_repo: GitopsRepo, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """GITOPS_OUTPUT set for a whole CI job (for diff's PR comment) does not break the others."""
    monkeypatch.setenv("GITOPS_OUTPUT", value)
    for args in (["status"], ["plan", "dev", "stg"], ["promote", "dev", "stg", "--dry-run"], ["envs"]):
        result = run_cli(gitops_repo.path, *args)
        assert result.exit_code == 0, (args, result.stderr)
        assert not result.stdout.lstrip().startswith("{")
    if value == "markdown":  # a command that has the format uses it
        assert run_cli(gitops_repo.path, "plan", "dev", "stg").stdout.startswith("## Promotion plan")


def test_an_explicit_output_a_command_lacks_is_still_an_error(gitops_repo: GitopsRepo) -> None:
    result = run_cli(gitops_repo.path, "status", "--output", "markdown")
    assert result.exit_code == 2 and "'markdown' is not one of" in result.stderr
