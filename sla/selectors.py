"""Reads for the API and reports."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.db.models import Count, Exists, Model, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from agents.models import Person, Role, Unit
from agents.selectors import user_roles
from contact_centre.models import Channel, Interaction
from sla.models import Breach, Clock, ClockState, Policy
from sla.services import policy_get

ONE_DAY = timedelta(days=1)
_Row = TypeVar("_Row", bound=Model)


def _day_start(day: date) -> datetime:
    """Midnight of a Riga calendar date (the API's date filters are local dates)."""
    return timezone.make_aware(datetime.combine(day, time.min))


# DATA: which channels each role works on. Agents and handlers see their own unit's matters, matters
# they own and matters not yet routed to a unit; team leads also their led units' matters; quality
# officers every phone matter (they review the whole line); staff admins everything.
CHANNELS_BY_ROLE: dict[str, frozenset[str]] = {
    Role.PHONE_AGENT: frozenset({Channel.PHONE, Channel.VISIT}),
    Role.EMAIL_HANDLER: frozenset({Channel.EMAIL, Channel.PORTAL, Channel.POST, Channel.E_ADDRESS}),
    Role.QUALITY_OFFICER: frozenset({Channel.PHONE}),
    Role.TEAM_LEAD: frozenset(Channel.values),
}
NOTHING = Q(pk__in=[])


def person_units(user: User) -> tuple[Person | None, set[int]]:
    """The user's Person row and the units they belong to or lead."""
    person = Person.objects.filter(user=user).first()
    if person is None:
        return None, set()
    units = set(Unit.objects.filter(leads=person).values_list("pk", flat=True))
    if person.unit_id is not None:
        units.add(person.unit_id)
    return person, units


def interaction_scope(user: User, *, as_role: str | None = None) -> Q | None:
    """The interactions `user` may see, as a filter; None for everything (staff admins).

    With `as_role`, only what that one of the user's roles lets them see: a team lead who is also a
    quality officer hears every unit's calls, but acts as a lead on their own units' only.
    """
    if user.is_staff:
        return None
    person, units = person_units(user)
    near = Q(unit__in=units) | Q(unit__isnull=True) | (Q(owner=person) if person else NOTHING)
    scope = NOTHING
    roles = user_roles(user)
    for role in roles if as_role is None else roles & {as_role}:
        channels = Q(channel__in=CHANNELS_BY_ROLE[role])
        scope |= channels if role == Role.QUALITY_OFFICER else channels & near
    return scope


def breach_scope(user: User) -> Q | None:
    """Breaches `user` may see: a team lead's units (and unrouted ones), else the matters they own."""
    if user.is_staff:
        return None
    person, units = person_units(user)
    scope = Q(owner=person) if person else NOTHING
    if Role.TEAM_LEAD in user_roles(user):
        scope |= Q(unit__in=units) | Q(unit__isnull=True)
    return scope


def _within_days(
    queryset: QuerySet[_Row], field: str, first: date | None, last: date | None
) -> QuerySet[_Row]:
    """Rows whose `field` falls on the Riga dates first..last, both included (either may be open)."""
    if first:
        queryset = queryset.filter(**{f"{field}__gte": _day_start(first)})
    if last:
        queryset = queryset.filter(**{f"{field}__lt": _day_start(last + ONE_DAY)})
    return queryset


def _breached_clocks(now: datetime) -> QuerySet[Clock]:
    overdue = Q(state=ClockState.PENDING, deadline__due_at__lt=now)
    return Clock.objects.filter(Q(state=ClockState.BREACHED) | overdue, interaction=OuterRef("pk"))


def interaction_list(
    *,
    scope: Q | None,
    now: datetime,
    channel: str | None = None,
    state: str | None = None,
    breached: bool | None = None,
    service: str | None = None,
    opened_from: date | None = None,
    opened_to: date | None = None,
) -> QuerySet[Interaction]:
    """Interactions on the given channels, newest first, with their clocks prefetched (2 queries a page)."""
    queryset = Interaction.objects.all() if scope is None else Interaction.objects.filter(scope)
    if channel:
        queryset = queryset.filter(channel=channel)
    if state:
        queryset = queryset.filter(state=state)
    if service:
        queryset = queryset.filter(service__code=service)
    queryset = _within_days(queryset, "opened_at", opened_from, opened_to)
    if breached is not None:
        has_breach = Exists(_breached_clocks(now))
        queryset = queryset.filter(has_breach if breached else ~has_breach)
    return (
        queryset.select_related("service", "unit", "owner__user")
        .prefetch_related(
            Prefetch(
                "clocks",
                queryset=Clock.objects.select_related("deadline__recomputed_by").order_by(
                    "opened_by_seq", "rule_id"
                ),
            )
        )
        .order_by("-opened_at", "-id")
    )


def breach_list(
    *,
    scope: Q | None = None,
    rule: str | None = None,
    unit: str | None = None,
    agent: int | None = None,
    breached_from: date | None = None,
    breached_to: date | None = None,
    withdrawn: bool = False,
) -> QuerySet[Breach]:
    """Breaches within `scope` (None: all), newest first; withdrawn ones only when asked for."""
    queryset = Breach.objects.select_related("interaction", "unit", "owner__user")
    if scope is not None:
        queryset = queryset.filter(scope)
    if not withdrawn:
        queryset = queryset.filter(withdrawn_at__isnull=True)
    if rule:
        queryset = queryset.filter(
            rule_id=policy_get(rule, {p.rule_id: p for p in Policy.objects.all()}).rule_id
        )
    if unit:
        queryset = queryset.filter(unit__code=unit)
    if agent:
        queryset = queryset.filter(owner_id=agent)
    queryset = _within_days(queryset, "breached_at", breached_from, breached_to)
    return queryset.order_by("-breached_at", "-id")


def breach_reasons_report(*, first: date, last: date) -> list[dict[str, object]]:
    """Breaches raised on the Riga days first..last by the reason team leads gave, per rule: what the
    misses came from (staff shortage, an outage, …). Reclassified breaches are counted apart; breaches
    not yet reviewed have no reason. One grouped query."""
    rows = _within_days(Breach.objects.all(), "breached_at", first, last)
    grouped = rows.values("reason__code", "reason__name_lv", "reason__name_en", "rule_id").annotate(
        breaches=Count("pk", filter=Q(withdrawn_at__isnull=True)),
        reclassified=Count("pk", filter=Q(withdrawn_at__isnull=False)),
    )
    report: dict[str | None, dict[str, Any]] = {}
    for row in grouped.order_by("reason__code", "rule_id"):
        entry = report.setdefault(
            row["reason__code"],
            {
                "reason": row["reason__code"],
                "name_lv": row["reason__name_lv"] or "Nav izskatīts",
                "name_en": row["reason__name_en"] or "Not reviewed yet",
                "breaches": 0,
                "reclassified": 0,
                "by_rule": {},
            },
        )
        entry["breaches"] += row["breaches"]
        entry["reclassified"] += row["reclassified"]
        entry["by_rule"][row["rule_id"]] = row["breaches"]
    return sorted(report.values(), key=lambda entry: -int(entry["breaches"]))
