"""Freeze windows and planned windows of an environment (docs/freeze-windows.md).

An environment may list, in the registry,
  freeze:   periods during which promotions into it are refused, and
  windows:  planned (downtime) windows; when the list is present, promotions into the
            environment are allowed only inside one of them.
Each entry is either absolute (`from`/`to`, ISO 8601 instants with an offset) or weekly
(`weekly: {from: "Fri 16:00", to: "Mon 08:00", timezone: Europe/Berlin}`), plus an optional
`reason`. Intervals are half-open: `from` is inside, `to` is not.

Pure code: the caller passes the clock (`now`, timezone-aware) and receives decisions; nothing
here reads the time, prints or raises for a refusal (the command does, from the decision).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from gitops_promote.core.lookup import closest, node_position
from gitops_promote.core.paths import REGISTRY_FILE
from gitops_promote.core.regex import lazy_regex
from gitops_promote.errors import ConfigError, Location, Problem

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo


class Environment(Protocol):
    """What this module reads of a registry environment (core.registry.Environment has it).

    A protocol rather than an import: the registry validates windows with this module, so
    importing the registry here would close a cycle.
    """

    @property
    def codename(self) -> str: ...
    @property
    def freeze(self) -> tuple[Any, ...]: ...
    @property
    def windows(self) -> tuple[Any, ...]: ...
    @property
    def line(self) -> int: ...


FREEZE, WINDOWS = "freeze", "windows"
OVERRIDE_FLAGS = "--override-freeze --reason TEXT"
TRAILER_KEY = "Freeze-Override"

ABSOLUTE_KEYS = {"from", "to", "reason"}
ENTRY_KEYS = ABSOLUTE_KEYS | {"weekly"}
WEEKLY_KEYS = {"from", "to", "timezone"}
ALIASES = {
    "tz": "timezone",
    "zone": "timezone",
    "time_zone": "timezone",
    "until": "to",
    "start": "from",
    "end": "to",
    "comment": "reason",
    "description": "reason",
}
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MINUTES_PER_WEEK = 7 * 24 * 60
_weekly_time = lazy_regex(r"^\s*([A-Za-z]{3})\s+([01]?\d|2[0-3]):([0-5]\d)\s*$")  # weekly windows only
WEEKLY_EXAMPLE = 'weekly: {from: "Fri 16:00", to: "Mon 08:00", timezone: Europe/Berlin}'
ABSOLUTE_EXAMPLE = 'from: "2026-12-24T00:00:00Z", to: "2026-12-27T08:00:00Z"'


# ---------------------------------------------------------------------------------------------
# model


class WeeklyTime(NamedTuple):
    """A moment of the week on a wall clock: day 0 = Monday, minute of that day."""

    day: int
    minute: int

    @property
    def minute_of_week(self) -> int:
        return self.day * 1440 + self.minute

    def __str__(self) -> str:
        return f"{DAYS[self.day]} {self.minute // 60:02d}:{self.minute % 60:02d}"


class Weekly(NamedTuple):
    start: WeeklyTime
    end: WeeklyTime
    timezone: str

    @property
    def length_minutes(self) -> int:
        """Wall-clock length; an end before the start wraps across the end of the week."""
        return (self.end.minute_of_week - self.start.minute_of_week) % MINUTES_PER_WEEK

    def __str__(self) -> str:
        return f"weekly {self.start} to {self.end} ({self.timezone})"


@dataclass(frozen=True)
class Window:
    """One registry entry: `kind` is "freeze" or "windows"; `line` is 1-based (0 = unknown)."""

    kind: str
    index: int
    reason: str = ""
    start: datetime | None = None  # absolute entries
    end: datetime | None = None
    weekly: Weekly | None = None
    source: str = ""
    line: int = 0

    def spec(self) -> str:
        if self.weekly is not None:
            return str(self.weekly)
        assert self.start is not None and self.end is not None
        return f"{_iso(self.start)} to {_iso(self.end)}"

    def describe(self) -> str:
        """How messages name the entry: its reason if any, its schedule, and its line."""
        label = f"{self.kind}[{self.index}]"
        where = f", {Location(self.source, self.line)}" if self.source else ""
        if self.reason:
            return f"{self.reason!r} ({label}: {self.spec()}{where})"
        return f"{label} ({self.spec()}{where})"

    def occurrences(self, after: datetime, before: datetime) -> Iterator[Occurrence]:
        """Concrete periods overlapping [after, before), earliest first (UTC instants)."""
        after, before = _utc(after), _utc(before)
        for occ in self._candidates(after, before):
            if occ.end > after and occ.start < before:
                yield occ

    def occurrence_at(self, now: datetime) -> Occurrence | None:
        return next(
            (o for o in self.occurrences(now, now + timedelta(microseconds=1)) if o.contains(now)),
            None,
        )

    def next_start(self, now: datetime) -> Occurrence | None:
        """The first occurrence starting strictly after `now`."""
        horizon = now + timedelta(days=15)
        if self.weekly is None:
            horizon = max(horizon, (self.end or now) + timedelta(days=1))
        return next((o for o in self.occurrences(now, horizon) if o.start > now), None)

    def _candidates(self, after: datetime, before: datetime) -> Iterator[Occurrence]:
        if self.weekly is None:
            assert self.start is not None and self.end is not None
            yield Occurrence(self, _utc(self.start), _utc(self.end))
            return
        yield from _weekly_occurrences(self, self.weekly, after, before)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "index": self.index,
            "reason": self.reason or None,
            "line": self.line,
        }
        if self.weekly is not None:
            w = self.weekly
            data["weekly"] = {"from": str(w.start), "to": str(w.end), "timezone": w.timezone}
        else:
            assert self.start is not None and self.end is not None
            data["from"], data["to"] = _iso(self.start), _iso(self.end)
        return data


class Occurrence(NamedTuple):
    """A window made concrete: [start, end) in UTC."""

    window: Window
    start: datetime
    end: datetime

    def contains(self, now: datetime) -> bool:
        return self.start <= _utc(now) < self.end

    def to_json(self) -> dict[str, Any]:
        return {"window": self.window.to_json(), "start": _iso(self.start), "end": _iso(self.end)}


class FreezeDecision(NamedTuple):
    """Whether a promotion into an environment may happen now, and what to say about it.

    `window`/`occurrence` name the freeze that applies, or (outside planned windows) the next
    planned window, if any. `trailer` is the commit-message line to add when an override was
    used; None otherwise.
    """

    allowed: bool
    environment: str
    state: str  # "open" | "frozen" | "outside-windows"
    message: str
    window: Window | None = None
    occurrence: Occurrence | None = None
    overridden: bool = False
    trailer: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "environment": self.environment,
            "state": self.state,
            "message": self.message,
            "overridden": self.overridden,
            "trailer": self.trailer,
            "occurrence": self.occurrence.to_json() if self.occurrence else None,
        }


# ---------------------------------------------------------------------------------------------
# weekly arithmetic


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("freeze evaluation needs timezone-aware datetimes")
    return moment.astimezone(timezone.utc)


def _iso(moment: datetime) -> str:
    return _utc(moment).isoformat().replace("+00:00", "Z")


def _local_instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """A wall-clock time on `day` as a UTC instant.

    fold=0 picks the first of two ambiguous times (autumn) and, for a time skipped in spring,
    the offset in force before the jump, so "02:30" on that night means 03:30 summer time.
    """
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    return local.astimezone(timezone.utc)


def _weekly_occurrences(window: Window, weekly: Weekly, after: datetime, before: datetime) -> Iterator[Occurrence]:
    from zoneinfo import ZoneInfo  # only for a registry with weekly windows

    zone = ZoneInfo(weekly.timezone)
    # Start one week early: an occurrence that started last week may still be running.
    first = _utc(after).astimezone(zone).date() - timedelta(days=8)
    last = _utc(before).astimezone(zone).date() + timedelta(days=1)
    day = first + timedelta(days=(weekly.start.day - first.weekday()) % 7)
    span_days, end_minute = divmod(weekly.start.minute + weekly.length_minutes, 1440)
    while day <= last:
        # Compare UTC instants only: datetimes sharing a ZoneInfo compare by wall clock.
        start = _local_instant(day, weekly.start.minute, zone)
        end = _local_instant(day + timedelta(days=span_days), end_minute, zone)
        if end > start:
            yield Occurrence(window, start, end)
        day += timedelta(days=7)


# ---------------------------------------------------------------------------------------------
# parsing and validation


def validate_windows(raw_entries: Any, key_name: str, source: str, fallback_line: int = 0) -> list[Problem]:
    """Every problem of one `freeze:` or `windows:` list, each with file and line."""
    return _Parser(key_name, source, fallback_line).parse(raw_entries)[1]


def parse_windows(raw_entries: Any, source_file: str, key_name: str = FREEZE, fallback_line: int = 0) -> list[Window]:
    """The windows of one list; raise ConfigError naming every invalid entry."""
    windows, problems = _Parser(key_name, source_file, fallback_line).parse(raw_entries)
    if problems:
        raise ConfigError(
            f"invalid '{key_name}' entries in {source_file}",
            problems=problems,
            hint="docs/freeze-windows.md describes both entry forms",
        )
    return windows


def validate_environment_windows(env: Environment, source: str) -> list[Problem]:
    return [
        *validate_windows(env.freeze, FREEZE, source, env.line),
        *validate_windows(env.windows, WINDOWS, source, env.line),
    ]


def environment_windows(env: Environment, source: str = REGISTRY_FILE) -> list[Window]:
    """Freeze and planned windows of `env` (raises ConfigError if the registry let bad ones by)."""
    return [
        *parse_windows(env.freeze, source, FREEZE, env.line),
        *parse_windows(env.windows, source, WINDOWS, env.line),
    ]


class _Parser:
    def __init__(self, key_name: str, source: str, fallback_line: int) -> None:
        self.key_name = key_name
        self.source = source
        self.fallback_line = fallback_line
        self.problems: list[Problem] = []

    def at(self, node: Any, key: Any = None, value: bool = False) -> Location:
        pos = node_position(node, key, value=value)
        if pos is None:
            return Location(self.source, self.fallback_line)
        return Location(self.source, *pos)

    def error(self, message: str, where: Location, hint: str = "") -> None:
        self.problems.append(Problem(f"{self.key_name}: {message}", where, hint))

    def parse(self, raw_entries: Any) -> tuple[list[Window], list[Problem]]:
        if raw_entries is None:
            return [], []
        if isinstance(raw_entries, (str, bytes, dict)) or not isinstance(raw_entries, Iterable):
            self.error("must be a list of entries", self.at(raw_entries), f"e.g. - {{{ABSOLUTE_EXAMPLE}}}")
            return [], self.problems
        items = list(raw_entries)
        windows = [w for i, e in enumerate(items) if (w := self.entry(raw_entries, i, e)) is not None]
        return windows, self.problems

    def item_at(self, container: Any, index: int) -> Location:
        """A sequence item's place; a scalar item has no `.lc` of its own, its list has."""
        try:
            line, col = container.lc.item(index)
            return Location(self.source, line + 1, col + 1)
        except (AttributeError, KeyError, IndexError, TypeError):
            return Location(self.source, self.fallback_line)

    def entry(self, container: Any, index: int, entry: Any) -> Window | None:
        label = f"entry {index + 1}"
        if not isinstance(entry, dict):
            self.error(
                f"{label} must be a mapping",
                self.item_at(container, index),
                f"write {ABSOLUTE_EXAMPLE} or {WEEKLY_EXAMPLE}",
            )
            return None
        self.unknown_keys(entry, ENTRY_KEYS, label)
        reason = self.reason(entry, label)
        line = self.at(entry).line
        base = Window(self.key_name, index + 1, reason, source=self.source, line=line)
        has_absolute = "from" in entry or "to" in entry
        if "weekly" in entry and has_absolute:
            self.error(
                f"{label} mixes 'weekly' with 'from'/'to'",
                self.at(entry, "weekly"),
                "an entry is either absolute (from/to) or weekly; split it into two entries",
            )
            return None
        if "weekly" in entry:
            weekly = self.weekly(entry["weekly"], entry, label)
            return None if weekly is None else _replace(base, weekly=weekly)
        if not has_absolute:
            self.error(
                f"{label} has neither 'from'/'to' nor 'weekly'",
                self.at(entry),
                f"write {ABSOLUTE_EXAMPLE} or {WEEKLY_EXAMPLE}",
            )
            return None
        span = self.absolute(entry, label)
        return None if span is None else _replace(base, start=span[0], end=span[1])

    def unknown_keys(self, node: dict[Any, Any], allowed: set[str], what: str) -> None:
        for key in node:
            if key not in allowed:
                close = ALIASES.get(str(key).lower()) or closest(str(key), allowed)
                hint = f"did you mean {close!r}?" if close else f"allowed keys: {', '.join(sorted(allowed))}"
                self.error(f"unknown key {key!r} in {what}", self.at(node, key), hint)

    def reason(self, entry: dict[Any, Any], label: str) -> str:
        value = entry.get("reason", "")
        if value is None or isinstance(value, str):
            return (value or "").strip()
        self.error(
            f"{label}: 'reason' must be a string",
            self.at(entry, "reason", value=True),
            'quote it, e.g. reason: "holiday freeze"',
        )
        return ""

    # -- absolute -----------------------------------------------------------------------------
    def absolute(self, entry: dict[Any, Any], label: str) -> tuple[datetime, datetime] | None:
        missing = [k for k in ("from", "to") if k not in entry]
        if missing:
            self.error(
                f"{label} lacks '{missing[0]}'",
                self.at(entry),
                f"an absolute entry needs both: {ABSOLUTE_EXAMPLE}",
            )
            return None
        start = self.instant(entry, "from", label)
        end = self.instant(entry, "to", label)
        if start is None or end is None:
            return None
        if not start < end:
            self.error(
                f"{label}: 'from' ({_iso(start)}) is not before 'to' ({_iso(end)})",
                self.at(entry, "to", value=True),
                "swap them, or fix the date",
            )
            return None
        return start, end

    def instant(self, entry: dict[Any, Any], key: str, label: str) -> datetime | None:
        value = entry[key]
        where = self.at(entry, key, value=True)
        hint = 'write a quoted ISO 8601 instant with offset: "2026-12-24T00:00:00Z" or "...+01:00"'
        moment = _to_datetime(value)
        if moment is None:
            self.error(f"{label}: '{key}' is not an ISO 8601 date and time: {value!r}", where, hint)
            return None
        if moment.tzinfo is None or moment.utcoffset() is None:
            self.error(
                f"{label}: '{key}' has no timezone offset: {value!s}",
                where,
                "append Z for UTC or an offset such as +01:00, so that every reader agrees",
            )
            return None
        return moment

    # -- weekly -------------------------------------------------------------------------------
    def weekly(self, node: Any, entry: dict[Any, Any], label: str) -> Weekly | None:
        if not isinstance(node, dict):
            self.error(
                f"{label}: 'weekly' must be a mapping",
                self.at(entry, "weekly", value=True),
                f"e.g. {WEEKLY_EXAMPLE}",
            )
            return None
        what = f"{label} 'weekly'"
        self.unknown_keys(node, WEEKLY_KEYS, what)
        missing = [k for k in ("from", "to", "timezone") if k not in node]
        if missing:
            self.error(
                f"{what} lacks {', '.join(repr(m) for m in missing)}",
                self.at(entry, "weekly", value=True),
                f"e.g. {WEEKLY_EXAMPLE}",
            )
            return None
        start = self.weekly_time(node, "from", what)
        end = self.weekly_time(node, "to", what)
        zone = self.zone(node, what)
        if start is None or end is None or zone is None:
            return None
        if start == end:
            self.error(
                f"{what}: 'from' and 'to' are the same moment ({start})",
                self.at(node, "to", value=True),
                "a weekly window must have a length; for a permanent freeze use an absolute entry",
            )
            return None
        return Weekly(start, end, zone)

    def weekly_time(self, node: dict[Any, Any], key: str, what: str) -> WeeklyTime | None:
        value = node[key]
        match = _weekly_time().match(value) if isinstance(value, str) else None
        day = match.group(1).capitalize() if match else ""
        if match is None or day not in DAYS:
            self.error(
                f"{what}: '{key}' must be a day and a 24-hour time (\"Fri 16:00\"), not {value!r}",
                self.at(node, key, value=True),
                f"days: {', '.join(DAYS)}; times 00:00 to 23:59",
            )
            return None
        return WeeklyTime(DAYS.index(day), int(match.group(2)) * 60 + int(match.group(3)))

    def zone(self, node: dict[Any, Any], what: str) -> str | None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # only for a registry with weekly windows

        value = node["timezone"]
        try:
            if not isinstance(value, str) or not value.strip():
                raise ValueError
            ZoneInfo(value)
            return value
        except (ZoneInfoNotFoundError, ValueError, OSError):
            self.error(
                f"{what}: unknown timezone {value!r}",
                self.at(node, "timezone", value=True),
                "use an IANA name such as UTC, Europe/Berlin or America/New_York",
            )
            return None


def _to_datetime(value: Any) -> datetime | None:
    """An instant from a string or from a YAML timestamp the loader already converted."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or ("T" not in value.upper() and " " not in value.strip()):
        return None  # a bare date is a day, not an instant
    text = value.strip()
    # Python 3.10's fromisoformat does not know the Z suffix.
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _replace(window: Window, **changes: Any) -> Window:
    from dataclasses import replace

    return replace(window, **changes)


# ---------------------------------------------------------------------------------------------
# evaluation


def _frozen_at(windows: Iterable[Window], now: datetime) -> Occurrence | None:
    found = [o for w in windows if w.kind == FREEZE and (o := w.occurrence_at(now)) is not None]
    # Of overlapping freezes, name the one lasting longest: it is the one that matters.
    return max(found, key=lambda o: o.end) if found else None


def is_frozen(env: Environment, now: datetime) -> Window | None:
    """The freeze entry in force at `now`, or None."""
    occurrence = _frozen_at(environment_windows(env), now)
    return occurrence.window if occurrence else None


def outside_windows(env: Environment, now: datetime) -> bool:
    """True when `env` lists planned windows and `now` is in none of them."""
    planned = [w for w in environment_windows(env) if w.kind == WINDOWS]
    return bool(planned) and all(w.occurrence_at(now) is None for w in planned)


def current_and_next(
    env: Environment, now: datetime, source: str = REGISTRY_FILE
) -> tuple[list[Occurrence], Occurrence | None]:
    """Occurrences (freezes and planned windows) in force at `now`, and the next one to start."""
    windows = environment_windows(env, source)
    current = sorted((o for w in windows if (o := w.occurrence_at(now))), key=lambda o: (o.start, o.window.index))
    upcoming = [o for w in windows if (o := w.next_start(now)) is not None]
    return current, min(upcoming, key=lambda o: (o.start, o.window.kind, o.window.index), default=None)


def check_promotion_allowed(
    env: Environment, now: datetime, override_reason: str | None, source: str = REGISTRY_FILE
) -> FreezeDecision:
    """May a promotion into `env` happen at `now`? An override needs a reason, kept as a trailer."""
    windows = environment_windows(env, source)
    reason = " ".join((override_reason or "").split())  # one line: it becomes a trailer
    frozen = _frozen_at(windows, now)
    if frozen is not None:
        return _blocked(env, "frozen", frozen, _frozen_message(env, frozen), reason)
    planned = [w for w in windows if w.kind == WINDOWS]
    if planned and all(w.occurrence_at(now) is None for w in planned):
        upcoming = [o for w in planned if (o := w.next_start(now)) is not None]
        following = min(upcoming, key=lambda o: o.start, default=None)
        return _blocked(env, "outside-windows", following, _outside_message(env, following), reason)
    return FreezeDecision(True, env.codename, "open", f"no freeze applies to {env.codename} now")


def _blocked(env: Environment, state: str, occurrence: Occurrence | None, message: str, reason: str) -> FreezeDecision:
    window = occurrence.window if occurrence else None
    if not reason:
        refusal = f"{message}; to write into {env.codename} anyway, pass {OVERRIDE_FLAGS}"  # promote or rollback
        return FreezeDecision(False, env.codename, state, refusal, window, occurrence)
    trailer = f"{TRAILER_KEY}: {reason}"
    note = f"{message}; overridden ({trailer})"
    return FreezeDecision(True, env.codename, state, note, window, occurrence, True, trailer)


def _frozen_message(env: Environment, occurrence: Occurrence) -> str:
    return f"{env.codename} is frozen until {_iso(occurrence.end)} by {occurrence.window.describe()}"


def _outside_message(env: Environment, following: Occurrence | None) -> str:
    head = f"promotions and rollbacks into {env.codename} are allowed only inside its planned windows"
    if following is None:
        return f"{head}, and none is ahead"
    return f"{head}; the next one, {following.window.describe()}, opens at {_iso(following.start)}"
