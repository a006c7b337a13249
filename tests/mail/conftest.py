"""The mail tests' peers wired into the settings: the product's mailbox is a fresh Dovecot user."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings

from tests.mailpeers import DovecotServer


@pytest.fixture
def product_mailbox(settings: Settings, dovecot: DovecotServer) -> str:
    """A new Dovecot mailbox as the product's shared inbox (CC_IMAP_*, CC_MAIL_FROM); its address."""
    address = dovecot.user_add("ekase")
    settings.CC_IMAP_HOST, settings.CC_IMAP_PORT, settings.CC_IMAP_TLS = (
        dovecot.host,
        dovecot.imap_port,
        "none",
    )
    settings.CC_IMAP_USER, settings.CC_IMAP_PASSWORD = address, dovecot.password
    settings.CC_IMAP_INBOX, settings.CC_IMAP_SENT = "INBOX", "Sent"
    settings.CC_MAIL_FROM = address
    return address
