#!/usr/bin/env python3
"""Write the output blocks of docs/ from the real commands, so documented output cannot go stale.

A block to generate is a fenced block right after a comment naming the commands:

    <!-- output: run in a new `gitops demo` repository
    $ gitops promote stg prd --reason "release 1.4"
    $ gitops history prd
    -->
    ```text
    (what the last command printed, stdout then stderr, as a terminal shows both)
    ```

Every block runs in a fresh `gitops demo` repository with fixed dates, identity, clock
(GITOPS_NOW) and width (COLUMNS=100), so commit ids and dates come out the same each time.
The `$ ` lines before the last one set the scene (their output is not shown; they must
succeed); the last one may fail (a refusal is output too). Lines without `$ ` continue the
previous command (a here-document, say).

    python scripts/gen_docs_output.py            # rewrite the blocks
    python scripts/gen_docs_output.py --check    # exit 1 when a block differs from the real output

tests/test_docs_output.py runs the check, normalising only commit ids, dates and temp paths.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MARKER = re.compile(r"^<!-- output: [^\n]*\n(?P<commands>(?:.*\n)*?)-->\n(?P<fence>```+)(?P<lang>\w*)\n", re.M)
# A JSON block that documents a shape (values elided as "<40 hex>", lists cut short): its keys,
# at every level, must be the keys the command really writes.
SHAPE = re.compile(r"^<!-- json-shape: [^\n]*\n(?P<commands>(?:.*\n)*?)-->\n(?P<fence>```+)(?P<lang>json)\n", re.M)
DEMO_PATH = "/tmp/docs/demo"  # how the demo repository's temporary path is written in the docs
FIXED_DATE = "2026-11-27T18:05:00+00:00"
NOW = "2026-12-01T12:00:00Z"


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    commands: tuple[str, ...]  # each `$ ` line (with its continuation lines), without the `$ `
    lang: str
    start: int  # offset of the block's content in the page
    end: int  # offset of its closing fence

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path, marker: re.Pattern[str] = MARKER) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in marker.finditer(text):
        close = text.index(f"\n{match['fence']}\n", match.end() - 1)
        commands = _commands(match["commands"])
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(page, line, commands, match["lang"], match.end(), close + 1))
    return found


def _commands(text: str) -> tuple[str, ...]:
    commands: list[str] = []
    for line in text.splitlines():
        if line.startswith("$ ") or not commands:
            commands.append(line.removeprefix("$ "))
        else:
            commands[-1] += "\n" + line
    return tuple(commands)


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITOPS_", "GIT_"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GIT_AUTHOR_NAME="Jane Doe",
        GIT_AUTHOR_EMAIL="jane@example.com",
        GIT_COMMITTER_NAME="Jane Doe",
        GIT_COMMITTER_EMAIL="jane@example.com",
        GIT_AUTHOR_DATE=FIXED_DATE,
        GIT_COMMITTER_DATE=FIXED_DATE,
        GITOPS_NOW=NOW,
        NO_COLOR="1",
        COLUMNS="100",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
    )
    env.pop("CI", None)
    return env


def make_demo(where: Path) -> Path:
    """A `gitops demo` repository at `where`/demo: the same commits on every run (fixed dates)."""
    home, demo = where / "home", where / "demo"
    home.mkdir(exist_ok=True)
    made = subprocess.run(  # noqa: S603 - argument lists: the docs run their own commands
        [sys.executable, "-m", "gitops_promote", "demo", str(demo)],
        env=environment(home),
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        raise SystemExit(f"gitops demo failed: {made.stderr}")
    return demo


def run(block: Block, template: Path | None = None) -> str:
    """What the block's last command prints in a fresh demo repository (a copy of `template`,
    a repository made by `make_demo`, when given: making one takes a while)."""
    with tempfile.TemporaryDirectory(prefix="gitops-docs-") as tmp:
        if template is None:
            demo = make_demo(Path(tmp))
        else:
            demo = Path(tmp) / "demo"
            shutil.copytree(template, demo, symlinks=True)
            (Path(tmp) / "home").mkdir()
        env = environment(Path(tmp) / "home")
        *setup, last = block.commands
        scene = "\n".join(setup)
        script = f"set -euo pipefail\n{{\n{scene}\n:\n}} >&2\nset +e\n( {last}\n) 2>&1\ntrue\n"
        proc = subprocess.run(  # noqa: S603
            ["bash", "--noprofile", "--norc", "-c", script], cwd=demo, env=env, capture_output=True
        )
        if proc.returncode != 0:
            raise SystemExit(f"{block.where}: setting the scene failed:\n{proc.stderr.decode()}")
        output = proc.stdout.decode("utf-8", "replace").replace(str(demo), DEMO_PATH).replace(tmp, "/tmp/docs")
        return "\n".join(line.rstrip() for line in output.splitlines()) + "\n"


ELLIPSIS = "…"


def shape_differences(documented: object, real: object, where: str = "") -> list[str]:
    """Keys the documented JSON has that the real one has not, and the other way round, at
    every level both have (a documented list item is compared with every real item's keys).

    A mapping keyed by data (apps, environments) says so with a key "…": its other keys
    are examples, and every real entry is compared with the first of them.
    """
    if isinstance(documented, dict) and isinstance(real, dict):
        if ELLIPSIS in documented:
            examples = [v for k, v in documented.items() if k != ELLIPSIS]
            return [d for k, v in real.items() for d in shape_differences(examples[0], v, f"{where}.{k}")][:20]
        found = [f"{where}.{k}: documented, not written" for k in documented.keys() - real.keys()]
        found += [f"{where}.{k}: written, not documented" for k in real.keys() - documented.keys()]
        for key in documented.keys() & real.keys():
            found += shape_differences(documented[key], real[key], f"{where}.{key}")
        return found
    if isinstance(documented, list) and isinstance(real, list) and documented and real:
        items = [item for item in real if isinstance(item, dict)] or real
        merged: object = items[0]
        if isinstance(items[0], dict):
            merged = {k: v for item in items if isinstance(item, dict) for k, v in item.items()}
        return shape_differences(documented[0], merged, f"{where}[]")
    return []


_SHA = re.compile(r"\b[0-9a-f]{7,40}\b")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?|\d{2}-\d{2} \d{2}:\d{2}Z")
_TMP = re.compile(r"/tmp/[\w./-]*")


def normalise(text: str) -> str:
    """Only what differs between runs on different machines: commit ids, dates, temp paths."""
    return _SHA.sub("<sha>", _DATE.sub("<date>", _TMP.sub("<tmp>", text)))


def stale(page: Path, template: Path) -> list[tuple[Block, str]]:
    """The blocks of `page` whose text is not what the command prints, with the real output."""
    text = page.read_text(encoding="utf-8")
    found = []
    for block in blocks(page):
        real = run(block, template)
        if normalise(text[block.start : block.end]) != normalise(real):
            found.append((block, real))
    return found


def write(page: Path, template: Path) -> int:
    text = page.read_text(encoding="utf-8")
    changed = 0
    for block in reversed(blocks(page)):
        real = run(block, template)
        if text[block.start : block.end] != real:
            text = text[: block.start] + real + text[block.end :]
            changed += 1
    if changed:
        page.write_text(text, encoding="utf-8")
    return changed


def pages(marker: re.Pattern[str] = MARKER) -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if marker.search(p.read_text(encoding="utf-8")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a block is out of date")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gitops-docs-template-") as tmp:
        template = make_demo(Path(tmp))
        if args.check:
            out_of_date = [block.where for page in pages() for block, _ in stale(page, template)]
            for where in out_of_date:
                print(f"{where}: out of date; run python scripts/gen_docs_output.py", file=sys.stderr)
            return 1 if out_of_date else 0
        for page in pages():
            if changed := write(page, template):
                print(f"{page.relative_to(ROOT)}: {changed} block(s) rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
