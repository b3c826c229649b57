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
