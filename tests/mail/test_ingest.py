"""From a fetched message to the ledger: threading, automatic mail, acknowledgements, out-of-office,
replies found in the Sent folder, quarantine. The database is real; the IMAP side is in test_watcher."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
import time_machine

from agents.models import Absence, AbsenceKind, Role
from contact_centre.models import Event, EventKind, Interaction
from contact_centre.services import email_outbound_record, interaction_close
from mail.compose import PROMISED_ON_HEADER
from mail.ingest import IngestOutcome, message_ingest, quarantine_release
from mail.models import Mailbox, OutboundKind, OutboundMail, QuarantinedMessage, StoredMessage
from mail.outbox import outbound_raw
from mail.replies import mailbox_default
from sla.models import Clock
from sla.sync import clock_sync
from tests.factories import PersonFactory, riga
from tests.mail.builders import client_mail, fetched

pytestmark = pytest.mark.django_db

TUESDAY_10 = riga(2026, 3, 10, 10)


@pytest.fixture
def mailbox() -> Mailbox:
    return mailbox_default()


def ingest(mailbox: Mailbox, raw: bytes, at=TUESDAY_10, folder: str = "INBOX") -> IngestOutcome:
    with time_machine.travel(at + timedelta(seconds=1), tick=False):
        return message_ingest(mailbox=mailbox, fetched=fetched(raw, at, folder=folder))


def kinds(interaction: Interaction) -> list[str]:
    return list(interaction.events.order_by("seq").values_list("kind", flat=True))


def ack_body(outbound: OutboundMail) -> str:
    message = message_from_bytes(outbound_raw(outbound), policy=default_policy)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_a_client_message_opens_an_interaction_and_queues_one_acknowledgement(mailbox: Mailbox) -> None:
    outcome = ingest(mailbox, client_mail(message_id="q1@example.org", subject="Konta izraksts"))

    assert outcome == IngestOutcome.STORED
    interaction = Interaction.objects.get()
    assert (interaction.channel, interaction.client_contact, interaction.subject) == (
        "email",
        "klients@example.org",
        "Konta izraksts",
    )
    assert interaction.opened_at == TUESDAY_10
    ack = OutboundMail.objects.get()
    assert (ack.kind, ack.to_address, ack.interaction) == (
        OutboundKind.ACKNOWLEDGEMENT,
        "klients@example.org",
        interaction,
    )
    raw = message_from_bytes(outbound_raw(ack), policy=default_policy)
    assert raw["Auto-Submitted"] == "auto-replied"
    assert raw["In-Reply-To"] == "<q1@example.org>"
    assert f"[{interaction.reference}]" in str(raw["Subject"])
    body = ack_body(ack)
    assert str(interaction.reference) in body
    assert "12.03.2026" in body  # EM-REPLY: two working days after Tuesday 10 March
    assert "Valsts kase" in body
    assert mailbox.feedback_url in body
    assert body.index("Labdien") < body.index("Good day")  # Latvian first


def test_the_same_message_fetched_twice_is_recorded_once(mailbox: Mailbox) -> None:
    raw = client_mail(message_id="twice@example.org")
    assert ingest(mailbox, raw) == IngestOutcome.STORED
    assert ingest(mailbox, raw, at=TUESDAY_10 + timedelta(hours=1)) == IngestOutcome.DUPLICATE

    assert Event.objects.count() == 1
    assert StoredMessage.objects.count() == 1
    assert OutboundMail.objects.count() == 1


def test_a_message_without_message_id_is_keyed_by_content_and_never_acknowledged(mailbox: Mailbox) -> None:
    raw = client_mail(message_id="")
    assert ingest(mailbox, raw) == IngestOutcome.STORED
    assert ingest(mailbox, raw) == IngestOutcome.DUPLICATE

    stored = StoredMessage.objects.get()
    assert stored.source_id.startswith("sha256:")
    assert stored.automatic_reason == "no-message-id"
    assert not OutboundMail.objects.exists()


def test_a_follow_up_in_the_thread_gets_no_second_acknowledgement(mailbox: Mailbox) -> None:
    ingest(mailbox, client_mail(message_id="first@example.org"))
    ingest(
        mailbox,
        client_mail(
            message_id="second@example.org", in_reply_to="first@example.org", sender="cits@example.org"
        ),
        at=TUESDAY_10 + timedelta(days=1),
    )

    interaction = Interaction.objects.get()
    assert kinds(interaction) == [EventKind.EMAIL_RECEIVED, EventKind.EMAIL_RECEIVED]
    assert OutboundMail.objects.count() == 1


def test_our_reference_number_in_the_subject_joins_the_thread(mailbox: Mailbox) -> None:
    ingest(mailbox, client_mail(message_id="a@example.org"))
    reference = Interaction.objects.get().reference
    ingest(mailbox, client_mail(message_id="b@example.org", subject=f"Papildinājums {reference.lower()}"))

    assert Interaction.objects.count() == 1


def test_a_sender_gets_at_most_one_acknowledgement_a_day_and_the_withheld_one_is_noted(
    mailbox: Mailbox,
) -> None:
    ingest(mailbox, client_mail(message_id="one@example.org", subject="Viens"))
    ingest(
        mailbox, client_mail(message_id="two@example.org", subject="Divi"), at=TUESDAY_10 + timedelta(hours=2)
    )
    ingest(
        mailbox,
        client_mail(message_id="three@example.org", subject="Trīs"),
        at=TUESDAY_10 + timedelta(days=1),
    )

    assert OutboundMail.objects.filter(kind=OutboundKind.ACKNOWLEDGEMENT).count() == 2
    withheld = Event.objects.get(kind=EventKind.NOTE)
    assert withheld.interaction.subject == "Divi"
    assert withheld.payload["rule"] == "EM-ACK"


def test_no_acknowledgement_when_the_mailbox_has_them_switched_off(mailbox: Mailbox) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(auto_acknowledge=False)
    mailbox.refresh_from_db()
    ingest(mailbox, client_mail(message_id="off@example.org"))

    assert Interaction.objects.count() == 1
    assert not OutboundMail.objects.exists()


@pytest.mark.parametrize(
    ("headers", "sender", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "klients@example.org", "auto-submitted:auto-replied"),
        ({"Precedence": "bulk"}, "zinas@example.org", "precedence:bulk"),
        ({"List-Id": "<jaunumi.example.org>"}, "jaunumi@example.org", "list"),
        ({"X-Auto-Response-Suppress": "All"}, "klients@example.org", "x-auto-response-suppress"),
        ({"X-Loop": "ekase@kase.gov.lv"}, "klients@example.org", "x-loop"),
        ({}, "noreply@example.org", "sender"),
        ({}, "mailer-daemon@example.org", ""),
    ],
)
def test_automatic_mail_opens_no_clock_and_gets_no_answer(
    mailbox: Mailbox, headers: dict[str, str], sender: str, reason: str
) -> None:
    ingest(mailbox, client_mail(message_id="auto@example.org", headers=headers, sender=sender))
    clock_sync()

    stored = StoredMessage.objects.get()
    assert stored.automatic_reason
    assert stored.automatic_reason.startswith(reason)
    assert kinds(Interaction.objects.get()) == [EventKind.EMAIL_AUTOMATIC_RECEIVED]
    assert not Clock.objects.exists()
    assert not OutboundMail.objects.exists()


def test_an_auto_reply_never_reopens_a_closed_interaction(mailbox: Mailbox) -> None:
    ingest(mailbox, client_mail(message_id="c1@example.org"))
    interaction = Interaction.objects.get()
    interaction_close(interaction=interaction, closed_at=TUESDAY_10 + timedelta(hours=1))
    ingest(
        mailbox,
        client_mail(
            message_id="ooo@example.org",
            in_reply_to="c1@example.org",
            headers={"Auto-Submitted": "auto-replied"},
        ),
        at=TUESDAY_10 + timedelta(hours=2),
    )

    interaction.refresh_from_db()
    assert interaction.state == "closed"
    assert kinds(interaction)[-1] == EventKind.EMAIL_AUTOMATIC_RECEIVED


def test_a_bounce_of_our_acknowledgement_is_a_delivery_failure_on_its_interaction(mailbox: Mailbox) -> None:
    ingest(mailbox, client_mail(message_id="bq@example.org", sender="nav-tada@example.org"))
    ack = OutboundMail.objects.get()
    interaction = Interaction.objects.get()
    # The ledger fact the sender records once the acknowledgement went out.
    email_outbound_record(
        interaction=interaction,
        kind=EventKind.EMAIL_ACKNOWLEDGED,
        message_id=ack.message_id,
        sent_at=TUESDAY_10 + timedelta(seconds=2),
    )
    bounce = dsn_for(ack.message_id, "nav-tada@example.org")
    ingest(mailbox, bounce, at=TUESDAY_10 + timedelta(minutes=5))

    failure = Event.objects.get(kind=EventKind.EMAIL_DELIVERY_FAILED)
    assert failure.interaction == interaction
    assert failure.payload["failed_message_id"] == ack.message_id
    assert Interaction.objects.count() == 1
    assert OutboundMail.objects.count() == 1  # nobody answers a bounce


def dsn_for(message_id: str, recipient: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
        "To: ekase@kase.gov.lv\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.example.org>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/plain\r\n\r\n"
        f"<{recipient}>: host mx.example.org said: 550 5.1.1 User unknown\r\n"
        "--b1\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--b1\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        f"From: Valsts kase <ekase@kase.gov.lv>\r\nTo: {recipient}\r\nMessage-ID: <{message_id}>\r\n"
        "Subject: Jusu vestule sanemta\r\n"
        "--b1--\r\n"
    ).encode()


def test_an_unreadable_message_is_quarantined_with_the_reason_and_kept_raw(mailbox: Mailbox) -> None:
    raw = b"\x00\x01\x02 this is not an e-mail \xff\xfe"
    assert ingest(mailbox, raw) == IngestOutcome.QUARANTINED
    assert ingest(mailbox, raw) == IngestOutcome.QUARANTINED

    row = QuarantinedMessage.objects.get()
    assert bytes(row.raw) == raw
    assert row.reason.startswith("unparseable:")
    assert not Interaction.objects.exists()
    assert quarantine_release(row) == IngestOutcome.QUARANTINED
    row.refresh_from_db()
    assert row.released_at is None


# --- Out of office (EM-OOO) ------------------------------------------------------------------------


def away(person, substitute=None, *, days: int = 5) -> Absence:
    return Absence.objects.create(
        person=person,
        kind=AbsenceKind.LEAVE,
        starts_at=riga(2026, 3, 9),
        ends_at=riga(2026, 3, 9) + timedelta(days=days),
        substitute=substitute,
    )


def test_a_client_writing_to_an_absent_handler_gets_one_out_of_office_reply_and_the_thread_passes_on(
    mailbox: Mailbox,
) -> None:
    anna = PersonFactory(user__roles=[Role.EMAIL_HANDLER], user__username="anna")
    janis = PersonFactory(
        user__roles=[Role.EMAIL_HANDLER], user__username="janis", mobile_number="+371 20000000"
    )
    ilze = PersonFactory(user__roles=[Role.EMAIL_HANDLER], user__username="ilze")
    away(anna, janis)
    away(janis, ilze)  # Jānis is away too: the chain ends at Ilze

    ingest(mailbox, client_mail(message_id="o1@example.org", to="anna@kase.gov.lv"))
    ingest(
        mailbox, client_mail(message_id="o2@example.org", to="anna@kase.gov.lv", in_reply_to="o1@example.org")
    )

    interaction = Interaction.objects.get()
    assert interaction.owner == ilze
    ooo = OutboundMail.objects.filter(kind=OutboundKind.OUT_OF_OFFICE)
    assert [row.to_address for row in ooo] == ["klients@example.org"]  # once per absence and sender
    body = ack_body(ooo.get())
    assert str(anna) in body
    assert str(ilze) in body
    assert "09.03.2026–13.03.2026" in body
    reassigned = interaction.events.get(kind=EventKind.REASSIGNED)
    assert reassigned.payload["to_person_id"] == ilze.pk


def test_a_handler_who_is_present_sends_no_out_of_office(mailbox: Mailbox) -> None:
    PersonFactory(user__username="liga")
    ingest(mailbox, client_mail(message_id="p1@example.org", to="liga@kase.gov.lv"))

    assert not OutboundMail.objects.filter(kind=OutboundKind.OUT_OF_OFFICE).exists()
    assert Interaction.objects.get().owner is None


# --- The Sent folder: replies from a mail client --------------------------------------------------


def sent_reply(
    *, message_id: str, in_reply_to: str, body: str, headers: dict[str, str] | None = None
) -> bytes:
    return client_mail(
        message_id=message_id,
        sender="ekase@kase.gov.lv",
        sender_name="Anna Bērziņa",
        to="klients@example.org",
        subject="Re: Jautājums par kontu",
        in_reply_to=in_reply_to,
        body=body,
        headers=headers,
    )


SIGNED = (
    "Labdien! Atbilde ir šāda.\n\nAr cieņu\nAnna Bērziņa\nValsts kase\nTālr. +371 67094222\n"
    "Jūsu viedoklis: https://www.kase.gov.lv/noderigi/biezak-uzdotie-jautajumi/uzdot-jautajumu\n"
)


def test_a_reply_found_in_sent_meets_em_reply_once(mailbox: Mailbox) -> None:
    ingest(mailbox, client_mail(message_id="r1@example.org"))
    reply = sent_reply(message_id="reply1@kase.gov.lv", in_reply_to="r1@example.org", body=SIGNED)
    ingest(mailbox, reply, at=TUESDAY_10 + timedelta(hours=3), folder="Sent")
    ingest(mailbox, reply, at=TUESDAY_10 + timedelta(hours=3), folder="Sent")
    clock_sync()

    interaction = Interaction.objects.get()
    replied = interaction.events.get(kind=EventKind.EMAIL_REPLIED)
    assert replied.payload["origin"] == "mail_client"
    assert replied.payload["flags"] == []
    states = dict(Clock.objects.values_list("rule_id", "state"))
    assert states == {"EM-ACK": "met", "EM-REPLY": "met"}


def test_a_reply_without_signature_or_feedback_link_is_flagged(mailbox: Mailbox) -> None:
    ingest(mailbox, client_mail(message_id="r2@example.org"))
    reply = sent_reply(message_id="reply2@kase.gov.lv", in_reply_to="r2@example.org", body="Jā.\n")
    ingest(mailbox, reply, at=TUESDAY_10 + timedelta(hours=3), folder="Sent")

    replied = Event.objects.get(kind=EventKind.EMAIL_REPLIED)
    assert replied.payload["flags"] == ["EM-SIGN", "EM-FEEDBACK"]


def test_a_holding_reply_in_sent_moves_em_reply_to_the_promised_date(mailbox: Mailbox) -> None:
    ingest(mailbox, client_mail(message_id="h1@example.org"))
    holding = sent_reply(
        message_id="hold1@kase.gov.lv",
        in_reply_to="h1@example.org",
        body=SIGNED,
        headers={PROMISED_ON_HEADER: "2026-03-20"},
    )
    ingest(mailbox, holding, at=TUESDAY_10 + timedelta(hours=3), folder="Sent")
    clock_sync()

    event = Event.objects.get(kind=EventKind.EMAIL_HOLDING_REPLY)
    assert event.payload["promised_on"] == "2026-03-20"
    pending = Clock.objects.get(rule_id="EM-REPLY", state="pending")
    assert pending.due_at.date().isoformat() == "2026-03-20"


def test_a_sent_message_that_answers_no_known_thread_is_stored_without_a_ledger_entry(
    mailbox: Mailbox,
) -> None:
    raw = sent_reply(message_id="other@kase.gov.lv", in_reply_to="unknown@example.org", body=SIGNED)
    assert ingest(mailbox, raw, folder="Sent") == IngestOutcome.STORED

    assert StoredMessage.objects.get().interaction is None
    assert not Event.objects.exists()


# --- Hostile or odd input never stalls the mailbox ------------------------------------------------


def test_a_sender_address_longer_than_smtp_allows_is_quarantined_not_stalling(mailbox: Mailbox) -> None:
    raw = client_mail(message_id="long-from@example.org", sender="x" * 300 + "@example.org")
    assert ingest(mailbox, raw) == IngestOutcome.QUARANTINED
    assert "sender" in QuarantinedMessage.objects.get().reason.lower()


def test_an_overlong_message_id_is_keyed_by_its_hash(mailbox: Mailbox) -> None:
    long_id = "a" * 950 + "@example.org"
    assert ingest(mailbox, client_mail(message_id=long_id)) == IngestOutcome.STORED
    assert ingest(mailbox, client_mail(message_id=long_id)) == IngestOutcome.DUPLICATE

    assert StoredMessage.objects.get().source_id.startswith("sha256-id:")


def test_a_stranger_quoting_someones_reference_number_opens_a_matter_of_their_own(mailbox: Mailbox) -> None:
    ingest(mailbox, client_mail(message_id="victim@example.org", sender="upuris@example.org"))
    victim = Interaction.objects.get()
    interaction_close(interaction=victim, closed_at=TUESDAY_10 + timedelta(hours=1))
    stranger = client_mail(
        message_id="stranger@example.org", sender="svesais@example.org", subject=f"Sveiki {victim.reference}"
    )
    ingest(mailbox, stranger, at=TUESDAY_10 + timedelta(hours=2))

    victim.refresh_from_db()
    assert victim.state == "closed"
    assert Interaction.objects.count() == 2


def test_old_mail_read_late_is_recorded_but_not_acknowledged(mailbox: Mailbox) -> None:
    raw = client_mail(message_id="old@example.org")
    with time_machine.travel(TUESDAY_10 + timedelta(days=5), tick=False):
        message_ingest(mailbox=mailbox, fetched=fetched(raw, TUESDAY_10))

    assert Interaction.objects.get().opened_at == TUESDAY_10
    assert not OutboundMail.objects.exists()


def test_a_reply_quoting_our_acknowledgement_is_still_flagged_when_it_has_no_signature_of_its_own(
    mailbox: Mailbox,
) -> None:
    ingest(mailbox, client_mail(message_id="q9@example.org"))
    body = "Jā, skatīt pielikumu.\n\n-----Original Message-----\n" + SIGNED
    ingest(
        mailbox,
        sent_reply(message_id="r9@kase.gov.lv", in_reply_to="q9@example.org", body=body),
        folder="Sent",
    )

    assert Event.objects.get(kind=EventKind.EMAIL_REPLIED).payload["flags"] == ["EM-SIGN", "EM-FEEDBACK"]


def test_a_forward_to_a_colleague_found_in_sent_does_not_count_as_the_answer(mailbox: Mailbox) -> None:
    ingest(mailbox, client_mail(message_id="fw1@example.org"))
    forward = client_mail(
        message_id="fw2@kase.gov.lv",
        sender="ekase@kase.gov.lv",
        to="kolega@kase.gov.lv",
        subject="Fwd: Jautājums par kontu",
        in_reply_to="fw1@example.org",
        body=SIGNED,
    )
    ingest(mailbox, forward, at=TUESDAY_10 + timedelta(hours=1), folder="Sent")

    assert not Event.objects.filter(kind=EventKind.EMAIL_REPLIED).exists()
    assert StoredMessage.objects.get(folder="Sent").interaction == Interaction.objects.get()


def test_a_handler_away_with_both_a_substitute_and_a_phone_forward_passes_mail_to_the_substitute(
    mailbox: Mailbox,
) -> None:
    anna = PersonFactory(user__username="anna2")
    janis = PersonFactory(user__username="janis2")
    absence = away(anna, janis)
    Absence.objects.filter(pk=absence.pk).update(forward_number="+37167094222")
    ingest(mailbox, client_mail(message_id="fwd-sub@example.org", to="anna2@kase.gov.lv"))

    assert Interaction.objects.get().owner == janis
    assert str(janis) in ack_body(OutboundMail.objects.get(kind=OutboundKind.OUT_OF_OFFICE))


# --- A backlog in bulk: the same result as one by one ----------------------------------------------


@pytest.mark.parametrize("parsed_when_fetched", [False, True], ids=["parsed-when-stored", "parsed-ahead"])
def test_a_batch_in_bulk_records_what_one_by_one_would(mailbox: Mailbox, parsed_when_fetched: bool) -> None:
    from django.db import transaction

    from mail.ingest import message_parse, messages_ingest_bulk

    PersonFactory(user__username="liga")
    ingest(mailbox, client_mail(message_id="older@example.org", sender="x@example.org"))
    batch = [
        fetched(client_mail(message_id="b1@example.org", sender="a@example.org"), TUESDAY_10),
        fetched(client_mail(message_id="b2@example.org", sender="a@example.org"), TUESDAY_10),  # same sender
        fetched(client_mail(message_id="b3@example.org", in_reply_to="older@example.org"), TUESDAY_10),
        fetched(client_mail(message_id="b4@example.org", to="liga@kase.gov.lv"), TUESDAY_10),  # a handler
        fetched(client_mail(message_id="b5@example.org", headers={"Precedence": "bulk"}), TUESDAY_10),
        fetched(b"\x00not mail", TUESDAY_10),
        fetched(client_mail(message_id="older@example.org", sender="x@example.org"), TUESDAY_10),  # stored
    ]
    if parsed_when_fetched:  # as the watcher's fetch thread hands them over
        batch = [dataclasses.replace(message, parsed=message_parse(message.raw)) for message in batch]
    with time_machine.travel(TUESDAY_10 + timedelta(seconds=1), tick=False), transaction.atomic():
        rest = messages_ingest_bulk(mailbox=mailbox, batch=batch)
        for message in rest:
            message_ingest(mailbox=mailbox, fetched=message)

    assert [message.imap_uid for message in rest] == [batch[i].imap_uid for i in (2, 3, 5)]
    assert StoredMessage.objects.count() == 6  # older, b1..b5
    assert QuarantinedMessage.objects.count() == 1
    acks = OutboundMail.objects.filter(kind=OutboundKind.ACKNOWLEDGEMENT)
    assert sorted(acks.values_list("to_address", flat=True)) == [
        "a@example.org",
        "klients@example.org",
        "x@example.org",
    ]
    assert Event.objects.filter(kind=EventKind.NOTE, payload__rule="EM-ACK").count() == 1  # b2: a's second
    b3 = StoredMessage.objects.get(message_id="b3@example.org").interaction
    assert b3 == StoredMessage.objects.get(message_id="older@example.org").interaction
    assert StoredMessage.objects.get(message_id="b5@example.org").automatic_reason == "precedence:bulk"
