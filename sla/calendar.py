"""Working-time arithmetic: working days, office hours, due times and ring counts.

Pure code (no ORM, no clock, no settings): aware datetimes in, aware datetimes out. The rules are the
handbook's "How deadlines are counted":

* A working day is a Monday to Friday that is neither a public holiday nor another day off, plus
  every Saturday the Cabinet made a working day.
* A working day whose next calendar day is a public holiday closes `pre_holiday_shortening` earlier
  (Labour Law §135). A day off that is not a holiday (the Monday after a weekend 4 May, a weekday whose
  work moved to a Saturday) does not shorten the day before it.
* A working Saturday keeps the office hours of the weekday it replaces, including that weekday's
  shortening; it is also shortened when its own next day is a public holiday (the Saturday before
  Mother's Day, as on 13 May 2017 and 10 May 2025). The shortening is applied once, never twice.
* "Within N working days" of something that arrived at T falls due at the close of office hours on the
  N-th working day after the local calendar date of T.

`WorkingCalendar.build` precomputes every table once: `add_working_days`, the hot path, answers with
subscripts into precomputed due times, and the other functions with a bisect at most; none converts
time zones or loops.
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from agents.errors import DomainError
from sla.calendar_tables import (
    EPOCH,
    ONE_US,
    OfficeHours,
    build_tables,
    check_working_saturdays,
    epoch_us,
    office_span,
    zone_named,
)
from sla.rings import RingCadence, RingVerdict, ring_count, ring_deadline_ms, ring_verdict

logger = logging.getLogger(__name__)

# The ring functions live in sla.rings; importing them from here keeps one entry point for callers.
__all__ = ["RingCadence", "RingVerdict", "ring_count", "ring_deadline_ms", "ring_verdict"]

# Weekday 0 = Monday … 6 = Sunday (date.weekday()). The handbook's PH-HOURS defaults.
DEFAULT_OFFICE_HOURS: OfficeHours = MappingProxyType(
    {
        0: (time(8, 30), time(17, 15)),
        1: (time(8, 30), time(17, 15)),
        2: (time(8, 30), time(17, 15)),
        3: (time(8, 30), time(17, 15)),
        4: (time(8, 30), time(16, 0)),
        5: None,
        6: None,
    }
)


class WorkingCalendar:
    """Immutable lookup tables for one time zone and a closed range of years; build with `build()`.

    Day index i counts local calendar days from 1 January of `first_year`. Working days are also
    numbered in order ("position"), and per-position tables hold each working day's opening and
    closing instant, so "the N-th working day after day i" is the position `_wd_through[i] + N - 1`.
    """

    __slots__ = (
        "_close_at",
        "_close_us",
        "_cum_us",
        "_day_start_ts",
        "_due_local",
        "_due_utc",
        "_first_ordinal",
        "_holidays",
        "_hot_path",
        "_n_days",
        "_open_at",
        "_open_us",
        "_utc",
        "_utc_cut_hour",
        "_utc_day_after",
        "_utc_day_before",
        "_utc_first_ordinal",
        "_wd_through",
        "_working",
        "first_year",
        "last_year",
        "time_zone",
    )

    first_year: int
    last_year: int
    time_zone: ZoneInfo
    # UTC timestamps (seconds) of each local day's midnight, plus the midnight after the last day.
    _day_start_ts: tuple[float, ...]
    _first_ordinal: int
    _n_days: int
    _holidays: frozenset[date]
    # Per day index: 1 if a working day, else 0.
    _working: bytes
    # Per day index: how many working days fall on or before that day.
    _wd_through: tuple[int, ...]
    # Per working-day position: aware opening/closing datetimes and the same as epoch microseconds.
    _open_at: tuple[datetime, ...]
    _close_at: tuple[datetime, ...]
    _open_us: tuple[int, ...]
    _close_us: tuple[int, ...]
    # Office microseconds in all working days before a position (one more entry than positions).
    _cum_us: tuple[int, ...]
    # Per UTC day j, counted from `_utc_first_ordinal` (about 1 January of `first_year`): the local day
    # index at 00:00 UTC (`_utc_day_before`), the UTC hour at which the next local day begins
    # (`_utc_cut_hour`; 0 if none does) and the local day index from then on (`_utc_day_after`); -1
    # past the range. So a UTC datetime, which is what the database returns, needs no timestamp() and
    # no bisect. `_utc` is datetime.UTC when these tables exist, NO_FAST_PATH for zones whose midnights are
    # not on a whole UTC hour.
    _utc: timezone
    _utc_first_ordinal: int
    _utc_cut_hour: tuple[int, ...]
    _utc_day_before: tuple[int, ...]
    _utc_day_after: tuple[int, ...]
    # The hot path's answers, precomputed for 1..PRECOMPUTED_WORKING_DAYS working days: the due time
    # per local date, keyed by its ordinal; and per UTC hour, per UTC day j (the cut hour resolved at
    # build). Both end where the range does, so that anything outside is a KeyError or IndexError.
    _due_local: dict[int, dict[int, datetime]]
    _due_utc: dict[int, tuple[tuple[datetime, ...], ...]]
    # The same answers as read by the compiled hot path (sla/_calendar_fast.c); see build_tables.
    _hot_path: tuple[
        timezone,
        int,
        dict[int, tuple[tuple[datetime, ...], ...]],
        ZoneInfo,
        int,
        dict[int, tuple[datetime, ...]],
    ]

    def __init__(self, **tables: Any) -> None:
        for name in self.__slots__:
            object.__setattr__(self, name, tables[name])

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("WorkingCalendar is immutable; build a new one instead")

    def __repr__(self) -> str:
        return f"<WorkingCalendar {self.time_zone.key} {self.first_year}–{self.last_year}>"

    @classmethod
    def build(
        cls,
        *,
        holidays: Iterable[date],
        days_off: Iterable[date],
        working_saturdays: Mapping[date, date],
        office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
        time_zone: str = "Europe/Riga",
        first_year: int,
        last_year: int,
        pre_holiday_shortening: timedelta = timedelta(hours=1),
    ) -> WorkingCalendar:
        """Precompute the tables for [first_year, last_year].

        `holidays` are public holidays (they shorten the day before); `days_off` are other days off
        (they do not); `working_saturdays` maps each worked Saturday to the weekday it replaces, which
        is a day off whether or not `days_off` lists it.
        """
        if first_year > last_year:
            raise DomainError("calendar_invalid", f"first_year {first_year} is after last_year {last_year}")
        tz = zone_named(time_zone)
        holiday_set = frozenset(holidays)
        saturdays = dict(working_saturdays)
        check_working_saturdays(saturdays, holiday_set)
        off_set = frozenset(days_off) | frozenset(saturdays.values())
        first_day = date(first_year, 1, 1)
        days = [first_day + timedelta(days=k) for k in range((date(last_year, 12, 31) - first_day).days + 1)]
        spans = [
            office_span(
                day,
                saturdays=saturdays,
                days_off=off_set,
                holidays=holiday_set,
                office_hours=office_hours,
                shortening=pre_holiday_shortening,
                tz=tz,
            )
            for day in days
        ]
        return cls(
            first_year=first_year,
            last_year=last_year,
            time_zone=tz,
            _holidays=holiday_set,
            _first_ordinal=first_day.toordinal(),
            _n_days=len(days),
            **build_tables(days, spans, tz),
        )


def _out_of_range(calendar: WorkingCalendar, what: object) -> DomainError:
    return DomainError(
        "calendar_out_of_range",
        f"The working calendar covers {calendar.first_year}–{calendar.last_year}; {what} is outside it",
    )


def _naive(at: datetime) -> DomainError:
    return DomainError("naive_datetime", f"{at.isoformat()} has no time zone; pass an aware datetime")


def _day_index(at: datetime, calendar: WorkingCalendar) -> int:
    """Index of the local calendar day containing the instant `at`, without a tz conversion.

    Three ways, fastest first: a datetime already in the calendar's zone carries its local date; a UTC
    datetime is looked up by its UTC day and hour; anything else is bisected by its timestamp.
    """
    tz = at.tzinfo
    if tz is calendar.time_zone:
        i = at.toordinal() - calendar._first_ordinal
    else:
        i = _utc_day_lookup(at, calendar) if tz is calendar._utc else -1
        if i < 0:  # not UTC, or outside the UTC tables (which start an hour or two into the range)
            if tz is None or at.utcoffset() is None:
                raise _naive(at)
            i = bisect_right(calendar._day_start_ts, at.timestamp()) - 1
    if i < 0 or i >= calendar._n_days:
        raise _out_of_range(calendar, at.isoformat())
    return i


def _utc_day_lookup(at: datetime, calendar: WorkingCalendar) -> int:
    j = at.toordinal() - calendar._utc_first_ordinal
    if not 0 <= j < len(calendar._utc_cut_hour):
        return -1
    return calendar._utc_day_after[j] if at.hour >= calendar._utc_cut_hour[j] else calendar._utc_day_before[j]


def _date_index(day: date, calendar: WorkingCalendar) -> int:
    i = day.toordinal() - calendar._first_ordinal
    if i < 0 or i >= calendar._n_days:
        raise _out_of_range(calendar, day)
    return i


def _close_of(calendar: WorkingCalendar, i: int, working_days: int) -> datetime:
    """Close of the `working_days`-th working day after day index i (0: day i itself, or the next one)."""
    if working_days > 0:
        position = calendar._wd_through[i] + working_days - 1
    elif working_days == 0:
        # If day i is working its own position is _wd_through[i] - 1; otherwise the next working day's.
        position = calendar._wd_through[i] - calendar._working[i]
    else:
        raise DomainError("negative_working_days", f"working_days must not be negative, got {working_days}")
    closes = calendar._close_at
    if position >= len(closes):
        raise _out_of_range(calendar, "the due date")
    return closes[position]


def local_date(at: datetime, calendar: WorkingCalendar) -> date:
    """The calendar-time-zone date of the aware instant `at`."""
    return date.fromordinal(calendar._first_ordinal + _day_index(at, calendar))


def is_working_day(day: date, calendar: WorkingCalendar) -> bool:
    return bool(calendar._working[_date_index(day, calendar)])


def is_holiday(day: date, calendar: WorkingCalendar) -> bool:
    """A public holiday by law (not merely a day off)."""
    _date_index(day, calendar)
    return day in calendar._holidays


def office_hours_on(day: date, calendar: WorkingCalendar) -> tuple[datetime, datetime] | None:
    """Opening and closing instants of `day` in the calendar's zone, or None on a non-working day."""
    i = _date_index(day, calendar)
    if not calendar._working[i]:
        return None
    position = calendar._wd_through[i] - 1
    return calendar._open_at[position], calendar._close_at[position]


def due_from_basis(basis_on: date, working_days: int, calendar: WorkingCalendar) -> datetime:
    """Close of office hours on the N-th working day after `basis_on`.

    N = 0 means the close of `basis_on` itself if it is a working day, else of the next working day
    (a promised date that falls on a weekend is due at the next working day's close).
    """
    return _close_of(calendar, _date_index(basis_on, calendar), working_days)


def add_working_days_in_python(
    start_at: datetime, working_days: int, calendar: WorkingCalendar, /
) -> datetime:
    """Due time of "within N working days" (N >= 1) for something that arrived at `start_at`.

    Same as `due_from_basis(local_date(start_at), N)`: the arrival's time of day does not matter, so a
    Tuesday 10:00 and a Tuesday 20:00 arrival are both due at Wednesday's close for N = 1.

    `add_working_days` is this function, or its compiled twin (sla/_calendar_fast.c) where that is built.
    """
    # The hot path (every clock, every sweep): two or three subscripts into precomputed answers and
    # nothing else, since every attribute read here is a measurable share of the call. UTC (what the
    # database returns) is tested first. A miss of any kind (an N outside the tables, an instant outside
    # them, another zone) takes the general path, which also raises the errors. try/except costs
    # nothing when nothing is raised.
    tz = start_at.tzinfo
    try:
        if tz is calendar._utc:
            j = start_at.toordinal() - calendar._utc_first_ordinal
            if j >= 0:  # a negative index would wrap around
                return calendar._due_utc[working_days][start_at.hour][j]
        elif tz is calendar.time_zone:
            return calendar._due_local[working_days][start_at.toordinal()]
    except (IndexError, KeyError):
        pass
    return _add_working_days_generally(start_at, working_days, calendar)


def _add_working_days_generally(start_at: datetime, working_days: int, calendar: WorkingCalendar) -> datetime:
    if working_days < 1:
        raise DomainError("invalid_working_days", f"working_days must be at least 1, got {working_days}")
    return _close_of(calendar, _day_index(start_at, calendar), working_days)


def _compiled_add_working_days() -> Callable[[datetime, int, WorkingCalendar], datetime] | None:
    """The compiled twin of `add_working_days_in_python`, or None where it has not been built.

    It answers from the same tables, about three times faster, and hands whatever they do not answer
    (and so every error) to `add_working_days_in_python` itself.
    """
    try:
        from sla import _calendar_fast  # noqa: PLC0415 — optional: built by scripts/start and scripts/test
    except ImportError:
        return None
    if not hasattr(_calendar_fast, "set_fallback"):  # built from an older sla/_calendar_fast.c
        logger.warning("sla/_calendar_fast is out of date (rebuild: python setup.py build_ext --inplace)")
        return None
    _calendar_fast.set_fallback(add_working_days_in_python)
    return _calendar_fast.add_working_days


# Every caller, clocks and sweeps and recomputes, goes through this name.
add_working_days = _compiled_add_working_days() or add_working_days_in_python
ACCELERATED = add_working_days is not add_working_days_in_python


def is_office_open(at: datetime, calendar: WorkingCalendar) -> bool:
    """Whether `at` is within office hours (opening inclusive, closing exclusive)."""
    i = _day_index(at, calendar)
    if not calendar._working[i]:
        return False
    position = calendar._wd_through[i] - 1
    t = epoch_us(at)
    return calendar._open_us[position] <= t < calendar._close_us[position]


def next_opening_at(at: datetime, calendar: WorkingCalendar) -> datetime:
    """`at` itself if the office is open then, else the next opening instant."""
    i = _day_index(at, calendar)
    position = calendar._wd_through[i]  # the first working day after day i
    if calendar._working[i]:
        t = epoch_us(at)
        today = position - 1
        if t < calendar._open_us[today]:
            return calendar._open_at[today]
        if t < calendar._close_us[today]:
            return at
    if position >= len(calendar._open_at):
        raise _out_of_range(calendar, "the next opening")
    return calendar._open_at[position]


def _worked_us_before(at: datetime, calendar: WorkingCalendar) -> int:
    """Office microseconds from the start of the calendar up to the instant `at`."""
    i = _day_index(at, calendar)
    through = calendar._wd_through[i]
    if not calendar._working[i]:
        return calendar._cum_us[through]
    position = through - 1
    opening = calendar._open_us[position]
    length = calendar._close_us[position] - opening
    return calendar._cum_us[position] + min(max(epoch_us(at) - opening, 0), length)


def working_seconds_between(start_at: datetime, end_at: datetime, calendar: WorkingCalendar) -> float:
    """Office-hours seconds between two instants; 0.0 when `end_at` is not after `start_at`."""
    worked = _worked_us_before(end_at, calendar) - _worked_us_before(start_at, calendar)
    return max(worked, 0) / 1_000_000


def add_working_time(start_at: datetime, amount: timedelta, calendar: WorkingCalendar) -> datetime:
    """The instant at which `amount` of office time has elapsed since `start_at`.

    An amount that ends exactly at a closing time gives that closing time, not the next opening.
    """
    if amount < timedelta(0):
        raise DomainError("negative_amount", f"amount must not be negative, got {amount}")
    worked = _worked_us_before(start_at, calendar)
    if not amount:
        return start_at.astimezone(calendar.time_zone)
    target = worked + amount // ONE_US
    cum = calendar._cum_us
    position = bisect_left(cum, target) - 1  # the working day in which the target is reached
    if position >= len(calendar._open_us):
        raise _out_of_range(calendar, "the end of that working time")
    instant_us = calendar._open_us[position] + target - cum[position]
    return (EPOCH + timedelta(microseconds=instant_us)).astimezone(calendar.time_zone)


# --- Rings (PH-RING) -------------------------------------------------------------------------------
