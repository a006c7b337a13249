"""QA scorecards in the workplace: the quality officer scores a recording beside the player; the agent
reads, acknowledges or disputes their scorecards; team leads resolve disputes; score trends per agent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.models import User
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agents.errors import DomainError
from agents.models import Role
from recordings.models import Recording, Scorecard, ScorecardItem, ScorecardState
from recordings.scorecards import (
    AnswerInput,
    score_trends,
    scorecard_acknowledge,
    scorecard_answer,
    scorecard_create,
    scorecard_dispute,
    scorecard_dispute_resolve,
    scorecard_submit,
    scorecards_visible,
)
from workplace.access import roles_required, signed_in_user

TREND_WEEKS = 12


def scorecard_for(recording: Recording, user: User) -> Scorecard | None:
    """The recording's scorecard in force: the latest one no upheld dispute superseded."""
    rows = scorecards_visible(user).filter(recording=recording).order_by("-created_at", "-pk")
    return rows.exclude(Q(state=ScorecardState.SUPERSEDED)).first()  # with_state's annotation


@dataclass(frozen=True)
class ItemLine:
    item: ScorecardItem
    value: int | None
    note: str
    choices: list[tuple[int, str]]


def _choices(item: ScorecardItem) -> list[tuple[int, str]]:
    if item.kind == "yes_no":
        return [(1, _("yes")), (0, _("no"))]
    return [(value, str(value)) for value in range(item.scale_max + 1)]


def item_lines(scorecard: Scorecard) -> list[ItemLine]:
    """Each item of the scorecard's form with its answer so far, for the form or the read-only view."""
    answers = {answer.item_id: answer for answer in scorecard.answers.all()}
    items = ScorecardItem.objects.filter(template=scorecard.template).order_by("position", "pk")
    return [
        ItemLine(
            item,
            answers[item.pk].value if item.pk in answers else None,
            answers[item.pk].note if item.pk in answers else "",
            _choices(item),
        )
        for item in items
    ]


def _refusal(request: HttpRequest, error: DomainError) -> None:
    messages.error(request, error.message)


@require_POST
@roles_required(Role.QUALITY_OFFICER)
def scorecard_start(request: HttpRequest, pk: int) -> HttpResponse:
    recording = get_object_or_404(Recording, pk=pk)
    try:
        scorecard_create(recording=recording, officer=signed_in_user(request))
    except DomainError as error:
        _refusal(request, error)
    return redirect("quality-player", pk=pk)


def _answers_posted(request: HttpRequest, scorecard: Scorecard) -> list[AnswerInput]:
    posted = []
    for item in ScorecardItem.objects.filter(template=scorecard.template):
        value = request.POST.get(f"item-{item.pk}", "")
        if value.isdigit():
            posted.append(AnswerInput(item.pk, int(value), request.POST.get(f"note-{item.pk}", "")))
    return posted


@require_POST
@roles_required(Role.QUALITY_OFFICER)
def scorecard_save(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the answers of a draft; with `submit`, submit it (after which it never changes)."""
    officer = signed_in_user(request)
    scorecard = get_object_or_404(Scorecard, pk=pk)
    try:
        scorecard_answer(
            scorecard=scorecard,
            officer=officer,
            answers=_answers_posted(request, scorecard),
            comment=request.POST.get("comment", ""),
        )
        if "submit" in request.POST:
            scorecard_submit(scorecard=scorecard, officer=officer)
            messages.success(request, _("Scorecard submitted; it can no longer change."))
        else:
            messages.success(request, _("Draft saved."))
    except DomainError as error:
        _refusal(request, error)
    return redirect("quality-player", pk=scorecard.recording_id)


@require_POST
@roles_required(Role.PHONE_AGENT)
def scorecard_acknowledge_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        scorecard_acknowledge(scorecard=get_object_or_404(Scorecard, pk=pk), user=signed_in_user(request))
        messages.success(request, _("Scorecard acknowledged."))
    except DomainError as error:
        _refusal(request, error)
    return redirect("agent-home")


@require_POST
@roles_required(Role.PHONE_AGENT)
def scorecard_dispute_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        scorecard_dispute(
            scorecard=get_object_or_404(Scorecard, pk=pk),
            user=signed_in_user(request),
            comment=request.POST.get("comment", ""),
        )
        messages.success(request, _("Dispute sent to the team lead."))
    except DomainError as error:
        _refusal(request, error)
    return redirect("agent-home")


@require_POST
@roles_required(Role.TEAM_LEAD)
def scorecard_resolve_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        scorecard_dispute_resolve(
            scorecard=get_object_or_404(Scorecard, pk=pk),
            by=signed_in_user(request),
            upheld=request.POST.get("decision") == "upheld",
            comment=request.POST.get("comment", ""),
        )
        messages.success(request, _("Dispute decided."))
    except DomainError as error:
        _refusal(request, error)
    return redirect("quality-trends")


@roles_required(Role.QUALITY_OFFICER, Role.TEAM_LEAD)
def quality_trends(request: HttpRequest) -> HttpResponse:
    """Score trends per agent (weekly averages) and, for team leads, the disputes waiting for them."""
    last = timezone.localdate()
    first = last - timedelta(weeks=TREND_WEEKS)
    visible = scorecards_visible(signed_in_user(request))
    disputes = visible.filter(Q(state=ScorecardState.DISPUTED)).order_by("dispute__raised_at")
    context = {
        "trends": score_trends(first=first, last=last, period="week"),
        "first": first,
        "disputes": disputes,
    }
    return render(request, "workplace/quality/trends.html", context)
