"""The visit desk (VISIT-BOOK): the booking form the phone agent fills in on the call, the day's free slots
it loads when a date is picked, and the day's visits with their outcome (served, did not come, cancelled).
The rules (a working day, on the slot grid, two working days ahead, a free place) are intake's; a refusal
is shown as it comes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from agents.errors import DomainError
from agents.models import Role
from intake.models import Visit
from intake.selectors import day_slots, visits_awaiting_outcome, visits_on
from intake.services import visit_outcome_set
from intake.slots import visit_earliest_on
from sla.calendar_source import current_calendar
from workplace.access import roles_required, signed_in_user
from workplace.fields import ServiceField
from workplace.labels import VISIT_OUTCOMES, label

VISIT_ROLES = (Role.PHONE_AGENT, Role.TEAM_LEAD)
AWAITING_SHOWN = 20


@dataclass(frozen=True)
class SlotChoice:
    starts_at: datetime
    value: str  # ISO 8601 with the offset, as the form posts it back
    free: int
    capacity: int


@dataclass(frozen=True)
class DaySlots:
    day: date
    earliest: date
    bookable: bool
    slots: list[SlotChoice]
    selected: str = ""  # the slot the agent had chosen, when the form is shown again
    refusal: str = ""  # why the day has no slots to offer at all (outside the working calendar)


def day_slot_choices(day: date, *, now: datetime, selected: str = "") -> DaySlots:
    """The day's slots with their free places, and whether VISIT-BOOK lets a booking made now have them."""
    try:
        found = day_slots(day, now=now)
    except DomainError as error:  # a date the working calendar does not cover (years ahead or back)
        return DaySlots(day, visit_earliest(now), bookable=False, slots=[], refusal=error.message)
    slots = [
        SlotChoice(
            datetime.fromisoformat(slot["starts_at"]), slot["starts_at"], slot["free"], slot["capacity"]
        )
        for slot in found["slots"]
    ]
    return DaySlots(day, date.fromisoformat(found["earliest"]), found["bookable"], slots, selected)


def visit_earliest(now: datetime) -> date:
    return visit_earliest_on(now, current_calendar())


class BookingForm(forms.Form):
    """A visit booked on the call. `booking_key` is new with every blank form, so a double submit books
    once; `call` is the call in progress when the form was made (else the one at the time of booking)."""

    day = forms.DateField(
        label=gettext_lazy("Day of the visit"), widget=forms.DateInput(attrs={"type": "date"})
    )
    starts_at = forms.CharField(
        label=gettext_lazy("Time"),
        error_messages={"required": gettext_lazy("Choose one of the day's free times.")},
    )
    client_name = forms.CharField(label=gettext_lazy("Client"), max_length=300)
    client_phone = forms.CharField(label=gettext_lazy("Phone"), max_length=64, required=False)
    client_email = forms.EmailField(
        label=gettext_lazy("E-mail for the confirmation (optional)"), required=False
    )
    service = ServiceField(label=gettext_lazy("Service"))
    reason_not_electronic = forms.CharField(
        label=gettext_lazy("Why the service cannot be had electronically"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    booking_key = forms.CharField(max_length=100, widget=forms.HiddenInput)
    call = forms.IntegerField(required=False, widget=forms.HiddenInput)

    DETAILS = ("client_name", "client_phone", "client_email", "service", "reason_not_electronic")

    def __init__(self, *args: Any, earliest: date, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "visit")
        super().__init__(*args, **kwargs)
        horizon = timezone.localdate() + timedelta(days=settings.CC_VISIT_HORIZON_DAYS)
        self.fields["day"].widget.attrs.update(
            {
                "min": earliest.isoformat(),
                "max": horizon.isoformat(),
                "hx-get": reverse("visit-slots"),
                "hx-trigger": "change",
                "hx-target": "#visit-slots",
                "hx-swap": "innerHTML",
            }
        )
        if not self.is_bound:
            self.initial.setdefault("day", earliest)
            self.initial.setdefault("booking_key", uuid.uuid4().hex)

    def clean_starts_at(self) -> datetime:
        try:
            starts_at = datetime.fromisoformat(self.cleaned_data["starts_at"])
        except ValueError as error:
            raise ValidationError(_("Choose one of the day's free times.")) from error
        if starts_at.tzinfo is None:
            starts_at = timezone.make_aware(starts_at)
        return starts_at

    def details(self) -> list[forms.BoundField]:
        return [self[name] for name in self.DETAILS]

    def slots(self, now: datetime) -> DaySlots:
        """The slots of the day the form shows: the day posted, else the earliest one allowed."""
        day = self._posted_day() if self.is_bound else self.initial.get("day")
        selected = self.data.get(self.add_prefix("starts_at"), "") if self.is_bound else ""
        return day_slot_choices(day or visit_earliest(now), now=now, selected=selected)

    def _posted_day(self) -> date | None:
        try:
            return date.fromisoformat(self.data.get(self.add_prefix("day"), ""))
        except ValueError:
            return None


def _day_asked(request: HttpRequest, *names: str) -> date:
    """The first of `names` that holds a date (within years the pages can step through), else today."""
    for name in names:
        try:
            day = date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            continue
        if date.min < day < date.max:
            return day
    return timezone.localdate()


@roles_required(*VISIT_ROLES)
def visit_slots(request: HttpRequest) -> HttpResponse:
    """The free slots of the day picked in the booking form (htmx swaps them in)."""
    slots = day_slot_choices(_day_asked(request, "visit-day", "date"), now=timezone.now())
    return render(request, "workplace/visits/_slots.html", {"slots": slots})


@roles_required(*VISIT_ROLES)
def visits_day(request: HttpRequest) -> HttpResponse:
    """The day's visits (today unless another date is asked for) with their outcome buttons."""
    day = _day_asked(request, "date")
    today = timezone.localdate()
    start_of_today = timezone.make_aware(datetime.combine(today, time.min))
    context = {
        "day": day,
        "previous": day - timedelta(days=1),
        "next": day + timedelta(days=1),
        "today": today,
        "visits": visits_on(day).select_related("booked_by"),
        # Today's page reminds the desk of earlier days' visits still waiting for their outcome.
        "awaiting": visits_awaiting_outcome(before=start_of_today)[:AWAITING_SHOWN] if day == today else [],
    }
    return render(request, "workplace/visits/day.html", context)


@require_POST
@roles_required(*VISIT_ROLES)
def visit_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    """An outcome button: served, did not come, or cancelled (which frees the slot)."""
    visit = get_object_or_404(Visit, pk=pk)
    day = timezone.localdate(visit.starts_at)
    try:
        visit = visit_outcome_set(
            visit=visit,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
            by=signed_in_user(request),
            now=timezone.now(),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(reference)s: %(outcome)s.")
            % {"reference": visit.interaction.reference, "outcome": label(VISIT_OUTCOMES, visit.outcome)},
        )
    return redirect(f"{reverse('visits')}?date={day.isoformat()}")
