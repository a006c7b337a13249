"""E-mails to clients about matters handled by hand: a visit's confirmation, a forwarded matter, an
extended answer time. Latvian first, English second; queued in the outbox (idempotent, retried)."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import User
from django.utils import timezone

from contact_centre.models import Interaction
from intake.models import Visit
from mail.compose import date_lv
from mail.models import OutboundKind
from mail.outbox import Outgoing, outbound_queue

CENTRE_LV = "Valsts kases Klientu apkalpošanas centrs, Smilšu iela 1, Rīga"
CENTRE_EN = "the State Treasury's client service centre, Smilšu iela 1, Riga"
PHONE = "+371 67094368"


def visit_confirmation_queue(*, visit: Visit, by: User) -> None:
    """The client's confirmation of a booked visit. Idempotency key: the visit's interaction."""
    starts = timezone.localtime(visit.starts_at)
    interaction = visit.interaction
    body = (
        f"Labdien!\n\nApstiprinām Jūsu apmeklējumu {date_lv(starts.date())} plkst. {starts:%H:%M} "
        f"{CENTRE_LV}.\nPakalpojums: {interaction.service.name_lv if interaction.service else ''}\n"
        f"Lūdzam ņemt līdzi personu apliecinošu dokumentu. Ja nevarat ierasties, lūdzu, zvaniet {PHONE}.\n"
        f"Atsauce: {interaction.reference}\n\nAr cieņu,\nValsts kase\n\n---\n\n"
        f"Hello,\n\nWe confirm your visit on {starts:%Y-%m-%d} at {starts:%H:%M} at {CENTRE_EN}.\n"
        f"Service: {interaction.service.name_en if interaction.service else ''}\n"
        f"Please bring an identity document. If you cannot come, please call {PHONE}.\n"
        f"Reference: {interaction.reference}\n\nKind regards,\nState Treasury of Latvia\n"
    )
    outbound_queue(
        Outgoing(
            kind=OutboundKind.NOTIFICATION,
            to=visit.client_email,
            subject=f"Apmeklējuma apstiprinājums / Visit confirmed [{interaction.reference}]",
            body=body,
            interaction=interaction,
            dedupe_key=f"visit-confirmation:{interaction.pk}",
            created_by=by,
        )
    )


def notice_queue(
    *, interaction: Interaction, kind: str, by: User, institution: str = "", until: date | None = None
) -> None:
    """Tell the client their matter was forwarded (`kind` "forwarded") or its answer time extended
    ("extended"). Idempotency key: (kind, interaction, the date for an extension)."""
    if kind == "forwarded":
        subject = f"Jūsu iesniegums pārsūtīts / Your submission was forwarded [{interaction.reference}]"
        lv = f"Jūsu iesniegums nav Valsts kases kompetencē, tāpēc to pārsūtījām: {institution}."
        en = (
            "Your submission is not within the State Treasury's competence, so we forwarded it to: "
            f"{institution}."
        )
        key = f"forwarded-notice:{interaction.pk}"
    else:
        assert until is not None  # noqa: S101 -- the caller checked the date
        subject = f"Atbildes termiņš pagarināts / Answer time extended [{interaction.reference}]"
        lv = f"Atbildes sagatavošanai nepieciešams vairāk laika; atbildi sniegsim līdz {date_lv(until)}."
        en = f"We need more time to prepare the answer; you will have it by {until.isoformat()}."
        key = f"extended-notice:{interaction.pk}:{until.isoformat()}"
    body = (
        f"Labdien!\n\n{lv}\nAtsauce: {interaction.reference}\n\nAr cieņu,\nValsts kase\n\n---\n\n"
        f"Hello,\n\n{en}\nReference: {interaction.reference}\n\nKind regards,\nState Treasury of Latvia\n"
    )
    outbound_queue(
        Outgoing(
            kind=OutboundKind.NOTIFICATION,
            to=interaction.client_contact,
            subject=subject,
            body=body,
            interaction=interaction,
            dedupe_key=key,
            created_by=by,
        )
    )
