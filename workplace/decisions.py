"""The decisions on a written matter, posted from its page: the answer went out by post, e-address or in
person (PORTAL-ANS, SUBM-ANS); forwarded to the competent institution with the client told (PORTAL-FWD,
SUBM-FWD); a submission's answer time extended; and a team lead's reclassification. Each view parses its
form and calls one intake service; a refusal comes back in the form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agents.errors import DomainError
from agents.models import Role
from contact_centre.channel_services import Reclassification
from contact_centre.models import Interaction
from intake.services import matter_answer, matter_forward, matter_reclassify, submission_extend
from workplace.access import roles_required, signed_in_user
from workplace.decision_forms import AnswerForm, DecisionForm, ExtendForm, ForwardForm, ReclassifyForm
from workplace.mailq import QUEUE_ROLES, thread_page, visible_interaction

Apply = Callable[[Interaction, dict[str, Any], User], None]


def _decide(
    request: HttpRequest, pk: int, form_class: type[DecisionForm], apply: Apply, done: str
) -> HttpResponse:
    interaction = visible_interaction(request, pk)
    form = form_class(request.POST, interaction=interaction)
    if form.is_valid():
        try:
            apply(interaction, form.cleaned_data, signed_in_user(request))
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, done)
            return redirect("mail-thread", pk=pk)
    return thread_page(request, interaction, decision_form=form)


def _answer(interaction: Interaction, data: dict[str, Any], by: User) -> None:
    matter_answer(interaction=interaction, how=data["how"], note=data["note"], by=by, now=timezone.now())


def _forward(interaction: Interaction, data: dict[str, Any], by: User) -> None:
    matter_forward(
        interaction=interaction,
        institution=data["institution"],
        told_by=data["told_by"],
        note=data["note"],
        by=by,
        now=timezone.now(),
    )


def _extend(interaction: Interaction, data: dict[str, Any], by: User) -> None:
    submission_extend(
        interaction=interaction,
        until=data["until"],
        reason=data["reason"],
        told_by=data["told_by"],
        by=by,
        now=timezone.now(),
    )


def reclassify_apply(interaction: Interaction, data: dict[str, Any], by: User) -> None:
    """A team lead's reclassification from a matter's page (a call's or a visit's has no channel)."""
    # The form shows the classification as it is: only what the lead changed goes to the service (None
    # leaves a field alone), so a change of the service alone does not touch the channel's clocks.
    service, channel = data["service"], data.get("channel")
    change = Reclassification(
        channel=channel if channel and channel != interaction.channel else None,
        service=service if service is not None and service.pk != interaction.service_id else None,
        not_client_matter=(
            data["not_client_matter"] if data["not_client_matter"] != interaction.not_client_matter else None
        ),
        comment=data["comment"],
    )
    matter_reclassify(interaction=interaction, change=change, by=by, now=timezone.now())


@require_POST
@roles_required(*QUEUE_ROLES)
def matter_answer_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, AnswerForm, _answer, _("Answer recorded; its deadlines are met."))


@require_POST
@roles_required(*QUEUE_ROLES)
def matter_forward_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, ForwardForm, _forward, _("Forwarding recorded; the answer deadlines stop."))


@require_POST
@roles_required(*QUEUE_ROLES)
def matter_extend_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, ExtendForm, _extend, _("Answer time extended; the new deadline is shown."))


@require_POST
@roles_required(Role.TEAM_LEAD)
def matter_reclassify_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(
        request, pk, ReclassifyForm, reclassify_apply, _("Reclassified; the deadlines were counted again.")
    )
