"""The phone agent's page: my state in one click, the call in progress with a live ring and wait counter
and the caller's earlier matters, booking the caller an in-person visit (VISIT-BOOK), my calls today with
their PH-RING verdicts, messages taken for me, and my absences with a substitute from my unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from django import forms
from django.contrib import messages
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from agents.errors import DomainError
from agents.models import Absence, AbsenceKind, AgentState, AgentStatus, Person, Role
from agents.services import absence_create, agent_state_set, agent_status_get
from contact_centre.models import Channel, Event, EventKind, Interaction
from contact_centre.selectors import messages_for, messages_handled
from contact_centre.services import call_interaction, message_handle
from intake.services import visit_book, visit_request_from
from recordings.scorecards import scorecards_visible
from sla.models import Clock, Policy
from sla.rules import PH_RING
from workplace.access import roles_required, signed_in_person
from workplace.labels import ABSENCE_KINDS
from workplace.visits import BookingForm, visit_earliest

RING_CYCLE_MS_DEFAULT = 5000
SCORECARDS_SHOWN = 20


@dataclass(frozen=True)
class CallInProgress:
    interaction: Interaction
    caller: str
    arrived_at: datetime
    answered_at: datetime | None
    earlier: list[Interaction]


def _ring_cycle_ms() -> int:
    policy = Policy.objects.filter(rule_id=PH_RING).first()
    return policy.ring_on_ms + policy.ring_off_ms if policy else RING_CYCLE_MS_DEFAULT


def _call_in_progress(status: AgentStatus) -> CallInProgress | None:
    if not status.in_call:
        return None
    try:
        interaction = call_interaction(status.in_call)
    except DomainError:  # claimed for a call the ledger has not recorded yet (a few milliseconds)
        return None
    answered = interaction.events.filter(kind=EventKind.CALL_ANSWERED).values_list("occurred_at", flat=True)
    earlier = Interaction.objects.filter(client_contact=interaction.client_contact).exclude(pk=interaction.pk)
    return CallInProgress(
        interaction=interaction,
        caller=interaction.client_contact,
        arrived_at=interaction.opened_at,
        answered_at=answered.first(),
        earlier=list(earlier.select_related("service").order_by("-opened_at")[:10]),
    )


def _today_start() -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(), time.min))


def _calls_today(person: Person) -> QuerySet[Interaction]:
    ring_clocks = Prefetch("clocks", queryset=Clock.objects.filter(rule_id=PH_RING), to_attr="ring_clocks")
    answers = Prefetch(
        "events", queryset=Event.objects.filter(kind=EventKind.CALL_ANSWERED), to_attr="answers"
    )
    return (
        Interaction.objects.filter(channel=Channel.PHONE, owner=person, opened_at__gte=_today_start())
        .prefetch_related(ring_clocks, answers)
        .order_by("-opened_at")
    )


class AbsenceForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=list(ABSENCE_KINDS.items()))
    starts_at = forms.DateTimeField(
        label=gettext_lazy("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    substitute = forms.ModelChoiceField(
        label=gettext_lazy("Substitute"), queryset=Person.objects.none(), required=False
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: object, person: Person, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        colleagues = Person.objects.filter(unit=person.unit, user__is_active=True).exclude(pk=person.pk)
        self.fields["substitute"].queryset = colleagues.select_related("user")  # type: ignore[attr-defined]


def _booking_form(call: CallInProgress | None, now: datetime) -> BookingForm:
    """A blank booking form (a new one-time key), tied to the call in progress if there is one."""
    initial = {"call": call.interaction.pk, "client_phone": call.caller} if call else {}
    return BookingForm(earliest=visit_earliest(now), initial=initial)


def _page(
    request: HttpRequest,
    person: Person,
    form: AbsenceForm | None = None,
    booking_form: BookingForm | None = None,
) -> HttpResponse:
    now = timezone.now()
    status = agent_status_get(person, now)
    notes = messages_for(person)
    handled = messages_handled(notes)
    call = _call_in_progress(status)
    booking_form = booking_form or _booking_form(call, now)
    context = {
        "person": person,
        "status": status,
        "states": [(state, state == status.state) for state in AgentState.values],
        "call": call,
        "booking_form": booking_form,
        "booking_slots": booking_form.slots(now),
        "ring_cycle_ms": _ring_cycle_ms(),
        "calls_today": _calls_today(person),
        "messages_open": [note for note in notes[:50] if note.seq not in handled],
        "absences": Absence.objects.filter(person=person, ends_at__gt=now).select_related("substitute__user"),
        "absence_form": form or AbsenceForm(person=person),
        "scorecards": scorecards_visible(person.user)
        .filter(recording__agent=person)
        .order_by("-submitted_at")[:20],
    }
    return render(request, "workplace/agent/home.html", context)


@roles_required(Role.PHONE_AGENT)
def agent_home(request: HttpRequest) -> HttpResponse:
    return _page(request, signed_in_person(request))


@roles_required(Role.PHONE_AGENT)
def agent_call(request: HttpRequest) -> HttpResponse:
    """The call panel alone, polled by the page every two seconds."""
    person = signed_in_person(request)
    status = agent_status_get(person, timezone.now())
    context = {"call": _call_in_progress(status), "ring_cycle_ms": _ring_cycle_ms(), "status": status}
    return render(request, "workplace/agent/_call.html", context)


@require_POST
@roles_required(Role.PHONE_AGENT)
def agent_state(request: HttpRequest) -> HttpResponse:
    person = signed_in_person(request)
    try:
        agent_state_set(person=person, state=request.POST.get("state", ""), at=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
    if request.headers.get("HX-Request"):
        status = agent_status_get(person, timezone.now())
        states = [(state, state == status.state) for state in AgentState.values]
        return render(request, "workplace/agent/_state.html", {"status": status, "states": states})
    return redirect("agent-home")


@require_POST
@roles_required(Role.PHONE_AGENT)
def agent_message_handled(request: HttpRequest, seq: int) -> HttpResponse:
    person = signed_in_person(request)
    note = messages_for(person).filter(seq=seq).first()
    if note is not None:
        message_handle(message=note, by=person.user, at=timezone.now(), note=request.POST.get("note", ""))
        messages.success(request, _("Message marked as dealt with."))
    return redirect("agent-home")


@require_POST
@roles_required(Role.PHONE_AGENT)
def agent_absence_create(request: HttpRequest) -> HttpResponse:
    person = signed_in_person(request)
    form = AbsenceForm(request.POST, person=person)
    if not form.is_valid():
        return _page(request, person, form)
    data = form.cleaned_data
    try:
        absence_create(
            person=person,
            kind=data["kind"] if data["kind"] in AbsenceKind.values else AbsenceKind.OTHER,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            substitute=data["substitute"],
            note=data["note"],
            created_by=person.user,
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return _page(request, person, form)
    messages.success(request, _("Absence saved."))
    return redirect("agent-home")


def _booking_call(call_id: int | None, person: Person, now: datetime) -> Interaction | None:
    """The call the visit was booked on: the one the form was made during, else the one in progress."""
    if call_id:
        return Interaction.objects.filter(pk=call_id, channel=Channel.PHONE).first()
    current = _call_in_progress(agent_status_get(person, now))
    return current.interaction if current else None


@require_POST
@roles_required(Role.PHONE_AGENT)
def agent_visit_book(request: HttpRequest) -> HttpResponse:
    person = signed_in_person(request)
    now = timezone.now()
    form = BookingForm(request.POST, earliest=visit_earliest(now))
    if not form.is_valid():
        return _page(request, person, booking_form=form)
    data = form.cleaned_data
    booking = visit_request_from(data, call=_booking_call(data["call"], person, now))
    try:
        visit = visit_book(request=booking, by=person.user, now=now)
    except DomainError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _page(request, person, booking_form=form)
    when = timezone.localtime(visit.starts_at).strftime("%d.%m.%Y %H:%M")
    messages.success(
        request,
        _("Visit booked: %(reference)s, %(when)s, Smilšu iela 1.")
        % {"reference": visit.interaction.reference, "when": when},
    )
    return redirect("agent-home")
