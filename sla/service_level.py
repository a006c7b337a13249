"""Service levels for team leads: how many PH-RING, EM-ACK, EM-REPLY, PORTAL-ANS and SUBM-ANS clocks were
met on time.

Read straight from the clocks, not from the nightly counts, so today is included and a pending clock
that is already past its due time counts as breached at once (the sweep may not have reached it yet).
A clock belongs to the Riga day it started on (the call reached the line, the e-mail arrived, a holding
reply promised a date); it is grouped by that day, or by its interaction's unit, owner or service.
Stopped clocks (a short abandon, a matter closed in time) are neither met nor breached: they are shown
apart and left out of the percentage, as the handbook says of short abandons.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from agents.models import Person, Unit
from contact_centre.models import Service
from sla.models import Clock, ClockState, Policy
from sla.rules import EM_ACK, EM_REPLY, PH_RING, PORTAL_ANS, SUBM_ANS

RULES = (PH_RING, EM_ACK, EM_REPLY, PORTAL_ANS, SUBM_ANS)
GROUPINGS = ("day", "unit", "agent", "service")
NOT_SET = "Nav norādīts / Not set"
MAX_DAYS = 366  # a leap year: a team lead may ask for a whole year at once

GroupKey = int | str | None  # a unit, person or service id, an ISO day, or None for "not set"

# One COUNT ... FILTER per state: a single pass over the range's clocks gives every figure.
_STATE_COUNTS = {
    name: Count("pk", filter=Q(state=state))
    for name, state in (
        ("met", ClockState.MET),
        ("breached", ClockState.BREACHED),
        ("pending", ClockState.PENDING),
        ("stopped", ClockState.STOPPED),
    )
}


@dataclass(frozen=True)
class RuleLevel:
    """One rule's clocks in one group; `percent_on_time` is None when nothing was decided yet."""

    met: int
    breached: int
    pending: int
    stopped: int
    percent_on_time: float | None


@dataclass(frozen=True)
class ServiceLevelRow:
    key: GroupKey
    label: str
    rules: dict[str, RuleLevel]


def service_level(
    *,
    first: date,
    last: date,
    group_by: str,
    unit_id: int | None = None,
    agent_id: int | None = None,
    service_id: int | None = None,
    at: datetime | None = None,
) -> list[ServiceLevelRow]:
    """Per group and rule: met, breached (overdue pending included), pending, stopped, % on time.

    Clocks that started on the Riga days `first`..`last`, judged at `at` (now by default). At most three
    queries whatever the number of clocks: the totals, the overdue pending clocks, the groups' names.
    Groups without a clock in the range have no row.
    """
    if group_by not in GROUPINGS:
        raise ValueError(f"group_by must be one of {GROUPINGS}, not {group_by!r}")
    at = at or timezone.now()
    clocks = _clocks_started(first, last, unit_id=unit_id, agent_id=agent_id, service_id=service_id)
    grouped = clocks.annotate(group_key=_group_expression(group_by)).values("group_key", "rule_id")
    totals = _by_group_and_rule(grouped.annotate(**_STATE_COUNTS))
    overdue = _by_group_and_rule(
        grouped.filter(state=ClockState.PENDING, deadline__due_at__lt=at).annotate(overdue=Count("pk"))
    )
    labels = _labels(group_by, {key for key, _ in totals})
    rows = [
        ServiceLevelRow(
            key=_key_out(key),
            label=labels.get(key, NOT_SET),
            rules={
                rule_id: _level(totals.get((key, rule_id)), overdue.get((key, rule_id))) for rule_id in RULES
            },
        )
        for key in {key for key, _ in totals}
    ]
    return sorted(rows, key=_row_order(group_by))


def rule_titles() -> dict[str, str]:
    """Each rule's title, Latvian first (the admin edits them; the rule ID stands in for a missing one)."""
    titles = {
        policy.rule_id: f"{policy.title_lv} / {policy.title_en}"
        for policy in Policy.objects.filter(rule_id__in=RULES)
    }
    return {rule_id: titles.get(rule_id, rule_id) for rule_id in RULES}


def riga_days(first: date, last: date) -> tuple[datetime, datetime]:
    """The instants from the start of local day `first` to the start of the day after `last`.

    Midnight in the current zone (Europe/Riga), so a DST night's day is 23 or 25 hours long.
    """
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
    return start, end


def _clocks_started(
    first: date, last: date, *, unit_id: int | None, agent_id: int | None, service_id: int | None
) -> QuerySet[Clock]:
    # No index serves started_at: on PostgreSQL with a million clocks a week is one parallel scan of
    # about 60 ms (an index on (rule_id, started_at) made it 18 ms) and a year 0.5 s, which no index
    # shortens. The overdue count reaches the pending clocks through clock_pending_deadline.
    start, end = riga_days(first, last)
    clocks = Clock.objects.filter(rule_id__in=RULES, started_at__gte=start, started_at__lt=end)
    narrowed = {
        "interaction__unit_id": unit_id,
        "interaction__owner_id": agent_id,
        "interaction__service_id": service_id,
    }
    # order_by(): Clock's default ordering would otherwise be added to the GROUP BY.
    return clocks.filter(**{name: value for name, value in narrowed.items() if value is not None}).order_by()


def _group_expression(group_by: str) -> Any:
    if group_by == "day":
        return TruncDate("started_at", tzinfo=timezone.get_current_timezone())
    field = {"unit": "unit_id", "agent": "owner_id", "service": "service_id"}[group_by]
    return F(f"interaction__{field}")


def _by_group_and_rule(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[Any, str], Mapping[str, Any]]:
    return {(row["group_key"], row["rule_id"]): row for row in rows}


def _level(counts: Mapping[str, int] | None, overdue: Mapping[str, int] | None) -> RuleLevel:
    """The figures of one rule in one group; a pending clock past its due time is breached already."""
    counts = counts or {}
    # The two counts are separate statements: a clock settled between them must not count twice.
    late = min(overdue["overdue"] if overdue else 0, counts.get("pending", 0))
    met, breached = counts.get("met", 0), counts.get("breached", 0) + late
    return RuleLevel(
        met=met,
        breached=breached,
        pending=counts.get("pending", 0) - late,
        stopped=counts.get("stopped", 0),
        percent_on_time=_percent(met, met + breached),
    )


def _percent(part: int, whole: int) -> float | None:
    """`part` of `whole` in per cent to one decimal, halves rounded up (66.65 → 66.7); None for 0 of 0."""
    if whole == 0:
        return None
    return float((Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _labels(group_by: str, keys: set[Any]) -> dict[Any, str]:
    """The groups' names: an ISO day, a unit's name, a person's name, a service's Latvian name."""
    ids = {key for key in keys if key is not None}
    if group_by == "day":
        return {day: day.isoformat() for day in ids}
    if group_by == "unit":
        return dict(Unit.objects.filter(pk__in=ids).values_list("pk", "name"))
    if group_by == "service":
        return dict(Service.objects.filter(pk__in=ids).values_list("pk", "name_lv"))
    return {person.pk: str(person) for person in Person.objects.filter(pk__in=ids).select_related("user")}


def _key_out(key: Any) -> GroupKey:
    return key.isoformat() if isinstance(key, date) else key


def _row_order(group_by: str) -> Callable[[ServiceLevelRow], Any]:
    """Days in order; otherwise by name, the group without one ("not set") last."""
    if group_by == "day":
        return lambda row: str(row.key)
    return lambda row: (row.key is None, _collation_key(row.label), str(row.key))


def _collation_key(label: str) -> str:
    # Close to Latvian order without a system locale: "Ābele" next to "Anna", not after "Zariņa".
    decomposed = unicodedata.normalize("NFKD", label.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))
