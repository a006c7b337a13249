"""The interaction ledger: client matters and their append-only, hash-chained events.

The ledger records facts. It knows no SLA, no deadlines, no SIP and no IMAP.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from agents.models import Person, Unit

GENESIS_HASH = "0" * 64


class Channel(models.TextChoices):
    PHONE = "phone", _("Tālrunis / Phone")
    EMAIL = "email", _("E-pasts / E-mail")
    PORTAL = "portal", _("Portāls / Portal")
    VISIT = "visit", _("Klātienē / Visit")
    POST = "post", _("Pasts / Post")
    E_ADDRESS = "e_address", _("E-adrese / E-address")


# Channels whose matters staff register by hand from a document (a paper letter, an e-address message).
WRITTEN_BY_HAND = (Channel.POST, Channel.E_ADDRESS)
WRITTEN_BY_HAND_CHOICES = [(channel.value, channel.label) for channel in WRITTEN_BY_HAND]


class NotClientMatter(models.TextChoices):
    """Why a team lead set a matter aside: it is not a client's matter, so no clock and no count."""

    SPAM = "spam", _("Surogātpasts / Spam")
    MISDIRECTED = "misdirected", _("Nosūtīts kļūdas pēc / Misdirected")


class InteractionState(models.TextChoices):
    OPEN = "open", _("Atvērts / Open")
    CLOSED = "closed", _("Slēgts / Closed")


class Service(models.Model):
    """The service catalogue (seeded with the phone consultation topics of seed 000)."""

    code = models.SlugField(unique=True)
    name_lv = models.CharField(max_length=300)
    name_en = models.CharField(max_length=300)
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name_lv


class Interaction(models.Model):
    """One client matter on one channel."""

    reference = models.CharField(max_length=32, unique=True, null=True, blank=True, editable=False)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, null=True, blank=True)
    client_name = models.CharField(max_length=300, blank=True)
    client_contact = models.CharField(max_length=320, blank=True, help_text="E-mail address or phone number")
    subject = models.CharField(max_length=998, blank=True)
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    state = models.CharField(max_length=10, choices=InteractionState.choices, default=InteractionState.OPEN)
    is_complaint = models.BooleanField(default=False)
    # How an adapter recognised the matter (the portal rule that matched an e-mail), for the record.
    intake_rule = models.CharField(max_length=200, blank=True)
    not_client_matter = models.CharField(max_length=20, choices=NotClientMatter.choices, blank=True)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["channel", "opened_at"]),
            models.Index(fields=["state", "opened_at"]),
        ]

    def __str__(self) -> str:
        return self.reference or f"#{self.pk}"

    def is_open(self) -> bool:
        return self.state == InteractionState.OPEN

    def is_client_matter(self) -> bool:
        return not self.not_client_matter


class EventKind(models.TextChoices):
    EMAIL_RECEIVED = "email_received", _("Saņemts e-pasts / E-mail received")
    EMAIL_AUTOMATIC_RECEIVED = "email_automatic_received", _("Saņemts automātisks e-pasts / Automatic mail")
    EMAIL_ACKNOWLEDGED = "email_acknowledged", _("Nosūtīts apstiprinājums / Acknowledgement sent")
    EMAIL_REPLIED = "email_replied", _("Nosūtīta atbilde / Reply sent")
    EMAIL_HOLDING_REPLY = "email_holding_reply", _("Nosūtīta starpatbilde / Holding reply sent")
    EMAIL_OUT_OF_OFFICE = "email_out_of_office", _("Nosūtīts prombūtnes paziņojums / Out-of-office sent")
    EMAIL_DELIVERY_FAILED = "email_delivery_failed", _("E-pasts nav piegādāts / Delivery failed")
    CALL_ARRIVED = "call_arrived", _("Zvans sasniedza līniju / Call reached the line")
    CALL_OUT_OF_HOURS = "call_out_of_hours", _("Zvans ārpus darba laika / Out-of-hours call")
    CALL_ANSWERED = "call_answered", _("Zvans atbildēts / Call answered")
    CALL_ABANDONED = "call_abandoned", _("Zvanītājs nolika / Caller hung up")
    CALL_AGENT_RUNG = "call_agent_rung", _("Zvanīts konsultantam / Agent rung")
    CALL_FORWARDED = "call_forwarded", _("Zvans pāradresēts / Call forwarded")
    CALL_UNANSWERED = "call_unanswered", _("Neviens neatbildēja / Nobody answered")
    CALL_ENDED = "call_ended", _("Zvans beidzās / Call ended")
    CALL_DROPPED = "call_dropped", _("Zvans pārtrūka līnijas kļūmes dēļ / Call dropped by a line failure")
    CALL_RECORDED = "call_recorded", _("Saruna ierakstīta / Call recorded")
    CALLBACK_REQUESTED = "callback_requested", _("Lūgts atzvanīt / Callback requested")
    CALLBACK_MADE = "callback_made", _("Atzvanīts / Called back")
    MESSAGE_TAKEN = "message_taken", _("Pieņemta ziņa kolēģim / Message taken for a colleague")
    MESSAGE_HANDLED = "message_handled", _("Ziņa izskatīta / Message dealt with")
    PORTAL_RECEIVED = "portal_received", _("Saņemts portāla jautājums / Portal question received")
    LETTER_REGISTERED = "letter_registered", _("Reģistrēta vēstule / Letter registered")
    ANSWER_SENT = "answer_sent", _("Nosūtīta atbilde pēc būtības / Answer sent")
    FORWARDED = "forwarded", _("Pārsūtīts citai iestādei / Forwarded to another institution")
    SUBMISSION_EXTENDED = "submission_extended", _("Atbildes termiņš pagarināts / Answer time extended")
    VISIT_BOOKED = "visit_booked", _("Pieteikts apmeklējums / Visit booked")
    VISIT_SERVED = "visit_served", _("Apmeklētājs apkalpots / Visitor served")
    VISIT_NO_SHOW = "visit_no_show", _("Apmeklētājs neieradās / Visitor did not come")
    VISIT_CANCELLED = "visit_cancelled", _("Apmeklējums atcelts / Visit cancelled")
    RECLASSIFIED = "reclassified", _("Pārklasificēts / Reclassified")
    COMPLAINT_MARKED = "complaint_marked", _("Atzīmēts kā sūdzība / Marked as complaint")
    COMPLAINT_OUTCOME = (
        "complaint_outcome",
        _("Klientam paziņots sūdzības iznākums / Complaint outcome given"),
    )
    SLA_BREACHED = "sla_breached", _("Termiņš nokavēts / Deadline breached")
    SLA_BREACH_WITHDRAWN = "sla_breach_withdrawn", _("Kavējums atsaukts / Breach withdrawn")
    NOTE = "note", _("Piezīme / Note")
    REASSIGNED = "reassigned", _("Nodots citam / Reassigned")
    CLOSED = "closed", _("Slēgts / Closed")
    REOPENED = "reopened", _("Atvērts atkārtoti / Reopened")


class Event(models.Model):
    """One fact about an interaction; append-only and chained by hash.

    `seq` is the position in the single ledger-wide chain. Appends are serialised on the ChainHead row,
    so `seq` order is commit order, which lets consumers (sla) follow the ledger with a cursor.
    """

    seq = models.BigIntegerField(unique=True, editable=False)
    interaction = models.ForeignKey(Interaction, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=40, choices=EventKind.choices)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payload = models.JSONField(default=dict, blank=True)
    # The fact's origin id (Message-ID, SIP Call-ID + step): the same fact twice is stored once.
    source_key = models.CharField(max_length=998, unique=True, null=True, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["interaction", "seq"])]

    def __str__(self) -> str:
        return f"{self.seq} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("Ledger events are append-only; record a new event instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("Ledger events are append-only and cannot be deleted")

    def compute_hash(self) -> str:
        return event_hash(
            seq=self.seq,
            interaction_id=self.interaction_id,
            kind=self.kind,
            occurred_at=self.occurred_at.astimezone(UTC).isoformat(),  # as stored, whatever zone it came in
            actor_id=self.actor_id,
            payload=self.payload,
            source_key=self.source_key,
            prev_hash=self.prev_hash,
        )


def event_hash(**fields: Any) -> str:
    """SHA-256 over a canonical JSON of the event's fields (sorted keys, so jsonb key order is moot)."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ChainHead(models.Model):
    """The single row holding the chain's tip; locking it serialises appends and catches tail deletion."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"head {self.last_seq}"
