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
    Target: ≥ 400 messages/s. Two figures: the total, from launching `manage.py mailwatch` (Python and
    Django start-up, the Redis lock) to the last batch committed; and the backlog itself, from the
    watcher's first heartbeat (lock held, folder threads starting, before the IMAP login) to the last
    batch committed. The end is when INBOX's checkpoint reaches the last UID: the checkpoint is committed
    with its batch, so every row of the backlog is visible then. The rows are then counted: every message
    stored once, one interaction and one acknowledgement each, or the benchmark fails.
    The watcher's peak memory (VmHWM) is printed for both runs.
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
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LMTP_CONNECTIONS = 4  # the backlog is delivered over several connections: only the setup gets faster
END_POLL_S = 0.01  # the backlog's end is seen within this; one primary-key read of one row each time
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


def cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    """CPU time (user + system) the process has used so far."""
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time all cores have spent busy since boot, every process's (the benchmark shares the host)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


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


def count_rows() -> tuple[int, int, int]:
    from contact_centre.models import Interaction
    from mail.models import OutboundMail, StoredMessage

    return StoredMessage.objects.count(), OutboundMail.objects.count(), Interaction.objects.count()


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

        def all_acknowledged() -> bool:
            peers.collect_arrivals()
            return len(peers.arrivals) >= count

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


def deliver_backlog(peers: Peers, count: int) -> int:
    """Put `count` messages in INBOX over LMTP; return the highest UID in INBOX afterwards."""

    def deliver(part: int) -> None:
        lmtp = smtplib.LMTP(peers.dovecot.host, peers.dovecot.lmtp_port)
        for i in range(part, count, LMTP_CONNECTIONS):
            lmtp.sendmail("klients@example.org", [peers.mailbox], message(i, "b"))
        lmtp.quit()

    with ThreadPoolExecutor(LMTP_CONNECTIONS) as pool:
        list(pool.map(deliver, range(LMTP_CONNECTIONS)))
    client = peers.dovecot.client(peers.mailbox, "INBOX")
    try:
        return max(client.search(["ALL"]))
    finally:
        client.logout()


def first_heartbeat_at(launched_at: float, timeout: float) -> float:
    """The new watcher's first heartbeat (epoch seconds): written once it holds the lock, then every 10 s."""
    from mail.models import Mailbox

    since = datetime.fromtimestamp(launched_at).astimezone()
    beats = Mailbox.objects.filter(heartbeat_at__gte=since).values_list("heartbeat_at", flat=True)
    wait_for(beats.exists, timeout, "the watcher's first heartbeat")
    return min(beat.timestamp() for beat in beats if beat is not None)


def checkpoint_reached(last_uid: int) -> Callable[[], bool]:
    from mail.models import FolderCheckpoint

    inbox = FolderCheckpoint.objects.filter(folder="INBOX", last_uid__gte=last_uid)
    return inbox.exists


def backlog_check(before: tuple[int, int, int], count: int) -> None:
    """Nothing lost, nothing doubled: each backlog message stored once, with one interaction and one
    acknowledgement (distinct senders, so the one-per-sender-a-day rule withholds none)."""
    from mail.models import OutboundMail, StoredMessage

    after = count_rows()
    added = tuple(b - a for a, b in zip(before, after, strict=True))
    stored_ids = StoredMessage.objects.filter(message_id__startswith="bench-b-").values("message_id")
    answered = OutboundMail.objects.filter(in_reply_to__startswith="bench-b-").values("in_reply_to")
    distinct = (stored_ids.distinct().count(), answered.distinct().count())
    if added != (count, count, count) or distinct != (count, count):
        raise SystemExit(
            f"benchmark failed: {count} messages gave (stored, acknowledgements, interactions) {added}, "
            f"distinct (stored, acknowledged) {distinct}"
        )


def backlog_run(peers: Peers, count: int) -> None:
    before = count_rows()
    started = time.monotonic()
    last_uid = deliver_backlog(peers, count)
    print(f"(b) backlog: {count} messages put in INBOX over LMTP in {time.monotonic() - started:.1f} s")

    busy_before = machine_busy_seconds()
    launched_at = time.time()
    watcher = start_process([sys.executable, "manage.py", "mailwatch"], peers.env(), "mailwatch-b")
    try:
        working_from = first_heartbeat_at(launched_at, 60)
        deadline = time.monotonic() + 900
        reached = checkpoint_reached(last_uid)
        while not reached():
            if time.monotonic() > deadline:
                raise SystemExit("benchmark failed: the whole backlog not stored within 900 s")
            time.sleep(END_POLL_S)
        done_at = time.time()
        watcher_mib, watcher_cpu = peak_rss_mib(watcher), cpu_seconds(watcher)
        busy = machine_busy_seconds() - busy_before
    finally:
        stop_process(watcher)
    backlog_check(before, count)
    total, backlog = done_at - launched_at, done_at - working_from
    print(f"    stored, interactions opened and acknowledgements queued for all {count}: each once")
    print(
        f"    backlog, first heartbeat to last commit: {backlog:5.1f} s = {count / backlog:4.0f} messages/s"
        "   (target >= 400/s)"
    )
    print(
        f"    total, process launch included:          {total:5.1f} s = {count / total:4.0f} messages/s"
        f"   (start-up {working_from - launched_at:.1f} s)"
    )
    print(f"    mailwatch peak memory:   {watcher_mib:.1f} MiB")
    cores = os.cpu_count() or 1
    print(
        f"    CPU over the total: mailwatch {watcher_cpu:.1f} s; the host's {cores} cores busy "
        f"{100 * busy / (cores * total):.0f}% (all processes, not only this benchmark's)"
    )


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
