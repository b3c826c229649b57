"""`gitops parity`: apps × environments, versions side by side, differences classified.

Each adjacent pair is planned with `prepare()`, exactly as `promote` would: the paths its
promotion would change are the differences and the engine's drift decides which of them are
drift, so parity, status and promote agree. Merge commits without Promoted-* trailers on the
downstream branch since its last promotion are listed as hand merges (a hand merge of the
upstream is itself recognised as the last promotion).

The matrix reads three files per app and environment (Chart.yaml, values.yaml,
values-<env>.yaml): their blob ids come from one `ls-tree` (kept by tree id between runs) and
a `diff-tree` per other branch (adapters/listing.py), never from the planned steps; what each
blob says is parsed once (files alike but for values parity does not read: once per shape,
core/yamlshape.py) and kept by blob id, each environment's rows are kept by tree id
(adapters/facts_cache.py), and equal cells are shared (core.parity.Matrix). At 20,000 apps
that is 100,000 files on the first run (a handful of shapes), none on unchanged branches, and
after a push the branch that moved.

The rows of the branches that moved are made in a forked child (adapters/background.py) while
this process plans the steps: the two halves of a cold run on two cores, the same rows either
way (where there is no fork, or the child fails, they are made here).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from gitops_promote.adapters import facts_cache
from gitops_promote.adapters.background import Background
from gitops_promote.adapters.catfile import BlobBatch
from gitops_promote.adapters.file_facts import facts_of_chunks
from gitops_promote.adapters.git import Repository
from gitops_promote.adapters.listing import NamedFiles, named_files
from gitops_promote.commands._branchlog import entries
from gitops_promote.commands._context import bootstrap_registry
from gitops_promote.commands._engine import Prepared, prepare_step, sync_existing
from gitops_promote.core.helm import chart_dirs
from gitops_promote.core.parity import (
    CHART_FILE,
    FileFacts,
    HandMerge,
    Matrix,
    PairReport,
    ParityReport,
    Table,
    Tables,
    chart_paths,
)
from gitops_promote.core.promotion import KEPT
from gitops_promote.results.history import MERGE

VALUES_FILE = "values.yaml"


def run(
    repo_path: Path, registry_file: Path | None = None, remote: str | None = None, fetch: bool = True
) -> ParityReport:
    with Repository(repo_path) as repo, _no_cycle_collection():
        registry = bootstrap_registry(repo, registry_file, [])
        envs = registry.ordered()
        synced = sync_existing(repo, remote, [e.branch for e in envs], fetch)
        refs = synced.refs
        resolved = repo.resolve_commits(refs.ref(e.branch) for e in envs)
        heads = {e.codename: resolved[refs.ref(e.branch)] for e in envs}
        present = {e.codename: sha for e in envs if (sha := heads[e.codename])}  # registry order
        pairs: dict[str, PairReport] = {}
        warnings = {w.message: w for w in synced.warnings}
        with _EnvTables(repo, present) as reading:  # rows made on the other core while the steps are planned
            for upstream, downstream in registry.allowed_steps():
                # A downstream fed by a group is compared with the group's first environment.
                if heads[upstream] and heads[downstream] and downstream not in pairs:
                    up, down = registry.get(upstream), registry.get(downstream)
                    assert up is not None and down is not None
                    prepared = prepare_step(repo, up, down, synced, registry_file, remote)
                    pairs[downstream] = pair_report(repo, prepared)
                    warnings |= {w.message: w for w in prepared.warnings if not w.path}
            tables = reading.tables()
            # the matrix made while the child writes the kept files (`with` waits for it)
            apps = chart_dirs(chart_paths(tables.values()))
            states = {name: pair.app_states(apps) for name, pair in pairs.items()}
            cells, gaps = Matrix(registry.order).build(apps, tables, states)
        missing = [name for name, sha in heads.items() if sha is None]
        order = [e.codename for e in envs]
        pair_list = [pairs[d] for d in order if d in pairs]
        return ParityReport(order, cells, pair_list, gaps, missing, list(warnings.values()))


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector off for the run: at 20,000 apps a cold run makes millions
    of objects (none in a cycle that outlives it) and each full collection walks them all
    again, a quarter of the run's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _EnvTables:
    """env -> its rows: kept by tree id from an earlier run, else made from the branch (only
    the branches that moved since are read again).

    The rows are made on the other core (adapters/background.py) while the caller plans its
    steps: listing the moved branches, reading their new blobs (Repository.blob_batch) and
    parsing them is most of a cold run, and none of it needs the steps.
    """

    def __init__(self, repo: Repository, heads: dict[str, str]) -> None:
        self.heads = heads
        trees = {env: repo.tree_of(commit) for env, commit in heads.items()}
        keys = {env: f"{tree} {env}" for env, tree in trees.items()}
        self.kept = facts_cache.load_tables(repo.git_dir, keys)
        moved = {env: commit for env, commit in heads.items() if env not in self.kept}
        self.made: Background[dict[str, Table]] | None = None
        if moved:
            # the child must not talk to the run's cat-file session, which this process goes on using
            self.made = Background(
                lambda: _made(repo, moved, trees, keys, self.kept, len(moved) == len(heads)),
                before_child=lambda: setattr(repo, "objects", None),
            )

    def __enter__(self) -> _EnvTables:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.made is not None:
            self.made.close()

    def tables(self) -> dict[str, Table]:
        return self.kept if self.made is None else self.made.result()


def _made(
    repo: Repository,
    moved: dict[str, str],
    trees: dict[str, str],
    keys: dict[str, str],
    kept: dict[str, Table],
    everything: bool,
) -> tuple[dict[str, Table], Callable[[], None]]:
    """Every environment's rows, those of the `moved` ones made from what each file says:
    known from an earlier run (by blob id), else read by git (all of them at once) and parsed
    once however many environments and apps share it, files alike but for values parity does
    not read once per shape (adapters/file_facts.py). The new knowledge is kept for the next
    run, written by the function returned beside the rows (once they are handed over)."""
    names = {CHART_FILE, VALUES_FILE, *(f"values-{env}.yaml" for env in trees)}  # the same key every run
    later: list[Callable[[], None]] = []  # the listing's kept file, written while git reads the blobs
    known = facts_cache.load(repo.git_dir)
    rows = Tables(known)
    made: dict[str, tuple[Table, set[str]]] = {}
    batches: list[BlobBatch] = []

    def read_first(env: str, files: NamedFiles) -> None:
        """The first branch's blobs (most of them) read while the others are listed."""
        made[env] = rows.table(env, files)
        batches.append(repo.blob_batch(list(made[env][1])))

    try:
        files_of = named_files(repo, moved, names, trees, later, read_first)
        made |= {env: rows.table(env, files) for env, files in files_of.items() if env not in made}
        first = set(batches[0].shas) if batches else set()
        batches.append(repo.blob_batch(list(set().union(*(needed for _table, needed in made.values())) - first)))
        for write in later:
            write()
        missing = [sha for batch in batches for sha in batch.shas]  # in no order: git's choice
        new = dict(zip(missing, _parse_all(chunk for batch in batches for chunk in batch.chunks()), strict=True))
    finally:
        for batch in batches:
            batch.close()
    rows.learn(new)
    made = {env: (rows.complete(env, files_of[env], table), set()) for env, (table, _needed) in made.items()}
    tables = {env: kept[env] if env in kept else made[env][0] for env in trees}  # registry order

    def keep() -> None:  # once the rows are handed over
        if missing:
            _keep_facts(repo, rows, known, new, files_of, everything)
        facts_cache.save_tables(repo.git_dir, keys, tables)

    return tables, keep


def _keep_facts(
    repo: Repository,
    rows: Tables,
    known: dict[str, FileFacts],
    new: dict[str, FileFacts],
    files_of: dict[str, NamedFiles],
    everything: bool,
) -> None:
    """The facts kept for the next run: those of this run's files (`everything`: these are all
    the branches), or what was known besides when other branches' files are not listed here."""
    if known:
        listed = (sha for files in files_of.values() for sha in files.values())
        used = {sha for sha in listed if sha is not None and sha in rows.facts}
    else:  # only what was read is known: each of it was read for these files
        used = set(new)
    if everything or len(known) > 4 * len(used):
        facts_cache.save(repo.git_dir, {sha: rows.facts[sha] for sha in used}, sorted(used))
    else:
        facts_cache.save(repo.git_dir, {**known, **new}, sorted(known.keys() | new.keys()))


def _parse_all(chunks: Iterable[list[bytes]]) -> list[FileFacts]:
    """What each file says, parsed as git reads them (files alike but for values parity does
    not read: once)."""
    return facts_of_chunks(chunks)


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
