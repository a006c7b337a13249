"""The one SMTP sender (aiosmtplib): acknowledgements, replies, out-of-office, and Django's e-mail backend.

Errors are sorted once, here: `SmtpTransientError` (server down, timeout, 4xx) is worth retrying later;
`SmtpPermanentError` (5xx, a refused recipient) is not, and is recorded as a delivery failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import aiosmtplib

from mail.config import SmtpSettings, smtp_settings

PERMANENT_FROM = 500  # SMTP reply codes from 500 up are permanent refusals (RFC 5321 §4.2.1)


class SmtpTransientError(Exception):
    """The message was not accepted now; the same bytes may be sent again later."""


class SmtpPermanentError(Exception):
    """The server refused the message for good (5xx)."""


@dataclass(frozen=True)
class Envelope:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes


def _client(config: SmtpSettings) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=config.host,
        port=config.port,
        timeout=config.timeout,
        use_tls=config.tls == "tls",
        start_tls=config.tls == "starttls",
        username=config.user or None,
        password=config.password or None,
    )


def _classified(error: Exception) -> Exception:
    """Permanent only when the server refuses this message (a recipient, or its content, with 5xx).

    Everything else is worth another try: the server down, a timeout, 4xx, and also a refused login or
    sender address, which are our configuration's fault, not the message's, and must not fail every
    message in the outbox at once.
    """
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [getattr(refusal, "code", 550) for refusal in error.recipients]
        if all(code >= PERMANENT_FROM for code in codes):
            return SmtpPermanentError(str(error))
        return SmtpTransientError(str(error))
    if isinstance(error, aiosmtplib.SMTPDataError) and error.code >= PERMANENT_FROM:
        return SmtpPermanentError(f"{error.code} {error.message}")
    if isinstance(error, aiosmtplib.SMTPNotSupported):  # e.g. a UTF-8 address without SMTPUTF8
        return SmtpPermanentError(str(error))
    return SmtpTransientError(f"{type(error).__name__}: {error}")


async def _send_all(envelopes: Sequence[Envelope], config: SmtpSettings) -> list[Exception | None]:
    """Send over one connection; returns, per envelope, None when accepted or the classified error."""
    results: list[Exception | None] = []
    client = _client(config)
    try:
        await client.connect()
    except (
        aiosmtplib.SMTPException,
        OSError,
    ) as error:  # connecting or logging in: never the message's fault
        return [SmtpTransientError(f"{type(error).__name__}: {error}")] * len(envelopes)
    try:
        for envelope in envelopes:
            try:
                await client.sendmail(envelope.mail_from, list(envelope.rcpt_tos), envelope.raw)
                results.append(None)
            except (aiosmtplib.SMTPException, OSError) as error:
                results.append(_classified(error))
                if isinstance(error, aiosmtplib.SMTPServerDisconnected | OSError):
                    results += [SmtpTransientError("connection lost")] * (len(envelopes) - len(results))
                    break
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
    return results


def smtp_send_many(
    envelopes: Sequence[Envelope], config: SmtpSettings | None = None
) -> list[Exception | None]:
    """Send several messages over one SMTP connection (from synchronous code: Celery, Django)."""
    if not envelopes:
        return []
    return asyncio.run(_send_all(envelopes, config or smtp_settings()))


def smtp_send(envelope: Envelope, config: SmtpSettings | None = None) -> None:
    """Send one message; raises SmtpTransientError or SmtpPermanentError when it was not accepted."""
    (error,) = smtp_send_many([envelope], config)
    if error is not None:
        raise error
