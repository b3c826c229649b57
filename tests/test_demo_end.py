"""`gitops demo` ends by pointing at `gitops init` and the tutorial for one's own repository."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli

from gitops_promote.render.demo import TUTORIAL_URL


def test_demo_ends_with_init_and_the_tutorial(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "demo", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.stderr
    tail = result.stdout.rstrip().splitlines()[-3:]
    assert "Your own repository" in tail[0]
    assert tail[1].strip().startswith("gitops init ")
    assert TUTORIAL_URL in tail[2]
    assert (Path(__file__).parent.parent / "docs" / "tutorial.md").is_file()
    assert TUTORIAL_URL.endswith("/docs/tutorial.md")
