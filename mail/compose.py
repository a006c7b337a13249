"""Building the messages we send: Message-IDs, template rendering, the signature (EM-SIGN), the feedback
link (EM-FEEDBACK), and the raw bytes with the threading and RFC 3834 headers.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from typing import Any

from django.template import Context, Template
from django.utils import timezone

from agents.models import Person
from mail.config import mail_from, message_id_domain
from mail.models import Mailbox, MailTemplate

INSTITUTION_LV, INSTITUTION_EN = "Valsts kase", "State Treasury of Latvia"
SENDER_NAME = "Valsts kase"
# Our own header naming what kind of message the product sent, and a holding reply's promised date:
# the Sent-folder watcher reads them back, whether the product or a person's mail client sent it.
KIND_HEADER = "X-VK-Kind"
PROMISED_ON_HEADER = "X-VK-Promised-On"
REFERENCE_PATTERN = re.compile(r"\bVK-\d{4}-\d{6,}\b", re.IGNORECASE)


def message_id_new(kind: str) -> str:
    """A fresh Message-ID (without angle brackets) in our own domain."""
    return f"{kind}.{uuid.uuid4().hex}@{message_id_domain()}"


def reference_in(subject: str) -> str:
    """Our reference number (VK-2026-000123) in a subject, upper-cased, or ""."""
    match = REFERENCE_PATTERN.search(subject)
    return match.group(0).upper() if match else ""


def signature_for(person: Person | None, mailbox: Mailbox) -> str:
    """The corporate signature (EM-SIGN): name, surname, position, institution, contacts."""
    if person is None:
        lines = ["Klientu apkalpošanas centrs / Client Service Centre"]
    else:
        lines = [str(person)]
        if person.position:
            lines.append(person.position)
    lines.append(f"{INSTITUTION_LV} / {INSTITUTION_EN}")
    phone = (person.mobile_number if person else "") or mailbox.signature_phone
    email = (person.user.email if person else "") or mailbox.address
    lines.append(f"Tālr. / Phone: {phone}, e-pasts / e-mail: {email}")
    return "\n".join(lines)


def template_render(template: MailTemplate, context: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) of a template; plain text, so no HTML escaping."""
    ctx = Context(dict(context), autoescape=False)
    subject = _compiled(template.subject).render(ctx).strip()
    body = _compiled(template.body).render(ctx).strip() + "\n"
    return " ".join(subject.split()), body


@functools.lru_cache(maxsize=64)
def _compiled(source: str) -> Template:
    """A template compiled once per text (an edit in the admin is a new text): compiling costs more than
    rendering, and a backlog renders the same acknowledgement thousands of times."""
    return Template(source)


def date_lv(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def period_lv(starts_at: datetime, ends_at: datetime) -> str:
    """An absence period as people say it: the first and the last day away, in Riga time.

    `ends_at` is exclusive (an absence to Friday ends at Saturday 00:00), hence the microsecond.
    """
    first = timezone.localdate(starts_at)
    last = timezone.localdate(ends_at - timedelta(microseconds=1))
    return date_lv(first) if first == last else f"{date_lv(first)}–{date_lv(last)}"


def raw_build(
    *,
    message_id: str,
    to: str,
    subject: str,
    body: str,
    kind: str,
    in_reply_to: str = "",
    references: Sequence[str] = (),
    automatic: bool = False,
    promised_on: date | None = None,
    sent_at: datetime | None = None,
) -> bytes:
    """The bytes of one outbound message. Built once and stored, so a retry sends exactly these."""
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((SENDER_NAME, mail_from()))
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.localtime(sent_at or timezone.now()))
    message["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
    chain = [ref for ref in references if ref] + ([in_reply_to] if in_reply_to else [])
    if chain:
        message["References"] = " ".join(f"<{ref}>" for ref in dict.fromkeys(chain))
    if automatic:
        # RFC 3834: no automatic answer to this; Exchange honours the second header, not the first.
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
    message["Content-Language"] = "lv, en"
    message[KIND_HEADER] = kind
    if promised_on is not None:
        message[PROMISED_ON_HEADER] = promised_on.isoformat()
    message.set_content(body, charset="utf-8", cte="quoted-printable")
    return message.as_bytes()


# Where a reply's own text ends and the quoted history begins (Outlook, Thunderbird, Gmail, in LV and EN).
QUOTE_START = re.compile(
    r"^(>|-{2,}\s*(original message|sākotnējā ziņa|forwarded message|pārsūtīta ziņa)|"
    r"(on|am|le)\s.+\s(wrote|schrieb|a écrit):\s*$|.+\s(rakstīja|написал):\s*$|"
    r"(from|no|sūtītājs):\s.+@)",
    re.IGNORECASE | re.MULTILINE,
)


def own_text(text: str) -> str:
    """A reply without the history it quotes (which may hold our signature and link, not the writer's)."""
    match = QUOTE_START.search(text)
    return text[: match.start()] if match else text


def reply_flags(text: str, feedback_url: str) -> list[str]:
    """Rule IDs a reply's own text misses: EM-SIGN (institution and a contact), EM-FEEDBACK (the link)."""
    flags = []
    text = own_text(text)
    lowered = text.lower()
    has_contact = bool(re.search(r"(\+?\d[\d ]{6,}\d)|([\w.+-]+@[\w-]+\.[\w.-]+)", text))
    if INSTITUTION_LV.lower() not in lowered or not has_contact:
        flags.append("EM-SIGN")
    if feedback_url.rstrip("/").lower() not in lowered:
        flags.append("EM-FEEDBACK")
    return flags
