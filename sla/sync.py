"""Following the ledger: apply committed events to clocks, and the sweep that breaches overdue clocks."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from agents.errors import DomainError
from contact_centre.models import Event
from sla.calendar_source import current_calendar
from sla.models import Breach, Clock, ClockState, Deadline, LedgerApplyFailure, Policy
from sla.rules import clock_apply_event
from sla.services import SyncContext, breaches_raise, sla_lock

logger = logging.getLogger(__name__)


def clock_sync(*, batch_size: int = 500) -> int:
    """Apply every committed ledger event after the cursor to the clocks; return how many were read.

    Safe to call from any process at any time: the cursor row is locked while a batch is applied, and
    each batch commits with the cursor, so a crash re-applies nothing and loses nothing. An event that
    cannot be applied (bad data, a date outside the calendar) is recorded as a LedgerApplyFailure and
    passed over, so one odd fact never stops the clocks of all others.
    """
    applied = 0
    while True:
        with transaction.atomic():
            cursor = sla_lock()
            events = list(
                Event.objects.filter(seq__gt=cursor.last_seq)
                .order_by("seq")
                .select_related("interaction")[:batch_size]
            )
            if not events:
                return applied
            ctx = SyncContext(current_calendar(), {p.rule_id: p for p in Policy.objects.all()})
            for event in events:
                _apply_or_record_failure(ctx, event)
            cursor.last_seq = events[-1].seq
            cursor.save(update_fields=["last_seq"])
        applied += len(events)


# Errors that mean "this event's data cannot be applied"; anything else (the database going away) is
# transient and propagates, leaving the cursor where it was for the next try.
_BAD_DATA = (DomainError, KeyError, ValueError, TypeError)


def _apply_or_record_failure(ctx: SyncContext, event: Event) -> None:
    try:
        with transaction.atomic():  # a savepoint: a failing event leaves no half-applied clock
            clock_apply_event(ctx, event)
    except _BAD_DATA as error:
        code = error.code if isinstance(error, DomainError) else type(error).__name__
        logger.warning("ledger event seq=%s (%s) not applied: %s", event.seq, event.kind, error)
        LedgerApplyFailure.objects.update_or_create(
            seq=event.seq,
            defaults={"interaction_id": event.interaction_id, "code": code, "message": str(error)[:2000]},
        )


# Clocks breached per transaction: big enough that a burst of a thousand costs a few statements, small
# enough that the sla lock (which ledger application also needs) is held for a fraction of a second.
SWEEP_BATCH = 500
SWEEP_MAX = 20_000  # per run; the next beat tick (a second later) takes the rest


def clock_breach_overdue(*, now: datetime, grace: timedelta | None = None) -> list[Breach]:
    """The sweep: breach every pending clock whose due time passed more than `grace` ago.

    It first applies the ledger, so a fact that met a clock is seen before the clock is judged; `grace`
    (CC_SLA_SWEEP_GRACE_MS) covers an adapter's write still in flight, and a fact that comes later still
    withdraws the breach (clock_settle). Clocks are breached in batches, each one transaction under the
    sla lock, so two sweeps (two beat processes started by mistake) never raise the same breach twice.
    """
    try:
        clock_sync()
    except DatabaseError:
        # Judge what is known rather than nothing: a fact still unapplied is reconciled when it arrives
        # (clock_settle withdraws a breach that an on-time fact disproves).
        logger.exception("clock_sync failed before the sweep; sweeping anyway")
    cutoff = now - (grace if grace is not None else timedelta(milliseconds=settings.CC_SLA_SWEEP_GRACE_MS))
    raised: list[Breach] = []
    while len(raised) < SWEEP_MAX:
        batch = _breach_batch(cutoff)
        raised += batch
        if len(batch) < SWEEP_BATCH:
            break
    return raised


def _breach_batch(cutoff: datetime) -> list[Breach]:
    """Breach up to SWEEP_BATCH pending clocks due before `cutoff`: one UPDATE per due time, the breach
    rows and their ledger events in bulk. Deadlines left without pending clocks leave the sweep's index."""
    due = Deadline.objects.filter(sweep_pending=True, due_at__lt=cutoff)
    if not due.exists():  # the idle sweep: one probe of a small partial index
        return []
    with transaction.atomic():
        sla_lock()
        clocks = list(
            Clock.objects.filter(state=ClockState.PENDING, deadline__in=due)
            .select_related("deadline", "interaction")
            .order_by("deadline__due_at", "pk")[:SWEEP_BATCH]
        )
        by_due: dict[datetime, list[int]] = defaultdict(list)
        for clock in clocks:
            by_due[clock.deadline.due_at].append(clock.pk)
        for due_at, ids in by_due.items():
            Clock.objects.filter(pk__in=ids).update(
                state=ClockState.BREACHED, breached_at=due_at, settled_due_at=due_at
            )
        if len(clocks) < SWEEP_BATCH:  # every due clock is breached now
            due.update(sweep_pending=False)
        return breaches_raise(clocks)


def clock_retry_failures() -> int:
    """Apply again every recorded failure (after its cause was fixed); return how many now succeeded."""
    succeeded = 0
    for failure in LedgerApplyFailure.objects.filter(resolved_at__isnull=True).order_by("seq"):
        with transaction.atomic():
            sla_lock()
            ctx = SyncContext(current_calendar(), {p.rule_id: p for p in Policy.objects.all()})
            event = Event.objects.select_related("interaction").get(seq=failure.seq)
            try:
                with transaction.atomic():
                    clock_apply_event(ctx, event)
            except _BAD_DATA as error:
                failure.message = str(error)[:2000]
                failure.save(update_fields=["message"])
                continue
            failure.resolved_at = timezone.now()
            failure.save(update_fields=["resolved_at"])
            succeeded += 1
    return succeeded
