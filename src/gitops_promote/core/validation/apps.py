"""Chart directories and the values that apply to them in one environment (`helm -f` layering)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitops_promote.adapters.yaml_nodes import (
    Document,
    decode,
    load_documents,
)
from gitops_promote.core.helm import deep_merge
from gitops_promote.core.paths import EnvSpecificPaths
from gitops_promote.core.registry import Environment, Registry
from gitops_promote.core.validation.applications import app_sources, clean_path, resolve_value_file
from gitops_promote.core.validation.files import Files, RepoIndex


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


def locate(path: Sequence[Any], layers: Sequence[ValueLayer]) -> tuple[str, int, int]:
    """The file and line a value comes from: the last layer that sets it (or its nearest
    parent), so a bad key in values-stg.yaml is reported there, not in values.yaml."""
    for depth in range(len(path), -1, -1):
        prefix = tuple(path[:depth])
        for layer in reversed(layers):
            if layer.doc is not None and layer.doc.has(prefix) and (depth or layer is layers[0]):
                return (layer.path, *layer.doc.position(prefix))
    return (layers[0].path if layers else "", 0, 0)


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


def env_value_files(app_dir: str, registry: Registry, env: str, paths: Iterable[str]) -> list[str]:
    """The env-owned YAML files inside the chart directory, in a stable order."""
    owned = EnvSpecificPaths(registry.env_specific, env)
    # Cheapest tests first: an app with 100,000 templates matches none of them against patterns.
    return sorted(
        p
        for p in paths
        if p.lower().endswith((".yaml", ".yml"))
        and _in_dir(p, app_dir)
        and "templates" not in p[len(app_dir) :].split("/")
        and posixpath.basename(p) != "Chart.yaml"
        and owned.owns(p)
    )


def _referenced_value_files(
    app_dir: str, applications: Sequence[Document], repo: RepoIndex, branches: set[str]
) -> list[str] | None:
    """valueFiles of the first Application of this repo whose source path is the chart."""
    for doc in applications:
        sources = app_sources(doc.data.get("spec"))
        refs = {s["ref"]: s for _, s in sources if isinstance(s.get("ref"), str)}
        for _, source in sources:
            path = source.get("path")
            if not isinstance(path, str) or clean_path(path) != app_dir or source.get("chart"):
                continue
            helm = source.get("helm")
            entries = helm.get("valueFiles") if isinstance(helm, dict) else None
            resolved = [resolve_value_file(e, source, refs, branches, repo) for e in entries or []]
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
        layered = env_value_files(app_dir, registry, env.codename, files.under(app_dir))
    for path in [values_path, *[p for p in layered if p != values_path]]:
        app.layers.append(ValueLayer(path, files.first_document(path)))
    for layer in app.layers:
        data = layer.doc.data if layer.doc else None
        if isinstance(data, dict):
            app.values = deep_merge(app.values, data)
    return app
