"""Writes of the SLA: clocks kept from the ledger, breaches, calendar edits and their recompute."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from agents.errors import DomainError
from contact_centre.models import Event, EventKind, Interaction
from contact_centre.services import Fact, events_append_many
from sla.alerts import warning_next
from sla.calendar import (
    RingCadence,
    WorkingCalendar,
    add_working_days,
    due_from_basis,
    is_working_day,
    local_date,
    office_hours_on,
    ring_deadline_ms,
)
from sla.calendar_source import (
    FIRST_YEAR,
    YEARS_AHEAD,
    calendar_build_from_database,
    calendar_forget,
)
from sla.models import (
    Breach,
    BreachReason,
    BreachReview,
    CalendarChange,
    CalendarOverride,
    ChannelPolicy,
    Clock,
    ClockState,
    Deadline,
    LedgerCursor,
    Mk399Publication,
    OfficeHours,
    OverrideKind,
    Policy,
    PolicyKind,
    ReviewAction,
)


def policy_get(rule_id: str, policies: dict[str, Policy] | None = None) -> Policy:
    """The policy of a rule ID, or DomainError `rule_unknown` listing the known ones."""
    known = policies if policies is not None else {p.rule_id: p for p in Policy.objects.all()}
    policy = known.get(rule_id.strip().upper())
    if policy is None:
        raise DomainError(
            "rule_unknown",
            f"Nezināms noteikums / Unknown rule {rule_id!r}; known: {', '.join(sorted(known))}",
            field="rule",
        )
    return policy


def policy_ring_cadence(policy: Policy) -> RingCadence:
    return RingCadence(on_ms=policy.ring_on_ms, off_ms=policy.ring_off_ms)


def policy_due_at(policy: Policy, started_at: datetime, calendar: WorkingCalendar) -> datetime:
    """When `policy` falls due for something that arrived at `started_at` (the `sla_due` answer)."""
    if policy.kind == PolicyKind.RINGS:
        return started_at + timedelta(
            milliseconds=ring_deadline_ms(policy.amount, policy_ring_cadence(policy))
        )
    if policy.kind == PolicyKind.MINUTES:
        return started_at + timedelta(minutes=policy.amount)
    if policy.kind == PolicyKind.DAYS_AHEAD:
        # VISIT-BOOK: the earliest bookable moment is the opening of the N-th working day after booking.
        return _opening_of(
            due_from_basis(local_date(started_at, calendar), policy.amount, calendar), calendar
        )
    return add_working_days(started_at, policy.amount, calendar)


def _opening_of(close_at: datetime, calendar: WorkingCalendar) -> datetime:
    hours = office_hours_on(close_at.date(), calendar)
    if hours is None:  # due_from_basis only returns working days, so this cannot happen
        raise DomainError("calendar_inconsistent", f"{close_at.date()} has no office hours")
    return hours[0]


# --- Clocks -------------------------------------------------------------------------------------


@dataclass
class SyncContext:
    calendar: WorkingCalendar
    policies: dict[str, Policy]
    # Deadlines looked up in this sync, by (basis day, working days): a batch of e-mails from one day
    # shares a handful of them.
    deadlines: dict[tuple[date, int], Deadline] = field(default_factory=dict)


def deadline_for_basis(basis_on: date, working_days: int, calendar: WorkingCalendar) -> Deadline:
    """The shared deadline of everything counted `working_days` from `basis_on` (kept current by edits)."""
    deadline, _created = Deadline.objects.get_or_create(
        basis_on=basis_on,
        working_days=working_days,
        defaults={"due_at": due_from_basis(basis_on, working_days, calendar)},
    )
    return deadline


def deadline_fixed(due_at: datetime) -> Deadline:
    """A deadline at a fixed instant (rings), which no calendar edit moves."""
    deadline, _created = Deadline.objects.get_or_create(basis_on=None, working_days=None, due_at=due_at)
    return deadline


def _deadline_cached(ctx: SyncContext, basis_on: date, working_days: int) -> Deadline:
    key = (basis_on, working_days)
    if key not in ctx.deadlines:
        ctx.deadlines[key] = deadline_for_basis(basis_on, working_days, ctx.calendar)
    return ctx.deadlines[key]


# Counted in wall-clock time from the fact, so no calendar edit moves them.
FIXED_DEADLINE_KINDS = (PolicyKind.RINGS, PolicyKind.MINUTES)


def clock_open(
    ctx: SyncContext,
    *,
    event: Event,
    rule_id: str,
    basis_on: date | None = None,
    working_days: int | None = None,
    detail: dict[str, object] | None = None,
    started_at: datetime | None = None,
) -> Clock:
    """Open `rule_id`'s clock from `event`, counting from `started_at` (default: the event's time; a
    forwarding clock counts from the matter's arrival). Unique key: (interaction, rule, opening event)."""
    policy = policy_get(rule_id, ctx.policies)
    started_at = started_at or event.occurred_at
    if policy.kind in FIXED_DEADLINE_KINDS:
        deadline = deadline_fixed(policy_due_at(policy, started_at, ctx.calendar))
    else:
        basis_on = basis_on or local_date(started_at, ctx.calendar)
        working_days = policy.amount if working_days is None else working_days
        deadline = _deadline_cached(ctx, basis_on, working_days)
    if not deadline.sweep_pending:  # a late fact's clock on a deadline the sweep has finished with
        Deadline.objects.filter(pk=deadline.pk).update(sweep_pending=True)
        deadline.sweep_pending = True
    warning = None
    if policy.kind == PolicyKind.WORKING_DAYS:
        warning = warning_next(
            started_at=started_at, due_at=deadline.due_at, after_percent=0, calendar=ctx.calendar
        )
    # A plain INSERT: each event is applied once (the sync holds the cursor, and an event that fails
    # rolls back to its own savepoint), and the unique key (interaction, rule, event) guards the rest.
    return Clock.objects.create(
        interaction_id=event.interaction_id,
        rule_id=policy.rule_id,
        opened_by_seq=event.seq,
        started_at=started_at,
        deadline=deadline,
        detail=detail or {},
        next_warning_at=warning[1] if warning else None,
        warnings_planned_for=deadline.due_at if policy.kind == PolicyKind.WORKING_DAYS else None,
    )


def channel_arrival_rules(channel: str) -> tuple[str, ...]:
    """The rules whose clocks a matter arriving on a written channel gets (ChannelPolicy, admin-edited)."""
    policy = ChannelPolicy.objects.filter(channel=channel).first()
    return tuple(policy.rule_ids) if policy is not None else ()


def voidable_clocks(interaction_id: int, *rule_ids: str) -> list[Clock]:
    """Running or breached clocks of these rules (met ones keep their verdict through a reclassification)."""
    return list(
        Clock.objects.select_for_update()
        .select_related("deadline")
        .filter(
            interaction_id=interaction_id,
            rule_id__in=rule_ids,
            state__in=(ClockState.PENDING, ClockState.BREACHED),
        )
    )


def live_clock_exists(interaction: Interaction, rule_id: str) -> bool:
    """Whether the matter has a clock of `rule_id` that counts (running or decided, not stopped)."""
    return interaction.clocks.filter(rule_id=rule_id).exclude(state=ClockState.STOPPED).exists()


def pending_clocks(interaction_id: int, *rule_ids: str) -> list[Clock]:
    return list(
        Clock.objects.select_for_update()
        .select_related("deadline")
        .filter(interaction_id=interaction_id, rule_id__in=rule_ids, state=ClockState.PENDING)
    )


def unsettled_clocks(interaction_id: int, *rule_ids: str) -> list[Clock]:
    """Clocks still waiting for their fact: pending, or breached by the sweep before the fact came."""
    waiting = Q(state=ClockState.PENDING) | Q(state=ClockState.BREACHED, met_at__isnull=True)
    return list(
        Clock.objects.select_for_update()
        .select_related("deadline")
        .filter(waiting, interaction_id=interaction_id, rule_id__in=rule_ids)
    )


def clock_settle(
    clock: Clock,
    *,
    at: datetime,
    on_time: bool | None = None,
    fulfilled: bool = True,
    detail: dict[str, Any] | None = None,
) -> Clock:
    """Decide a clock by the fact that ends it: met if on time, else breached at its due time.

    `on_time` overrides the comparison with the due time (PH-RING judges by the measured wait);
    `fulfilled` is False for a fact that ends the clock without doing what the rule asks (a caller who
    hung up after the third ring), so no `met_at` is recorded. A clock the sweep breached before the
    fact reached the ledger is met after all when the fact was on time, and its breach is withdrawn.
    """
    if detail:
        clock.detail = {**clock.detail, **detail}
    met = (at <= clock.due_at) if on_time is None else on_time
    if clock.state == ClockState.PENDING:
        clock.settled_due_at = clock.due_at  # frozen: later calendar edits do not rewrite a verdict
        if met:
            clock.state, clock.met_at = ClockState.MET, at
        else:
            clock.state, clock.breached_at = ClockState.BREACHED, clock.due_at
            clock.met_at = at if fulfilled else None
    elif _breached_before_the_fact(clock) and fulfilled:
        clock.met_at = at
        if met:
            clock.state, clock.breached_at = ClockState.MET, None
            breach_withdraw(clock, reason="met on time; the fact reached the ledger after the sweep")
    clock.save(update_fields=["state", "settled_due_at", "met_at", "breached_at", "detail"])
    if clock.state == ClockState.BREACHED:
        breach_raise(clock)
    return clock


def _breached_before_the_fact(clock: Clock) -> bool:
    return clock.state == ClockState.BREACHED and clock.met_at is None and clock.stopped_at is None


def clock_stop(clock: Clock, *, at: datetime, reason: str, detail: dict[str, Any] | None = None) -> Clock:
    """End a clock without a verdict (a short abandon, a matter closed before its due time).

    Stopping after the due time is a breach, not a stop: closing an overdue matter must not hide it.
    A clock the sweep breached is stopped after all, its breach withdrawn, when the fact came in time.
    """
    if at > clock.due_at:
        if clock.state == ClockState.PENDING:
            return clock_settle(clock, at=at, on_time=False, fulfilled=False, detail=detail)
        return clock
    if clock.state == ClockState.PENDING:
        clock.settled_due_at = clock.due_at
    elif _breached_before_the_fact(clock):
        clock.breached_at = None
        breach_withdraw(
            clock, reason=f"{reason} before the due time; the fact reached the ledger after the sweep"
        )
    else:
        return clock
    clock.state, clock.stopped_at, clock.stop_reason = ClockState.STOPPED, at, reason
    if detail:
        clock.detail = {**clock.detail, **detail}
    clock.save(
        update_fields=["state", "settled_due_at", "breached_at", "stopped_at", "stop_reason", "detail"]
    )
    return clock


def clock_void(clock: Clock, *, at: datetime, reason: str) -> Clock:
    """A clock whose rule turned out not to apply (the matter was reclassified): stopped whatever its due
    time, and a breach it raised withdrawn (the row stays). A met clock keeps its verdict."""
    if clock.state == ClockState.PENDING:
        clock.settled_due_at = clock.due_at
    elif clock.state == ClockState.BREACHED:
        breach_withdraw(clock, reason=reason)
        clock.breached_at = None
    else:
        return clock
    clock.state, clock.stopped_at, clock.stop_reason = ClockState.STOPPED, at, reason
    clock.save(update_fields=["state", "settled_due_at", "breached_at", "stopped_at", "stop_reason"])
    return clock


def breach_withdraw(clock: Clock, *, reason: str) -> None:
    """Withdraw a clock's breach, keeping the row (nothing is deleted), with a ledger event. Idempotent."""
    breach = Breach.objects.select_for_update().filter(clock=clock, withdrawn_at__isnull=True).first()
    if breach is not None:
        _breach_withdrawn(breach, reason)


def _breach_withdrawn(breach: Breach, reason: str) -> datetime:
    now = timezone.now()
    breach.withdrawn_at, breach.withdraw_reason = now, reason[:200]
    breach.save(update_fields=["withdrawn_at", "withdraw_reason"])
    events_append_many([_breach_fact(breach, EventKind.SLA_BREACH_WITHDRAWN, reason=breach.withdraw_reason)])
    return now


def breach_raise(clock: Clock) -> Breach:
    """The breach row and ledger event of a breached clock. Idempotency key: the clock (one-to-one)."""
    existing = Breach.objects.filter(clock=clock).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return breaches_raise([clock])[0]
    except IntegrityError:  # a racing sweep raised it first
        return Breach.objects.get(clock=clock)


def breaches_raise(clocks: list[Clock]) -> list[Breach]:
    """Breach rows and `sla_breached` ledger events for clocks just breached (none raised before): a few
    statements however many. The event's source key is the clock, so the ledger holds each breach once."""
    if not clocks:
        return []
    interactions = Interaction.objects.in_bulk({clock.interaction_id for clock in clocks})
    raised_at = timezone.now()
    breaches = Breach.objects.bulk_create(
        Breach(
            clock=clock,
            rule_id=clock.rule_id,
            interaction_id=clock.interaction_id,
            due_at=clock.due_at,
            breached_at=clock.breached_at or clock.due_at,
            raised_at=raised_at,
            unit_id=interactions[clock.interaction_id].unit_id,
            owner_id=interactions[clock.interaction_id].owner_id,
        )
        for clock in clocks
    )
    events_append_many([_breach_fact(breach, EventKind.SLA_BREACHED) for breach in breaches])
    return breaches


def _breach_fact(breach: Breach, kind: str, **payload: object) -> Fact:
    return Fact(
        interaction_id=breach.interaction_id,
        kind=kind,
        occurred_at=breach.breached_at if kind == EventKind.SLA_BREACHED else timezone.now(),
        source_key=f"{kind}:{breach.clock_id}",
        payload={"rule_id": breach.rule_id, "due_at": breach.due_at.isoformat(), **payload},
    )


def sla_lock() -> LedgerCursor:
    """Serialise ledger application and calendar edits (one row lock, held to the end of the transaction).

    A calendar edit recomputes deadlines while no sync can create one from the old calendar, and a sync
    builds its calendar only after any edit before it has committed.
    """
    cursor = LedgerCursor.objects.select_for_update().filter(pk=1).first()
    if cursor is None:
        LedgerCursor.objects.get_or_create(pk=1)
        cursor = LedgerCursor.objects.select_for_update().get(pk=1)
    return cursor


# --- Calendar edits -----------------------------------------------------------------------------


def _override_check(
    day: date, kind: str, replaces: date | None, legal_source: str, calendar: WorkingCalendar
) -> None:
    if kind not in OverrideKind.values:
        raise DomainError("override_kind_unknown", f"Unknown override kind {kind!r}", field="kind")
    if not legal_source.strip():
        raise DomainError(
            "legal_source_missing", "Norādiet tiesisko pamatu / Name the legal source", field="legal_source"
        )
    if not FIRST_YEAR <= day.year <= calendar.last_year:
        raise DomainError(
            "override_out_of_range",
            f"{day} is outside the calendar ({FIRST_YEAR}–{calendar.last_year})",
            field="day",
        )
    if CalendarOverride.objects.filter(day=day).exists():
        raise DomainError("override_exists", f"{day} already has an override; edit that one", field="day")
    if kind == OverrideKind.WORKING_SATURDAY:
        _working_saturday_check(day, replaces, calendar)
    elif day.weekday() >= 5 and kind == OverrideKind.DAY_OFF:  # noqa: PLR2004 -- Saturday is weekday 5
        raise DomainError("override_impossible", f"{day} is a weekend day, already a day off", field="day")


def _working_saturday_check(day: date, replaces: date | None, calendar: WorkingCalendar) -> None:
    if day.weekday() != 5:  # noqa: PLR2004 -- Saturday
        raise DomainError("override_impossible", f"{day} is not a Saturday", field="day")
    if replaces is None or replaces.weekday() >= 5:  # noqa: PLR2004
        raise DomainError(
            "override_impossible", "A working Saturday replaces a weekday (Mon–Fri)", field="replaces"
        )
    if not is_working_day(replaces, calendar):
        raise DomainError("override_impossible", f"{replaces} is already a day off", field="replaces")


def calendar_override_create(
    *,
    day: date,
    kind: str,
    name: str,
    legal_source: str,
    replaces: date | None = None,
    note: str = "",
    created_by: User | None = None,
) -> CalendarOverride:
    """Add a holiday, a day off or a working Saturday, and move every pending clock it affects.

    Side effects: the override, a CalendarChange audit row, updated clocks (each naming the change).
    """
    with transaction.atomic():
        sla_lock()
        _override_check(day, kind, replaces, legal_source, _calendar_fresh())
        override = CalendarOverride.objects.create(
            day=day,
            kind=kind,
            replaces=replaces,
            name=name,
            legal_source=legal_source,
            note=note,
            created_by=created_by,
        )
        description = f"{kind} {day}" + (f" (replaces {replaces})" if replaces else "") + f": {name}"
        _calendar_changed(description=description, changed_by=created_by)
    return override


def calendar_override_delete(*, override: CalendarOverride, deleted_by: User | None = None) -> None:
    """Remove an override and move every pending clock it affected back."""
    with transaction.atomic():
        sla_lock()
        description = f"removed {override.kind} {override.day}: {override.name}"
        override.delete()
        _calendar_changed(description=description, changed_by=deleted_by)


def office_hours_set(
    *, weekday: int, opens_at: time | None, closes_at: time | None, changed_by: User | None = None
) -> None:
    """Set (or, with None, close) a weekday's office hours and move the clocks it affects."""
    if not 0 <= weekday <= 6:  # noqa: PLR2004
        raise DomainError("weekday_invalid", "weekday is 0 (Monday) to 6 (Sunday)", field="weekday")
    if (opens_at is None) != (closes_at is None) or (opens_at and closes_at and closes_at <= opens_at):
        raise DomainError("office_hours_invalid", "Closing must come after opening", field="closes_at")
    with transaction.atomic():
        sla_lock()
        if opens_at is None:
            OfficeHours.objects.filter(weekday=weekday).delete()
        else:
            hours: dict[str, Any] = {"opens_at": opens_at, "closes_at": closes_at}
            OfficeHours.objects.update_or_create(weekday=weekday, defaults=hours)
        _calendar_changed(description=f"office hours of weekday {weekday}", changed_by=changed_by)


def _calendar_fresh() -> WorkingCalendar:
    # Built from rows inside this transaction, never from the process cache, so a rolled-back edit
    # cannot leave a calendar behind that other code would trust.
    return calendar_build_from_database(
        first_year=FIRST_YEAR, last_year=timezone.localdate().year + YEARS_AHEAD
    )


def _calendar_changed(*, description: str, changed_by: User | None) -> None:
    change = CalendarChange.objects.create(description=description[:500], changed_by=changed_by)
    change.clocks_moved = deadlines_recompute(calendar=_calendar_fresh(), change=change)
    change.save(update_fields=["clocks_moved"])
    transaction.on_commit(calendar_forget)


def deadlines_recompute(*, calendar: WorkingCalendar, change: CalendarChange | None) -> int:
    """Move every working-day deadline whose due time `calendar` now puts elsewhere.

    Each moved deadline names the change and keeps its previous time, which is what every pending clock
    on it shows. Returns the number of pending clocks moved. Deadlines are few (one per basis date and
    number of working days), so this is a few thousand pure computations and a few hundred row writes
    whatever the number of clocks; the count uses the partial index on pending clocks.
    """
    moved: list[Deadline] = []
    for deadline in Deadline.objects.filter(basis_on__isnull=False).only(
        "basis_on", "working_days", "due_at"
    ):
        new_due = due_from_basis(deadline.basis_on, deadline.working_days, calendar)  # type: ignore[arg-type]
        if new_due != deadline.due_at:
            deadline.previous_due_at, deadline.due_at, deadline.recomputed_by = (
                deadline.due_at,
                new_due,
                change,
            )
            deadline.warnings_stale = True
            moved.append(deadline)
    Deadline.objects.bulk_update(
        moved, ["previous_due_at", "due_at", "recomputed_by", "warnings_stale"], batch_size=500
    )
    if not moved:
        return 0
    return Clock.objects.filter(state=ClockState.PENDING, deadline__in=[d.pk for d in moved]).count()


# Clocks whose warnings one sweep re-plans at most; the next tick takes the rest.
REPLAN_BATCH = 5000


def clock_warnings_replan(*, now: datetime) -> int:
    """After a calendar edit, have the warnings of the moved deadlines' clocks planned again.

    A moved due time changes the working time a rule allows, so every warning point moves (even the
    50 % point of a clock whose due time moved later, when a day in between became shorter). The
    clocks are handed to `warnings_raise` by setting their next warning to now; it plans each from the
    clock's current due time, and warns at once for a point already passed. Returns the clocks handed on.
    """
    stale = list(Deadline.objects.filter(warnings_stale=True).only("due_at"))
    if not stale:  # the idle sweep: one probe of a tiny partial index
        return 0
    handed = 0
    with transaction.atomic():
        sla_lock()  # no edit moves a deadline between reading it and clearing its flag
        for deadline in Deadline.objects.filter(pk__in=[d.pk for d in stale]).only("due_at"):
            clocks = Clock.objects.filter(state=ClockState.PENDING, deadline=deadline).exclude(
                warnings_planned_for=deadline.due_at
            )
            batch = clocks.values("pk")[: REPLAN_BATCH - handed]
            count = Clock.objects.filter(pk__in=batch).update(
                next_warning_at=now, warnings_planned_for=deadline.due_at
            )
            handed += count
            if handed >= REPLAN_BATCH:
                break
            Deadline.objects.filter(pk=deadline.pk).update(warnings_stale=False)
    return handed


def breach_reason_get(code: str) -> BreachReason:
    reason = BreachReason.objects.filter(code=code, active=True).first()
    if reason is None:
        known = ", ".join(BreachReason.objects.filter(active=True).values_list("code", flat=True))
        raise DomainError(
            "breach_reason_unknown",
            f"Nezināms iemesls / Unknown reason {code!r}; one of: {known}",
            field="reason",
        )
    return reason


def breach_acknowledge(*, breach: Breach, by: User, reason: BreachReason, comment: str = "") -> Breach:
    """A team lead's acknowledgement with a reason from the list and a comment.

    Side effects: the breach's acknowledgement and a review row. Idempotent: the first one stands.
    """
    with transaction.atomic():
        locked = Breach.objects.select_for_update().get(pk=breach.pk)
        if locked.acknowledged_at is None:
            locked.acknowledged_at = timezone.now()
            locked.acknowledged_by = by
            locked.reason = reason
            locked.acknowledge_reason = comment
            locked.save(update_fields=["acknowledged_at", "acknowledged_by", "reason", "acknowledge_reason"])
            BreachReview.objects.create(
                breach=locked, action=ReviewAction.ACKNOWLEDGED, reason=reason, comment=comment, by=by,
                at=locked.acknowledged_at,
            )  # fmt: skip
    return locked


def breach_reclassify(*, breach: Breach, by: User, comment: str) -> Breach:
    """A breach that should not count (an auto-reply counted by mistake, a wrong rule): withdrawn, with
    the lead's reason kept in the review trail; nothing is deleted. Idempotent: withdrawn stays withdrawn.
    """
    if len(comment.strip()) < 3:  # noqa: PLR2004 -- a word, at least
        raise DomainError("comment_required", "Norādiet iemeslu / Say why", field="comment")
    with transaction.atomic():
        locked = Breach.objects.select_for_update().get(pk=breach.pk)
        if locked.withdrawn_at is None:
            withdrawn_at = _breach_withdrawn(locked, f"reclassified: {comment.strip()}")
            # The clock stops counting too, so service levels and the nightly counts leave it out; the
            # breach row and the review keep what it was.
            Clock.objects.filter(pk=locked.clock_id, state=ClockState.BREACHED).update(
                state=ClockState.STOPPED, stopped_at=withdrawn_at, stop_reason="reclassified"
            )
            BreachReview.objects.create(
                breach=locked,
                action=ReviewAction.RECLASSIFIED,
                comment=comment.strip(),
                by=by,
                at=withdrawn_at,
            )
    return locked


def mk399_publish(*, year: int, by: User, where: str) -> Mk399Publication:
    """Mark a year's MK399 report published (which ends the March reminders). Idempotent on the year:
    the first mark stands."""
    if not where.strip():
        raise DomainError(
            "where_required", "Norādiet, kur publicēts / Say where it was published", field="where"
        )
    if year >= timezone.localdate().year:
        raise DomainError(
            "year_not_over", f"{year}. gads vēl nav beidzies / {year} is not over", field="year"
        )
    publication, _created = Mk399Publication.objects.get_or_create(
        year=year, defaults={"published_at": timezone.now(), "published_by": by, "where": where.strip()[:500]}
    )
    return publication
