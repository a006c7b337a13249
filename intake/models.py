"""Matters people record by hand: scans of registered letters, and in-person visits with their slots."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from contact_centre.models import Interaction


class Scan(models.Model):
    """The scanned file of a registered letter, stored under CC_SCANS_DIR by its SHA-256."""

    interaction = models.ForeignKey(Interaction, on_delete=models.PROTECT, related_name="scans")
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["interaction", "sha256"], name="scan_once_per_matter")]

    def __str__(self) -> str:
        return self.name


class VisitSlot(models.Model):
    """One bookable time at the client service centre (Smilšu iela 1); `booked` counts live bookings.

    The row is created at the first booking with the default capacity (CC_VISIT_DESKS) and locked by
    every booking of it, so two agents can never overfill it. An admin may raise or lower the capacity.
    """

    starts_at = models.DateTimeField(unique=True)
    capacity = models.PositiveSmallIntegerField()
    booked = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(booked__lte=F("capacity")), name="slot_not_overfull")
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} {self.booked}/{self.capacity}"


class VisitOutcome(models.TextChoices):
    BOOKED = "booked", _("Pieteikts / Booked")
    SERVED = "served", _("Apkalpots / Served")
    NO_SHOW = "no_show", _("Neieradās / Did not come")
    CANCELLED = "cancelled", _("Atcelts / Cancelled")


class Visit(models.Model):
    """A booked in-person visit (VISIT-BOOK); its ledger interaction has channel `visit`."""

    interaction = models.OneToOneField(Interaction, on_delete=models.PROTECT, related_name="visit")
    slot = models.ForeignKey(VisitSlot, on_delete=models.PROTECT, related_name="visits")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    client_email = models.EmailField(blank=True)
    reason_not_electronic = models.TextField()
    call = models.ForeignKey(Interaction, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    booked_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=VisitOutcome.choices, default=VisitOutcome.BOOKED)
    outcome_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["starts_at"], name="visit_starts")]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} {self.interaction}"

    def is_live(self) -> bool:
        return self.outcome == VisitOutcome.BOOKED
