"""`gitops parity`: apps × environments, versions side by side, differences classified.

Each adjacent pair is planned with `prepare()`, exactly as `promote` would: the paths its
promotion would change are the differences and the engine's drift decides which of them are
drift, so parity, status and promote agree. Merge commits without Promoted-* trailers on the
downstream branch since its last promotion are listed as hand merges (a hand merge of the
upstream is itself recognised as the last promotion).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitops_promote.adapters.git import Repository
from gitops_promote.adapters.yaml_nodes import YamlSyntaxError, decode, load_first
from gitops_promote.commands._branchlog import MERGE, entries
from gitops_promote.commands._context import bootstrap_registry
from gitops_promote.commands._engine import Prepared, prepare_step, sync_existing
from gitops_promote.core.helm import chart_dirs, deep_merge, leaf_keys
from gitops_promote.core.parity import (
    ABSENT,
    CHART_FILE,
    SAME,
    AppCell,
    HandMerge,
    KeyGap,
    PairReport,
    ParityReport,
    image_tag,
    key_gaps,
    scalar,
)
from gitops_promote.core.promotion import KEPT
from gitops_promote.core.tree import TreeEntry


def run(
    repo_path: Path, registry_file: Path | None = None, remote: str | None = None, fetch: bool = True
) -> ParityReport:
    with Repository(repo_path) as repo:
        registry = bootstrap_registry(repo, registry_file, [])
        envs = registry.ordered()
        synced = sync_existing(repo, remote, [e.branch for e in envs], fetch)
        refs = synced.refs
        heads = {e.codename: repo.resolve_commit(refs.ref(e.branch)) for e in envs}
        pairs: dict[str, PairReport] = {}
        trees: dict[str, dict[str, TreeEntry]] = {}
        warnings = {w.message: w for w in synced.warnings}
        for upstream, downstream in registry.allowed_steps():
            # A downstream fed by a group is compared with the group's first environment.
            if heads[upstream] and heads[downstream] and downstream not in pairs:
                up, down = registry.get(upstream), registry.get(downstream)
                assert up is not None and down is not None
                prepared = prepare_step(repo, up, down, synced, registry_file, remote)
                pairs[downstream] = pair_report(repo, prepared)
                warnings |= {w.message: w for w in prepared.warnings if not w.path}
                # the planned step already listed both branches: no third listing of either
                trees.setdefault(upstream, prepared.source_tree.listing())
                trees.setdefault(downstream, prepared.target_tree.listing())
        trees.update({name: repo.ls_tree(sha) for name, sha in heads.items() if sha and name not in trees})
        trees = {e.codename: trees[e.codename] for e in envs if e.codename in trees}  # registry order
        apps = chart_dirs({p for tree in trees.values() for p in tree if p.endswith(CHART_FILE)})
        states = {name: pair.app_states(apps) for name, pair in pairs.items()}
        reader = _Reader(repo)
        reader.prefetch(_needed(apps, trees))
        cells: dict[str, dict[str, AppCell]] = {}
        gaps: list[KeyGap] = []
        for app in apps:
            cells[app] = {
                name: _cell(reader, app, name, tree, states.get(name), name in pairs) for name, tree in trees.items()
            }
            settings = {
                name: keys for name, tree in trees.items() if (keys := _env_keys(reader, app, name, tree)) is not None
            }
            gaps += key_gaps(app, settings, registry.order)
        missing = [name for name, sha in heads.items() if sha is None]
        order = [e.codename for e in envs]
        pair_list = [pairs[d] for d in order if d in pairs]
        return ParityReport(order, cells, pair_list, gaps, missing, list(warnings.values()))


def _needed(apps: list[str], trees: dict[str, dict[str, TreeEntry]]) -> list[str]:
    """Blob ids of every file the table reads: Chart.yaml, values.yaml, values-<env>.yaml."""
    wanted = []
    for app in apps:
        base = _prefix(app)
        for name, tree in trees.items():
            for path in (f"{base}{CHART_FILE}", f"{base}values.yaml", f"{base}values-{name}.yaml"):
                entry = tree.get(path)
                if entry is not None and entry.kind == "blob":
                    wanted.append(entry.sha)
    return wanted


def pair_report(repo: Repository, prepared: Prepared) -> PairReport:
    since = prepared.base.commit if prepared.base else None
    merges = [
        HandMerge(e.commit, e.subject) for e in entries(repo, prepared.target_commit, since=since) if e.kind == MERGE
    ]
    return PairReport(
        prepared.source.codename,
        prepared.target.codename,
        prepared.source_commit,
        prepared.target_commit,
        [a for a in prepared.plan.actions if a.action != KEPT],
        [c.sha for c in prepared.commits],
        list(prepared.drift),
        merges,
    )


class _Reader:
    """YAML data by blob id (an unchanged file is read and parsed once for every environment)."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._blobs: dict[str, bytes] = {}
        self._cache: dict[str, tuple[Any, str | None]] = {}

    def prefetch(self, shas: list[str]) -> None:
        """Every blob the table needs, through the run's one `cat-file --batch` session."""
        self._blobs.update(self.repo.read_blobs(sha for sha in dict.fromkeys(shas) if sha not in self._cache))

    def load(self, tree: dict[str, TreeEntry], path: str) -> tuple[Any, str | None]:
        """(data, problem); data None when the file is absent or unreadable."""
        entry = tree.get(path)
        if entry is None or entry.kind != "blob":
            return None, None
        if entry.sha not in self._cache:
            raw = self._blobs.pop(entry.sha, None)
            try:
                data = load_first(decode(raw if raw is not None else self.repo.read_blob(entry.sha), path))
                self._cache[entry.sha] = (data, None)
            except (YamlSyntaxError, UnicodeDecodeError, ValueError) as exc:
                self._cache[entry.sha] = (None, f"{path}: not valid YAML ({exc})")
        return self._cache[entry.sha]


def _prefix(app: str) -> str:
    return "" if app == "." else app + "/"


def _cell(
    reader: _Reader, app: str, env: str, tree: dict[str, TreeEntry], states: dict[str, str] | None, paired: bool
) -> AppCell:
    base = _prefix(app)
    state = states.get(app, SAME) if states is not None else SAME
    if f"{base}Chart.yaml" not in tree:
        return AppCell(False, state=state if paired and state != SAME else ABSENT)
    chart, chart_problem = reader.load(tree, f"{base}Chart.yaml")
    values, values_problem = reader.load(tree, f"{base}values.yaml")
    overlay, overlay_problem = reader.load(tree, f"{base}values-{env}.yaml")
    effective = deep_merge(values if isinstance(values, dict) else {}, overlay if isinstance(overlay, dict) else {})
    problems = tuple(p for p in (chart_problem, values_problem, overlay_problem) if p)
    return AppCell(
        True,
        scalar(chart, "version"),
        scalar(chart, "appVersion"),
        image_tag(effective),
        state,
        problems,
    )


def _env_keys(reader: _Reader, app: str, env: str, tree: dict[str, TreeEntry]) -> set[str] | None:
    if f"{_prefix(app)}Chart.yaml" not in tree:
        return None
    data, _problem = reader.load(tree, f"{_prefix(app)}values-{env}.yaml")
    return leaf_keys(data) if isinstance(data, dict) else None
