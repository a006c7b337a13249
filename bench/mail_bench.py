"""Benchmark of the e-mail channel end to end, on real peers (issue 3).

Run from the project root: `.venv/bin/python -m bench.mail_bench [--latency N] [--backlog N]`.
It starts a throw-away PostgreSQL and Redis (tests/peers.py), Dovecot with IMAP and LMTP and an SMTP
capture server (tests/mailpeers.py), then runs the product's own processes as subprocesses:
`manage.py mailwatch` and a Celery worker (`celery -A config worker --pool=solo`).

(a) Latency: N messages (default 500) delivered over LMTP, one every 50 ms. For each, the time from the
    LMTP delivery to its ledger row (Event.recorded_at) and to its acknowledgement reaching the SMTP
    server. Targets: p95 ≤ 1 s to the ledger, ≤ 2 s to the acknowledgement. Dovecot itself holds an
    IDLE push back by 0.5 s; Zammad, for comparison, polls IMAP every 30 s.
(b) Backlog: N messages (default 10,000) already in INBOX when the watcher starts (the worker is
    stopped, so the figure is the watcher's own: ledger rows and acknowledgements queued).
    Target: ≥ 400 messages/s. The watcher's peak memory (VmHWM) is printed for both.
"""

from __future__ import annotations

import argparse
import os
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BODY = "Labdien! Lūdzu, atsūtiet konta izrakstu par oktobri. Paldies.\n" * 20  # about 1.3 kB, like real mail


def message(i: int, run: str) -> bytes:
    mail = EmailMessage(policy=SMTP)
    mail["From"] = f"Klients {i} <klients{i}.{run}@example.org>"
    mail["To"] = "ekase@example.test"
    mail["Subject"] = f"Jautājums par kontu Nr. {i}"
    mail["Date"] = format_datetime(datetime.now().astimezone())
    mail["Message-ID"] = f"<bench-{run}-{i}@example.org>"
    mail.set_content(BODY)
    return mail.as_bytes()


class Peers:
    """Every server the benchmark needs, started on free loopback ports, stopped at the end."""

    def __init__(self) -> None:
        from tests.mailpeers import DovecotServer, SmtpCapture
        from tests.peers import RedisServer, postgres_start

        self.postgres = postgres_start()
        self.redis = RedisServer(Path(tempfile.mkdtemp(prefix="cc-sla-bench-redis-")))
        self.redis.start()
        self.dovecot = DovecotServer(Path(tempfile.mkdtemp(prefix="cc-sla-dovecot-")))
        self.dovecot.start()
        self.smtp = SmtpCapture()
        self.smtp.start()
        self.arrivals: dict[str, float] = {}  # acknowledged client Message-ID -> when the ack arrived
        self._seen = 0
        self.mailbox = self.dovecot.user_add("ekase")

    def env(self) -> dict[str, str]:
        return os.environ | {
            "DATABASE_URL": self.postgres.url,
            "REDIS_URL": self.redis.url,
            "DJANGO_DEBUG": "false",  # as in production: DEBUG logs and keeps every query
            "DJANGO_SECRET_KEY": "bench-only-secret-key-not-used-anywhere-else",
            "CC_LOG_LEVEL": os.environ.get("CC_LOG_LEVEL", "WARNING"),
            "CC_IMAP_HOST": self.dovecot.host,
            "CC_IMAP_PORT": str(self.dovecot.imap_port),
            "CC_IMAP_USER": self.mailbox,
            "CC_IMAP_PASSWORD": self.dovecot.password,
            "CC_MAIL_FROM": self.mailbox,
            "CC_SMTP_HOST": self.smtp.host,
            "CC_SMTP_PORT": str(self.smtp.port),
        }

    def collect_arrivals(self) -> None:
        """Note when each acknowledgement reached the SMTP server (polled every 5 ms)."""
        envelopes = self.smtp.envelopes
        now = time.monotonic()
        for captured in envelopes[self._seen :]:
            self.arrivals[str(captured.message["In-Reply-To"]).strip("<>")] = now
        self._seen = len(envelopes)

    def stop(self) -> None:
        self.smtp.stop()
        self.dovecot.stop()
        self.redis.stop()
        self.postgres.stop()


def start_process(argv: list[str], env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    log = Path(tempfile.gettempdir()) / f"cc-sla-bench-{name}.log"
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


def peak_rss_mib(process: subprocess.Popen[bytes]) -> float:
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"benchmark failed: {what} not reached within {timeout:.0f} s")
        time.sleep(0.005)


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def setup_django(peers: Peers) -> None:
    os.environ.update(peers.env())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    import psycopg

    with psycopg.connect(peers.postgres.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute("CREATE DATABASE cc_sla")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def count_rows() -> tuple[int, int]:
    from mail.models import OutboundMail, StoredMessage

    return StoredMessage.objects.count(), OutboundMail.objects.count()


def deliver_paced(peers: Peers, count: int) -> tuple[dict[str, float], dict[str, float]]:
    """Deliver `count` messages, one every 50 ms; when each left (monotonic and wall clock)."""
    delivered: dict[str, float] = {}
    delivered_wall: dict[str, float] = {}
    lmtp = smtplib.LMTP(peers.dovecot.host, peers.dovecot.lmtp_port)
    for i in range(count):
        message_id = f"bench-a-{i}@example.org"
        raw = message(i, "a")
        delivered_wall[message_id] = time.time()
        delivered[message_id] = time.monotonic()
        lmtp.sendmail("klients@example.org", [peers.mailbox], raw)
        peers.collect_arrivals()
        time.sleep(0.05)
    lmtp.quit()
    return delivered, delivered_wall


def latency_run(peers: Peers, count: int) -> None:
    from contact_centre.models import Event

    env = peers.env()
    worker_argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "--loglevel=WARNING",
    ]
    worker = start_process(worker_argv, env, "worker")
    watcher = start_process([sys.executable, "manage.py", "mailwatch"], env, "mailwatch-a")
    try:
        time.sleep(4)  # both processes up and the watcher idling
        delivered, delivered_wall = deliver_paced(peers, count)
        all_acknowledged = lambda: (peers.collect_arrivals(), len(peers.arrivals) >= count)[1]  # noqa: E731
        wait_for(all_acknowledged, 120, "every acknowledgement")
        watcher_mib = peak_rss_mib(watcher)
    finally:
        stop_process(watcher)
        stop_process(worker)

    keys = Event.objects.filter(source_key__startswith="email:bench-a-").values_list(
        "source_key", "recorded_at"
    )
    recorded = dict(keys)
    to_ledger = [recorded[f"email:{mid}"].timestamp() - delivered_wall[mid] for mid in delivered]
    to_ack = [peers.arrivals[mid] - delivered[mid] for mid in delivered]
    print(f"(a) latency over {count} messages delivered by LMTP, one every 50 ms")
    print(f"    to the ledger row:       {summary(to_ledger)}   (target p95 <= 1 s)")
    print(f"    to the acknowledgement:  {summary(to_ack)}   (target p95 <= 2 s)")
    print(f"    mailwatch peak memory:   {watcher_mib:.1f} MiB")


def summary(values: list[float]) -> str:
    p50, p95 = statistics.median(values), percentile(values, 0.95)
    return f"p50 {p50:.3f} s   p95 {p95:.3f} s   max {max(values):.3f} s"


def backlog_run(peers: Peers, count: int) -> None:
    stored_before, queued_before = count_rows()
    started = time.monotonic()
    lmtp = smtplib.LMTP(peers.dovecot.host, peers.dovecot.lmtp_port)
    for i in range(count):
        lmtp.sendmail("klients@example.org", [peers.mailbox], message(i, "b"))
    lmtp.quit()
    print(f"(b) backlog: {count} messages put in INBOX over LMTP in {time.monotonic() - started:.1f} s")

    watcher = start_process([sys.executable, "manage.py", "mailwatch"], peers.env(), "mailwatch-b")
    try:
        started = time.monotonic()
        done = (stored_before + count, queued_before + count)
        wait_for(lambda: count_rows() == done, 900, "the whole backlog")
        elapsed = time.monotonic() - started
        watcher_mib = peak_rss_mib(watcher)
    finally:
        stop_process(watcher)
    print(
        f"    ingested end to end (ledger + acknowledgement queued) in {elapsed:.1f} s, process start "
        f"included: {count / elapsed:.0f} messages/s   (target >= 400/s)"
    )
    print(f"    mailwatch peak memory:   {watcher_mib:.1f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=int, default=500, help="messages in the latency run")
    parser.add_argument("--backlog", type=int, default=10_000, help="messages in the backlog run")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    peers = Peers()
    stop = threading.Event()
    try:
        setup_django(peers)
        if args.latency:
            latency_run(peers, args.latency)
        if args.backlog:
            backlog_run(peers, args.backlog)
    finally:
        stop.set()
        peers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
