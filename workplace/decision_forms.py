"""The forms of the decisions on a written matter (answered, forwarded, extended, reclassified), which
the matter's page shows beside the reply; workplace.decisions holds their views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy

from agents.models import Role
from agents.selectors import user_roles
from contact_centre.models import Channel, Interaction
from intake.services import ANSWER_CHANNELS, TOLD_BY
from sla.rules import SUBM_ANS
from sla.services import live_clock_exists
from workplace import labels
from workplace.fields import ServiceField

# The channels the matter's page shows, and so the ones a team lead may move a matter between there.
WRITTEN_CHANNELS = (Channel.EMAIL, Channel.PORTAL, Channel.POST, Channel.E_ADDRESS)


class DecisionForm(forms.Form):
    """A decision on one matter; each form carries its own prefix, so four share a page."""

    def __init__(self, *args: Any, interaction: Interaction, **kwargs: Any) -> None:
        kwargs.setdefault("initial", self.initial_for(interaction))
        super().__init__(*args, **kwargs)
        self.interaction = interaction

    @staticmethod
    def initial_for(interaction: Interaction) -> dict[str, Any]:
        return {}


def _told_by_initial(interaction: Interaction) -> dict[str, Any]:
    """By e-mail from here when the client has an address, else the way the matter came."""
    if "@" in interaction.client_contact:
        return {"told_by": "email"}
    return {"told_by": interaction.channel if interaction.channel in TOLD_BY else "post"}


class AnswerForm(DecisionForm):
    prefix = "answer"
    how = forms.ChoiceField(
        label=gettext_lazy("How the answer went out"),
        choices=[(code, labels.ANSWER_WAYS[code]) for code in ANSWER_CHANNELS],
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=2000, required=False)

    @staticmethod
    def initial_for(interaction: Interaction) -> dict[str, Any]:
        return {"how": interaction.channel} if interaction.channel in ANSWER_CHANNELS else {}


class ForwardForm(DecisionForm):
    prefix = "forward"
    institution = forms.CharField(label=gettext_lazy("Competent institution"), max_length=300)
    told_by = forms.ChoiceField(
        label=gettext_lazy("How the client is told"),
        choices=[(code, labels.TOLD_BY[code]) for code in TOLD_BY],
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=2000, required=False)

    initial_for = staticmethod(_told_by_initial)


class ExtendForm(DecisionForm):
    prefix = "extend"
    until = forms.DateField(
        label=gettext_lazy("New answer date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(
        label=gettext_lazy("Why more time is needed"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    told_by = forms.ChoiceField(
        label=gettext_lazy("How the client is told"),
        choices=[(code, labels.TOLD_BY[code]) for code in TOLD_BY],
    )

    initial_for = staticmethod(_told_by_initial)


class ReclassifyForm(DecisionForm):
    """Shows the matter's classification as it is; what the team lead changes is what changes."""

    prefix = "reclassify"
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"), choices=[(code, labels.CHANNELS[code]) for code in WRITTEN_CHANNELS]
    )
    service = ServiceField(label=gettext_lazy("Service"), required=False)
    not_client_matter = forms.ChoiceField(
        label=gettext_lazy("Is it a client matter?"),
        choices=list(labels.NOT_CLIENT_MATTER.items()),
        required=False,
    )
    comment = forms.CharField(
        label=gettext_lazy("Why"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    @staticmethod
    def initial_for(interaction: Interaction) -> dict[str, Any]:
        return {
            "channel": interaction.channel,
            "service": interaction.service.code if interaction.service else None,
            "not_client_matter": interaction.not_client_matter,
        }


class SpokenReclassifyForm(ReclassifyForm):
    """A call or a visit keeps its channel: a team lead corrects its service or sets it aside."""

    channel = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Decisions:
    """The decision forms the matter's page shows to this user (None: not offered)."""

    answer: AnswerForm
    forward: ForwardForm
    extend: ExtendForm | None  # only for a formal submission: a SUBM-ANS clock that counts
    reclassify: ReclassifyForm | None  # team leads only


def decisions_for(interaction: Interaction, user: User, bound: DecisionForm | None = None) -> Decisions:
    """The forms for the page, `bound` (one the user just posted, with its errors) in its place."""

    def form(form_class: type[DecisionForm]) -> Any:
        if bound is not None and isinstance(bound, form_class):
            return bound
        return form_class(interaction=interaction)

    return Decisions(
        answer=form(AnswerForm),
        forward=form(ForwardForm),
        extend=form(ExtendForm) if live_clock_exists(interaction, SUBM_ANS) else None,
        reclassify=form(ReclassifyForm) if Role.TEAM_LEAD in user_roles(user) else None,
    )
