"""The outbox: every message we send to a client is a row first, then sent by a Celery task.

Exactly once, as far as SMTP allows:
- A row is written in the same transaction as the ledger fact that causes it (unique `dedupe_key`,
  `sender_day_key`), and its bytes and Message-ID are fixed then; a retry sends the same bytes.
- A sender claims the row with a conditional UPDATE (`claimed_until`, a lease), so two workers, or a
  worker and the sweep, never send it at the same time.
- Transient failures (server down, 4xx, timeout) set `next_attempt_at` with backoff; the beat sweep
  dispatches rows that are due. A task lost with a restarted Redis is therefore only a delay.

The one window left: the SMTP server has answered 250 to our DATA and the worker dies (or the
database is unreachable) before `state = sent` commits. After the lease expires the message is sent
again, with the same Message-ID, so the recipient's server or client can drop the copy. SMTP has no
way to ask "did you already take this one?", so no sender can close this window entirely.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from celery import current_app
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from imapclient.exceptions import IMAPClientError

from agents.errors import DomainError
from agents.models import Absence
from contact_centre.models import EventKind, Interaction
from contact_centre.services import (
    complaint_outcome_record,
    email_delivery_failure_record,
    email_outbound_record,
)
from mail.compose import message_id_new, raw_build, reply_flags
from mail.config import imap_settings, mail_from
from mail.imap import sent_folder_append_many
from mail.models import Mailbox, OutboundKind, OutboundMail, OutboundState
from mail.smtp import Envelope, SmtpPermanentError, SmtpTransientError, smtp_send

logger = logging.getLogger(__name__)

# Longer than one send can take (SMTP timeout, task time limit), so a live sender never loses its claim.
CLAIM_LEASE = timedelta(minutes=5)
BACKOFF_FIRST = timedelta(seconds=5)
BACKOFF_MAX = timedelta(minutes=5)
# After this, a message the server keeps refusing for now is failed and shown to team leads.
GIVE_UP_AFTER = timedelta(days=2)
# Fresh rows are dispatched after their commit; the sweep picks up only those that were lost.
DISPATCH_GRACE = timedelta(seconds=60)
SEND_TASK = "mail.outbound_send"
SEND_MANY_TASK = "mail.outbound_send_many"

LEDGER_KIND = {
    OutboundKind.ACKNOWLEDGEMENT: EventKind.EMAIL_ACKNOWLEDGED,
    OutboundKind.REPLY: EventKind.EMAIL_REPLIED,
    OutboundKind.HOLDING_REPLY: EventKind.EMAIL_HOLDING_REPLY,
    OutboundKind.OUT_OF_OFFICE: EventKind.EMAIL_OUT_OF_OFFICE,
}


@dataclass(frozen=True)
class Outgoing:
    """One message to send, before it is a row."""

    kind: str
    to: str
    subject: str
    body: str
    interaction: Interaction | None = None
    in_reply_to: str = ""
    references: Sequence[str] = ()
    automatic: bool = False
    promised_on: date | None = None
    complaint_outcome: bool = False
    dedupe_key: str | None = None
    sender_day_key: str | None = None
    absence: Absence | None = None
    created_by: User | None = None


def outbound_build(outgoing: Outgoing) -> OutboundMail:
    """The unsaved outbox row. Its Message-ID is fixed now; its bytes when it is first sent, by the
    worker, so that a watcher reading a backlog does not spend its time formatting mail."""
    return OutboundMail(
        kind=outgoing.kind,
        interaction=outgoing.interaction,
        absence=outgoing.absence,
        message_id=message_id_new(outgoing.kind),
        mail_from=mail_from(),
        to_address=outgoing.to,
        subject=outgoing.subject,
        body=outgoing.body,
        in_reply_to=outgoing.in_reply_to,
        references=list(outgoing.references),
        automatic=outgoing.automatic,
        promised_on=outgoing.promised_on,
        complaint_outcome=outgoing.complaint_outcome,
        dedupe_key=outgoing.dedupe_key,
        sender_day_key=outgoing.sender_day_key,
        next_attempt_at=timezone.now(),
        created_by=outgoing.created_by,
    )


def outbound_raw(row: OutboundMail) -> bytes:
    """The message's bytes: built on first use and stored, so every later use (a retry, the Sent copy)
    has exactly these. Only the sender that holds the row's claim builds them."""
    if row.raw is not None:
        return bytes(row.raw)
    raw = raw_build(
        message_id=row.message_id,
        to=row.to_address,
        subject=row.subject,
        body=row.body,
        kind=row.kind,
        in_reply_to=row.in_reply_to,
        references=row.references,
        automatic=row.automatic,
        promised_on=row.promised_on,
    )
    OutboundMail.objects.filter(pk=row.pk, raw__isnull=True).update(raw=raw)
    row.raw = raw
    return raw


def outbound_queue(outgoing: Outgoing) -> OutboundMail | None:
    """Queue one message; after commit a task sends it.

    Idempotency keys: `dedupe_key` and `sender_day_key` (unique); returns None when either was taken.
    """
    row = outbound_build(outgoing)
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        return None  # the same message was queued already (a redelivery, or a racing worker)
    transaction.on_commit(lambda: outbound_dispatch(row.pk))
    return row


def outbound_queue_many(rows: Sequence[OutboundMail]) -> None:
    """Queue rows built with `outbound_build` in one statement (a batch whose keys were checked by the
    caller under the same transaction), and one task for them all after commit; raises IntegrityError if
    a racing writer took a key."""
    OutboundMail.objects.bulk_create(rows)
    if rows:
        transaction.on_commit(partial(outbound_dispatch_many, [row.pk for row in rows]))


def outbound_dispatch_many(outbound_ids: list[int]) -> None:
    """One task for many rows (a backlog's acknowledgements); the sweep covers a failure, as above."""
    try:
        current_app.send_task(SEND_MANY_TASK, args=[outbound_ids], ignore_result=True, retry=False)
    except Exception:  # any broker failure only delays the sends (the sweep retries)
        logger.warning(
            "could not queue %s outbound messages now; the sweep will send them", len(outbound_ids)
        )


def outbound_dispatch(outbound_id: int) -> None:
    """Hand a queued row to a worker. If the broker is unreachable the sweep dispatches it later."""
    try:
        current_app.send_task(SEND_TASK, args=[outbound_id], ignore_result=True, retry=False)
    except Exception:
        logger.warning("could not queue outbound %s now; the outbox sweep will send it", outbound_id)


def _claim(outbound_id: int, now: datetime) -> bool:
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    claimed = (
        OutboundMail.objects.filter(free, pk=outbound_id, state=OutboundState.QUEUED)
        .filter(next_attempt_at__lte=now)
        .update(claimed_until=now + CLAIM_LEASE, attempts=F("attempts") + 1)
    )
    return claimed == 1


def outbound_send(outbound_id: int) -> str | None:
    """Send one queued message if it is due and nobody else holds it; returns the new state or None.

    Side effects: the SMTP send, the row's state, the ledger fact (acknowledged, replied, …), the copy
    in the Sent folder. Idempotent: a sent or claimed row is left alone.
    """
    if not _claim(outbound_id, timezone.now()):
        return None
    row = OutboundMail.objects.get(pk=outbound_id)
    if row.promised_on is not None and row.promised_on < timezone.localdate():
        # A holding reply that could not go out before the day it promised would tell a falsehood.
        _give_up(row, f"the promised date {row.promised_on} passed before it could be sent", record=False)
        return OutboundState.FAILED
    try:
        smtp_send(Envelope(row.mail_from, (row.to_address,), outbound_raw(row)))
    except SmtpTransientError as error:
        return _retry_later(row, str(error))
    except SmtpPermanentError as error:
        _give_up(row, str(error))
        return OutboundState.FAILED
    _mark_sent(row)
    return OutboundState.SENT


def _retry_later(row: OutboundMail, error: str) -> str:
    """Back off and try again later; after GIVE_UP_AFTER, give up. Returns the row's new state."""
    if timezone.now() - row.created_at > GIVE_UP_AFTER:
        hours = GIVE_UP_AFTER.total_seconds() / 3600
        _give_up(row, f"not accepted after {row.attempts} attempts in {hours:.0f} h: {error}")
        return OutboundState.FAILED
    delay = min(BACKOFF_FIRST * 2 ** max(row.attempts - 1, 0), BACKOFF_MAX)
    logger.info("outbound %s (%s) not sent, retry in %s: %s", row.pk, row.kind, delay, error)
    OutboundMail.objects.filter(pk=row.pk, state=OutboundState.QUEUED).update(
        next_attempt_at=timezone.now() + delay, claimed_until=None, last_error=error[:2000]
    )
    return OutboundState.QUEUED


def _give_up(row: OutboundMail, error: str, *, record: bool = True) -> None:
    """Mark the row failed; `record`: and the interaction's ledger gets a delivery failure."""
    logger.warning("outbound %s (%s) not sent, for good: %s", row.pk, row.kind, error)
    with transaction.atomic():
        OutboundMail.objects.filter(pk=row.pk).update(
            state=OutboundState.FAILED, claimed_until=None, last_error=error[:2000]
        )
        if record and row.interaction is not None:
            email_delivery_failure_record(
                interaction=row.interaction,
                bounce_message_id=f"smtp-refused.{row.message_id}",
                failed_message_id=row.message_id,
                occurred_at=timezone.now(),
                reason=error[:500],
            )


def _mark_sent(row: OutboundMail) -> None:
    sent_at = timezone.now()
    with transaction.atomic():
        OutboundMail.objects.filter(pk=row.pk).update(
            state=OutboundState.SENT, sent_at=sent_at, claimed_until=None, last_error=""
        )
        kind = LEDGER_KIND.get(OutboundKind(row.kind))
        if row.interaction is None or kind is None:
            return
        try:
            with transaction.atomic():  # a savepoint: the row stays sent whatever the ledger says
                email_outbound_record(
                    interaction=row.interaction,
                    kind=kind,
                    message_id=row.message_id,
                    sent_at=sent_at,
                    promised_on=row.promised_on,
                    details={"to": row.to_address, "origin": "product", "flags": _flags(row)},
                    actor=row.created_by,
                )
                if row.complaint_outcome and row.created_by is not None:
                    complaint_outcome_record(
                        interaction=row.interaction,
                        by=row.created_by,
                        at=sent_at,
                        outcome=f"{row.subject} ({row.message_id})",
                    )
        except DomainError as error:
            # Sent is sent: never send it again. The watcher records its copy in Sent as a reply.
            logger.error("outbound %s was sent but not recorded as %s: %s", row.pk, kind, error.message)


def _flags(row: OutboundMail) -> list[str]:
    if row.kind not in (OutboundKind.REPLY, OutboundKind.HOLDING_REPLY):
        return []
    mailbox = Mailbox.objects.filter(address=row.mail_from).first()
    return reply_flags(row.body, mailbox.feedback_url if mailbox else "")


def outbox_file_in_sent(*, limit: int = 500) -> int:
    """Put copies of sent messages in the Sent folder, over one IMAP connection; returns how many.

    Done by the sweep, not by each send, so that a burst of acknowledgements does not open an IMAP
    session per message. The rows are locked while they are filed, so two sweeps never file one twice;
    a copy already in Sent (same Message-ID) is not added again. A failure is retried at the next sweep.
    """
    config = imap_settings()
    if not config.user:
        return 0  # no mailbox configured: nothing to file into
    with transaction.atomic():
        rows = list(
            OutboundMail.objects.select_for_update(skip_locked=True)
            .filter(state=OutboundState.SENT, appended_to_sent_at__isnull=True, raw__isnull=False)
            .order_by("sent_at")
            .only("pk", "raw", "message_id", "sent_at")[:limit]
        )
        if not rows:
            return 0
        copies = [(bytes(row.raw or b""), row.message_id, row.sent_at or timezone.now()) for row in rows]
        try:
            filed = sent_folder_append_many(copies, config=config)
        except (IMAPClientError, OSError) as error:
            logger.warning("%s sent messages not filed in Sent yet: %s", len(rows), error)
            return 0
        filed_ids = [row.pk for row in rows[:filed]]
        OutboundMail.objects.filter(pk__in=filed_ids).update(appended_to_sent_at=timezone.now())
    return filed


def outbox_sweep(*, now: datetime, limit: int = 500) -> int:
    """Dispatch queued rows that are due again or were never dispatched, and file sent mail in Sent."""
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    lost = Q(attempts=0, created_at__lt=now - DISPATCH_GRACE)
    retry = Q(attempts__gt=0)
    due = list(
        OutboundMail.objects.filter(free, lost | retry, state=OutboundState.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for outbound_id in due:
        outbound_dispatch(outbound_id)
    return len(due) + outbox_file_in_sent(limit=limit)
