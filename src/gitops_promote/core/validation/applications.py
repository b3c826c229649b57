"""Rules `argocd-target-revision` and `argocd-value-files`: an Application tracks its
environment's branch and names values files that exist."""

from __future__ import annotations

import posixpath
from functools import lru_cache
from typing import Any

from gitops_promote.adapters.yaml_nodes import (
    DataPath,
    Document,
)
from gitops_promote.core.paths import EnvSpecificPaths
from gitops_promote.core.registry import Environment, Registry
from gitops_promote.core.validation.argocd_schema import argocd_kind
from gitops_promote.core.validation.files import RepoIndex
from gitops_promote.core.validation.findings import ERROR, WARNING, Finding, dotted, is_templated, make_finding


def clean_path(path: str) -> str:
    cleaned = posixpath.normpath(path.strip().strip("/")) if path.strip().strip("/") else ""
    return "" if cleaned == "." else cleaned


def app_sources(spec: Any) -> list[tuple[DataPath, dict[str, Any]]]:
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
    return isinstance(path, str) and not is_templated(path) and clean_path(path) != "" and clean_path(path) in repo.dirs


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
    sources = app_sources(doc.data.get("spec"))
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
        make_finding(
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
        resolved = resolve_value_file(entry, source, refs, branches, repo)
        if resolved is None or resolved in repo.paths:
            continue
        field_path = (*where, "helm", "valueFiles", index)
        findings.append(
            make_finding(
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


def resolve_value_file(
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
        return clean_path(rest)
    base = source.get("path")
    if not isinstance(base, str) or is_templated(base):
        return None
    return clean_path(posixpath.join(clean_path(base), entry))


def _is_this_repo_ref(ref: dict[str, Any], branches: set[str], repo: RepoIndex) -> bool:
    # A `ref:` source usually has no path; its targetRevision is what identifies it.
    revision = str(ref.get("targetRevision", "")).removeprefix("refs/heads/")
    return revision in branches or _is_this_repo(ref, branches, repo)
