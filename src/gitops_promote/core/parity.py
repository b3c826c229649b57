"""The parity model: apps × environments, and every difference classified.

Pure functions over plain data. A difference between adjacent environments is *pending* when
the downstream branch is simply behind (a promotion would bring it level and overwrite nothing
that never came from upstream) and *drift* when it holds common content that never came from
upstream, or when a branch was merged into it by hand (a merge commit without Promoted-*
trailers on its first-parent line).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property
from operator import methodcaller
from typing import Any, NamedTuple

from gitops_promote.core.drift import Drift
from gitops_promote.core.helm import deep_merge
from gitops_promote.core.notices import Warning
from gitops_promote.core.promotion import FileAction

CHART_FILE = "Chart.yaml"
SAME, PENDING, DRIFT, ABSENT = "same", "pending", "drift", "absent"


@dataclass(frozen=True)
class AppCell:
    """One app in one environment: what Helm would deploy, as far as versions go."""

    present: bool
    chart_version: str | None = None
    app_version: str | None = None
    image_tag: str | None = None
    state: str = SAME  # against the upstream environment: same | pending | drift
    problems: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "present": self.present,
            "chart_version": self.chart_version,
            "app_version": self.app_version,
            "image_tag": self.image_tag,
            "state": self.state,
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class KeyGap:
    """A settings key most environments of an app set, missing in some other."""

    app: str
    key: str
    present_in: tuple[str, ...]
    missing_in: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "key": self.key,
            "present_in": list(self.present_in),
            "missing_in": list(self.missing_in),
        }


@dataclass(frozen=True)
class HandMerge:
    commit: str
    subject: str

    def to_json(self) -> dict[str, str]:
        return {"commit": self.commit, "subject": self.subject}


@dataclass
class PairReport:
    """One adjacent step (upstream → downstream)."""

    upstream: str
    downstream: str
    upstream_commit: str
    downstream_commit: str
    pending: list[FileAction] = field(default_factory=list)  # what a promotion would change
    commits: list[str] = field(default_factory=list)  # upstream commits not yet promoted
    drift: list[Drift] = field(default_factory=list)
    hand_merges: list[HandMerge] = field(default_factory=list)

    @property
    def has_drift(self) -> bool:
        return bool(self.drift)  # the model's verdict, the one promote acts on

    @property
    def has_pending(self) -> bool:
        return bool(self.pending or self.commits)

    @property
    def state(self) -> str:
        return DRIFT if self.has_drift else PENDING if self.has_pending else SAME

    @cached_property
    def _drifting(self) -> frozenset[str]:
        return frozenset(d.path for d in self.drift)

    def classify(self, path: str) -> str:
        return DRIFT if path in self._drifting else PENDING

    def app_states(self, apps: Iterable[str]) -> dict[str, str]:
        """app directory -> pending | drift, for the apps a promotion would touch (others: same).

        Each pending path is walked up to the apps holding it, once: the cost is the pending
        list's, not apps × pending (93 s at 20,000 apps when every cell scanned the list).
        """
        app_set = set(apps)
        states: dict[str, str] = {}
        for action in self.pending:
            state = self.classify(action.path)
            for app in _holding_apps(action.path, app_set):
                if states.get(app) != DRIFT:
                    states[app] = state
        return states

    def to_json(self) -> dict[str, Any]:
        return {
            "upstream": self.upstream,
            "downstream": self.downstream,
            "upstream_commit": self.upstream_commit,
            "downstream_commit": self.downstream_commit,
            "state": self.state,
            "differences": [{**a.to_json(), "class": self.classify(a.path)} for a in self.pending],
            "pending_commits": self.commits,
            "drift": [d.to_json() for d in self.drift],
            "hand_merges": [m.to_json() for m in self.hand_merges],
        }


@dataclass
class ParityReport:
    environments: list[str]
    apps: dict[str, dict[str, AppCell]]  # app directory -> environment -> cell
    pairs: list[PairReport]
    key_gaps: list[KeyGap]
    missing: list[str] = field(default_factory=list)  # environments without a branch
    warnings: list[Warning] = field(default_factory=list)  # about branches: unpushed, stale refs, rollbacks

    @property
    def has_drift(self) -> bool:
        return any(p.has_drift for p in self.pairs)

    @property
    def has_pending(self) -> bool:
        return any(p.has_pending for p in self.pairs)

    def exit_code(self, strict: bool) -> int:
        return 1 if self.has_drift or (strict and self.has_pending) else 0

    def to_json(self, apps: bool = True) -> dict[str, Any]:
        """The JSON shape (`apps=False`: the matrix left empty, for a renderer that writes it)."""
        return {
            "environments": self.environments,
            "missing_branches": self.missing,
            "state": DRIFT if self.has_drift else PENDING if self.has_pending else SAME,
            "apps": {
                app: {env: cell.to_json() for env, cell in cells.items()} for app, cells in self.apps.items() if apps
            },
            "pairs": [p.to_json() for p in self.pairs],
            "key_gaps": [g.to_json() for g in self.key_gaps],
            "warnings": [w.to_json() for w in self.warnings],
        }


# ---- what a file says ---------------------------------------------------------------------------

FACTS_VERSION = 1  # of `file_facts` and `Tables.row`: change it whenever either computes differently
NO_IMAGE = "-"  # FileFacts.image of a file that sets no `image` key (or is no mapping)
_TAG = "tag:"  # FileFacts.image of an `image` mapping whose tag is a scalar: "tag:" + its text
# the other `image` mappings, by what their `tag` is
_IMAGE_MAPS: dict[str, Any] = {"{}": {}, "{tag:null}": {"tag": None}, "{tag:{}}": {"tag": {}}, "{tag:[]}": {"tag": []}}


class FileFacts(NamedTuple):
    """What the table needs of one file, whatever its role (chart, values or env file).

    Hashable, JSON-able values, so that they can be kept by blob id (the same blob always
    says the same) and equal answers shared. `image` is the file's `image` value reduced to
    what decides the effective tag when Helm layers an env file over values.yaml
    (`effective_tag`): NO_IMAGE, None (null: deletes the key in a merge), 0 (a scalar or list:
    replaces), "tag:<text>" or one of `_IMAGE_MAPS`.
    """

    problem: str | None  # why the file is not YAML (without its path); then the rest is empty
    version: str | None  # `version`, as a chart's
    app_version: str | None  # `appVersion`
    image: str | int | None
    keys: frozenset[str] | None  # the dotted leaf keys (as `helm.leaf_keys`), when the file is a mapping


ABSENT_FILE = FileFacts(None, None, None, NO_IMAGE, None)


def file_facts(data: Any) -> FileFacts:
    """The facts of a file's data (its first YAML document)."""
    keys = frozenset(_leaves(data, "", [])) if isinstance(data, dict) else None
    return FileFacts(None, scalar(data, "version"), scalar(data, "appVersion"), _reduced_image(data), keys)


def _leaves(data: dict[Any, Any], prefix: str, found: list[str]) -> list[str]:
    """`helm.leaf_keys` into one list (no set per level: 100,000 files at 20,000 apps)."""
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            _leaves(value, path, found)
        else:
            found.append(path)
    return found


def broken_file(problem: str) -> FileFacts:
    return FileFacts(problem, None, None, NO_IMAGE, None)


def _reduced_image(data: Any) -> str | int | None:
    if not isinstance(data, dict) or "image" not in data:
        return NO_IMAGE
    image = data["image"]
    if image is None or not isinstance(image, dict):
        return None if image is None else 0
    if "tag" not in image:
        return "{}"
    tag = image["tag"]
    if tag is None or isinstance(tag, (dict, list)):
        return "{tag:null}" if tag is None else "{tag:{}}" if isinstance(tag, dict) else "{tag:[]}"
    return _TAG + str(tag)


def _image_value(image: str | int | None) -> Any:
    """A value that `deep_merge` and `image_tag` treat as the file's `image` (fresh: never shared)."""
    if not isinstance(image, str):
        return image
    if image.startswith(_TAG):
        return {"tag": image[len(_TAG) :]}
    return {
        k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v)
        for k, v in _IMAGE_MAPS[image].items()
    }


def effective_tag(values: FileFacts, overlay: FileFacts) -> str | None:
    """The image tag Helm deploys with `overlay` (values-<env>.yaml) over `values` (values.yaml)."""
    base = {} if values.image == NO_IMAGE else {"image": _image_value(values.image)}
    over = {} if overlay.image == NO_IMAGE else {"image": _image_value(overlay.image)}
    return image_tag(deep_merge(base, over))


# ---- the matrix ----------------------------------------------------------------------------------

Files = Mapping[str, "str | None"]  # path -> blob id of an environment's files (None: a submodule)


def app_files(app: str, env: str) -> tuple[str, str, str]:
    """The paths of an app's Chart.yaml, values.yaml and values-<env>.yaml."""
    base = "" if app == "." else app + "/"
    return f"{base}{CHART_FILE}", f"{base}values.yaml", f"{base}values-{env}.yaml"


def needed_blobs(apps: Iterable[str], trees: Mapping[str, Files]) -> set[str]:
    """Blob ids of every file the matrix reads (an app's files where it has a Chart.yaml)."""
    wanted: set[str | None] = set()
    for app in apps:
        for env, files in trees.items():
            chart, values, overlay = app_files(app, env)
            if chart in files:
                wanted.update((files[chart], files.get(values), files.get(overlay)))
    return {sha for sha in wanted if sha is not None}


class Row(NamedTuple):
    """What one environment's files say of one app: its cell but for the state, and the keys
    its env file sets (None: not a mapping)."""

    version: str | None
    app_version: str | None
    tag: str | None
    problems: tuple[str, ...]
    keys: frozenset[str] | None


# chart directory -> its row, for every directory holding a Chart.yaml in one environment
# (None: a Chart.yaml the matrix does not read there, as a root chart's). Depends only on the
# environment's tree and name, so it can be kept by tree id.
Table = dict[str, "Row | None"]


def chart_paths(tables: Iterable[Table]) -> set[str]:
    """The Chart.yaml paths the tables were made from (the input of `helm.chart_dirs`)."""
    return {f"{d}/{CHART_FILE}" if d else CHART_FILE for table in tables for d in table}


_CHART_IN_DIR = "/" + CHART_FILE


_ENDS_CHART = methodcaller("endswith", CHART_FILE)


# a chart directory, the paths of its Chart.yaml, values.yaml and env file, and their blob ids
_Entry = tuple[str, tuple[str, str, str], "tuple[str | None, str | None, str | None] | None"]


class Tables:
    """Each environment's rows from what each file says; equal answers are worked out once."""

    def __init__(self, facts: Mapping[str, FileFacts]) -> None:
        self.facts: dict[str | None, FileFacts] = {None: ABSENT_FILE}  # None: no blob to read
        self.facts.update(facts)
        self._tags: dict[tuple[Any, Any], str | None] = {}
        # (chart, values, env file) facts, by identity -> their row (without problems: those
        # name paths): files alike share facts (adapters/file_facts.py), so apps share rows
        self._shared: dict[tuple[int, int, int], Row] = {}
        self._files: dict[tuple[str, int], tuple[Files, list[_Entry]]] = {}  # (env, id(files)) -> entries

    def learn(self, facts: Mapping[str, FileFacts]) -> None:
        self.facts.update(facts)

    def table(self, env: str, files: Files) -> tuple[Table, set[str]]:
        """The rows of one environment, and the blob ids whose facts are not known yet: the
        rows that need them are left out (`learn` the facts, then `complete` the table)."""
        entries = self._entries(env, files)
        if len(self.facts) == 1:  # nothing known (a cold run): every blob is needed, no row is made yet
            return {}, {sha for _app, _paths, blobs in entries if blobs for sha in blobs if sha is not None}
        return self._rows(entries, {})

    def complete(self, env: str, files: Files, table: Table) -> Table:
        entries = [entry for entry in self._entries(env, files) if entry[0] not in table]
        table, missing = self._rows(entries, table)
        assert not missing, "every file was read"
        return table

    def _entries(self, env: str, files: Files) -> list[_Entry]:
        """Each chart directory (in order, named as posixpath.dirname names it) with its three
        paths and their blob ids (None: a Chart.yaml the matrix does not read there)."""
        key = (env, id(files))
        if key not in self._files:
            cut, overlay, get = len(CHART_FILE), f"values-{env}.yaml", files.get
            entries: list[_Entry] = []
            for path in filter(_ENDS_CHART, files):  # in C; then "xChart.yaml" left out here
                if path == CHART_FILE:  # the root chart: named as app_files names it, not read
                    entries.append(("", app_files("", env), None))
                elif path[-cut - 1] == "/":
                    base = path[:-cut]  # "apps/x/"
                    found = (files[path], get(base + "values.yaml"), get(base + overlay))
                    entries.append((base[:-1], (path, base + "values.yaml", base + overlay), found))
            self._files[key] = (files, entries)  # `files` kept: its id names no other mapping
        return self._files[key][1]

    def _rows(self, entries: list[_Entry], rows: Table) -> tuple[Table, set[str]]:
        facts, shared, missing = self.facts, self._shared, set[str | None]()
        for app, paths, blobs in entries:
            if blobs is None:
                rows[app] = None
                continue
            chart, values, overlay = facts.get(blobs[0]), facts.get(blobs[1]), facts.get(blobs[2])
            if chart is None or values is None or overlay is None:
                missing.update(blobs)
                continue
            key = (id(chart), id(values), id(overlay))
            row = shared.get(key)
            if row is None:
                row = self.row(paths, (chart, values, overlay))
                if not row.problems:
                    shared[key] = row
            rows[app] = row
        return rows, {sha for sha in missing if sha is not None and sha not in facts}

    def row(self, paths: tuple[str, str, str], found: tuple[FileFacts, FileFacts, FileFacts]) -> Row:
        chart, values, overlay = found
        tag_key = (values.image, overlay.image)
        if tag_key not in self._tags:
            self._tags[tag_key] = effective_tag(values, overlay)
        problems: tuple[str, ...] = ()
        if chart.problem or values.problem or overlay.problem:
            problems = tuple(
                f"{path}: not valid YAML ({facts.problem})"
                for path, facts in zip(paths, found, strict=True)
                if facts.problem
            )
        return Row(chart.version, chart.app_version, self._tags[tag_key], problems, overlay.keys)


class Matrix:
    """Cells and key gaps from each environment's rows.

    At 20,000 apps most cells are alike (the same chart version, tag and state) and most
    apps' env files set the same keys, so cells without problems are shared (they are
    frozen) and the gaps of a combination of key sets are computed once.
    """

    def __init__(self, order: Sequence[str]) -> None:
        self.order = order
        self._cells: dict[tuple[Any, ...], AppCell] = {}
        self._gaps: dict[tuple[tuple[str, frozenset[str]], ...], list[KeyGap]] = {}

    def build(
        self, apps: Iterable[str], tables: Mapping[str, Table], states: Mapping[str, Mapping[str, str]]
    ) -> tuple[dict[str, dict[str, AppCell]], list[KeyGap]]:
        """`states`: per downstream environment of a planned pair, the apps its differences touch."""
        cells: dict[str, dict[str, AppCell]] = {}
        gaps: list[KeyGap] = []
        envs = [(env, table, states.get(env)) for env, table in tables.items()]
        shared, absent = self._cells, self.absent
        for app in apps:
            line: dict[str, AppCell] = {}
            settings: list[tuple[str, frozenset[str]]] = []
            for env, table, paired in envs:
                state = paired.get(app, SAME) if paired is not None else None
                row = table.get(app)
                if row is None:
                    line[env] = absent(state)
                    continue
                if row.problems:
                    line[env] = AppCell(True, row.version, row.app_version, row.tag, state or SAME, row.problems)
                else:
                    key = (True, row.version, row.app_version, row.tag, state or SAME)
                    line[env] = shared.get(key) or self._shared(key)
                if row.keys is not None:
                    settings.append((env, row.keys))
            cells[app] = line
            gaps += self.gaps(app, tuple(settings))
        return cells, gaps

    def absent(self, state: str | None) -> AppCell:
        """An app without a Chart.yaml here (`state` None: no pair plans this environment)."""
        return self._shared((False, None, None, None, state if state is not None and state != SAME else ABSENT))

    def _shared(self, key: tuple[Any, ...]) -> AppCell:
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cells[key] = AppCell(*key)
        return cell

    def gaps(self, app: str, settings: tuple[tuple[str, frozenset[str]], ...]) -> list[KeyGap]:
        if settings not in self._gaps:
            self._gaps[settings] = key_gaps("", dict(settings), self.order)
        return [KeyGap(app, g.key, g.present_in, g.missing_in) for g in self._gaps[settings]]


# ---- values -------------------------------------------------------------------------------------


def image_tag(values: Any) -> str | None:
    image = values.get("image") if isinstance(values, dict) else None
    tag = image.get("tag") if isinstance(image, dict) else None
    return None if tag is None or isinstance(tag, (dict, list)) else str(tag)


def scalar(data: Any, key: str) -> str | None:
    value = data.get(key) if isinstance(data, dict) else None
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def key_gaps(app: str, keys_by_env: Mapping[str, AbstractSet[str]], order: Sequence[str]) -> list[KeyGap]:
    """Keys set by at least two environments' files and missing from another's.

    A key only one environment sets (prd's larger requests) is that environment's business; a
    key two set and a third lacks (dev and prd but not stg) is probably forgotten there.
    """
    envs = [e for e in order if e in keys_by_env]
    gaps = []
    for key in sorted(set().union(*keys_by_env.values()) if keys_by_env else set()):
        present = tuple(e for e in envs if key in keys_by_env[e])
        missing = tuple(e for e in envs if key not in keys_by_env[e])
        if len(present) >= 2 and missing:
            gaps.append(KeyGap(app, key, present, missing))
    return gaps


def _holding_apps(path: str, apps: set[str]) -> Iterable[str]:
    """The app directories `path` lies in ("." is the repository's root chart)."""
    if "." in apps:
        yield "."
    parent = path
    while "/" in parent:
        parent = parent.rpartition("/")[0]
        if parent in apps:
            yield parent


def cell_state(app_dir: str, pair: PairReport | None) -> str:
    """How one app's cell compares with upstream (for many apps, index with `app_states`)."""
    if pair is None:
        return SAME
    return pair.app_states([app_dir]).get(app_dir, SAME)
