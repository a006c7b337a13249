"""Following the ledger: apply committed events to clocks, and the sweep that breaches overdue clocks."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import DatabaseError, transaction
from django.utils import timezone

from agents.errors import DomainError
from contact_centre.models import Event
from sla.calendar_source import current_calendar
from sla.models import Breach, Clock, ClockState, LedgerApplyFailure, Policy
from sla.rules import clock_apply_event
from sla.services import SyncContext, breach_raise, sla_lock

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


def clock_breach_overdue(*, now: datetime, grace: timedelta = timedelta(seconds=10)) -> list[Breach]:
    """The sweep: breach every pending clock whose due time passed more than `grace` ago.

    It first applies the ledger, so a fact that met a clock is seen before the clock is judged; `grace`
    covers an adapter's write that is still in flight. Each clock is claimed with a conditional UPDATE in
    its own short transaction, so two sweeps never raise the same breach twice.
    """
    try:
        clock_sync()
    except DatabaseError:
        # Judge what is known rather than nothing: a fact still unapplied is reconciled when it arrives
        # (clock_settle withdraws a breach that an on-time fact disproves).
        logger.exception("clock_sync failed before the sweep; sweeping anyway")
    raised = []
    # deadline_due finds the due times in order; clock_pending_deadline joins their pending clocks.
    due = list(
        Clock.objects.filter(state=ClockState.PENDING, deadline__due_at__lt=now - grace)
        .order_by("deadline__due_at")
        .values_list("pk", "deadline__due_at")[:1000]
    )
    for clock_id, due_at in due:
        with transaction.atomic():
            claimed = Clock.objects.filter(pk=clock_id, state=ClockState.PENDING).update(
                state=ClockState.BREACHED, breached_at=due_at, settled_due_at=due_at
            )
            if claimed:
                raised.append(breach_raise(Clock.objects.select_related("deadline").get(pk=clock_id)))
    return raised


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
