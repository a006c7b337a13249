"""`manage.py telephony`: the front door (Kamailio) and CC_SIP_WORKERS call handlers, kept running.

A handler that dies is started again at once (with backoff if it keeps dying); at its start it replays its
journal, so a call that was on it is recorded as dropped and nothing it saw is lost. Kamailio is started
again too; it keeps no call state (no record-route), so calls in progress do not notice.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from agents.services import agent_registration_set
from telephony.kamailio import (
    FrontDoorConfig,
    KamailioError,
    KamailioProcess,
    die_with_parent,
    registrations_read,
)
from telephony.worker import HandlerAddress

log = logging.getLogger(__name__)

BACKOFF_MAX_S = 30.0
STABLE_AFTER_S = 60.0  # a process up this long is healthy again: its next restart is immediate
REGISTRATIONS_EVERY_S = 5.0
MANAGE_PY = Path(settings.BASE_DIR) / "manage.py"


def handler_addresses() -> list[HandlerAddress]:
    host, base, rtp = settings.CC_SIP_WORKER_HOST, settings.CC_SIP_WORKER_PORT, settings.CC_SIP_RTP_PORT
    return [
        HandlerAddress(host=host, port=base + i, rtp_port=rtp + 40 * i)
        for i in range(settings.CC_SIP_WORKERS)
    ]


def front_door_config(addresses: list[HandlerAddress]) -> FrontDoorConfig:
    host, _, port = settings.CC_SIP_BIND.rpartition(":")
    return FrontDoorConfig(
        listen_host=host,
        listen_port=int(port),
        domain=settings.CC_SIP_DOMAIN,
        line_number=settings.CC_SIP_LINE_NUMBER,
        workers=tuple(address.name for address in addresses),
        run_dir=Path(settings.CC_SIP_STATE_DIR) / "kamailio",
        agent_networks=settings.CC_SIP_AGENT_NETWORKS,
        gateway_uri=settings.CC_SIP_GATEWAY,
        ring_timeout_s=max(10, settings.CC_SIP_MAX_WAIT_SECONDS + 60),
        # A handler answers 100 Trying within milliseconds; one that does not is skipped after a second
        # (the caller's wait before a handler takes them is not in the ledger's wait), and probed every
        # second, so a dead one is out of rotation quickly.
        worker_timeout_ms=1000,
        probe_interval_s=1,
    )


@dataclass
class Restarts:
    """When a supervised process may next be started: at once, or after a growing backoff."""

    started_at: float = 0.0
    backoff_s: float = 0.0
    next_start_at: float = 0.0
    count: int = 0
    waiting: bool = False  # died, and waiting for its backoff to pass

    def died(self, now: float) -> None:
        self.backoff_s = (
            0.0
            if now - self.started_at >= STABLE_AFTER_S
            else min(max(self.backoff_s * 2, 1.0), BACKOFF_MAX_S)
        )
        self.next_start_at = now + self.backoff_s
        self.count += 1
        self.waiting = True


@dataclass
class HandlerProcess:
    address: HandlerAddress
    popen: subprocess.Popen[bytes] | None = None
    restarts: Restarts = field(default_factory=Restarts)

    def start(self) -> None:
        argv = [
            sys.executable, str(MANAGE_PY), "telephony_worker",
            "--host", self.address.host, "--port", str(self.address.port),
            "--rtp-port", str(self.address.rtp_port),
        ]  # fmt: skip
        self.popen = subprocess.Popen(  # noqa: S603 -- our own command
            argv,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),  # noqa: PLW1509 -- only prctl, no locks
        )
        self.restarts.started_at = time.monotonic()
        log.info("call handler %s started (pid %d)", self.address.name, self.popen.pid)

    def check(self, now: float) -> None:
        """Start the handler again if it died (and its backoff has passed)."""
        if self.popen is not None:
            code = self.popen.poll()
            if code is None:
                return
            log.error("call handler %s exited with %s; starting it again", self.address.name, code)
            self.popen = None
            self.restarts.died(now)
        if now >= self.restarts.next_start_at:
            self.start()

    def stop(self, timeout: float) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            log.error("call handler %s did not stop in %.0f s; killed", self.address.name, timeout)
            self.popen.kill()
            self.popen.wait()


class FrontDoor:
    """The managed Kamailio, started again if it dies."""

    def __init__(self, config: FrontDoorConfig) -> None:
        self.config = config
        config.run_dir.mkdir(parents=True, exist_ok=True)
        self.process = KamailioProcess(config, log_path=config.run_dir / "kamailio.log")
        self.restarts = Restarts()

    def check(self, now: float) -> None:
        if self.process.running:
            return
        if self.restarts.started_at and not self.restarts.waiting:
            log.error("Kamailio stopped; starting it again (see %s)", self.config.run_dir / "kamailio.log")
            self.restarts.died(now)
        if now < self.restarts.next_start_at:
            return
        self.restarts.waiting = False
        self.restarts.started_at = time.monotonic()
        try:
            self.process.start()
        except KamailioError:
            log.exception("Kamailio did not start")

    def registrations_mirror(self) -> None:
        """Copy the registrar's view (which agent phone is where) onto the agents' status rows."""
        if not self.process.running:
            return
        try:
            registrations = registrations_read(self.config.ctl_socket)
        except KamailioError as error:
            log.warning("registrations not read: %s", error)
            return
        contacts = {r.aor_user: (r.contact_uri, r.expires_at) for r in registrations}
        agent_registration_set(extension_contacts=contacts, at=datetime.now(UTC))


def telephony_run(stop: threading.Event) -> None:
    addresses = handler_addresses()
    front_door = FrontDoor(front_door_config(addresses)) if settings.CC_SIP_KAMAILIO == "managed" else None
    handlers = [HandlerProcess(address) for address in addresses]
    mirrored_at = 0.0
    try:
        while not stop.is_set():
            now = time.monotonic()
            if front_door is not None:
                front_door.check(now)
                if now - mirrored_at >= REGISTRATIONS_EVERY_S:
                    front_door.registrations_mirror()
                    mirrored_at = now
            for handler in handlers:
                handler.check(now)
            stop.wait(0.2)
    finally:
        for handler in handlers:
            if handler.popen is not None and handler.popen.poll() is None:
                handler.popen.terminate()
        for handler in handlers:
            handler.stop(timeout=settings.CC_SIP_DRAIN_SECONDS + 15)
        if front_door is not None:
            front_door.process.stop()
