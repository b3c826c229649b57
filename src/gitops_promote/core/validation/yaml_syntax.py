"""Rule `yaml-parse`: every YAML file parses, without duplicate keys."""

from __future__ import annotations

from gitops_promote.adapters.yaml_nodes import (
    YamlSyntaxError,
)
from gitops_promote.core.validation.files import Files
from gitops_promote.core.validation.findings import ERROR, Finding, make_finding


def check_yaml(path: str, files: Files) -> list[Finding]:
    docs = files.documents(path)
    if isinstance(docs, YamlSyntaxError):
        return [
            make_finding(
                "yaml-parse",
                ERROR,
                path,
                (docs.line, docs.column),
                f"not valid YAML: {docs.message}",
                "fix the syntax; `python -c 'import yaml,sys; yaml.safe_load_all(open(sys.argv[1]))' "
                "FILE` shows the same error",
            )
        ]
    return [
        make_finding(
            "yaml-parse",
            ERROR,
            path,
            (dup.line, dup.column),
            f"duplicate key {dup.key!r} (first on line {dup.first_line})",
            "tools disagree on which copy wins (Helm and kubectl may reject it); keep one",
        )
        for doc in docs
        for dup in doc.duplicates
    ]
