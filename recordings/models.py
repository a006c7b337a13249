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


class ItemKind(models.TextChoices):
    YES_NO = "yes_no", _("Jā / nē / Yes / no")
    SCALE = "scale", _("Skala 0–N / Scale 0–N")


class ScorecardTemplate(models.Model):
    """A quality officer's form (editable in the admin); the default is PH-GREET and courtesy.

    Editing a template never changes a submitted scorecard: a scorecard snapshots each item (code,
    texts, rule, kind, scale, weight) into its answers when it is submitted, together with the template's
    `version`, and its total is stored then. `version` counts the template's edits (the admin raises it
    on every save that changes the template or its items), so a scorecard says which edition it was
    scored on. We chose a snapshot over copying the template on each edit because the admin edits items
    inline in place, and a snapshot keeps a submitted scorecard readable on its own (DB guard: a trigger
    refuses changes to submitted scorecards and their answers). An item answered on any scorecard cannot
    be deleted (PROTECT); retire a form by unticking `active` and creating a new one.
    """

    code = models.SlugField(unique=True)
    name_lv = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name_lv} / {self.name_en}"


class ScorecardItem(models.Model):
    """One question of a template: yes/no (1/0) or a scale 0..`scale_max`, weighted in the total."""

    template = models.ForeignKey(ScorecardTemplate, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    code = models.SlugField()
    text_lv = models.CharField(max_length=300)
    text_en = models.CharField(max_length=300)
    rule_id = models.CharField(max_length=20, blank=True, help_text="Handbook rule ID, e.g. PH-GREET")
    weight = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(max_length=10, choices=ItemKind.choices, default=ItemKind.YES_NO)
    scale_max = models.PositiveSmallIntegerField(default=1, help_text="N of a scale 0..N; 1 for yes/no")

    class Meta:
        ordering = ["position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["template", "code"], name="scorecard_item_code_unique"),
            models.CheckConstraint(condition=models.Q(weight__gte=1), name="scorecard_item_weight_positive"),
            models.CheckConstraint(
                condition=models.Q(kind=ItemKind.YES_NO, scale_max=1)
                | models.Q(kind=ItemKind.SCALE, scale_max__gte=2, scale_max__lte=10),
                name="scorecard_item_scale",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.text_lv}"


class ScorecardState(models.TextChoices):
    """Derived from the rows (`Scorecard.objects.with_state()`), never stored: a submitted row stays."""

    DRAFT = "draft", _("Melnraksts / Draft")
    SUBMITTED = "submitted", _("Iesniegts / Submitted")
    ACKNOWLEDGED = "acknowledged", _("Iepazinies / Acknowledged")
    DISPUTED = "disputed", _("Apstrīdēts / Disputed")
    SUPERSEDED = "superseded", _("Aizstāts / Superseded")


class DisputeState(models.TextChoices):
    OPEN = "open", _("Izskatāms / Open")
    UPHELD = "upheld", _("Atzīts / Upheld")
    REJECTED = "rejected", _("Noraidīts / Rejected")


class ScorecardQuerySet(models.QuerySet["Scorecard"]):
    def with_state(self) -> ScorecardQuerySet:
        """Each row annotated with `state` (a ScorecardState value)."""
        return self.annotate(
            state=models.Case(
                models.When(submitted_at__isnull=True, then=models.Value(ScorecardState.DRAFT)),
                models.When(dispute__state=DisputeState.UPHELD, then=models.Value(ScorecardState.SUPERSEDED)),
                models.When(dispute__state=DisputeState.OPEN, then=models.Value(ScorecardState.DISPUTED)),
                models.When(acknowledgement__isnull=False, then=models.Value(ScorecardState.ACKNOWLEDGED)),
                default=models.Value(ScorecardState.SUBMITTED),
                output_field=models.CharField(),
            )
        )


class Scorecard(models.Model):
    """A quality officer's scoring of one recording: a draft until submitted, then never changed.

    `score` (per cent, one decimal) and the answers' item snapshots are written on submission. A dispute
    upheld by a team lead opens a new scorecard whose `supersedes` names this one; this one stays as it
    was. A recording has one original scorecard (`supersedes` empty) and a chain of successors.
    """

    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="scorecards")
    template = models.ForeignKey(ScorecardTemplate, on_delete=models.PROTECT, related_name="scorecards")
    template_version = models.PositiveIntegerField(null=True, blank=True)
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    score = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    comment = models.TextField(blank=True)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="successor"
    )

    objects = ScorecardQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recording"],
                condition=models.Q(supersedes__isnull=True),
                name="scorecard_one_original_per_recording",
            ),
            models.CheckConstraint(
                condition=models.Q(submitted_at__isnull=True, score__isnull=True)
                | models.Q(submitted_at__isnull=False, score__gte=0, score__lte=100),
                name="scorecard_score_when_submitted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recording_id}: {self.score if self.submitted_at else 'draft'}"

    def is_submitted(self) -> bool:
        return self.submitted_at is not None


class ScorecardAnswer(models.Model):
    """The answer to one item; the `item_*` columns are the item as it was when the scorecard was
    submitted (see ScorecardTemplate), so later template edits leave it alone."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="answers")
    item = models.ForeignKey(ScorecardItem, on_delete=models.PROTECT, related_name="answers")
    value = models.PositiveSmallIntegerField()
    note = models.TextField(blank=True)
    item_position = models.PositiveSmallIntegerField(default=0)
    item_code = models.SlugField(blank=True)
    item_text_lv = models.CharField(max_length=300, blank=True)
    item_text_en = models.CharField(max_length=300, blank=True)
    item_rule_id = models.CharField(max_length=20, blank=True)
    item_kind = models.CharField(max_length=10, choices=ItemKind.choices, blank=True)
    item_scale_max = models.PositiveSmallIntegerField(default=1)
    item_weight = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["item_position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "item"], name="scorecard_answer_once"),
            models.CheckConstraint(
                condition=models.Q(value__lte=models.F("item_scale_max")), name="scorecard_answer_in_scale"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_code or self.item_id}={self.value}"

    def snapshot(self, item: ScorecardItem) -> None:
        """Copy the item's current wording, rule, scale and weight into this answer (not saved)."""
        self.item_position, self.item_code, self.item_rule_id = item.position, item.code, item.rule_id
        self.item_text_lv, self.item_text_en = item.text_lv, item.text_en
        self.item_kind, self.item_scale_max, self.item_weight = item.kind, item.scale_max, item.weight


class ScorecardAcknowledgement(models.Model):
    """The recording's agent saw the submitted scorecard (once; the row is never changed)."""

    scorecard = models.OneToOneField(Scorecard, on_delete=models.PROTECT, related_name="acknowledgement")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.scorecard_id} acknowledged {self.at:%Y-%m-%d}"


class ScorecardDispute(models.Model):
    """The agent's objection to a submitted scorecard, and a team lead's decision on it.

    One per scorecard. Upheld: a new draft scorecard supersedes the disputed one (its answers copied for
    the officer to correct); rejected: the scorecard stands. Both sides' comments stay.
    """

    scorecard = models.OneToOneField(Scorecard, on_delete=models.PROTECT, related_name="dispute")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField()
    comment = models.TextField()
    state = models.CharField(max_length=10, choices=DisputeState.choices, default=DisputeState.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True, help_text="The team lead's comment")

    class Meta:
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state=DisputeState.OPEN, resolved_at__isnull=True)
                | (~models.Q(state=DisputeState.OPEN) & models.Q(resolved_at__isnull=False)),
                name="scorecard_dispute_resolved_at",
            )
        ]

    def __str__(self) -> str:
        return f"{self.scorecard_id}: {self.state}"
