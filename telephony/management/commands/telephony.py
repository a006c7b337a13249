"""`manage.py telephony`: the whole line on this machine (front door plus call handlers)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from telephony.supervisor import telephony_run

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Start and supervise the phone line: Kamailio on CC_SIP_BIND (unless CC_SIP_KAMAILIO=external) "
        "and CC_SIP_WORKERS call handlers from CC_SIP_WORKER_PORT up. Handlers that die are restarted; "
        "SIGTERM stops everything after calls in progress end (at most CC_SIP_DRAIN_SECONDS)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        telephony_run(stop)
        logger.info("telephony stopped")
