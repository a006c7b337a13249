"""Celery interface to the outbox: send one message, and the sweep that retries what is due."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from mail.outbox import outbound_send, outbox_sweep


@shared_task(
    name="mail.outbound_send",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=120,
    soft_time_limit=100,
    ignore_result=True,
)
def outbound_send_task(outbound_id: int) -> str | None:
    """Send one queued message (idempotent: a sent or claimed row is left alone)."""
    return outbound_send(outbound_id)


@shared_task(
    name="mail.outbox_sweep", acks_late=True, time_limit=120, soft_time_limit=100, ignore_result=True
)
def outbox_sweep_task() -> int:
    """Dispatch due and retried messages, and file sent ones in the Sent folder (beat, every 15 s)."""
    return outbox_sweep(now=timezone.now())


@shared_task(
    name="mail.outbound_send_many",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=600,
    soft_time_limit=580,
    ignore_result=True,
)
def outbound_send_many_task(outbound_ids: list[int]) -> int:
    """Send a batch's messages one after another; returns how many were sent now. Each is claimed on
    its own, so a redelivered task, or the sweep, never sends one twice."""
    return sum(outbound_send(outbound_id) == "sent" for outbound_id in outbound_ids)
