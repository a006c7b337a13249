"""SLA data: rule policies, the calendar's editable parts, clocks and breaches."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from agents.models import Person, Unit
from contact_centre.models import Channel, Interaction, Service


class PolicyKind(models.TextChoices):
    WORKING_DAYS = "working_days", _("Darbdienas / Working days")
    RINGS = "rings", _("Zvana signāli / Rings")
    DAYS_AHEAD = "days_ahead", _("Darbdienas iepriekš / Working days ahead")
    MINUTES = "minutes", _("Minūtes / Minutes")


class Policy(models.Model):
    """The numbers behind one handbook rule (HANDBOOK.md), editable in the admin."""

    rule_id = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=20, choices=PolicyKind.choices)
    amount = models.PositiveIntegerField(
        validators=[MinValueValidator(1)], help_text="Working days, rings, working days ahead, or minutes"
    )
    ring_on_ms = models.PositiveIntegerField(default=1000, help_text="PH-RING only: ring length")
    ring_off_ms = models.PositiveIntegerField(default=4000, help_text="PH-RING only: pause between rings")
    title_lv = models.CharField(max_length=300)
    title_en = models.CharField(max_length=300)
    source = models.CharField(max_length=300, blank=True, help_text="Where the rule comes from")
    description = models.TextField(blank=True, help_text="The source text the numbers come from")
    extension_months = models.PositiveSmallIntegerField(
        default=0,
        help_text="How far the answer time may be extended: months from arrival (0: none)",
    )

    class Meta:
        ordering = ["rule_id"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.rule_id


class ChannelPolicy(models.Model):
    """Which rules' clocks a matter on a written channel gets when it arrives (portal, post, e-address).

    E-mail and phone follow the handbook's own rules in code (EM-ACK/EM-REPLY, PH-RING); these channels'
    obligations come from laws that change, so their rule lists are data, edited in the admin.
    """

    channel = models.CharField(max_length=10, choices=Channel.choices, unique=True)
    rule_ids = models.JSONField(default=list, help_text="Rule IDs whose clocks open on arrival")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["channel"]
        verbose_name_plural = "channel policies"

    def __str__(self) -> str:
        return f"{self.channel}: {', '.join(self.rule_ids)}"


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


class Deadline(models.Model):
    """A due time, stored once and shared by every clock that counts from the same basis.

    Working-day clocks that arrived on the same Riga date with the same number of working days fall due
    together, so they point at one Deadline row keyed by (basis_on, working_days); a calendar edit moves
    a million pending clocks by rewriting the few hundred deadlines whose time changed. Ring clocks and
    other fixed instants get a deadline with no basis, which a calendar edit never touches.
    """

    basis_on = models.DateField(null=True, blank=True)
    working_days = models.PositiveSmallIntegerField(null=True, blank=True)
    due_at = models.DateTimeField()
    previous_due_at = models.DateTimeField(null=True, blank=True)
    recomputed_by = models.ForeignKey("CalendarChange", on_delete=models.PROTECT, null=True, blank=True)
    # True while the deadline may still have pending clocks: the sweep clears it once it has breached
    # them all, and opening a clock on it sets it again. The sweep reads only these deadlines, so when
    # nothing is due it touches no row, however many deadlines history has left behind.
    sweep_pending = models.BooleanField(default=True, db_default=True)
    # Set by a calendar edit that moved it: the warnings of its pending clocks are re-planned by the
    # sweep, a bounded batch at a time, so the edit itself stays a few hundred row writes.
    warnings_stale = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["basis_on", "working_days"],
                name="deadline_once_per_basis",
                condition=Q(basis_on__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["due_at"], name="deadline_fixed_once", condition=Q(basis_on__isnull=True)
            ),
            models.CheckConstraint(
                condition=Q(basis_on__isnull=True, working_days__isnull=True)
                | Q(basis_on__isnull=False, working_days__isnull=False),
                name="deadline_basis_complete",
            ),
        ]
        # The sweep walks due times in order and joins to the pending clocks of each.
        indexes = [
            models.Index(fields=["due_at"], name="deadline_due"),
            models.Index(fields=["due_at"], name="deadline_sweep_due", condition=Q(sweep_pending=True)),
            models.Index(fields=["id"], name="deadline_warnings_stale", condition=Q(warnings_stale=True)),
        ]

    def __str__(self) -> str:
        basis = f" ({self.working_days} wd from {self.basis_on})" if self.basis_on else ""
        return f"{self.due_at:%Y-%m-%d %H:%M:%S}{basis}"


class ClockState(models.TextChoices):
    PENDING = "pending", _("Rit / Pending")
    MET = "met", _("Izpildīts / Met")
    BREACHED = "breached", _("Nokavēts / Breached")
    STOPPED = "stopped", _("Apturēts / Stopped")


class Clock(models.Model):
    """One rule's deadline on one interaction.

    While pending, its due time is its Deadline's (so calendar edits move it); when it stops running
    (met, breached, stopped) the due time in force is frozen into `settled_due_at`, so later edits never
    rewrite history.
    """

    interaction = models.ForeignKey(Interaction, on_delete=models.PROTECT, related_name="clocks")
    rule_id = models.CharField(max_length=32)
    opened_by_seq = models.BigIntegerField(help_text="The ledger event that opened this clock")
    started_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    deadline = models.ForeignKey(Deadline, on_delete=models.PROTECT, related_name="clocks")
    settled_due_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=ClockState.choices, default=ClockState.PENDING)
    met_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=40, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # Pre-breach warnings (CC_SLA_WARN_AT, % of the working time allowed): when the next one is due, and
    # the share already warned about. Null when no warning is left or the rule counts no working time.
    next_warning_at = models.DateTimeField(null=True, blank=True)
    warned_percent = models.PositiveSmallIntegerField(default=0)
    # The due time the warnings were planned for; a calendar edit that moves the deadline makes them stale.
    warnings_planned_for = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["opened_by_seq", "rule_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["interaction", "rule_id", "opened_by_seq"], name="clock_once_per_opening_event"
            )
        ]
        indexes = [
            # Sweep and recompute reach the pending clocks of a deadline through this partial index.
            models.Index(fields=["deadline"], name="clock_pending_deadline", condition=Q(state="pending")),
            # Service levels and the nightly counts read a rule's clocks of a span of days.
            models.Index(fields=["rule_id", "started_at"], name="clock_rule_started"),
            # The warning sweep reads the due warnings in order through this partial index.
            models.Index(
                fields=["next_warning_at"],
                name="clock_warning_due",
                condition=Q(state="pending", next_warning_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} on {self.interaction_id} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def due_at(self) -> datetime:
        return self.settled_due_at or self.deadline.due_at

    @property
    def was_moved(self) -> bool:
        """True when a calendar edit made after this clock opened moved it (its deadline names the edit)."""
        change = self.deadline.recomputed_by
        return self.state == ClockState.PENDING and change is not None and change.changed_at > self.created_at

    def remaining(self, at: datetime) -> timedelta:
        return self.due_at - at

    def is_overdue(self, at: datetime) -> bool:
        return self.state == ClockState.PENDING and at > self.due_at

    def verdict(self, at: datetime) -> str:
        """`met` | `pending` | `breached` | `stopped`, as the API shows it at `at`."""
        if self.is_overdue(at):
            return ClockState.BREACHED
        return self.state


class BreachReason(models.Model):
    """Why a deadline was missed, as team leads say when they acknowledge a breach (editable list)."""

    code = models.SlugField(unique=True)
    name_lv = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return f"{self.name_lv} / {self.name_en}"


class Breach(models.Model):
    """A missed deadline: raised once per clock, never deleted."""

    clock = models.OneToOneField(Clock, on_delete=models.PROTECT, related_name="breach")
    rule_id = models.CharField(max_length=32)
    interaction = models.ForeignKey(Interaction, on_delete=models.PROTECT, related_name="breaches")
    due_at = models.DateTimeField()
    breached_at = models.DateTimeField()
    raised_at = models.DateTimeField(null=True, blank=True, help_text="When the sweep wrote the row")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledge_reason = models.TextField(blank=True, help_text="The team lead's comment")
    reason = models.ForeignKey(
        BreachReason, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A fact that met the clock in time but reached the ledger after the sweep withdraws the breach;
    # the row stays, with the reason, so the history is whole.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdraw_reason = models.CharField(max_length=200, blank=True)
    # When the team leads' alerts were written (once per breach, whatever restarts happen).
    alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-breached_at"]
        indexes = [
            # The breach board and GET /api/breaches/ read the newest first, a page at a time.
            models.Index(fields=["-breached_at", "-id"], name="breach_recent"),
            models.Index(fields=["rule_id", "breached_at"]),
            models.Index(fields=["unit", "breached_at"]),
            models.Index(
                fields=["breached_at"], name="breach_not_alerted", condition=Q(alerted_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} breached on {self.interaction_id}"


class LedgerApplyFailure(models.Model):
    """A ledger event sla could not apply (bad data, a date outside the calendar), kept with the reason.

    The cursor moves past it so one odd fact never stops every other clock; team leads see it in the
    admin, and `manage.py sla_retry_failures` applies it again once the cause is fixed.
    """

    seq = models.BigIntegerField(unique=True)
    interaction = models.ForeignKey(Interaction, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=60)
    message = models.TextField()
    failed_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"event {self.seq}: {self.code}"


class LedgerCursor(models.Model):
    """How far sla has applied the ledger (event `seq`); one row, locked while applying."""

    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"cursor {self.last_seq}"


class DailyCount(models.Model):
    """What happened on one Riga calendar day, per service and channel (MK399, service levels).

    Compiled each night (`sla.counts_compile`) from the ledger, the clocks and the breaches; compiling a
    day again replaces its rows, so late facts are counted once they are in.
    """

    day = models.DateField()
    service = models.ForeignKey(Service, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    cases = models.PositiveIntegerField(default=0, help_text="Interactions opened that day")
    complaints = models.PositiveIntegerField(default=0)
    delays = models.PositiveIntegerField(default=0, help_text="Breaches raised that day, all rules")
    delays_by_rule = models.JSONField(default=dict, blank=True)
    calls_by_ring_3 = models.PositiveIntegerField(default=0, help_text="PH-RING met")
    calls_late = models.PositiveIntegerField(default=0, help_text="Answered after the third ring")
    short_abandons = models.PositiveIntegerField(default=0)
    long_abandons = models.PositiveIntegerField(default=0, help_text="Hung up, or nobody answered, late")
    out_of_hours = models.PositiveIntegerField(default=0)
    compiled_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["day", "channel"]
        constraints = [
            # A day is compiled by deleting and inserting its rows in one transaction under the sla lock.
            models.UniqueConstraint(fields=["day", "service", "channel"], name="daily_count_once")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} {self.service_id}"


class CompiledDay(models.Model):
    """A Riga day whose counts are compiled (a day without any fact has no DailyCount rows)."""

    day = models.DateField(unique=True)
    compiled_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return self.day.isoformat()


class AlertKind(models.TextChoices):
    WARNING = "warning", _("Brīdinājums pirms termiņa / Warning before the deadline")
    BREACH = "breach", _("Termiņš nokavēts / Deadline breached")
    COMPLAINT = "complaint", _("Sūdzība / Complaint")
    REMINDER = "reminder", _("Atgādinājums / Reminder")


class AlertEmailState(models.TextChoices):
    PENDING = "pending", _("Gaida / Pending")
    SENDING = "sending", _("Sūta / Sending")
    SENT = "sent", _("Nosūtīts / Sent")
    FAILED = "failed", _("Neizdevās / Failed")
    NONE = "none", _("Bez e-pasta / No e-mail")


class Alert(models.Model):
    """One alert to one person: shown in the product from `deliver_at`, and e-mailed once.

    Alerts raised outside office hours wait for the next opening (`deliver_at`), unless the recipient
    asked for them at once. `dedupe_key` makes every alert exist once, whatever the sweeps and restarts.
    """

    kind = models.CharField(max_length=12, choices=AlertKind.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts")
    rule_id = models.CharField(max_length=32, blank=True)
    interaction = models.ForeignKey(
        Interaction, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts"
    )
    clock = models.ForeignKey(Clock, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts")
    breach = models.ForeignKey(Breach, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts")
    percent = models.PositiveSmallIntegerField(default=0, help_text="Warnings: share of the time used")
    due_at = models.DateTimeField(null=True, blank=True)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField()
    deliver_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(
        max_length=10, choices=AlertEmailState.choices, default=AlertEmailState.PENDING
    )
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_next_attempt_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-deliver_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "deliver_at"]),
            # The sender reads the alerts whose e-mail is due through this partial index.
            models.Index(
                fields=["deliver_at"],
                name="alert_email_due",
                condition=Q(email_state__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.rule_id} → {self.recipient_id}"


class AlertPreference(models.Model):
    """A person's choice to get alerts at once, even outside office hours (team leads on call)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    immediate = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.user_id}: {'at once' if self.immediate else 'office hours'}"


class ReviewAction(models.TextChoices):
    ACKNOWLEDGED = "acknowledged", _("Apstiprināts / Acknowledged")
    RECLASSIFIED = "reclassified", _("Pārklasificēts / Reclassified")


class BreachReview(models.Model):
    """What a team lead did with a breach, and why: the audit trail of reviews (rows are never changed)."""

    breach = models.ForeignKey(Breach, on_delete=models.PROTECT, related_name="reviews")
    action = models.CharField(max_length=20, choices=ReviewAction.choices)
    reason = models.ForeignKey(
        BreachReason, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    comment = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.breach_id} {self.action}"


class Mk399Publication(models.Model):
    """A year's MK399 report marked published (Cabinet Regulation No. 399: by 1 April of the next year).
    Until it is, team leads are reminded through March."""

    year = models.PositiveSmallIntegerField(unique=True)
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    where = models.CharField(max_length=500, help_text="Where it was published (address or note)")

    class Meta:
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"MK399 {self.year}"
