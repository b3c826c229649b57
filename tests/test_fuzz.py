"""The hostile-input fuzz harness (issue 12).

Hypothesis builds hostile repositories — file names and values with control characters, bidi
overrides and line breaks, commit subjects, secrets in every shape the masker knows, YAML
bombs, huge integers, impossible dates, odd bytes, broken registries and tampered plan files —
and runs commands in every output format on them. For every run it asserts:

* the exit code is 0, 1, 2 or 3 (never 4, the internal-error code) and no traceback is shown;
* human output (text, brief, markdown, github, every message on stderr) holds no raw control
  character, DEL, C1 control, bidi control or U+2028/2029 (only `\\n`);
* JSON output is valid JSON and valid UTF-8;
* no planted secret marker appears in any output.

The suite runs GITOPS_FUZZ_EXAMPLES examples per test (default 8, so CI stays fast); a longer
run is `GITOPS_FUZZ_EXAMPLES=500 python -m pytest tests/test_fuzz.py` (docs/reliability.md).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REGISTRY, GitopsRepo, make_gitops_repo, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("GITOPS_FUZZ_EXAMPLES", "8"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
MARKER = "SECRETMARK"
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")

HOSTILE_CHARS = "\x1b\x07\x08\r\n\t\x00\x7f\x9b\x85\u202e\u2066\u200f\u2028%:,|`*_<>&#@[]{}\"'\\ é日"
HOSTILE = st.text(st.sampled_from(list(HOSTILE_CHARS) + list("abc-./")), min_size=1, max_size=12)
NAME_CHARS = list(HOSTILE_CHARS.replace("\x00", "").replace("/", "")) + list("abcxyz-.")
NAME = st.text(st.sampled_from(NAME_CHARS), min_size=1, max_size=10)
SUBJECT = st.text(st.sampled_from([*NAME_CHARS, "/"]), min_size=1, max_size=12)  # git refuses NUL in messages

SECRET_SHAPES = [
    "password: {m}",
    "env: {{password: {m}}}",
    "export DB_PASSWORD={m}",
    '{{"db": {{"password": "{m}"}}}}',
    "url: postgres://user:{m}@db.example.com/app",
    "token: |\n  {m}\n  {m}b",
    "password:\n  {m}",
    "env:\n  - name: API_TOKEN\n    value: {m}",
    "- {{name: DB_PASSWORD, value: {m}}}",
    "pwd: {m}",
    "passphrase = {m}",
    "token: {{{{ .Values.a }}}}{m}{{{{ .Values.b }}}}",
    "apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\ndata:\n  k: {m}",
]
ODD_VALUES = [
    "big: " + "9" * 4400,
    "releaseDate: 2024-02-30",
    "\n".join(
        ['a: &a ["l","l","l","l","l","l","l","l","l"]']
        + [f"{n}: &{n} [" + ",".join([f"*{p}"] * 9) + "]" for p, n in zip("abcdef", "bcdefg", strict=True)]
    ),
    "x: [[[[[[[[[[[[[[[[",
    "kind: Secret\ndata: {{k: {m}, broken",
]
DIRS = ["apps/api/", "apps/web/templates/", "apps/api/files/", "", "deep/" * 30]
EXTS = [".yaml", ".txt", ".json", ".env", ".sh", ""]
BAD_PATTERNS = ["apps/[a/b]/x", "]x[", "a/[]/b", "[z-a]/x", "[!]", "/".join(["**"] * 14) + "/x.yaml", "apps/*/{env}/**"]


@st.composite
def hostile_files(draw: st.DrawFn, serial: int) -> dict[str, Any]:
    files: dict[str, Any] = {}
    for index in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(DIRS)) + draw(NAME) + f"-{serial}-{index}" + draw(st.sampled_from(EXTS))
        lines: list[str] = []
        binary = False
        for _ in range(draw(st.integers(1, 4))):
            kind = draw(st.sampled_from(["secret", "secret", "hostile", "odd", "bytes"]))
            if kind == "secret":
                lines.append(draw(st.sampled_from(SECRET_SHAPES)).format(m=MARKER))
            elif kind == "hostile":
                lines.append(f"k{len(lines)}: {json.dumps(draw(HOSTILE), ensure_ascii=False)}")
                lines.append(f"raw{len(lines)}: {draw(HOSTILE)}")
            elif kind == "odd":
                lines.append(draw(st.sampled_from(ODD_VALUES)).format(m=MARKER))
            else:
                binary = True
        data: Any = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
        if binary and not lines:
            data = draw(st.binary(max_size=64))
        files[name] = data
    return files


def registry_text(draw: Any) -> str:
    doc = yaml.safe_load(REGISTRY)
    if draw(st.integers(0, 3)) == 0:
        doc["promotion"]["env_specific"] = [*doc["promotion"]["env_specific"], draw(st.sampled_from(BAD_PATTERNS))]
    if draw(st.integers(0, 5)) == 0:
        doc["environments"][0]["name"] = draw(HOSTILE)
    return yaml.safe_dump(doc, allow_unicode=True)


HUMAN = [
    ("promote", "dev", "stg", "--dry-run"),
    ("plan", "dev", "stg"),
    ("plan", "dev", "stg", "-o", "markdown"),
    ("diff", "dev", "stg", "-o", "text"),
    ("diff", "dev", "stg", "-o", "brief"),
    ("diff", "dev", "stg", "-o", "markdown"),
    ("diff", "dev", "stg", "-o", "github"),
    ("parity",),
    ("parity", "-o", "markdown"),
    ("status",),
    ("history", "stg"),
    ("validate",),
    ("validate", "-o", "github"),
    ("envs",),
    ("verify", "stg"),
]
JSON_OUT = [
    ("promote", "dev", "stg", "-o", "json"),
    ("plan", "dev", "stg", "-o", "json"),
    ("diff", "dev", "stg", "-o", "json"),
    ("parity", "-o", "json"),
    ("status", "-o", "json"),
    ("history", "dev", "-o", "json"),
    ("validate", "-o", "json"),
    ("verify", "stg", "-o", "json"),
    ("attest", "stg"),
]


def check(repo: Path, args: tuple[str, ...], *, is_json: bool) -> None:
    result = run_cli(repo, *args)
    shown = result.stdout + result.stderr
    assert result.exit_code in (0, 1, 2, 3), (args, result.exit_code, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, (args, result.stderr[-2000:])
    assert MARKER not in shown, (args, [line for line in shown.splitlines() if MARKER in line][:3])
    if is_json:
        assert not RAW.search(result.stderr.replace("\n", "")), (args, result.stderr)
        if result.stdout.strip():
            result.stdout.encode("utf-8")  # strict: valid UTF-8, no lone surrogate
            json.loads(result.stdout)
    else:
        found = RAW.findall(shown)
        assert not found, (args, found[:5], shown[:500])


@pytest.fixture(scope="module")
def fuzz_repo(tmp_path_factory: pytest.TempPathFactory) -> GitopsRepo:
    return make_gitops_repo(tmp_path_factory.mktemp("fuzz") / "repo", bare=True)


SERIAL = iter(range(10**9))


@FUZZ
@given(data=st.data())
def test_hostile_repositories_in_every_format(fuzz_repo: GitopsRepo, data: st.DataObject) -> None:
    serial = next(SERIAL)
    subject = data.draw(SUBJECT) + f" password={MARKER} " + data.draw(SUBJECT)
    fuzz_repo.commit("dev", data.draw(hostile_files(serial)), subject)
    if data.draw(st.booleans()):
        fuzz_repo.commit("stg", data.draw(hostile_files(serial + 10**6)), data.draw(SUBJECT))
    if data.draw(st.integers(0, 3)) == 0:
        registry = registry_text(data.draw)
        fuzz_repo.commit(data.draw(st.sampled_from(["dev", "stg"])), {"environments.yaml": registry}, "registry")
    for args in data.draw(st.lists(st.sampled_from(HUMAN), min_size=2, max_size=4, unique=True)):
        check(fuzz_repo.path, args, is_json=False)
    for args in data.draw(st.lists(st.sampled_from(JSON_OUT), min_size=1, max_size=3, unique=True)):
        check(fuzz_repo.path, args, is_json=True)
    if data.draw(st.integers(0, 4)) == 0:  # let some promotions land, so history has hostile subjects
        check(fuzz_repo.path, ("promote", "dev", "stg", "--discard-drift"), is_json=False)


PLAN_JUNK = st.one_of(
    st.binary(max_size=200),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(HOSTILE_CHARS, max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
        max_leaves=12,
    ).map(lambda doc: json.dumps(doc).encode()),
    st.sampled_from([b"[" * 100_000, b'{"a":' * 50_000, b"\x00" * 1000, b"{" + b" " * 10_000]),
)


@FUZZ
@given(plan=PLAN_JUNK)
def test_tampered_plan_files(fuzz_repo: GitopsRepo, tmp_path: Path, plan: bytes) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(plan)
    for output in ("text", "json"):
        result = run_cli(fuzz_repo.path, "promote", "dev", "stg", "--plan", str(path), "--dry-run", "-o", output)
        assert result.exit_code == 2, result.stderr
        assert "Traceback" not in result.stderr and not RAW.search(result.stderr.replace("\n", ""))
