"""The page of a call or a visit, the matters with no correspondence: what happened step by step (who
was rung, for how long, who answered after how many rings, where the call was forwarded), its deadlines
and breaches, the recording for those who may replay it, and a team lead's reclassification. Written
matters have their own page (workplace.mailq), to which this one redirects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agents.errors import DomainError
from agents.models import Person, Role
from agents.selectors import user_roles
from contact_centre.models import Event, EventKind, Interaction
from intake.models import Visit
from recordings.models import Recording
from sla.models import Breach
from sla.selectors import interaction_scope
from workplace import labels
from workplace.access import roles_required, signed_in_user
from workplace.deadlines import deadlines_context
from workplace.decision_forms import WRITTEN_CHANNELS, SpokenReclassifyForm
from workplace.decisions import reclassify_apply
from workplace.quality import QUALITY_ROLES

MATTER_ROLES = (Role.PHONE_AGENT, Role.TEAM_LEAD, Role.QUALITY_OFFICER)
# Payload keys naming people: the page shows their names.
_PEOPLE_KEYS = ("agent_id", "covering_for")


@dataclass(frozen=True)
class Step:
    """One event of the matter, with what the page says about it beyond its kind."""

    event: Event
    detail: str


def visible_matter(request: HttpRequest, pk: int) -> Interaction:
    """The matter `pk` if the user may see it, else 404 (as for one that does not exist)."""
    scope = interaction_scope(signed_in_user(request))
    visible = Interaction.objects.all() if scope is None else Interaction.objects.filter(scope)
    interaction = visible.select_related("owner__user", "unit", "service").filter(pk=pk).first()
    if interaction is None:
        raise Http404
    return interaction


def _names(events: Iterable[Event]) -> dict[int, str]:
    ids = {event.payload.get(key) for event in events for key in _PEOPLE_KEYS}
    people = Person.objects.select_related("user").filter(pk__in={pk for pk in ids if isinstance(pk, int)})
    return {person.pk: str(person) for person in people}


def _seconds(milliseconds: object) -> str:
    """Milliseconds as seconds with one decimal, in the active language's number format ("8,0 s")."""
    if not isinstance(milliseconds, int | float):
        return ""
    return f"{number_format(milliseconds / 1000, 1)} s"


def _detail(event: Event, names: dict[int, str]) -> str:
    """The facts of a call event worth reading in the timeline, in the user's language."""
    payload = event.payload
    person = names.get(payload.get("agent_id"), "")
    covering = names.get(payload.get("covering_for"), "")
    parts: list[str] = []
    if event.kind == EventKind.CALL_AGENT_RUNG:
        parts += [
            person or str(payload.get("target", "")),
            _("rang %(time)s") % {"time": _seconds(payload.get("ring_ms"))},
        ]
        outcome = str(payload.get("outcome", ""))
        parts.append(str(labels.RING_OUTCOMES.get(outcome, outcome)))
    elif event.kind == EventKind.CALL_FORWARDED:
        parts.append(_("to %(number)s") % {"number": payload.get("number", "")})
    elif event.kind in (EventKind.CALL_ANSWERED, EventKind.CALL_ABANDONED, EventKind.CALL_UNANSWERED):
        if person:
            parts.append(person)
        parts.append(_("waited %(time)s") % {"time": _seconds(payload.get("wait_ms"))})
        if isinstance(payload.get("rings"), int):
            parts.append(_("rings: %(rings)s") % {"rings": payload["rings"]})
    elif event.kind == EventKind.CALL_ENDED:
        if payload.get("talk_ms"):
            parts.append(_("talked %(time)s") % {"time": _seconds(payload["talk_ms"])})
        ended_by = str(payload.get("ended_by", ""))
        parts.append(str(labels.CALL_ENDED_BY.get(ended_by, ended_by)))
    elif event.kind == EventKind.CALLBACK_REQUESTED:
        parts.append(_("call back %(number)s") % {"number": payload.get("number", "")})
    elif event.kind in (EventKind.CALL_ARRIVED, EventKind.CALL_OUT_OF_HOURS):
        parts.append(str(payload.get("caller", "")))
    elif event.kind == EventKind.RECLASSIFIED:
        parts.append(str(payload.get("comment", "")))
    if covering:
        parts.append(_("covering for %(person)s") % {"person": covering})
    return " · ".join(part for part in parts if part)


def _steps(interaction: Interaction) -> list[Step]:
    events = list(interaction.events.select_related("actor").order_by("seq"))
    names = _names(events)
    return [Step(event, _detail(event, names)) for event in events]


def matter_page(
    request: HttpRequest, interaction: Interaction, reclassify_form: SpokenReclassifyForm | None = None
) -> HttpResponse:
    user = signed_in_user(request)
    roles = user_roles(user)
    context: dict[str, Any] = {
        **deadlines_context(interaction, timezone.now()),
        "interaction": interaction,
        "steps": _steps(interaction),
        "breaches": Breach.objects.filter(interaction=interaction)
        .select_related("reason")
        .order_by("breached_at"),
        "visit": Visit.objects.filter(interaction=interaction).select_related("booked_by").first(),
        "booked_visits": Visit.objects.filter(call=interaction).select_related("interaction"),
        # Replay is for the quality roles only, and the player logs every replay.
        "recordings": (
            Recording.objects.filter(interaction=interaction).order_by("started_at")
            if roles & set(QUALITY_ROLES)
            else Recording.objects.none()
        ),
        "reclassify": (
            reclassify_form or SpokenReclassifyForm(interaction=interaction)
            if Role.TEAM_LEAD in roles
            else None
        ),
    }
    return render(request, "workplace/matters/matter.html", context)


@roles_required(*MATTER_ROLES)
def matter_view(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = visible_matter(request, pk)
    if interaction.channel in WRITTEN_CHANNELS:
        return redirect("mail-thread", pk=pk)
    return matter_page(request, interaction)


@require_POST
@roles_required(Role.TEAM_LEAD)
def matter_spoken_reclassify_view(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = visible_matter(request, pk)
    form = SpokenReclassifyForm(request.POST, interaction=interaction)
    if form.is_valid():
        try:
            reclassify_apply(interaction, form.cleaned_data, signed_in_user(request))
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Reclassified; the deadlines were counted again."))
            return redirect("matter", pk=pk)
    return matter_page(request, interaction, reclassify_form=form)
