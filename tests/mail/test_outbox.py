"""Sending: the outbox against a real SMTP server (aiosmtpd) and a real Dovecot for the Sent copy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.core import mail as django_mail
from django.utils import timezone
from pytest_django.fixtures import Settings

from contact_centre.models import Event, EventKind, Interaction
from mail.ingest import message_ingest
from mail.models import OutboundMail, OutboundState
from mail.outbox import outbound_send, outbox_file_in_sent, outbox_sweep
from mail.replies import mailbox_default
from tests.factories import riga
from tests.mail.builders import client_mail, fetched
from tests.mailpeers import DovecotServer, SmtpCapture

pytestmark = [pytest.mark.peers, pytest.mark.django_db]


def received(message_id: str, sender: str = "klients@example.org") -> OutboundMail:
    """A client's message arrives now; returns the acknowledgement it queued."""
    raw = client_mail(message_id=message_id, sender=sender)
    message_ingest(mailbox=mailbox_default(), fetched=fetched(raw, timezone.now()))
    return OutboundMail.objects.get(interaction__events__source_key=f"email:{message_id}")


def test_the_acknowledgement_is_sent_recorded_and_filed_in_sent(
    smtp_settings: SmtpCapture, product_mailbox: str, dovecot: DovecotServer
) -> None:
    ack = received("send1@example.org")

    assert outbound_send(ack.pk) == OutboundState.SENT

    (message,) = smtp_settings.wait_for(1)
    assert message["Message-ID"] == f"<{ack.message_id}>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert list(smtp_settings.envelopes[0].rcpt_tos) == ["klients@example.org"]
    event = Event.objects.get(kind=EventKind.EMAIL_ACKNOWLEDGED)
    assert event.payload["message_id"] == ack.message_id
    assert outbox_file_in_sent() == 1  # the sweep files sent mail in Sent, once
    assert outbox_file_in_sent() == 0
    ack.refresh_from_db()
    assert ack.appended_to_sent_at is not None
    client = dovecot.client(product_mailbox, "Sent")
    try:
        assert len(client.search(["HEADER", "Message-ID", ack.message_id])) == 1
    finally:
        client.logout()


def test_a_second_send_of_the_same_row_does_nothing(smtp_settings: SmtpCapture, product_mailbox: str) -> None:
    ack = received("send2@example.org")
    outbound_send(ack.pk)
    assert outbound_send(ack.pk) is None

    smtp_settings.wait_for(1)
    assert len(smtp_settings.envelopes) == 1
    assert Event.objects.filter(kind=EventKind.EMAIL_ACKNOWLEDGED).count() == 1


def test_while_smtp_is_down_the_message_waits_and_is_delivered_once_when_it_is_back(
    smtp_settings: SmtpCapture, product_mailbox: str
) -> None:
    ack = received("down1@example.org")
    smtp_settings.stop()

    assert outbound_send(ack.pk) == OutboundState.QUEUED
    ack.refresh_from_db()
    assert (ack.state, ack.attempts, ack.claimed_until) == (OutboundState.QUEUED, 1, None)
    assert ack.next_attempt_at > timezone.now()
    assert ack.last_error
    assert outbound_send(ack.pk) is None  # not due yet: backoff

    smtp_settings.start()
    with time_machine.travel(ack.next_attempt_at + timedelta(seconds=1)):
        assert outbound_send(ack.pk) == OutboundState.SENT
        assert outbound_send(ack.pk) is None
    smtp_settings.wait_for(1)
    assert len(smtp_settings.envelopes) == 1
    assert Event.objects.filter(kind=EventKind.EMAIL_ACKNOWLEDGED).count() == 1


def test_a_refused_recipient_fails_for_good_and_is_a_delivery_failure(
    smtp_settings: SmtpCapture, product_mailbox: str
) -> None:
    ack = received("refused@example.org", sender="klients@refused.example.net")

    assert outbound_send(ack.pk) == OutboundState.FAILED

    failure = Event.objects.get(kind=EventKind.EMAIL_DELIVERY_FAILED)
    assert failure.interaction == Interaction.objects.get()
    assert failure.payload["failed_message_id"] == ack.message_id
    assert not Event.objects.filter(kind=EventKind.EMAIL_ACKNOWLEDGED).exists()
    assert smtp_settings.envelopes == []


@pytest.fixture
def product_backend(settings: Settings) -> None:
    """pytest-django swaps in the in-memory backend for every test; put the product's back."""
    settings.EMAIL_BACKEND = "mail.backends.AiosmtplibBackend"


@pytest.mark.usefixtures("product_backend")
def test_django_mail_goes_through_the_aiosmtplib_backend(smtp_settings: SmtpCapture) -> None:
    sent = django_mail.send_mail(
        "Brīdinājums / Alert", "EM-REPLY termiņš tuvojas.", None, ["vaditajs@example.org"]
    )

    assert sent == 1
    (message,) = smtp_settings.wait_for(1)
    assert message["Subject"] == "Brīdinājums / Alert"
    assert "EM-REPLY" in message.get_content()


@pytest.mark.usefixtures("product_backend")
def test_the_django_backend_raises_when_the_server_is_down(smtp_settings: SmtpCapture) -> None:
    smtp_settings.stop()
    with pytest.raises(Exception, match=r"(?i)connect|refused"):
        django_mail.send_mail("x", "y", None, ["vaditajs@example.org"])
    assert django_mail.send_mail("x", "y", None, ["vaditajs@example.org"], fail_silently=True) == 0


def test_acknowledgements_carry_the_reply_date_of_the_calendar(
    smtp_settings: SmtpCapture, product_mailbox: str
) -> None:
    # Thursday before Easter 2026: Good Friday (3 April) and Easter Monday (6 April) are holidays, so the
    # second working day, when the answer is due, is Wednesday 8 April.
    raw = client_mail(message_id="easter@example.org")
    with time_machine.travel(riga(2026, 4, 2, 16, 0), tick=False):
        message_ingest(mailbox=mailbox_default(), fetched=fetched(raw, riga(2026, 4, 2, 15, 59)))
    ack = OutboundMail.objects.get()
    outbound_send(ack.pk)
    (message,) = smtp_settings.wait_for(1)
    assert "08.04.2026" in message.get_body(preferencelist=("plain",)).get_content()


def test_a_holding_reply_whose_promised_day_passed_before_it_could_go_is_failed_not_sent(
    smtp_settings: SmtpCapture, product_mailbox: str
) -> None:
    ack = received("late-hold@example.org")
    holding = OutboundMail.objects.create(
        kind="holding_reply",
        interaction=ack.interaction,
        message_id="hold-late@sla.kase.gov.lv",
        mail_from=ack.mail_from,
        to_address=ack.to_address,
        subject="Re: x",
        body="Atbildi sniegsim šodien.",
        promised_on=timezone.localdate(),
        next_attempt_at=timezone.now(),
    )
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert outbound_send(holding.pk) == OutboundState.FAILED
        assert outbound_send(holding.pk) is None
    assert smtp_settings.envelopes == []


def test_a_refused_login_keeps_every_message_queued_for_later(
    smtp_server_factory: Callable[..., SmtpCapture], settings: Settings, product_mailbox: str
) -> None:
    server = smtp_server_factory(auth=("ekase", "right-password"))
    settings.CC_SMTP_HOST, settings.CC_SMTP_PORT = server.host, server.port
    settings.CC_SMTP_USER, settings.CC_SMTP_PASSWORD, settings.CC_SMTP_TIMEOUT = "ekase", "wrong", 5.0
    ack = received("auth@example.org")

    assert outbound_send(ack.pk) == OutboundState.QUEUED
    assert not Event.objects.filter(kind=EventKind.EMAIL_DELIVERY_FAILED).exists()

    settings.CC_SMTP_PASSWORD = "right-password"
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert outbound_send(ack.pk) == OutboundState.SENT
    server.wait_for(1)


def test_a_message_refused_for_two_days_is_given_up_and_shown_as_failed(
    smtp_settings: SmtpCapture, product_mailbox: str
) -> None:
    ack = received("twodays@example.org")
    smtp_settings.stop()
    with time_machine.travel(timezone.now() + timedelta(days=2, minutes=1)):
        assert outbound_send(ack.pk) == OutboundState.FAILED
    ack.refresh_from_db()
    assert "attempts" in ack.last_error


def test_the_sweep_leaves_fresh_rows_to_their_own_dispatch(
    smtp_settings: SmtpCapture, product_mailbox: str
) -> None:
    received("fresh@example.org")
    assert outbox_sweep(now=timezone.now()) == 0
    assert outbox_sweep(now=timezone.now() + timedelta(minutes=2)) == 1  # lost: dispatched again
