"""The quality officer's pages: recordings filtered by agent, date, PH-RING verdict and duration, and the
player (a reason first, logged; then waveform, seek, 10 s back and ahead, speed 0.5 to 2)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy

from agents.errors import DomainError
from agents.models import Person, Role
from agents.selectors import user_roles
from recordings.api import recordings_filtered
from recordings.governance import recording_peaks
from recordings.models import Recording
from workplace.access import roles_required, signed_in_user
from workplace.scorecard import item_lines, scorecard_for

QUALITY_ROLES = (Role.QUALITY_OFFICER, Role.TEAM_LEAD)
LIST_PAGE = 50


class RecordingFilterForm(forms.Form):
    agent = forms.ModelChoiceField(
        label=gettext_lazy("Agent"), queryset=Person.objects.none(), required=False
    )
    since = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=gettext_lazy("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    verdict = forms.ChoiceField(
        label=gettext_lazy("PH-RING"),
        required=False,
        choices=[
            ("", gettext_lazy("All")),
            ("met", gettext_lazy("met")),
            ("breached", gettext_lazy("breached")),
        ],
    )
    min_seconds = forms.IntegerField(label=gettext_lazy("At least (s)"), required=False, min_value=0)
    max_seconds = forms.IntegerField(label=gettext_lazy("At most (s)"), required=False, min_value=0)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        agents = Person.objects.filter(recordings__isnull=False).distinct().select_related("user")
        self.fields["agent"].queryset = agents.order_by("user__last_name")  # type: ignore[attr-defined]


def _filters(form: RecordingFilterForm) -> dict[str, Any]:
    if not form.is_valid():
        return {}
    data = {name: value for name, value in form.cleaned_data.items() if value not in (None, "")}
    if "agent" in data:
        data["agent"] = data["agent"].pk
    return data


@roles_required(*QUALITY_ROLES)
def quality_recordings(request: HttpRequest) -> HttpResponse:
    form = RecordingFilterForm(request.GET or None)
    rows = recordings_filtered(_filters(form)).order_by("-started_at", "-id")
    context = {
        "form": form,
        "page": Paginator(rows, LIST_PAGE).get_page(request.GET.get("page")),
        "query": request.GET.urlencode(),
    }
    return render(request, "workplace/quality/recordings.html", context)


@roles_required(*QUALITY_ROLES)
def quality_player(request: HttpRequest, pk: int) -> HttpResponse:
    recording = get_object_or_404(recordings_filtered({}).select_related("interaction", "agent__user"), pk=pk)
    user = signed_in_user(request)
    scorecard = scorecard_for(recording, user)
    context = {
        "recording": recording,
        "scorecard": scorecard,
        "lines": item_lines(scorecard) if scorecard else [],
        "can_start": scorecard is None and Role.QUALITY_OFFICER in user_roles(user),
        "can_edit": scorecard is not None
        and not scorecard.is_submitted()
        and scorecard.officer_id == user.pk,
    }
    return render(request, "workplace/quality/player.html", context)


@roles_required(*QUALITY_ROLES)
def quality_peaks(request: HttpRequest, pk: int) -> HttpResponse:
    """The waveform of a recording (no audio: that needs a logged reason through the replay grant)."""
    recording = get_object_or_404(Recording, pk=pk)
    try:
        return JsonResponse(recording_peaks(recording))
    except DomainError as error:
        return JsonResponse({"error": {"code": error.code, "message": error.message}}, status=error.status)
