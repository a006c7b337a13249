"""Celery interface to the SLA services."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from sla.sync import clock_breach_overdue


@shared_task(name="sla.sweep", acks_late=True, time_limit=120, soft_time_limit=100, ignore_result=True)
def sla_sweep() -> int:
    """Apply the ledger and breach every overdue clock (the single beat entry; idempotent)."""
    return len(clock_breach_overdue(now=timezone.now()))
