"""Which ledger facts open, meet and stop which rule's clock (HANDBOOK.md rule IDs)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from contact_centre.models import Event, EventKind
from sla.alerts import complaint_alerts_raise
from sla.calendar import RingVerdict, ring_count, ring_verdict
from sla.services import (
    SyncContext,
    clock_open,
    clock_settle,
    clock_stop,
    pending_clocks,
    policy_get,
    policy_ring_cadence,
    unsettled_clocks,
)

EM_ACK, EM_REPLY = "EM-ACK", "EM-REPLY"
PH_RING = "PH-RING"
PH_REC, PH_ABSENT, PH_CALLBACK = "PH-REC", "PH-ABSENT", "PH-CALLBACK"
COMPLAINT = "COMPLAINT"
PORTAL_ANS = "PORTAL-ANS"


def _email_received(ctx: SyncContext, event: Event) -> None:
    # A client's new message opens a clock only where none is running: a follow-up before our answer
    # does not restart the count (EM-ACK, EM-REPLY).
    for rule_id in (EM_ACK, EM_REPLY):
        if not pending_clocks(event.interaction_id, rule_id):
            clock_open(ctx, event=event, rule_id=rule_id)


def _email_acknowledged(ctx: SyncContext, event: Event) -> None:
    for clock in unsettled_clocks(event.interaction_id, EM_ACK):
        clock_settle(clock, at=event.occurred_at)


def _email_replied(ctx: SyncContext, event: Event) -> None:
    # An answer also confirms receipt, so it meets a pending EM-ACK as well.
    for clock in unsettled_clocks(event.interaction_id, EM_ACK, EM_REPLY):
        clock_settle(clock, at=event.occurred_at)


def _email_holding_reply(ctx: SyncContext, event: Event) -> None:
    """A holding reply naming a date meets EM-REPLY and opens a new EM-REPLY clock due at that date."""
    _email_replied(ctx, event)
    promised_on = date.fromisoformat(event.payload["promised_on"])
    clock_open(
        ctx,
        event=event,
        rule_id=EM_REPLY,
        basis_on=promised_on,
        working_days=0,
        detail={"promised_on": promised_on.isoformat()},
    )


def _call_arrived(ctx: SyncContext, event: Event) -> None:
    clock_open(ctx, event=event, rule_id=PH_RING)


def _call_outcome(ctx: SyncContext, event: Event) -> None:
    """Judge PH-RING by the measured wait (INVITE to 200 OK), never by when the event was written."""
    policy = policy_get(PH_RING, ctx.policies)
    cadence = policy_ring_cadence(policy)
    wait_ms = int(event.payload["wait_ms"])
    answered = event.kind == EventKind.CALL_ANSWERED
    verdict = ring_verdict(wait_ms=wait_ms, answered=answered, max_rings=policy.amount, cadence=cadence)
    detail = {"wait_ms": wait_ms, "rings": ring_count(wait_ms, cadence), "verdict": verdict.value}
    for clock in unsettled_clocks(event.interaction_id, PH_RING):
        if verdict == RingVerdict.SHORT_ABANDON:
            clock_stop(clock, at=event.occurred_at, reason=verdict.value, detail=detail)
        else:
            on_time = verdict == RingVerdict.MET
            clock_settle(clock, at=event.occurred_at, on_time=on_time, fulfilled=answered, detail=detail)


def _call_finished(ctx: SyncContext, event: Event) -> None:
    """PH-REC: an answered call, ended or dropped, must have its recording within the policy's minutes."""
    if not event.payload.get("answered"):
        return
    clock = clock_open(ctx, event=event, rule_id=PH_REC)
    # The recording may be in the ledger already (a line recovering after a crash stores it first).
    recorded = event.interaction.events.filter(kind=EventKind.CALL_RECORDED).order_by("seq").first()
    if recorded is not None:
        clock_settle(clock, at=recorded.occurred_at)


def _call_recorded(ctx: SyncContext, event: Event) -> None:
    for clock in unsettled_clocks(event.interaction_id, PH_REC):
        clock_settle(clock, at=event.occurred_at)


def _opens(rule_id: str) -> Callable[[SyncContext, Event], None]:
    def open_clock(ctx: SyncContext, event: Event) -> None:
        clock_open(ctx, event=event, rule_id=rule_id)

    return open_clock


def _settles(rule_id: str) -> Callable[[SyncContext, Event], None]:
    def settle(ctx: SyncContext, event: Event) -> None:
        for clock in unsettled_clocks(event.interaction_id, rule_id):
            clock_settle(clock, at=event.occurred_at)

    return settle


def _complaint_marked(ctx: SyncContext, event: Event) -> None:
    """COMPLAINT: a clock for the outcome, and the team leads alerted at once."""
    complaint_alerts_raise(clock_open(ctx, event=event, rule_id=COMPLAINT))


def _portal_received(ctx: SyncContext, event: Event) -> None:
    clock_open(ctx, event=event, rule_id=PORTAL_ANS)


def _closed(ctx: SyncContext, event: Event) -> None:
    for clock in unsettled_clocks(event.interaction_id, EM_ACK, EM_REPLY, PORTAL_ANS, PH_RING, PH_CALLBACK):
        clock_stop(clock, at=event.occurred_at, reason="closed")


HANDLERS: dict[str, Callable[[SyncContext, Event], None]] = {
    EventKind.EMAIL_RECEIVED: _email_received,
    EventKind.EMAIL_ACKNOWLEDGED: _email_acknowledged,
    EventKind.EMAIL_REPLIED: _email_replied,
    EventKind.EMAIL_HOLDING_REPLY: _email_holding_reply,
    EventKind.CALL_ARRIVED: _call_arrived,
    EventKind.CALL_ANSWERED: _call_outcome,
    EventKind.CALL_ABANDONED: _call_outcome,
    EventKind.CALL_UNANSWERED: _call_outcome,
    EventKind.CALL_ENDED: _call_finished,
    EventKind.CALL_DROPPED: _call_finished,
    EventKind.CALL_RECORDED: _call_recorded,
    EventKind.CALLBACK_REQUESTED: _opens(PH_CALLBACK),
    EventKind.CALLBACK_MADE: _settles(PH_CALLBACK),
    EventKind.MESSAGE_TAKEN: _opens(PH_ABSENT),
    EventKind.MESSAGE_HANDLED: _settles(PH_ABSENT),
    EventKind.COMPLAINT_MARKED: _complaint_marked,
    EventKind.COMPLAINT_OUTCOME: _settles(COMPLAINT),
    EventKind.PORTAL_RECEIVED: _portal_received,
    EventKind.CLOSED: _closed,
}


def clock_apply_event(ctx: SyncContext, event: Event) -> None:
    """Apply one ledger event; kinds without a rule (automatic mail, notes) change no clock."""
    handler = HANDLERS.get(event.kind)
    if handler is not None:
        handler(ctx, event)
