"""Writes for the channels people record by hand: registered letters (post, e-address) with their scans,
in-person visits (VISIT-BOOK), and the decisions on written matters (answered, forwarded, extended), and a
team lead's reclassification. The ledger records the facts; here are the rules that need the calendar,
the policies and the outbox.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from agents.errors import DomainError
from contact_centre.channel_services import (
    Reclassification,
    VisitBooking,
    WrittenMatter,
    answer_record,
    extension_record,
    forward_record,
    interaction_reclassify,
    letter_check,
    letter_register,
    visit_open,
    visit_outcome_record,
)
from contact_centre.models import EventKind, Interaction, Service
from intake.models import Scan, Visit, VisitOutcome, VisitSlot
from intake.notices import extended_notice_queue, forwarded_notice_queue, visit_confirmation_queue
from intake.slots import slot_check
from sla.calendar_source import FIRST_YEAR, current_calendar
from sla.counts import counts_after_review
from sla.rules import SUBM_ANS
from sla.services import live_clock_exists, policy_get

logger = logging.getLogger(__name__)


# --- Registered letters (post, e-address) -------------------------------------------------------------


def written_matter_from(fields: Mapping[str, Any]) -> WrittenMatter:
    """A letter as the API or the page gives it (both name their fields as the contract does)."""
    return WrittenMatter(
        channel=fields["channel"],
        registration_number=fields["registration_number"],
        arrived_at=fields["arrived_at"],
        client_name=fields["client_name"],
        client_contact=fields.get("client_contact", ""),
        subject=fields.get("subject", ""),
        service=fields.get("service"),
    )


def letter_register_with_scan(
    *, matter: WrittenMatter, scan: UploadedFile | None, by: User, now: datetime
) -> tuple[Interaction, bool]:
    """Register a letter (see contact_centre.channel_services.letter_register) and keep its scan.

    The scan is written to CC_SCANS_DIR under its SHA-256 before the ledger row, so a failure leaves at
    most an unreferenced file, never a matter pointing at a missing one. Idempotency key: (channel,
    registration number); the same scan twice is stored once.
    """
    if matter.arrived_at.year < FIRST_YEAR:
        raise DomainError(
            "arrived_too_early",
            f"Saņemšanas datums pirms {FIRST_YEAR}. gada / The arrival date is before {FIRST_YEAR}",
            field="arrived_at",
        )
    letter_check(matter, now)  # before the scan is stored: a refused letter leaves no file behind
    stored = _scan_store(scan) if scan is not None else None
    if stored is not None:
        matter = replace(matter, scan=asdict(stored))
    with transaction.atomic():
        interaction, created = letter_register(matter=matter, by=by, now=now)
        if stored is not None:
            Scan.objects.get_or_create(
                interaction=interaction,
                sha256=stored.sha256,
                defaults={
                    "name": stored.name,
                    "content_type": stored.content_type,
                    "size": stored.size,
                    "uploaded_by": by,
                },
            )
    return interaction, created


@dataclass(frozen=True)
class StoredScan:
    name: str
    content_type: str
    size: int
    sha256: str


def _scan_store(scan: UploadedFile) -> StoredScan:
    limit = settings.CC_SCAN_MAX_BYTES
    if scan.size is None or scan.size > limit:
        raise DomainError(
            "scan_too_large",
            f"Skenētais fails ir lielāks par {limit // 1_000_000} MB / The scan is larger than "
            f"{limit // 1_000_000} MB",
            field="scan",
        )
    digest = hashlib.sha256()
    for chunk in scan.chunks():
        digest.update(chunk)
    sha256 = digest.hexdigest()
    path = scan_path(sha256)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        with partial.open("wb") as out:
            for chunk in scan.chunks():
                out.write(chunk)
        partial.replace(path)  # atomic: a reader never sees half a scan
    name = Path(scan.name or "scan").name[:255]
    return StoredScan(name=name, content_type=scan.content_type or "", size=scan.size, sha256=sha256)


def scan_path(sha256: str) -> Path:
    return Path(settings.CC_SCANS_DIR) / sha256[:2] / sha256


# --- Decisions on written matters ---------------------------------------------------------------------


ANSWER_CHANNELS = ("post", "e_address", "in_person")


def matter_answer(*, interaction: Interaction, how: str, by: User, now: datetime, note: str = "") -> None:
    """The answer in substance was sent by post or e-address or handed over (meets PORTAL-ANS, SUBM-ANS)."""
    if how not in ANSWER_CHANNELS:
        raise DomainError(
            "answer_how_unknown",
            f"Nezināms atbildes veids / Unknown way of answering {how!r}; "
            f"known: {', '.join(ANSWER_CHANNELS)}",
            field="how",
        )
    answer_record(interaction=interaction, by=by, at=now, how=how, note=note)


def matter_forward(
    *, interaction: Interaction, institution: str, told_by: str, by: User, now: datetime, note: str = ""
) -> None:
    """Pass the matter to the competent institution and tell the client (PORTAL-FWD, SUBM-FWD).

    `told_by` "email" queues the notice to the client's address here (Latvian, then English); "post",
    "e_address" or "phone" records that the client was told that way.
    """
    _told_check(interaction, told_by)
    with transaction.atomic():
        forward_record(
            interaction=interaction, by=by, at=now, institution=institution, client_told=True, note=note
        )
        if told_by == "email":
            forwarded_notice_queue(interaction=interaction, institution=institution.strip(), by=by)


TOLD_BY = ("email", "post", "e_address", "phone")


def _told_check(interaction: Interaction, told_by: str) -> None:
    if told_by not in TOLD_BY:
        raise DomainError(
            "told_by_unknown",
            f"Kā klients informēts? / How was the client told? One of: {', '.join(TOLD_BY)}",
            field="told_by",
        )
    if told_by == "email" and "@" not in interaction.client_contact:
        raise DomainError(
            "client_email_missing",
            "Klientam nav e-pasta adreses; informējiet citādi / The client has no e-mail address; "
            "tell them another way",
            field="told_by",
        )


def submission_extend(
    *, interaction: Interaction, until: date, reason: str, told_by: str, by: User, now: datetime
) -> None:
    """Extend the answer time of a formal submission to `until` (Law on Submissions), within the policy's
    limit counted from arrival, and tell the applicant."""
    policy = policy_get(SUBM_ANS)
    if not live_clock_exists(interaction, SUBM_ANS):
        raise DomainError(
            "not_a_submission",
            f"{interaction.reference} nav iesniegums ar atbildes termiņu / is not a submission with an "
            "answer time",
        )
    latest = _months_after(timezone.localtime(interaction.opened_at).date(), policy.extension_months)
    today = timezone.localdate(now)
    if policy.extension_months == 0 or not today < until <= latest:
        raise DomainError(
            "extension_out_of_range",
            f"Termiņu var pagarināt līdz {latest:%d.%m.%Y} (ne agrāk kā rīt) / The answer time can be "
            f"extended to {latest.isoformat()} at the latest (and after today)",
            field="until",
        )
    _told_check(interaction, told_by)
    with transaction.atomic():
        extension_record(interaction=interaction, by=by, at=now, until=until, reason=reason)
        if told_by == "email":
            extended_notice_queue(interaction=interaction, until=until, by=by)


def _months_after(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter: 31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in range(day.day, 27, -1):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    return date(year, month, min(day.day, 28))


# --- Reclassification ---------------------------------------------------------------------------------


def matter_reclassify(*, interaction: Interaction, change: Reclassification, by: User, now: datetime) -> None:
    """A team lead's reclassification; sla recomputes the clocks from the ledger event, and the day's
    MK399 counts are compiled again if that day was compiled already."""
    interaction_reclassify(interaction=interaction, change=change, by=by, at=now)
    opened_at = interaction.opened_at
    transaction.on_commit(lambda: counts_after_review(opened_at))


# --- In-person visits (VISIT-BOOK) ------------------------------------------------------------------


@dataclass(frozen=True)
class VisitRequest:
    """What the phone agent enters while on the call."""

    starts_at: datetime
    client_name: str
    reason_not_electronic: str
    service_id: int | None
    client_phone: str = ""
    client_email: str = ""
    call: Interaction | None = None
    booking_key: str = ""


def visit_request_from(fields: Mapping[str, Any], *, call: Interaction | None) -> VisitRequest:
    """A booking as the API or the agent's page gives it; `call` is the phone matter it was made on."""
    return VisitRequest(
        starts_at=fields["starts_at"],
        client_name=fields["client_name"],
        reason_not_electronic=fields["reason_not_electronic"],
        service_id=fields["service"].pk,
        client_phone=fields.get("client_phone", ""),
        client_email=fields.get("client_email", ""),
        call=call,
        booking_key=fields.get("booking_key", ""),
    )


def visit_book(*, request: VisitRequest, by: User, now: datetime) -> Visit:
    """Book a visit: the slot must be a working day's slot within office hours, no earlier than VISIT-BOOK
    allows, and not full. Side effects: the ledger interaction, the Visit, the slot's count, and a
    confirmation e-mail when an address is given. Idempotency key: the booking key.
    """
    if request.booking_key and (existing := _visit_by_key(request.booking_key)) is not None:
        return existing
    calendar = current_calendar()
    ends_at = slot_check(request.starts_at, booked_at=now, calendar=calendar)
    service = _service_required(request.service_id)
    with transaction.atomic():
        slot = _slot_claim(request.starts_at)
        interaction = visit_open(
            booking=VisitBooking(
                starts_at=request.starts_at,
                ends_at=ends_at,
                client_name=request.client_name,
                reason_not_electronic=request.reason_not_electronic,
                service=service,
                client_contact=request.client_phone,
                client_email=request.client_email.strip(),
                call=request.call,
                booking_key=request.booking_key,
            ),
            by=by,
            at=now,
        )
        visit = Visit.objects.create(
            interaction=interaction,
            slot=slot,
            starts_at=request.starts_at,
            ends_at=ends_at,
            client_email=request.client_email.strip(),
            reason_not_electronic=request.reason_not_electronic.strip(),
            call=request.call,
            booked_by=by,
            booked_at=now,
        )
        if visit.client_email:
            visit_confirmation_queue(visit=visit, by=by)
    return visit


def _visit_by_key(booking_key: str) -> Visit | None:
    return (
        Visit.objects.select_related("interaction")
        .filter(interaction__events__source_key=f"visit:{booking_key}")
        .first()
    )


def _service_required(service_id: int | None) -> Service:
    service = Service.objects.filter(pk=service_id, active=True).first() if service_id else None
    if service is None:
        raise DomainError("service_required", "Izvēlieties pakalpojumu / Choose the service", field="service")
    return service


def _slot_claim(starts_at: datetime) -> VisitSlot:
    """Lock the slot's row (created with the default capacity on its first booking) and count one more
    booking, or refuse when it is full."""
    VisitSlot.objects.get_or_create(starts_at=starts_at, defaults={"capacity": settings.CC_VISIT_DESKS})
    slot = VisitSlot.objects.select_for_update().get(starts_at=starts_at)
    if slot.booked >= slot.capacity:
        local = timezone.localtime(starts_at)
        raise DomainError(
            "visit_slot_full",
            f"Laiks {local:%d.%m.%Y %H:%M} ir aizņemts; izvēlieties citu / The slot {local:%Y-%m-%d %H:%M} "
            "is full; choose another",
            field="starts_at",
            status=409,
        )
    slot.booked += 1
    slot.save(update_fields=["booked"])
    return slot


OUTCOME_EVENT: dict[str, str] = {
    VisitOutcome.SERVED: EventKind.VISIT_SERVED,
    VisitOutcome.NO_SHOW: EventKind.VISIT_NO_SHOW,
    VisitOutcome.CANCELLED: EventKind.VISIT_CANCELLED,
}


def visit_outcome_set(*, visit: Visit, outcome: str, by: User, now: datetime, note: str = "") -> Visit:
    """Record how the visit ended. Served or no-show only once its time has come; a cancellation frees the
    slot. Idempotent: the same outcome again changes nothing; another one is refused."""
    if outcome not in OUTCOME_EVENT:
        raise DomainError(
            "visit_outcome_unknown",
            f"Nezināms iznākums / Unknown outcome {outcome!r}; known: served, no_show, cancelled",
            field="outcome",
        )
    with transaction.atomic():
        locked = Visit.objects.select_for_update().select_related("interaction").get(pk=visit.pk)
        if locked.outcome == outcome:
            return locked
        _outcome_check(locked, outcome, now)
        visit_outcome_record(
            visit=locked.interaction, outcome=OUTCOME_EVENT[outcome], by=by, at=now, note=note
        )
        if outcome == VisitOutcome.CANCELLED:
            VisitSlot.objects.filter(pk=locked.slot_id, booked__gt=0).update(booked=F("booked") - 1)
        locked.outcome, locked.outcome_at = outcome, now
        locked.save(update_fields=["outcome", "outcome_at"])
    return locked


def _outcome_check(visit: Visit, outcome: str, now: datetime) -> None:
    if visit.outcome != VisitOutcome.BOOKED:
        raise DomainError(
            "visit_outcome_recorded",
            f"Iznākums jau reģistrēts: {visit.get_outcome_display()} / The outcome is already recorded",
            status=409,
        )
    if outcome != VisitOutcome.CANCELLED and now < visit.starts_at - timedelta(minutes=15):
        raise DomainError(
            "visit_not_yet",
            "Apmeklējuma laiks vēl nav pienācis / The visit's time has not come yet",
            field="outcome",
        )
