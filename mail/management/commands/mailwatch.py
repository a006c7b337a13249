"""`manage.py mailwatch`: watch the shared mailbox (INBOX and Sent) and record every message (EM-CHECK)."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from mail.config import imap_settings
from mail.watcher import mailwatch_run
from sla.receivers import clocks_follow_ledger_in_background

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Watch the mailbox named by CC_IMAP_* with IMAP IDLE plus a catch-up scan, record each message "
        "in the ledger, and queue acknowledgements. Stops cleanly on SIGTERM."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since",
            type=date.fromisoformat,
            help="read (again) all mail received since this day, YYYY-MM-DD (default: a new mailbox is "
            "read from the day the watcher first sees it); messages already stored are skipped",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        config = imap_settings()
        if not config.user:
            # Not an error that should take the other processes down (scripts/start runs them together).
            logger.error("mailwatch: CC_IMAP_USER is not set; no mailbox to watch. Set CC_IMAP_* (README).")
            stop.wait()
            return
        clocks_follow_ledger_in_background()  # the worker opens the clocks; this process keeps reading
        mailwatch_run(stop=stop, redis_url=settings.REDIS_URL, config=config, since=options["since"])
        logger.info("mailwatch stopped")
