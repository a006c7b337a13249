"""Reads for the API and reports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from django.contrib.auth.models import User
from django.db.models import Exists, Model, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from contact_centre.models import Interaction
from sla.models import Breach, Clock, ClockState, Policy
from sla.services import policy_get

ONE_DAY = timedelta(days=1)
_Row = TypeVar("_Row", bound=Model)


def _day_start(day: date) -> datetime:
    """Midnight of a Riga calendar date (the API's date filters are local dates)."""
    return timezone.make_aware(datetime.combine(day, time.min))


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
    channels: Iterable[str],
    now: datetime,
    channel: str | None = None,
    state: str | None = None,
    breached: bool | None = None,
    service: str | None = None,
    opened_from: date | None = None,
    opened_to: date | None = None,
) -> QuerySet[Interaction]:
    """Interactions on the given channels, newest first, with their clocks prefetched (2 queries a page)."""
    queryset = Interaction.objects.filter(channel__in=list(channels))
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
    only_owner_user: User | None = None,
    rule: str | None = None,
    unit: str | None = None,
    agent: int | None = None,
    breached_from: date | None = None,
    breached_to: date | None = None,
) -> QuerySet[Breach]:
    """Breaches, newest first; `only_owner_user` narrows to the matters that user owns."""
    queryset = Breach.objects.select_related("interaction", "unit", "owner__user")
    if only_owner_user is not None:
        queryset = queryset.filter(owner__user=only_owner_user)
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
