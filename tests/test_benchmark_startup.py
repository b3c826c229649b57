"""benchmarks/startup.py's parts on their own (no timing is asserted: only what is measured)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

import gitops_promote

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SRC = Path(gitops_promote.__file__).resolve().parent.parent


def load(name: str) -> ModuleType:
    """benchmarks/ is a folder of scripts, not a package: load the module from its file."""
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


startup = load("startup")


def test_verdicts_compare_the_medians_with_issue_11s_targets() -> None:
    met = startup.verdicts({"gitops --help": 0.09, startup.HELP_IMPORTS: 0.05, startup.PROMOTE_IMPORTS: 0.06})
    assert met == [
        "`gitops --help` target ≤ 0.1 s: met.",
        "promote's imports = 1.20 × `--help`'s, target ≤ 1.3: met.",
    ]
    missed = startup.verdicts({"gitops --help": 0.11, startup.HELP_IMPORTS: 0.05, startup.PROMOTE_IMPORTS: 0.07})
    assert [line.endswith("**not met**.") for line in missed] == [True, True]
    # Results saved before the import figures existed still render (benchmarks/run.py --render).
    assert startup.verdicts({"python -c pass": 0.02, "gitops --help": 0.3}) == [
        "`gitops --help` target ≤ 0.1 s: **not met**."
    ]


def test_bytecode_is_cached_privately_even_when_writing_it_is_disabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = startup.environment(tmp_path / "pycache")
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["PYTHONPYCACHEPREFIX"] == str(tmp_path / "pycache")


def test_the_modules_a_run_loaded_are_imported_again(tmp_path: Path) -> None:
    env = startup.environment(tmp_path / "pycache")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
    names = startup.loaded_modules(["--version"], tmp_path, env, tmp_path / "modules.txt")
    assert "gitops_promote.cli" in names and "typer" in names
    assert "sys" not in names  # the interpreter's own modules are not counted
    assert names.index("gitops_promote") < names.index("gitops_promote.cli")  # load order: parents first
    (tmp_path / "modules.txt").write_text("\n".join([*names, "no_such_module_at_all"]))
    seconds = startup._imports(tmp_path / "modules.txt", env)()
    assert seconds > 0
