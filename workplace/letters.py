"""Registering a letter that came by post or to the e-address: its registration number, when it arrived
(Riga time), the client, the subject, the service and, if there is one, the scan. The matter opens with the
clocks its channel's policy names (SUBM-ANS) and the handler lands on its page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agents.errors import DomainError
from agents.models import Role
from contact_centre.models import WRITTEN_BY_HAND
from intake.services import letter_register_with_scan, written_matter_from
from workplace.access import roles_required, signed_in_user
from workplace.fields import ServiceField
from workplace.labels import CHANNELS

LETTER_ROLES = (Role.EMAIL_HANDLER, Role.TEAM_LEAD)


class LetterForm(forms.Form):
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"), choices=[(code, CHANNELS[code]) for code in WRITTEN_BY_HAND]
    )
    registration_number = forms.CharField(label=gettext_lazy("Registration number"), max_length=100)
    arrived_at = forms.DateTimeField(
        label=gettext_lazy("Arrived (Riga time)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    client_name = forms.CharField(label=gettext_lazy("Client"), max_length=300)
    client_contact = forms.CharField(
        label=gettext_lazy("Contact (address, e-address or e-mail)"), max_length=320, required=False
    )
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=998, required=False)
    service = ServiceField(label=gettext_lazy("Service"), required=False)
    scan = forms.FileField(label=gettext_lazy("Scan (optional)"), required=False)


def _page(request: HttpRequest, form: LetterForm) -> HttpResponse:
    return render(request, "workplace/letters/new.html", {"form": form})


@roles_required(*LETTER_ROLES)
def letter_new(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, LetterForm())
    form = LetterForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form)
    data = form.cleaned_data
    matter = written_matter_from(data)
    try:
        interaction, created = letter_register_with_scan(
            matter=matter, scan=data["scan"], by=signed_in_user(request), now=timezone.now()
        )
    except DomainError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _page(request, form)
    if created:
        messages.success(
            request, _("Letter registered as %(reference)s.") % {"reference": interaction.reference}
        )
    else:
        messages.success(
            request,
            _("This letter was registered already as %(reference)s.") % {"reference": interaction.reference},
        )
    return redirect("mail-thread", pk=interaction.pk)
