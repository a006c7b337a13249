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
    # Kept past any retention period while set (a complaint, a court order); read by the retention issue.
    legal_hold = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

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
