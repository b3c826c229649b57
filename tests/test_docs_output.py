"""Documented output is real output: every `<!-- output: ... -->` block of docs/ equals what its
command prints today (scripts/gen_docs_output.py), normalising only commit ids, dates and
temp paths. A page that shows command output without a marker fails too."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("gen_docs_output", ROOT / "scripts" / "gen_docs_output.py")
assert _spec and _spec.loader
gen = importlib.util.module_from_spec(_spec)
sys.modules["gen_docs_output"] = gen  # dataclasses look their module up
_spec.loader.exec_module(gen)

BLOCKS = [block for page in gen.pages() for block in gen.blocks(page)]
# What only a real command prints: a table border, a gitops summary, an error or a JSON object
# with keys the tool writes. A block like that without a marker is hand-written output.
OUTPUT_LOOK = re.compile(
    r"^(┏|error: |warning: |hint: |created a GitOps repository|History of |Parity \(|Environments \(|"
    r"[a-z]+ → [a-z]+: |validation (passed|failed)|::(error|warning|notice) )",
    re.M,
)


def test_there_are_generated_blocks() -> None:
    assert len(BLOCKS) >= 8
    assert {b.page.name for b in BLOCKS} >= {"history.md", "status.md", "parity.md", "diff-format.md"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo repository, copied for each block (its commits are the same every time)."""
    return gen.make_demo(tmp_path_factory.mktemp("docs-demo"))


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.where)
def test_documented_output_is_what_the_command_prints(block, demo: Path) -> None:  # type: ignore[no-untyped-def]
    text = block.page.read_text(encoding="utf-8")[block.start : block.end]
    real = gen.run(block, demo)
    assert gen.normalise(text) == gen.normalise(real), f"{block.where} is stale: run python scripts/gen_docs_output.py"


def test_normalise_keeps_everything_but_ids_dates_and_temp_paths() -> None:
    a = "stg 8a2f44c01e3d at 2026-11-28 09:12 in /tmp/docs/demo: 2 files"
    b = "stg 194872c62e42 at 2026-12-01 23:40 in /tmp/x/y: 2 files"
    assert gen.normalise(a) == gen.normalise(b)
    assert gen.normalise(a) != gen.normalise(a.replace("2 files", "3 files"))


def _fenced(text: str) -> list[tuple[int, int, str, str]]:
    """(line of the opening fence, offset of the content, language, content) of every fenced block."""
    found, lines, i = [], text.splitlines(keepends=True), 0
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    while i < len(lines):
        opening = re.match(r"^(`{3,})(\w*)", lines[i])
        if not opening:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].startswith(opening.group(1)):
            j += 1
        found.append((i + 1, offsets[i + 1], opening.group(2), "".join(lines[i + 1 : j])))
        i = j + 1
    return found


def test_no_hand_written_output_blocks() -> None:
    generated = {(b.page, b.start) for b in BLOCKS}
    for page in sorted((ROOT / "docs").rglob("*.md")):
        for line, offset, lang, content in _fenced(page.read_text(encoding="utf-8")):
            if lang in ("text", "json", "") and OUTPUT_LOOK.search(content) and (page, offset) not in generated:
                pytest.fail(f"{page.relative_to(ROOT)}:{line} shows command output by hand: generate it")


SHAPES = [block for page in gen.pages(gen.SHAPE) for block in gen.blocks(page, gen.SHAPE)]


def test_every_command_page_with_json_checks_its_shape() -> None:
    pages = {b.page.name for b in SHAPES}
    assert pages >= {"envs.md", "history.md", "init.md", "parity.md", "plan.md", "promote.md"}
    assert pages >= {"rollback.md", "status.md", "validate.md", "json-output.md"}


@pytest.mark.parametrize("block", SHAPES, ids=lambda b: b.where)
def test_documented_json_has_the_keys_the_command_writes(block, demo: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    documented = json.loads(block.page.read_text(encoding="utf-8")[block.start : block.end])
    real = json.loads(gen.run(block, demo))
    assert gen.shape_differences(documented, real) == [], f"{block.where}: the JSON shape differs"


def test_shape_differences_names_missing_and_extra_keys() -> None:
    assert gen.shape_differences({"a": 1, "b": [{"c": 1}]}, {"a": 2, "b": [{"c": 3}]}) == []
    found = gen.shape_differences({"a": 1, "b": [{"c": 1}]}, {"a": 2, "b": [{"d": 3}], "e": 0})
    assert sorted(found) == [
        ".b[].c: documented, not written",
        ".b[].d: written, not documented",
        ".e: written, not documented",
    ]
    by_app = {"apps/a": {"x": 1}, "…": "one per app"}
    assert gen.shape_differences(by_app, {"apps/b": {"x": 2}, "apps/c": {"x": 3}}) == []
    assert gen.shape_differences(by_app, {"apps/b": {"y": 2}}) == [
        ".apps/b.x: documented, not written",
        ".apps/b.y: written, not documented",
    ]
