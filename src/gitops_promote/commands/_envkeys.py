"""Environment-specific keys inside promoted files (`promotion.env_specific_keys`).

Such a file takes the source's content, except that each listed key keeps the target's value.
The merged bytes come from `adapters.yaml_edit.carry_keys`, which splices values in place and
refuses (exit 1) rather than rewrite a file it cannot edit exactly. Merged blobs are only
hashed here; they are written when the promotion is applied, so a dry run writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gitops_promote.adapters.git import Repository
from gitops_promote.core.paths import Glob, compile_glob, expand
from gitops_promote.core.promotion import MODIFIED, FileAction
from gitops_promote.core.tree import TreeEntry
from gitops_promote.core.treediff import DeltaPlan


@dataclass
class KeyRules:
    """Which keys each promoted file keeps from the target, for one target environment."""

    rules: list[tuple[Glob, tuple[str, ...]]] = field(default_factory=list)

    @classmethod
    def build(cls, patterns: Mapping[str, tuple[str, ...]], env: str) -> KeyRules:
        compiled = [(compile_glob(expand(p, env)), keys) for p, keys in patterns.items()]  # linear-time matchers
        return cls(compiled)

    def keys_for(self, path: str) -> tuple[str, ...]:
        found: list[str] = []
        for glob, keys in self.rules:
            if glob.matches(path):
                found += [k for k in keys if k not in found]
        return tuple(found)


def carry_env_keys(
    repo: Repository,
    rules: KeyRules,
    source: Mapping[str, TreeEntry],
    target: Mapping[str, TreeEntry],
    plan: DeltaPlan,
) -> dict[str, bytes]:
    """Rewrite the plan's entries for files with env-specific keys; return the new blobs.

    Only a file that differs between the trees can need merging: where both sides hold the
    same blob, the source's copy already carries the target's values.
    """
    new_blobs: dict[str, bytes] = {}
    if not rules.rules:
        return new_blobs
    for path in sorted(plan.files):
        entry, keys, in_target = plan.entries.get(path), rules.keys_for(path), target.get(path)
        if entry is None or not keys or in_target is None or entry != source.get(path) or entry == in_target:
            continue
        if entry.kind != "blob":
            continue
        merged = _merged(repo, path, entry, in_target, keys)
        merged_id = repo.blob_id(merged)
        plan.entries[path] = TreeEntry(entry.mode, merged_id)
        if merged_id != entry.sha:
            new_blobs[merged_id] = merged
        _update_action(plan, path, plan.entries[path] != in_target, keys)
    return new_blobs


def _merged(repo: Repository, path: str, entry: TreeEntry, in_target: TreeEntry, keys: tuple[str, ...]) -> bytes:
    from gitops_promote.adapters.yaml_edit import carry_keys

    return carry_keys(repo.read_blob(entry.sha), repo.read_blob(in_target.sha), keys, path)


def _update_action(plan: DeltaPlan, path: str, changed: bool, keys: tuple[str, ...]) -> None:
    """The file is `modified` (naming the kept keys) only if the merged bytes differ from the target's."""
    plan.actions = [a for a in plan.actions if a.path != path]
    if changed:
        plan.actions.append(FileAction(path, MODIFIED, keys))
        plan.actions.sort(key=lambda a: a.path)


def same_ignoring_keys(
    repo: Repository, rules: KeyRules, path: str, version: str | None, upstream: set[str | None]
) -> bool:
    """Drift guard: the target's file equals an upstream version once env-specific keys are ignored."""
    keys = rules.keys_for(path)
    if not keys or version is None:
        return False
    from gitops_promote.adapters.yaml_edit import keys_equal_ignoring

    mine = repo.read_blob(version)
    return any(other is not None and keys_equal_ignoring(repo.read_blob(other), mine, keys) for other in upstream)
