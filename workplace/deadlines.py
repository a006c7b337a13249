"""A matter's deadlines as its pages show them: each clock with its verdict and the working time left,
which the page counts down while the office is open."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from contact_centre.models import Interaction
from sla.calendar import WorkingCalendar, is_office_open, office_hours_on, working_seconds_between
from sla.calendar_source import current_calendar
from sla.models import Clock


def working_left(due_at: datetime, now: datetime, calendar: WorkingCalendar) -> int:
    """Office seconds from `now` to `due_at`; negative once it has passed."""
    if due_at >= now:
        return round(working_seconds_between(now, due_at, calendar))
    return -round(working_seconds_between(due_at, now, calendar))


def open_until(now: datetime, calendar: WorkingCalendar) -> datetime | None:
    """Today's closing time while the office is open (the countdowns run until then), else None."""
    if not is_office_open(now, calendar):
        return None
    hours = office_hours_on(timezone.localdate(now), calendar)
    return hours[1] if hours else None


def deadlines_context(interaction: Interaction, now: datetime) -> dict[str, Any]:
    """`clocks` as (clock, verdict, working seconds left) in the order they opened, and `open_until`."""
    calendar = current_calendar()
    clocks = (
        Clock.objects.filter(interaction=interaction).select_related("deadline").order_by("opened_by_seq")
    )
    return {
        "clocks": [
            (clock, clock.verdict(now), working_left(clock.due_at, now, calendar)) for clock in clocks
        ],
        "open_until": open_until(now, calendar),
    }
