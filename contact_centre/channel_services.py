"""Writes to the ledger for the channels people record by hand (post, e-address, in-person visits), for the
decisions on written matters (answered, forwarded, extended) and for a team lead's reclassification.

Each records one fact, idempotently on its source key. The rules about *when* these are allowed (visit
dates, extension limits) need the calendar and live above the ledger; here only what the ledger itself
can check: the channel, the text, the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import uuid4

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from agents.errors import DomainError
from contact_centre.models import (
    WRITTEN_BY_HAND,
    Channel,
    Event,
    EventKind,
    Interaction,
    NotClientMatter,
    Service,
)
from contact_centre.services import _existing, _lock_head, event_append, interaction_open

# A clock skew between the registering workstation and the server is not a letter from the future.
FUTURE_TOLERANCE = timedelta(minutes=5)


def _text_required(value: str, field: str, what: str, *, minimum: int = 1) -> str:
    text = value.strip()
    if len(text) < minimum:
        raise DomainError(f"{field}_required", what, field=field)
    return text


@dataclass(frozen=True)
class WrittenMatter:
    """A paper letter or an e-address message, as registered from the document."""

    channel: str
    registration_number: str
    arrived_at: datetime
    client_name: str
    client_contact: str = ""
    subject: str = ""
    service: Service | None = None
    scan: dict[str, Any] | None = None  # {name, size, sha256, path} of the stored scan, when one was given


def written_source_key(channel: str, registration_number: str) -> str:
    return f"{channel}:{registration_number.strip().lower()}"


def letter_register(*, matter: WrittenMatter, by: User, now: datetime) -> tuple[Interaction, bool]:
    """Register a paper letter or an e-address message: a new interaction on its own channel.

    Side effects: an Interaction and a LETTER_REGISTERED event (sla opens the clocks its channel's policy
    names). Idempotency key: (channel, registration number); registering the same number again returns
    the first interaction (created False), and a different document under a taken number is refused.
    """
    letter_check(matter, now)
    number = matter.registration_number.strip()
    source_key = written_source_key(matter.channel, number)
    with transaction.atomic(savepoint=False):
        _lock_head()
        if (existing := _existing(source_key)) is not None:
            _same_letter_check(existing, matter)
            return existing.interaction, False
        interaction = interaction_open(
            channel=matter.channel,
            kind=EventKind.LETTER_REGISTERED,
            occurred_at=matter.arrived_at,
            source_key=source_key,
            payload={"registration_number": number, "scan": matter.scan, "registered_at": now.isoformat()},
            client_name=matter.client_name.strip(),
            client_contact=matter.client_contact.strip(),
            subject=matter.subject.strip(),
            service=matter.service,
            actor=by,
        )
    return interaction, True


def letter_check(matter: WrittenMatter, now: datetime) -> None:
    """Refuse a letter the ledger cannot take (wrong channel, no number or client, from the future)."""
    if matter.channel not in WRITTEN_BY_HAND:
        raise DomainError(
            "channel_not_registrable",
            f"Ar roku reģistrē tikai pastu un e-adresi / Only post and e-address are registered by hand, "
            f"not {matter.channel!r}",
            field="channel",
        )
    _text_required(
        matter.registration_number,
        "registration_number",
        "Norādiet reģistrācijas numuru / Give the registration number",
    )
    _text_required(matter.client_name, "client_name", "Norādiet klientu / Give the client")
    if matter.arrived_at.tzinfo is None:
        raise DomainError("naive_datetime", "arrived_at needs a time zone", field="arrived_at")
    if matter.arrived_at > now + FUTURE_TOLERANCE:
        when = timezone.localtime(matter.arrived_at).strftime("%Y-%m-%d %H:%M")
        raise DomainError(
            "arrived_in_future",
            f"Saņemšanas laiks {when} ir nākotnē / The arrival time {when} is in the future",
            field="arrived_at",
        )


def _same_letter_check(existing: Event, matter: WrittenMatter) -> None:
    first = existing.interaction
    if first.opened_at != matter.arrived_at or first.client_name != matter.client_name.strip():
        number = matter.registration_number.strip()
        raise DomainError(
            "registration_number_taken",
            f"Numurs {number} jau reģistrēts citam dokumentam ({first.reference}) / "
            f"Number {number} is already registered for another document ({first.reference})",
            field="registration_number",
            status=409,
        )


# --- Decisions on written matters ---------------------------------------------------------------------


def answer_record(*, interaction: Interaction, by: User, at: datetime, how: str, note: str = "") -> Event:
    """The answer in substance went out by post, e-address or by hand (an e-mail answer is recorded by the
    mail adapter). Meets PORTAL-ANS and SUBM-ANS. Idempotency key: the interaction (one answer)."""
    return event_append(
        interaction=interaction,
        kind=EventKind.ANSWER_SENT,
        occurred_at=at,
        payload={"how": how, "note": note.strip()[:2000]},
        source_key=f"answer-sent:{interaction.pk}",
        actor=by,
    )


def forward_record(
    *, interaction: Interaction, by: User, at: datetime, institution: str, client_told: bool, note: str = ""
) -> Event:
    """The matter is another institution's: it was passed on and the client told (PORTAL-FWD, SUBM-FWD).
    The answer clocks stop. Idempotency key: the interaction (a matter is forwarded once)."""
    name = _text_required(institution, "institution", "Norādiet iestādi / Name the institution", minimum=2)
    if not client_told:
        raise DomainError(
            "client_not_told",
            "Pārsūtot jāinformē klients / The client must be told when the matter is forwarded",
            field="client_told",
        )
    return event_append(
        interaction=interaction,
        kind=EventKind.FORWARDED,
        occurred_at=at,
        payload={"institution": name[:300], "client_told": True, "note": note.strip()[:2000]},
        source_key=f"forwarded:{interaction.pk}",
        actor=by,
    )


def extension_record(*, interaction: Interaction, by: User, at: datetime, until: date, reason: str) -> Event:
    """The answer time of a formal submission was extended to `until` (the caller checked the limit).
    Idempotency key: (interaction, until)."""
    text = _text_required(reason, "reason", "Norādiet pagarinājuma iemeslu / Say why", minimum=5)
    return event_append(
        interaction=interaction,
        kind=EventKind.SUBMISSION_EXTENDED,
        occurred_at=at,
        payload={"until": until.isoformat(), "reason": text[:2000]},
        source_key=f"extended:{interaction.pk}:{until.isoformat()}",
        actor=by,
    )


# --- In-person visits (VISIT-BOOK) ------------------------------------------------------------------


@dataclass(frozen=True)
class VisitBooking:
    """A visit as the phone agent books it (the caller checked the date against VISIT-BOOK)."""

    starts_at: datetime
    ends_at: datetime
    client_name: str
    reason_not_electronic: str
    service: Service
    client_contact: str = ""
    client_email: str = ""
    call: Interaction | None = None  # the phone call it was booked on
    booking_key: str = ""  # the form's one-time key: a double submit books once


def visit_open(*, booking: VisitBooking, by: User, at: datetime) -> Interaction:
    """A booked visit: an interaction of channel `visit` with a VISIT_BOOKED event.

    Idempotency key: the booking key (else every call books a visit)."""
    reason = _text_required(
        booking.reason_not_electronic,
        "reason_not_electronic",
        "Norādiet, kāpēc pakalpojumu nevar saņemt elektroniski / "
        "Say why the service cannot be had electronically",
        minimum=5,
    )
    _text_required(booking.client_name, "client_name", "Norādiet klientu / Give the client")
    return interaction_open(
        channel=Channel.VISIT,
        kind=EventKind.VISIT_BOOKED,
        occurred_at=at,
        source_key=f"visit:{booking.booking_key or uuid4().hex}",
        payload={
            "starts_at": booking.starts_at.isoformat(),
            "ends_at": booking.ends_at.isoformat(),
            "reason_not_electronic": reason[:2000],
            "client_email": booking.client_email,
            "call_interaction_id": booking.call.pk if booking.call else None,
        },
        client_name=booking.client_name.strip(),
        client_contact=(booking.client_contact or booking.client_email).strip(),
        subject=f"{booking.service.name_lv}",
        service=booking.service,
        actor=by,
    )


VISIT_OUTCOMES = (EventKind.VISIT_SERVED, EventKind.VISIT_NO_SHOW, EventKind.VISIT_CANCELLED)


def visit_outcome_record(
    *, visit: Interaction, outcome: str, by: User, at: datetime, note: str = ""
) -> Event:
    """How a visit ended: served, no-show or cancelled. Idempotency key: the visit (one outcome)."""
    if visit.channel != Channel.VISIT:
        raise DomainError("not_a_visit", f"{visit.reference} nav apmeklējums / is not a visit")
    if outcome not in VISIT_OUTCOMES:
        raise DomainError("visit_outcome_unknown", f"Unknown visit outcome {outcome!r}", field="outcome")
    return event_append(
        interaction=visit,
        kind=outcome,
        occurred_at=at,
        payload={"note": note.strip()[:2000]},
        source_key=f"visit-outcome:{visit.pk}",
        actor=by,
    )


# --- Reclassification -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reclassification:
    """What a team lead changes; None leaves a field as it is."""

    channel: str | None = None
    service: Service | None = None
    not_client_matter: str | None = None  # a NotClientMatter value, or "" to make it a client matter again
    comment: str = ""


def interaction_reclassify(
    *, interaction: Interaction, change: Reclassification, by: User, at: datetime
) -> Event:
    """Move a matter to another channel or service, or set it aside as not a client matter.

    Side effects: the interaction's fields and a RECLASSIFIED event naming before and after (the audit);
    sla recomputes its clocks from it. Not idempotent by key: each change is a fact of its own, and a
    change that changes nothing is refused.
    """
    comment = _text_required(change.comment, "comment", "Norādiet iemeslu / Say why", minimum=3)
    _reclassification_check(change)
    with transaction.atomic():  # a savepoint: "nothing changed" is found after the lock, and rolls back
        _lock_head()
        locked = Interaction.objects.select_for_update().get(pk=interaction.pk)
        before = _classification(locked)
        if change.channel is not None:
            locked.channel = change.channel
        if change.service is not None:
            locked.service = change.service
        if change.not_client_matter is not None:
            locked.not_client_matter = change.not_client_matter
        after = _classification(locked)
        if after == before:
            raise DomainError("nothing_changed", "Nekas netika mainīts / Nothing was changed")
        locked.save(update_fields=["channel", "service", "not_client_matter"])
        return event_append(
            interaction=locked,
            kind=EventKind.RECLASSIFIED,
            occurred_at=at,
            payload={"before": before, "after": after, "comment": comment[:2000]},
            actor=by,
        )


def _reclassification_check(change: Reclassification) -> None:
    if change.channel is not None and change.channel not in Channel.values:
        raise DomainError("channel_unknown", f"Nezināms kanāls / Unknown channel {change.channel!r}")
    if change.not_client_matter and change.not_client_matter not in NotClientMatter.values:
        raise DomainError(
            "not_client_matter_unknown",
            f"Nezināms iemesls / Unknown reason {change.not_client_matter!r}; "
            f"known: {', '.join(NotClientMatter.values)}",
            field="not_client_matter",
        )


def _classification(interaction: Interaction) -> dict[str, Any]:
    return {
        "channel": interaction.channel,
        "service_id": interaction.service_id,
        "not_client_matter": interaction.not_client_matter,
    }
