"""Stored call recordings (PH-REC): one FLAC file per answered call, with its checksum and levels."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from agents.models import Person
from contact_centre.models import Interaction


class RecordingFormat(models.TextChoices):
    FLAC = "flac", _("FLAC (bezzudu / lossless)")


class Recording(models.Model):
    """The audio of one call, stored under `settings.CC_RECORDINGS_DIR`.

    `path` (and `caller_path`, `agent_path` when the line records each party on its own channel) are
    relative to the recordings directory, so the directory can move. `sha256` is the stored file's
    checksum, taken when it was written; `recording_verify` compares it with the file on disk.
    """

    interaction = models.ForeignKey(Interaction, on_delete=models.PROTECT, related_name="recordings")
    sip_call_id = models.CharField(max_length=300, unique=True)
    agent = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="recordings"
    )
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    path = models.CharField(max_length=300, unique=True)
    format = models.CharField(max_length=10, choices=RecordingFormat.choices, default=RecordingFormat.FLAC)
    sample_rate = models.PositiveIntegerField()
    channels = models.PositiveSmallIntegerField()
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # Levels on the 16-bit scale (0..32768); loud_fraction is the share of 20 ms frames with RMS > 300.
    rms = models.PositiveIntegerField()
    peak = models.PositiveIntegerField()
    loud_fraction = models.FloatField()
    caller_path = models.CharField(max_length=300, blank=True)
    agent_path = models.CharField(max_length=300, blank=True)
    # Kept past the retention period while set (a complaint, a court order); the audit names who and why.
    legal_hold = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the retention task deleted the audio (the row stays, so the audit log keeps its subject).
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["started_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(loud_fraction__gte=0, loud_fraction__lte=1),
                name="recording_loud_fraction_0_1",
            ),
            models.CheckConstraint(
                condition=models.Q(rms__lte=models.F("peak")), name="recording_rms_le_peak"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sip_call_id} ({self.duration_ms / 1000:.1f} s)"

    def file_path(self) -> Path:
        """The stored (mixed) audio file's absolute path."""
        return Path(settings.CC_RECORDINGS_DIR) / self.path


class AuditAction(models.TextChoices):
    PLAY = "play", _("Atskaņots / Played")
    DOWNLOAD = "download", _("Lejupielādēts / Downloaded")
    HOLD_SET = "hold_set", _("Juridiskā aizture / Legal hold set")
    HOLD_RELEASED = "hold_released", _("Aizture atcelta / Legal hold released")
    PURGED = "purged", _("Dzēsts pēc glabāšanas termiņa / Deleted after retention")


class RecordingAudit(models.Model):
    """Who did what with a recording, when and why (DATA, PH-REC). Rows are never changed, except the
    counters of a play or download: each audio request made with its grant adds to them.

    A play or download is granted for a reason and carries a token: the audio endpoint serves only a
    valid token of the same user and recording, so no byte leaves without a logged reason.
    """

    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="audit")
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    at = models.DateTimeField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # Plays and downloads: the grant the audio requests present, and what they fetched.
    token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    requests = models.PositiveIntegerField(default=0)
    bytes_served = models.PositiveBigIntegerField(default=0)
    last_request_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["recording", "at"]), models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.recording_id} by {self.user_id}"
