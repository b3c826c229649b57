"""The files of one step beyond rules a–d: the target's own registry entry, the manifests of a
removed app, the checks a promoted tree must pass, and the warnings a reader needs.

Called once by `_engine.prepare()` while it builds the step; nothing here writes to git.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitops_promote.adapters.git import Repository
from gitops_promote.adapters.treeview import TreeView
from gitops_promote.commands._context import GOVERNED_BY_BOOTSTRAP, GOVERNED_BY_OVERRIDE, Governance
from gitops_promote.commands._envkeys import KeyRules, same_ignoring_keys
from gitops_promote.core import notices
from gitops_promote.core.drift import Drift
from gitops_promote.core.notices import Warning
from gitops_promote.core.paths import EnvSpecificPaths, is_yaml_path
from gitops_promote.core.promotion import DELETED, KEPT, MODIFIED, ORPHANED, SEEDED, FileAction
from gitops_promote.core.registry import REGISTRY_FILE, Environment, parse_registry
from gitops_promote.core.registry_entry import carry_own_entry, entry_line, without_entry
from gitops_promote.core.tree import TreeEntry, iter_parents
from gitops_promote.core.treediff import DeltaPlan
from gitops_promote.core.words import listed

if TYPE_CHECKING:
    from gitops_promote.commands._engine import BlobCache
    from gitops_promote.core.validation.files import RepoIndex
    from gitops_promote.results.steps import LastPromotion

MAX_LISTED_KEYS = 10
# The missing-keys check asks which kept files the source changed since the last promotion.
# The step's own diff-tree answers that (`prepare` finds the base first); else (--app) the
# trees on the way are walked in-process until this many would be read, beyond which one
# diff-tree (in C) is cheaper.
MAX_TREES_WALKED = 512
REGISTRY_ENTRY_KEY = "environments[{env}]"  # how the kept entry shows among a file's kept keys


@dataclass
class StepTrees:
    """The step's two trees and its plan, with what the target keeps of its own."""

    repo: Repository
    governance: Governance
    source: Environment
    target: Environment
    source_tree: TreeView
    target_tree: TreeView
    plan: DeltaPlan
    owned: EnvSpecificPaths
    key_rules: KeyRules
    blobs: BlobCache
    orphaned_apps: dict[str, str] = field(default_factory=dict)  # Application path -> its removed app
    _result_dirs: set[str] | None = None  # the promoted tree's directories, when a removal needs them
    _changed_paths: list[str] | None = None  # the plan's changed paths, sorted (result_has_dir)

    # ---- the target's own registry entry -------------------------------------------------
    def carry_registry_entry(self) -> None:
        """environments.yaml is promoted, except the target's own entry, which stays the target's."""
        if self.governance.how == GOVERNED_BY_OVERRIDE:
            return
        new, old = self.plan.entries.get(REGISTRY_FILE), self.target_tree.get(REGISTRY_FILE)
        if new is None or old is None or new == old or new.kind != "blob":
            return
        labels = (f"{self.source.branch}:{REGISTRY_FILE}", f"{self.target.branch}:{REGISTRY_FILE}")
        merged = carry_own_entry(
            self.repo.read_blob(new.sha), self.repo.read_blob(old.sha), self.target.codename, labels
        )
        parse_registry(merged, f"{REGISTRY_FILE} as this promotion would write it")  # refuse a broken result
        merged_id = self.repo.blob_id(merged)
        self.plan.entries[REGISTRY_FILE] = TreeEntry(new.mode, merged_id)
        self._new_blobs()[merged_id] = merged
        self.plan.actions = [a for a in self.plan.actions if a.path != REGISTRY_FILE]
        if merged_id != old.sha:
            kept = (REGISTRY_ENTRY_KEY.format(env=self.target.codename),)
            self.plan.actions.append(FileAction(REGISTRY_FILE, MODIFIED, kept))
            self.plan.actions.sort(key=lambda a: a.path)

    def _new_blobs(self) -> dict[str, bytes]:
        return self.blobs.new

    def _read(self, paths: Iterable[str]) -> dict[str, bytes]:
        """The result tree's blobs for `paths`, by id: merged blobs exist only in memory so far."""
        shas = {self.plan.entries[p].sha for p in paths}
        known = (self.blobs.new, self.blobs.contents)
        found = {sha: cache[sha] for sha in shas for cache in known if sha in cache}
        read = self.repo.read_blobs(sha for sha in shas if sha not in found)
        self.blobs.contents.update(read)  # `diff` compares the same files: read once
        return found | read

    def same_content(self, path: str, version: str | None, upstream: set[str | None]) -> bool:
        """Drift guard: equal once the target's own parts (env keys, registry entry) are ignored."""
        if path == REGISTRY_FILE and version is not None:
            return self._same_registry(version, upstream)
        rules = self.key_rules
        return bool(rules.rules and same_ignoring_keys(self.repo, rules, path, version, upstream))

    def _same_registry(self, version: str, upstream: set[str | None]) -> bool:
        codename = self.target.codename
        mine = without_entry(self.repo.read_blob(version), codename, REGISTRY_FILE)
        if mine is None:
            return False
        others = [self.repo.read_blob(u) for u in upstream if u is not None]
        return any(without_entry(o, codename, REGISTRY_FILE) == mine for o in others)

    # ---- an app removed upstream -------------------------------------------------------------
    def remove_orphaned_applications(self) -> None:
        """The target's own Argo CD Applications whose app directory the promotion removes go
        with the app: kept, they would point Argo CD at files that no longer exist."""
        if not any(a.action in (DELETED, ORPHANED) for a in self.plan.actions):
            return
        removed = self._removed_dirs()
        if not removed:
            return
        for path, document in self._kept_applications(removed):
            gone = [p for p in _source_paths(document) if p in removed]
            if gone:
                del self.plan.entries[path]
                self.plan.actions = [a for a in self.plan.actions if a.path != path]
                self.plan.actions.append(FileAction(path, ORPHANED))
                self.orphaned_apps[path] = gone[0]
        self.plan.actions.sort(key=lambda a: a.path)

    def _removed_dirs(self) -> set[str]:
        """Directories of the target that hold no file at all once the promotion is written."""
        gone = [a.path for a in self.plan.actions if a.action in (DELETED, ORPHANED)]
        candidates = {d for path in gone for d in iter_parents(path)}
        return {d for d in candidates if not self.result_has_dir(d)}

    def _layout_applications(self, names: set[str]) -> dict[str, TreeEntry]:
        """The target's files at its layout's Application paths for apps named `names`:
        looked up through the run's cat-file session; only a directory found there is listed."""
        base = f"argocd/{self.target.codename}/apps/"
        wanted = sorted(f"{base}{name}{suffix}" for name in names for suffix in (".yaml", ".yml", ""))
        self.target_tree.prefetch(wanted)
        found = {p: e for p in wanted if (e := self.target_tree.get(p)) is not None}
        directories = [p for p in wanted if self.target_tree.is_dir(p)]
        if directories:
            found.update(self.repo.ls_tree(self.target_tree.commit, directories))
        return found

    def result_has_dir(self, directory: str) -> bool:
        """Does the promoted tree hold a file under `directory`?

        The plan only adds the target's files to the source's tree, so the source's directories
        stay, plus those of the files it adds; only a plan that removes some of the source's
        files (--app, a removed app's Application) needs the promoted tree listed to be sure.
        """
        if directory == "":
            return True
        under = self._changes_under(directory + "/")
        if any(e is not None for e in under):
            return True
        if None not in under:
            return self.source_tree.is_dir(directory)
        if self._result_dirs is None:
            from gitops_promote.core.promotion import directories_of

            self._result_dirs = directories_of(dict(self.plan.entries))
        return directory in self._result_dirs

    def _changes_under(self, prefix: str) -> list[TreeEntry | None]:
        """The plan's changes below a directory, by bisection of the sorted changed paths
        (re-sorted only when a path was added: thousands of directories are asked about)."""
        changes = self.plan.changes
        if self._changed_paths is None or len(self._changed_paths) != len(changes):
            self._changed_paths = sorted(changes)
        paths = self._changed_paths
        found = []
        for index in range(bisect.bisect_left(paths, prefix), len(paths)):
            if not paths[index].startswith(prefix):
                break
            found.append(changes[paths[index]])
        return found

    def _kept_applications(self, removed: set[str]) -> list[tuple[str, object]]:
        """(path, parsed document) of the target's own YAML files that declare an Application
        deploying from a directory the promotion removes.

        Looked for where such a file can be without listing the tree (docs/repository-layout.md):
        among the target's own files that differ between the branches, and at the layout's
        Application of each removed directory's app (`argocd/<env>/apps/<name>.yaml`, or a
        directory `argocd/<env>/apps/<name>/`). A path neither differing nor changed is the
        target's in the promoted tree too.
        """
        plan = self.plan
        candidates = {p: e for p, (_, e) in plan.files.items() if e is not None}
        candidates.update(self._layout_applications({d.rsplit("/", 1)[-1] for d in removed}))
        paths = sorted(
            p
            for p, entry in candidates.items()
            # the target's entry in the result first: it leaves the kept files (few) to check
            if ((p not in plan.files and p not in plan.changes) or plan.entries.get(p) == entry)
            and entry.kind == "blob"
            and self.owned.owns(p)
            and is_yaml_path(p)
        )
        blobs = self._read(paths)
        found: list[tuple[str, object]] = []
        for path in paths:
            data = blobs.get(self.plan.entries[path].sha, b"")
            if b"Application" not in data:
                continue
            document = _first_document(data)
            if isinstance(document, dict) and document.get("kind") == "Application":
                found.append((path, document))
        return found

    # ---- warnings ------------------------------------------------------------------------------
    def warnings(self, base: LastPromotion | None, drift: Iterable[Drift], source_commit: str) -> list[Warning]:
        found: list[Warning] = []
        found += self._governance_warnings()
        found += self._rollback_warning(base)
        src, dst = self.source.codename, self.target.codename
        # Missing keys are news only where the source's copy changed since the last promotion.
        kept = [a.path for a in self.plan.actions if a.action == KEPT and is_yaml_path(a.path)]
        if kept and base is not None:
            fresh = self._changed_since(base.pending_since, source_commit, kept)
            kept = [path for path in kept if path in fresh]
        kept_blobs, kept_set = self._kept_file_blobs(kept), set(kept)
        for action in self.plan.actions:
            if action.action == SEEDED:
                found.append(
                    Warning(notices.SEEDED, action.path, f"new file seeded from {src}: review its settings for {dst}")
                )
            elif action.action == ORPHANED and action.path in self.orphaned_apps:
                app = self.orphaned_apps[action.path]
                message = f"{dst}'s Application is removed: its app {app} is gone from {src}"
                found.append(Warning(notices.APP_REMOVED, action.path, message))
            elif action.action == ORPHANED:
                message = f"{dst}'s file is removed: its app is gone from {src}"
                found.append(Warning(notices.ORPHANED, action.path, message))
            elif action.action == KEPT and action.path in kept_set:
                found += self._missing_keys(action.path, kept_blobs)
        for item in drift:
            found.append(
                Warning(
                    notices.DRIFT,
                    item.path,
                    f"changed directly on {dst}; blocks the promotion without --discard-drift "
                    f"(or bring it upstream: gitops backport {dst})",
                )
            )
        found += self.result_findings()
        return found

    def _changed_since(self, old: str, new: str, paths: list[str]) -> set[str]:
        """Which of `paths` changed between two commits: known from the step's diff-tree
        (`Repository.tree_diff` with `since`), else looked up in-process when few trees on
        their way differ, else by one diff-tree."""
        found = self.repo.changed_among(old, new, paths, max_trees=MAX_TREES_WALKED)
        return found if found is not None else self.repo.changed_paths(old, new)

    def _governance_warnings(self) -> list[Warning]:
        src, dst = self.source, self.target
        how = self.governance.how
        if how == GOVERNED_BY_BOOTSTRAP:
            return [
                Warning(
                    notices.BOOTSTRAP,
                    REGISTRY_FILE,
                    f"{dst.branch} has no {REGISTRY_FILE} yet: this first promotion is governed by "
                    f"{src.branch}'s registry and writes it to {dst.branch} (docs/registry.md, bootstrap)",
                )
            ]
        if how == GOVERNED_BY_OVERRIDE:
            return [
                Warning(
                    notices.REGISTRY_OVERRIDE,
                    "",
                    f"--registry {self.governance.registry.source} replaces the registries committed on "
                    f"{src.branch} and {dst.branch} for this step",
                )
            ]
        proposed = self.governance.source_registry
        own = self.governance.target_registry
        if proposed is None or own is None:
            return []
        mine, theirs = own.get(dst.codename), proposed.get(dst.codename)
        if theirs is None or mine is None or _entry_fields(mine) == _entry_fields(theirs):
            return []
        entry = self.source_tree.get(REGISTRY_FILE)
        line = entry_line(self.repo.read_blob(entry.sha), dst.codename) if entry else None
        where = f" (line {line})" if line else ""
        return [
            Warning(
                notices.REGISTRY_PROPOSAL,
                REGISTRY_FILE,
                f"{src.branch}'s registry proposes another entry for {dst.codename}{where}; the promotion "
                f"keeps {dst.branch}'s own entry: edit it on {dst.branch} to adopt the change",
            )
        ]

    def _rollback_warning(self, base: LastPromotion | None) -> list[Warning]:
        rollback = base.rollback if base else None
        if not rollback:
            return []
        return [
            Warning(
                notices.ROLLED_BACK,
                "",
                f"{self.target.codename} was rolled back by {rollback[:12]}; the next promotion re-applies the "
                f"rolled-back content (the commits listed since the restored promotion)",
            )
        ]

    def _kept_file_blobs(self, paths: list[str]) -> dict[str, bytes]:
        """Both copies of the kept YAML env files, read in one batch."""
        shas = [
            entry.sha
            for path in paths
            if is_yaml_path(path)
            for entry in (self.source_tree.get(path), self.target_tree.get(path))
            if entry is not None and entry.kind == "blob"
        ]
        return self.repo.read_blobs(shas)

    def _missing_keys(self, path: str, blobs: dict[str, bytes]) -> list[Warning]:
        """Settings the source's copy of the target's env file has and the target's own lacks."""
        from gitops_promote.core.helm import leaf_keys
        from gitops_promote.core.yamlload import load

        source_entry, target_entry = self.source_tree.get(path), self.target_tree.get(path)
        if source_entry is None or target_entry is None or not {source_entry.sha, target_entry.sha} <= blobs.keys():
            return []
        source, target = load(path, blobs[source_entry.sha]), load(path, blobs[target_entry.sha])
        if source.fatal or target.fatal:
            return []

        def keys(documents: list[object]) -> set[str]:
            return set().union(*(leaf_keys(d) for d in documents)) if documents else set()

        missing = sorted(keys(source.documents) - keys(target.documents))
        if not missing:
            return []
        keys_listed = listed(missing, MAX_LISTED_KEYS)
        src, dst = self.source.codename, self.target.codename
        return [Warning(notices.MISSING_KEYS, path, f"{src}'s copy sets {keys_listed}, which {dst}'s own copy lacks")]

    # ---- the promoted tree must stay valid -----------------------------------------------------
    def result_findings(self) -> list[Warning]:
        """Errors `gitops validate` would report on the promoted tree's Applications that the
        target does not have today: every valueFiles entry must exist and targetRevision must
        be the target's branch. A problem the target already has is not this promotion's."""
        paths = self._applications_to_check()
        if not paths:
            return []
        from gitops_promote.core.validation.files import RepoIndex

        after_index = RepoIndex(_Lookup(self.plan.entries.__contains__), _Lookup(self.result_has_dir))
        after = self._application_errors(self.plan.entries, after_index, paths, self._read(paths))
        before_paths = [p for p in paths if p in self.target_tree]
        target_blobs = self.repo.read_blobs(self.target_tree[p].sha for p in before_paths)
        before_index = RepoIndex(_Lookup(self.target_tree.__contains__), _Lookup(self._target_has_dir))
        before = set(self._application_errors(self.target_tree, before_index, before_paths, target_blobs))
        return [
            Warning(notices.INVALID_RESULT, path, message) for path, message in after if (path, message) not in before
        ]

    def _target_has_dir(self, directory: str) -> bool:
        return directory == "" or self.target_tree.is_dir(directory)

    def _application_errors(
        self, tree: Mapping[str, TreeEntry], index: RepoIndex, paths: list[str], blobs: dict[str, bytes]
    ) -> list[tuple[str, str]]:
        from gitops_promote.adapters.yaml_nodes import YamlSyntaxError, decode, load_documents
        from gitops_promote.core.validation import ERROR, check_application_env

        found = []
        for path in paths:
            try:
                documents = load_documents(decode(blobs[tree[path].sha]))
            except (YamlSyntaxError, UnicodeDecodeError, ValueError, KeyError):
                continue  # `gitops validate` reports unreadable files; this check is about references
            for document in documents:
                for finding in check_application_env(path, document, self.target, self.governance.registry, index):
                    if finding.severity == ERROR:
                        found.append((path, f"line {finding.line}: {finding.message}"))
        return found

    def _not_the_targets(self) -> set[str]:
        """Paths where the promoted tree's entry is not the target's. A differing path's two
        sides are in the plan (no lookup); a changed path that does not differ is the
        source's, so the target's, unless the plan changed it."""
        plan, changes = self.plan, self.plan.changes
        found = {p for p, (source, target) in plan.files.items() if (changes[p] if p in changes else source) != target}
        found.update(p for p, entry in changes.items() if p not in plan.files and entry != self.target_tree.get(p))
        return found

    def _applications_to_check(self) -> list[str]:
        """Applications the promotion writes, and, when it removes files, the kept ones too."""
        plan, entries = self.plan, self.plan.entries
        # Cost follows the change: only a removal makes the target's kept files worth a look.
        candidates = {a.path for a in plan.actions if a.action != KEPT}
        if any(a.action in (DELETED, ORPHANED) for a in plan.actions):
            candidates |= self._not_the_targets()
            # A kept Application a removal breaks is the target's own: among the differing
            # files, or the layout's Application of an app that lost files.
            removed = [a.path for a in plan.actions if a.action in (DELETED, ORPHANED)]
            names = {parent.rsplit("/", 1)[-1] for path in removed for parent in iter_parents(path)}
            layout = self._layout_applications(names)
            candidates |= {p for p in {*plan.files, *layout} if self.owned.owns(p) and p in entries}
        paths = [
            p
            for p in sorted(candidates)
            if (entry := entries.get(p)) is not None and entry.kind == "blob" and is_yaml_path(p)
        ]
        if not paths:
            return []
        blobs = self._read(paths)
        return [p for p in paths if b"Application" in blobs.get(self.plan.entries[p].sha, b"")]


class _Lookup:
    """A container asked by a function: `RepoIndex`'s questions answered by tree lookups."""

    def __init__(self, contains: Callable[[str], bool]) -> None:
        self._contains = contains

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and self._contains(item)


def _entry_fields(env: Environment) -> tuple[object, ...]:
    return (env.branch, env.name, env.audience, env.availability, env.persistence, env.backups, env.freeze, env.windows)


def _first_document(data: bytes) -> object:
    from gitops_promote.core.yamlload import load

    loaded = load("application", data)
    return loaded.documents[0] if not loaded.fatal and loaded.documents else None


def _source_paths(document: object) -> list[str]:
    """The repository directories an Application deploys from (spec.source(s)[].path), read
    the way `gitops validate` reads them."""
    from gitops_promote.core.validation.applications import app_sources, clean_path

    spec = document.get("spec") if isinstance(document, dict) else None
    paths = []
    for _, source in app_sources(spec):
        path = source.get("path")
        if isinstance(path, str) and "{{" not in path and not source.get("chart") and clean_path(path):
            paths.append(clean_path(path))
    return paths
