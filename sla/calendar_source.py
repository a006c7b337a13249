"""The working calendar as configured: the `holidays` package plus the admin's overrides and office hours.

Built once per process and rebuilt when a CalendarChange newer than the cached one appears, so every
process (web, worker, adapters) sees an edit on its next use without a restart.
"""

from __future__ import annotations

import threading
from datetime import date

from django.conf import settings
from django.utils import timezone

from sla.calendar import DEFAULT_OFFICE_HOURS, WorkingCalendar
from sla.holidays_lv import lv_calendar_dates
from sla.models import CalendarChange, CalendarOverride, OfficeHours, OverrideKind

# Wide enough for every arrival the product meets and every deadline after it (MK399 goes back years).
FIRST_YEAR = 2010
YEARS_AHEAD = 10

_lock = threading.Lock()
_cache: dict[str, object] = {}


def _calendar_version() -> tuple[object, ...]:
    # Id and time together: a rolled-back change can free an id (SQLite) that a later change reuses.
    latest = CalendarChange.objects.order_by("-id").values_list("id", "changed_at").first()
    return latest or ()


def calendar_build_from_database(*, first_year: int, last_year: int) -> WorkingCalendar:
    """Assemble the calendar: package holidays, then the overrides (which win), then office hours."""
    dates = lv_calendar_dates(first_year, last_year)
    holidays = set(dates.holidays)
    days_off = set(dates.days_off)
    working_saturdays: dict[date, date] = {}
    for override in CalendarOverride.objects.all():
        if override.kind == OverrideKind.HOLIDAY:
            holidays.add(override.day)
        elif override.kind == OverrideKind.DAY_OFF:
            days_off.add(override.day)
        elif override.replaces is not None:
            working_saturdays[override.day] = override.replaces
            days_off.add(override.replaces)
    hours_rows = list(OfficeHours.objects.all())
    office_hours = (
        dict.fromkeys(range(7)) | {row.weekday: (row.opens_at, row.closes_at) for row in hours_rows}
        if hours_rows
        else DEFAULT_OFFICE_HOURS
    )
    return WorkingCalendar.build(
        holidays=holidays,
        days_off=days_off - holidays,
        working_saturdays=working_saturdays,
        office_hours=office_hours,
        time_zone=settings.TIME_ZONE,
        first_year=first_year,
        last_year=last_year,
    )


def current_calendar() -> WorkingCalendar:
    """The calendar in force now (one cheap query to notice edits made by other processes)."""
    version = _calendar_version()
    last_year = timezone.localdate().year + YEARS_AHEAD
    with _lock:
        cached = _cache.get("calendar")
        if cached is not None and _cache.get("version") == version and _cache.get("last_year") == last_year:
            return cached  # type: ignore[return-value]
        calendar = calendar_build_from_database(first_year=FIRST_YEAR, last_year=last_year)
        _cache.update(calendar=calendar, version=version, last_year=last_year)
        return calendar


def calendar_forget() -> None:
    """Drop the cached calendar (tests that edit rows directly, and after migrations)."""
    with _lock:
        _cache.clear()
