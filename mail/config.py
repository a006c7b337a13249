"""The mail adapter's settings, read from Django settings (CC_IMAP_*, CC_SMTP_*) when they are needed.

Read on use, not at import, so a test or a management command sees the settings in force at the time.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    user: str
    password: str
    tls: str  # none | starttls | tls
    inbox: str
    sent: str


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str
    password: str
    tls: str  # none | starttls | tls
    timeout: float


def imap_settings() -> ImapSettings:
    return ImapSettings(
        host=settings.CC_IMAP_HOST,
        port=settings.CC_IMAP_PORT,
        user=settings.CC_IMAP_USER,
        password=settings.CC_IMAP_PASSWORD,
        tls=settings.CC_IMAP_TLS,
        inbox=settings.CC_IMAP_INBOX,
        sent=settings.CC_IMAP_SENT,
    )


def smtp_settings() -> SmtpSettings:
    return SmtpSettings(
        host=settings.CC_SMTP_HOST,
        port=settings.CC_SMTP_PORT,
        user=settings.CC_SMTP_USER,
        password=settings.CC_SMTP_PASSWORD,
        tls=settings.CC_SMTP_TLS,
        timeout=settings.CC_SMTP_TIMEOUT,
    )


def mail_from() -> str:
    return str(settings.CC_MAIL_FROM).lower()


def message_id_domain() -> str:
    """The right-hand side of our own Message-IDs: how we know our own mail when it comes back."""
    return str(settings.CC_MAIL_MESSAGE_ID_DOMAIN)


def own_addresses() -> frozenset[str]:
    return frozenset({mail_from(), str(settings.CC_IMAP_USER).lower()} - {""})
