"""The ledger: idempotent facts, append-only events, and a hash chain that exposes tampering."""

from __future__ import annotations

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import ProgrammingError, connection, connections, transaction

from agents.errors import DomainError
from contact_centre.models import Event, EventKind, Interaction
from contact_centre.selectors import ledger_chain_verify
from contact_centre.services import (
    call_record_outcome,
    interaction_record_call,
    interaction_record_email,
)
from tests.factories import riga

pytestmark = pytest.mark.django_db


def record_email(message_id: str = "<a1@client.lv>", **overrides: object) -> Interaction:
    fields: dict[str, object] = {
        "message_id": message_id,
        "received_at": riga(2026, 4, 7, 10, 0),
        "sender": "klients@example.lv",
        "subject": "Konta atvēršana",
    }
    fields.update(overrides)
    return interaction_record_email(**fields)


@pytest.mark.smoke
def test_the_same_email_recorded_twice_is_stored_once() -> None:
    first = record_email()
    second = record_email()
    assert first.pk == second.pk
    assert Event.objects.count() == 1
    assert Interaction.objects.count() == 1
    assert first.reference == f"VK-2026-{first.pk:06d}"


def test_message_id_brackets_and_case_do_not_make_a_new_fact() -> None:
    record_email("<ABC@Client.LV>")
    record_email("abc@client.lv")
    assert Event.objects.count() == 1


def test_a_reply_joins_its_thread_through_in_reply_to() -> None:
    first = record_email("<q1@client.lv>")
    follow_up = record_email("<q2@client.lv>", in_reply_to="<q1@client.lv>")
    unrelated = record_email("<q3@client.lv>", references=["<nobody@else.lv>"])
    assert follow_up.pk == first.pk
    assert unrelated.pk != first.pk
    assert list(first.events.values_list("kind", flat=True)) == [EventKind.EMAIL_RECEIVED] * 2


def test_the_same_call_recorded_twice_is_stored_once() -> None:
    kwargs = {"sip_call_id": "c-1@line", "arrived_at": riga(2026, 4, 7, 10), "caller": "+37120000000"}
    first = interaction_record_call(in_office_hours=True, **kwargs)
    second = interaction_record_call(in_office_hours=True, **kwargs)
    call_record_outcome(
        sip_call_id="c-1@line",
        kind=EventKind.CALL_ANSWERED,
        occurred_at=riga(2026, 4, 7, 10, 0, 9),
        wait_ms=9000,
    )
    call_record_outcome(
        sip_call_id="c-1@line",
        kind=EventKind.CALL_ANSWERED,
        occurred_at=riga(2026, 4, 7, 10, 0, 9),
        wait_ms=9000,
    )
    assert first.pk == second.pk
    assert Event.objects.count() == 2


def test_a_call_cannot_have_two_different_outcomes() -> None:
    interaction_record_call(
        sip_call_id="c-2", arrived_at=riga(2026, 4, 7, 10), caller="+371", in_office_hours=True
    )
    call_record_outcome(
        sip_call_id="c-2", kind=EventKind.CALL_ABANDONED, occurred_at=riga(2026, 4, 7, 10, 0, 3), wait_ms=3000
    )
    with pytest.raises(DomainError) as refused:
        call_record_outcome(
            sip_call_id="c-2",
            kind=EventKind.CALL_ANSWERED,
            occurred_at=riga(2026, 4, 7, 10, 0, 5),
            wait_ms=5000,
        )
    assert refused.value.code == "call_outcome_conflict"


def test_an_outcome_for_an_unknown_call_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        call_record_outcome(
            sip_call_id="ghost", kind=EventKind.CALL_ANSWERED, occurred_at=riga(2026, 4, 7), wait_ms=1
        )
    assert refused.value.code == "call_unknown"


def test_a_naive_time_is_refused_and_nothing_is_written() -> None:
    from datetime import datetime

    with pytest.raises(DomainError) as refused:
        record_email(received_at=datetime(2026, 4, 7, 10))  # noqa: DTZ001 -- the point of the test
    assert refused.value.code == "naive_datetime"
    assert not Interaction.objects.exists()


def test_events_cannot_be_changed_or_deleted_through_the_orm() -> None:
    event = record_email().events.get()
    event.payload = {"forged": True}
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()


def forge(sql: str, params: list[object]) -> None:
    """Tamper as a database superuser would: on PostgreSQL, past the append-only trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")  # disables user triggers
        cursor.execute(sql, params)


def test_postgresql_itself_refuses_to_change_or_delete_an_event() -> None:
    if connection.vendor != "postgresql":
        pytest.fail("this test needs the PostgreSQL peer")
    event = record_email().events.get()
    for sql in (
        "UPDATE contact_centre_event SET payload = '{}' WHERE seq = %s",
        "DELETE FROM contact_centre_event WHERE seq = %s",
    ):
        with (
            pytest.raises(ProgrammingError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(sql, [event.seq])
    assert ledger_chain_verify().intact


def _three_events() -> list[Event]:
    for n in range(3):
        record_email(f"<m{n}@client.lv>")
    return list(Event.objects.order_by("seq"))


@pytest.mark.smoke
def test_ledger_verify_passes_an_untouched_chain(capsys: pytest.CaptureFixture[str]) -> None:
    _three_events()
    call_command("ledger_verify")
    assert "3 events verified" in capsys.readouterr().out


def test_ledger_verify_names_an_edited_event() -> None:
    events = _three_events()
    forge("UPDATE contact_centre_event SET source_key = 'forged' WHERE seq = %s", [events[1].seq])
    with pytest.raises(CommandError, match=f"seq={events[1].seq}: content does not match"):
        call_command("ledger_verify")


def test_ledger_verify_names_a_deleted_event() -> None:
    events = _three_events()
    forge("DELETE FROM contact_centre_event WHERE seq = %s", [events[1].seq])
    report = ledger_chain_verify()
    assert report.first_broken_seq == events[1].seq
    assert "missing" in report.problem


def test_ledger_verify_notices_the_last_event_deleted() -> None:
    events = _three_events()
    forge("DELETE FROM contact_centre_event WHERE seq = %s", [events[-1].seq])
    report = ledger_chain_verify()
    assert report.first_broken_seq == events[-1].seq


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writers_keep_one_unbroken_chain() -> None:
    if connection.vendor != "postgresql":
        pytest.fail("this test needs the PostgreSQL peer")
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for n in range(15):
                record_email(f"<w{worker}-{n}@client.lv>")
                record_email(f"<w{worker}-{n}@client.lv>")  # a redelivery of the same fact
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = ledger_chain_verify()
    assert report.intact, report.problem
    assert report.events_checked == 60


def test_opening_many_at_once_builds_the_same_chain_and_is_idempotent() -> None:
    from contact_centre.services import Opening, email_source_key, interactions_open_many

    interaction_record_email(
        message_id="<before@x.lv>", received_at=riga(2026, 4, 7, 9), sender="a@x.lv", subject=""
    )
    openings = [
        Opening(
            channel="email",
            kind=EventKind.EMAIL_RECEIVED,
            occurred_at=riga(2026, 4, 7, 10, minute),
            source_key=email_source_key(f"bulk-{minute}@x.lv"),
            payload={"message_id": f"bulk-{minute}@x.lv"},
            client_contact=f"k{minute}@x.lv",
            subject=f"Nr. {minute}",
        )
        for minute in range(5)
    ]
    first = interactions_open_many([*openings, openings[0]])  # repeated in the same call: opened once
    again = interactions_open_many(openings)

    assert [created for _, created in first] == [True] * 5 + [False]
    assert first[5][0] == first[0][0]
    assert [created for _, created in again] == [False] * 5
    assert [i.pk for i, _ in again] == [i.pk for i, _ in first[:5]]
    assert Interaction.objects.count() == 6
    assert all(i.reference and i.reference.startswith("VK-2026-") for i, _ in first)
    stored = dict(Interaction.objects.values_list("pk", "reference"))
    assert all(stored[i.pk] == i.reference == f"VK-2026-{i.pk:06d}" for i, _ in first)
    assert list(Event.objects.values_list("seq", flat=True)) == [1, 2, 3, 4, 5, 6]
    assert ledger_chain_verify().first_broken_seq is None
