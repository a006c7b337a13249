"""Working-time arithmetic against the handbook and the law, not against the holidays package.

Every expected date below was worked out by hand from the law "Par svētku, atceres un atzīmējamām
dienām", Labour Law §135 (one hour shorter before a public holiday) and the Cabinet's transfer orders
cited in sla/calendar_seed.py. No database is needed.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest

from agents.errors import DomainError
from sla.calendar import (
    DEFAULT_OFFICE_HOURS,
    RingCadence,
    RingVerdict,
    WorkingCalendar,
    add_working_days,
    add_working_days_in_python,
    add_working_time,
    due_from_basis,
    is_holiday,
    is_office_open,
    is_working_day,
    local_date,
    next_opening_at,
    office_hours_on,
    ring_count,
    ring_deadline_ms,
    ring_verdict,
    working_seconds_between,
)
from sla.calendar_seed import EXTRA_HOLIDAYS, TRANSFERRED_WORKING_DAYS, TransferredWorkingDay
from sla.holidays_lv import lv_calendar, lv_calendar_dates

pytestmark = pytest.mark.smoke

RIGA = ZoneInfo("Europe/Riga")
YEARS = range(2018, 2027)


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    # Through 2027 so that arrivals in late December 2026 have their deadlines inside the calendar.
    return lv_calendar(2018, 2027)


def riga(text: str) -> datetime:
    """A Riga wall-clock time such as '2024-09-10 10:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=RIGA)


def d(text: str) -> date:
    return date.fromisoformat(text)


# --- Which weekdays are not working days --------------------------------------------------------------

# Holidays by law that fall on a Monday to Friday, per year.
WEEKDAY_HOLIDAYS = {
    2018: "01-01 03-30 04-02 05-01 05-04 09-24 12-24 12-25 12-26 12-31",
    2019: "01-01 04-19 04-22 05-01 06-24 11-18 12-24 12-25 12-26 12-31",
    2020: "01-01 04-10 04-13 05-01 05-04 06-23 06-24 11-18 12-24 12-25 12-31",
    2021: "01-01 04-02 04-05 05-04 06-23 06-24 11-18 12-24 12-31",
    2022: "04-15 04-18 05-04 06-23 06-24 11-18 12-26",
    2023: "04-07 04-10 05-01 05-04 05-29 06-23 12-25 12-26",
    2024: "01-01 03-29 04-01 05-01 06-24 11-18 12-24 12-25 12-26 12-31",
    2025: "01-01 04-18 04-21 05-01 06-23 06-24 11-18 12-24 12-25 12-26 12-31",
    2026: "01-01 04-03 04-06 05-01 05-04 06-23 06-24 11-18 12-24 12-25 12-31",
}
# Days off that are not holidays: the weekend rule (4 May, 18 November, the festival's closing day)
# and the Cabinet's transferred days.
WEEKDAY_DAYS_OFF = {
    2018: "04-30 07-09 11-19",
    2019: "05-06",
    2020: "06-22",
    2021: "05-03 06-25 11-19",
    2022: "",
    2023: "05-05 07-10 11-20",
    2024: "05-06 12-23 12-30",
    2025: "05-02 05-05 11-17",
    2026: "01-02 06-22",
}


def _days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=k) for k in range((date(year + 1, 1, 1) - first).days)]


def _dates(year: int, table: dict[int, str]) -> set[date]:
    return {date.fromisoformat(f"{year}-{month_day}") for month_day in table[year].split()}


@pytest.mark.parametrize("day", sorted(day for year in YEARS for day in _dates(year, WEEKDAY_HOLIDAYS)))
def test_weekday_public_holiday_is_a_holiday_and_not_a_working_day(
    day: date, calendar: WorkingCalendar
) -> None:
    assert is_holiday(day, calendar)
    assert not is_working_day(day, calendar)
    assert office_hours_on(day, calendar) is None


@pytest.mark.parametrize("day", sorted(day for year in YEARS for day in _dates(year, WEEKDAY_DAYS_OFF)))
def test_weekday_day_off_is_not_a_working_day_but_not_a_holiday(day: date, calendar: WorkingCalendar) -> None:
    assert not is_holiday(day, calendar)
    assert not is_working_day(day, calendar)


@pytest.mark.parametrize("year", YEARS)
def test_non_working_weekdays_of_the_year_are_exactly_the_holidays_and_days_off(
    year: int, calendar: WorkingCalendar
) -> None:
    non_working = {day for day in _days_of(year) if day.weekday() < 5 and not is_working_day(day, calendar)}
    assert non_working == _dates(year, WEEKDAY_HOLIDAYS) | _dates(year, WEEKDAY_DAYS_OFF)


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (d("2018-04-01"), "Easter Sunday"),
        (d("2018-05-13"), "Mother's Day"),
        (d("2018-05-20"), "Whit Sunday"),
        (d("2018-06-23"), "Līgo on a Saturday"),
        (d("2018-07-08"), "Song and Dance Festival closing day"),
        (d("2018-11-18"), "Proclamation Day on a Sunday"),
        (d("2023-07-09"), "Song and Dance Festival closing day"),
        (d("2023-11-18"), "Proclamation Day on a Saturday"),
        (d("2025-05-04"), "Restoration of Independence Day on a Sunday"),
    ],
)
def test_weekend_holidays_are_holidays(day: date, name: str, calendar: WorkingCalendar) -> None:
    assert is_holiday(day, calendar), name


def test_an_ordinary_weekend_is_neither_working_nor_a_holiday(calendar: WorkingCalendar) -> None:
    assert not is_working_day(d("2024-09-14"), calendar)
    assert not is_holiday(d("2024-09-14"), calendar)


# --- Working Saturdays and office hours -------------------------------------------------------------

# (working Saturday, closing time): the replaced weekday's hours, shortened if the replaced weekday or
# the Saturday itself is the eve of a public holiday.
WORKING_SATURDAYS = [
    ("2018-04-21", "16:15"),  # for Mon 30 Apr, eve of 1 May
    ("2020-06-13", "16:15"),  # for Mon 22 Jun, eve of Līgo
    ("2021-05-08", "16:15"),  # for Mon 3 May, eve of 4 May (and itself the eve of Mother's Day)
    ("2021-06-19", "16:00"),  # for Fri 25 Jun
    ("2021-11-13", "16:00"),  # for Fri 19 Nov
    ("2023-05-20", "16:00"),  # for Fri 5 May
    ("2024-12-14", "16:15"),  # for Mon 23 Dec, eve of Christmas Eve
    ("2024-12-28", "16:15"),  # for Mon 30 Dec, eve of New Year's Eve
    ("2025-05-10", "15:00"),  # for Fri 2 May; itself the eve of Mother's Day (11 May)
    ("2025-11-08", "16:15"),  # for Mon 17 Nov, eve of 18 Nov
    ("2026-01-17", "16:00"),  # for Fri 2 Jan
    ("2026-06-27", "16:15"),  # for Mon 22 Jun, eve of Līgo
]


@pytest.mark.parametrize(("saturday", "closes"), WORKING_SATURDAYS)
def test_working_saturday_keeps_the_replaced_weekdays_hours(
    saturday: str, closes: str, calendar: WorkingCalendar
) -> None:
    day = d(saturday)
    assert is_working_day(day, calendar)
    assert not is_holiday(day, calendar)
    assert office_hours_on(day, calendar) == (riga(f"{saturday} 08:30"), riga(f"{saturday} {closes}"))


@pytest.mark.parametrize("year", YEARS)
def test_the_only_working_saturdays_are_the_cabinets(year: int, calendar: WorkingCalendar) -> None:
    worked = {day for day in _days_of(year) if day.weekday() == 5 and is_working_day(day, calendar)}
    assert worked == {d(saturday) for saturday, _ in WORKING_SATURDAYS if saturday.startswith(str(year))}


# Working weekdays whose next calendar day is a public holiday (Labour Law §135).
SHORTENED_WEEKDAYS = {
    2018: "03-29 05-03 06-22",
    2019: "04-18 04-30 05-03 12-23 12-30",
    2020: "04-09 04-30 11-17 12-23 12-30",
    2021: "04-01 04-30 06-22 11-17 12-23 12-30",
    2022: "04-14 05-03 06-22 11-17 12-23 12-30",
    2023: "04-06 05-03 06-22 11-17",
    2024: "03-28 04-30 05-03",
    2025: "04-17 04-30 12-23 12-30",
    2026: "04-02 04-30 11-17 12-23 12-30",
}


@pytest.mark.parametrize("day", sorted(day for year in YEARS for day in _dates(year, SHORTENED_WEEKDAYS)))
def test_working_day_before_a_public_holiday_closes_an_hour_early(
    day: date, calendar: WorkingCalendar
) -> None:
    closes = "15:00" if day.weekday() == 4 else "16:15"
    assert office_hours_on(day, calendar) == (riga(f"{day} 08:30"), riga(f"{day} {closes}"))


@pytest.mark.parametrize("year", YEARS)
def test_no_other_weekday_of_the_year_is_shortened(year: int, calendar: WorkingCalendar) -> None:
    shortened = set()
    for day in _days_of(year):
        hours = office_hours_on(day, calendar) if day.weekday() < 5 else None
        default = DEFAULT_OFFICE_HOURS[day.weekday()]
        if hours is not None and default is not None and hours[1].time() != default[1]:
            shortened.add(day)
    assert shortened == _dates(year, SHORTENED_WEEKDAYS)


def test_a_day_off_that_is_not_a_holiday_does_not_shorten_the_day_before() -> None:
    tuesday, wednesday = d("2024-09-10"), d("2024-09-11")
    with_day_off = WorkingCalendar.build(
        holidays=(), days_off=(wednesday,), working_saturdays={}, first_year=2024, last_year=2024
    )
    with_holiday = WorkingCalendar.build(
        holidays=(wednesday,), days_off=(), working_saturdays={}, first_year=2024, last_year=2024
    )
    assert office_hours_on(tuesday, with_day_off) == (riga("2024-09-10 08:30"), riga("2024-09-10 17:15"))
    assert office_hours_on(tuesday, with_holiday) == (riga("2024-09-10 08:30"), riga("2024-09-10 16:15"))


def test_build_takes_one_shot_iterables() -> None:
    calendar = WorkingCalendar.build(
        holidays=iter([d("2024-09-11")]),
        days_off=(day for day in [d("2024-09-12"), d("2024-09-13")]),
        working_saturdays={},
        first_year=2024,
        last_year=2024,
    )
    assert [is_working_day(d(f"2024-09-{day}"), calendar) for day in (10, 11, 12, 13, 16)] == [
        True,
        False,
        False,
        False,
        True,
    ]


# --- DST ------------------------------------------------------------------------------------------


# Riga moves clocks at 03:00 EET -> 04:00 EEST on the last Sunday of March, back on the last Sunday of
# October; 08:30-17:15 is +03:00 in summer and +02:00 in winter.
def _last_sunday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - 6) % 7)


DST_SUNDAYS = [str(_last_sunday(year, month)) for year in YEARS for month in (3, 10)]


@pytest.mark.parametrize("sunday", DST_SUNDAYS)
def test_office_hours_on_the_monday_after_a_clock_change_carry_the_new_offset(
    sunday: str, calendar: WorkingCalendar
) -> None:
    monday = d(sunday) + timedelta(days=1)
    if not is_working_day(monday, calendar):  # Easter Monday 2024
        monday += timedelta(days=1)
    opening, closing = office_hours_on(monday, calendar) or pytest.fail("no hours")
    offset = timedelta(hours=3 if d(sunday).month == 3 else 2)
    assert opening.utcoffset() == closing.utcoffset() == offset
    assert closing - opening == timedelta(hours=8, minutes=45)


DST_ARRIVALS = [
    # (arrival instant, working days, due instant), the instants written with explicit offsets.
    ("2018-03-24T23:30+02:00", 1, "2018-03-26T17:15+03:00"),  # Saturday night before spring forward
    ("2018-03-24T22:30Z", 1, "2018-03-26T17:15+03:00"),  # 00:30 Sunday local, still Saturday in UTC
    ("2018-03-25T20:30Z", 1, "2018-03-26T17:15+03:00"),  # 23:30 Sunday local (+03:00)
    ("2018-03-25T21:30Z", 1, "2018-03-27T17:15+03:00"),  # 00:30 Monday local: Monday is the basis
    ("2018-10-27T23:30+03:00", 1, "2018-10-29T17:15+02:00"),  # Saturday night before fall back
    ("2018-10-27T21:30Z", 1, "2018-10-29T17:15+02:00"),  # 00:30 Sunday local (+03:00)
    ("2018-10-28T21:30Z", 1, "2018-10-29T17:15+02:00"),  # 23:30 Sunday local (+02:00)
    ("2018-10-28T22:30Z", 1, "2018-10-30T17:15+02:00"),  # 00:30 Monday local
    ("2024-03-30T23:30+02:00", 1, "2024-04-02T17:15+03:00"),  # DST night, then Easter Monday
    ("2024-03-30T22:30Z", 2, "2024-04-03T17:15+03:00"),
    ("2025-10-25T23:30+03:00", 2, "2025-10-28T17:15+02:00"),
    ("2025-10-26T22:30Z", 1, "2025-10-28T17:15+02:00"),  # 00:30 Monday local after fall back
]


@pytest.mark.parametrize(("arrival", "working_days", "due"), DST_ARRIVALS)
def test_due_time_is_right_across_dst_nights(
    arrival: str, working_days: int, due: str, calendar: WorkingCalendar
) -> None:
    result = add_working_days(datetime.fromisoformat(arrival), working_days, calendar)
    assert result == datetime.fromisoformat(due)
    assert result.utcoffset() == datetime.fromisoformat(due).utcoffset()


@pytest.mark.parametrize("instant", [a for a, _, _ in DST_ARRIVALS])
def test_local_date_is_the_same_whatever_zone_the_instant_is_given_in(
    instant: str, calendar: WorkingCalendar
) -> None:
    at = datetime.fromisoformat(instant)
    expected = at.astimezone(RIGA).date()
    for zone in (UTC, RIGA, timezone(timedelta(hours=-5)), ZoneInfo("Asia/Kathmandu")):
        assert local_date(at.astimezone(zone), calendar) == expected


# --- Due times -------------------------------------------------------------------------------------

DUE_EXAMPLES = [
    # Handbook: Tuesday 10:00 or 20:00 -> Wednesday's close; Saturday -> Monday's close.
    ("2024-09-10 10:00", 1, "2024-09-11 17:15"),
    ("2024-09-10 20:00", 1, "2024-09-11 17:15"),
    ("2024-09-10 00:00", 1, "2024-09-11 17:15"),
    ("2024-09-14 11:00", 1, "2024-09-16 17:15"),
    ("2024-09-15 23:59", 1, "2024-09-16 17:15"),
    ("2024-09-10 10:00", 2, "2024-09-12 17:15"),  # EM-REPLY
    ("2024-09-12 10:00", 1, "2024-09-13 16:00"),  # Friday closes at 16:00
    ("2024-09-12 10:00", 2, "2024-09-16 17:15"),
    ("2024-03-28 10:00", 2, "2024-04-03 17:15"),  # skips Good Friday and Easter Monday
    ("2020-12-22 10:00", 1, "2020-12-23 16:15"),  # due on the eve of Christmas Eve
    ("2026-01-16 10:00", 1, "2026-01-17 16:00"),  # due on a working Saturday, Friday's hours
    ("2026-01-17 10:00", 1, "2026-01-19 17:15"),  # arrived on a working Saturday
    ("2026-06-19 10:00", 1, "2026-06-25 17:15"),  # Mon 22 Jun moved to Sat 27 Jun; Līgo, Jāņi
    ("2025-11-14 10:00", 1, "2025-11-19 17:15"),  # Mon 17 Nov moved, Tue 18 Nov holiday
    ("2019-05-03 10:00", 1, "2019-05-07 17:15"),  # 4 May on Saturday: Monday 6 May off
    # One-off holidays and the Song and Dance Festival.
    ("2018-09-21 10:00", 1, "2018-09-25 17:15"),  # Pope Francis' visit, Mon 24 Sep 2018
    ("2023-05-26 10:00", 1, "2023-05-30 17:15"),  # hockey bronze, Mon 29 May 2023
    ("2018-07-06 10:00", 1, "2018-07-10 17:15"),  # festival closed Sun 8 Jul, Mon 9 Jul off
    ("2023-07-07 10:00", 1, "2023-07-11 17:15"),  # festival closed Sun 9 Jul, Mon 10 Jul off
    ("2018-11-16 10:00", 1, "2018-11-20 17:15"),  # centenary: 18 Nov on Sunday, Mon 19 Nov off
]


@pytest.mark.parametrize(("arrival", "working_days", "due"), DUE_EXAMPLES)
def test_within_n_working_days_falls_due_at_the_close_of_the_nth_working_day_after_arrival(
    arrival: str, working_days: int, due: str, calendar: WorkingCalendar
) -> None:
    result = add_working_days(riga(arrival), working_days, calendar)
    assert result == riga(due)
    assert result.tzinfo is calendar.time_zone


@pytest.mark.parametrize(
    ("new_years_eve", "first", "second"),
    [
        ("2018-12-31", "2019-01-02 17:15", "2019-01-03 17:15"),
        ("2019-12-31", "2020-01-02 17:15", "2020-01-03 16:00"),
        ("2020-12-31", "2021-01-04 17:15", "2021-01-05 17:15"),
        ("2021-12-31", "2022-01-03 17:15", "2022-01-04 17:15"),
        ("2022-12-31", "2023-01-02 17:15", "2023-01-03 17:15"),
        ("2023-12-31", "2024-01-02 17:15", "2024-01-03 17:15"),
        ("2024-12-31", "2025-01-02 17:15", "2025-01-03 16:00"),
        ("2025-12-31", "2026-01-05 17:15", "2026-01-06 17:15"),  # Fri 2 Jan 2026 moved to 17 Jan
        ("2026-12-31", "2027-01-04 17:15", "2027-01-05 17:15"),
    ],
)
def test_new_years_eve_arrival_falls_due_in_the_new_year(
    new_years_eve: str, first: str, second: str, calendar: WorkingCalendar
) -> None:
    for moment in ("00:00", "12:00", "23:59:59.999999"):
        arrival = riga(f"{new_years_eve} {moment}")
        assert add_working_days(arrival, 1, calendar) == riga(first)
        assert add_working_days(arrival, 2, calendar) == riga(second)


@pytest.mark.parametrize(
    ("basis", "due"),
    [
        ("2024-09-11", "2024-09-11 17:15"),  # a working day: its own close
        ("2024-09-14", "2024-09-16 17:15"),  # Saturday: Monday's close
        ("2024-12-24", "2024-12-27 16:00"),  # Christmas Eve: Friday 27 Dec
        ("2024-12-23", "2024-12-27 16:00"),  # a transferred day off
        ("2024-12-14", "2024-12-14 16:15"),  # a working Saturday: its own (shortened) close
        ("2025-04-30", "2025-04-30 16:15"),  # eve of 1 May
    ],
)
def test_promised_date_falls_due_at_its_close_or_the_next_working_days(
    basis: str, due: str, calendar: WorkingCalendar
) -> None:
    assert due_from_basis(d(basis), 0, calendar) == riga(due)


@pytest.mark.parametrize("zone", [UTC, RIGA, timezone(timedelta(hours=5)), ZoneInfo("America/New_York")])
def test_add_working_days_is_due_from_basis_of_the_local_date(
    zone: tzinfo, calendar: WorkingCalendar
) -> None:
    rng = random.Random(20240910)
    start = datetime(2018, 1, 1, tzinfo=RIGA).timestamp()
    end = datetime(2026, 12, 31, tzinfo=RIGA).timestamp()
    for _ in range(2000):
        at = datetime.fromtimestamp(rng.uniform(start, end), zone)
        working_days = rng.randint(1, 12)  # beyond the precomputed 10 as well
        expected = due_from_basis(at.astimezone(RIGA).date(), working_days, calendar)
        assert add_working_days(at, working_days, calendar) == expected
        # Reference: step day by day.
        day, counted = at.astimezone(RIGA).date(), 0
        while counted < working_days:
            day += timedelta(days=1)
            counted += is_working_day(day, calendar)
        assert expected.date() == day


@pytest.mark.parametrize(
    ("arrival", "in_range"),
    [
        ("2017-12-31T21:59:59.999999Z", False),  # 23:59 on 31 Dec 2017 in Riga
        ("2017-12-31T22:00Z", True),  # midnight, 1 Jan 2018 in Riga
        ("2027-12-28T21:59Z", True),  # 23:59 Tue 28 Dec 2027: due Thu 30 Dec
        ("2027-12-29T22:00Z", False),  # 00:00 Thu 30 Dec 2027: due in 2028
    ],
)
def test_arrivals_at_the_edges_of_the_calendar_are_due_or_refused(
    arrival: str, in_range: bool, calendar: WorkingCalendar
) -> None:
    at = datetime.fromisoformat(arrival)
    for given in (at, at.astimezone(RIGA), at.astimezone(timezone(timedelta(hours=-3)))):
        if in_range:
            assert add_working_days(given, 2, calendar) == due_from_basis(
                local_date(given, calendar), 2, calendar
            )
        else:
            with pytest.raises(DomainError) as caught:
                add_working_days(given, 2, calendar)
            assert caught.value.code == "calendar_out_of_range"


def test_a_zone_with_off_the_hour_midnights_gives_the_same_answers() -> None:
    kathmandu = ZoneInfo("Asia/Kathmandu")  # UTC+05:45
    calendar = WorkingCalendar.build(
        holidays=(),
        days_off=(),
        working_saturdays={},
        time_zone="Asia/Kathmandu",
        first_year=2024,
        last_year=2024,
    )
    for hour in range(48):
        at = datetime(2024, 9, 12, tzinfo=UTC) + timedelta(hours=hour, minutes=30)
        assert local_date(at, calendar) == at.astimezone(kathmandu).date()
        expected = due_from_basis(at.astimezone(kathmandu).date(), 1, calendar)
        for given in (at, at.astimezone(kathmandu)):
            # The compiled hot path has no UTC tables for such a zone either: the general path answers.
            assert add_working_days(given, 1, calendar) == expected
            assert add_working_days_in_python(given, 1, calendar) == expected


# --- Office open, working seconds, working time ------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "is_open", "next_opening"),
    [
        ("2024-09-10 08:29:59", False, "2024-09-10 08:30"),
        ("2024-09-10 08:30", True, "2024-09-10 08:30"),
        ("2024-09-10 17:14:59", True, "2024-09-10 17:14:59"),
        ("2024-09-10 17:15", False, "2024-09-11 08:30"),
        ("2024-09-13 16:30", False, "2024-09-16 08:30"),  # Friday after 16:00
        ("2024-12-23 10:00", False, "2024-12-27 08:30"),  # transferred day off, then Christmas
        ("2024-12-14 12:00", True, "2024-12-14 12:00"),  # working Saturday
    ],
)
def test_office_is_open_within_hours_and_next_opening_follows(
    at: str, is_open: bool, next_opening: str, calendar: WorkingCalendar
) -> None:
    assert is_office_open(riga(at), calendar) is is_open
    assert next_opening_at(riga(at), calendar) == riga(next_opening)


@pytest.mark.parametrize(
    ("start", "end", "seconds"),
    [
        ("2024-09-10 09:00", "2024-09-10 11:30", 9000),
        ("2024-09-09 17:00", "2024-09-10 09:00", 15 * 60 + 30 * 60),
        ("2024-09-13 15:00", "2024-09-16 09:30", 2 * 3600),  # over a weekend
        ("2024-09-09 00:00", "2024-09-16 00:00", 4 * 31500 + 27000),  # a whole week
        ("2024-12-21 00:00", "2024-12-28 00:00", 27000),  # Christmas week: only Friday 27 Dec
        ("2024-09-14 10:00", "2024-09-15 10:00", 0),  # a weekend
        ("2024-09-10 11:30", "2024-09-10 09:00", 0),  # end before start
        ("2018-03-23 16:00", "2018-03-26 08:31", 60),  # over the spring-forward night
    ],
)
def test_working_seconds_count_only_office_hours(
    start: str, end: str, seconds: int, calendar: WorkingCalendar
) -> None:
    assert working_seconds_between(riga(start), riga(end), calendar) == seconds


@pytest.mark.parametrize(
    ("start", "amount", "instant"),
    [
        ("2024-09-13 15:00", timedelta(hours=2), "2024-09-16 09:30"),  # crosses a weekend
        ("2024-09-13 15:00", timedelta(hours=1), "2024-09-13 16:00"),  # ends exactly at the close
        ("2024-09-14 10:00", timedelta(hours=1), "2024-09-16 09:30"),  # starts on a Saturday
        ("2024-09-10 07:00", timedelta(minutes=30), "2024-09-10 09:00"),  # starts before opening
        ("2024-09-10 10:00", timedelta(0), "2024-09-10 10:00"),
        ("2024-12-20 15:00", timedelta(hours=2), "2024-12-27 09:30"),  # over Christmas
    ],
)
def test_working_time_elapses_only_in_office_hours(
    start: str, amount: timedelta, instant: str, calendar: WorkingCalendar
) -> None:
    assert add_working_time(riga(start), amount, calendar) == riga(instant)


def test_warning_points_split_the_reply_window_in_working_time(calendar: WorkingCalendar) -> None:
    arrived = riga("2024-09-10 10:00")
    due = add_working_days(arrived, 2, calendar)
    window = working_seconds_between(arrived, due, calendar)
    half = add_working_time(arrived, timedelta(seconds=window / 2), calendar)
    assert working_seconds_between(arrived, half, calendar) == window / 2
    assert add_working_time(arrived, timedelta(seconds=window), calendar) == due


# --- Errors and construction -------------------------------------------------------------------------


def test_queries_outside_the_covered_years_name_them(calendar: WorkingCalendar) -> None:
    with pytest.raises(DomainError) as caught:
        is_working_day(d("2017-12-29"), calendar)
    assert caught.value.code == "calendar_out_of_range"
    assert "2018" in caught.value.message
    assert "2027" in caught.value.message
    with pytest.raises(DomainError, match="2018"):
        add_working_days(riga("2028-01-03 10:00"), 1, calendar)
    with pytest.raises(DomainError) as due_caught:
        add_working_days(riga("2027-12-30 10:00"), 2, calendar)  # due in 2028
    assert due_caught.value.code == "calendar_out_of_range"


def test_naive_datetimes_are_refused(calendar: WorkingCalendar) -> None:
    with pytest.raises(DomainError) as caught:
        add_working_days(datetime(2024, 9, 10, 10), 1, calendar)  # noqa: DTZ001 — the point of the test
    assert caught.value.code == "naive_datetime"


def test_working_days_below_the_minimum_are_refused(calendar: WorkingCalendar) -> None:
    with pytest.raises(DomainError):
        add_working_days(riga("2024-09-10 10:00"), 0, calendar)
    with pytest.raises(DomainError):
        due_from_basis(d("2024-09-10"), -1, calendar)


def test_working_saturday_must_be_a_saturday() -> None:
    with pytest.raises(DomainError) as caught:
        WorkingCalendar.build(
            holidays=(),
            days_off=(),
            working_saturdays={d("2024-09-15"): d("2024-09-16")},
            first_year=2024,
            last_year=2024,
        )
    assert caught.value.code == "calendar_invalid"


def test_calendar_is_immutable(calendar: WorkingCalendar) -> None:
    with pytest.raises(AttributeError):
        calendar.first_year = 2000
    assert calendar.time_zone == RIGA
    assert (calendar.first_year, calendar.last_year) == (2018, 2027)


def test_custom_office_hours_and_zone_are_honoured() -> None:
    hours = {weekday: (time(9), time(17)) for weekday in range(5)} | {5: None, 6: None}
    tallinn = WorkingCalendar.build(
        holidays=(),
        days_off=(),
        working_saturdays={},
        office_hours=hours,
        time_zone="Europe/Tallinn",
        first_year=2024,
        last_year=2024,
    )
    assert due_from_basis(d("2024-09-13"), 1, tallinn) == datetime(
        2024, 9, 16, 17, tzinfo=ZoneInfo("Europe/Tallinn")
    )


# --- Seed data --------------------------------------------------------------------------------------


@pytest.mark.parametrize("transfer", TRANSFERRED_WORKING_DAYS, ids=lambda t: str(t.saturday))
def test_each_transfer_moves_a_weekday_to_a_saturday_of_the_same_month(
    transfer: TransferredWorkingDay,
) -> None:
    # Labour Law §133(4): to a Saturday of the same week or of another week of the same month.
    saturday, replaces = transfer.saturday, transfer.replaces
    assert saturday.weekday() == 5
    assert replaces.weekday() < 5
    assert (saturday.year, saturday.month) == (replaces.year, replaces.month)
    assert transfer.source


def test_package_transfers_are_not_counted_twice() -> None:
    # holidays 0.109 lists transferred days off among its holidays; the seed owns them.
    dates = lv_calendar_dates(2010, 2027)
    for transfer in TRANSFERRED_WORKING_DAYS:
        assert transfer.replaces not in dates.holidays
        assert transfer.replaces not in dates.days_off


def test_extra_holidays_are_the_festival_sundays() -> None:
    assert {(extra.day, extra.day.weekday()) for extra in EXTRA_HOLIDAYS} == {
        (d("2018-07-08"), 6),
        (d("2023-07-09"), 6),
    }


# --- Rings (PH-RING) --------------------------------------------------------------------------------


@pytest.mark.parametrize(("wait_ms", "rings"), [(0, 1), (4999, 1), (5000, 2), (14_999, 3), (15_000, 4)])
def test_ring_k_starts_every_five_seconds(wait_ms: int, rings: int) -> None:
    assert ring_count(wait_ms, RingCadence()) == rings


@pytest.mark.parametrize(
    ("wait_ms", "answered", "verdict"),
    [
        (0, True, RingVerdict.MET),
        (14_999, True, RingVerdict.MET),
        (15_000, True, RingVerdict.BREACHED),
        (0, False, RingVerdict.SHORT_ABANDON),
        (14_999, False, RingVerdict.SHORT_ABANDON),
        (15_000, False, RingVerdict.BREACHED),
        (60_000, False, RingVerdict.BREACHED),
    ],
)
def test_phone_is_picked_up_by_the_third_ring(wait_ms: int, answered: bool, verdict: RingVerdict) -> None:
    assert ring_verdict(wait_ms=wait_ms, answered=answered) is verdict


def test_ring_deadline_follows_the_cadence() -> None:
    assert ring_deadline_ms(3, RingCadence()) == 15_000
    assert ring_deadline_ms(2, RingCadence(on_ms=2000, off_ms=4000)) == 12_000
    assert ring_verdict(wait_ms=11_999, answered=True, max_rings=2, cadence=RingCadence(2000, 4000)) == "met"


def test_negative_wait_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        ring_verdict(wait_ms=-1, answered=True)
    assert caught.value.code == "negative_wait"
