"""Raw test messages, built as a mail client would, and the watcher's view of them."""

from __future__ import annotations

import itertools
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from mail.ingest import FetchedMessage
from mail.models import FolderRole

_uids = itertools.count(1)


def client_mail(
    *,
    message_id: str,
    subject: str = "Jautājums par kontu",
    sender: str = "klients@example.org",
    sender_name: str = "Līga Kļaviņa",
    to: str = "ekase@kase.gov.lv",
    body: str = "Labdien! Lūdzu palīdziet.",
    in_reply_to: str = "",
    headers: dict[str, str] | None = None,
    at: datetime | None = None,
) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = f"{sender_name} <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    if at is not None:
        message["Date"] = format_datetime(at)
    if message_id:
        message["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
        message["References"] = f"<{in_reply_to}>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes()


def fetched(raw: bytes, at: datetime, *, folder: str = "INBOX", uid: int | None = None) -> FetchedMessage:
    role = FolderRole.SENT if folder == "Sent" else FolderRole.INBOX
    return FetchedMessage(
        folder=folder,
        role=role,
        imap_uidvalidity=1,
        imap_uid=uid if uid is not None else next(_uids),
        raw=raw,
        internal_date=at,
    )
