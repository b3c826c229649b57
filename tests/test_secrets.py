"""Secret masking: keys, Secret documents, env pairs, PEM blocks, and line diffs."""

from __future__ import annotations

import pytest

from gitops_promote.core.secrets import is_secret_key, mask_text, mask_value
from gitops_promote.core.yamldiff import diff_file

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3VS\n-----END RSA PRIVATE KEY-----\n"


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "dbPassword",
        "DB_PASSWORD",
        "passwd",
        "client_secret",
        "clientSecret",
        "api-key",
        "apiKey",
        "API_KEY",
        "privateKey",
        "private_key",
        "token",
        "authToken",
        "credentials",
        "awsCredentials",
    ],
)
def test_secret_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "secretName",
        "existingSecret",
        "existingSecretPasswordKey",
        "secretKeyRef",
        "passwordFile",
        "tokenPath",
        "name",
        "image",
        "replicaCount",
        "key",
        42,
        None,
    ],
)
def test_reference_and_plain_keys(key: object) -> None:
    assert not is_secret_key(key)


def test_mask_value_rules() -> None:
    data = {
        "auth": {"password": "hunter2", "existingSecret": "db-auth", "enabled": True},
        "credentials": {"user": "admin", "pass": "x"},
        "env": [{"name": "API_TOKEN", "value": "tok"}, {"name": "HOST", "value": "h"}],
        "tls": {"key": PEM},
        "token": {"enabled": False, "ttl": None},
    }
    masked = mask_value(data)
    assert masked["auth"] == {"password": "***", "existingSecret": "db-auth", "enabled": True}
    assert masked["credentials"] == {"user": "***", "pass": "***"}
    assert masked["env"] == [{"name": "API_TOKEN", "value": "***"}, {"name": "HOST", "value": "h"}]
    assert "MIIE" not in masked["tls"]["key"] and "BEGIN RSA PRIVATE KEY" in masked["tls"]["key"]
    assert masked["token"] == {"enabled": False, "ttl": None}


def test_secret_documents_mask_data_and_string_data() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db"},
        "data": {"db-name": "ZGI=", "url": "eA=="},
        "stringData": {"x": "y"},
    }
    masked = mask_value(secret)
    assert masked["data"] == {"db-name": "***", "url": "***"}
    assert masked["stringData"] == {"x": "***"}
    assert masked["metadata"] == {"name": "db"}


def test_diff_masks_changed_secret() -> None:
    old = b"db:\n  host: a\n  password: hunter2\n"
    new = b"db:\n  host: b\n  password: correcthorse\n"
    d = diff_file("values.yaml", old, new)
    by_path = {c.display_path(): c for c in d.changes}
    assert (by_path["db.host"].old, by_path["db.host"].new) == ("a", "b")
    pw = by_path["db.password"]
    assert (pw.old, pw.new, pw.masked) == ("***", "***", True)
    shown = diff_file("values.yaml", old, new, show_secrets=True)
    assert {c.new for c in shown.changes} == {"b", "correcthorse"}


def test_diff_masks_secret_documents_and_added_subtrees() -> None:
    old = b"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: aHVudGVyMg==}\n"
    new = old.replace(b"aHVudGVyMg==", b"c2VjcmV0")
    d = diff_file("secret.yaml", old, new)
    assert [(c.display_path(), c.old, c.new) for c in d.changes] == [("data.k", "***", "***")]
    added = diff_file("values.yaml", None, b"app:\n  env:\n    - name: DB_PASSWORD\n      value: hunter2\n")
    assert "hunter2" not in repr(added.changes)


def test_mask_text_lines() -> None:
    text = (
        "apiVersion: v1\n"
        "password: hunter2\n"
        '  "dbPassword": "x"\n'
        "API_KEY=abc123\n"
        "secretName: my-secret\n"
        "password: {{ .Values.db.password }}\n"
        "env:\n"
        "  - name: DB_PASSWORD\n"
        "    value: s3cr3t\n"
        "token: |\n"
        "  line-one\n"
        "  line-two\n"
        "after: visible\n"
        "cert: |\n" + "".join("  " + line + "\n" for line in PEM.splitlines())
    )
    masked = mask_text(text)
    for secret in ("hunter2", '"x"', "abc123", "s3cr3t", "line-one", "line-two", "MIIE"):
        assert secret not in masked
    for visible in ("secretName: my-secret", "{{ .Values.db.password }}", "after: visible", "BEGIN RSA PRIVATE KEY"):
        assert visible in masked
    assert masked.count("\n") == text.count("\n")  # line count kept: diffs index into it


def test_text_diff_masks_but_still_shows_the_change() -> None:
    d = diff_file("chart/templates/secret.yaml", b"a: 1\npassword: old\n", b"a: 1\npassword: new\n")
    assert "-password: ***" in d.text_diff and "+password: ***" in d.text_diff
    assert "old" not in d.text_diff.replace("--- a/", "") and "new" not in d.text_diff


# ---- the shortcuts of the masker are exact -------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from gitops_promote.core import secrets  # noqa: E402
from gitops_promote.core.diffmodel import Change  # noqa: E402

# Characters every rule looks at, plus letters a key or a PEM label is made of.
_PIECES = [
    *"pastwordkeyTOKEN:=-/@ \n\t\"'{},#|",
    *("password", "token", "name", "value", "data", "-----BEGIN ", "-----END ", "KEY-----", "://", "kind: Secret"),
]
_MASKER_TEXT = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(_MASKER_TEXT)
def test_mask_string_shortcut_is_the_full_masker(text: str) -> None:
    """Strings without `:`, `=` or `-----BEGIN` skip every regex: the same result as running them."""
    assert secrets.mask_string(text) == secrets.mask_text(secrets.mask_pem(text))


@pytest.mark.parametrize("value", [1, 2.5, True, False, None, "app0001.dev.example.com", "1.1.0"])
def test_nothing_to_mask_keeps_the_change(value: object) -> None:
    change = Change(["image", "tag"], "changed", value, value)
    assert secrets.mask_change(change) is change  # no copy when nothing is masked


@pytest.mark.parametrize("value", [1, True, None, "x", "1.1.0"])
def test_scalars_inside_a_secret_are_still_masked(value: object) -> None:
    masked = secrets.mask_change(Change(["db", "password"], "changed", value, value))
    assert masked.masked and masked.old == secrets.mask_all(value) and masked.new == secrets.mask_all(value)
    leaf = value if value is None or isinstance(value, bool) else "***"
    assert secrets.mask_value(value, inside_secret=True) == leaf
