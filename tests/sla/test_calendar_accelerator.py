"""The compiled hot path (sla/_calendar_fast.c) gives the Python version's answers and errors, exactly.

tests/sla/test_calendar.py checks the answers against the law through `add_working_days`, which is the
compiled function where it is built; these tests hold it to `add_working_days_in_python` on every hour
of the calendar and on every odd input we could think of.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator
from copy import copy
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agents.errors import DomainError
from sla.calendar import (
    ACCELERATED,
    WorkingCalendar,
    add_working_days,
    add_working_days_in_python,
)
from sla.holidays_lv import lv_calendar

pytestmark = pytest.mark.smoke

RIGA = ZoneInfo("Europe/Riga")
# Inside the tables (1..10), at the edge of them, and beyond (the general path).
WORKING_DAYS = (1, 2, 7, 10, 11)


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return lv_calendar(2018, 2027)


def outcome(function: Callable[..., Any], *args: Any) -> object:
    """What a call returns, or the error it raises as (type, DomainError code, message)."""
    try:
        return function(*args)
    except Exception as error:  # the error is the outcome being compared
        return type(error), getattr(error, "code", None), str(error)


def hours_around(calendar: WorkingCalendar) -> Iterator[datetime]:
    """Every UTC hour from a day before the calendar to a day after it, at its first and last instant."""
    at = datetime(calendar.first_year - 1, 12, 30, tzinfo=UTC)
    end = datetime(calendar.last_year + 1, 1, 2, tzinfo=UTC)
    last_instant = timedelta(minutes=59, seconds=59, microseconds=999_999)
    while at < end:
        yield at
        yield at + last_instant
        at += timedelta(hours=1)


def test_the_compiled_hot_path_is_built() -> None:
    # scripts/start and scripts/test build it; a machine without a C compiler runs the Python version.
    assert ACCELERATED, "sla/_calendar_fast.c is not built: run  python setup.py build_ext --inplace"
    assert add_working_days is not add_working_days_in_python


@pytest.mark.parametrize("zone", [UTC, RIGA], ids=["UTC", "Riga"])
def test_every_hour_of_the_calendar_gets_the_same_answer(
    zone: timezone | ZoneInfo, calendar: WorkingCalendar
) -> None:
    compared = 0
    for instant in hours_around(calendar):
        at = instant.astimezone(zone)
        for working_days in WORKING_DAYS:
            assert outcome(add_working_days, at, working_days, calendar) == outcome(
                add_working_days_in_python, at, working_days, calendar
            ), (at, working_days)
            compared += 1
    assert compared > 2 * 24 * 365 * 10 * len(WORKING_DAYS)


class FixedNow(datetime):
    """A datetime subclass: the compiled path leaves subclasses to the general path."""


@pytest.mark.parametrize(
    ("start_at", "working_days"),
    [
        pytest.param(datetime(2024, 9, 10, 10, 0), 2, id="naive datetime"),  # noqa: DTZ001 — on purpose
        pytest.param(date(2024, 9, 10), 2, id="a date"),
        pytest.param("2024-09-10T10:00Z", 2, id="a string"),
        pytest.param(None, 2, id="None"),
        pytest.param(FixedNow(2024, 9, 10, 10, 0, tzinfo=UTC), 2, id="datetime subclass"),
        pytest.param(datetime(2024, 9, 10, 10, 0, tzinfo=timezone(timedelta(0))), 2, id="another UTC object"),
        pytest.param(datetime(2024, 9, 10, 23, 30, tzinfo=timezone(timedelta(hours=5))), 2, id="UTC+5"),
        pytest.param(datetime(2024, 9, 10, 20, 0, tzinfo=ZoneInfo("America/New_York")), 2, id="New York"),
        pytest.param(datetime(2024, 9, 10, 23, 30, tzinfo=ZoneInfo("Europe/Helsinki")), 2, id="Helsinki"),
        pytest.param(datetime(2024, 9, 10, 10, 0, tzinfo=UTC), 0, id="N=0"),
        pytest.param(datetime(2024, 9, 10, 10, 0, tzinfo=UTC), -1, id="N=-1"),
        pytest.param(datetime(2024, 9, 10, 10, 0, tzinfo=UTC), 10_000, id="N past the calendar"),
        pytest.param(datetime(2024, 9, 10, 10, 0, tzinfo=UTC), True, id="N=True"),
        pytest.param(datetime(2024, 9, 10, 10, 0, tzinfo=RIGA), 2.0, id="N=2.0"),
        pytest.param(datetime(2024, 9, 10, 10, 0, tzinfo=UTC), "2", id="N a string"),
        pytest.param(datetime(2024, 9, 10, 10, 0, tzinfo=UTC), None, id="N None"),
        pytest.param(datetime(2024, 9, 10, 10, 0, tzinfo=UTC), [2], id="N unhashable"),
        pytest.param(datetime(1, 1, 1, tzinfo=UTC), 2, id="year 1"),
        pytest.param(datetime(9999, 12, 31, 23, tzinfo=UTC), 2, id="year 9999"),
        pytest.param(datetime(2016, 2, 29, 12, tzinfo=RIGA), 2, id="leap day before the calendar"),
        pytest.param(date(2024, 9, 10), 0, id="a date and N=0"),
        pytest.param(None, 0, id="None and N=0"),
        pytest.param(FixedNow(2024, 9, 10, tzinfo=UTC), [2], id="datetime subclass, N unhashable"),
        pytest.param(datetime(2017, 12, 31, 12, tzinfo=UTC), [2], id="before the UTC tables, N unhashable"),
        pytest.param(datetime(2017, 12, 31, 12, tzinfo=RIGA), [2], id="before the calendar, N unhashable"),
    ],
)
def test_odd_inputs_get_the_same_answer_or_error(
    start_at: object, working_days: object, calendar: WorkingCalendar
) -> None:
    compiled = outcome(add_working_days, start_at, working_days, calendar)
    assert compiled == outcome(add_working_days_in_python, start_at, working_days, calendar)


def test_the_errors_of_bad_input_are_the_domain_errors_users_see(calendar: WorkingCalendar) -> None:
    with pytest.raises(DomainError) as naive:
        add_working_days(datetime(2024, 9, 10, 10, 0), 2, calendar)  # noqa: DTZ001 — naive on purpose
    assert naive.value.code == "naive_datetime"
    with pytest.raises(DomainError) as out_of_range:
        add_working_days(datetime(2030, 1, 1, tzinfo=UTC), 2, calendar)
    assert out_of_range.value.code == "calendar_out_of_range"
    with pytest.raises(DomainError) as zero:
        add_working_days(datetime(2024, 9, 10, tzinfo=UTC), 0, calendar)
    assert zero.value.code == "invalid_working_days"


@pytest.mark.parametrize(
    "args",
    [
        pytest.param((datetime(2024, 9, 10, tzinfo=UTC), 2), id="two arguments"),
        pytest.param((datetime(2024, 9, 10, tzinfo=UTC), 2, None, None), id="four arguments"),
        pytest.param((datetime(2024, 9, 10, tzinfo=UTC), 2, object()), id="not a calendar"),
        pytest.param((datetime(2024, 9, 10, tzinfo=UTC), 2, None), id="calendar None"),
        pytest.param((datetime(2024, 9, 10, tzinfo=UTC), 0, None), id="calendar None and N=0"),
    ],
)
def test_wrong_arguments_raise_the_same_error(args: tuple[object, ...]) -> None:
    compiled = outcome(add_working_days, *args)
    assert isinstance(compiled, tuple)  # an error
    assert compiled == outcome(add_working_days_in_python, *args)


def test_keyword_arguments_are_refused_by_both(calendar: WorkingCalendar) -> None:
    at = datetime(2024, 9, 10, tzinfo=UTC)
    for function in (add_working_days, add_working_days_in_python):
        call: Any = function  # keywords are the point of the test, and the signature forbids them
        with pytest.raises(TypeError):
            call(start_at=at, working_days=2, calendar=calendar)


def test_no_references_are_leaked_or_lost(calendar: WorkingCalendar) -> None:
    # A missing decref leaks every due time and table a sweep touches; an extra one frees them under us.
    utc_at = datetime(2024, 9, 10, 10, 0, tzinfo=UTC)
    riga_at = utc_at.astimezone(RIGA)
    due = add_working_days(utc_at, 2, calendar)
    tables = calendar._hot_path
    before = sys.getrefcount(due), sys.getrefcount(tables)
    for _ in range(10_000):
        add_working_days(utc_at, 2, calendar)
        add_working_days(riga_at, 2, calendar)
        add_working_days(utc_at, 11, calendar)  # the general path
    assert (sys.getrefcount(due), sys.getrefcount(tables)) == before


class FreshTables:
    """A calendar whose tables are built anew on every read, so that they are the due time's only owner
    while the compiled path holds them (a WorkingCalendar's slot keeps them alive)."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar

    @property
    def _hot_path(self) -> tuple[object, ...]:
        utc, first_utc, due_utc, zone, first_local, due_local = self.calendar._hot_path
        fresh = {
            n: tuple(tuple(copy(due) for due in column) for column in by_hour)
            for n, by_hour in due_utc.items()
        }
        return utc, first_utc, fresh, zone, first_local, due_local


def test_a_due_time_outlives_tables_built_for_one_call(calendar: WorkingCalendar) -> None:
    at = datetime(2024, 9, 10, 10, 0, tzinfo=UTC)
    fresh: Any = FreshTables(calendar)
    due = add_working_days(at, 2, fresh)
    gc.collect()
    assert due == add_working_days(at, 2, calendar) == datetime(2024, 9, 12, 17, 15, tzinfo=RIGA)
