"""People, units, roles and absences: who works here and who covers whom."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The four roles are Django groups with exactly these names (ARCHITECTURE.md contract)."""

    PHONE_AGENT = "phone_agent", _("Tālruņa konsultants / Phone agent")
    EMAIL_HANDLER = "email_handler", _("E-pasta apstrādātājs / E-mail handler")
    TEAM_LEAD = "team_lead", _("Komandas vadītājs / Team lead")
    QUALITY_OFFICER = "quality_officer", _("Kvalitātes speciālists / Quality officer")


class Unit(models.Model):
    """A team of the customer service; its leads review its breaches."""

    code = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    leads: models.ManyToManyField[Person, Any] = models.ManyToManyField(
        "Person", related_name="led_units", blank=True
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """A member of staff, linked to the Django user they log in with."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="person")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="members", null=True, blank=True)
    position = models.CharField(max_length=200, blank=True, help_text="Amats (for the e-mail signature)")
    extension = models.CharField(max_length=32, blank=True, help_text="SIP extension on the line")
    mobile_number = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


class AbsenceKind(models.TextChoices):
    LEAVE = "leave", _("Atvaļinājums / Leave")
    BUSINESS_TRIP = "business_trip", _("Komandējums / Business trip")
    TRAINING = "training", _("Mācības / Training")
    SICK = "sick", _("Slimība / Sick")
    OTHER = "other", _("Cits / Other")


class Absence(models.Model):
    """A period when a person is away; their work goes to a substitute or a forward number (PH-ABSENT)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="absences")
    kind = models.CharField(max_length=20, choices=AbsenceKind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    substitute = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="substituting", null=True, blank=True
    )
    forward_number = models.CharField(max_length=32, blank=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="absence_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(substitute=models.F("person")), name="absence_substitute_not_self"
            ),
        ]
        # Coverage look-ups ask "who is away at T": person first, then the period.
        indexes = [models.Index(fields=["person", "starts_at", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.person} {self.kind} {self.starts_at:%Y-%m-%d}–{self.ends_at:%Y-%m-%d}"

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


class AgentState(models.TextChoices):
    AVAILABLE = "available", _("Pieejams / Available")
    BREAK = "break", _("Pārtraukums / Break")
    WRAP_UP = "wrap_up", _("Pēcapstrāde / Wrap-up")
    OFFLINE = "offline", _("Nav tiešsaistē / Offline")


class AgentStatus(models.Model):
    """A phone agent's availability on the line, and the call they are in (PH-FOCUS).

    `in_call` holds the SIP Call-ID of the caller the agent is being rung for or is talking to; the line
    claims an agent by setting it with a conditional UPDATE, so two call handlers never ring one agent.
    """

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="status")
    state = models.CharField(max_length=10, choices=AgentState.choices, default=AgentState.OFFLINE)
    state_since = models.DateTimeField()
    in_call = models.CharField(max_length=300, blank=True)
    in_call_since = models.DateTimeField(null=True, blank=True)
    # Wrap-up after a call: the agent is not offered a call before this instant.
    wrap_up_until = models.DateTimeField(null=True, blank=True)
    last_offered_at = models.DateTimeField(null=True, blank=True)
    # From the front door's registrar (Kamailio usrloc): where the agent's phone is, and until when.
    registered_contact = models.CharField(max_length=500, blank=True)
    registered_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "agent statuses"
        # The hunt asks "who is available and free, least recently offered first".
        indexes = [models.Index(fields=["state", "in_call", "last_offered_at"])]

    def __str__(self) -> str:
        return f"{self.person}: {self.state}"

    def is_free(self, at: datetime) -> bool:
        return (
            self.state == AgentState.AVAILABLE
            and not self.in_call
            and (self.wrap_up_until is None or self.wrap_up_until <= at)
        )
