"""Visit slots at the client service centre: the grid of each working day's office hours, and the
VISIT-BOOK checks (a working day, within hours, on the grid, at least N working days after booking)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from agents.errors import DomainError
from sla.calendar import WorkingCalendar, is_holiday, local_date, office_hours_on
from sla.services import policy_due_at, policy_get

VISIT_BOOK = "VISIT-BOOK"


def slot_length() -> timedelta:
    return timedelta(minutes=settings.CC_VISIT_SLOT_MINUTES)


def slots_of_day(day: date, calendar: WorkingCalendar) -> list[tuple[datetime, datetime]]:
    """The day's slots, from opening; the last one ends by closing (a shortened pre-holiday day has
    fewer). None on a day the office is closed."""
    hours = office_hours_on(day, calendar)
    if hours is None:
        return []
    opens_at, closes_at = hours
    length = slot_length()
    slots, start = [], opens_at
    while start + length <= closes_at:
        slots.append((start, start + length))
        start += length
    return slots


def visit_earliest_on(booked_at: datetime, calendar: WorkingCalendar) -> date:
    """The first day a visit booked at `booked_at` may take place (VISIT-BOOK: N working days ahead)."""
    return local_date(policy_due_at(policy_get(VISIT_BOOK), booked_at, calendar), calendar)


def slot_check(starts_at: datetime, *, booked_at: datetime, calendar: WorkingCalendar) -> datetime:
    """The end of the slot starting at `starts_at`, or DomainError naming what is wrong with it."""
    if starts_at.tzinfo is None:
        raise DomainError("naive_datetime", "starts_at needs a time zone", field="starts_at")
    day = timezone.localdate(starts_at)
    earliest = visit_earliest_on(booked_at, calendar)
    horizon = timezone.localdate(booked_at) + timedelta(days=settings.CC_VISIT_HORIZON_DAYS)
    if day < earliest:
        raise DomainError(
            "visit_too_soon",
            f"Apmeklējumu piesaka vismaz divas darbdienas iepriekš (VISIT-BOOK); agrākais datums: "
            f"{earliest:%d.%m.%Y} / A visit is booked at least two working days ahead (VISIT-BOOK); the "
            f"earliest date is {earliest.isoformat()}",
            field="starts_at",
        )
    if day > horizon:
        raise DomainError(
            "visit_too_far",
            f"Apmeklējumu var pieteikt līdz {horizon:%d.%m.%Y} / Visits can be booked up to {horizon}",
            field="starts_at",
        )
    slots = dict(slots_of_day(day, calendar))
    if not slots:
        raise _closed_day(day, calendar)
    if starts_at not in slots:
        raise _off_grid(day, calendar)
    return slots[starts_at]


def _closed_day(day: date, calendar: WorkingCalendar) -> DomainError:
    why_lv, why_en = (
        ("svētku diena", "a public holiday") if is_holiday(day, calendar) else ("brīvdiena", "a day off")
    )
    return DomainError(
        "visit_day_closed",
        f"{day:%d.%m.%Y} ir {why_lv}; klientu centrs slēgts / {day.isoformat()} is {why_en}; the client "
        "service centre is closed",
        field="starts_at",
    )


def _off_grid(day: date, calendar: WorkingCalendar) -> DomainError:
    hours = office_hours_on(day, calendar)
    assert hours is not None  # noqa: S101 -- the caller found slots on this day
    opens, closes = (timezone.localtime(at).strftime("%H:%M") for at in hours)
    minutes = settings.CC_VISIT_SLOT_MINUTES
    return DomainError(
        "visit_outside_hours",
        f"Laiks jāizvēlas no {minutes} minūšu laikiem darba laikā {opens}–{closes} / Choose one of the "
        f"{minutes}-minute slots within office hours {opens}–{closes} on {day.isoformat()}",
        field="starts_at",
    )
