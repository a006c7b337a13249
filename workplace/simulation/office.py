"""``--open-line``: a demo outside office hours. The line answers only in office hours (PH-HOURS), so in
the evening every simulated caller would hear the closed-hours announcement. With the flag, today's
weekday gets office hours 00:00 to 23:59:59 through the calendar service (the edit is logged as a
CalendarChange and moves the clocks it affects, like an admin's edit), and the previous hours are put
back the same way when the simulation ends. The call handlers re-read the calendar every 30 s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from django.utils import timezone

from sla.calendar import is_office_open
from sla.calendar_source import FIRST_YEAR, YEARS_AHEAD, calendar_build_from_database, current_calendar
from sla.models import OfficeHours
from sla.services import office_hours_set

HANDLERS_REREAD_S = 32.0  # telephony.worker's settings refresh (30 s) and a margin


@dataclass(frozen=True)
class OpenedDay:
    weekday: int
    previous: tuple[time, time] | None  # None: the weekday had no office hours


def line_open_today(at: datetime) -> OpenedDay | None:
    """Open today's weekday around the clock if the office is closed at ``at``; what to put back.

    None when it is open already. Raises ValueError when hours cannot open today (a public holiday or
    day off: those have no office hours whatever the weekday's are).
    """
    if is_office_open(at, current_calendar()):
        return None
    weekday = timezone.localtime(at).weekday()
    row = OfficeHours.objects.filter(weekday=weekday).first()
    if row is None and not OfficeHours.objects.exists():
        raise ValueError("the office hours table is empty (defaults in force); set them in the admin first")
    previous = (row.opens_at, row.closes_at) if row else None
    office_hours_set(weekday=weekday, opens_at=time(0, 0), closes_at=time(23, 59, 59))
    fresh = calendar_build_from_database(first_year=FIRST_YEAR, last_year=at.year + YEARS_AHEAD)
    opened = OpenedDay(weekday, previous)
    if not is_office_open(at, fresh):
        line_restore(opened)
        raise ValueError(
            f"{timezone.localdate(at)} is a public holiday or a day off: office hours cannot open it"
        )
    return opened


def line_restore(opened: OpenedDay) -> None:
    """Put the weekday's office hours back as they were."""
    opens, closes = opened.previous or (None, None)
    office_hours_set(weekday=opened.weekday, opens_at=opens, closes_at=closes)
