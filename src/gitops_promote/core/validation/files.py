"""The files of one environment's tree, read lazily, and the index of its paths."""

from __future__ import annotations

import bisect
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass

from gitops_promote.adapters.yaml_nodes import (
    Document,
    YamlSyntaxError,
    decode,
    load_documents,
)
from gitops_promote.core.validation.findings import FileSource


class Files:
    """Repo paths -> bytes, read lazily and once."""

    def __init__(self, files: Mapping[str, FileSource]) -> None:
        self.app_sources = files
        self._cache: dict[str, bytes] = {}
        self._docs: dict[str, list[Document] | YamlSyntaxError] = {}
        self._sorted: list[str] | None = None

    def __contains__(self, path: object) -> bool:
        return path in self.app_sources

    def paths(self) -> Iterable[str]:
        return self.app_sources.keys()

    def under(self, directory: str) -> list[str]:
        """The paths inside `directory` ("" for all), sorted: a bisection of one sorted list,
        so per-app rules cost the app's files, not the repository's (apps x files)."""
        if self._sorted is None:
            self._sorted = sorted(self.app_sources)
        if not directory:
            return self._sorted
        prefix = directory + "/"
        start = bisect.bisect_left(self._sorted, prefix)
        end = bisect.bisect_left(self._sorted, prefix[:-1] + chr(ord("/") + 1), start)
        return self._sorted[start:end]

    def read(self, path: str) -> bytes:
        if path not in self._cache:
            source = self.app_sources[path]
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


@dataclass(frozen=True)
class RepoIndex:
    """The environment branch's paths and the directories that hold them (any container:
    a promotion asks its tree views by lookup instead of indexing every path)."""

    paths: Container[str]
    dirs: Container[str]

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
