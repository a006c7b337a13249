"""`manage.py telephony_worker`: one call handler of the line (also runnable alone, on another machine)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from telephony.worker import HandlerAddress, handler_run

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run one call handler: a pjsua2 user agent that takes callers from the front door (Kamailio), "
        "rings agents, bridges and records calls. SIGTERM: new calls are refused (503, so the front door "
        "uses another handler), calls in progress get CC_SIP_DRAIN_SECONDS to finish."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.CC_SIP_WORKER_HOST, help="address to bind SIP and RTP")
        parser.add_argument("--port", type=int, default=settings.CC_SIP_WORKER_PORT, help="SIP UDP port")
        parser.add_argument(
            "--rtp-port", type=int, help="first RTP port (default: CC_SIP_RTP_PORT + 40 per handler)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        port: int = options["port"]
        if not 1 <= port <= 65535:  # noqa: PLR2004 -- the UDP port range
            raise CommandError(f"--port must be a UDP port, got {port}")
        rtp_port = options["rtp_port"] or settings.CC_SIP_RTP_PORT + 40 * (port - settings.CC_SIP_WORKER_PORT)
        address = HandlerAddress(host=options["host"], port=port, rtp_port=rtp_port)
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        # Clocks follow the ledger in this process (on the ledger thread, after each commit): a few
        # milliseconds per call, and the line's clocks do not depend on Redis being up.
        logger.info("call handler %s starting (RTP from %d)", address.name, rtp_port)
        handler_run(address, stop)
        logger.info("call handler %s stopped", address.name)
