"""From one fetched IMAP message to the ledger: parse, classify, thread, store, and queue what it calls for
(the EM-ACK acknowledgement, the EM-OOO out-of-office reply and reassignment).

A message is stored once per folder, keyed by its Message-ID (or a content hash), so a re-scan after a
UIDVALIDITY change or a restart records nothing twice. A message that cannot be read is quarantined
raw, with the reason; nothing is dropped.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from enum import StrEnum

from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from agents.errors import DomainError
from contact_centre.models import Channel, EventKind, Interaction
from contact_centre.services import (
    Opening,
    email_delivery_failure_record,
    email_outbound_record,
    email_payload,
    email_promise_check,
    email_source_key,
    email_thread_find,
    interaction_record_email,
    interactions_open_many,
)
from mail.compose import KIND_HEADER, PROMISED_ON_HEADER, reference_in, reply_flags
from mail.config import imap_settings, message_id_domain, own_addresses
from mail.models import FolderRole, Mailbox, OutboundKind, OutboundMail, QuarantinedMessage, StoredMessage
from mail.outbox import outbound_build, outbound_queue_many
from mail.parsing import ParsedMail, UnparseableMail, mail_parse
from mail.portal import portal_rule_match, portal_rules_active
from mail.replies import (
    AckTerms,
    acknowledgement_for,
    acknowledgement_queue,
    acknowledgement_withheld,
    handler_addresses,
    out_of_office_handle,
    sender_day_key,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchedMessage:
    """One message as the watcher fetched it."""

    folder: str
    role: str  # FolderRole
    imap_uidvalidity: int
    imap_uid: int
    raw: bytes
    internal_date: datetime  # aware: when our server received (or filed) it
    # `message_parse(raw)` when it was parsed already (the bulk path hands on what it leaves to
    # `message_ingest` with its parse, so as not to parse it twice); None: parsed when it is recorded.
    parsed: ParsedMail | UnparseableMail | None = field(default=None, compare=False, repr=False)


class IngestOutcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"


def message_ingest(*, mailbox: Mailbox, fetched: FetchedMessage) -> IngestOutcome:
    """Record one fetched message. Idempotency key: (mailbox, folder, Message-ID or content hash).

    Side effects: a StoredMessage, ledger events, queued outbound mail; or a QuarantinedMessage.
    Database errors propagate (the watcher retries the message later); odd mail never does.
    """
    parsed = _read(fetched)
    if isinstance(parsed, UnparseableMail):
        return message_quarantine(mailbox=mailbox, fetched=fetched, reason=f"unparseable: {parsed.reason}")
    if _already_stored(mailbox, fetched.folder, parsed.source_id):
        return IngestOutcome.DUPLICATE
    try:
        with transaction.atomic():
            if fetched.role == FolderRole.SENT:
                _sent_record(mailbox, fetched, parsed)
            else:
                _inbound_record(mailbox, fetched, parsed)
    except IntegrityError:
        if _already_stored(mailbox, fetched.folder, parsed.source_id):
            return IngestOutcome.DUPLICATE  # a second watcher (or a redelivery) stored it first
        raise
    except DomainError as error:
        return message_quarantine(mailbox=mailbox, fetched=fetched, reason=f"{error.code}: {error.message}")
    except DataError as error:  # a value the database refuses (too long, out of range): this message only
        return message_quarantine(mailbox=mailbox, fetched=fetched, reason=f"database refused it: {error}")
    return IngestOutcome.STORED


def messages_ingest_bulk(*, mailbox: Mailbox, batch: Sequence[FetchedMessage]) -> list[FetchedMessage]:
    """Record the common case of a FETCH batch in a few statements; return the rest, in order, for
    `message_ingest` one by one. Call it inside a transaction.

    The common case, nearly all of a backlog: a message in INBOX that answers nothing (no In-Reply-To,
    References or reference number), names no handler and reports no bounce, so it opens a new matter.
    Its result is what `message_ingest` would give it: the interaction, the stored message, and the
    acknowledgement (or the note that the sender already had one today). Database errors propagate.
    """
    if not batch or batch[0].role != FolderRole.INBOX:
        return list(batch)
    simple, rest = _bulk_candidates(mailbox, batch)
    if not simple:
        return rest
    openings = [_opening(fetched, parsed) for fetched, parsed in simple]
    opened = interactions_open_many(openings)
    StoredMessage.objects.bulk_create(
        _stored(mailbox, fetched, parsed, interaction)
        for (fetched, parsed), (interaction, _fresh) in zip(simple, opened, strict=True)
    )
    fresh_mail = [
        (fetched, parsed, interaction)
        for (fetched, parsed), (interaction, fresh) in zip(simple, opened, strict=True)
        if fresh and not parsed.automatic_reason
    ]
    _acknowledgements_queue(mailbox, fresh_mail)
    return rest


def _bulk_candidates(
    mailbox: Mailbox, batch: Sequence[FetchedMessage]
) -> tuple[list[tuple[FetchedMessage, ParsedMail]], list[FetchedMessage]]:
    parsed_batch = [(fetched, _read(fetched)) for fetched in batch]
    handlers = handler_addresses(
        {
            address
            for _, parsed in parsed_batch
            if isinstance(parsed, ParsedMail)
            for address in parsed.to + parsed.cc
        }
    )
    portal_rules = portal_rules_active()
    simple: dict[str, tuple[FetchedMessage, ParsedMail]] = {}
    rest: list[FetchedMessage] = []
    for fetched, parsed in parsed_batch:
        if (
            isinstance(parsed, UnparseableMail)
            or not _opens_a_matter(parsed, handlers)
            or parsed.source_id in simple
            or parsed.signed_documents
            or portal_rule_match(portal_rules, parsed) is not None
        ):
            # Unreadable, threaded, to a handler, a bounce, twice in the batch, a signed submission or a
            # portal question: one by one, as parsed.
            rest.append(replace(fetched, parsed=parsed))
        else:
            simple[parsed.source_id] = (fetched, parsed)
    stored = set(
        StoredMessage.objects.filter(
            mailbox=mailbox, folder=batch[0].folder, source_id__in=list(simple)
        ).values_list("source_id", flat=True)
    )
    return [pair for source_id, pair in simple.items() if source_id not in stored], rest


def message_parse(raw: bytes) -> ParsedMail | UnparseableMail:
    """`raw` parsed as our mailbox sees it (our own addresses and Message-ID domain), or why it cannot be.

    A parser bug still raises.
    """
    try:
        return mail_parse(raw, own_addresses=own_addresses(), own_message_id_domain=message_id_domain())
    except UnparseableMail as error:
        return error


def _read(fetched: FetchedMessage) -> ParsedMail | UnparseableMail:
    return fetched.parsed if fetched.parsed is not None else message_parse(fetched.raw)


def _opens_a_matter(parsed: ParsedMail, handlers: set[str]) -> bool:
    addressed_to_a_handler = any(address in handlers for address in parsed.to + parsed.cc)
    return not (
        parsed.in_reply_to
        or parsed.references
        or parsed.bounced_message_ids
        or reference_in(parsed.subject)
        or addressed_to_a_handler
    )


def _opening(fetched: FetchedMessage, parsed: ParsedMail) -> Opening:
    kind = EventKind.EMAIL_AUTOMATIC_RECEIVED if parsed.automatic_reason else EventKind.EMAIL_RECEIVED
    payload = email_payload(
        message_id=parsed.source_id,
        sender=parsed.from_address,
        subject=parsed.subject,
        automatic_reason=parsed.automatic_reason,
        details=_details(parsed),
    )
    return Opening(
        channel=Channel.EMAIL,
        kind=kind,
        occurred_at=fetched.internal_date,
        source_key=email_source_key(parsed.source_id),
        payload=payload,
        client_name=parsed.from_name,
        client_contact=parsed.from_address,
        subject=parsed.subject,
    )


def _details(parsed: ParsedMail) -> dict[str, object]:
    details: dict[str, object] = {
        "to": list(parsed.to),
        "cc": list(parsed.cc),
        "attachments": _attachments(parsed),
    }
    if parsed.signed_documents:  # sla reads these: a trustworthy one makes a formal submission
        details["signed_documents"] = [document.as_payload() for document in parsed.signed_documents]
    return details


def _acknowledgements_queue(
    mailbox: Mailbox, mail: list[tuple[FetchedMessage, ParsedMail, Interaction]]
) -> None:
    """EM-ACK for the new matters of a batch: one per sender a day, as `acknowledgement_queue` decides."""
    if not mailbox.auto_acknowledge or not mail:
        return
    keys = {
        sender_day_key(parsed, fetched.internal_date) for fetched, parsed, _ in mail if parsed.from_address
    }
    taken = set(OutboundMail.objects.filter(sender_day_key__in=keys).values_list("sender_day_key", flat=True))
    terms = AckTerms.current()
    rows = []
    for fetched, parsed, interaction in mail:
        if not parsed.from_address:
            continue
        key = sender_day_key(parsed, fetched.internal_date)
        if key in taken:
            acknowledgement_withheld(interaction, parsed, fetched.internal_date)
            continue
        outgoing = acknowledgement_for(
            mailbox=mailbox,
            interaction=interaction,
            parsed=parsed,
            received_at=fetched.internal_date,
            terms=terms,
        )
        if outgoing is not None:
            taken.add(key)
            rows.append(outbound_build(outgoing))
    outbound_queue_many(rows)


def _already_stored(mailbox: Mailbox, folder: str, source_id: str) -> bool:
    return StoredMessage.objects.filter(mailbox=mailbox, folder=folder, source_id=source_id).exists()


def message_quarantine(*, mailbox: Mailbox, fetched: FetchedMessage, reason: str) -> IngestOutcome:
    """Keep the raw message with the reason it could not be recorded. Idempotent on the raw bytes."""
    logger.warning("quarantined %s uid %s: %s", fetched.folder, fetched.imap_uid, reason)
    QuarantinedMessage.objects.get_or_create(
        mailbox=mailbox,
        folder=fetched.folder,
        raw_sha256=hashlib.sha256(fetched.raw).hexdigest(),
        defaults={
            "imap_uidvalidity": fetched.imap_uidvalidity,
            "imap_uid": fetched.imap_uid,
            "received_at": fetched.internal_date,
            "raw": fetched.raw,
            "reason": reason[:5000],
        },
    )
    return IngestOutcome.QUARANTINED


def quarantine_release(row: QuarantinedMessage) -> IngestOutcome:
    """Record a quarantined message again (after a fix). On success it is marked released and kept for
    the record; if it fails again it stays as it was (the quarantine is keyed by its raw bytes)."""
    role = FolderRole.SENT if row.folder == imap_settings().sent else FolderRole.INBOX
    fetched = FetchedMessage(
        folder=row.folder,
        role=role,
        imap_uidvalidity=row.imap_uidvalidity,
        imap_uid=row.imap_uid,
        raw=bytes(row.raw),
        internal_date=row.received_at or row.quarantined_at,
    )
    outcome = message_ingest(mailbox=row.mailbox, fetched=fetched)
    if outcome != IngestOutcome.QUARANTINED:
        QuarantinedMessage.objects.filter(pk=row.pk).update(released_at=timezone.now())
    return outcome


def _store(
    mailbox: Mailbox, fetched: FetchedMessage, parsed: ParsedMail, interaction: Interaction | None
) -> StoredMessage:
    stored = _stored(mailbox, fetched, parsed, interaction)
    stored.save(force_insert=True)
    return stored


def _stored(
    mailbox: Mailbox, fetched: FetchedMessage, parsed: ParsedMail, interaction: Interaction | None
) -> StoredMessage:
    return StoredMessage(
        mailbox=mailbox,
        folder=fetched.folder,
        source_id=parsed.source_id,
        imap_uidvalidity=fetched.imap_uidvalidity,
        imap_uid=fetched.imap_uid,
        received_at=fetched.internal_date,
        message_id=parsed.message_id,
        subject=parsed.subject[:998],
        from_address=parsed.from_address[:320],
        from_name=parsed.from_name[:300],
        to_addresses=list(parsed.to + parsed.cc),
        text=parsed.text,
        html=parsed.html,
        attachments=_attachments(parsed),
        automatic_reason=parsed.automatic_reason[:100],
        defects=list(parsed.defects),
        size=len(fetched.raw),
        interaction=interaction,
    )


def _attachments(parsed: ParsedMail) -> list[dict[str, object]]:
    """The attachments as stored and shown, each e-signed one with its verdict (so the handler sees a
    damaged signature at the file)."""
    signed: dict[str, dict[str, object]] = {}
    for document in parsed.signed_documents:
        signed.setdefault(document.filename, document.as_payload())
    rows: list[dict[str, object]] = []
    for item in parsed.attachments:
        row: dict[str, object] = {
            "name": item.filename,
            "type": item.content_type,
            "size": item.size,
            "inline": item.is_inline,
        }
        if item.filename in signed:
            row["signed"] = signed[item.filename]
        rows.append(row)
    return rows


def _inbound_record(mailbox: Mailbox, fetched: FetchedMessage, parsed: ParsedMail) -> None:
    if parsed.automatic_reason and parsed.bounced_message_ids and _bounce_record(mailbox, fetched, parsed):
        return
    portal_rule = None if parsed.automatic_reason else portal_rule_match(portal_rules_active(), parsed)
    interaction = interaction_record_email(
        message_id=parsed.source_id,
        received_at=fetched.internal_date,
        sender=parsed.from_address,
        sender_name=parsed.from_name,
        subject=parsed.subject,
        in_reply_to=parsed.in_reply_to,
        references=parsed.references,
        automatic_reason=parsed.automatic_reason,
        thread_reference=reference_in(parsed.subject),
        details=_details(parsed),
        channel=Channel.PORTAL if portal_rule else Channel.EMAIL,
        intake_rule=f"portal rule {portal_rule.pk}: {portal_rule.name}" if portal_rule else "",
    )
    _store(mailbox, fetched, parsed, interaction)
    if parsed.automatic_reason:
        return  # RFC 3834: never answered, never starts or moves a clock
    if interaction.channel == Channel.PORTAL:
        return  # the coordinating body relays our answer; EM-ACK and out-of-office are for e-mail matters
    interaction = out_of_office_handle(
        mailbox=mailbox, interaction=interaction, parsed=parsed, received_at=fetched.internal_date
    )
    acknowledgement_queue(
        mailbox=mailbox, interaction=interaction, parsed=parsed, received_at=fetched.internal_date
    )


def _bounce_record(mailbox: Mailbox, fetched: FetchedMessage, parsed: ParsedMail) -> bool:
    """A delivery report about one of our messages: a delivery failure on that message's interaction."""
    for failed_id in parsed.bounced_message_ids:
        interaction = email_thread_find(message_ids=[failed_id])
        if interaction is None:
            continue
        email_delivery_failure_record(
            interaction=interaction,
            bounce_message_id=parsed.source_id,
            failed_message_id=failed_id,
            occurred_at=fetched.internal_date,
            reason=parsed.subject[:500],
        )
        _store(mailbox, fetched, parsed, interaction)
        return True
    return False


SENT_KINDS = {
    OutboundKind.ACKNOWLEDGEMENT: EventKind.EMAIL_ACKNOWLEDGED,
    OutboundKind.OUT_OF_OFFICE: EventKind.EMAIL_OUT_OF_OFFICE,
    OutboundKind.HOLDING_REPLY: EventKind.EMAIL_HOLDING_REPLY,
}


def _sent_record(mailbox: Mailbox, fetched: FetchedMessage, parsed: ParsedMail) -> None:
    """A message in the Sent folder, from the product or from a handler's own mail client.

    It counts as the reply (EM-REPLY) of the thread it answers. Ours were recorded when sent, so this
    only stores them; a person's reply is recorded here, with the rules it misses (EM-SIGN, EM-FEEDBACK).
    """
    already = email_thread_find(message_ids=[parsed.source_id])
    thread = already or _sent_thread(parsed)
    if already is None and thread is not None and _to_the_client(parsed, thread):
        _sent_reply_record(mailbox, fetched, parsed, thread)
    _store(mailbox, fetched, parsed, thread)


def _sent_thread(parsed: ParsedMail) -> Interaction | None:
    threading_ids = [parsed.in_reply_to, *reversed(parsed.references)]
    reference = reference_in(parsed.subject)
    for correspondent in parsed.to + parsed.cc or ("",):
        thread = email_thread_find(
            message_ids=threading_ids, reference=reference, correspondent=correspondent
        )
        if thread is not None:
            return thread
    return None


def _to_the_client(parsed: ParsedMail, thread: Interaction) -> bool:
    """Only a message the client received answers them; a forward to a colleague does not."""
    return thread.client_contact.lower() in (parsed.to + parsed.cc)


def _sent_reply_record(
    mailbox: Mailbox, fetched: FetchedMessage, parsed: ParsedMail, thread: Interaction
) -> None:
    headers = BytesHeaderParser(policy=default_policy).parsebytes(fetched.raw)
    product_kind = str(headers.get(KIND_HEADER, "")).strip()
    promised_on = _promised_on(str(headers.get(PROMISED_ON_HEADER, "")), fetched.internal_date)
    kind = SENT_KINDS.get(OutboundKind(product_kind)) if product_kind in OutboundKind.values else None
    if promised_on is not None:
        kind = EventKind.EMAIL_HOLDING_REPLY
    elif kind == EventKind.EMAIL_HOLDING_REPLY:
        kind = EventKind.EMAIL_REPLIED  # its date is unusable (or past): it still answered the client
    kind = kind or EventKind.EMAIL_REPLIED
    flags = reply_flags(parsed.text, mailbox.feedback_url) if kind in _REPLY_KINDS else []
    email_outbound_record(
        interaction=thread,
        kind=kind,
        message_id=parsed.source_id,
        sent_at=fetched.internal_date,
        promised_on=promised_on if kind == EventKind.EMAIL_HOLDING_REPLY else None,
        details={
            "to": list(parsed.to),
            "origin": "product" if product_kind else "mail_client",
            "flags": flags,
        },
    )


_REPLY_KINDS = {EventKind.EMAIL_REPLIED, EventKind.EMAIL_HOLDING_REPLY}


def _promised_on(value: str, sent_at: datetime) -> date | None:
    """The promised date a holding reply names in our header; an unusable one counts as a plain reply."""
    if not value.strip():
        return None
    try:
        promised_on = date.fromisoformat(value.strip())
        email_promise_check(promised_on, sent_at)
    except (ValueError, DomainError):
        logger.warning("ignoring unusable %s %r in a sent reply", PROMISED_ON_HEADER, value)
        return None
    return promised_on
