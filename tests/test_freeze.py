"""Freeze windows and planned windows: parsing with line numbers, evaluation, DST, overrides."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from gitops_promote.core.freeze import (
    DAYS,
    FREEZE,
    WINDOWS,
    Weekly,
    WeeklyTime,
    Window,
    check_promotion_allowed,
    current_and_next,
    is_frozen,
    outside_windows,
    parse_windows,
    validate_environment_windows,
    validate_windows,
)
from gitops_promote.core.registry import Environment, parse_registry
from gitops_promote.errors import ConfigError

UTC = timezone.utc
BERLIN = "Europe/Berlin"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def registry_text(stg: str = "", prd: str = "") -> str:
    """The reference registry with extra (indented) lines under stg and prd."""
    return (
        "environments:\n"
        "  - codename: dev\n"
        "  - codename: stg\n"
        f"{stg}"
        "  - codename: prd\n"
        f"{prd}"
        "promotion:\n"
        "  order: [dev, stg, prd]\n"
        '  env_specific: ["apps/*/values-{env}.yaml"]\n'
    )


def env_from(stg: str = "", prd: str = "", codename: str = "stg") -> Environment:
    env = parse_registry(registry_text(stg, prd)).get(codename)
    assert env is not None
    return env


def raw_list(text: str, codename: str, key: str) -> Any:
    """The entries as the registry loader sees them: ruamel round-trip nodes with positions."""
    doc = YAML(typ="rt").load(text)
    env = next(e for e in doc["environments"] if e["codename"] == codename)
    return env[key]


HOLIDAY = """\
    freeze:
      - from: "2026-12-24T00:00:00Z"
        to: "2026-12-27T08:00:00Z"
        reason: holiday freeze
"""
WEEKEND_BERLIN = """\
    freeze:
      - weekly: {from: "Fri 16:00", to: "Mon 08:00", timezone: Europe/Berlin}
"""
WINDOWS_ONLY = """\
    windows:
      - from: "2026-12-01T22:00:00Z"
        to: "2026-12-02T02:00:00Z"
        reason: announced maintenance
      - weekly: {from: "Tue 22:00", to: "Wed 02:00", timezone: UTC}
"""


# ---------------------------------------------------------------------------------------------
# absolute windows


def test_absolute_window_includes_from_and_excludes_to() -> None:
    env = env_from(HOLIDAY)
    assert is_frozen(env, at("2026-12-23T23:59:59.999999Z")) is None
    window = is_frozen(env, at("2026-12-24T00:00:00Z"))
    assert window is not None and window.reason == "holiday freeze"
    assert is_frozen(env, at("2026-12-27T07:59:59Z")) is not None
    assert is_frozen(env, at("2026-12-27T08:00:00Z")) is None


def test_absolute_window_with_offsets_and_unquoted_timestamps() -> None:
    env = env_from('    freeze:\n      - {from: 2026-12-24T01:00:00+01:00, to: "2026-12-24T12:00:00-05:00"}\n')
    assert is_frozen(env, at("2026-12-23T23:59:00Z")) is None
    assert is_frozen(env, at("2026-12-24T00:00:00Z")) is not None
    assert is_frozen(env, at("2026-12-24T16:59:00Z")) is not None
    assert is_frozen(env, at("2026-12-24T17:00:00Z")) is None


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_frozen(env_from(HOLIDAY), datetime(2026, 12, 25))


# ---------------------------------------------------------------------------------------------
# weekly windows


def test_weekly_wraps_across_the_end_of_the_week() -> None:
    env = env_from('    freeze:\n      - weekly: {from: "Fri 16:00", to: "Mon 08:00", timezone: UTC}\n')
    # 2026-01-09 is a Friday.
    assert is_frozen(env, at("2026-01-09T15:59:00Z")) is None
    assert is_frozen(env, at("2026-01-09T16:00:00Z")) is not None
    assert is_frozen(env, at("2026-01-11T12:00:00Z")) is not None  # Sunday
    assert is_frozen(env, at("2026-01-12T07:59:00Z")) is not None  # Monday
    assert is_frozen(env, at("2026-01-12T08:00:00Z")) is None
    assert is_frozen(env, at("2026-01-14T12:00:00Z")) is None  # Wednesday


@pytest.mark.parametrize(
    ("before", "start", "last", "end"),
    [
        # winter (CET, UTC+1): Fri 16:00 is 15:00Z, Mon 08:00 is 07:00Z
        (
            "2026-01-09T14:59:59Z",
            "2026-01-09T15:00:00Z",
            "2026-01-12T06:59:59Z",
            "2026-01-12T07:00:00Z",
        ),
        # summer (CEST, UTC+2): Fri 16:00 is 14:00Z, Mon 08:00 is 06:00Z
        (
            "2026-07-10T13:59:59Z",
            "2026-07-10T14:00:00Z",
            "2026-07-13T05:59:59Z",
            "2026-07-13T06:00:00Z",
        ),
        # the weekend clocks go forward (Sun 2026-03-29): starts in winter, ends in summer time
        (
            "2026-03-27T14:59:59Z",
            "2026-03-27T15:00:00Z",
            "2026-03-30T05:59:59Z",
            "2026-03-30T06:00:00Z",
        ),
        # the weekend clocks go back (Sun 2026-10-25): starts in summer, ends in winter time
        (
            "2026-10-23T13:59:59Z",
            "2026-10-23T14:00:00Z",
            "2026-10-26T06:59:59Z",
            "2026-10-26T07:00:00Z",
        ),
    ],
)
def test_weekly_follows_its_timezone_through_dst(before: str, start: str, last: str, end: str) -> None:
    env = env_from(WEEKEND_BERLIN)
    assert is_frozen(env, at(before)) is None
    assert is_frozen(env, at(start)) is not None
    assert is_frozen(env, at(last)) is not None
    assert is_frozen(env, at(end)) is None


def test_weekly_time_in_the_spring_gap_means_the_instant_after_the_jump() -> None:
    # 02:30 does not exist in Berlin on 2026-03-29; it is read with the winter offset (01:30Z).
    entry = '{from: "Sun 02:30", to: "Sun 04:00", timezone: Europe/Berlin}'
    env = env_from(f"    freeze:\n      - weekly: {entry}\n")
    assert is_frozen(env, at("2026-03-29T01:29:00Z")) is None
    assert is_frozen(env, at("2026-03-29T01:30:00Z")) is not None
    assert is_frozen(env, at("2026-03-29T02:00:00Z")) is None  # 04:00 CEST


# ---------------------------------------------------------------------------------------------
# planned windows, decisions, status


def test_windows_allow_promotion_only_inside_one_of_them() -> None:
    env = env_from(prd=WINDOWS_ONLY, codename="prd")
    inside_absolute, inside_weekly = (
        at("2026-12-01T23:00:00Z"),
        at("2026-12-08T23:00:00Z"),
    )  # Tuesdays
    outside = at("2026-12-03T12:00:00Z")
    assert not outside_windows(env, inside_absolute)
    assert not outside_windows(env, inside_weekly)
    assert outside_windows(env, outside)
    assert is_frozen(env, outside) is None  # a planned window is not a freeze
    decision = check_promotion_allowed(env, outside, None)
    assert not decision.allowed and decision.state == "outside-windows"
    assert "only inside its planned windows" in decision.message
    assert "2026-12-08T22:00:00Z" in decision.message  # the next Tuesday 22:00
    assert "--override-freeze --reason TEXT" in decision.message
    assert check_promotion_allowed(env, inside_weekly, None).allowed


def test_environment_without_windows_is_open() -> None:
    env = env_from()
    assert not outside_windows(env, at("2026-12-03T12:00:00Z"))
    decision = check_promotion_allowed(env, at("2026-12-25T12:00:00Z"), None)
    assert decision.allowed and decision.state == "open" and decision.trailer is None


def test_refusal_names_the_window_its_line_and_the_override() -> None:
    decision = check_promotion_allowed(env_from(HOLIDAY), at("2026-12-25T12:00:00Z"), None)
    assert not decision.allowed and decision.state == "frozen"
    assert "'holiday freeze'" in decision.message
    assert "environments.yaml:5" in decision.message  # the entry's line in registry_text
    assert "until 2026-12-27T08:00:00Z" in decision.message
    assert "--override-freeze --reason TEXT" in decision.message
    assert decision.trailer is None


def test_override_allows_and_yields_a_one_line_trailer() -> None:
    reason = "hotfix for\n  INC-42 "
    decision = check_promotion_allowed(env_from(HOLIDAY), at("2026-12-25T12:00:00Z"), reason)
    assert decision.allowed and decision.overridden
    assert decision.trailer == "Freeze-Override: hotfix for INC-42"
    assert decision.window is not None and decision.window.reason == "holiday freeze"


def test_override_outside_any_freeze_adds_no_trailer() -> None:
    decision = check_promotion_allowed(env_from(HOLIDAY), at("2026-12-20T12:00:00Z"), "not needed")
    assert decision.allowed and not decision.overridden and decision.trailer is None


def test_blank_override_reason_does_not_override() -> None:
    assert not check_promotion_allowed(env_from(HOLIDAY), at("2026-12-25T12:00:00Z"), "  ").allowed


def test_current_and_next_give_concrete_occurrences() -> None:
    env = env_from(WEEKEND_BERLIN + HOLIDAY.replace("    freeze:\n", ""))
    current, upcoming = current_and_next(env, at("2026-12-25T12:00:00Z"))  # a Friday, 13:00 CET
    assert [o.window.reason for o in current] == ["holiday freeze"]
    assert upcoming is not None and upcoming.window.weekly is not None
    assert (upcoming.start, upcoming.end) == (
        at("2026-12-25T15:00:00Z"),
        at("2026-12-28T07:00:00Z"),
    )
    current, upcoming = current_and_next(env, at("2026-12-26T12:00:00Z"))
    assert len(current) == 2
    assert upcoming is not None and upcoming.start == at("2027-01-01T15:00:00Z")


def test_current_and_next_after_every_absolute_window() -> None:
    current, upcoming = current_and_next(env_from(HOLIDAY), at("2027-01-01T00:00:00Z"))
    assert current == [] and upcoming is None


# ---------------------------------------------------------------------------------------------
# validation with lines


BROKEN = """\
    freeze:
      - from: "2026-12-24T00:00:00Z"
        to: "2026-12-20T00:00:00Z"
      - from: "2026-12-24 10:00"
        to: "2026-12-25T00:00:00Z"
        reasn: typo
      - weekly: {from: "Fry 16:00", to: "Mon 24:00", timezone: Europe/Berln}
      - weekly: {from: "Fri 16:00", to: "Mon 08:00"}
        from: "2026-12-24T00:00:00Z"
      - just a string
      - reason: nothing else
      - from: "2026-12-24T00:00:00Z"
      - weekly: {from: "Fri 16:00", to: "Mon 08:00", timezone: UTC, tz: UTC}
        reason: 42
"""


def test_invalid_entries_are_all_reported_with_their_lines() -> None:
    text = registry_text(BROKEN)
    problems = validate_windows(raw_list(text, "stg", "freeze"), FREEZE, "environments.yaml")
    found = {(p.location.line if p.location else 0, p.message.split(": ", 2)[-1]) for p in problems}
    lines = text.splitlines()

    def line_of(fragment: str, start: int = 0) -> int:
        return next(i + 1 for i, line in enumerate(lines) if i >= start and fragment in line)

    expected_lines = {
        "is not before 'to'": line_of('to: "2026-12-20'),
        "has no timezone offset": line_of('from: "2026-12-24 10:00"'),
        "unknown key 'reasn'": line_of("reasn:"),
        "must be a day and a 24-hour time": line_of("Fry 16:00"),
        "unknown timezone 'Europe/Berln'": line_of("Europe/Berln"),
        "mixes 'weekly' with 'from'/'to'": line_of('{from: "Fri 16:00", to: "Mon 08:00"}'),
        "must be a mapping": line_of("just a string"),
        "has neither": line_of("reason: nothing else"),
        "lacks 'to'": line_of('- from: "2026-12-24T00:00:00Z"', line_of("nothing else")),
        "unknown key 'tz'": line_of("tz: UTC"),
        "'reason' must be a string": line_of("reason: 42"),
    }
    for fragment, line in expected_lines.items():
        assert any(fragment in message and got == line for got, message in found), (
            fragment,
            line,
            found,
        )
    by_fragment = {p.message: p for p in problems}
    typo = next(p for m, p in by_fragment.items() if "'reasn'" in m)
    assert typo.hint == "did you mean 'reason'?"
    assert str(typo).startswith(f"environments.yaml:{line_of('reasn:')}:")
    assert sum("must be a day" in p.message for p in problems) == 2  # Fry and 24:00


def test_validate_environment_windows_covers_both_lists() -> None:
    prd = WINDOWS_ONLY.replace("timezone: UTC", "timezone: Mars/Olympus") + "    freeze:\n      - {}\n"
    text = registry_text(prd=prd)
    freeze, windows = (raw_list(text, "prd", key) for key in (FREEZE, WINDOWS))
    env = Environment("prd", "Production", "prd", freeze=tuple(freeze), windows=tuple(windows))
    problems = validate_environment_windows(env, "environments.yaml")
    assert [p.message.split(":")[0] for p in problems] == [FREEZE, WINDOWS]
    assert [p.location.line if p.location else 0 for p in problems] == [11, 9]


def test_registry_parsing_reports_window_problems_with_lines() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_registry(registry_text(BROKEN))
    assert any(str(p).startswith("environments.yaml:9:9: freeze: unknown key 'reasn'") for p in caught.value.problems)


def test_a_list_that_is_not_a_list_is_refused() -> None:
    raw = raw_list(registry_text('    freeze: "christmas"\n'), "stg", "freeze")
    problems = validate_windows(raw, FREEZE, "environments.yaml")
    assert len(problems) == 1 and "must be a list" in problems[0].message


def test_parse_windows_raises_config_error_listing_every_problem() -> None:
    raw = raw_list(registry_text(BROKEN), "stg", "freeze")
    with pytest.raises(ConfigError) as caught:
        parse_windows(raw, "environments.yaml")
    assert len(caught.value.problems) >= 10
    assert "docs/freeze-windows.md" in caught.value.hint


def test_parse_windows_of_valid_entries() -> None:
    raw = raw_list(registry_text(prd=WINDOWS_ONLY), "prd", "windows")
    windows = parse_windows(raw, "environments.yaml", WINDOWS)
    assert [w.kind for w in windows] == [WINDOWS, WINDOWS]
    assert windows[0].reason == "announced maintenance" and windows[0].line == 6
    assert windows[1].weekly == Weekly(WeeklyTime(1, 22 * 60), WeeklyTime(2, 2 * 60), "UTC")
    assert windows[1].to_json()["weekly"] == {
        "from": "Tue 22:00",
        "to": "Wed 02:00",
        "timezone": "UTC",
    }


# ---------------------------------------------------------------------------------------------
# properties


weekly_times = st.builds(WeeklyTime, st.integers(0, 6), st.integers(0, 24 * 60 - 1))
instants = st.datetimes(datetime(2020, 1, 1), datetime(2035, 1, 1), timezones=st.just(UTC))


def weekly_window(start: WeeklyTime, end: WeeklyTime, zone: str) -> Window:
    return Window(FREEZE, 1, weekly=Weekly(start, end, zone))


def wall_clock_inside(start: WeeklyTime, end: WeeklyTime, now: datetime, zone: str) -> bool:
    """The oracle: minute-of-week arithmetic on the local wall clock."""
    local = now.astimezone(ZoneInfo(zone))
    minute: int = local.weekday() * 1440 + local.hour * 60 + local.minute
    week = 7 * 1440
    offset = (minute - start.minute_of_week) % week
    length = (end.minute_of_week - start.minute_of_week) % week
    return bool(offset < length)


@given(weekly_times, weekly_times, instants)
def test_weekly_utc_matches_minute_of_week_arithmetic(start: WeeklyTime, end: WeeklyTime, now: datetime) -> None:
    assume(start != end)
    now = now.replace(second=0, microsecond=0)
    window = weekly_window(start, end, "UTC")
    assert (window.occurrence_at(now) is not None) == wall_clock_inside(start, end, now, "UTC")


@given(
    weekly_times,
    weekly_times,
    instants,
    st.sampled_from([BERLIN, "America/New_York", "Australia/Sydney"]),
)
def test_weekly_with_dst_matches_the_wall_clock_away_from_transitions(
    start: WeeklyTime, end: WeeklyTime, now: datetime, zone: str
) -> None:
    assume(start != end)
    now = now.replace(second=0, microsecond=0)
    tz = ZoneInfo(zone)
    # Within hours of a clock change the wall clock jumps; the instants are what count there.
    assume(
        (now - timedelta(hours=3)).astimezone(tz).utcoffset() == (now + timedelta(hours=3)).astimezone(tz).utcoffset()
    )
    window = weekly_window(start, end, zone)
    assert (window.occurrence_at(now) is not None) == wall_clock_inside(start, end, now, zone)


@given(weekly_times, weekly_times, instants, st.sampled_from(["UTC", BERLIN]))
def test_next_start_is_the_first_occurrence_after_now(
    start: WeeklyTime, end: WeeklyTime, now: datetime, zone: str
) -> None:
    assume(start != end)
    window = weekly_window(start, end, zone)
    upcoming = window.next_start(now)
    assert upcoming is not None and now < upcoming.start < upcoming.end
    assert upcoming.start - now <= timedelta(days=7, hours=1)
    assert window.occurrence_at(upcoming.start) is not None
    assert all(o.start <= now or o.start >= upcoming.start for o in window.occurrences(now, upcoming.start))


@given(instants, instants, instants)
def test_absolute_window_is_half_open(a: datetime, b: datetime, now: datetime) -> None:
    assume(a < b)
    window = Window(FREEZE, 1, start=a, end=b)
    assert (window.occurrence_at(now) is not None) == (a <= now < b)


@given(st.text(max_size=40))
def test_override_trailer_is_always_one_line(reason: str) -> None:
    env = env_from(HOLIDAY)
    decision = check_promotion_allowed(env, datetime(2026, 12, 25, tzinfo=UTC), reason)
    assert decision.allowed == bool(reason.split())
    if decision.trailer is not None:
        assert "\n" not in decision.trailer and "\r" not in decision.trailer
        assert decision.trailer.startswith("Freeze-Override: ")


def test_days_are_monday_first() -> None:
    assert DAYS[datetime(2026, 1, 9).weekday()] == "Fri"
