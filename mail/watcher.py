"""The mail watcher (`manage.py mailwatch`): INBOX and Sent, each on its own IMAP connection (IDLE
watches one selected folder per connection), with a catch-up scan by UID on every (re)connect. A scan
reads in batches (mail.fetch): the next batch is fetched while the current one is parsed and stored.

Never loses a message: the checkpoint (UIDVALIDITY, last UID) moves only past messages that were stored
or quarantined; a database or network error ends the session and it starts again from the checkpoint.
Never deletes or moves a client's mail: folders are opened read-only (EXAMINE) and bodies fetched with
BODY.PEEK, so not even the \\Seen flag changes. One watcher per mailbox: a Redis lock.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import random
import threading
import time
from collections.abc import Sequence
from datetime import date, datetime

import redis
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.utils import timezone
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from redis.exceptions import LockError, LockNotOwnedError, RedisError

from mail.config import ImapSettings
from mail.fetch import Batch, BatchReader
from mail.imap import imap_connect
from mail.ingest import FetchedMessage, message_ingest, message_quarantine, messages_ingest_bulk
from mail.models import FolderCheckpoint, FolderRole, Mailbox
from mail.replies import mailbox_default

logger = logging.getLogger(__name__)

# RFC 2177 allows 29 minutes; servers and NATs drop idle connections sooner. Each renewal is also a
# catch-up scan, which bounds the one race IDLE leaves: a message stored in the instant between our last
# NOOP and the IDLE command is announced to nobody until then.
IDLE_RENEW_S = 60
IDLE_POLL_S = 1.0  # how quickly a watcher notices SIGTERM while idling
BULK_FROM = 2  # a lone message (the usual IDLE push) takes the one-by-one path: no gain in bulk
BACKOFF_FIRST_S, BACKOFF_MAX_S = 1.0, 60.0
LOCK_TTL_S, LOCK_RENEW_S, LOCK_POLL_S = 30, 10.0, 2.0


class MessageNotDelivered(Exception):
    """The server listed a message but sent no body for it: fetched again after a reconnect."""


# Errors after which the session is started again (with backoff) from the checkpoint: the server or the
# database is unreachable. Anything else about one message quarantines that message instead.
RECOVERABLE = (IMAPClientError, OSError, OperationalError, InterfaceError, EOFError, MessageNotDelivered)


class FolderWatcher:
    """Reads one folder to the end, then waits on IDLE for more; reconnects with backoff after errors."""

    def __init__(
        self,
        *,
        mailbox: Mailbox,
        folder: str,
        role: str,
        stop: threading.Event,
        config: ImapSettings,
        caught_up_event: threading.Event | None = None,
        wait_for: threading.Event | None = None,
    ) -> None:
        self.mailbox, self.folder, self.role, self.stop, self.config = mailbox, folder, role, stop, config
        self.caught_up = False
        self.caught_up_event = caught_up_event  # set once this folder has been read to the end
        self.wait_for = wait_for  # read nothing before this is set (Sent waits for INBOX)

    def run(self) -> None:
        delay = BACKOFF_FIRST_S
        while not self.stop.is_set():
            self.caught_up = False
            try:
                self._session()
            except RECOVERABLE as error:
                self._note_error(error)
            except Exception as error:  # the thread's top loop: log, back off, go on; never die silently
                logger.exception("mailwatch %s: unexpected error; reconnecting", self.folder)
                self._note_error(error)
            finally:
                close_old_connections()
            # A session that got as far as a full catch-up was healthy: the next failure starts afresh.
            delay = BACKOFF_FIRST_S if self.caught_up else min(delay * 2, BACKOFF_MAX_S)
            if not self.stop.is_set():
                self.stop.wait(delay * random.uniform(0.5, 1.0))  # noqa: S311 -- jitter, not secrecy
        connection.close()  # this thread's own connection; the thread ends here

    def _note_error(self, error: BaseException) -> None:
        logger.warning("mailwatch %s: %s: %s; reconnecting", self.folder, type(error).__name__, error)
        if isinstance(error, DatabaseError):
            connection.close()  # a broken connection is not reused by the next session
        try:
            Mailbox.objects.filter(pk=self.mailbox.pk).update(
                last_error=f"{self.folder}: {type(error).__name__}: {error}"[:2000],
                last_error_at=timezone.now(),
            )
        except DatabaseError:
            connection.close()  # the database itself is down: the log line above is all we can do

    def _session(self) -> None:
        client = imap_connect(self.config)
        try:
            Mailbox.objects.filter(pk=self.mailbox.pk).update(connected_at=timezone.now())
            while not self.stop.is_set():
                self._catch_up(client)
                self.caught_up = True
                if self.caught_up_event is not None:
                    self.caught_up_event.set()
                self._idle(client)
        finally:
            _close(client)

    def _catch_up(self, client: IMAPClient) -> None:
        """Store every message past the checkpoint, oldest first, until the folder has no more."""
        while self.wait_for is not None and not self.wait_for.wait(IDLE_POLL_S):
            if self.stop.is_set():
                return
            client.noop()  # keep the connection alive while INBOX catches up
        self.mailbox.refresh_from_db()  # settings edited in the admin apply from the next batch
        selected = client.select_folder(self.folder, readonly=True)
        checkpoint = checkpoint_for(
            mailbox=self.mailbox,
            folder=self.folder,
            role=self.role,
            uidvalidity=int(selected[b"UIDVALIDITY"]),
        )
        _announced_new_mail(client)  # SELECT's own EXISTS: what it announced is what SEARCH sees
        while not self.stop.is_set():
            # "UID n:*" always matches the newest message, even below n: filter.
            criteria: list[object] = ["UID", f"{checkpoint.last_uid + 1}:*"]
            if checkpoint.read_since is not None:
                criteria += ["SINCE", checkpoint.read_since]
            uids = sorted(uid for uid in client.search(criteria) if uid > checkpoint.last_uid)
            if not uids:
                client.noop()  # the server announces (EXISTS) what arrived during our last commands
                if _announced_new_mail(client):
                    continue
                break
            make = functools.partial(self._message, checkpoint)
            with BatchReader(client, uids, make, name=f"mailwatch-{self.role}-fetch") as reader:
                for batch in reader:
                    if self.stop.is_set():
                        break
                    self._ingest_batch(checkpoint, batch)
        FolderCheckpoint.objects.filter(pk=checkpoint.pk).update(last_scan_at=timezone.now())

    def _ingest_batch(self, checkpoint: FolderCheckpoint, batch: Batch) -> None:
        """Store one FETCH worth of messages and move the checkpoint past them, in one transaction.

        All or nothing: after a crash or a lost connection the batch is read again and nothing of it was
        kept, so the checkpoint can never run ahead of what was stored. One commit for the batch is also
        what makes a backlog fast. The ledger's chain lock is held until the commit (a batch is at most
        mail.fetch.FETCH_MAX_MESSAGES messages; while idling it is one).
        """
        last_uid = batch.uids[-1]
        with transaction.atomic():
            for message in self._ingest_bulk(batch.messages):
                self._ingest_one(message)
            # Conditional: a watcher that lost the lock a moment ago never moves it back or across a reset.
            FolderCheckpoint.objects.filter(
                pk=checkpoint.pk, imap_uidvalidity=checkpoint.imap_uidvalidity, last_uid__lt=last_uid
            ).update(last_uid=last_uid)
        checkpoint.last_uid = last_uid

    def _message(self, checkpoint: FolderCheckpoint, uid: int, data: dict[bytes, object]) -> FetchedMessage:
        """One FETCH response item as a message. Runs in the fetch thread: no database here."""
        raw = data.get(b"BODY[]")
        if not isinstance(raw, bytes):
            raise MessageNotDelivered(f"{self.folder} uid {uid}: no BODY[] in the FETCH response")
        return FetchedMessage(
            folder=self.folder,
            role=self.role,
            imap_uidvalidity=checkpoint.imap_uidvalidity or 0,
            imap_uid=uid,
            raw=raw,
            internal_date=_aware(data.get(b"INTERNALDATE")),
        )

    def _ingest_bulk(self, messages: list[FetchedMessage]) -> list[FetchedMessage]:
        """The batch's common case in bulk (a savepoint); what is left, or all of it if that fails."""
        if len(messages) < BULK_FROM:
            return messages
        try:
            with transaction.atomic():
                return messages_ingest_bulk(mailbox=self.mailbox, batch=messages)
        except RECOVERABLE:
            raise
        except Exception:  # e.g. a racing writer took a key: one by one, each decides for itself
            logger.exception("mailwatch %s: batch of %s recorded one by one", self.folder, len(messages))
            return messages

    def _ingest_one(self, message: FetchedMessage) -> None:
        try:
            message_ingest(mailbox=self.mailbox, fetched=message)
        except RECOVERABLE:
            raise  # the database or the network: the batch is read again after the reconnect
        except Exception as error:
            logger.exception("mailwatch %s uid %s could not be recorded", self.folder, message.imap_uid)
            message_quarantine(mailbox=self.mailbox, fetched=message, reason=f"internal error: {error!r}")

    def _idle(self, client: IMAPClient) -> None:
        """Wait for the server to push new mail (or for IDLE_RENEW_S, or for stop)."""
        client.idle()
        started = time.monotonic()
        try:
            while not self.stop.is_set() and time.monotonic() - started < IDLE_RENEW_S:
                responses = client.idle_check(timeout=IDLE_POLL_S)
                if any(len(item) > 1 and item[1] == b"EXISTS" for item in responses):
                    FolderCheckpoint.objects.filter(mailbox=self.mailbox, folder=self.folder).update(
                        last_idle_event_at=timezone.now()
                    )
                    return
        finally:
            client.idle_done()


def _announced_new_mail(client: IMAPClient) -> bool:
    """Whether the server announced new messages (untagged EXISTS) since the last call.

    A message that arrives while a SEARCH runs is announced in that SEARCH's responses but is not in
    its result, and IDLE will not announce it again: without this check it would wait for the next
    IDLE renewal. imapclient keeps no record of untagged responses to other commands; imaplib does.
    """
    return bool(client._imap.untagged_responses.pop("EXISTS", None))


def _aware(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else timezone.make_aware(value)
    return timezone.now()  # a server that sends no INTERNALDATE: the moment we saw it is the best we have


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        client.shutdown()


def checkpoint_for(*, mailbox: Mailbox, folder: str, role: str, uidvalidity: int) -> FolderCheckpoint:
    """The folder's checkpoint; a new UIDVALIDITY starts it from the first UID again.

    Old UIDs mean nothing under a new UIDVALIDITY, so the folder is read again from the start and
    messages already stored are recognised by Message-ID (or content hash) and skipped. A new checkpoint
    reads from today (Riga): mail that was in the mailbox before the product watched it is history,
    not work (`mailwatch --since` reads further back).
    """
    checkpoint, _created = FolderCheckpoint.objects.get_or_create(
        mailbox=mailbox, folder=folder, defaults={"role": role, "read_since": timezone.localdate()}
    )
    if checkpoint.imap_uidvalidity != uidvalidity:
        if checkpoint.imap_uidvalidity is not None:
            logger.warning(
                "mailwatch %s: UIDVALIDITY %s -> %s, re-reading",
                folder,
                checkpoint.imap_uidvalidity,
                uidvalidity,
            )
            checkpoint.uidvalidity_changes += 1
        checkpoint.imap_uidvalidity, checkpoint.last_uid = uidvalidity, 0
        checkpoint.save(update_fields=["imap_uidvalidity", "last_uid", "uidvalidity_changes"])
    return checkpoint


class MailboxLock:
    """One watcher per mailbox. While Redis is unreachable the holder keeps watching rather than stop
    the mail; if Redis comes back empty (restarted without persistence, or failed over), the holder
    takes the lock again at its next renewal, and stands down if another copy got it first. Two copies
    may therefore overlap for a while (at most one renewal period after Redis returns, or for as long
    as a split lets each reach a different Redis). Storing is idempotent and the checkpoint only moves
    forward, so an overlap costs duplicate work, never a lost or doubled message."""

    def __init__(self, redis_url: str, name: str) -> None:
        client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        self.name = name
        self.lock = client.lock(name, timeout=LOCK_TTL_S, thread_local=False)

    def acquire_waiting(self, stop: threading.Event) -> bool:
        told = False
        while not stop.is_set():
            try:
                if self.lock.acquire(blocking=False):
                    return True
                reason = "another watcher holds it"
            except RedisError as error:
                reason = f"Redis unreachable ({error})"
            if not told:
                logger.info("mailwatch waiting for the lock %s: %s", self.name, reason)
                told = True
            stop.wait(LOCK_POLL_S)
        return False

    def renew(self) -> bool:
        """True while we may go on watching."""
        try:
            self.lock.reacquire()
            return True
        except LockNotOwnedError:
            try:
                return bool(self.lock.acquire(blocking=False))
            except RedisError:
                return True
        except (RedisError, LockError):
            return True

    def release(self) -> None:
        with contextlib.suppress(RedisError, LockError):  # expired or Redis gone: nothing to release
            self.lock.release()


def checkpoints_read_since(*, mailbox: Mailbox, day: date, folders: Sequence[tuple[str, str]]) -> None:
    """Read (again) everything received since `day`: stored messages are skipped, nothing is doubled."""
    for folder, role in folders:
        checkpoint, _created = FolderCheckpoint.objects.get_or_create(
            mailbox=mailbox, folder=folder, defaults={"role": role}
        )
        FolderCheckpoint.objects.filter(pk=checkpoint.pk).update(read_since=day, last_uid=0)


def mailwatch_run(
    *, stop: threading.Event, redis_url: str, config: ImapSettings, since: date | None = None
) -> None:
    """Watch INBOX and Sent until `stop` is set (SIGTERM), holding the mailbox lock."""
    mailbox = mailbox_default()
    if since is not None:
        folders = [(config.inbox, FolderRole.INBOX), (config.sent, FolderRole.SENT)]
        checkpoints_read_since(mailbox=mailbox, day=since, folders=folders)
    lock = MailboxLock(redis_url, f"cc-sla:mailwatch:{config.user}@{config.host}:{config.port}")
    while lock.acquire_waiting(stop):
        logger.info("mailwatch: watching %s and %s of %s", config.inbox, config.sent, config.user)
        folders_stop = threading.Event()
        threads = _folder_threads(mailbox, config, folders_stop)
        try:
            _hold(stop, lock, mailbox, threads)
        finally:
            folders_stop.set()
            for thread in threads:
                thread.join()
            lock.release()
    connection.close()


def _folder_threads(mailbox: Mailbox, config: ImapSettings, stop: threading.Event) -> list[threading.Thread]:
    """INBOX and Sent, each on its own connection. Sent starts reading once INBOX has been read to the
    end, so a handler's reply is never looked at before the client's message it answers."""
    inbox_caught_up = threading.Event()
    watchers = [
        FolderWatcher(
            mailbox=mailbox,
            folder=config.inbox,
            role=FolderRole.INBOX,
            stop=stop,
            config=config,
            caught_up_event=inbox_caught_up,
        ),
        FolderWatcher(
            mailbox=mailbox,
            folder=config.sent,
            role=FolderRole.SENT,
            stop=stop,
            config=config,
            wait_for=inbox_caught_up,
        ),
    ]
    threads = [threading.Thread(target=watcher.run, name=f"mailwatch-{watcher.role}") for watcher in watchers]
    for thread in threads:
        thread.start()
    return threads


def _hold(
    stop: threading.Event, lock: MailboxLock, mailbox: Mailbox, threads: list[threading.Thread]
) -> None:
    """Renew the lock and write the heartbeat until stop, or until the lock is lost."""
    while True:
        try:
            Mailbox.objects.filter(pk=mailbox.pk).update(heartbeat_at=timezone.now())
        except DatabaseError:
            connection.close()  # no heartbeat this time; the folder threads report the database error
        if stop.wait(LOCK_RENEW_S):
            return
        if not lock.renew():
            logger.error("mailwatch: lost the lock %s to another watcher; standing by", lock.name)
            return
        if not all(thread.is_alive() for thread in threads):
            logger.error("mailwatch: a folder thread ended; starting both again")
            return
