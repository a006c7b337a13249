"""The page of a call or a visit, the matters with no correspondence: what happened step by step (who
was rung, for how long, who answered after how many rings, where the call was forwarded), its deadlines
and breaches, the recording for those who may replay it, and a team lead's reclassification. Written
matters have their own page (workplace.mailq), to which this one redirects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
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
from sla.selectors import breach_scope, interaction_scope
from workplace import labels
from workplace.access import roles_required, signed_in_user
from workplace.deadlines import deadlines_context
from workplace.decision_forms import WRITTEN_CHANNELS, SpokenReclassifyForm
from workplace.decisions import reclassify_apply
from workplace.quality import QUALITY_ROLES
from workplace.templatetags.workplace import seconds

MATTER_ROLES = (Role.PHONE_AGENT, Role.TEAM_LEAD, Role.QUALITY_OFFICER)
# Payload keys naming people: the page shows their names.
_PEOPLE_KEYS = ("agent_id", "covering_for")


@dataclass(frozen=True)
class Step:
    """One event of the matter, with what the page says about it beyond its kind."""

    event: Event
    detail: str


def _visible(user: User, *, as_role: str | None = None) -> QuerySet[Interaction]:
    scope = interaction_scope(user, as_role=as_role)
    return Interaction.objects.all() if scope is None else Interaction.objects.filter(scope)


def visible_matter(request: HttpRequest, pk: int, *, as_role: str | None = None) -> Interaction:
    """The call or visit `pk` if the user may see it (through `as_role` alone, when given), else 404, as
    for one that does not exist; a written matter is not this page's either."""
    interaction = (
        _visible(signed_in_user(request), as_role=as_role)
        .select_related("owner__user", "unit", "service")
        .filter(pk=pk)
        .first()
    )
    if interaction is None:
        raise Http404
    return interaction


def _person_id(value: object) -> int | None:
    """A person's id from a ledger payload; anything but a plain int (a bool, a list, None) is none."""
    return value if type(value) is int else None


def _names(events: Iterable[Event]) -> dict[int | None, str]:
    ids = {_person_id(event.payload.get(key)) for event in events for key in _PEOPLE_KEYS}
    people = Person.objects.select_related("user").filter(pk__in=[pk for pk in ids if pk is not None])
    return {person.pk: str(person) for person in people}


def _text(value: object) -> str:
    """A payload value as text: what the line sent, or nothing for a missing or empty one."""
    return "" if value is None else str(value)


def _seconds(milliseconds: object) -> str:
    """Milliseconds as seconds with one decimal, in the active language's number format ("8,0 s")."""
    if isinstance(milliseconds, bool) or not isinstance(milliseconds, int | float):
        return ""
    return f"{number_format(milliseconds / 1000, 1)} s"


def _phrase(template: str, value: str) -> str:
    """`template` % value, or nothing when there is no value to say."""
    return template % {"value": value} if value else ""


def _detail(event: Event, names: dict[int | None, str]) -> str:
    """The facts of a call event worth reading in the timeline, in the user's language."""
    payload = event.payload
    person = names.get(_person_id(payload.get("agent_id")), "")
    parts: list[str] = []
    if event.kind == EventKind.CALL_AGENT_RUNG:
        outcome = _text(payload.get("outcome"))
        parts += [
            person or _text(payload.get("target")),
            _phrase(_("rang for %(value)s"), _seconds(payload.get("ring_ms"))),
            str(labels.RING_OUTCOMES.get(outcome, outcome)),
        ]
    elif event.kind == EventKind.CALL_FORWARDED:
        parts.append(_phrase(_("to %(value)s"), _text(payload.get("number"))))
    elif event.kind in (EventKind.CALL_ANSWERED, EventKind.CALL_ABANDONED, EventKind.CALL_UNANSWERED):
        rings = payload.get("rings")
        parts += [
            person,
            _phrase(_("waited %(value)s"), _seconds(payload.get("wait_ms"))),
            _phrase(_("rings: %(value)s"), str(rings) if type(rings) is int else ""),
        ]
    elif event.kind == EventKind.CALL_ENDED:
        talk_ms = payload.get("talk_ms")
        ended_by = _text(payload.get("ended_by"))
        parts += [
            _phrase(_("talked %(value)s"), seconds(talk_ms) if type(talk_ms) is int and talk_ms > 0 else ""),
            str(labels.CALL_ENDED_BY.get(ended_by, ended_by)),
        ]
    elif event.kind == EventKind.CALLBACK_REQUESTED:
        parts.append(_phrase(_("call back %(value)s"), _text(payload.get("number"))))
    elif event.kind in (EventKind.CALL_ARRIVED, EventKind.CALL_OUT_OF_HOURS):
        parts.append(_text(payload.get("caller")))
    elif event.kind == EventKind.RECLASSIFIED:
        parts.append(_text(payload.get("comment")))
    covering = names.get(_person_id(payload.get("covering_for")), "")
    parts.append(_phrase(_("substituting for %(value)s"), covering))
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
    breaches = Breach.objects.filter(interaction=interaction)
    if (scope := breach_scope(user)) is not None:
        breaches = breaches.filter(scope)
    leads_it = (
        Role.TEAM_LEAD in roles and _visible(user, as_role=Role.TEAM_LEAD).filter(pk=interaction.pk).exists()
    )
    context: dict[str, Any] = {
        **deadlines_context(interaction, timezone.now()),
        "interaction": interaction,
        "steps": _steps(interaction),
        "breaches": breaches.select_related("reason").order_by("breached_at"),
        "visit": Visit.objects.filter(interaction=interaction).select_related("booked_by").first(),
        "booked_visits": Visit.objects.filter(
            call=interaction, interaction__in=_visible(user)
        ).select_related("interaction"),
        # Replay is for the quality roles only, and the player logs every replay.
        "recordings": (
            Recording.objects.filter(interaction=interaction).order_by("started_at")
            if roles & set(QUALITY_ROLES)
            else Recording.objects.none()
        ),
        # A lead reclassifies what they lead, not what another role (quality) lets them see.
        "reclassify": (reclassify_form or SpokenReclassifyForm(interaction=interaction))
        if leads_it
        else None,
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
    interaction = visible_matter(request, pk, as_role=Role.TEAM_LEAD)
    if interaction.channel in WRITTEN_CHANNELS:
        raise Http404  # reclassified on its own page (workplace.decisions)
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
