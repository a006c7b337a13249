"""Alerts: pre-breach warnings to the owner, breaches to the unit's team leads, in the product and by e-mail.

Everything runs from the one beat sweep (`sla.sweep`), over indexed columns: the clocks' next warning
instant, the breaches not yet alerted, the alerts whose e-mail is due. Each is claimed with a conditional
UPDATE or a skip-locked row lock, and every alert has a unique key, so two sweeps (two beat processes
started by mistake, a restart half-way) never alert twice. Outside office hours an alert waits for the
next opening, unless its recipient asked for alerts at once.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from agents.models import Role, Unit
from sla.calendar import WorkingCalendar, add_working_time, is_office_open, next_opening_at
from sla.calendar import working_seconds_between as working_seconds
from sla.calendar_source import current_calendar
from sla.models import (
    Alert,
    AlertEmailState,
    AlertKind,
    AlertPreference,
    Breach,
    Clock,
    ClockState,
    Mk399Publication,
)

logger = logging.getLogger(__name__)

EMAIL_LEASE = timedelta(minutes=5)
EMAIL_RETRY_MAX = timedelta(minutes=30)
EMAIL_ATTEMPTS_MAX = 20


def warning_next(
    *, started_at: datetime, due_at: datetime, after_percent: int, calendar: WorkingCalendar
) -> tuple[int, datetime] | None:
    """The next warning point above `after_percent` (CC_SLA_WARN_AT) and the instant it falls on."""
    allowed = working_seconds(started_at, due_at, calendar)
    if allowed <= 0:
        return None
    for percent in settings.CC_SLA_WARN_AT:
        if percent > after_percent:
            return percent, add_working_time(started_at, timedelta(seconds=allowed * percent / 100), calendar)
    return None


def _local(at: datetime) -> str:
    return timezone.localtime(at).strftime("%d.%m.%Y %H:%M")


def _deliver_at(user: User, now: datetime, calendar: WorkingCalendar) -> datetime:
    if is_office_open(now, calendar) or AlertPreference.objects.filter(user=user, immediate=True).exists():
        return now
    return next_opening_at(now, calendar)


def _alert_create(
    *,
    recipient: User,
    dedupe_key: str,
    now: datetime,
    calendar: WorkingCalendar,
    at_once: bool = False,
    **fields: object,
) -> None:
    """One alert row, once per key (a savepoint absorbs the duplicate a racing sweep may write).
    `at_once` delivers it whatever the hour (a complaint); others wait for office hours."""
    email_state = AlertEmailState.PENDING if recipient.email else AlertEmailState.NONE
    try:
        with transaction.atomic():
            Alert.objects.create(
                recipient=recipient,
                dedupe_key=dedupe_key,
                created_at=now,
                deliver_at=now if at_once else _deliver_at(recipient, now, calendar),
                email_state=email_state,
                **fields,
            )
    except IntegrityError:
        logger.info("alert %s exists already", dedupe_key)


def _reference(clock: Clock) -> str:
    interaction = clock.interaction
    return interaction.reference or f"#{interaction.pk}"


def _warn(clock: Clock, percent: int, now: datetime, calendar: WorkingCalendar) -> None:
    owner = clock.interaction.owner
    if owner is None:  # nobody owns the matter yet: the breach alert reaches the team leads
        return
    reference, due = _reference(clock), _local(clock.due_at)
    _alert_create(
        recipient=owner.user,
        dedupe_key=f"warning:{clock.pk}:{percent}",
        now=now,
        calendar=calendar,
        kind=AlertKind.WARNING,
        rule_id=clock.rule_id,
        interaction=clock.interaction,
        clock=clock,
        percent=percent,
        due_at=clock.due_at,
        subject=f"{clock.rule_id} {reference}: termiņš {due} / due {due} ({percent} %)",
        body=(
            f"Lietai {reference} ir izlietoti {percent} % no {clock.rule_id} atvēlētā darba laika; "
            f"termiņš {due}.\n"
            f"{percent} % of the working time {clock.rule_id} allows for {reference} is used; due {due}.\n"
            f"{clock.interaction.subject}"
        ),
    )


def warnings_raise(*, now: datetime, limit: int = 1000) -> int:
    """Warn the owners of pending clocks whose next warning point has passed. Returns clocks handled."""
    calendar = current_calendar()
    due = Clock.objects.filter(state=ClockState.PENDING, next_warning_at__lte=now).order_by("next_warning_at")
    handled = 0
    for clock_id in due.values_list("pk", flat=True)[:limit]:
        with transaction.atomic():
            clock = (
                Clock.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("deadline", "interaction__owner__user")
                .filter(pk=clock_id, state=ClockState.PENDING, next_warning_at__lte=now)
                .first()
            )
            if clock is not None:
                _warn_clock(clock, now, calendar)
                handled += 1
    return handled


def _warn_clock(clock: Clock, now: datetime, calendar: WorkingCalendar) -> None:
    """Send the highest warning point passed (a sweep that was down sends one warning, not two)."""
    passed, upcoming = clock.warned_percent, None
    while True:
        point = warning_next(
            started_at=clock.started_at, due_at=clock.due_at, after_percent=passed, calendar=calendar
        )
        if point is None or point[1] > now:
            upcoming = point
            break
        passed = point[0]
    if passed > clock.warned_percent:
        _warn(clock, passed, now, calendar)
    Clock.objects.filter(pk=clock.pk).update(
        warned_percent=passed, next_warning_at=upcoming[1] if upcoming else None
    )


def _team_leads(unit: Unit | None) -> list[User]:
    """The unit's team leads; every team lead when the matter has no unit yet."""
    if unit is not None:
        leads = unit.leads.select_related("user").filter(user__is_active=True)
        return [person.user for person in leads]
    return list(User.objects.filter(groups__name=Role.TEAM_LEAD, is_active=True))


def breach_alerts_raise(*, now: datetime, limit: int = 1000) -> int:
    """Alert the team leads of each breach not alerted yet (once per breach). Returns breaches handled.

    One transaction and a handful of statements however many breaches a burst brings: the breaches are
    claimed with a skip-locked row lock (a racing sweep takes others), the team leads and their
    preferences read once, the alerts written in one INSERT (a duplicate key, from a sweep that died
    after writing, is skipped).
    """
    calendar = current_calendar()
    with transaction.atomic():
        breaches = list(
            Breach.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(alerted_at__isnull=True, withdrawn_at__isnull=True)
            .select_related("interaction", "unit")
            .order_by("breached_at")[:limit]
        )
        if not breaches:
            return 0
        Breach.objects.filter(pk__in=[breach.pk for breach in breaches]).update(alerted_at=now)
        leads = _team_leads_by_unit({breach.unit_id for breach in breaches})
        deliver_at = _deliver_at_each({lead for people in leads.values() for lead in people}, now, calendar)
        alerts = [
            _breach_alert(breach, lead, now, deliver_at[lead.pk])
            for breach in breaches
            for lead in leads[breach.unit_id]
        ]
        Alert.objects.bulk_create(alerts, ignore_conflicts=True)
    return len(breaches)


def _team_leads_by_unit(unit_ids: set[int | None]) -> dict[int | None, list[User]]:
    """Each unit's active team leads (every team lead for breaches with no unit), in two queries."""
    leads: dict[int | None, list[User]] = {unit_id: [] for unit_id in unit_ids}
    led = Unit.leads.through.objects.filter(unit_id__in=unit_ids - {None}, person__user__is_active=True)
    for unit_id, user in ((row.unit_id, row.person.user) for row in led.select_related("person__user")):
        leads[unit_id].append(user)
    if None in unit_ids:
        leads[None] = list(User.objects.filter(groups__name=Role.TEAM_LEAD, is_active=True))
    return leads


def _deliver_at_each(users: set[User], now: datetime, calendar: WorkingCalendar) -> dict[int, datetime]:
    """When each user's alert appears: now in office hours or for those who asked for alerts at once,
    else at the next opening."""
    if is_office_open(now, calendar):
        return {user.pk: now for user in users}
    at_once = set(
        AlertPreference.objects.filter(user__in=users, immediate=True).values_list("user_id", flat=True)
    )
    opening = next_opening_at(now, calendar)
    return {user.pk: now if user.pk in at_once else opening for user in users}


def _breach_alert(breach: Breach, lead: User, now: datetime, deliver_at: datetime) -> Alert:
    reference = breach.interaction.reference or f"#{breach.interaction_id}"
    due = _local(breach.due_at)
    return Alert(
        recipient=lead,
        dedupe_key=f"breach:{breach.pk}:{lead.pk}",
        created_at=now,
        deliver_at=deliver_at,
        email_state=AlertEmailState.PENDING if lead.email else AlertEmailState.NONE,
        kind=AlertKind.BREACH,
        rule_id=breach.rule_id,
        interaction=breach.interaction,
        breach=breach,
        due_at=breach.due_at,
        subject=f"{breach.rule_id} nokavēts / breached: {reference}",
        body=(
            f"Lietai {reference} nokavēts {breach.rule_id} termiņš {due}.\n"
            f"{breach.rule_id} was breached for {reference}; it was due {due}.\n"
            f"{breach.interaction.subject}"
        ),
    )


def _email_due(now: datetime) -> Q:
    waiting = Q(email_state=AlertEmailState.PENDING) & (
        Q(email_next_attempt_at__isnull=True) | Q(email_next_attempt_at__lte=now)
    )
    lost = Q(email_state=AlertEmailState.SENDING, email_next_attempt_at__lte=now)  # a sender died mid-way
    return waiting | lost


def alerts_email_due(*, now: datetime) -> bool:
    return Alert.objects.filter(_email_due(now), deliver_at__lte=now).exists()


def alerts_send(*, now: datetime, limit: int = 100) -> int:
    """E-mail the alerts that are due (through Django's e-mail API). Returns how many were sent."""
    due = _email_due(now)
    ids = Alert.objects.filter(due, deliver_at__lte=now).order_by("deliver_at").values_list("pk", flat=True)
    sent = 0
    for alert_id in ids[:limit]:
        claimed = Alert.objects.filter(Q(pk=alert_id) & due).update(
            email_state=AlertEmailState.SENDING,
            email_next_attempt_at=now + EMAIL_LEASE,
            email_attempts=F("email_attempts") + 1,
        )
        if claimed:
            sent += _email_one(Alert.objects.select_related("recipient").get(pk=alert_id), now)
    return sent


def _email_one(alert: Alert, now: datetime) -> int:
    try:
        send_mail(alert.subject, alert.body, settings.DEFAULT_FROM_EMAIL, [alert.recipient.email])
    # The backend is whatever settings.EMAIL_BACKEND names, so its errors are not known here: any
    # failure is recorded on the alert and retried with backoff, never lost.
    except Exception as error:
        failed = alert.email_attempts >= EMAIL_ATTEMPTS_MAX
        backoff = min(timedelta(seconds=5 * 2**alert.email_attempts), EMAIL_RETRY_MAX)
        Alert.objects.filter(pk=alert.pk).update(
            email_state=AlertEmailState.FAILED if failed else AlertEmailState.PENDING,
            email_next_attempt_at=None if failed else now + backoff,
            email_error=str(error)[:500],
        )
        logger.warning("alert %s not e-mailed (attempt %d): %s", alert.pk, alert.email_attempts, error)
        return 0
    Alert.objects.filter(pk=alert.pk).update(
        email_state=AlertEmailState.SENT, email_sent_at=timezone.now(), email_error=""
    )
    return 1


def complaint_alerts_raise(clock: Clock) -> None:
    """COMPLAINT: the team leads hear of a complaint at once, whatever the hour (the clock that the
    complaint opened names it; one alert per lead)."""
    now = timezone.now()
    interaction = clock.interaction
    reference, due = interaction.reference or f"#{interaction.pk}", _local(clock.due_at)
    calendar = current_calendar()
    for lead in _team_leads(interaction.unit):
        _alert_create(
            recipient=lead,
            dedupe_key=f"complaint:{clock.pk}:{lead.pk}",
            now=now,
            calendar=calendar,
            at_once=True,
            kind=AlertKind.COMPLAINT,
            rule_id=clock.rule_id,
            interaction=interaction,
            clock=clock,
            due_at=clock.due_at,
            subject=f"Sūdzība / Complaint: {reference}",
            body=(
                f"Lieta {reference} atzīmēta kā sūdzība; iznākums klientam jāpaziņo līdz {due}.\n"
                f"{reference} was marked as a complaint; the client must hear the outcome by {due}.\n"
                f"{interaction.subject}"
            ),
        )


MK399_REMINDER_MONTH = 3  # the report is due by 1 April (Cabinet Regulation No. 399)


def mk399_reminders_raise(*, now: datetime) -> int:
    """In March, remind every team lead once a week that last year's MK399 report is not marked
    published yet. Run daily (beat); the key holds the ISO week, so a missed day costs nothing and a
    second run sends nothing. Returns the reminders written."""
    today = timezone.localdate(now)
    year = today.year - 1
    if today.month != MK399_REMINDER_MONTH or Mk399Publication.objects.filter(year=year).exists():
        return 0
    calendar = current_calendar()
    week = today.isocalendar().week
    leads = _team_leads(None)
    for lead in leads:
        _alert_create(
            recipient=lead,
            dedupe_key=f"mk399:{year}:w{week}:{lead.pk}",
            now=now,
            calendar=calendar,
            kind=AlertKind.REMINDER,
            rule_id="MK399",
            due_at=timezone.make_aware(datetime.combine(date(today.year, 4, 1), datetime.min.time())),
            subject=f"MK399: {year}. gada pārskats nav publicēts / The {year} report is not published",
            body=(
                f"{year}. gada MK399 pārskats jāpublicē līdz {today.year}. gada 1. aprīlim; tas vēl nav "
                f"atzīmēts kā publicēts (GET /api/reports/mk399/?year={year}).\n"
                f"The MK399 report for {year} must be published by 1 April {today.year}; it is not marked "
                f"published yet."
            ),
        )
    return len(leads)
