"""docs/reference/cli.md is generated from the Typer app and must be up to date."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_cli_reference", ROOT / "scripts" / "gen_cli_reference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_up_to_date() -> None:
    generated = _generator().render()
    committed = (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    assert committed == generated, "docs/reference/cli.md is stale: run python scripts/gen_cli_reference.py"


def test_cli_reference_lists_every_command_and_gitops_variable() -> None:
    text = (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    for command in ("envs", "promote", "demo"):
        assert f"## `gitops {command}`" in text
    for variable in ("GITOPS_DIR", "GITOPS_REMOTE", "GITOPS_OUTPUT", "GITOPS_REGISTRY", "GITOPS_PR"):
        assert f"`{variable}`" in text
