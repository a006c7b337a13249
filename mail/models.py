"""The e-mail channel's own state: mailboxes, folder checkpoints, stored messages, quarantine, outbox.

The ledger (contact_centre) keeps the facts; these rows keep what the adapter needs to never lose or
double a message: where each folder was read up to, what was stored, and what is still to be sent.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from agents.models import Absence
from contact_centre.models import Interaction

FEEDBACK_URL_DEFAULT = "https://www.kase.gov.lv/noderigi/biezak-uzdotie-jautajumi/uzdot-jautajumu"


class Mailbox(models.Model):
    """One watched mailbox (the shared inbox ekase@kase.gov.lv), with its settings and health."""

    address = models.EmailField(unique=True, help_text="The address clients write to")
    auto_acknowledge = models.BooleanField(
        default=True, help_text="Send the EM-ACK acknowledgement automatically / Automātisks apstiprinājums"
    )
    feedback_url = models.URLField(default=FEEDBACK_URL_DEFAULT, help_text="EM-FEEDBACK link in every reply")
    signature_phone = models.CharField(max_length=40, default="+371 67094222")
    connected_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of the watcher")
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return self.address


class FolderRole(models.TextChoices):
    INBOX = "inbox", _("Ienākošās / Inbox")
    SENT = "sent", _("Nosūtītās / Sent")


class FolderCheckpoint(models.Model):
    """How far one folder has been read: everything up to `last_uid` under `imap_uidvalidity` is stored."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="checkpoints")
    folder = models.CharField(max_length=200)
    role = models.CharField(max_length=10, choices=FolderRole.choices)
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    # Mail received before this day is not read: a first run on a mailbox full of old mail would
    # otherwise open years of matters with long-overdue clocks. `mailwatch --since` moves it back.
    read_since = models.DateField(null=True, blank=True)
    uidvalidity_changes = models.PositiveIntegerField(default=0)
    last_scan_at = models.DateTimeField(null=True, blank=True)
    last_idle_event_at = models.DateTimeField(
        null=True, blank=True, help_text="Last IDLE push from the server"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "folder"], name="checkpoint_one_per_folder")
        ]

    def __str__(self) -> str:
        return f"{self.mailbox} {self.folder} {self.imap_uidvalidity}:{self.last_uid}"


class StoredMessage(models.Model):
    """One message read from a folder, parsed, with its place in the ledger. Never deleted on the server."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="messages")
    folder = models.CharField(max_length=200)
    # Message-ID, or "sha256:<hex>" of the raw bytes when it has none: the de-duplication key that
    # survives a UIDVALIDITY change (UIDs do not).
    source_id = models.CharField(max_length=998)
    imap_uidvalidity = models.BigIntegerField()
    imap_uid = models.BigIntegerField()
    received_at = models.DateTimeField(help_text="IMAP INTERNALDATE: when our server received it")
    message_id = models.CharField(max_length=998, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    from_name = models.CharField(max_length=300, blank=True)
    to_addresses = models.JSONField(default=list, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True, help_text="Sanitised with nh3 before it is stored")
    attachments = models.JSONField(default=list, blank=True)
    automatic_reason = models.CharField(max_length=100, blank=True)
    defects = models.JSONField(default=list, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    interaction = models.ForeignKey(
        Interaction, on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    stored_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "folder", "source_id"], name="message_once_per_folder")
        ]

    def __str__(self) -> str:
        return f"{self.folder} {self.imap_uid} {self.subject[:60]}"


class QuarantinedMessage(models.Model):
    """A message that could not be read or recorded: kept raw with the reason, for a team lead to look at."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="quarantine")
    folder = models.CharField(max_length=200)
    imap_uidvalidity = models.BigIntegerField()
    imap_uid = models.BigIntegerField()
    received_at = models.DateTimeField(null=True, blank=True)
    raw_sha256 = models.CharField(max_length=64)
    raw = models.BinaryField()
    reason = models.TextField()
    quarantined_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True, help_text="Recorded later, after a fix")

    class Meta:
        ordering = ["-quarantined_at"]
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "folder", "raw_sha256"], name="quarantine_once")
        ]

    def __str__(self) -> str:
        return f"{self.folder} {self.imap_uid}: {self.reason[:80]}"


class TemplateKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", _("Apstiprinājums / Acknowledgement")
    REPLY = "reply", _("Atbilde / Reply")
    HOLDING_REPLY = "holding_reply", _("Starpatbilde / Holding reply")
    OUT_OF_OFFICE = "out_of_office", _("Prombūtne / Out of office")
    # Notices about matters handled by hand (intake/notices.py).
    VISIT_CONFIRMATION = "visit_confirmation", _("Apmeklējuma apstiprinājums / Visit confirmation")
    FORWARDED = "forwarded", _("Paziņojums par pārsūtīšanu / Forwarding notice")
    EXTENDED = "extended", _("Paziņojums par termiņa pagarinājumu / Extension notice")


class MailTemplate(models.Model):
    """Client-facing text, Latvian first then English, in Django template syntax (plain text)."""

    code = models.SlugField(unique=True)
    kind = models.CharField(max_length=20, choices=TemplateKind.choices)
    name = models.CharField(max_length=200)
    subject = models.CharField(max_length=300)
    body = models.TextField(
        help_text=(
            "Mainīgie / Variables: reference, subject, client_name, signature, feedback_url; "
            "acknowledgement: reply_due_on; reply: body, promised_on; out_of_office: person_name, period, "
            "substitute_name, substitute_email, substitute_phone; "
            "visit_confirmation: visit_date_lv, visit_date, visit_time, service_lv, service_en; "
            "forwarded: institution; extended: until_lv, until"
        )
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return self.name


class OutboundKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", _("Apstiprinājums / Acknowledgement")
    REPLY = "reply", _("Atbilde / Reply")
    HOLDING_REPLY = "holding_reply", _("Starpatbilde / Holding reply")
    OUT_OF_OFFICE = "out_of_office", _("Prombūtne / Out of office")
    NOTIFICATION = "notification", _("Paziņojums / Notification")


class OutboundState(models.TextChoices):
    QUEUED = "queued", _("Rindā / Queued")
    SENT = "sent", _("Nosūtīts / Sent")
    FAILED = "failed", _("Neizdevās / Failed")


class OutboundMail(models.Model):
    """One message we send (the outbox). Its Message-ID is fixed when it is queued and its bytes when it
    is first sent: a retry sends the same bytes with the same Message-ID.

    `dedupe_key` and `sender_day_key` are unique, so "one acknowledgement per thread", "one per sender a
    day" and "one out-of-office reply per absence and sender" hold even when two workers race.
    """

    kind = models.CharField(max_length=20, choices=OutboundKind.choices)
    interaction = models.ForeignKey(
        Interaction, on_delete=models.PROTECT, null=True, blank=True, related_name="outbound"
    )
    absence = models.ForeignKey(Absence, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    message_id = models.CharField(max_length=998, unique=True)
    mail_from = models.CharField(max_length=320)
    to_address = models.CharField(max_length=320)
    subject = models.CharField(max_length=998)
    body = models.TextField(blank=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.JSONField(default=list, blank=True)
    automatic = models.BooleanField(default=False, help_text="Auto-Submitted: auto-replied (RFC 3834)")
    # The bytes, built by the first send attempt and kept: every retry sends exactly these.
    raw = models.BinaryField(null=True, blank=True)
    promised_on = models.DateField(null=True, blank=True)
    # A reply that tells a complainant the outcome: once sent it meets the COMPLAINT clock.
    complaint_outcome = models.BooleanField(default=False)
    dedupe_key = models.CharField(max_length=400, unique=True, null=True, blank=True)
    sender_day_key = models.CharField(max_length=400, unique=True, null=True, blank=True)
    state = models.CharField(max_length=10, choices=OutboundState.choices, default=OutboundState.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(help_text="When the sweep may try again")
    claimed_until = models.DateTimeField(null=True, blank=True, help_text="A sender holds it until then")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    appended_to_sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "auth.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The outbox sweep reads only what is still to do.
            models.Index(
                fields=["next_attempt_at"], name="outbound_queued_due", condition=models.Q(state="queued")
            ),
            models.Index(
                fields=["sent_at"],
                name="outbound_not_in_sent",
                condition=models.Q(state="sent", appended_to_sent_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.to_address} {self.state}"


class PortalRule(models.Model):
    """How to recognise a question routed through the national portal (latvija.lv) among inbound mail.

    Every condition given must hold (sender address or domain, subject pattern, header); a rule with no
    condition, or one that would match any mail, is refused when saved (mail.portal.portal_rule_check).
    """

    name = models.CharField(max_length=200)
    sender = models.CharField(
        max_length=254, blank=True, help_text="An address (info@latvija.lv) or a domain (latvija.lv)"
    )
    subject_pattern = models.CharField(
        max_length=500, blank=True, help_text="A regular expression searched in the subject, ignoring case"
    )
    header_name = models.CharField(max_length=100, blank=True, help_text="A header the portal adds")
    header_pattern = models.CharField(
        max_length=500, blank=True, help_text="A regular expression for that header (empty: present)"
    )
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from mail.portal import portal_rule_check  # noqa: PLC0415 -- the check needs the model's module

        portal_rule_check(self)
