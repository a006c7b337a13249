"""sla listens to the ledger: each committed change is applied to the clocks at once."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from contact_centre.signals import ledger_changed
from sla.sync import clock_sync

logger = logging.getLogger(__name__)


@receiver(ledger_changed, dispatch_uid="sla.clock_sync")
def clocks_follow_ledger(sender: Any, seq: int, **kwargs: Any) -> None:
    # The write is already committed; failing here must not fail the adapter that wrote it.
    # The beat sweep calls clock_sync too, so a failure only delays the clock.
    try:
        clock_sync()
    except Exception:
        logger.exception("clock_sync after ledger seq %s failed; the sweep will retry", seq)
