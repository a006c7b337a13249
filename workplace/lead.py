"""The team lead's pages: the breach board (filters, acknowledge with a reason), service levels per day
as charts, the MK399 report, the working-time calendar with its overrides and legal sources, and the
absences of the unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from agents.errors import DomainError
from agents.models import Absence, Person, Role, Unit
from contact_centre.models import Service
from sla.models import Breach, BreachReason, CalendarOverride, OfficeHours, OverrideKind, Policy
from sla.selectors import breach_list, breach_scope
from sla.service_level import ServiceLevelRow, service_level
from sla.services import breach_acknowledge, calendar_override_create, calendar_override_delete
from workplace.access import roles_required, signed_in_person, signed_in_user

BOARD_PAGE = 50
LEVEL_RULES = ("PH-RING", "EM-ACK", "EM-REPLY")


class BreachFilterForm(forms.Form):
    rule = forms.ChoiceField(label=gettext_lazy("Rule"), required=False)
    unit = forms.ModelChoiceField(
        label=gettext_lazy("Unit"), queryset=Unit.objects.all(), required=False, to_field_name="code"
    )
    agent = forms.ModelChoiceField(
        label=gettext_lazy("Agent"), queryset=Person.objects.none(), required=False
    )
    service = forms.ModelChoiceField(
        label=gettext_lazy("Service"), queryset=Service.objects.filter(active=True), required=False,
        to_field_name="code",
    )  # fmt: skip
    since = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=gettext_lazy("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    acknowledged = forms.ChoiceField(
        label=gettext_lazy("Reviewed"),
        required=False,
        choices=[("", gettext_lazy("All")), ("no", gettext_lazy("Not yet")), ("yes", gettext_lazy("Done"))],
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        rules = Policy.objects.values_list("rule_id", flat=True)
        self.fields["rule"].choices = [("", _("All")), *((rule, rule) for rule in rules)]  # type: ignore[attr-defined]
        people = Person.objects.select_related("user").order_by("user__last_name", "user__first_name")
        self.fields["agent"].queryset = people  # type: ignore[attr-defined]


def _breaches(request: HttpRequest, form: BreachFilterForm) -> object:
    data = form.cleaned_data if form.is_valid() else {}
    rows = breach_list(
        scope=breach_scope(signed_in_user(request)),
        rule=data.get("rule") or None,
        unit=data["unit"].code if data.get("unit") else None,
        agent=data["agent"].pk if data.get("agent") else None,
        breached_from=data.get("since"),
        breached_to=data.get("until"),
    ).select_related("reason", "interaction__service")
    if data.get("service"):
        rows = rows.filter(interaction__service=data["service"])
    if data.get("acknowledged") == "no":
        rows = rows.filter(acknowledged_at__isnull=True)
    elif data.get("acknowledged") == "yes":
        rows = rows.filter(acknowledged_at__isnull=False)
    return Paginator(rows, BOARD_PAGE).get_page(request.GET.get("page"))


@roles_required(Role.TEAM_LEAD)
def lead_breaches(request: HttpRequest) -> HttpResponse:
    form = BreachFilterForm(request.GET or None)
    context = {
        "form": form,
        "page": _breaches(request, form),
        "reasons": BreachReason.objects.filter(active=True),
        "query": request.GET.urlencode(),
    }
    template = (
        "workplace/lead/_breach_rows.html"
        if request.headers.get("HX-Request")
        else "workplace/lead/breaches.html"
    )
    return render(request, template, context)


@require_POST
@roles_required(Role.TEAM_LEAD)
def lead_breach_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    scope = breach_scope(signed_in_user(request))
    rows = Breach.objects.all() if scope is None else Breach.objects.filter(scope)
    breach = get_object_or_404(rows, pk=pk)
    reason = BreachReason.objects.filter(code=request.POST.get("reason", ""), active=True).first()
    if reason is None:
        messages.error(request, _("Choose a reason."))
    else:
        breach_acknowledge(
            breach=breach, by=signed_in_user(request), reason=reason, comment=request.POST.get("comment", "")
        )
        messages.success(request, _("Breach acknowledged."))
    query = QueryDict(request.POST.get("query", "")).urlencode()  # re-encoded: only a query string
    return redirect(f"{reverse('lead-breaches')}?{query}")


# --- Service levels ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayBar:
    day: str
    percent: float | None
    decided: int


def _bars(rows: list[ServiceLevelRow], rule_id: str) -> list[DayBar]:
    bars = []
    for row in rows:
        level = row.rules.get(rule_id)
        decided = (level.met + level.breached) if level else 0
        bars.append(DayBar(str(row.key), level.percent_on_time if level else None, decided))
    return bars


LEVELS_DAYS = 30
LEVELS_MAX_DAYS = 366


def _period(request: HttpRequest) -> tuple[date, date]:
    """The days asked for (`since`, `until`), else the last 30; never more than a year."""
    today = timezone.localdate()
    try:
        last = date.fromisoformat(request.GET["until"]) if request.GET.get("until") else today
        first = date.fromisoformat(request.GET["since"]) if request.GET.get("since") else None
    except ValueError:
        last, first = today, None
    if first is None or first > last or (last - first).days > LEVELS_MAX_DAYS:
        first = last - timedelta(days=LEVELS_DAYS - 1)
    return first, last


@roles_required(Role.TEAM_LEAD)
def lead_levels(request: HttpRequest) -> HttpResponse:
    first, last = _period(request)
    by_day = service_level(first=first, last=last, group_by="day")
    by_agent = service_level(first=first, last=last, group_by="agent")
    by_service = service_level(first=first, last=last, group_by="service")
    charts = [(rule_id, _bars(by_day, rule_id)) for rule_id in LEVEL_RULES]
    context = {
        "first": first,
        "last": last,
        "charts": charts,
        "by_agent": by_agent,
        "by_service": by_service,
        "rules": LEVEL_RULES,
        "years": range(last.year, last.year - 5, -1),
    }
    return render(request, "workplace/lead/levels.html", context)


# --- Calendar -----------------------------------------------------------------------------------


class OverrideForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=[
            (OverrideKind.HOLIDAY, gettext_lazy("Extra public holiday")),
            (OverrideKind.DAY_OFF, gettext_lazy("Extra day off")),
            (OverrideKind.WORKING_SATURDAY, gettext_lazy("Working Saturday")),
        ],
    )
    replaces = forms.DateField(
        label=gettext_lazy("Working Saturday: the weekday it replaces"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    legal_source = forms.CharField(label=gettext_lazy("Legal source"), max_length=300)
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


def _calendar_page(request: HttpRequest, form: OverrideForm | None = None) -> HttpResponse:
    today = timezone.localdate()
    context = {
        "overrides": CalendarOverride.objects.filter(day__gte=today.replace(month=1, day=1)).select_related(
            "created_by"
        ),
        "office_hours": OfficeHours.objects.all(),
        "form": form or OverrideForm(),
    }
    return render(request, "workplace/lead/calendar.html", context)


@roles_required(Role.TEAM_LEAD)
def lead_calendar(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _calendar_page(request)
    form = OverrideForm(request.POST)
    if not form.is_valid():
        return _calendar_page(request, form)
    data = form.cleaned_data
    try:
        override = calendar_override_create(
            day=data["day"],
            kind=data["kind"],
            replaces=data["replaces"],
            name=data["name"],
            legal_source=data["legal_source"],
            note=data["note"],
            created_by=signed_in_user(request),
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return _calendar_page(request, form)
    moved = override.day  # the change row counts the clocks; the page lists it
    messages.success(
        request, _("Calendar changed for %(day)s; running deadlines were moved.") % {"day": moved}
    )
    return redirect("lead-calendar")


@require_POST
@roles_required(Role.TEAM_LEAD)
def lead_calendar_delete(request: HttpRequest, pk: int) -> HttpResponse:
    override = get_object_or_404(CalendarOverride, pk=pk)
    calendar_override_delete(override=override, deleted_by=signed_in_user(request))
    messages.success(request, _("Override removed; running deadlines were moved back."))
    return redirect("lead-calendar")


# --- Absences -------------------------------------------------------------------------------------


@roles_required(Role.TEAM_LEAD)
def lead_absences(request: HttpRequest) -> HttpResponse:
    lead = signed_in_person(request)
    units = set(Unit.objects.filter(leads=lead).values_list("pk", flat=True)) | ({lead.unit_id} - {None})
    now = timezone.now()
    rows = (
        Absence.objects.filter(person__unit__in=units, ends_at__gt=now)
        .select_related("person__user", "substitute__user")
        .order_by("starts_at")
    )
    return render(request, "workplace/lead/absences.html", {"absences": rows, "now": now})
