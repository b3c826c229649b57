"""Helm's rules that several commands share: how values files layer, where charts are."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any


def deep_merge(base: Any, overlay: Any) -> Any:
    """Helm's coalescing of a values file over another: maps merge recursively, lists and
    scalars replace, and a `null` in the overlay deletes the key."""
    if not isinstance(base, dict) or not isinstance(overlay, dict):
        return overlay
    merged = dict(base)
    for key, value in overlay.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def chart_dirs(paths: Iterable[str]) -> list[str]:
    """Directories holding a Chart.yaml, leaving out vendored subcharts (`<chart>/charts/*`)."""
    dirs = sorted(
        posixpath.dirname(p) for p in paths if p.endswith("Chart.yaml") and posixpath.basename(p) == "Chart.yaml"
    )
    chart_set = set(dirs)

    def vendored(d: str) -> bool:
        if "charts" not in d:  # the common case, decided without splitting (20,000 apps)
            return False
        parts = d.split("/")
        return any(parts[i] == "charts" and "/".join(parts[:i]) in chart_set for i in range(len(parts)))

    return [d for d in dirs if not vendored(d)]


def leaf_keys(data: Any, prefix: str = "") -> set[str]:
    """Dotted paths of a mapping's leaves (lists and empty mappings count as leaves)."""
    if not isinstance(data, dict):
        return {prefix} if prefix else set()
    keys: set[str] = set()
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        keys |= leaf_keys(value, path) if isinstance(value, dict) and value else {path}
    return keys
