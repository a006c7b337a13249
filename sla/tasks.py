"""Celery interface to the SLA services."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from sla.counts import counts_compile_recent
from sla.sync import clock_breach_overdue, clock_sync


@shared_task(name="sla.sweep", acks_late=True, time_limit=120, soft_time_limit=100, ignore_result=True)
def sla_sweep() -> int:
    """Apply the ledger and breach every overdue clock (the single beat entry; idempotent)."""
    return len(clock_breach_overdue(now=timezone.now()))


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
