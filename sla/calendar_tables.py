"""The lookup tables behind sla.calendar, built once per calendar (pure code, no ORM, no clock).

Split from sla/calendar.py to keep each module legible: this one builds, that one answers.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agents.errors import DomainError

OfficeHours = Mapping[int, tuple[time, time] | None]

SATURDAY = 5
ONE_DAY = timedelta(days=1)
ONE_US = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Every "within N working days" in the handbook has N <= 7; larger N take the general path.
PRECOMPUTED_WORKING_DAYS = 10
# Stands in for datetime.UTC when a zone has no UTC-day tables: a tzinfo no datetime carries.
NO_FAST_PATH = timezone(timedelta(0), "no fast path")


def epoch_us(at: datetime) -> int:
    """Exact microseconds since the Unix epoch (floats lose microseconds in sums)."""
    return (at - EPOCH) // ONE_US


def build_tables(
    days: list[date], spans: list[tuple[datetime, datetime] | None], tz: ZoneInfo
) -> dict[str, Any]:
    """The lookup tables of WorkingCalendar (see its attributes) from each day's office span."""
    working = bytes(span is not None for span in spans)
    hours = [span for span in spans if span is not None]
    wd_through = list(accumulate(working))
    open_us = tuple(epoch_us(opening) for opening, _ in hours)
    close_us = tuple(epoch_us(closing) for _, closing in hours)
    close_at = tuple(closing for _, closing in hours)
    # Local midnight is never inside a DST gap in Riga (clocks move at 03:00/04:00), and zoneinfo
    # resolves fold=0 consistently elsewhere, so these boundaries are strictly increasing.
    day_start_ts = tuple(
        datetime.combine(d, time(0), tzinfo=tz).timestamp() for d in [*days, days[-1] + ONE_DAY]
    )
    utc_days = utc_day_tables(days[0] - ONE_DAY, day_start_ts)
    utc_first_ordinal, before, after, cut = utc_days or (0, (), (), ())
    utc = UTC if utc_days is not None else NO_FAST_PATH
    first_ordinal = days[0].toordinal()
    due_local = due_tables(range(len(wd_through)), wd_through, close_at)
    due_utc = due_by_utc_hour(before, after, cut, wd_through, close_at)
    return {
        "_day_start_ts": day_start_ts,
        "_working": working,
        "_wd_through": tuple(wd_through),
        "_open_at": tuple(opening for opening, _ in hours),
        "_close_at": close_at,
        "_open_us": open_us,
        "_close_us": close_us,
        "_cum_us": (
            0,
            *accumulate(closing - opening for opening, closing in zip(open_us, close_us, strict=True)),
        ),
        "_utc": utc,
        "_utc_first_ordinal": utc_first_ordinal,
        "_utc_cut_hour": cut,
        "_utc_day_before": before,
        "_utc_day_after": after,
        # Keyed by the local date's ordinal, so that the Python hot path needs no subtraction and no range
        # check: a day outside the tables is simply a missing key.
        "_due_local": {n: dict(enumerate(column, start=first_ordinal)) for n, column in due_local.items()},
        "_due_utc": due_utc,
        # The same answers for the compiled hot path (sla/_calendar_fast.c), which reads them by position
        # and indexes the local columns by day index rather than by a dict of ordinals.
        "_hot_path": (utc, utc_first_ordinal, due_utc, tz, first_ordinal, due_local),
    }


def utc_day_tables(
    utc_first_day: date, day_start_ts: tuple[float, ...]
) -> tuple[int, tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None:
    """(first UTC ordinal, local day at 00:00 UTC, local day after the cut, cut hour); see the slots.

    The tables start at the first UTC day whose 00:00 is inside the range, so that -1 only trails.
    """
    n_days = len(day_start_ts) - 1
    start = datetime.combine(utc_first_day, time(0), tzinfo=UTC).timestamp()
    before: list[int] = []
    after: list[int] = []
    cut: list[int] = []
    for j in range(n_days + 2):
        midnight = start + j * 86400
        first = bisect_right(day_start_ts, midnight) - 1
        last = bisect_right(day_start_ts, midnight + 86399) - 1
        if last == first:
            hour = 0
        else:
            offset = day_start_ts[last] - midnight
            if last != first + 1 or offset % 3600:
                return None  # more than one local midnight, or one off the hour: use bisect instead
            hour = int(offset // 3600)
        if first < 0 and not before:
            continue
        before.append(first if first < n_days else -1)
        after.append(last if last < n_days else -1)
        cut.append(hour)
    skipped = n_days + 2 - len(before)
    return utc_first_day.toordinal() + skipped, tuple(before), tuple(after), tuple(cut)


def due_tables(
    days: Iterable[int], wd_through: list[int], close_at: tuple[datetime, ...]
) -> dict[int, tuple[datetime, ...]]:
    """Per working-day count N, the close of the N-th working day after each of `days`.

    Each column stops at the first day outside the range or whose due time is, so that a lookup past
    it raises IndexError; both only happen at the end, as `days` only has -1 at the end.
    """
    columns: dict[int, tuple[datetime, ...]] = {}
    for n in range(1, PRECOMPUTED_WORKING_DAYS + 1):
        column: list[datetime] = []
        for day in days:
            if day < 0 or wd_through[day] + n - 1 >= len(close_at):
                break
            column.append(close_at[wd_through[day] + n - 1])
        columns[n] = tuple(column)
    return columns


def due_by_utc_hour(
    before: tuple[int, ...],
    after: tuple[int, ...],
    cut: tuple[int, ...],
    wd_through: list[int],
    close_at: tuple[datetime, ...],
) -> dict[int, tuple[tuple[datetime, ...], ...]]:
    """Per working-day count N, per UTC hour 0-23, the due time per UTC day (as in `due_tables`).

    Resolving the cut hour here spares the hot path a lookup and a comparison per call. Hours that
    see the same local days share one column: in Riga three per N (before 21:00 UTC, 21:00-21:59,
    which is already the next day in summer only, and from 22:00).
    """
    hour_days = [
        tuple(a if hour >= c else b for b, a, c in zip(before, after, cut, strict=True)) for hour in range(24)
    ]
    distinct = {days: due_tables(days, wd_through, close_at) for days in dict.fromkeys(hour_days)}
    return {n: tuple(distinct[days][n] for days in hour_days) for n in range(1, PRECOMPUTED_WORKING_DAYS + 1)}


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise DomainError("calendar_invalid", f"Unknown time zone {name!r}", field="time_zone") from error


def check_working_saturdays(saturdays: Mapping[date, date], holidays: frozenset[date]) -> None:
    # A wrong row in the overrides table must fail loudly at build, not shift deadlines silently.
    for saturday, replaced in saturdays.items():
        if saturday.weekday() != SATURDAY:
            raise DomainError("calendar_invalid", f"Working Saturday {saturday} is a {saturday:%A}")
        if saturday in holidays:
            raise DomainError("calendar_invalid", f"Working Saturday {saturday} is a public holiday")
        if replaced.weekday() >= SATURDAY:
            raise DomainError("calendar_invalid", f"{saturday} replaces {replaced}, which is not a weekday")


def office_span(
    day: date,
    *,
    saturdays: Mapping[date, date],
    days_off: frozenset[date],
    holidays: frozenset[date],
    office_hours: OfficeHours,
    shortening: timedelta,
    tz: ZoneInfo,
) -> tuple[datetime, datetime] | None:
    """The opening and closing instant of `day`, or None if it is not a working day."""
    replaced = saturdays.get(day)
    if replaced is not None:
        base = office_hours.get(replaced.weekday())
        if base is None:
            raise DomainError(
                "calendar_invalid", f"{day} replaces {replaced}, a weekday without office hours"
            )
        shortened = replaced + ONE_DAY in holidays or day + ONE_DAY in holidays
    else:
        if day in holidays or day in days_off:
            return None
        base = office_hours.get(day.weekday())
        if base is None:
            return None
        shortened = day + ONE_DAY in holidays
    opening, closing = base
    # Shorten on the wall clock: office hours are daytime, never inside a DST transition.
    close_wall = datetime.combine(day, closing) - (shortening if shortened else timedelta(0))
    open_wall = datetime.combine(day, opening)
    if close_wall <= open_wall:
        raise DomainError("calendar_invalid", f"Office hours on {day} close before they open")
    return open_wall.replace(tzinfo=tz), close_wall.replace(tzinfo=tz)
