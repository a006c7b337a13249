"""What a client's message calls for, and what a handler sends: the EM-ACK acknowledgement, the EM-OOO
out-of-office reply with the thread passed to the substitute, and replies and holding replies (EM-REPLY)
built from templates that carry the signature (EM-SIGN) and the feedback link (EM-FEEDBACK).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models.functions import Lower
from django.utils import timezone

from agents.errors import DomainError
from agents.models import Absence, Person
from agents.selectors import Coverage, absences_active_at, coverage_resolve
from contact_centre.models import Channel, Event, EventKind, Interaction
from contact_centre.services import email_promise_check, event_append, interaction_reassign
from mail.compose import date_lv, period_lv, signature_for, template_render
from mail.config import mail_from
from mail.models import Mailbox, MailTemplate, OutboundKind, OutboundMail, StoredMessage, TemplateKind
from mail.outbox import Outgoing, outbound_queue
from mail.parsing import ParsedMail
from sla.calendar import WorkingCalendar
from sla.calendar_source import current_calendar
from sla.models import Policy
from sla.services import policy_due_at, policy_get

logger = logging.getLogger(__name__)

EM_ACK, EM_REPLY = "EM-ACK", "EM-REPLY"
_CONFIRMING = (EventKind.EMAIL_ACKNOWLEDGED, EventKind.EMAIL_REPLIED, EventKind.EMAIL_HOLDING_REPLY)


def template_for(kind: str, code: str | None = None) -> MailTemplate:
    """The active template of `kind` (or the one named `code`)."""
    templates = MailTemplate.objects.filter(kind=kind, active=True)
    template = templates.filter(code=code).first() if code else templates.order_by("code").first()
    if template is None:
        raise DomainError(
            "template_missing",
            f"Nav aktīvas veidnes / No active template {code or kind!r}",
            field="template",
        )
    return template


def _shortened(subject: str, limit: int = 200) -> str:
    """A client's subject as quoted in ours: long enough to recognise, short enough for any header."""
    return subject if len(subject) <= limit else subject[: limit - 1] + "…"


def base_context(mailbox: Mailbox, interaction: Interaction, person: Person | None) -> dict[str, Any]:
    """The variables every client-facing template may use; `person` signs (None: the centre does)."""
    return {
        "reference": interaction.reference,
        "subject": _shortened(interaction.subject),
        "client_name": interaction.client_name,
        "signature": signature_for(person, mailbox),
        "feedback_url": mailbox.feedback_url,
    }


@dataclass(frozen=True)
class AckTerms:
    """What every acknowledgement of one batch shares: read once, not once a message."""

    template: MailTemplate | None
    calendar: WorkingCalendar
    ack_policy: Policy
    reply_policy: Policy

    @classmethod
    def current(cls) -> AckTerms:
        template = MailTemplate.objects.filter(kind=TemplateKind.ACKNOWLEDGEMENT, active=True).order_by(
            "code"
        )
        policies = {policy.rule_id: policy for policy in Policy.objects.all()}  # one query for both
        return cls(
            template.first(), current_calendar(), policy_get(EM_ACK, policies), policy_get(EM_REPLY, policies)
        )


def acknowledgement_queue(
    *, mailbox: Mailbox, interaction: Interaction, parsed: ParsedMail, received_at: datetime
) -> OutboundMail | None:
    """Queue the EM-ACK acknowledgement of a client's message, when one is due.

    At most one per thread (`dedupe_key`) and one per sender a day (`sender_day_key`): a sender who
    already had one today gets none, and a note says why (the EM-ACK clock stays for a handler).
    """
    if not mailbox.auto_acknowledge or not parsed.from_address:
        return None
    if Event.objects.filter(interaction=interaction, kind__in=_CONFIRMING).exists():
        return None  # this thread was already confirmed or answered
    key = sender_day_key(parsed, received_at)
    if OutboundMail.objects.filter(sender_day_key=key).exists():
        acknowledgement_withheld(interaction, parsed, received_at)
        return None
    outgoing = acknowledgement_for(
        mailbox=mailbox,
        interaction=interaction,
        parsed=parsed,
        received_at=received_at,
        terms=AckTerms.current(),
    )
    return outbound_queue(outgoing) if outgoing else None


def sender_day_key(parsed: ParsedMail, received_at: datetime) -> str:
    return f"ack:{parsed.from_address}:{timezone.localdate(received_at).isoformat()}"


def acknowledgement_for(
    *, mailbox: Mailbox, interaction: Interaction, parsed: ParsedMail, received_at: datetime, terms: AckTerms
) -> Outgoing | None:
    """The acknowledgement of a first message in a thread, or None when none is to be sent."""
    if terms.template is None:
        logger.error("no active acknowledgement template: %s not acknowledged", interaction.reference)
        return None
    if policy_due_at(terms.ack_policy, received_at, terms.calendar) < timezone.now():
        # Old mail read late (a first run on a full mailbox, a long outage): its EM-ACK clock has run
        # out, and an acknowledgement days later would confuse more than it confirms.
        return None
    reply_due_at = policy_due_at(terms.reply_policy, received_at, terms.calendar)
    context = base_context(mailbox, interaction, None)
    context["reply_due_on"] = date_lv(timezone.localdate(reply_due_at))
    subject, body = template_render(terms.template, context)
    return _automatic_answer(
        OutboundKind.ACKNOWLEDGEMENT,
        parsed,
        interaction,
        subject,
        body,
        dedupe_key=f"ack:{interaction.pk}",
        sender_day_key=sender_day_key(parsed, received_at),
    )


def _automatic_answer(
    kind: str,
    parsed: ParsedMail,
    interaction: Interaction,
    subject: str,
    body: str,
    *,
    dedupe_key: str,
    sender_day_key: str | None = None,
    absence: Absence | None = None,
) -> Outgoing:
    """An automatic answer (RFC 3834: Auto-Submitted) to the sender of `parsed`, in its thread."""
    return Outgoing(
        kind=kind,
        to=parsed.from_address,
        subject=subject,
        body=body,
        interaction=interaction,
        in_reply_to=parsed.message_id,
        references=parsed.references,
        automatic=True,
        dedupe_key=dedupe_key,
        sender_day_key=sender_day_key,
        absence=absence,
    )


def acknowledgement_withheld(interaction: Interaction, parsed: ParsedMail, received_at: datetime) -> None:
    """Note on the matter why it got no acknowledgement (its sender already had one today)."""
    day = timezone.localdate(received_at)
    event_append(
        interaction=interaction,
        kind=EventKind.NOTE,
        occurred_at=timezone.now(),
        payload={
            "rule": "EM-ACK",
            "note": "Apstiprinājums nav sūtīts: sūtītājs šodien to jau saņēma / "
            "No acknowledgement: the sender already had one today",
            "sender": parsed.from_address,
        },
        source_key=f"ack-withheld:{interaction.pk}:{day.isoformat()}",
    )


def handler_addresses(addresses: set[str]) -> set[str]:
    """Those of `addresses` that are a member of staff's own (lower-case); one query."""
    if not addresses:
        return set()
    emails = Person.objects.annotate(email=Lower("user__email")).filter(email__in=addresses)
    return set(emails.values_list("email", flat=True))


def _addressed_people(mailbox: Mailbox, interaction: Interaction, parsed: ParsedMail) -> list[Person]:
    """The handlers a message is for: the thread's owner, and anyone whose own address it was sent to."""
    addresses = {address for address in parsed.to + parsed.cc if address != mailbox.address.lower()}
    if not addresses and interaction.owner_id is None:
        return []  # the common case, mail to the shared inbox only: no query
    people: list[Person] = list(
        Person.objects.select_related("user").alias(email=Lower("user__email")).filter(email__in=addresses)
    )
    if interaction.owner_id is not None and all(person.pk != interaction.owner_id for person in people):
        people.insert(0, Person.objects.select_related("user").get(pk=interaction.owner_id))
    return people


def out_of_office_handle(
    *, mailbox: Mailbox, interaction: Interaction, parsed: ParsedMail, received_at: datetime
) -> Interaction:
    """EM-OOO: for each addressed handler who is away, one out-of-office reply per absence and sender,
    and the thread passes to whoever covers them (following substitute chains)."""
    people = _addressed_people(mailbox, interaction, parsed)
    active = absences_active_at(received_at) if people else {}
    for person in people:
        absence = active.get(person.pk)
        if absence is None:
            continue
        try:
            coverage = coverage_resolve(person, active, for_mail=True)
        except DomainError as error:
            # The client still learns the handler is away; the thread stays for the unit's lead to route.
            logger.error("EM-OOO for %s: %s; the shared inbox is named instead", person, error.message)
            coverage = Coverage(person, None, "", (person,))
        _out_of_office_queue(mailbox, interaction, parsed, coverage, absence)
        if coverage.covered_by is not None and interaction.owner_id in (None, person.pk):
            interaction = interaction_reassign(
                interaction=interaction,
                owner=coverage.covered_by,
                occurred_at=received_at,
                reason=f"EM-OOO: {person} prombūtnē / away",
                source_key=f"reassign:{parsed.source_id}:{person.pk}",
            )
    return interaction


def _out_of_office_queue(
    mailbox: Mailbox, interaction: Interaction, parsed: ParsedMail, coverage: Coverage, absence: Absence
) -> None:
    try:
        template = template_for(TemplateKind.OUT_OF_OFFICE)
    except DomainError:
        logger.error("no active out-of-office template: %s gets none", interaction.reference)
        return
    substitute = coverage.covered_by
    context = base_context(mailbox, interaction, None)
    context |= {
        "person_name": str(coverage.person),
        "period": period_lv(absence.starts_at, absence.ends_at),
        "substitute_name": str(substitute) if substitute else "",
        "substitute_email": (substitute.user.email if substitute else "") or mailbox.address,
        "substitute_phone": (substitute.mobile_number if substitute else "") or coverage.forward_number,
    }
    subject, body = template_render(template, context)
    dedupe_key = f"ooo:{absence.pk}:{parsed.from_address}"
    kind = OutboundKind.OUT_OF_OFFICE
    outbound_queue(
        _automatic_answer(kind, parsed, interaction, subject, body, dedupe_key=dedupe_key, absence=absence)
    )


def reply_queue(
    *,
    interaction: Interaction,
    author: User,
    body: str,
    promised_on: date | None = None,
    template_code: str | None = None,
    complaint_outcome: bool = False,
) -> OutboundMail:
    """A handler's reply (or holding reply with `promised_on`) from the product, queued for sending.

    It counts once it is sent, as a reply from a mail client would; the template adds the signature
    and the feedback link. With `complaint_outcome` it tells a complainant the outcome, which meets the
    COMPLAINT clock once sent. Side effects: an OutboundMail row, then the send task.
    """
    if interaction.channel != Channel.EMAIL or not interaction.client_contact:
        raise DomainError("not_email", "Šai lietai nav e-pasta adreses / This matter has no e-mail address")
    if complaint_outcome and (promised_on is not None or not interaction.is_complaint):
        raise DomainError(
            "not_a_complaint_outcome",
            "Iznākumu var paziņot tikai sūdzībai, galīgā atbildē / "
            "Only a final reply to a complaint can give its outcome",
            field="complaint_outcome",
        )
    kind = TemplateKind.HOLDING_REPLY if promised_on else TemplateKind.REPLY
    if promised_on is not None:
        email_promise_check(promised_on, timezone.now())
    template = template_for(kind, template_code)
    person = Person.objects.filter(user=author).first()
    mailbox = mailbox_default()
    context = base_context(mailbox, interaction, person)
    context |= {"body": body.strip(), "promised_on": date_lv(promised_on) if promised_on else ""}
    subject, text = template_render(template, context)
    last = StoredMessage.objects.filter(interaction=interaction, automatic_reason="").order_by("-received_at")
    answered = last.exclude(message_id="").first()
    queued = outbound_queue(
        Outgoing(
            kind=OutboundKind(kind),
            to=interaction.client_contact,
            subject=subject,
            body=text,
            interaction=interaction,
            in_reply_to=answered.message_id if answered else "",
            promised_on=promised_on,
            complaint_outcome=complaint_outcome,
            created_by=author,
        )
    )
    if queued is None:  # cannot happen without a dedupe key; a reply is always its own message
        raise DomainError("reply_not_queued", "Atbilde netika ierindota / The reply was not queued")
    return queued


def mailbox_default() -> Mailbox:
    """The shared inbox's row (CC_MAIL_FROM), created on first use."""
    mailbox, _created = Mailbox.objects.get_or_create(address=mail_from())
    return mailbox
