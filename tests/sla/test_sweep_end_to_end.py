"""Breaches and alerts end to end: the product's real Celery worker and beat processes (`celery -A config
worker|beat`, as the Procfile starts them), the real Redis broker, PostgreSQL and an SMTP server.

Only the wall clock of the Celery processes is faked (tests/celery_at.py), so a Friday evening's deadline
can be met whatever day the suite runs.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agents.models import Person, Role
from contact_centre.models import EventKind, Interaction
from contact_centre.services import interaction_record_email
from sla.models import Alert, AlertEmailState, AlertKind, AlertPreference, Breach
from tests.factories import PersonFactory, riga
from tests.mailpeers import SmtpCapture
from tests.peers import ManagedProcess, RedisServer, database_url

pytestmark = [pytest.mark.peers, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROOT = Path(__file__).resolve().parents[2]


class CeleryProcesses:
    """Worker and beat processes started at a chosen (faked) wall-clock time; stopped at the end."""

    def __init__(self, work_dir: Path, redis: RedisServer, smtp: SmtpCapture) -> None:
        self.work_dir, self.redis, self.smtp = work_dir, redis, smtp
        self.running: list[ManagedProcess] = []

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_DEBUG": "true",
            "DATABASE_URL": database_url(),
            "REDIS_URL": self.redis.url,
            "CC_SMTP_HOST": self.smtp.host,
            "CC_SMTP_PORT": str(self.smtp.port),
            "CC_SMTP_TLS": "none",
            "CC_SMTP_USER": "",
            "CC_SMTP_PASSWORD": "",
        }

    def start(self, at: datetime, *, workers: int = 1, beats: int = 1) -> None:
        """The product's worker(s) and beat(s), as if the time were `at` now (ticking on from there)."""
        epoch = time.time()
        for n in range(workers):
            args = ["worker", "--pool=solo", f"--hostname=w{n}@%h", "--without-mingle", "--without-gossip"]
            self._start(at, epoch, f"worker-{n}", args, "ready.")
        for n in range(beats):
            self._start(
                at, epoch, f"beat-{n}", ["beat", f"--pidfile={self.work_dir}/beat-{n}.pid"], "Starting"
            )

    def _start(self, at: datetime, epoch: float, name: str, args: list[str], ready_line: str) -> None:
        log_path = self.work_dir / f"{name}-{len(self.running)}.log"
        timeline = [at.isoformat(), str(epoch), "--"]
        process = ManagedProcess(
            name=f"celery {name}",
            argv=[sys.executable, "-m", "tests.celery_at", *timeline, *args, "--loglevel=INFO"],
            log_path=log_path,
            ready=lambda: log_path.exists() and ready_line in log_path.read_text(errors="replace"),
            cwd=ROOT,
            env=self.env(),
            ready_timeout=60,
        )
        process.start()
        self.running.append(process)

    def stop(self) -> None:
        for process in reversed(self.running):
            process.stop()
        self.running.clear()

    def logs(self) -> str:
        return "\n".join(path.read_text(errors="replace")[-3000:] for path in self.work_dir.glob("*.log"))


@pytest.fixture
def celery_processes(
    tmp_path: Path, redis_server: RedisServer, smtp_server: SmtpCapture
) -> Iterator[CeleryProcesses]:
    processes = CeleryProcesses(tmp_path, redis_server, smtp_server)
    try:
        yield processes
    finally:
        processes.stop()
        if not redis_server.process.running:
            redis_server.start()


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, logs: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:.0f} s: {what}\n{logs()}")
        time.sleep(0.05)


def _lead(username: str = "lead") -> Person:
    return PersonFactory(
        user__username=username, user__roles=[Role.TEAM_LEAD], user__email=f"{username}@example.org"
    )


def _emails(count: int, received_at: datetime, owner: Person | None = None) -> list[Interaction]:
    interactions = []
    for n in range(count):
        interaction = interaction_record_email(
            message_id=f"<e2e-{n}@client.lv>", received_at=received_at, sender=f"k{n}@example.lv", subject="?"
        )
        interactions.append(interaction)
    if owner is not None:
        Interaction.objects.filter(pk__in=[i.pk for i in interactions]).update(owner=owner)
    return interactions


def test_a_friday_evening_breach_is_alerted_once_and_mailed_to_the_team_lead_monday_at_opening(
    celery_processes: CeleryProcesses, smtp_server: SmtpCapture
) -> None:
    lead = _lead()
    owner = PersonFactory(
        user__username="handler", user__roles=[Role.EMAIL_HANDLER], user__email="handler@example.org"
    )
    # Thursday 10:00: EM-ACK falls due Friday 16:00 (Fridays close early), EM-REPLY Monday 17:15.
    [matter] = _emails(1, riga(2026, 11, 26, 10), owner=owner)

    celery_processes.start(riga(2026, 11, 27, 15, 59, 52))
    wait_until(
        lambda: Breach.objects.filter(interaction=matter).exists(),
        timeout=30,
        what="the EM-ACK breach",
        logs=celery_processes.logs,
    )
    # The owner was warned while the office was open: EM-ACK at 80 % (the sweep starting late sends the
    # highest point passed, once), EM-REPLY at 50 %.
    warnings = smtp_server.wait_for(2)
    time.sleep(3)  # three more sweeps: nothing twice
    celery_processes.stop()

    breach = Breach.objects.get(interaction=matter)
    assert (breach.rule_id, breach.breached_at) == ("EM-ACK", riga(2026, 11, 27, 16))
    assert breach.raised_at is not None
    assert breach.raised_at - breach.due_at < timedelta(seconds=2)
    assert matter.events.filter(kind=EventKind.SLA_BREACHED).count() == 1
    assert sorted(str(message["Subject"]).split()[0] for message in warnings) == ["EM-ACK", "EM-REPLY"]
    assert sorted(Alert.objects.filter(kind=AlertKind.WARNING).values_list("rule_id", "percent")) == [
        ("EM-ACK", 80),
        ("EM-REPLY", 50),
    ]
    alert = Alert.objects.get(kind=AlertKind.BREACH)
    assert (alert.recipient_id, alert.deliver_at) == (lead.user_id, riga(2026, 11, 30, 8, 30))
    assert alert.email_state == AlertEmailState.PENDING  # held over the weekend
    assert len(smtp_server.messages) == 2

    celery_processes.start(riga(2026, 11, 30, 8, 29, 55))
    [*_, monday] = smtp_server.wait_for(3, timeout=30)
    time.sleep(2)
    celery_processes.stop()

    assert monday["To"] == "lead@example.org"
    assert "EM-ACK" in str(monday["Subject"])
    alert.refresh_from_db()
    assert alert.email_state == AlertEmailState.SENT
    assert alert.email_sent_at is not None
    assert alert.email_sent_at >= riga(2026, 11, 30, 8, 30)
    assert len(smtp_server.messages) == 3


def test_two_beats_and_two_workers_with_redis_killed_mid_sweep_lose_no_alert_and_double_none(
    celery_processes: CeleryProcesses, smtp_server: SmtpCapture, redis_server: RedisServer
) -> None:
    lead = _lead()
    AlertPreference.objects.create(user=lead.user, immediate=True)  # alerts at once, after hours too
    # Wednesday 10:00: EM-ACK of every one falls due Thursday 17:15, in one burst.
    matters = _emails(300, riga(2026, 11, 25, 10))

    # Two beat processes started by mistake, two workers: sweeps overlap.
    celery_processes.start(riga(2026, 11, 26, 17, 14, 55), workers=2, beats=2)
    wait_until(Breach.objects.exists, timeout=30, what="the first breach", logs=celery_processes.logs)
    redis_server.stop(kill=True)  # mid-sweep: the broker and every queued task are gone
    time.sleep(2)
    redis_server.start()
    wait_until(
        lambda: len(smtp_server.messages) >= len(matters),
        timeout=90,
        what=f"{len(matters)} alert e-mails",
        logs=celery_processes.logs,
    )
    time.sleep(3)  # more sweeps and sends: nothing twice
    celery_processes.stop()

    assert Breach.objects.filter(rule_id="EM-ACK").count() == len(matters)
    assert Alert.objects.filter(kind=AlertKind.BREACH).count() == len(matters)
    assert set(Alert.objects.values_list("email_state", flat=True)) == {AlertEmailState.SENT}
    subjects = [str(message["Subject"]) for message in smtp_server.messages]
    assert len(subjects) == len(set(subjects)) == len(matters)  # each matter's breach mailed once
    assert {message["To"] for message in smtp_server.messages} == {"lead@example.org"}
    breached_events = EventKind.SLA_BREACHED
    assert Interaction.objects.filter(events__kind=breached_events).count() == len(matters)
