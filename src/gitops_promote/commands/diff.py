"""`gitops diff SRC DST`: what promoting SRC into DST would change in DST, file by file.

Same rules and same plan as `promote` (commands/_engine.prepare). Only paths whose entries
differ are read and parsed, so the cost grows with the change, not the repository. The target's
kept env files are listed but their content (and the source's copy) is never shown.
"""

from __future__ import annotations

import itertools
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from gitops_promote.adapters.background import BackgroundText
from gitops_promote.adapters.catfile import BlobBatch
from gitops_promote.adapters.git import Repository
from gitops_promote.commands._engine import Prepared, PromotionRequest, charts_above, prepare
from gitops_promote.core.diffmodel import DiffReport, FileDiff, FileReport
from gitops_promote.core.notices import Warning
from gitops_promote.core.promotion import ADDED, DELETED, KEPT, MODIFIED, ORPHANED, SEEDED, FileAction
from gitops_promote.core.tree import TreeEntry, app_of
from gitops_promote.errors import GitError

# Blobs above this size are never loaded into memory for a diff: reported by size only.
MAX_DIFF_BYTES = 5 * 1024 * 1024
# Compared files from which the JSON is made on two cores (a child compares the second half):
# below it, the fork and the copy of the child's text cost more than the half saves.
PARALLEL_FILES = 2_000


@dataclass
class DiffResult:
    """What the diff found. The file reports are made one at a time, in the renderers' order
    (`files()`): the JSON is written as they are made (`json_chunks`), so a diff of 40,000
    files never holds every parsed document, change and record at once. `report` makes
    them all, for the renderers that need the whole report (text, Markdown, GitHub)."""

    head: DiffReport  # source, target and commits; its `files` stay empty
    changes_target: bool
    warnings: list[Warning] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)  # files per category, from the plan
    source: _Reports | None = field(default=None, repr=False)  # what makes the reports
    _report: DiffReport | None = field(default=None, repr=False)

    @property
    def report(self) -> DiffReport:
        if self._report is None:
            report = replace(self.head, files=[])
            report.files.extend(self.files())
            self._report = report
            self.source = None  # what made the reports (the step, its trees and blobs) can go
        return self._report

    def files(self) -> Iterator[FileReport]:
        """The file reports by app, then path; GitError when every changed YAML file failed to
        parse (raised before the first report: nothing is written for such a diff)."""
        if self._report is not None:
            return iter(self._report.files)
        return _checked(self.source.make() if self.source else iter(()))

    def to_json(self) -> dict[str, object]:
        from gitops_promote.render.diffreport import to_json

        return {**to_json(self.report), "warnings": [w.to_json() for w in self.warnings]}

    def json_chunks(self) -> Iterator[str]:
        """The text of `console.json_text(self.to_json())` plus its newline, in pieces, each
        file's record made, written and dropped in turn; on two cores for a big diff."""
        from gitops_promote.render.diffreport import json_record_chunks

        tail = {"warnings": [w.to_json() for w in self.warnings]}
        return json_record_chunks(self.head, self.summary, self._records(), tail)

    def _records(self) -> Iterator[str]:
        from gitops_promote.render.diffreport import record_text

        split = self.source.split() if self._report is None and self.source is not None else None
        if self.source is None or split is None:
            return (record_text(f) for f in self.files())
        return _records_on_two_cores(self.source, split)

    @property
    def branch_warnings(self) -> list[Warning]:
        """What the diff itself cannot show: unpushed commits, stale refs, rollbacks."""
        return [w for w in self.warnings if not w.path]


def run(repo_path: Path, request: PromotionRequest, *, show_secrets: bool = False, stream: bool = False) -> DiffResult:
    """The diff of a promotion. With `stream`, the files are compared while the result is
    rendered (`DiffResult.files`, `json_chunks`); else here, and `report` is ready."""
    with Repository(repo_path) as repo:
        prepared = prepare(repo, request)
        reading = _prefetch(prepared)  # every blob the diff reads: nothing is read once the repository closes
        with reading:
            apps = _app_dirs(prepared)  # while git reads a big diff's blobs
            reading.finish()
        changes_target = prepared.changes_target
    head = DiffReport(
        prepared.source.codename, prepared.target.codename, prepared.source_commit, prepared.target_commit
    )
    actions = sorted(((app_of(a.path, apps), a) for a in prepared.plan.actions), key=lambda x: (x[0], x[1].path))
    source = _Reports(prepared, actions, show_secrets)
    result = DiffResult(head, changes_target, list(prepared.warnings), _summary(a for _app, a in actions), source)
    if not stream:
        result.report  # noqa: B018 - compared now: a parse failure of every file is an error here
    return result


@dataclass
class _Reports:
    """What makes the file reports: the plan's actions by app, then path, and what they read."""

    prepared: Prepared
    actions: list[tuple[str, FileAction]]
    show_secrets: bool

    def make(self, start: int = 0, stop: int | None = None) -> Iterator[FileReport]:
        for app, action in itertools.islice(self.actions, start, stop):
            yield _file_report(self.prepared, action, app, self.show_secrets)

    def split(self) -> int | None:
        """Where the second core's share starts: half the work, weighed by the bytes each file
        compares; None when too few files are compared for a child to pay off."""
        if sum(action.action != KEPT for _app, action in self.actions) < PARALLEL_FILES:
            return None
        weights = [self._weight(action) for _app, action in self.actions]
        half, done = sum(weights) / 2, 0
        for index, weight in enumerate(weights):
            done += weight
            if done >= half:
                return index + 1
        return None  # not reached: the weights are positive

    def _weight(self, action: FileAction) -> int:
        if action.action == KEPT:
            return _KEPT_WEIGHT
        blobs = (self.prepared.new_blobs, self.prepared.blobs.contents)
        entries = (self.prepared.target_tree.get(action.path), self.prepared.plan.entries.get(action.path))
        sizes = (len(b.get(e.sha, b"")) for e in entries if e is not None for b in blobs)
        return _FILE_WEIGHT + sum(sizes)


# A compared file costs about as much as this many bytes more of YAML (parsing both sides,
# the diff, the record); a kept file's record, much less.
_FILE_WEIGHT, _KEPT_WEIGHT = 500, 20
_RUN = 64  # records the child writes at once


def _records_on_two_cores(source: _Reports, split: int) -> Iterator[str]:
    """The records' texts, the second half made by a forked child (adapters/background.py)
    meanwhile, then handed over: the same text as one process makes, the same refusal of an
    all-unparsable diff (the child says what it saw)."""
    from gitops_promote.render.diffreport import record_text

    child = BackgroundText(lambda: _record_runs(source, split))
    try:
        if not child.forked:  # no fork here (another thread runs, not Linux): all made here
            yield from (record_text(f) for f in _checked(source.make()))
            return
        own = ((_seen(report), record_text(report)) for report in source.make(0, split))
        yield from _held_back(itertools.chain(own, _child_runs(child)))
    finally:
        child.close()


def _record_runs(source: _Reports, start: int) -> Generator[str, None, tuple[bool, bool]]:
    """The records from `start` on, a run of `_RUN` at a time; returns what `_seen` saw."""
    from gitops_promote.render.diffreport import RECORD_SEPARATOR, record_text

    readable = compared = False
    run: list[str] = []
    for report in source.make(start):
        seen = _seen(report)
        readable, compared = readable or seen[0], compared or seen[1]
        run.append(record_text(report))
        if len(run) >= _RUN:
            yield RECORD_SEPARATOR.join(run)
            run.clear()
    if run:
        yield RECORD_SEPARATOR.join(run)
    return readable, compared


def _child_runs(child: BackgroundText[tuple[bool, bool]]) -> Iterator[tuple[tuple[bool, bool], str]]:
    seen, runs = child.result()
    for run in runs:
        yield seen, run  # what the child saw counts from its first run on
        seen = (False, False)


def _summary(actions: Iterable[FileAction]) -> dict[str, int]:
    """Files per category (render/diffreport.counts), from the plan: a modified file stays a
    change whether or not its diff turns out formatting-only."""
    result = {"add": 0, "change": 0, "delete": 0, "kept": 0}
    for action in actions:
        result[_CATEGORY[action.action]] += 1
    return result


_CATEGORY = {ADDED: "add", SEEDED: "add", MODIFIED: "change", DELETED: "delete", ORPHANED: "delete", KEPT: "kept"}


def _checked(reports: Iterator[FileReport]) -> Iterator[FileReport]:
    """`reports`, held back until a compared file is readable: when none is (and some file
    was compared), GitError before anything is shown."""
    return _held_back((_seen(report), report) for report in reports)


T = TypeVar("T")


def _held_back(items: Iterable[tuple[tuple[bool, bool], T]]) -> Iterator[T]:
    """Each item, after what its report says (`_seen`): held back until a compared file is
    readable; GitError at the end when none was and some file was compared."""
    held: list[T] = []
    readable = compared = False
    for (is_readable, is_compared), item in items:
        compared = compared or is_compared
        if not readable and is_readable:
            readable = True
            yield from held
            held.clear()
        if readable:
            yield item
        else:
            held.append(item)
    if not readable and compared:
        raise GitError("nothing could be compared: every changed YAML file failed to parse")
    yield from held


def _seen(report: FileReport) -> tuple[bool, bool]:
    """(readable, compared): the file was compared and could be read."""
    compared = report.diff is not None
    return compared and not _unreadable(report), compared


def _unreadable(report: FileReport) -> bool:
    diff = report.diff
    return diff is not None and diff.kind == "yaml" and bool(diff.errors) and not diff.changes


def _prefetch(prepared: Prepared) -> _Prefetch:
    """Read every blob the diff will compare (sizes first: big ones stay unread): a big diff's
    by a `cat-file --batch` of their own, started now, the others through the run's session."""
    wanted = []
    for action in prepared.plan.actions:
        if action.action == KEPT:
            continue
        for entry in (prepared.target_tree.get(action.path), prepared.plan.entries.get(action.path)):
            if entry is not None and entry.kind == "blob" and entry.sha not in prepared.new_blobs:
                wanted.append(entry.sha)
    wanted = [sha for sha in wanted if sha not in prepared.blobs.contents]  # read by the step already
    sizes = prepared.repo.blob_sizes(wanted)
    prepared.blobs.sizes.update(sizes)
    small = [sha for sha in wanted if sizes.get(sha, 0) <= MAX_DIFF_BYTES]
    found = list(dict.fromkeys(sha for sha in small if sha in sizes))
    if len(found) < BULK_BLOBS:
        prepared.blobs.contents.update(prepared.repo.read_blobs(small))
        return _Prefetch(prepared, None)
    # Every other id (none, unless the repository is damaged) through the session, as before:
    # the same error for a missing object.
    prepared.blobs.contents.update(prepared.repo.read_blobs(sha for sha in small if sha not in sizes))
    return _Prefetch(prepared, prepared.repo.blob_batch(found))


# Blobs from which a diff reads them by a `cat-file --batch --buffer` of their own, in the
# background (adapters/catfile.BlobBatch: 4 times faster than the session's answer per object):
# 21,000 changed values files are 42,000 blobs, 0.5 s through the session.
BULK_BLOBS = 2_000


@dataclass
class _Prefetch:
    """The blobs being read; `finish` puts them with the step's (`with`: git stopped if not)."""

    prepared: Prepared
    batch: BlobBatch | None

    def finish(self) -> None:
        if self.batch is not None:
            self.prepared.blobs.contents.update(zip(self.batch.shas, self.batch.contents(), strict=True))

    def __enter__(self) -> _Prefetch:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.batch is not None:
            self.batch.close()


def _file_report(prepared: Prepared, action: FileAction, app: str, show_secrets: bool) -> FileReport:
    path = action.path
    if action.action == KEPT:
        return FileReport(path, app, "kept")
    old, new = prepared.target_tree.get(path), prepared.plan.entries.get(path)
    diff = _diff(prepared, path, old, new, show_secrets)
    if action.kept_keys:
        # env_specific_keys: the diff is already of the merged file; say which keys stayed
        diff.notes.append(f"kept keys ({prepared.target.codename}'s values): {', '.join(action.kept_keys)}")
    status = action.action
    if status == MODIFIED and diff.formatting_only and not diff.changes:
        status = "formatting-only"
    return FileReport(path, app, status, diff)  # type: ignore[arg-type]


def _diff(prepared: Prepared, path: str, old: TreeEntry | None, new: TreeEntry | None, show_secrets: bool) -> FileDiff:
    from gitops_promote.core.yamldiff import diff_file

    sizes = [_size(prepared, e) for e in (old, new)]
    if any(e is not None and e.kind != "blob" for e in (old, new)):
        return FileDiff(path, "text", text_diff=f"submodule {_short(old)} → {_short(new)}\n")
    if any(s is not None and s > MAX_DIFF_BYTES for s in sizes):
        skipped = FileDiff(path, "binary", old_size=sizes[0], new_size=sizes[1])
        skipped.notes.append(f"skipped: larger than {MAX_DIFF_BYTES // (1024 * 1024)} MiB, compared by size only")
        return skipped
    diff = diff_file(path, _read(prepared, old), _read(prepared, new), show_secrets=show_secrets)
    if old and new and old.mode != new.mode:
        diff.notes.append(f"file mode {old.mode} → {new.mode}")
    return diff


def _short(entry: TreeEntry | None) -> str:
    return entry.sha[:12] if entry else "absent"


def _size(prepared: Prepared, entry: TreeEntry | None) -> int | None:
    if entry is None or entry.kind != "blob":
        return None
    for cache in (prepared.new_blobs, prepared.blobs.contents):
        if entry.sha in cache:
            return len(cache[entry.sha])
    if entry.sha not in prepared.blobs.sizes:
        prepared.blobs.sizes.update(prepared.repo.blob_sizes([entry.sha]))
    return prepared.blobs.sizes[entry.sha]


def _read(prepared: Prepared, entry: TreeEntry | None) -> bytes | None:
    if entry is None:
        return None
    for cache in (prepared.new_blobs, prepared.blobs.contents):
        if entry.sha in cache:
            return cache[entry.sha]
    return prepared.repo.read_blob(entry.sha)


def _app_dirs(prepared: Prepared) -> set[str]:
    """Directories holding a Chart.yaml, on either side, above the files the diff shows:
    looked up, not found by listing both trees."""
    paths = (a.path for a in prepared.plan.actions)
    charts = charts_above(prepared, paths, (prepared.target_tree, prepared.plan.entries))
    return {path.rsplit("/", 1)[0] if "/" in path else "" for path in charts}
