"""SLA data: rule policies, the calendar's editable parts, clocks and breaches."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from agents.models import Person, Unit
from contact_centre.models import Interaction


class PolicyKind(models.TextChoices):
    WORKING_DAYS = "working_days", _("Darbdienas / Working days")
    RINGS = "rings", _("Zvana signāli / Rings")
    DAYS_AHEAD = "days_ahead", _("Darbdienas iepriekš / Working days ahead")


class Policy(models.Model):
    """The numbers behind one handbook rule (HANDBOOK.md), editable in the admin."""

    rule_id = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=20, choices=PolicyKind.choices)
    amount = models.PositiveIntegerField(help_text="Working days, rings, or working days ahead")
    ring_on_ms = models.PositiveIntegerField(default=1000, help_text="PH-RING only: ring length")
    ring_off_ms = models.PositiveIntegerField(default=4000, help_text="PH-RING only: pause between rings")
    title_lv = models.CharField(max_length=300)
    title_en = models.CharField(max_length=300)
    source = models.CharField(max_length=300, blank=True, help_text="Where the rule comes from")

    class Meta:
        ordering = ["rule_id"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.rule_id


class OfficeHours(models.Model):
    """Opening hours per weekday (0 = Monday); a weekday without a row is closed."""

    weekday = models.PositiveSmallIntegerField(unique=True)
    opens_at = models.TimeField()
    closes_at = models.TimeField()

    class Meta:
        ordering = ["weekday"]
        verbose_name_plural = "office hours"
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="office_hours_weekday_0_6"),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="office_closes_after_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday}: {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class OverrideKind(models.TextChoices):
    HOLIDAY = "holiday", _("Papildu svētku diena / Extra public holiday")
    DAY_OFF = "day_off", _("Papildu brīvdiena / Extra day off")
    WORKING_SATURDAY = "working_saturday", _("Darba sestdiena / Working Saturday")


class CalendarOverride(models.Model):
    """An admin's correction to the package's holidays, with its legal source (Saeima law, Cabinet order)."""

    day = models.DateField(unique=True)
    kind = models.CharField(max_length=20, choices=OverrideKind.choices)
    replaces = models.DateField(
        null=True, blank=True, unique=True, help_text="Working Saturday: the weekday it replaces (a day off)"
    )
    name = models.CharField(max_length=200)
    legal_source = models.CharField(max_length=300)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["day"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="working_saturday", replaces__isnull=False)
                | (~Q(kind="working_saturday") & Q(replaces__isnull=True)),
                name="override_replaces_only_for_working_saturday",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}: {self.name}"


class CalendarChange(models.Model):
    """An audit row per calendar edit; every clock it moved points back here."""

    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    description = models.CharField(max_length=500)
    clocks_moved = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return self.description


class ClockState(models.TextChoices):
    PENDING = "pending", _("Rit / Pending")
    MET = "met", _("Izpildīts / Met")
    BREACHED = "breached", _("Nokavēts / Breached")
    STOPPED = "stopped", _("Apturēts / Stopped")


class Clock(models.Model):
    """One rule's deadline on one interaction.

    A working-day clock stores its basis (`basis_on`, the Riga date counted from, and `working_days`)
    so a calendar edit can recompute it in bulk; a ring clock has neither and never moves.
    """

    interaction = models.ForeignKey(Interaction, on_delete=models.PROTECT, related_name="clocks")
    rule_id = models.CharField(max_length=32)
    opened_by_seq = models.BigIntegerField(help_text="The ledger event that opened this clock")
    started_at = models.DateTimeField()
    basis_on = models.DateField(null=True, blank=True)
    working_days = models.PositiveSmallIntegerField(null=True, blank=True)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=ClockState.choices, default=ClockState.PENDING)
    met_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=40, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    recomputed_by = models.ForeignKey(CalendarChange, on_delete=models.PROTECT, null=True, blank=True)
    previous_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["interaction", "rule_id", "opened_by_seq"], name="clock_once_per_opening_event"
            )
        ]
        indexes = [
            # The breach sweep and the recompute read only pending clocks, by due time or by basis.
            models.Index(fields=["due_at"], name="clock_pending_due", condition=Q(state="pending")),
            models.Index(
                fields=["basis_on", "working_days"],
                name="clock_pending_basis",
                condition=Q(state="pending", basis_on__isnull=False),
            ),
            models.Index(fields=["interaction", "rule_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} on {self.interaction_id} due {self.due_at:%Y-%m-%d %H:%M}"

    def remaining(self, at: datetime) -> timedelta:
        return self.due_at - at

    def is_overdue(self, at: datetime) -> bool:
        return self.state == ClockState.PENDING and at >= self.due_at

    def verdict(self, at: datetime) -> str:
        """`met` | `pending` | `breached` | `stopped`, as the API shows it at `at`."""
        if self.is_overdue(at):
            return ClockState.BREACHED
        return self.state


class Breach(models.Model):
    """A missed deadline: raised once per clock, never deleted."""

    clock = models.OneToOneField(Clock, on_delete=models.PROTECT, related_name="breach")
    rule_id = models.CharField(max_length=32)
    interaction = models.ForeignKey(Interaction, on_delete=models.PROTECT, related_name="breaches")
    due_at = models.DateTimeField()
    breached_at = models.DateTimeField()
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledge_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-breached_at"]
        indexes = [
            models.Index(fields=["rule_id", "breached_at"]),
            models.Index(fields=["unit", "breached_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} breached on {self.interaction_id}"


class LedgerCursor(models.Model):
    """How far sla has applied the ledger (event `seq`); one row, locked while applying."""

    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"cursor {self.last_seq}"
