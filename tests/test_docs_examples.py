"""Every shell example in docs/ runs, in order, page by page, in a fresh demo repository.

What runs: ```bash blocks (the whole block) and ```console blocks (the `$ ` lines, with `\\`
continuations; the lines after them are output and are not compared). What does not: blocks
fenced otherwise (```text, ```yaml...), and blocks containing a line `# not run: <reason>`
(pip install, gh, kubectl: anything that needs the network or a cluster).

Each page gets its own `gitops demo` repository as working directory (dev ahead of stg... see
docs/commands/demo.md), an isolated HOME and git identity, and no GITOPS_* variables. A block
that calls a `gitops` command that does not exist yet is skipped, with a warning naming it
(lines ending in `|| true` excepted: they show a failure on purpose).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)[^\n]*$")
NOT_RUN = re.compile(r"#\s*not run:\s*\S")
GITOPS_COMMAND = re.compile(r"(?:^|[\s;&|(`$])gitops\s+(?:-C\s+\S+\s+)?(?P<cmd>[a-z][\w-]*)")


@dataclass
class Example:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    script: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def extract(page: Path) -> list[Example]:
    """The runnable examples of one Markdown page, in order."""
    examples: list[Example] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, indent, lang = match["fence"], len(match["indent"]), match["lang"].lower()
        start, body = i, []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence[:3]):
            body.append(lines[i][indent:] if lines[i].startswith(" " * indent) else lines[i])
            i += 1
        i += 1
        if lang in ("bash", "sh", "shell"):
            script = "\n".join(body)
        elif lang == "console":
            script = _console_commands(body)
        else:
            continue
        if not NOT_RUN.search(script):
            examples.append(Example(page, start + 1, lang, script))
    return examples


def _console_commands(body: list[str]) -> str:
    commands, continuing = [], False
    for line in body:
        if continuing or line.startswith("$ "):
            text = line[2:] if line.startswith("$ ") and not continuing else line
            commands.append(text)
            continuing = text.rstrip().endswith("\\")
    return "\n".join(commands)


def _pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if extract(p))


def _known_commands() -> set[str]:
    import typer.main

    from gitops_promote.cli import app

    return set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITOPS_", "GIT_"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GIT_AUTHOR_NAME="Docs Example",
        GIT_AUTHOR_EMAIL="docs@example.com",
        GIT_COMMITTER_NAME="Docs Example",
        GIT_COMMITTER_EMAIL="docs@example.com",
        NO_COLOR="1",
        COLUMNS="100",
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
    )
    return env


def test_every_docs_page_is_scanned() -> None:
    assert (DOCS / "tutorial.md").is_file()
    assert any(p.name == "tutorial.md" for p in _pages())


def test_extract_understands_the_fences(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text(
        "```bash\necho one\n```\n"
        "```text\nnot run\n```\n"
        "```console\n$ echo two \\\n  three\noutput line\n$ echo four\n```\n"
        "```bash\n# not run: needs the network\npip install gitops-promote\n```\n"
        "  ```bash\n  echo indented\n  ```\n"
    )
    assert [e.script for e in extract(page)] == ["echo one", "echo two \\\n  three\necho four", "echo indented"]


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_docs_examples_run(page: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = _environment(home)
    demo = tmp_path / "demo"
    made = subprocess.run(
        [sys.executable, "-m", "gitops_promote", "demo", str(demo)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    known, skipped = _known_commands(), []
    script = ["set -euo pipefail", f"cd {str(demo)!r}"]
    for example in extract(page):
        # Lines ending in `|| true` are meant to fail (a mistyped command, say): not "missing".
        checked = "\n".join(line for line in example.script.splitlines() if not line.rstrip().endswith("|| true"))
        missing = sorted({m["cmd"] for m in GITOPS_COMMAND.finditer(checked)} - known)
        if missing:
            skipped.append(f"{example.where} (gitops {', '.join(missing)} does not exist yet)")
            continue
        script += [f"echo '@@ {example.where}' >&2", example.script]
    if skipped:
        warnings.warn("docs examples skipped: " + "; ".join(skipped), stacklevel=1)
    if len(script) == 2:
        pytest.skip("every example of this page was skipped: " + "; ".join(skipped))
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", "\n".join(script)],
        cwd=demo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if proc.returncode != 0:
        blocks = re.findall(r"^@@ (\S+)$", proc.stderr, re.M)
        where = blocks[-1] if blocks else str(page)
        pytest.fail(
            f"the example at {where} failed (exit {proc.returncode}):\n"
            f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
        )
