"""Which ledger facts open, meet and stop which rule's clock (HANDBOOK.md rule IDs)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from contact_centre.models import Channel, Event, EventKind
from sla.alerts import complaint_alerts_raise
from sla.calendar import RingVerdict, ring_count, ring_verdict
from sla.services import (
    SyncContext,
    channel_arrival_rules,
    clock_open,
    clock_settle,
    clock_stop,
    clock_void,
    live_clock_exists,
    pending_clocks,
    policy_get,
    policy_ring_cadence,
    unsettled_clocks,
    voidable_clocks,
)

EM_ACK, EM_REPLY = "EM-ACK", "EM-REPLY"
PH_RING = "PH-RING"
PH_REC, PH_ABSENT, PH_CALLBACK = "PH-REC", "PH-ABSENT", "PH-CALLBACK"
COMPLAINT = "COMPLAINT"
PORTAL_ANS, PORTAL_FWD = "PORTAL-ANS", "PORTAL-FWD"
SUBM_ANS, SUBM_FWD = "SUBM-ANS", "SUBM-FWD"  # the Law on Submissions (Iesniegumu likums)
# The answer in substance of a written matter: a portal question, a formal submission.
ANSWER_RULES = (PORTAL_ANS, SUBM_ANS)
EMAIL_RULES = (EM_ACK, EM_REPLY)


def _signed_submission(event: Event) -> bool:
    """An e-mail carrying a trustworthy e-signed document is a formal submission (damaged ones are not)."""
    documents = event.payload.get("signed_documents") or []
    return any(document.get("verdict") == "signed" for document in documents)


def _email_received(ctx: SyncContext, event: Event) -> None:
    # A client's new message opens a clock only where none is running: a follow-up before our answer
    # does not restart the count (EM-ACK, EM-REPLY). A follow-up in a portal question or a letter's
    # matter keeps that channel's clocks; a matter set aside as not a client's opens none.
    interaction = event.interaction
    if not interaction.is_client_matter():
        return
    rules = [*EMAIL_RULES] if interaction.channel == Channel.EMAIL else []
    if _signed_submission(event):
        rules.append(SUBM_ANS)
    for rule_id in rules:
        if not pending_clocks(event.interaction_id, rule_id):
            clock_open(ctx, event=event, rule_id=rule_id)


def _arrived_on_channel(ctx: SyncContext, event: Event) -> None:
    """A portal question or a registered letter: the clocks its channel's policy names."""
    if event.interaction.is_client_matter():
        for rule_id in channel_arrival_rules(event.interaction.channel):
            clock_open(ctx, event=event, rule_id=rule_id)


def _email_acknowledged(ctx: SyncContext, event: Event) -> None:
    for clock in unsettled_clocks(event.interaction_id, EM_ACK):
        clock_settle(clock, at=event.occurred_at)


def _email_replied(ctx: SyncContext, event: Event) -> None:
    # An answer also confirms receipt, so it meets a pending EM-ACK as well. A holding reply is no
    # answer in substance: the portal and submission clocks keep running.
    answers = ANSWER_RULES if event.kind in ANSWER_KINDS else ()
    for clock in unsettled_clocks(event.interaction_id, *EMAIL_RULES, *answers):
        clock_settle(clock, at=event.occurred_at)


ANSWER_KINDS = (EventKind.EMAIL_REPLIED, EventKind.ANSWER_SENT)


def _forwarded(ctx: SyncContext, event: Event) -> None:
    """Passed on to the competent institution: the forwarding clock counts from arrival and is decided
    now (PORTAL-FWD for a portal question, SUBM-FWD for a formal submission); the answer clocks stop."""
    interaction = event.interaction
    rule_id = PORTAL_FWD if interaction.channel == Channel.PORTAL else None
    if rule_id is None and (interaction.channel != Channel.EMAIL or live_clock_exists(interaction, SUBM_ANS)):
        rule_id = SUBM_FWD
    if rule_id is not None:
        clock = clock_open(ctx, event=event, rule_id=rule_id, started_at=interaction.opened_at)
        clock_settle(clock, at=event.occurred_at)
    for clock in unsettled_clocks(interaction.pk, EM_REPLY, *ANSWER_RULES):
        clock_stop(clock, at=event.occurred_at, reason="forwarded")


def _extended(ctx: SyncContext, event: Event) -> None:
    """SUBM-ANS extended (the applicant told): the running clock stops, a new one falls due at the close
    of the date given (the next working day's, if it is none). An extension after the due time does not
    undo the breach."""
    until = date.fromisoformat(event.payload["until"])
    for clock in pending_clocks(event.interaction_id, SUBM_ANS):
        clock_stop(clock, at=event.occurred_at, reason="extended")
    clock_open(
        ctx,
        event=event,
        rule_id=SUBM_ANS,
        basis_on=until,
        working_days=0,
        detail={"extended_until": until.isoformat()},
    )


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


def _closed(ctx: SyncContext, event: Event) -> None:
    for clock in unsettled_clocks(event.interaction_id, *EMAIL_RULES, *ANSWER_RULES, PH_RING, PH_CALLBACK):
        clock_stop(clock, at=event.occurred_at, reason="closed")


# Every rule whose clock may wait for a fact: a matter set aside as no client's voids them all.
SWEPT_RULES = (*EMAIL_RULES, *ANSWER_RULES, PH_RING, PH_REC, PH_ABSENT, PH_CALLBACK, COMPLAINT)


# Facts that settle an arrival rule, for a clock opened afresh by a reclassification.
SETTLED_BY = {
    EM_ACK: (
        EventKind.EMAIL_ACKNOWLEDGED,
        EventKind.EMAIL_REPLIED,
        EventKind.EMAIL_HOLDING_REPLY,
        EventKind.ANSWER_SENT,
    ),
    EM_REPLY: (EventKind.EMAIL_REPLIED, EventKind.EMAIL_HOLDING_REPLY, EventKind.ANSWER_SENT),
    PORTAL_ANS: ANSWER_KINDS,
    SUBM_ANS: ANSWER_KINDS,
}


def _arrival_rules(channel: str) -> tuple[str, ...]:
    return EMAIL_RULES if channel == Channel.EMAIL else channel_arrival_rules(channel)


def _reclassified(ctx: SyncContext, event: Event) -> None:
    """A team lead moved the matter: clocks of rules the new channel does not have are voided (their
    breaches withdrawn), and the new channel's rules count from the matter's arrival, decided at once
    by an answer already given. Set aside as not a client's matter: every running clock is voided."""
    interaction = event.interaction
    before, after = event.payload["before"], event.payload["after"]
    if after["not_client_matter"]:
        for clock in voidable_clocks(interaction.pk, *SWEPT_RULES):
            clock_void(clock, at=event.occurred_at, reason="not_client_matter")
        return
    if before["channel"] == after["channel"] and not before["not_client_matter"]:
        return  # only the service changed: the clocks stand
    wanted = _arrival_rules(after["channel"])
    unwanted = {*EMAIL_RULES, *ANSWER_RULES} - set(wanted)
    for clock in voidable_clocks(interaction.pk, *unwanted):
        clock_void(clock, at=event.occurred_at, reason="reclassified")
    for rule_id in wanted:
        if not live_clock_exists(interaction, rule_id):
            _clock_reopen(ctx, event, rule_id)


def _clock_reopen(ctx: SyncContext, event: Event, rule_id: str) -> None:
    interaction = event.interaction
    clock = clock_open(ctx, event=event, rule_id=rule_id, started_at=interaction.opened_at)
    settled_by = (
        interaction.events.filter(kind__in=SETTLED_BY.get(rule_id, ()), seq__lt=event.seq)
        .order_by("seq")
        .first()
    )
    if settled_by is not None:
        clock_settle(clock, at=settled_by.occurred_at)
    elif interaction.closed_at is not None and not interaction.is_open():
        clock_stop(clock, at=interaction.closed_at, reason="closed")


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
    EventKind.PORTAL_RECEIVED: _arrived_on_channel,
    EventKind.LETTER_REGISTERED: _arrived_on_channel,
    EventKind.ANSWER_SENT: _email_replied,
    EventKind.FORWARDED: _forwarded,
    EventKind.SUBMISSION_EXTENDED: _extended,
    EventKind.RECLASSIFIED: _reclassified,
    EventKind.CLOSED: _closed,
}


def clock_apply_event(ctx: SyncContext, event: Event) -> None:
    """Apply one ledger event; kinds without a rule (automatic mail, notes) change no clock."""
    handler = HANDLERS.get(event.kind)
    if handler is not None:
        handler(ctx, event)
