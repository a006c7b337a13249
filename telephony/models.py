"""The line's editable parts: the announcements callers hear, and the call handlers' heartbeats."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PromptCode(models.TextChoices):
    RECORDING_NOTICE = "recording_notice", _("Paziņojums par ierakstu / Recording notice")
    CLOSED = "closed", _("Ārpus darba laika / Closed hours")
    ALL_BUSY = "all_busy", _("Visi konsultanti aizņemti / All agents busy")
    CALLBACK_CONFIRMED = "callback_confirmed", _("Atzvanīšana pieteikta / Callback confirmed")


class Prompt(models.Model):
    """An announcement: its text (Latvian then English) and, when an admin uploaded one, a real recording.

    Without an upload the line plays the file generated from the text by `manage.py prompts_generate`
    (espeak-ng), kept in the repository under telephony/prompts/.
    """

    code = models.CharField(max_length=40, choices=PromptCode.choices, unique=True)
    text_lv = models.TextField()
    text_en = models.TextField()
    recording = models.FileField(
        upload_to="prompts/",
        blank=True,
        help_text="WAV, mono; replaces the generated file (resampled to 8 kHz when the line loads it)",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.get_code_display()


class LineWorker(models.Model):
    """One call-handler process on the line, as it last reported itself (the health check reads it)."""

    name = models.CharField(max_length=100, unique=True, help_text="host:port of its SIP transport")
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()
    calls_active = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
