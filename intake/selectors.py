"""Reads of the visit desk: a day's slots with their free places, a day's visits, and the visits whose
time has passed without an outcome."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from intake.models import Visit, VisitOutcome, VisitSlot
from intake.slots import slots_of_day, visit_earliest_on
from sla.calendar_source import current_calendar


def day_slots(day: date, *, now: datetime) -> dict[str, Any]:
    """The day's slots (free places per slot) and whether they may be booked now (VISIT-BOOK)."""
    calendar = current_calendar()
    earliest = visit_earliest_on(now, calendar)
    slots = slots_of_day(day, calendar)
    rows = {
        row.starts_at: row for row in VisitSlot.objects.filter(starts_at__in=[start for start, _ in slots])
    }
    return {
        "date": day.isoformat(),
        "earliest": earliest.isoformat(),
        "bookable": bool(slots) and day >= earliest,
        "slots": [_slot(start, end, rows.get(start)) for start, end in slots],
    }


def _slot(start: datetime, end: datetime, row: VisitSlot | None) -> dict[str, Any]:
    capacity = row.capacity if row else settings.CC_VISIT_DESKS
    booked = row.booked if row else 0
    return {
        "starts_at": start.isoformat(),
        "ends_at": end.isoformat(),
        "capacity": capacity,
        "booked": booked,
        "free": max(capacity - booked, 0),
    }


def visits_on(day: date) -> QuerySet[Visit]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return (
        Visit.objects.filter(starts_at__gte=start, starts_at__lt=start + timedelta(days=1))
        .select_related("interaction__service")
        .order_by("starts_at", "pk")
    )


def visits_awaiting_outcome(*, before: datetime) -> QuerySet[Visit]:
    """Booked visits that ended before `before` with no outcome recorded (served, did not come,
    cancelled): each is a gap in the visit counts until the desk records what happened."""
    return (
        Visit.objects.filter(outcome=VisitOutcome.BOOKED, ends_at__lte=before)
        .select_related("interaction")
        .order_by("starts_at", "pk")
    )
