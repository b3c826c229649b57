"""What `gitops init` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_promote.adapters.git import DEFAULT_REMOTE


@dataclass
class InitResult:
    path: Path
    commit: str
    branches: list[str]
    checked_out: str
    apps: list[str]
    repo_url: str
    repo_url_placeholder: bool
    files: list[str]
    remote_url: str | None = None
    pushed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "commit": self.commit,
            "branches": self.branches,
            "checked_out": self.checked_out,
            "apps": self.apps,
            "repo_url": self.repo_url,
            "repo_url_placeholder": self.repo_url_placeholder,
            "remote": DEFAULT_REMOTE if self.remote_url else None,
            "remote_url": self.remote_url,
            "pushed": self.pushed,
            "notes": self.notes,
            "files": self.files,
        }
