"""Hostile data never reaches the terminal raw (issue 12): ESC sequences, BEL, C1 controls,
bidi overrides and line breaks in file names, values, commit subjects and server messages are
shown escaped in every human format; JSON stays valid UTF-8 whatever the file names' bytes.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GitopsRepo, RemoteSetup, make_gitops_repo, run_cli
from reliability_checks import gitops_argv

from gitops_promote.render import console

EVIL = "\x1b]0;title\x07\x1b[2J\x9b\u202e\x7f\u2066"
# Any character a terminal could act on; `\n` is the only control a human format may hold.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
EVIL_NAME = f"apps/api/evil{EVIL}\nforged line.yaml"


def assert_no_raw(text: str, what: object) -> None:
    found = RAW.findall(text)
    assert not found, f"{what}: raw {found[:5]!r}"
    assert "\nforged line" not in text, f"{what}: a newline in a file name forged a line"


def hostile_repo(path: Path, *, drift: bool) -> GitopsRepo:
    repo = make_gitops_repo(path, bare=True)
    repo.commit(
        "dev",
        {
            EVIL_NAME: "a: 1\n",
            "apps/api/values.yaml": f"image:\n  tag: '1.1.0{EVIL}'\nnote: \"x\\ny\"\n",
            "apps/api/templates/cm.yaml": f"kind: ConfigMap\ndata:\n  x: '{EVIL}'\n",
            "apps/api/run.sh": f"echo '{EVIL}'\n\tindented\n",
        },
        f"subject {EVIL}\nsecond line",
    )
    if drift:
        drifted = {f"apps/web/drift{EVIL}\nforged line.yaml": f"kind: ConfigMap\ndata:\n  y: 'd{EVIL}'\n"}
        repo.commit("stg", drifted, f"hot {EVIL}")
    return repo


HUMAN = [
    ("plan", "dev", "stg"),
    ("plan", "dev", "stg", "-o", "markdown"),
    ("diff", "dev", "stg", "-o", "text"),
    ("diff", "dev", "stg", "-o", "brief"),
    ("diff", "dev", "stg", "-o", "markdown"),
    ("diff", "dev", "stg", "-o", "github"),
    ("parity",),
    ("parity", "-o", "markdown"),
    ("status",),
    ("history", "dev"),
    ("validate",),
    ("validate", "-o", "github"),
    ("envs",),
    ("verify", "stg"),
]


@pytest.fixture(scope="module")
def drifting(tmp_path_factory: pytest.TempPathFactory) -> GitopsRepo:
    return hostile_repo(tmp_path_factory.mktemp("hostile") / "repo", drift=True)


@pytest.mark.parametrize("args", HUMAN, ids=" ".join)
def test_no_raw_control_character_in_human_output(drifting: GitopsRepo, args: tuple[str, ...]) -> None:
    result = run_cli(drifting.path, *args)
    assert result.exit_code in (0, 1), result.stderr
    assert_no_raw(result.stdout + result.stderr, args)


def test_file_names_and_subjects_are_shown_escaped(drifting: GitopsRepo) -> None:
    result = run_cli(drifting.path, "plan", "dev", "stg")
    assert "evil\\x1b]0;title\\x07\\x1b[2J\\x9b\\u202e\\x7f\\u2066\\nforged line.yaml" in result.stdout
    assert "subject \\x1b]0;title" in result.stdout


@pytest.mark.parametrize("args", [("promote", "dev", "stg", "--dry-run"), ("promote", "dev", "stg", "--discard-drift")])
def test_promote_and_its_refusal_escape_data(tmp_path: Path, args: tuple[str, ...]) -> None:
    repo = hostile_repo(tmp_path / "repo", drift=True)
    result = run_cli(repo.path, *args)
    assert result.exit_code in (0, 1), result.stderr
    assert_no_raw(result.stdout + result.stderr, args)
    assert "drift\\x1b" in result.stdout + result.stderr


def test_history_of_a_promotion_with_a_hostile_subject(tmp_path: Path) -> None:
    repo = hostile_repo(tmp_path / "repo", drift=False)
    assert run_cli(repo.path, "promote", "dev", "stg").exit_code == 0
    for args in (("history", "stg"), ("status",), ("parity",)):
        result = run_cli(repo.path, *args)
        assert_no_raw(result.stdout + result.stderr, args)


@pytest.mark.parametrize("output", ["text", "json"])
def test_non_utf8_and_hostile_names_in_json_are_valid_utf8(tmp_path: Path, output: str) -> None:
    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    repo.commit("dev", {"apps/api/caf\udce9\udc9b.yaml": "a: 1\n", EVIL_NAME: "b: 2\n"})
    proc = subprocess.run(  # noqa: S603
        gitops_argv(repo.path, "diff", "dev", "stg", "-o", output),
        capture_output=True,
        check=False,
        timeout=60,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode("utf-8")  # strict: raises on invalid UTF-8
    assert_no_raw(text, output)
    if output == "json":
        paths = {f["path"] for f in json.loads(text)["files"]}
        assert "apps/api/caf\udce9\udc9b.yaml" in paths  # surrogateescape: \udcXX is byte XX
        assert os.fsencode("apps/api/caf\udce9\udc9b.yaml") == b"apps/api/caf\xe9\x9b.yaml"
        assert EVIL_NAME in paths
    else:
        assert "caf\\xe9\\x9b.yaml" in text


def test_server_messages_are_relayed_escaped(remote_setup: RemoteSetup) -> None:
    hook = remote_setup.remote.path / "hooks" / "pre-receive"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text("#!/bin/sh\nprintf 'denied \\033]0;owned\\007 \\033[2J \\342\\200\\256 by policy\\n' >&2\nexit 1\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    remote_setup.remote.commit("dev", {"apps/api/values.yaml": "replicas: 2\n"}, "api")
    result = run_cli(remote_setup.clone.path, "promote", "dev", "stg")
    assert result.exit_code == 3, result.stderr
    assert "denied" in result.stderr
    assert_no_raw(result.stdout + result.stderr, "push refused by a hook")


# ---- the seam itself -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[2J", "\\x1b[2J"),
        ("a\nb\r\tc", "a\\nb\\r\\tc"),
        ("\x07\x7f\x9b", "\\x07\\x7f\\x9b"),
        ("\u202eabc\u2066\u2069", "\\u202eabc\\u2066\\u2069"),
        ("l\u2028p\u2029", "l\\u2028p\\u2029"),
        ("caf\udce9", "caf\\xe9"),
        ("plain ünïcødé 日本", "plain ünïcødé 日本"),
    ],
)
def test_visible_escapes_every_unsafe_character(raw: str, shown: str) -> None:
    assert console.visible(raw) == shown
    kept = raw.split("\n")
    assert console.visible_lines(raw) == "\n".join(console.visible(part) for part in kept)


def test_text_the_escapers_skip_holds_nothing_they_escape() -> None:
    """Printable text skips the escaping regex (not even compiled): sound for every code point,
    since none that the regex escapes is printable."""
    printable = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isprintable())
    assert console._unsafe().search(printable) is None
    assert console._unsafe_keep_nl().search(printable) is None


@pytest.mark.parametrize("char", [chr(c) for c in range(0xA0)] + ["é", "→", "\u00a0", "\u202e", "\u2028", "\udce9"])
def test_the_printable_shortcut_escapes_as_the_regex_does(char: str) -> None:
    """The same answer with and without the shortcut: alone, between others, after a line break."""
    for text in (char, f"a{char}b", f"a\n{char}"):
        assert console.visible(text) == console._unsafe().sub(console._escape, text)
        assert console.visible_lines(text) == console._unsafe_keep_nl().sub(console._escape, text)
        assert console.is_visible(text) is (console._unsafe_keep_nl().search(text) is None)


def test_json_text_is_ascii_safe_for_controls_and_round_trips() -> None:
    data = {"p": f"x{EVIL}\udcff\n"}
    text = console.json_text(data)
    assert not RAW.search(text.replace("\n", ""))
    text.encode("utf-8")  # no lone surrogate left raw
    assert json.loads(text) == data


def test_markdown_and_workflow_escapers_are_the_only_ones() -> None:
    """One markdown escaper and one workflow-command escaper, in render/console.py."""
    src = Path(__file__).resolve().parent.parent / "src" / "gitops_promote"
    pattern = re.compile(r"def (_?md|_md_cell|gh_data|gh_property|escape_data|escape_property|visible)\(")
    homes = {p.relative_to(src).as_posix() for p in src.rglob("*.py") if pattern.search(p.read_text())}
    assert homes == {"render/console.py"}
