"""Following the ledger: apply committed events to clocks, and the sweep that breaches overdue clocks."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from contact_centre.models import Event
from sla.calendar_source import current_calendar
from sla.models import Breach, Clock, ClockState, LedgerCursor, Policy
from sla.rules import clock_apply_event
from sla.services import SyncContext, breach_raise


def clock_sync(*, batch_size: int = 500) -> int:
    """Apply every committed ledger event after the cursor to the clocks; return how many were applied.

    Safe to call from any process at any time: the cursor row is locked while a batch is applied, and
    each batch commits with the cursor, so a crash re-applies nothing and loses nothing.
    """
    applied = 0
    while True:
        with transaction.atomic():
            LedgerCursor.objects.get_or_create(pk=1)
            cursor = LedgerCursor.objects.select_for_update().get(pk=1)
            events = list(
                Event.objects.filter(seq__gt=cursor.last_seq)
                .order_by("seq")
                .select_related("interaction")[:batch_size]
            )
            if not events:
                return applied
            ctx = SyncContext(current_calendar(), {p.rule_id: p for p in Policy.objects.all()})
            for event in events:
                clock_apply_event(ctx, event)
            cursor.last_seq = events[-1].seq
            cursor.save(update_fields=["last_seq"])
        applied += len(events)


def clock_breach_overdue(*, now: datetime, grace: timedelta = timedelta(seconds=10)) -> list[Breach]:
    """The sweep: breach every pending clock whose due time passed more than `grace` ago.

    It first applies the ledger, so a fact that met a clock is seen before the clock is judged; `grace`
    covers an adapter's write that is still in flight. Each clock is claimed with a conditional UPDATE in
    its own short transaction, so two sweeps never raise the same breach twice.
    """
    clock_sync()
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
