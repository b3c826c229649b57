"""The wheel and sdist build cleanly, offline, and carry what the tool needs at run time."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from gitops_promote import __version__

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("build", reason="python -m build is not installed (pip install -e '.[test]')")
    pytest.importorskip("hatchling", reason="hatchling is not installed (pip install -e '.[test]')")
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return out


def test_wheel_has_the_package_data_and_the_entry_point(dist: Path) -> None:
    wheel = next(dist.glob("*.whl"))
    assert f"-{__version__}-" in wheel.name
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert "gitops_promote/cli.py" in names
        assert any(n.startswith("gitops_promote/data/argocd/") and n.endswith(".json") for n in names)
        entry_points = zf.read(f"gitops_promote-{__version__}.dist-info/entry_points.txt").decode()
    assert "gitops = gitops_promote.cli:main" in entry_points


def test_sdist_has_the_sources_and_no_local_state(dist: Path) -> None:
    sdist = next(dist.glob("*.tar.gz"))
    with tarfile.open(sdist) as tf:
        names = tf.getnames()
    prefix = f"gitops_promote-{__version__}/"
    assert prefix + "pyproject.toml" in names and prefix + "src/gitops_promote/__init__.py" in names
    assert not [n for n in names if "/.venv" in n or "/.ci/.cache" in n or "__pycache__" in n]


def test_version_has_one_source() -> None:
    """hatch reads __init__.py; pyproject.toml declares the version dynamic, the changelog names it."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert 'path = "src/gitops_promote/__init__.py"' in pyproject
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:[.-]?\w+)?", __version__)
    assert f"## [{__version__}]" in (ROOT / "CHANGELOG.md").read_text()
