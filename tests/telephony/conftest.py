"""The line under test: Kamailio as the front door, real call-handler processes, SIPp phones and callers.

The handlers run as subprocesses on the test database (they must see the rows the test made, so the
tests are transactional) with the wall clock set by time-machine (tests/telephony/handler_at.py), which
is how a test says "Monday 10:00" or "Sunday". Everything else is real: SIP over loopback UDP, RTP,
pjsua2's conference bridge and recorder.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from agents.models import AgentState, AgentStatus, Person
from tests.factories import PersonFactory, UserFactory
from tests.peers import ManagedProcess, database_url
from tests.sipkit import (
    DOMAIN,
    LINE_NUMBER,
    KamailioPeer,
    SippAgent,
    free_udp_ports,
    poll_until,
    sip_register,
    udp_port_bound,
)

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = 2
RTP_PORTS_PER_HANDLER = 40


@dataclass
class FrontDoor:
    kamailio: KamailioPeer
    handler_port: int
    rtp_port: int

    def handler_name(self, index: int) -> str:
        return f"127.0.0.1:{self.handler_port + index}"


@pytest.fixture(scope="module")
def front_door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrontDoor]:
    """Kamailio dispatching to two call-handler ports (the handlers come and go per test).

    Its log is kept in the module's temporary directory (the peer deletes its own run directory)."""
    handler_port = free_udp_ports(HANDLERS)
    rtp_port = free_udp_ports(HANDLERS * RTP_PORTS_PER_HANDLER)
    workers = [f"127.0.0.1:{handler_port + i}" for i in range(HANDLERS)]
    kamailio = KamailioPeer(workers, domain=DOMAIN, line_number=LINE_NUMBER).start()
    try:
        yield FrontDoor(kamailio, handler_port, rtp_port)
    finally:
        (tmp_path_factory.mktemp("kamailio") / "kamailio.log").write_text(kamailio.log())
        kamailio.stop()


@dataclass
class Line:
    """Call handlers started for one test, at a wall-clock time the test chooses."""

    front_door: FrontDoor
    work_dir: Path
    handlers: dict[int, ManagedProcess] = field(default_factory=dict)

    @property
    def recordings_dir(self) -> Path:
        return self.work_dir / "recordings"

    def env(self, **overrides: object) -> dict[str, str]:
        env = {
            **os.environ,
            "DJANGO_DEBUG": "true",
            "DATABASE_URL": database_url(),
            "CC_SIP_BIND": self.front_door.kamailio.address,
            "CC_SIP_DOMAIN": DOMAIN,
            "CC_SIP_LINE_NUMBER": LINE_NUMBER,
            "CC_SIP_WORKER_PORT": str(self.front_door.handler_port),
            "CC_SIP_RTP_PORT": str(self.front_door.rtp_port),
            "CC_RECORDINGS_DIR": str(self.recordings_dir),
            "CC_SIP_STATE_DIR": str(self.work_dir / "state"),
            "CC_SIP_WRAP_UP_SECONDS": "0",
            "CC_SIP_DRAIN_SECONDS": "3",
            "CC_LOG_LEVEL": "INFO",
        }
        env.update({name: str(value) for name, value in overrides.items()})
        return env

    def start(self, at: datetime, *, index: int = 0, **settings_env: object) -> ManagedProcess:
        """Start handler `index` as if the time were `at` (it ticks on from there)."""
        port = self.front_door.handler_port + index
        rtp_port = self.front_door.rtp_port + RTP_PORTS_PER_HANDLER * index
        argv = [sys.executable, "-m", "tests.telephony.handler_at", at.isoformat(), "--"]
        argv += ["--port", str(port), "--rtp-port", str(rtp_port)]
        handler = ManagedProcess(
            name=f"call handler {port}",
            argv=argv,
            log_path=self.work_dir / f"handler-{port}.log",
            ready=lambda: udp_port_bound(port),
            cwd=ROOT,
            env=self.env(**settings_env),
            ready_timeout=30,
        )
        handler.start()
        self.handlers[index] = handler
        kamailio = self.front_door.kamailio
        for other in range(HANDLERS):
            # Until its probe fails, Kamailio may offer a caller to a handler that is not running and wait
            # a second for it: time the caller waits before reaching any handler, unseen by the ledger.
            name = self.front_door.handler_name(other)
            state = "active" if other in self.handlers else "inactive"
            if not kamailio.wait_worker_state(name, state, timeout=15):
                pytest.fail(f"Kamailio does not see {name} {state}: {kamailio.dispatcher_state()}")
        return handler

    def kill(self, index: int = 0) -> None:
        self.handlers[index].stop(sig=signal.SIGKILL)

    def stop(self) -> None:
        for handler in self.handlers.values():
            handler.stop(timeout=20)

    def log(self, index: int = 0) -> str:
        return self.handlers[index].log_tail(80)


@pytest.fixture
def line(front_door: FrontDoor, tmp_path: Path) -> Iterator[Line]:
    started = Line(front_door, tmp_path)
    try:
        yield started
    finally:
        started.stop()


@dataclass
class Phone:
    """An agent (a person with an extension, available) and their SIPp phone, registered at the door."""

    person: Person
    sipp: SippAgent


@pytest.fixture
def phones(front_door: FrontDoor, tmp_path: Path) -> Iterator[list[Phone]]:
    """Call `add_phone(phones, front_door, tmp_path, extension, ...)` to add one; all stop at the end."""
    started: list[Phone] = []
    try:
        yield started
    finally:
        for phone in started:
            phone.sipp.stop()
            sip_register(
                front_door.kamailio.host, front_door.kamailio.port, phone.person.extension,
                "127.0.0.1", phone.sipp.port, expires=0, domain=DOMAIN,
            )  # fmt: skip


def add_phone(
    phones: list[Phone],
    front_door: FrontDoor,
    work_dir: Path,
    extension: str,
    *,
    scenario: str = "agent.xml",
    ring_ms: int | tuple[int, int] = 1000,
    state: str = AgentState.AVAILABLE,
    register_as: str | None = None,
) -> Phone:
    """A phone agent with `extension` whose phone rings `ring_ms` then answers (or the scenario's way)."""
    user = UserFactory(username=f"agent{extension}", roles=["phone_agent"])
    person = PersonFactory(user=user, extension=extension)
    AgentStatus.objects.create(person=person, state=state, state_since=timezone.now())
    sipp = SippAgent(work_dir, scenario=scenario, ring_ms=ring_ms, name=f"phone-{extension}").start()
    status = sip_register(
        front_door.kamailio.host, front_door.kamailio.port, register_as or extension,
        "127.0.0.1", sipp.port, domain=DOMAIN,
    )  # fmt: skip
    assert status == 200, f"REGISTER {extension} answered {status}"
    phone = Phone(person, sipp)
    phones.append(phone)
    return phone


def wait_for(condition: Callable[[], object], *, timeout: float = 20.0, what: str) -> None:
    if not poll_until(lambda: bool(condition()), timeout, interval=0.1):
        pytest.fail(f"timed out waiting for {what}")
