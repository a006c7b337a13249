"""Django's e-mail backend on the one aiosmtplib sender (settings.EMAIL_BACKEND), so the rest of the
product (alerts, reminders) sends with `django.core.mail` through the same SMTP settings."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import sanitize_address

from mail.smtp import Envelope, smtp_send_many


class AiosmtplibBackend(BaseEmailBackend):
    """Sends a batch over one SMTP connection; raises the first failure unless `fail_silently`."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        envelopes = [_envelope(message) for message in email_messages if message.recipients()]
        results = smtp_send_many(envelopes)
        failures = [error for error in results if error is not None]
        if failures and not self.fail_silently:
            raise failures[0]
        return len(results) - len(failures)


def _envelope(message: EmailMessage) -> Envelope:
    encoding = message.encoding or settings.DEFAULT_CHARSET
    return Envelope(
        mail_from=sanitize_address(message.from_email, encoding),
        rcpt_tos=tuple(sanitize_address(address, encoding) for address in message.recipients()),
        raw=message.message().as_bytes(),
    )
