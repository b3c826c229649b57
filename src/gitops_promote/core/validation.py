"""Validate one environment's tree: pure functions from file bytes to findings (no git).

Rule ids, severities and how to fix or accept each are documented in docs/validation.md.
The command layer passes `files`: repo path -> bytes, or a zero-argument callable returning
bytes, so that big files nobody needs (Helm templates when no persistence rule applies) are
never read from git.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError
from referencing.exceptions import Unresolvable

from gitops_promote.adapters.yaml_nodes import (
    DataPath,
    Document,
    YamlSyntaxError,
    decode,
    get_path,
    load_documents,
)
from gitops_promote.core import secrets
from gitops_promote.core.helm import chart_dirs, deep_merge
from gitops_promote.core.paths import EnvSpecificPaths, compile_glob, expand
from gitops_promote.core.registry import Environment, Registry
from gitops_promote.errors import Location, Problem

ERROR, WARNING, NOTICE = "error", "warning", "notice"
SEVERITIES = (ERROR, WARNING, NOTICE)

ARGOCD_API = "argoproj.io/v1alpha1"
ARGOCD_KINDS = {
    "Application": "application.schema.json",
    "ApplicationSet": "applicationset.schema.json",
    "AppProject": "appproject.schema.json",
}
ACCEPT_EPHEMERAL = "gitops-promote/ephemeral-storage"
BACKUP_ANNOTATION = "gitops-promote/backup"
EPHEMERAL_HINT = "data there dies with the cluster; use external storage (S3, RDS, OpenSearch, ElastiCache)"
_PVC = re.compile(rb"^\s*kind:\s*[\"']?PersistentVolumeClaim\b|volumeClaimTemplates\s*:", re.M)

FileSource = bytes | Callable[[], bytes]


@dataclass(frozen=True)
class Finding:
    """One result of validation; `line`/`column` are 1-based, 0 when unknown."""

    rule: str
    severity: str
    file: str
    line: int
    column: int
    message: str
    hint: str = ""

    def location(self) -> Location:
        return Location(self.file, self.line, self.column)

    def to_problem(self) -> Problem:
        return Problem(f"[{self.rule}] {self.message}", self.location(), self.hint)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "hint": self.hint,
        }

    def __str__(self) -> str:
        return f"{self.location()}: {self.severity}: [{self.rule}] {self.message}"


def _finding(rule: str, severity: str, file: str, where: tuple[int, int], message: str, hint: str = "") -> Finding:
    return Finding(rule, severity, file, where[0], where[1], message, hint)


def dotted(path: Iterable[Any]) -> str:
    """('spec', 'sources', 0, 'path') -> 'spec.sources[0].path'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def is_templated(value: Any) -> bool:
    """ApplicationSet/Helm placeholders are filled later; checks on them would be guesses."""
    return isinstance(value, str) and "{{" in value


# ---------------------------------------------------------------------------------------------
# files


class Files:
    """Repo paths -> bytes, read lazily and once."""

    def __init__(self, files: Mapping[str, FileSource]) -> None:
        self._sources = files
        self._cache: dict[str, bytes] = {}
        self._docs: dict[str, list[Document] | YamlSyntaxError] = {}

    def __contains__(self, path: object) -> bool:
        return path in self._sources

    def paths(self) -> Iterable[str]:
        return self._sources.keys()

    def read(self, path: str) -> bytes:
        if path not in self._cache:
            source = self._sources[path]
            self._cache[path] = source() if callable(source) else source
        return self._cache[path]

    def documents(self, path: str) -> list[Document] | YamlSyntaxError:
        if path not in self._docs:
            try:
                self._docs[path] = load_documents(decode(self.read(path)))
            except YamlSyntaxError as exc:
                self._docs[path] = exc
        return self._docs[path]

    def first_document(self, path: str) -> Document | None:
        docs = self.documents(path) if path in self else None
        return docs[0] if isinstance(docs, list) and docs else None


def is_yaml_path(path: str) -> bool:
    """YAML we parse: *.yaml/*.yml outside Helm `templates/` (those are Go templates)."""
    return path.endswith((".yaml", ".yml")) and "templates" not in path.split("/")[:-1]


# ---------------------------------------------------------------------------------------------
# YAML syntax


def check_yaml(path: str, files: Files) -> list[Finding]:
    docs = files.documents(path)
    if isinstance(docs, YamlSyntaxError):
        return [
            _finding(
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
        _finding(
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


# ---------------------------------------------------------------------------------------------
# Argo CD schemas


def _openapi_to_jsonschema(node: Any) -> Any:
    """Make a CRD's structural OpenAPI schema checkable by a JSON Schema validator.

    `x-kubernetes-*` keys are ignored by jsonschema except where they change meaning:
    int-or-string (allow both), preserve-unknown-fields (leave open) and `nullable`.
    Objects with declared properties are closed (`additionalProperties: false`) because
    kubectl's strict field validation rejects unknown fields; such errors are reported as
    `argocd-unknown-field` warnings.
    """
    if isinstance(node, list):
        return [_openapi_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _openapi_to_jsonschema(value) for key, value in node.items()}
    if node.get("x-kubernetes-int-or-string") and "anyOf" not in node and "type" not in node:
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and isinstance(node.get("type"), str):
        out["type"] = [node["type"], "null"]
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@cache
def argocd_validator(kind: str) -> Any:
    """A compiled validator per kind, built once per process (the ApplicationSet schema is big)."""
    resource = resources.files("gitops_promote").joinpath("data", "argocd", ARGOCD_KINDS[kind])
    shipped = json.loads(resource.read_text(encoding="utf-8"))
    schema = _openapi_to_jsonschema(shipped["schema"])
    return jsonschema.Draft7Validator(schema)


def argocd_kind(data: Any) -> str | None:
    if isinstance(data, dict) and data.get("apiVersion") == ARGOCD_API and data.get("kind") in ARGOCD_KINDS:
        return str(data["kind"])
    return None


def prune_nulls(data: Any) -> Any:
    """Drop null fields, as the API server does for non-nullable CRD fields before validating
    (a key whose sub-keys are all commented out, `gitlab:`, is null and means "absent")."""
    if isinstance(data, dict):
        return {k: prune_nulls(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [prune_nulls(v) for v in data]
    return data


def _error_path(error: ValidationError) -> tuple[DataPath, str]:
    """The offending field's path (the missing property for `required`) and a message."""
    path: DataPath = tuple(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [p for p in error.validator_value if p not in error.instance]
        if missing:
            return (*path, missing[0]), f"{dotted((*path, missing[0]))} is required but missing"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        extra = [p for p in error.instance if p not in allowed]
        if extra:
            return (*path, extra[0]), f"{dotted((*path, extra[0]))} is not a field of this kind"
    # Never jsonschema's own message: it quotes the value, which may be a secret.
    return path, f"{dotted(path)}: {secrets.schema_message(error.validator, error.validator_value, error.instance)}"


def _leaf_errors(error: ValidationError) -> Iterator[ValidationError]:
    """anyOf/oneOf wrap the useful errors; report the deepest ones."""
    if error.context:
        for sub in error.context:
            yield from _leaf_errors(sub)
    else:
        yield error


def check_argocd_schema(path: str, doc: Document) -> list[Finding]:
    kind = argocd_kind(doc.data)
    if kind is None:
        return []
    findings = []
    for error in argocd_validator(kind).iter_errors(prune_nulls(doc.data)):
        if is_templated(error.instance):
            continue
        field_path, message = _error_path(error)
        unknown = error.validator == "additionalProperties"
        rule, severity = ("argocd-unknown-field", WARNING) if unknown else ("argocd-schema", ERROR)
        hint = (
            "remove it or check its spelling against the Argo CD v3.5.1 CRD (kubectl's strict validation "
            "rejects unknown fields)"
            if unknown
            else f"see the {kind} reference: https://argo-cd.readthedocs.io/en/stable/operator-manual/declarative-setup/"
        )
        findings.append(_finding(rule, severity, path, doc.position(field_path), f"{kind}: {message}", hint))
    name = get_path(doc.data, ("metadata", "name"))[1]
    if not name:
        findings.append(
            _finding(
                "argocd-schema",
                ERROR,
                path,
                doc.position(("metadata", "name")),
                f"{kind}: metadata.name is required but missing",
                "every Argo CD resource needs a name",
            )
        )
    return findings


# ---------------------------------------------------------------------------------------------
# Application <-> environment


@dataclass(frozen=True)
class RepoIndex:
    """The environment branch's paths and the directories that hold them."""

    paths: frozenset[str]
    dirs: frozenset[str]

    @classmethod
    def of(cls, paths: Iterable[str]) -> RepoIndex:
        files = frozenset(paths)
        dirs = {""}
        for path in files:
            while "/" in path:
                path = path.rsplit("/", 1)[0]
                if path in dirs:
                    break
                dirs.add(path)
        return cls(files, frozenset(dirs))


def _clean(path: str) -> str:
    cleaned = posixpath.normpath(path.strip().strip("/")) if path.strip().strip("/") else ""
    return "" if cleaned == "." else cleaned


def _sources(spec: Any) -> list[tuple[DataPath, dict[str, Any]]]:
    out: list[tuple[DataPath, dict[str, Any]]] = []
    if isinstance(spec, dict) and isinstance(spec.get("source"), dict):
        out.append((("spec", "source"), spec["source"]))
    if isinstance(spec, dict) and isinstance(spec.get("sources"), list):
        out += [(("spec", "sources", i), s) for i, s in enumerate(spec["sources"]) if isinstance(s, dict)]
    return out


def _is_this_repo(source: dict[str, Any], branches: set[str], repo: RepoIndex) -> bool:
    """We cannot know this repository's URL, so recognise it by what it points at."""
    if source.get("chart"):  # a Helm repository chart, not a git path
        return False
    revision = str(source.get("targetRevision", ""))
    if revision.removeprefix("refs/heads/") in branches:
        return True
    path = source.get("path")
    return isinstance(path, str) and not is_templated(path) and _clean(path) != "" and _clean(path) in repo.dirs


def owning_environment(path: str, registry: Registry, env: Environment) -> Environment:
    """The environment a file belongs to: `env`, unless only another environment's `{env}`
    pattern owns it (e.g. `argocd/prd/root.yaml` with `argocd/{env}/**` on the stg branch).

    Every branch carries every environment's env-specific files (promotion copies the ones
    the target does not own), but only the owner's Argo CD deploys them, so an Application
    there must track its owner's branch, not the branch it is read from.
    """
    if _owned_paths(registry.env_specific, env.codename).owns(path):
        return env
    for other in registry.environments:
        if other.codename != env.codename and _owned_paths(registry.env_specific, other.codename).owns(path):
            return other
    return env


@lru_cache(maxsize=64)
def _owned_paths(patterns: tuple[str, ...], env: str) -> EnvSpecificPaths:
    return EnvSpecificPaths(patterns, env)  # cached: its compiled pattern is built once


def check_application_env(
    file: str, doc: Document, env: Environment, registry: Registry, repo: RepoIndex
) -> list[Finding]:
    """An Application on env X's branch must track X's branch (or, in a file another
    environment owns, that environment's branch), and its valueFiles must exist."""
    if argocd_kind(doc.data) != "Application":
        return []
    branches = {e.branch for e in registry.environments}
    sources = _sources(doc.data.get("spec"))
    refs = {s["ref"]: s for _, s in sources if isinstance(s.get("ref"), str)}
    owner = owning_environment(file, registry, env)
    findings: list[Finding] = []
    for where, source in sources:
        if not _is_this_repo(source, branches, repo):
            continue
        findings += _check_revision(file, doc, where, source, owner, owner is not env)
        findings += _check_value_files(file, doc, where, source, refs, branches, repo)
    return findings


def _check_revision(
    file: str, doc: Document, where: DataPath, source: dict[str, Any], env: Environment, foreign: bool = False
) -> list[Finding]:
    revision = source.get("targetRevision")
    if is_templated(revision) or str(revision or "").removeprefix("refs/heads/") == env.branch:
        return []
    tracked = f"tracks {revision!r}" if revision else "has no targetRevision (so it tracks HEAD)"
    whose = (
        f"belongs to environment {env.codename} (promotion.env_specific), whose branch is {env.branch!r}"
        if foreign
        else f"is on environment {env.codename}'s branch {env.branch!r}"
    )
    return [
        _finding(
            "argocd-target-revision",
            ERROR,
            file,
            doc.position((*where, "targetRevision")),
            f"{dotted(where)} {tracked}, but this file {whose}",
            f"set {dotted((*where, 'targetRevision'))}: {env.branch}, and keep the file in an env-owned "
            f"path (promotion.env_specific, e.g. argocd/{{env}}/**) or list the key in "
            f"promotion.env_specific_keys so promotion keeps it",
        )
    ]


def _check_value_files(
    file: str,
    doc: Document,
    where: DataPath,
    source: dict[str, Any],
    refs: dict[str, dict[str, Any]],
    branches: set[str],
    repo: RepoIndex,
) -> list[Finding]:
    helm = source.get("helm")
    value_files = helm.get("valueFiles") if isinstance(helm, dict) else None
    if not isinstance(value_files, list):
        return []
    lenient = bool(helm.get("ignoreMissingValueFiles")) if isinstance(helm, dict) else False
    findings = []
    for index, entry in enumerate(value_files):
        resolved = _resolve_value_file(entry, source, refs, branches, repo)
        if resolved is None or resolved in repo.paths:
            continue
        field_path = (*where, "helm", "valueFiles", index)
        findings.append(
            _finding(
                "argocd-value-files",
                WARNING if lenient else ERROR,
                file,
                doc.position(field_path),
                f"{dotted(field_path)}: {entry!r} resolves to {resolved!r}, which does not exist on this branch",
                "add the file, fix the path (relative to the source's path; `$ref/...` relative to the "
                "repository root), or remove the entry",
            )
        )
    return findings


def _resolve_value_file(
    entry: Any, source: dict[str, Any], refs: dict[str, dict[str, Any]], branches: set[str], repo: RepoIndex
) -> str | None:
    """The repo path a valueFiles entry names, or None when it is not ours to check."""
    if not isinstance(entry, str) or is_templated(entry) or "://" in entry:
        return None
    if entry.startswith("$"):
        name, _, rest = entry[1:].partition("/")
        ref = refs.get(name)
        if ref is None or not _is_this_repo_ref(ref, branches, repo):
            return None
        return _clean(rest)
    base = source.get("path")
    if not isinstance(base, str) or is_templated(base):
        return None
    return _clean(posixpath.join(_clean(base), entry))


def _is_this_repo_ref(ref: dict[str, Any], branches: set[str], repo: RepoIndex) -> bool:
    # A `ref:` source usually has no path; its targetRevision is what identifies it.
    revision = str(ref.get("targetRevision", "")).removeprefix("refs/heads/")
    return revision in branches or _is_this_repo(ref, branches, repo)


# ---------------------------------------------------------------------------------------------
# Helm values


def effective_values(values_yaml: bytes | str | None, *env_values_yaml: bytes | str | None) -> dict[str, Any]:
    """values.yaml with each env values file merged over it in order (as `helm -f a -f b`)."""
    result: dict[str, Any] = {}
    for layer in (values_yaml, *env_values_yaml):
        if layer is None:
            continue
        docs = load_documents(decode(layer))
        data = docs[0].data if docs else None
        if isinstance(data, dict):
            result = deep_merge(result, data)
    return result


@dataclass
class ValueLayer:
    """One values file taking part in an app's effective values."""

    path: str
    doc: Document | None


def _schema_validator(schema: dict[str, Any]) -> Any:
    """The draft the schema declares; Draft 7 when it names none we know (nginx: `schema#`)."""
    known = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    declared = schema.get("$schema", "")
    cls = known if declared.rstrip("#") in _known_meta_schemas() else jsonschema.Draft7Validator
    return cls(schema)


@lru_cache(maxsize=1)
def _known_meta_schemas() -> frozenset[str]:
    names = set()
    for cls in (
        jsonschema.Draft4Validator,
        jsonschema.Draft6Validator,
        jsonschema.Draft7Validator,
        jsonschema.Draft201909Validator,
        jsonschema.Draft202012Validator,
    ):
        names.add(str(cls.META_SCHEMA["$schema"]).rstrip("#"))
    return frozenset(names)


def locate(path: Sequence[Any], layers: Sequence[ValueLayer]) -> tuple[str, int, int]:
    """The file and line a value comes from: the last layer that sets it (or its nearest
    parent), so a bad key in values-stg.yaml is reported there, not in values.yaml."""
    for depth in range(len(path), -1, -1):
        prefix = tuple(path[:depth])
        for layer in reversed(layers):
            if layer.doc is not None and layer.doc.has(prefix) and (depth or layer is layers[0]):
                return (layer.path, *layer.doc.position(prefix))
    return (layers[0].path if layers else "", 0, 0)


def check_values_schema(
    schema_path: str, schema: dict[str, Any], values: Any, layers: Sequence[ValueLayer]
) -> list[Finding]:
    findings = []
    try:
        validator = _schema_validator(schema)
        validator.check_schema(schema)
        errors = sorted(validator.iter_errors(values), key=lambda e: list(map(str, e.absolute_path)))
    except (jsonschema.SchemaError, jsonschema.exceptions.UnknownType, Unresolvable) as exc:
        # The schema's own fault: say where in the schema, never quote the values.
        at = "/".join(map(str, getattr(exc, "path", ()) or ())) or "(root)"
        return [
            _finding(
                "helm-values-schema",
                ERROR,
                schema_path,
                (0, 0),
                f"values.schema.json is not a valid schema (at {at}: {type(exc).__name__}); fix the schema",
            )
        ]
    for error in errors:
        field_path, message = _error_path(error)
        where = locate(field_path, layers)
        findings.append(
            Finding(
                "helm-values-schema",
                ERROR,
                where[0],
                where[1],
                where[2],
                f"{message} (schema: {schema_path})",
                "Helm refuses to render values that break the chart's values.schema.json; fix the value or the schema",
            )
        )
    return findings


# ---------------------------------------------------------------------------------------------
# apps: chart directories


@dataclass
class App:
    """A chart directory of the repository and the values that apply in one environment."""

    dir: str
    chart: Document | None
    layers: list[ValueLayer] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def chart_yaml(self) -> str:
        return posixpath.join(self.dir, "Chart.yaml") if self.dir else "Chart.yaml"

    def annotation(self, name: str) -> str | None:
        data = self.chart.data if self.chart else None
        annotations = data.get("annotations") if isinstance(data, dict) else None
        value = annotations.get(name) if isinstance(annotations, dict) else None
        return None if value is None else str(value).strip()


def _in_dir(path: str, directory: str) -> bool:
    return not directory or path.startswith(directory + "/")


def expected_env_files(chart_dir: str, patterns: Sequence[str], env: str) -> list[str]:
    """Paths the env_specific patterns say this chart must have for `env`.

    A pattern applies when its leading components match the chart directory and the rest is
    literal once `{env}` is filled: `apps/*/values-{env}.yaml` -> `apps/web/values-stg.yaml`.
    Patterns with wildcards after the chart directory cannot name one file; see
    `_sibling_env_files` for those.
    """
    expected = []
    for pattern in patterns:
        parts = expand(pattern, env).split("/")
        for k in range(0, len(parts)):
            prefix, rest = "/".join(parts[:k]), parts[k:]
            if not _glob_matches(prefix, chart_dir) or any(re.search(r"[*?\[]", p) for p in rest):
                continue
            expected.append(posixpath.join(chart_dir, *rest) if chart_dir else "/".join(rest))
            break
    return list(dict.fromkeys(expected))


def _glob_matches(prefix: str, directory: str) -> bool:
    if not prefix:
        return directory == ""
    return compile_glob(prefix).matches(directory)


def env_value_files(app_dir: str, registry: Registry, env: str, paths: Iterable[str]) -> list[str]:
    """The env-owned YAML files inside the chart directory, in a stable order."""
    owned = EnvSpecificPaths(registry.env_specific, env)
    return sorted(
        p
        for p in paths
        if _in_dir(p, app_dir)
        and owned.owns(p)
        and p.endswith((".yaml", ".yml"))
        and "templates" not in p[len(app_dir) :].split("/")
        and posixpath.basename(p) != "Chart.yaml"
    )


def _referenced_value_files(
    app_dir: str, applications: Sequence[Document], repo: RepoIndex, branches: set[str]
) -> list[str] | None:
    """valueFiles of the first Application of this repo whose source path is the chart."""
    for doc in applications:
        sources = _sources(doc.data.get("spec"))
        refs = {s["ref"]: s for _, s in sources if isinstance(s.get("ref"), str)}
        for _, source in sources:
            path = source.get("path")
            if not isinstance(path, str) or _clean(path) != app_dir or source.get("chart"):
                continue
            helm = source.get("helm")
            entries = helm.get("valueFiles") if isinstance(helm, dict) else None
            resolved = [_resolve_value_file(e, source, refs, branches, repo) for e in entries or []]
            return [r for r in resolved if r and r in repo.paths]
    return None


def build_app(
    app_dir: str, files: Files, registry: Registry, env: Environment, applications: Sequence[Document], repo: RepoIndex
) -> App:
    app = App(app_dir, files.first_document(posixpath.join(app_dir, "Chart.yaml") if app_dir else "Chart.yaml"))
    values_path = posixpath.join(app_dir, "values.yaml") if app_dir else "values.yaml"
    branches = {e.branch for e in registry.environments}
    layered = _referenced_value_files(app_dir, applications, repo, branches)
    if layered is None:
        layered = env_value_files(app_dir, registry, env.codename, files.paths())
    for path in [values_path, *[p for p in layered if p != values_path]]:
        app.layers.append(ValueLayer(path, files.first_document(path)))
    for layer in app.layers:
        data = layer.doc.data if layer.doc else None
        if isinstance(data, dict):
            app.values = deep_merge(app.values, data)
    return app


def check_env_values_present(app: App, registry: Registry, env: Environment, files: Files) -> list[Finding]:
    findings = []
    for expected in expected_env_files(app.dir, registry.env_specific, env.codename):
        if expected in files:
            continue
        findings.append(
            _finding(
                "env-values-missing",
                ERROR,
                app.chart_yaml,
                (0, 0),
                f"app {app.dir or '.'} has no {expected} for environment {env.codename}",
                f"create {expected} (it may be empty: '{{}}'); env-specific files are never promoted, so "
                f"each branch needs its own",
            )
        )
    return findings


# ---------------------------------------------------------------------------------------------
# persistence and backups


def enabled_persistence(values: Any, path: DataPath = ()) -> list[DataPath]:
    """Every `<...>.persistence.enabled: true` path in the values (any depth)."""
    found: list[DataPath] = []
    if isinstance(values, dict):
        for key, value in values.items():
            sub = (*path, key)
            if key == "persistence" and isinstance(value, dict) and value.get("enabled") is True:
                found.append((*sub, "enabled"))
            found += enabled_persistence(value, sub)
    return found


def _has_persistence_toggle(values: Any) -> bool:
    if isinstance(values, dict):
        for key, value in values.items():
            if key == "persistence" and isinstance(value, dict) and "enabled" in value:
                return True
            if _has_persistence_toggle(value):
                return True
    return False


def _template_claims(app: App, files: Files) -> list[str]:
    """Templates that declare a PersistentVolumeClaim or volumeClaimTemplates.

    Only counted when the values have no `persistence.enabled` switch: charts that have one
    guard their claims with it, and the switch is what the values rule reads.
    """
    if _has_persistence_toggle(app.values):
        return []
    prefix = posixpath.join(app.dir, "templates/") if app.dir else "templates/"
    return sorted(p for p in files.paths() if p.startswith(prefix) and _PVC.search(files.read(p)))


def check_persistence(app: App, env: Environment, files: Files) -> list[Finding]:
    stateful = _stateful_reasons(app, files)
    if not stateful:
        return []
    reasons = ", ".join(reason for reason, _ in stateful)
    findings = []
    if env.persistence == "ephemeral":
        file, line, column = stateful[0][1]
        if app.annotation(ACCEPT_EPHEMERAL) == "accepted":
            findings.append(
                Finding(
                    "ephemeral-accepted",
                    NOTICE,
                    app.chart_yaml,
                    0,
                    0,
                    f"app {app.dir or '.'} keeps data ({reasons}) in ephemeral environment "
                    f"{env.codename}; accepted by Chart.yaml annotation",
                    "remove the annotation to turn this back into an error",
                )
            )
        else:
            findings.append(
                Finding(
                    "persistence-ephemeral",
                    ERROR,
                    file,
                    line,
                    column,
                    f"app {app.dir or '.'} keeps data ({reasons}) but environment {env.codename} is "
                    f"ephemeral: {EPHEMERAL_HINT}",
                    f"disable persistence in the env values, or accept it with Chart.yaml annotations: "
                    f"{{{ACCEPT_EPHEMERAL}: accepted}}",
                )
            )
    if env.backups.enabled and not _declares_backup(app):
        findings.append(
            Finding(
                "backups-missing",
                WARNING,
                app.chart_yaml,
                0,
                0,
                f"app {app.dir or '.'} keeps data ({reasons}) and environment {env.codename} requires "
                f"backups, but it declares none",
                f"add Chart.yaml annotations: {{{BACKUP_ANNOTATION}: <policy>}} or set backup.enabled: "
                f"true in its values",
            )
        )
    return findings


def _stateful_reasons(app: App, files: Files) -> list[tuple[str, tuple[str, int, int]]]:
    reasons = [(dotted(p), locate(p, app.layers)) for p in enabled_persistence(app.values)]
    reasons += [(f"{t} declares a volume claim", (t, 0, 0)) for t in _template_claims(app, files)]
    return reasons


def _declares_backup(app: App) -> bool:
    if app.annotation(BACKUP_ANNOTATION):
        return True
    return get_path(app.values, ("backup", "enabled")) == (True, True)


# ---------------------------------------------------------------------------------------------
# entry point


def _environment(registry: Registry, env: str | Environment) -> Environment:
    if isinstance(env, Environment):
        return env
    found = registry.get(env)
    if found is None:
        raise KeyError(f"unknown environment {env!r}")
    return found


def validate_tree(files: Mapping[str, FileSource], registry: Registry, env: str | Environment) -> list[Finding]:
    """Every finding for environment `env`'s tree, sorted by file and line."""
    environment = _environment(registry, env)
    tree = Files(files)
    repo = RepoIndex.of(tree.paths())
    findings: list[Finding] = []
    applications: list[Document] = []
    for path in sorted(p for p in tree.paths() if is_yaml_path(p)):
        findings += check_yaml(path, tree)
        docs = tree.documents(path)
        for doc in docs if isinstance(docs, list) else []:
            findings += check_argocd_schema(path, doc)
            findings += check_application_env(path, doc, environment, registry, repo)
            # Another environment's Applications say how *it* layers values, not this one.
            own = owning_environment(path, registry, environment) is environment
            if own and argocd_kind(doc.data) == "Application":
                applications.append(doc)
    for app_dir in chart_dirs(tree.paths()):
        findings += check_app(app_dir, tree, registry, environment, applications, repo)
    return sorted(findings, key=lambda f: (f.file, f.line, f.column, f.rule))


def check_app(
    app_dir: str, files: Files, registry: Registry, env: Environment, applications: Sequence[Document], repo: RepoIndex
) -> list[Finding]:
    app = build_app(app_dir, files, registry, env, applications, repo)
    findings = check_env_values_present(app, registry, env, files)
    schema_path = posixpath.join(app_dir, "values.schema.json") if app_dir else "values.schema.json"
    if schema_path in files:
        try:
            schema = json.loads(files.read(schema_path))
        except ValueError as exc:
            findings.append(_finding("helm-values-schema", ERROR, schema_path, (0, 0), f"not valid JSON: {exc}"))
        else:
            findings += check_values_schema(schema_path, schema, app.values, app.layers)
    if env.persistence == "ephemeral" or env.backups.enabled:
        findings += check_persistence(app, env, files)
    return findings
