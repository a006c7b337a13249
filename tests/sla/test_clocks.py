"""Clock lifecycle: the ledger's facts open, meet, stop and breach the handbook's clocks."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from agents.errors import DomainError
from contact_centre.models import Event, EventKind, Interaction
from contact_centre.selectors import ledger_chain_verify
from contact_centre.services import (
    call_record_outcome,
    email_outbound_record,
    interaction_close,
    interaction_record_call,
    interaction_record_email,
)
from sla.models import Breach, Clock, ClockState, LedgerApplyFailure
from sla.sync import clock_breach_overdue, clock_sync
from tests.concurrency import run_concurrently
from tests.factories import riga

pytestmark = pytest.mark.django_db


def email_from_client(
    message_id: str = "<q@client.lv>", at: datetime | None = None, **extra: str
) -> Interaction:
    interaction = interaction_record_email(
        message_id=message_id,
        received_at=at or riga(2026, 4, 7, 10, 0),  # Tuesday
        sender="klients@example.lv",
        subject="Jautājums",
        **extra,
    )
    clock_sync()
    return interaction


def clocks(interaction: Interaction) -> dict[str, Clock]:
    return {c.rule_id: c for c in Clock.objects.filter(interaction=interaction).order_by("opened_by_seq")}


def send(interaction: Interaction, kind: str, message_id: str, sent_at: datetime, **extra: date) -> None:
    email_outbound_record(interaction=interaction, kind=kind, message_id=message_id, sent_at=sent_at, **extra)
    clock_sync()


@pytest.mark.smoke
def test_a_client_email_opens_ack_and_reply_clocks_due_by_working_days() -> None:
    found = clocks(email_from_client())
    assert found["EM-ACK"].due_at == riga(2026, 4, 8, 17, 15)
    assert found["EM-REPLY"].due_at == riga(2026, 4, 9, 17, 15)
    assert {c.state for c in found.values()} == {ClockState.PENDING}


def test_the_reply_clock_skips_good_friday_and_easter_monday() -> None:
    found = clocks(email_from_client(at=riga(2026, 4, 2, 20, 0)))  # Thursday before Good Friday
    assert found["EM-ACK"].due_at == riga(2026, 4, 7, 17, 15)
    assert found["EM-REPLY"].due_at == riga(2026, 4, 8, 17, 15)


def test_automatic_mail_opens_no_clock() -> None:
    interaction = email_from_client(automatic_reason="auto-submitted: auto-replied")
    assert not Clock.objects.filter(interaction=interaction).exists()


def test_acknowledgement_meets_ack_and_a_reply_on_the_close_meets_reply() -> None:
    interaction = email_from_client()
    send(interaction, EventKind.EMAIL_ACKNOWLEDGED, "<ack@kase>", riga(2026, 4, 7, 10, 1))
    send(interaction, EventKind.EMAIL_REPLIED, "<re@kase>", riga(2026, 4, 9, 17, 15))
    found = clocks(interaction)
    assert (found["EM-ACK"].state, found["EM-ACK"].met_at) == (ClockState.MET, riga(2026, 4, 7, 10, 1))
    assert found["EM-REPLY"].state == ClockState.MET
    assert not Breach.objects.exists()


def test_a_late_reply_breaches_at_the_due_time_and_records_when_it_came() -> None:
    interaction = email_from_client()
    send(interaction, EventKind.EMAIL_REPLIED, "<late@kase>", riga(2026, 4, 10, 9, 0))
    reply = clocks(interaction)["EM-REPLY"]
    assert reply.state == ClockState.BREACHED
    assert reply.breached_at == riga(2026, 4, 9, 17, 15)
    assert reply.met_at == riga(2026, 4, 10, 9, 0)
    assert Breach.objects.get(clock=reply).rule_id == "EM-REPLY"


def test_a_holding_reply_meets_the_reply_and_opens_a_clock_for_the_promised_date() -> None:
    interaction = email_from_client()
    send(
        interaction,
        EventKind.EMAIL_HOLDING_REPLY,
        "<hold@kase>",
        riga(2026, 4, 8, 12, 0),
        promised_on=date(2026, 4, 18),
    )  # a Saturday
    replies = list(
        Clock.objects.filter(interaction=interaction, rule_id="EM-REPLY").order_by("opened_by_seq")
    )
    assert [c.state for c in replies] == [ClockState.MET, ClockState.PENDING]
    assert replies[1].due_at == riga(2026, 4, 20, 17, 15)  # the next working day's close


def test_a_follow_up_before_our_answer_does_not_restart_the_clock() -> None:
    interaction = email_from_client("<q1@client.lv>")
    email_from_client("<q2@client.lv>", at=riga(2026, 4, 8, 9, 0), in_reply_to="<q1@client.lv>")
    assert Clock.objects.filter(interaction=interaction).count() == 2


def test_closing_an_interaction_stops_its_running_clocks() -> None:
    interaction = email_from_client()
    interaction_close(interaction=interaction, closed_at=riga(2026, 4, 7, 11, 0), reason="misdirected")
    clock_sync()
    assert {c.stop_reason for c in clocks(interaction).values()} == {"closed"}


def call(call_id: str, *, outcome: str | None, wait_ms: int) -> Clock:
    arrived = riga(2026, 4, 7, 10, 0)
    interaction = interaction_record_call(
        sip_call_id=call_id, arrived_at=arrived, caller="+37120000000", in_office_hours=True
    )
    if outcome:
        call_record_outcome(
            sip_call_id=call_id,
            kind=outcome,
            occurred_at=arrived + timedelta(milliseconds=wait_ms),
            wait_ms=wait_ms,
        )
    clock_sync()
    return Clock.objects.get(interaction=interaction, rule_id="PH-RING")


@pytest.mark.parametrize(
    ("outcome", "wait_ms", "state", "rings"),
    [
        (EventKind.CALL_ANSWERED, 0, ClockState.MET, 1),
        (EventKind.CALL_ANSWERED, 14_999, ClockState.MET, 3),
        (EventKind.CALL_ANSWERED, 15_000, ClockState.BREACHED, 4),
        (EventKind.CALL_ABANDONED, 14_999, ClockState.STOPPED, 3),
        (EventKind.CALL_ABANDONED, 15_000, ClockState.BREACHED, 4),
    ],
)
def test_ph_ring_is_judged_by_the_measured_wait(outcome: str, wait_ms: int, state: str, rings: int) -> None:
    clock = call(f"c-{outcome}-{wait_ms}", outcome=outcome, wait_ms=wait_ms)
    assert clock.state == state
    assert clock.detail["rings"] == rings
    assert clock.detail["wait_ms"] == wait_ms
    assert Breach.objects.filter(clock=clock).exists() == (state == ClockState.BREACHED)


def test_an_out_of_hours_call_opens_no_ring_clock() -> None:
    interaction = interaction_record_call(
        sip_call_id="night", arrived_at=riga(2026, 4, 7, 22, 0), caller="+371", in_office_hours=False
    )
    clock_sync()
    assert not Clock.objects.filter(interaction=interaction).exists()


def test_the_sweep_breaches_an_overdue_clock_once_even_when_run_twice() -> None:
    interaction = email_from_client()
    first = clock_breach_overdue(now=riga(2026, 4, 8, 17, 16))
    second = clock_breach_overdue(now=riga(2026, 4, 8, 17, 17))
    assert [b.rule_id for b in first] == ["EM-ACK"]
    assert second == []
    assert Breach.objects.filter(interaction=interaction).count() == 1


def test_the_sweep_leaves_a_clock_within_its_grace_period() -> None:
    email_from_client()
    assert clock_breach_overdue(now=riga(2026, 4, 8, 17, 15, 0, 200_000)) == []  # CC_SLA_SWEEP_GRACE_MS
    assert [b.rule_id for b in clock_breach_overdue(now=riga(2026, 4, 8, 17, 15, 0, 300_000))] == ["EM-ACK"]


def test_an_unanswered_call_is_breached_by_the_sweep_at_fifteen_seconds() -> None:
    clock = call("ringing", outcome=None, wait_ms=0)
    assert clock_breach_overdue(now=riga(2026, 4, 7, 10, 0, 26))[0].clock_id == clock.pk
    clock.refresh_from_db()
    assert clock.breached_at == riga(2026, 4, 7, 10, 0, 15)


def test_an_answer_that_arrives_after_the_sweep_keeps_the_breach_and_records_the_answer() -> None:
    clock = call("slow", outcome=None, wait_ms=0)
    clock_breach_overdue(now=riga(2026, 4, 7, 10, 0, 30))
    call_record_outcome(
        sip_call_id="slow",
        kind=EventKind.CALL_ANSWERED,
        occurred_at=riga(2026, 4, 7, 10, 0, 31),
        wait_ms=31_000,
    )
    clock_sync()
    clock.refresh_from_db()
    assert (clock.state, clock.met_at) == (ClockState.BREACHED, riga(2026, 4, 7, 10, 0, 31))
    assert Breach.objects.filter(clock=clock).count() == 1


def test_sync_applies_each_event_once_across_repeated_runs() -> None:
    email_from_client()
    assert clock_sync() == 0
    assert Clock.objects.count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_committed_ledger_write_opens_its_clocks_without_anyone_calling_sync() -> None:
    interaction = interaction_record_email(
        message_id="<live@client.lv>", received_at=riga(2026, 4, 7, 10), sender="k@example.lv", subject="?"
    )
    assert set(clocks(interaction)) == {"EM-ACK", "EM-REPLY"}


def test_an_on_time_reply_recorded_after_the_sweep_withdraws_the_breach() -> None:
    interaction = email_from_client()
    [breach] = [b for b in clock_breach_overdue(now=riga(2026, 4, 8, 18, 0)) if b.rule_id == "EM-ACK"]
    send(interaction, EventKind.EMAIL_ACKNOWLEDGED, "<ack@kase>", riga(2026, 4, 8, 9, 0))  # sent in time
    ack = clocks(interaction)["EM-ACK"]
    breach.refresh_from_db()
    assert (ack.state, ack.met_at, ack.breached_at) == (ClockState.MET, riga(2026, 4, 8, 9, 0), None)
    assert breach.withdrawn_at is not None
    assert "after the sweep" in breach.withdraw_reason
    kinds = list(interaction.events.order_by("seq").values_list("kind", "source_key", "payload__rule_id"))
    assert (EventKind.SLA_BREACHED, f"sla_breached:{ack.pk}", "EM-ACK") in kinds
    assert (EventKind.SLA_BREACH_WITHDRAWN, f"sla_breach_withdrawn:{ack.pk}", "EM-ACK") in kinds


def test_a_short_abandon_recorded_after_the_sweep_withdraws_the_breach() -> None:
    clock = call("late-report", outcome=None, wait_ms=0)
    clock_breach_overdue(now=riga(2026, 4, 7, 10, 1))
    call_record_outcome(
        sip_call_id="late-report",
        kind=EventKind.CALL_ABANDONED,
        occurred_at=riga(2026, 4, 7, 10, 0, 8),
        wait_ms=8000,
    )
    clock_sync()
    clock.refresh_from_db()
    assert (clock.state, clock.stop_reason) == (ClockState.STOPPED, "short_abandon")
    assert Breach.objects.get(clock=clock).withdrawn_at is not None


def test_closing_an_overdue_matter_breaches_it_instead_of_hiding_it() -> None:
    interaction = email_from_client()
    interaction_close(interaction=interaction, closed_at=riga(2026, 4, 15, 9, 0), reason="no answer needed")
    clock_sync()
    found = clocks(interaction)
    assert {c.state for c in found.values()} == {ClockState.BREACHED}
    assert found["EM-REPLY"].met_at is None
    assert Breach.objects.filter(interaction=interaction).count() == 2


def test_an_event_that_cannot_be_applied_is_set_aside_and_the_others_go_on() -> None:
    odd = email_from_client("<old@client.lv>", at=riga(2005, 3, 1, 10, 0))  # before the calendar's range
    fine = email_from_client("<new@client.lv>")
    failure = LedgerApplyFailure.objects.get()
    assert (failure.interaction_id, failure.code) == (odd.pk, "calendar_out_of_range")
    assert set(clocks(fine)) == {"EM-ACK", "EM-REPLY"}
    assert clock_breach_overdue(now=riga(2026, 4, 30)) != []


def test_a_client_writing_into_a_closed_thread_reopens_it_but_automatic_mail_does_not() -> None:
    interaction = email_from_client("<q1@client.lv>")
    interaction_close(interaction=interaction, closed_at=riga(2026, 4, 7, 11), reason="answered by phone")
    email_from_client(
        "<auto@client.lv>",
        at=riga(2026, 4, 7, 12),
        in_reply_to="<q1@client.lv>",
        automatic_reason="auto-submitted: auto-replied",
    )
    interaction.refresh_from_db()
    assert interaction.state == "closed"
    email_from_client("<q2@client.lv>", at=riga(2026, 4, 8, 9), in_reply_to="<q1@client.lv>")
    email_from_client("<q2@client.lv>", at=riga(2026, 4, 8, 9), in_reply_to="<q1@client.lv>")  # redelivered
    interaction.refresh_from_db()
    assert interaction.state == "open"
    assert list(interaction.events.values_list("kind", flat=True)).count(EventKind.REOPENED) == 1
    assert Clock.objects.filter(interaction=interaction, state=ClockState.PENDING).count() == 2


@pytest.mark.parametrize("promised_on", [date(2026, 4, 6), date(2027, 6, 1), None])
def test_a_holding_reply_with_an_impossible_promise_is_refused(promised_on: date | None) -> None:
    interaction = email_from_client()
    with pytest.raises(DomainError) as refused:
        email_outbound_record(
            interaction=interaction,
            kind=EventKind.EMAIL_HOLDING_REPLY,
            message_id="<h@kase>",
            sent_at=riga(2026, 4, 7, 12),
            promised_on=promised_on,
        )
    assert refused.value.code in {"promised_date_invalid", "promised_date_missing"}


def test_an_abandoned_call_is_never_marked_met() -> None:
    clock = call("gave-up", outcome=EventKind.CALL_ABANDONED, wait_ms=40_000)
    assert (clock.state, clock.met_at) == (ClockState.BREACHED, None)
    answered = call("late-answer", outcome=EventKind.CALL_ANSWERED, wait_ms=20_000)
    assert answered.met_at == riga(2026, 4, 7, 10, 0, 20)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sweeps_racing_raise_each_breach_once() -> None:
    for n in range(20):
        interaction_record_email(
            message_id=f"<r{n}@client.lv>",
            received_at=riga(2026, 4, 7, 10),
            sender="k@example.lv",
            subject="?",
        )
    outcomes = run_concurrently(*[lambda: clock_breach_overdue(now=riga(2026, 4, 30))] * 3)
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert sum(len(o) for o in outcomes) == 40
    assert Breach.objects.count() == 40


def test_each_breach_is_one_ledger_event_at_its_due_time_and_the_chain_stays_whole() -> None:
    interactions = [email_from_client(f"<b{n}@client.lv>") for n in range(3)]
    clock_breach_overdue(now=riga(2026, 4, 30))
    clock_breach_overdue(now=riga(2026, 4, 30, 1))
    breached = Event.objects.filter(kind=EventKind.SLA_BREACHED, interaction__in=interactions)
    assert sorted(breached.values_list("payload__rule_id", flat=True)) == ["EM-ACK"] * 3 + ["EM-REPLY"] * 3
    assert {event.occurred_at for event in breached} == {riga(2026, 4, 8, 17, 15), riga(2026, 4, 9, 17, 15)}
    assert ledger_chain_verify().intact


def test_a_deadline_leaves_the_sweep_once_its_clocks_are_breached_and_a_late_clock_brings_it_back() -> None:
    first = email_from_client("<first@client.lv>")
    clock_breach_overdue(now=riga(2026, 4, 30))
    ack_deadline = clocks(first)["EM-ACK"].deadline
    ack_deadline.refresh_from_db()
    assert not ack_deadline.sweep_pending
    # A backlog delivers a mail of the same morning weeks later: its clock joins the finished deadline.
    late = email_from_client("<late@client.lv>")
    assert clocks(late)["EM-ACK"].deadline_id == ack_deadline.pk
    assert [b.interaction_id for b in clock_breach_overdue(now=riga(2026, 4, 30, 1))] == [late.pk, late.pk]
