"""The watcher against a real Dovecot: IDLE push, catch-up, UIDVALIDITY change, a server restart in the
middle of a stream, the one-watcher lock, SIGTERM, and a mail loop that must not happen."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from contact_centre.models import EventKind, Interaction
from mail.config import imap_settings
from mail.models import FolderCheckpoint, OutboundMail, OutboundState, StoredMessage
from mail.outbox import outbox_sweep
from mail.watcher import mailwatch_run
from tests.mail.builders import client_mail
from tests.mailpeers import AutoResponder, DovecotServer, SmtpCapture
from tests.peers import RedisServer

pytestmark = [pytest.mark.peers, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROOT = Path(__file__).resolve().parents[2]


def wait_until(condition: Callable[[], bool], timeout: float = 15, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(0.05)


@contextmanager
def watching(redis_server: RedisServer) -> Iterator[threading.Event]:
    """mailwatch running in a thread, as `manage.py mailwatch` runs it; stopped (SIGTERM's path) after."""
    stop = threading.Event()
    thread = threading.Thread(
        target=mailwatch_run,
        kwargs={"stop": stop, "redis_url": redis_server.url, "config": imap_settings()},
        name="test-mailwatch",
    )
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=20)
        assert not thread.is_alive(), "mailwatch did not stop within 20 s"


def stored(folder: str = "INBOX") -> int:
    return StoredMessage.objects.filter(folder=folder).count()


def deliver(dovecot: DovecotServer, mailbox: str, n: int, *, prefix: str) -> None:
    for i in range(n):
        raw = client_mail(message_id=f"{prefix}-{i}@example.org", sender=f"{prefix}{i}@example.org")
        dovecot.deliver(raw, mailbox)


def test_idle_push_records_a_new_message_within_a_second_or_two(
    dovecot: DovecotServer, product_mailbox: str, redis_server: RedisServer
) -> None:
    with watching(redis_server):
        wait_until(lambda: FolderCheckpoint.objects.filter(folder="INBOX").exists(), what="first scan")
        delivered_at = time.monotonic()
        deliver(dovecot, product_mailbox, 1, prefix="push")
        wait_until(lambda: stored() == 1, timeout=5, what="the pushed message stored")
        latency = time.monotonic() - delivered_at

    assert latency < 5
    interaction = Interaction.objects.get()
    assert interaction.events.get().kind == EventKind.EMAIL_RECEIVED
    checkpoint = FolderCheckpoint.objects.get(folder="INBOX")
    assert checkpoint.last_idle_event_at is not None
    assert checkpoint.last_uid == 1


def test_messages_that_arrived_while_the_watcher_was_down_are_caught_up(
    dovecot: DovecotServer, product_mailbox: str, redis_server: RedisServer
) -> None:
    with watching(redis_server):
        deliver(dovecot, product_mailbox, 2, prefix="before")
        wait_until(lambda: stored() == 2, what="two messages")
    deliver(dovecot, product_mailbox, 3, prefix="while-down")

    with watching(redis_server):
        wait_until(lambda: stored() == 5, what="catch-up of three")

    assert Interaction.objects.count() == 5
    assert OutboundMail.objects.count() == 5
    client = dovecot.client(product_mailbox, "INBOX")
    try:
        assert len(client.search(["ALL"])) == 5  # nothing deleted or moved
        assert client.search(["SEEN"]) == []  # not even marked as read
    finally:
        client.logout()


def test_a_new_uidvalidity_rereads_the_folder_without_recording_anything_twice(
    dovecot: DovecotServer, product_mailbox: str, redis_server: RedisServer
) -> None:
    with watching(redis_server):
        deliver(dovecot, product_mailbox, 3, prefix="old")
        wait_until(lambda: stored() == 3, what="three messages")
    before = FolderCheckpoint.objects.get(folder="INBOX").imap_uidvalidity
    dovecot.uidvalidity_reset(product_mailbox, "INBOX")  # stops and starts the server
    deliver(dovecot, product_mailbox, 1, prefix="new")

    with watching(redis_server):
        wait_until(lambda: stored() == 4, what="the new message")
        time.sleep(0.5)  # let the re-read of the old three finish

    checkpoint = FolderCheckpoint.objects.get(folder="INBOX")
    assert checkpoint.imap_uidvalidity != before
    assert checkpoint.uidvalidity_changes == 1
    assert checkpoint.last_uid == 4
    assert Interaction.objects.count() == 4
    assert OutboundMail.objects.count() == 4


def test_a_dovecot_restart_in_the_middle_of_a_stream_loses_and_doubles_nothing(
    dovecot: DovecotServer,
    product_mailbox: str,
    smtp_settings: SmtpCapture,
    redis_server: RedisServer,
    celery_worker: None,
) -> None:
    total = 24
    with watching(redis_server):
        deliver(dovecot, product_mailbox, total // 2, prefix="stream-a")
        wait_until(lambda: stored() >= 3, what="the stream under way")
        dovecot.stop()
        time.sleep(1.5)  # the watcher sees the connection drop and backs off
        dovecot.start()
        deliver(dovecot, product_mailbox, total // 2, prefix="stream-b")
        wait_until(lambda: stored() == total, timeout=60, what="every message stored")
        # Acknowledgements go out through the real worker; the sweep is the safety net.
        wait_until(lambda: _all_sent(total), timeout=60, what="every acknowledgement sent")

    assert Interaction.objects.count() == total
    assert OutboundMail.objects.filter(state=OutboundState.SENT).count() == total
    recipients = sorted(rcpt for captured in smtp_settings.envelopes for rcpt in captured.rcpt_tos)
    assert len(recipients) == total
    assert len(set(recipients)) == total  # exactly one acknowledgement each


def _all_sent(total: int) -> bool:
    outbox_sweep(now=timezone.now())
    return OutboundMail.objects.filter(state=OutboundState.SENT).count() == total


@pytest.mark.parametrize("polite", [True, False], ids=["rfc3834-responder", "rude-responder"])
def test_an_auto_responder_peer_gets_one_message_and_we_answer_its_reply_with_none(
    polite: bool,
    dovecot: DovecotServer,
    product_mailbox: str,
    smtp_server_factory: Callable[..., SmtpCapture],
    settings_smtp: Callable[[SmtpCapture], None],
    redis_server: RedisServer,
    celery_worker: None,
) -> None:
    robot = "robots@example.org"
    responder = AutoResponder(dovecot, robot, polite=polite, mailbox=product_mailbox)
    smtp = smtp_server_factory(auto_responder=responder)
    settings_smtp(smtp)
    with watching(redis_server):
        dovecot.deliver(client_mail(message_id="loop-1@example.org", sender=robot), product_mailbox)
        smtp.wait_for(1, timeout=15)  # our acknowledgement
        # RFC 3834 peers do not answer an Auto-Submitted message; the rude one does, once.
        wait_until(lambda: responder.sent + responder.skipped == 1, what="the responder's decision")
        wait_until(lambda: stored() == 1 + responder.sent, what="its answer stored")
        time.sleep(2)  # room for a loop to show itself
        outbox_sweep(now=timezone.now())
        time.sleep(1)

    assert responder.sent == (0 if polite else 1)
    assert [list(captured.rcpt_tos) for captured in smtp.envelopes] == [[robot]]
    assert Interaction.objects.count() == 1


@pytest.fixture
def settings_smtp(settings: object) -> Callable[[SmtpCapture], None]:
    def point_at(server: SmtpCapture) -> None:
        for name, value in (
            ("CC_SMTP_HOST", server.host),
            ("CC_SMTP_PORT", server.port),
            ("CC_SMTP_TLS", "none"),
        ):
            setattr(settings, name, value)

    return point_at


def test_a_second_watcher_waits_for_the_lock_and_takes_over_when_the_first_stops(
    dovecot: DovecotServer, product_mailbox: str, redis_server: RedisServer
) -> None:
    with watching(redis_server) as first_stop:
        wait_until(lambda: FolderCheckpoint.objects.filter(folder="INBOX").exists(), what="first watcher")
        with watching(redis_server):
            deliver(dovecot, product_mailbox, 2, prefix="locked")
            wait_until(lambda: stored() == 2, what="two messages")
            first_stop.set()  # the first stops; the second must take the mailbox over
            time.sleep(0.5)
            deliver(dovecot, product_mailbox, 1, prefix="after")
            wait_until(lambda: stored() == 3, timeout=20, what="the second watcher taking over")

    assert Interaction.objects.count() == 3


def test_the_mailwatch_command_stops_cleanly_on_sigterm(
    dovecot: DovecotServer, product_mailbox: str, redis_server: RedisServer
) -> None:
    env = (
        os.environ
        | _database_env()
        | {
            "REDIS_URL": redis_server.url,
            "CC_IMAP_HOST": dovecot.host,
            "CC_IMAP_PORT": str(dovecot.imap_port),
            "CC_IMAP_USER": product_mailbox,
            "CC_IMAP_PASSWORD": dovecot.password,
            "CC_MAIL_FROM": product_mailbox,
            "DJANGO_DEBUG": "true",
        }
    )
    process = subprocess.Popen(
        [sys.executable, "manage.py", "mailwatch"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deliver(dovecot, product_mailbox, 1, prefix="cmd")
        wait_until(lambda: stored() == 1, timeout=30, what="the command storing a message")
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output.decode(errors="replace")
    assert b"mailwatch stopped" in output


def _database_env() -> dict[str, str]:
    """DATABASE_URL of the test database, for a subprocess (it must see the rows this test sees)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        pytest.fail("the command test needs the PostgreSQL test database", pytrace=False)
    return {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}"
    }


def test_a_reply_already_in_sent_at_start_is_linked_because_inbox_is_read_first(
    dovecot: DovecotServer, product_mailbox: str, redis_server: RedisServer
) -> None:
    dovecot.deliver(client_mail(message_id="first-q@example.org"), product_mailbox)
    reply = client_mail(
        message_id="first-a@kase.gov.lv",
        sender=product_mailbox,
        to="klients@example.org",
        subject="Re: Jautājums par kontu",
        in_reply_to="first-q@example.org",
    )
    client = dovecot.client(product_mailbox)
    try:
        client.append("Sent", reply, flags=[b"\\Seen"])
    finally:
        client.logout()

    with watching(redis_server):
        wait_until(lambda: stored("Sent") == 1, what="the Sent copy stored")

    interaction = Interaction.objects.get()
    assert StoredMessage.objects.get(folder="Sent").interaction == interaction
    assert interaction.events.filter(kind=EventKind.EMAIL_REPLIED).count() == 1


def test_a_first_run_leaves_old_mail_alone_until_asked_to_read_since_a_day(
    dovecot: DovecotServer, product_mailbox: str, redis_server: RedisServer
) -> None:
    client = dovecot.client(product_mailbox)
    try:
        old = client_mail(message_id="last-year@example.org", subject="Pērnā gada vēstule")
        client.append("INBOX", old, msg_time=timezone.now() - timedelta(days=400))
    finally:
        client.logout()
    deliver(dovecot, product_mailbox, 1, prefix="today")

    with watching(redis_server):
        wait_until(lambda: stored() == 1, what="today's message")
        time.sleep(0.5)
    assert StoredMessage.objects.get().message_id == "today-0@example.org"

    stop = threading.Event()
    since = (timezone.now() - timedelta(days=500)).date()
    thread = threading.Thread(
        target=mailwatch_run,
        kwargs={"stop": stop, "redis_url": redis_server.url, "config": imap_settings(), "since": since},
    )
    thread.start()
    try:
        wait_until(lambda: stored() == 2, what="last year's message, read on request")
    finally:
        stop.set()
        thread.join(timeout=20)
    assert Interaction.objects.count() == 2
    assert OutboundMail.objects.count() == 1  # nobody is acknowledged a year late
