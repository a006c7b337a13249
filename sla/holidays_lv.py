"""Latvian public holidays and other days off, from the `holidays` package (pinned 0.109).

What `holidays.country_holidays("LV", ...)` 0.109 actually returns, and what we do with it:

* Statutory holidays of the law "Par svētku, atceres un atzīmējamām dienām", including those that are
  always Sundays (Easter Sunday, Mother's Day, Whit Sunday). Kept as public holidays.
* The weekend rule for 4 May and 18 November (the next working day is a day off) as "observed" entries
  labelled "… (brīvdiena)" (e.g. Mon 19 Nov 2018, Mon 6 May 2024). These are days off, not holidays:
  they must not shorten the day before, so they go to `days_off`. Found as the dates that disappear
  with `observed=False`.
* The Cabinet's transferred days, mixed into the same dict as ordinary entries "Brīvdiena (pārcelta no
  DD.MM.YYYY)" (e.g. Mon 30 Apr 2018, Fri 2 Jan 2026). The worked Saturdays are not entries at all; they
  only appear in the object's `weekend_workdays`. `sla.calendar_seed` owns the transfers (with their
  Cabinet orders and their Saturdays), so the package's copies are dropped here, identified from the
  package's own `LatviaStaticHolidays.special_public_holidays` table (4-tuples), not by their names.
* The Song and Dance Festival: only the Monday after the Sunday closing day (Mon 9 Jul 2018,
  Mon 10 Jul 2023), under the festival's own name. By law the closing day (the Sunday) is the holiday
  and that Monday is a day off; we move the Monday to `days_off`, and `calendar_seed.EXTRA_HOLIDAYS`
  supplies the Sundays.
* One-off holidays by law: Mon 24 Sep 2018 (Pope Francis' visit) and Mon 29 May 2023 (hockey bronze)
  are present and correct; kept as holidays.
* Names follow the process locale unless `language` is given: under LANG=C.UTF-8 they came back in
  English. We always ask for `language="lv"`.
* No transfers for 2027 yet, as in `calendar_seed`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

import holidays
from holidays.countries.latvia import LatviaStaticHolidays

from sla.calendar import WorkingCalendar
from sla.calendar_seed import EXTRA_HOLIDAYS, TRANSFERRED_WORKING_DAYS

_TRANSFER_FIELDS = 4  # (to_month, to_day, from_month, from_day[, from_year]) in the package's table


@dataclass(frozen=True)
class LatvianDates:
    """Public holidays (they shorten the day before) and other days off (they do not), with names."""

    holidays: Mapping[date, str]
    days_off: Mapping[date, str]


def _special_entries(year: int) -> list[tuple[Any, ...]]:
    entries: tuple[Any, ...] = LatviaStaticHolidays.special_public_holidays.get(year, ())
    # The package stores one entry as a bare tuple and several as a tuple of tuples.
    if entries and not isinstance(entries[0], tuple):
        return [entries]
    return list(entries)


def _package_special_days(years: range) -> tuple[frozenset[date], frozenset[date]]:
    """(transferred days off, festival Mondays) as listed in the package's static table."""
    transferred: set[date] = set()
    festival_mondays: set[date] = set()
    festival = LatviaStaticHolidays.song_and_dance_festival_final_day
    for year in years:
        for entry in _special_entries(year):
            month, day = entry[0], entry[1]
            if len(entry) >= _TRANSFER_FIELDS:
                transferred.add(date(year, month, day))
            elif entry[2] == festival:
                festival_mondays.add(date(year, month, day))
    return frozenset(transferred), frozenset(festival_mondays)


def lv_calendar_dates(first_year: int, last_year: int) -> LatvianDates:
    """Holidays and days off for [first_year, last_year] from the package, without Cabinet transfers."""
    years = range(first_year, last_year + 1)
    everything = holidays.country_holidays("LV", years=years, language="lv")
    without_observed = holidays.country_holidays("LV", years=years, language="lv", observed=False)
    transferred, festival_mondays = _package_special_days(years)
    public: dict[date, str] = {}
    days_off: dict[date, str] = {}
    for day, name in sorted(everything.items()):
        if day in transferred:
            continue  # calendar_seed owns transfers, with their Saturdays
        if day in festival_mondays:
            days_off[day] = f"{name} (brīvdiena)"  # named like the package's observed days
        elif day not in without_observed:
            days_off[day] = name
        else:
            public[day] = name
    return LatvianDates(holidays=MappingProxyType(public), days_off=MappingProxyType(days_off))


def seed_working_saturdays(first_year: int, last_year: int) -> dict[date, date]:
    """The seeded Cabinet transfers whose Saturday falls in [first_year, last_year]."""
    return {
        transfer.saturday: transfer.replaces
        for transfer in TRANSFERRED_WORKING_DAYS
        if first_year <= transfer.saturday.year <= last_year
    }


def lv_calendar(
    first_year: int,
    last_year: int,
    *,
    extra_holidays: Iterable[date] = (),
    extra_days_off: Iterable[date] = (),
    working_saturdays: Mapping[date, date] | None = None,
) -> WorkingCalendar:
    """A Riga working calendar from the package plus `calendar_seed`, without the database.

    `working_saturdays` replaces the seeded transfers when given; either way each replaced weekday
    becomes a day off.
    """
    dates = lv_calendar_dates(first_year, last_year)
    saturdays = (
        seed_working_saturdays(first_year, last_year) if working_saturdays is None else working_saturdays
    )
    return WorkingCalendar.build(
        holidays={*dates.holidays, *(extra.day for extra in EXTRA_HOLIDAYS), *extra_holidays},
        days_off={*dates.days_off, *saturdays.values(), *extra_days_off},
        working_saturdays=saturdays,
        first_year=first_year,
        last_year=last_year,
    )
