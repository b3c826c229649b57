"""The leak corpus (issue 12): each way a secret once reached an output carries a unique
marker, and no marker appears in any output of any command in any format, unless
`diff --show-secrets` asks for them (which proves the markers do reach the diff).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import GitopsRepo, make_gitops_repo, run_cli, standard_files

from gitops_promote.core import secrets
from gitops_promote.core.yamldiff import diff_file

TEXT_FILE = """\
password:
  LEAK_NEXTLINE
env: {password: LEAK_FLOW}
env:
  - {name: API_TOKEN, value: LEAK_ENVLIST}
token: {{ .Values.a }}LEAK_TEMPLATED{{ .Values.b }}
url: postgres://user:LEAK_URL@db.example.com/app
pwd: LEAK_PWD
passphrase: LEAK_PASSPHRASE
"""
LIST_OF_SECRETS = """\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Secret
    metadata: {name: db}
    data:
      password: {value}
    stringData:
      token: {value}2
"""
BROKEN_SECRET = "apiVersion: v1\nkind: Secret\ndata:\n  password: LEAK_BROKEN\n  bad: [unclosed\n"
SCHEMA = {
    "type": "object",
    "properties": {
        "auth": {
            "type": "object",
            "properties": {
                "adminPassword": {"type": "string", "minLength": 40},
                "pin": {"type": "integer"},
                "mode": {"enum": ["a", "b"]},
            },
        }
    },
}

LEAK_FILES = {
    "apps/api/templates/config.txt": TEXT_FILE,
    "apps/api/.env": "export DB_PASSWORD=LEAK_EXPORT\n",
    "apps/api/files/config.json": '{"db": {"password": "LEAK_JSON"}, "name": "x"}\n',
    "apps/api/manifests/list.yaml": LIST_OF_SECRETS.replace("{value}", "LEAK_LIST_NEW"),
    "apps/api/manifests/broken-secret.yaml": BROKEN_SECRET,
    "apps/api/manifests/urls.yaml": 'database:\n  url: "mysql://app:LEAK_YAMLURL@db/app"\n',
    "apps/api/values.schema.json": json.dumps(SCHEMA),
    "apps/api/values.yaml": (
        "image:\n  repository: ghcr.io/example/api\n  tag: 1.0.0\n"
        "auth:\n  adminPassword: LEAK_SHORT\n  pin: VALUE_NOTINT\n  mode: VALUE_ENUM\n"
    ),
}
MARKER = "LEAK_"


def leak_repo(path: Path) -> GitopsRepo:
    base = standard_files()
    base["apps/api/manifests/list.yaml"] = LIST_OF_SECRETS.replace("{value}", "LEAK_LIST_OLD")
    repo = make_gitops_repo(path, base, bare=True)
    repo.commit("dev", LEAK_FILES, "rotate: set password=LEAK_SUBJECT for the db")
    return repo


@pytest.fixture(scope="module")
def leaky(tmp_path_factory: pytest.TempPathFactory) -> GitopsRepo:
    return leak_repo(tmp_path_factory.mktemp("leaks") / "repo")


COMMANDS = [
    *(("diff", "dev", "stg", "-o", o) for o in ("text", "brief", "json", "markdown", "github")),
    *(("plan", "dev", "stg", "-o", o) for o in ("text", "json", "markdown")),
    *(("promote", "dev", "stg", "--dry-run", "-o", o) for o in ("text", "json")),
    *(("validate", "-o", o) for o in ("text", "json", "github")),
    *(("history", "dev", "-o", o) for o in ("text", "json")),
    *(("status", "-o", o) for o in ("text", "json")),
    *(("parity", "-o", o) for o in ("text", "json", "markdown")),
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_no_marker_in_any_output(
    leaky: GitopsRepo, args: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = run_cli(leaky.path, *args)
    assert result.exit_code in (0, 1), result.stderr
    shown = result.stdout + result.stderr + (summary.read_text() if summary.exists() else "")
    assert MARKER not in shown, [line for line in shown.splitlines() if MARKER in line][:5]
    if "json" in args:
        json.loads(result.stdout)


def test_the_markers_do_reach_the_diff_with_show_secrets(leaky: GitopsRepo) -> None:
    shown = run_cli(leaky.path, "diff", "dev", "stg", "-o", "json", "--show-secrets").stdout
    for marker in ("NEXTLINE", "FLOW", "ENVLIST", "TEMPLATED", "URL", "PWD", "PASSPHRASE", "EXPORT", "JSON"):
        assert f"LEAK_{marker}" in shown, marker
    for marker in ("LIST_NEW", "LIST_OLD", "BROKEN", "YAMLURL"):
        assert f"LEAK_{marker}" in shown, marker


def test_validate_still_reports_the_schema_errors_without_the_values(leaky: GitopsRepo) -> None:
    result = run_cli(leaky.path, "validate", "dev", "-o", "json")
    assert result.exit_code == 1
    messages = [f["message"] for env in result.json()["environments"] for f in env["findings"]]
    joined = "\n".join(messages)
    assert "VALUE_" not in result.stdout  # no schema message quotes a value, secret-named or not
    assert "auth.adminPassword: the value is shorter than 40 characters" in joined
    assert "auth.pin: the value (a string) is not of type 'integer'" in joined
    assert "auth.mode: the value is not one of the allowed values ['a', 'b']" in joined


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("password:", "password:"),
        ("env: {password: x1}", "env: {password: ***}"),
        ("export DB_PASSWORD=x1", "export DB_PASSWORD=***"),
        ('{"db": {"password": "x1"}}', '{"db": {"password": "***"}}'),
        ("token: {{ .Values.a }}x1{{ .Values.b }}", "token: ***"),
        ("token: {{ .Values.a }}", "token: {{ .Values.a }}"),
        ("- {name: API_TOKEN, value: x1}", "- {name: API_TOKEN, value: ***}"),
        ("url: postgres://user:x1@host/db", "url: postgres://user:***@host/db"),
        ("pwd: x1", "pwd: ***"),
        ("passphrase = x1", "passphrase = ***"),
        ('args: ["--db-password=x1"]', 'args: ["--db-password=***"]'),
        ("image: nginx:1.2", "image: nginx:1.2"),
        ("secretName: db-auth", "secretName: db-auth"),
    ],
)
def test_line_rules(line: str, masked: str) -> None:
    assert secrets.mask_text(line) == masked


def test_value_on_the_next_lines_is_masked() -> None:
    assert secrets.mask_text("password:\n  x1\n  x2\nother: 1\n") == "password:\n  ***\n  ***\nother: 1\n"


def test_secret_data_blocks_in_a_template_keep_keys_and_references() -> None:
    text = "kind: Secret\ndata:\n  k: aGk=\n  t: {{ .Values.t | b64enc }}\nmetadata:\n  name: n\n"
    assert secrets.mask_text(text) == text.replace("aGk=", "***")


def test_list_of_secrets_is_masked_in_structured_diffs() -> None:
    old = LIST_OF_SECRETS.replace("{value}", "old1").encode()
    new = LIST_OF_SECRETS.replace("{value}", "new1").encode()
    d = diff_file("list.yaml", old, new)
    assert d.changes and all(c.masked for c in d.changes)
    assert "old1" not in repr(d) and "new1" not in repr(d)


def test_unparseable_secret_is_masked_whole() -> None:
    d = diff_file("secret.yaml", None, BROKEN_SECRET.encode())
    assert "LEAK_BROKEN" not in d.text_diff and "unclosed" not in d.text_diff
    assert "+kind: Secret" in d.text_diff and "+  password: ***" in d.text_diff


def test_structured_string_values_get_the_line_rules() -> None:
    d = diff_file("values.yaml", b"db: {url: a}\n", b"db: {url: 'postgres://u:pw1@h/x'}\n")
    assert d.changes[0].new == "postgres://u:***@h/x"


def test_commit_subjects_are_masked() -> None:
    assert secrets.mask_subject("set password=x1 and token: x2") == "set password=*** and token: ***"
