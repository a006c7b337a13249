"""A handler opens a client's attachment: fetched from the real mailbox (Dovecot) by the stored UID,
decoded, and served as a download that the browser never renders."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agents.models import Role
from mail.imap import imap_connect
from mail.ingest import FetchedMessage, message_ingest
from mail.models import FolderRole, StoredMessage
from mail.replies import mailbox_default
from tests.factories import PersonFactory
from tests.mailpeers import DovecotServer

pytestmark = [pytest.mark.peers, pytest.mark.django_db]

PDF = b"%PDF-1.4\n% izraksts\n" + bytes(range(256)) * 40
HOSTILE = b"<html><script>alert(1)</script></html>"


def _client_message() -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = "Līga Kļaviņa <klients@example.org>"
    message["To"] = "ekase@kase.gov.lv"
    message["Subject"] = "Konta izraksts"
    message["Message-ID"] = "<att@example.org>"
    message.set_content("Pielikumā izraksts.")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="izraksts 2026.pdf")
    message.add_attachment(HOSTILE, maintype="text", subtype="html", filename="lapa.html")
    return message.as_bytes()


def _stored_from_mailbox() -> StoredMessage:
    """Put the message in the product's INBOX and store it as the watcher would, with its real UID."""
    raw = _client_message()
    client = imap_connect()
    try:
        client.append("INBOX", raw)
        selected = client.select_folder("INBOX", readonly=True)
        uid = max(client.search(["ALL"]))
    finally:
        client.logout()
    fetched = FetchedMessage(
        folder="INBOX",
        role=FolderRole.INBOX,
        imap_uidvalidity=int(selected[b"UIDVALIDITY"]),
        imap_uid=uid,
        raw=raw,
        internal_date=timezone.now(),
    )
    message_ingest(mailbox=mailbox_default(), fetched=fetched)
    return StoredMessage.objects.get(message_id="att@example.org")


def test_a_handler_downloads_a_clients_attachment_as_it_was_sent(product_mailbox: str) -> None:
    stored = _stored_from_mailbox()
    handler = PersonFactory(user__username="janis", user__roles=[Role.EMAIL_HANDLER])
    client = Client()
    client.force_login(handler.user)
    thread = client.get(reverse("mail-thread", args=[stored.interaction_id])).content.decode()
    url = reverse("mail-attachment", args=[stored.interaction_id, stored.pk, 0])
    assert url in thread

    pdf = client.get(url)
    page = client.get(reverse("mail-attachment", args=[stored.interaction_id, stored.pk, 1]))

    assert (pdf.status_code, pdf.content) == (200, PDF)
    assert pdf["Content-Disposition"] == 'attachment; filename="izraksts 2026.pdf"'
    assert page.content == HOSTILE
    assert page["Content-Type"] == "application/octet-stream"  # never rendered as HTML
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Content-Security-Policy"].startswith("sandbox")


def test_an_attachment_of_a_message_gone_from_the_mailbox_is_refused_with_a_reason(
    product_mailbox: str, dovecot: DovecotServer
) -> None:
    stored = _stored_from_mailbox()
    client = imap_connect()
    try:
        client.select_folder("INBOX")
        client.delete_messages([stored.imap_uid])
        client.expunge()
    finally:
        client.logout()
    handler = PersonFactory(user__username="janis", user__roles=[Role.EMAIL_HANDLER])
    browser = Client()
    browser.force_login(handler.user)
    response = browser.get(
        reverse("mail-attachment", args=[stored.interaction_id, stored.pk, 0]), follow=True
    )
    assert "vairs nav pastkastē" in response.content.decode()
    missing = browser.get(reverse("mail-attachment", args=[stored.interaction_id, stored.pk, 7]), follow=True)
    assert "Tāda pielikuma nav" in missing.content.decode()


def test_other_roles_cannot_fetch_an_attachment(product_mailbox: str) -> None:
    stored = _stored_from_mailbox()
    agent = PersonFactory(user__username="anna", user__roles=[Role.PHONE_AGENT])
    client = Client()
    client.force_login(agent.user)
    assert (
        client.get(reverse("mail-attachment", args=[stored.interaction_id, stored.pk, 0])).status_code == 403
    )
