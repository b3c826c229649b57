"""Apps, and the paths that belong to one: the scope of `gitops promote --app NAME`.

An app is a directory holding a `Chart.yaml` (as `diff` and `parity` group files; vendored
subcharts under `<chart>/charts/` belong to their parent). Its paths are everything under that
directory plus its Argo CD Application in every environment's directory, by the layout's
convention `argocd/<env>/apps/<name>.yaml` (or a directory `argocd/<env>/apps/<name>/`) —
docs/repository-layout.md. Pure functions over path lists.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from typing import NamedTuple

from gitops_promote.core.helm import chart_dirs
from gitops_promote.core.tree import iter_parents
from gitops_promote.core.words import listed
from gitops_promote.errors import UsageError

PROMOTED_APPS = "Promoted-Apps"  # trailer: the app directories a partial promotion carried
_ARGOCD_APP = re.compile(r"^argocd/[^/]+/apps/(?P<name>[^/]+?)(?:\.ya?ml$|/)")


class App(NamedTuple):
    path: str  # its directory, e.g. apps/api ("." for a chart at the root)

    @property
    def name(self) -> str:
        return posixpath.basename(self.path) if self.path != "." else "."


def discover(*trees: Iterable[str]) -> list[App]:
    """Every app of the given listings (an app one side lacks is still an app: added or removed)."""
    return [App(d) for d in chart_dirs({p for tree in trees for p in tree})]


def chart_files_above(paths: Iterable[str]) -> list[str]:
    """The Chart.yaml paths that would make an app of a directory holding one of `paths`:
    looked up instead of listing the trees to find every app (cost follows the change)."""
    # every directory once (a walk up stops at a directory seen already: 40,000 paths share
    # 20,000 app directories and one `apps/`)
    directories: set[str] = set()
    for path in paths:
        parent = path.rpartition("/")[0]
        while parent and parent not in directories:
            directories.add(parent)
            parent = parent.rpartition("/")[0]
    return sorted({"Chart.yaml", *(f"{d}/Chart.yaml" for d in directories)})


def application_of(path: str) -> str | None:
    """The app name of an Argo CD Application file of the layout (`argocd/<env>/apps/<name>.yaml`
    or a file under `argocd/<env>/apps/<name>/`): it belongs to the app of that name."""
    match = _ARGOCD_APP.match(path)
    return match.group("name") if match is not None else None


def resolve(requested: Sequence[str], apps: Sequence[App]) -> tuple[App, ...]:
    """The apps `--app` names, by directory or by name, in the order of `apps`; else exit 2."""
    chosen: dict[str, App] = {}
    for wanted in requested:
        app = _find(wanted.strip().rstrip("/"), apps)
        chosen[app.path] = app
    return tuple(a for a in apps if a.path in chosen)


def _find(wanted: str, apps: Sequence[App]) -> App:
    by_path = [a for a in apps if a.path == wanted]
    by_name = [a for a in apps if a.name == wanted]
    if by_path or len(by_name) == 1:
        return (by_path or by_name)[0]
    listing = _listed(apps) or "(none: no directory holds a Chart.yaml)"
    if by_name:
        raise UsageError(
            f"--app {wanted!r} names several apps: {', '.join(a.path for a in by_name)}",
            hint="give the app's directory instead",
        )
    close = difflib.get_close_matches(wanted, [a.name for a in apps] + [a.path for a in apps], n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise UsageError(f"unknown app {wanted!r}", hint=f"{hint}apps: {listing}")


MAX_APPS_LISTED = 20  # in an unknown app's hint: a repository may hold 20,000


def _listed(apps: Sequence[App]) -> str:
    shown = listed([a.path for a in apps], MAX_APPS_LISTED)
    return shown + " (gitops parity lists every app)" if len(apps) > MAX_APPS_LISTED else shown


class Scope(NamedTuple):
    """The paths of some apps. `contains(path)` is the predicate the planners take."""

    apps: tuple[App, ...]

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(a.path for a in self.apps)

    def contains(self, path: str) -> bool:
        return any(_belongs(path, app) for app in self.apps)


def _belongs(path: str, app: App) -> bool:
    if app.path == ".":
        return True
    if path.startswith(app.path + "/"):
        return True
    match = _ARGOCD_APP.match(path)
    return match is not None and match.group("name") == app.name


def scope_of(paths: Iterable[str]) -> Scope:
    """The scope recorded by a Promoted-Apps trailer (app directories)."""
    return Scope(tuple(App(p) for p in paths))


def trailer_value(scope: Scope) -> str:
    return ", ".join(scope.paths)


def parse_trailer(value: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in value.split(",") if p.strip())


def covers(promoted: tuple[str, ...] | None, wanted: tuple[str, ...]) -> bool:
    """Does a promotion of `promoted` apps (None: everything) include all `wanted` ones (): all?"""
    if promoted is None:
        return True
    return bool(wanted) and set(wanted) <= set(promoted)


def group_by_app(paths: Iterable[str], apps: Sequence[App]) -> dict[str, list[str]]:
    """Paths by the app they belong to ("" for paths of no app), apps in their order.

    A path belongs to the first app (in `apps`' order) that `_belongs` says holds it; found by
    looking up the path's parent directories and its Application's name, not by trying every
    app (status groups thousands of pending paths among 20,000 apps).
    """
    order = {a.path: i for i, a in enumerate(apps)}
    by_name: dict[str, App] = {}
    for app in apps:
        by_name.setdefault(app.name, app)
    everything = next((a for a in apps if a.path == "."), None)
    grouped: dict[str, list[str]] = {}
    above: dict[str, list[str]] = {}  # directory -> the apps holding it (paths share directories)
    for path in paths:
        grouped.setdefault(_owner(path, order, by_name, everything, above), []).append(path)
    return dict(sorted(grouped.items(), key=lambda item: order.get(item[0], len(order))))


def _owner(
    path: str,
    order: Mapping[str, int],
    by_name: Mapping[str, App],
    everything: App | None,
    above: dict[str, list[str]],
) -> str:
    directory = path.rpartition("/")[0]
    if directory not in above:
        above[directory] = [parent for parent in iter_parents(path) if parent in order]
    candidates = list(above[directory])
    match = _ARGOCD_APP.match(path)
    if match is not None and match.group("name") in by_name:
        candidates.append(by_name[match.group("name")].path)
    if everything is not None:
        candidates.append(everything.path)
    return min(candidates, key=order.__getitem__) if candidates else ""


def scope_for(requested: Sequence[str], *trees: Iterable[str]) -> Scope | None:
    """The scope of `--app` options over the apps of both trees; None without any."""
    if not requested:
        return None
    return Scope(resolve(requested, discover(*trees)))


def scope_looked_up(
    requested: Sequence[str],
    trees: Sequence[Container[str]],
    charts_named: Callable[[str], Iterable[str]] | None = None,
) -> Scope | None:
    """The scope of `--app` options found without listing the trees.

    A directory (`apps/api`) is found by looking up its Chart.yaml and those above it in
    `trees` (a vendored subchart is no app). A bare name (`api`) needs every app of that name:
    `charts_named(name)` gives the `<dir>/<name>/Chart.yaml` paths of both trees (a search git
    makes), and the lookups above them leave out vendored subcharts, so `resolve` sees every
    app that could match. None when an option names no app: `scope_for` decides then, with
    the listing's hint.
    """
    wanted = [w.strip().rstrip("/") for w in requested]
    charts: list[str] = []
    for w in wanted:
        if "/" in w:
            charts.append(f"{w}/Chart.yaml")
        elif charts_named is not None and w not in ("", "."):
            charts.extend(charts_named(w))
        else:
            return None
    if not wanted:
        return None
    above = chart_files_above(charts)
    found = [App(d) for d in chart_dirs(c for c in above if any(c in tree for tree in trees))]
    paths, names = {a.path for a in found}, {a.name for a in found}
    if not all(w in paths or ("/" not in w and w in names) for w in wanted):
        return None
    return Scope(resolve(requested, found))


def touching(scope: Scope, touched: Mapping[str, Sequence[str]]) -> set[str]:
    """The commits (of `touched`: commit -> paths) that changed a path of the scope."""
    return {sha for sha, paths in touched.items() if any(scope.contains(p) for p in paths)}
