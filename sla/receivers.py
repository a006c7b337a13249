"""sla listens to the ledger: each committed change is applied to the clocks at once."""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import current_app
from django.dispatch import receiver

from contact_centre.signals import ledger_changed
from sla.sync import clock_sync

logger = logging.getLogger(__name__)

SYNC_TASK = "sla.sync"


_in_background = threading.Event()


def clocks_follow_ledger_in_background() -> None:
    """For a process that writes the ledger in bulk (the mail watcher reading a backlog): after each
    commit, a worker applies the new events (task `sla.sync`) instead of this process, which goes on
    reading. Due times come from the events' own times, so applying them later moves no deadline."""
    _in_background.set()


def clocks_follow_ledger_here() -> None:
    """Back to applying events in this process, right after each commit (the default)."""
    _in_background.clear()


@receiver(ledger_changed, dispatch_uid="sla.clock_sync")
def clocks_follow_ledger(sender: Any, seq: int, **kwargs: Any) -> None:
    # The write is already committed; failing here must not fail the adapter that wrote it.
    # The beat sweep calls clock_sync too, so a failure only delays the clock.
    try:
        if _in_background.is_set():
            current_app.send_task(SYNC_TASK, ignore_result=True, retry=False)
        else:
            clock_sync()
    except Exception:
        logger.exception("clock_sync after ledger seq %s failed; the sweep will retry", seq)
