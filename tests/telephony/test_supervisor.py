"""`manage.py telephony`: it starts Kamailio and the call handlers, restarts what dies, mirrors the
registrar onto the agents' status, and stops everything on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from agents.models import AgentState, AgentStatus
from telephony.models import LineWorker
from tests.factories import PersonFactory, UserFactory
from tests.peers import database_url
from tests.sipkit import DOMAIN, free_udp_port, free_udp_ports, sip_options, sip_register, udp_port_bound
from tests.telephony.conftest import ROOT, wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _answers_options(port: int) -> bool:
    try:
        return sip_options("127.0.0.1", port, timeout=0.5) == 200
    except TimeoutError:
        return False


def _child_pid(parent: int, command: str) -> int:
    """The pid of `parent`'s child whose command line starts with `command`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv0 = (entry / "cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == parent and argv0.endswith(command):
            return int(entry.name)
    raise AssertionError(f"no {command} under pid {parent}")


def test_the_supervisor_keeps_the_line_up_and_mirrors_registrations(tmp_path: Path) -> None:
    door_port, handler_port, rtp_port = free_udp_port(), free_udp_ports(1), free_udp_ports(40)
    person = PersonFactory(user=UserFactory(username="agent301", roles=["phone_agent"]), extension="301")
    AgentStatus.objects.create(person=person, state=AgentState.AVAILABLE, state_since=timezone.now())
    env = {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": database_url(),
        "CC_SIP_BIND": f"127.0.0.1:{door_port}",
        "CC_SIP_DOMAIN": DOMAIN,
        "CC_SIP_WORKERS": "1",
        "CC_SIP_WORKER_PORT": str(handler_port),
        "CC_SIP_RTP_PORT": str(rtp_port),
        "CC_SIP_STATE_DIR": str(tmp_path / "state"),
        "CC_RECORDINGS_DIR": str(tmp_path / "recordings"),
        "CC_SIP_DRAIN_SECONDS": "1",
    }
    log = (tmp_path / "telephony.log").open("wb")
    supervisor = subprocess.Popen(
        [sys.executable, "manage.py", "telephony"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for(lambda: udp_port_bound(handler_port), what="the call handler")
        assert sip_options("127.0.0.1", door_port) == 200

        assert sip_register("127.0.0.1", door_port, "301", "127.0.0.1", 5999, domain=DOMAIN) == 200
        wait_for(
            lambda: AgentStatus.objects.get(person=person).registered_contact != "", what="the registration"
        )
        status = AgentStatus.objects.get(person=person)
        assert "127.0.0.1:5999" in status.registered_contact
        assert status.registered_until is not None
        assert status.registered_until > timezone.now()

        wait_for(LineWorker.objects.exists, what="the handler's heartbeat")
        first_pid = LineWorker.objects.get().pid
        os.kill(first_pid, signal.SIGKILL)
        wait_for(
            lambda: LineWorker.objects.filter(pid__gt=0).exclude(pid=first_pid).exists(),
            timeout=30,
            what="the handler started again",
        )

        os.killpg(_child_pid(supervisor.pid, "kamailio"), signal.SIGKILL)  # a crash, children and all
        wait_for(lambda: _answers_options(door_port), what="Kamailio again")
    finally:
        supervisor.send_signal(signal.SIGTERM)
        code = supervisor.wait(timeout=60)
        log.close()
    output = (tmp_path / "telephony.log").read_text(errors="replace")
    assert code == 0, output[-3000:]
    assert not udp_port_bound(handler_port)
    assert not udp_port_bound(door_port)
