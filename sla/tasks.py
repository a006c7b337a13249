"""Celery interface to the SLA services."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from sla.alerts import (
    alerts_email_due,
    alerts_send,
    breach_alerts_raise,
    mk399_reminders_raise,
    warnings_raise,
)
from sla.counts import counts_compile_recent
from sla.services import clock_warnings_replan
from sla.sync import clock_breach_overdue, clock_sync


@shared_task(name="sla.sweep", acks_late=True, time_limit=120, soft_time_limit=100, ignore_result=True)
def sla_sweep() -> int:
    """The single beat entry: apply the ledger, breach every overdue clock, raise warnings and breach
    alerts, and hand the e-mails that are due to `sla.alerts_send` (idempotent throughout)."""
    now = timezone.now()
    breaches = len(clock_breach_overdue(now=now))
    clock_warnings_replan(now=now)
    warnings_raise(now=now)
    breach_alerts_raise(now=now)
    if alerts_email_due(now=now):
        sla_alerts_send.delay()
    return breaches


@shared_task(name="sla.alerts_send", acks_late=True, time_limit=300, soft_time_limit=270, ignore_result=True)
def sla_alerts_send() -> int:
    """E-mail the alerts that are due; SMTP stays out of the sweep, so a slow server delays no breach."""
    return alerts_send(now=timezone.now())


@shared_task(name="sla.sync", acks_late=True, time_limit=120, soft_time_limit=100, ignore_result=True)
def sla_sync() -> int:
    """Apply new ledger events to the clocks (queued by processes that write the ledger in bulk)."""
    return clock_sync()


@shared_task(
    name="sla.counts_compile", acks_late=True, time_limit=600, soft_time_limit=540, ignore_result=True
)
def sla_counts_compile() -> int:
    """Nightly: compile the delay counts of the last week's days (late facts land in earlier days)."""
    return counts_compile_recent(today=timezone.localdate())


@shared_task(name="sla.mk399_remind", acks_late=True, ignore_result=True)
def sla_mk399_remind() -> int:
    """Daily in March: remind team leads of last year's unpublished MK399 report (once a week)."""
    written = mk399_reminders_raise(now=timezone.now())
    if written:
        sla_alerts_send.delay()
    return written
