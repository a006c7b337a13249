"""E-mails to clients about matters handled by hand: a visit's confirmation, a forwarded matter, an
extended answer time. The texts are mail templates (Latvian first, English second) that admins edit,
signed like a reply (EM-SIGN); queued in the outbox (idempotent, retried).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from agents.errors import DomainError
from agents.models import Person
from contact_centre.models import Interaction
from intake.models import Visit
from mail.compose import date_lv, template_render
from mail.models import MailTemplate, OutboundKind, TemplateKind
from mail.outbox import Outgoing, outbound_queue
from mail.replies import base_context, mailbox_default, template_for

logger = logging.getLogger(__name__)


def visit_confirmation_queue(*, visit: Visit, by: User) -> None:
    """The client's confirmation of a booked visit. Idempotency key: the visit's interaction.

    Without an active template the visit stays booked and the error is logged: the booking is what the
    caller asked for, the e-mail only confirms it (unlike a forwarding or an extension, whose notice is
    the decision's point, and which are refused instead).
    """
    starts = timezone.localtime(visit.starts_at)
    service = visit.interaction.service
    try:
        template = template_for(TemplateKind.VISIT_CONFIRMATION)
    except DomainError:
        logger.error("no active visit confirmation template: %s not confirmed", visit.interaction.reference)
        return
    _notice_queue(
        template=template,
        interaction=visit.interaction,
        to=visit.client_email,
        by=by,
        dedupe_key=f"visit-confirmation:{visit.interaction.pk}",
        facts={
            "visit_date_lv": date_lv(starts.date()),
            "visit_date": starts.date().isoformat(),
            "visit_time": f"{starts:%H:%M}",
            "service_lv": service.name_lv if service else "",
            "service_en": service.name_en if service else "",
        },
    )


def forwarded_notice_queue(*, interaction: Interaction, institution: str, by: User) -> None:
    """Tell the client their matter went to `institution`. Idempotency key: the interaction."""
    _notice_queue(
        template=template_for(TemplateKind.FORWARDED),
        interaction=interaction,
        to=interaction.client_contact,
        by=by,
        dedupe_key=f"forwarded-notice:{interaction.pk}",
        facts={"institution": institution},
    )


def extended_notice_queue(*, interaction: Interaction, until: date, by: User) -> None:
    """Tell the client the answer comes by `until`. Idempotency key: the interaction and that date."""
    _notice_queue(
        template=template_for(TemplateKind.EXTENDED),
        interaction=interaction,
        to=interaction.client_contact,
        by=by,
        dedupe_key=f"extended-notice:{interaction.pk}:{until.isoformat()}",
        facts={"until_lv": date_lv(until), "until": until.isoformat()},
    )


def _notice_queue(
    *,
    template: MailTemplate,
    interaction: Interaction,
    to: str,
    by: User,
    dedupe_key: str,
    facts: dict[str, Any],
) -> None:
    """Render `template`, signed by the member of staff who acted, and queue it.

    The callers look the template up with `template_for`, whose DomainError (no active template) stops
    a forwarding or an extension before anything is recorded.
    """
    person = Person.objects.filter(user=by).first()
    subject, body = template_render(template, base_context(mailbox_default(), interaction, person) | facts)
    outbound_queue(
        Outgoing(
            kind=OutboundKind.NOTIFICATION,
            to=to,
            subject=subject,
            body=body,
            interaction=interaction,
            dedupe_key=dedupe_key,
            created_by=by,
        )
    )
