"""Celery interface to recordings: the nightly retention run."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from recordings.governance import PURGE_BATCH, recordings_purge


@shared_task(
    name="recordings.purge", acks_late=True, time_limit=1800, soft_time_limit=1700, ignore_result=True
)
def recordings_purge_task() -> int:
    """Delete the audio of recordings past their retention period, a batch at a time until none is left."""
    total = 0
    while (purged := recordings_purge(now=timezone.now())) == PURGE_BATCH:
        total += purged
    return total + purged
