"""The mail API as handlers and team leads use it: replying from the product, and the mailbox's state."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
import time_machine
from rest_framework.test import APIClient

from agents.models import Role
from contact_centre.models import EventKind, Interaction
from mail.ingest import message_ingest
from mail.models import FolderCheckpoint, OutboundKind, OutboundMail, OutboundState, QuarantinedMessage
from mail.outbox import outbound_raw, outbound_send
from mail.replies import mailbox_default
from sla.models import Clock, ClockState
from sla.sync import clock_sync
from tests.factories import PersonFactory, riga
from tests.mail.builders import client_mail, fetched
from tests.mailpeers import SmtpCapture

pytestmark = pytest.mark.django_db

NOW = riga(2026, 3, 10, 11)


@pytest.fixture
def handler_client() -> APIClient:
    person = PersonFactory(
        user__username="anna",
        user__roles=[Role.EMAIL_HANDLER],
        position="Vecākā referente",
        mobile_number="+371 26000000",
    )
    client = APIClient()
    client.force_authenticate(person.user)
    return client


@pytest.fixture
def interaction() -> Interaction:
    raw = client_mail(message_id="ask@example.org", subject="Konta izraksts")
    with time_machine.travel(NOW, tick=False):
        message_ingest(mailbox=mailbox_default(), fetched=fetched(raw, NOW - timedelta(hours=1)))
    return Interaction.objects.get()


def reply_text(outbound: OutboundMail) -> str:
    message = message_from_bytes(outbound_raw(outbound), policy=default_policy)
    assert message["In-Reply-To"] == "<ask@example.org>"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_a_reply_from_the_product_carries_the_handlers_signature_and_the_feedback_link(
    handler_client: APIClient, interaction: Interaction
) -> None:
    with time_machine.travel(NOW, tick=False):
        response = handler_client.post(
            f"/api/interactions/{interaction.pk}/reply", {"body": "Izraksts pievienots."}, format="json"
        )

    assert response.status_code == 202, response.json()
    outbound = OutboundMail.objects.get(pk=response.json()["id"])
    assert (outbound.kind, outbound.to_address, outbound.state) == (
        OutboundKind.REPLY,
        "klients@example.org",
        "queued",
    )
    text = reply_text(outbound)
    assert text.startswith("Izraksts pievienots.")
    assert "Vecākā referente" in text
    assert "Valsts kase" in text
    assert "+371 26000000" in text
    assert mailbox_default().feedback_url in text
    assert f"[{interaction.reference}]" in outbound.subject


def test_a_holding_reply_names_the_promised_date(handler_client: APIClient, interaction: Interaction) -> None:
    with time_machine.travel(NOW, tick=False):
        response = handler_client.post(
            f"/api/interactions/{interaction.pk}/reply/",
            {"body": "", "promised_on": "2026-03-20"},
            format="json",
        )

    assert response.status_code == 202, response.json()
    outbound = OutboundMail.objects.get(pk=response.json()["id"])
    assert outbound.kind == OutboundKind.HOLDING_REPLY
    assert "20.03.2026" in reply_text(outbound)
    assert message_from_bytes(outbound_raw(outbound))["X-VK-Promised-On"] == "2026-03-20"


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"body": "  "}, "invalid", None),
        ({"body": "x", "promised_on": "2026-03-01"}, "promised_date_invalid", "promised_on"),
        ({"body": "x", "promised_on": "marts"}, "invalid", None),
        ({"body": "x", "template": "nav-tadas"}, "template_missing", "template"),
        ({}, "invalid", None),
    ],
)
def test_a_bad_reply_request_is_refused_with_a_clear_error(
    handler_client: APIClient, interaction: Interaction, payload: dict[str, str], code: str, field: str | None
) -> None:
    with time_machine.travel(NOW, tick=False):
        response = handler_client.post(f"/api/interactions/{interaction.pk}/reply", payload, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert error["field"] == field
    assert error["message"]
    assert not OutboundMail.objects.filter(kind__in=[OutboundKind.REPLY, OutboundKind.HOLDING_REPLY]).exists()


def test_team_leads_see_the_mailbox_state_and_can_record_a_quarantined_message_again() -> None:
    lead = PersonFactory(user__username="lead", user__roles=[Role.TEAM_LEAD])
    client = APIClient()
    client.force_authenticate(lead.user)
    mailbox = mailbox_default()
    FolderCheckpoint.objects.create(
        mailbox=mailbox, folder="INBOX", role="inbox", imap_uidvalidity=7, last_uid=42
    )
    message_ingest(mailbox=mailbox, fetched=fetched(b"\x00junk", NOW))
    row = QuarantinedMessage.objects.get()

    (state,) = client.get("/api/mail/mailboxes/").json()["results"]
    assert (state["checkpoints"][0]["imap_uidvalidity"], state["checkpoints"][0]["last_uid"]) == (7, 42)
    assert state["quarantined"] == 1
    (listed,) = client.get("/api/mail/quarantine/").json()["results"]
    assert listed["reason"].startswith("unparseable:")
    raw = client.get(f"/api/mail/quarantine/{row.pk}/raw/")
    assert raw.status_code == 200
    assert raw["Content-Disposition"].startswith("attachment;")
    assert raw.content == b"\x00junk"

    # Releasing a message that still cannot be read keeps it in quarantine, unchanged.
    released = client.post(f"/api/mail/quarantine/{row.pk}/release/").json()
    assert (released["outcome"], released["released_at"]) == ("quarantined", None)


@pytest.mark.peers
def test_a_reply_giving_a_complainant_the_outcome_meets_the_complaint_clock_once_sent(
    handler_client: APIClient, interaction: Interaction, smtp_settings: SmtpCapture
) -> None:
    with time_machine.travel(NOW, tick=False):
        complaint = handler_client.post(
            f"/api/interactions/{interaction.pk}/complaint/", {"note": "Neapmierināts"}, format="json"
        )
        assert complaint.status_code == 200, complaint.content
        response = handler_client.post(
            f"/api/interactions/{interaction.pk}/reply/",
            {"body": "Pārbaudījām: kļūda labota.", "complaint_outcome": True},
            format="json",
        )
    assert response.status_code == 202, response.json()
    clock_sync()
    complaint_clock = Clock.objects.get(interaction=interaction, rule_id="COMPLAINT")
    assert complaint_clock.state == ClockState.PENDING  # queued is not told

    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        assert outbound_send(response.json()["id"]) == OutboundState.SENT
    clock_sync()
    (sent,) = smtp_settings.wait_for(1)  # only the reply: the acknowledgement is left queued here
    assert "kļūda labota" in sent.get_body(preferencelist=("plain",)).get_content()
    complaint_clock.refresh_from_db()
    assert (complaint_clock.state, complaint_clock.met_at) == (ClockState.MET, NOW + timedelta(minutes=5))
    outcome = interaction.events.get(kind=EventKind.COMPLAINT_OUTCOME)
    assert "Konta izraksts" in outcome.payload["outcome"]


def test_only_a_final_reply_to_a_complaint_can_give_its_outcome(
    handler_client: APIClient, interaction: Interaction
) -> None:
    with time_machine.travel(NOW, tick=False):
        response = handler_client.post(
            f"/api/interactions/{interaction.pk}/reply/",
            {"body": "Atbilde.", "complaint_outcome": True},
            format="json",
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "not_a_complaint_outcome"
