"""The watcher's batch reader against a real Dovecot: a backlog too long for one IMAP command, the read-ahead
bound, and errors on either side of the fetch thread. No database: the reader never touches it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from django.utils import timezone
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from mail.fetch import FETCH_MAX_MESSAGES, Batch, BatchReader, MessageMaker
from mail.ingest import FetchedMessage
from mail.models import FolderRole
from tests.mailpeers import DovecotServer

pytestmark = pytest.mark.peers


def tiny(i: int) -> bytes:
    headers = f"From: k{i}@example.org\r\nSubject: {i}\r\nMessage-ID: <t{i}@example.org>\r\n"
    return f"{headers}\r\nLabdien!\r\n".encode()


@pytest.fixture
def inbox(dovecot: DovecotServer, request: pytest.FixtureRequest) -> Iterator[IMAPClient]:
    """A new mailbox holding `request.param` messages, INBOX opened read-only as the watcher opens it."""
    user = dovecot.user_add("reader")
    client = dovecot.client(user)
    try:
        for start in range(0, request.param, 2000):  # MULTIAPPEND: one command per 2,000 messages
            client.multiappend("INBOX", [tiny(i) for i in range(start, min(start + 2000, request.param))])
        client.select_folder("INBOX", readonly=True)
        yield client
    finally:
        client.logout()


def make(uid: int, data: dict[bytes, object]) -> FetchedMessage:
    raw = data[b"BODY[]"]
    assert isinstance(raw, bytes)
    return FetchedMessage("INBOX", FolderRole.INBOX, 1, uid, raw, timezone.now())


def read_all(client: IMAPClient, uids: list[int]) -> list[Batch]:
    with BatchReader(client, uids, make, name="test-reader") as reader:
        return list(reader)


def store_each(
    client: IMAPClient, uids: list[int], maker: MessageMaker, store: Callable[[Batch], None], name: str
) -> None:
    """The watcher's loop: each batch read is stored (by `store`) before the next is taken."""
    with BatchReader(client, uids, maker, name=name) as reader:
        for batch in reader:
            store(batch)


@pytest.mark.parametrize("inbox", [14_000], indirect=True)
def test_a_backlog_too_long_for_one_imap_command_is_read_in_full_and_in_order(inbox: IMAPClient) -> None:
    uids = inbox.search(["ALL"])
    with pytest.raises(IMAPClientError, match="Too long argument"):
        inbox.fetch(uids, ["RFC822.SIZE"])  # every UID in one command: what the reader must not send

    batches = read_all(inbox, uids)

    assert [uid for batch in batches for uid in batch.uids] == uids
    assert [message.imap_uid for batch in batches for message in batch.messages] == uids
    assert max(len(batch.uids) for batch in batches) == FETCH_MAX_MESSAGES
    assert inbox.search(["SEEN"]) == []  # BODY.PEEK: nothing marked as read
    assert inbox.noop()  # the connection is the caller's again, and in a usable state


@pytest.mark.parametrize("inbox", [1000], indirect=True)
def test_the_reader_stays_one_batch_ahead_and_no_more(inbox: IMAPClient) -> None:
    uids = inbox.search(["ALL"])
    fetched_up_to = [0]

    def noting(uid: int, data: dict[bytes, object]) -> FetchedMessage:
        fetched_up_to[0] = max(fetched_up_to[0], uid)
        return make(uid, data)

    batches = []
    with BatchReader(inbox, uids, noting, name="test-reader") as reader:
        for batch in reader:
            time.sleep(0.05)  # a slow database: the reader has all the time it wants to run ahead
            batches.append(batch)
            following = uids.index(batch.uids[-1]) + FETCH_MAX_MESSAGES
            assert fetched_up_to[0] <= uids[min(following, len(uids) - 1)]

    assert len(batches) == 10


@pytest.mark.parametrize("inbox", [500], indirect=True)
def test_an_error_in_the_fetch_thread_comes_after_the_batches_read_before_it(inbox: IMAPClient) -> None:
    uids = inbox.search(["ALL"])
    broken = uids[250]

    def failing(uid: int, data: dict[bytes, object]) -> FetchedMessage:
        if uid == broken:
            raise OSError("connection reset by peer")
        return make(uid, data)

    stored: list[int] = []
    with pytest.raises(OSError, match="connection reset"):
        store_each(inbox, uids, failing, lambda batch: stored.extend(batch.uids), "test-reader")

    assert stored == uids[:200]  # the two whole batches before the broken one, nothing of it
    assert inbox.noop()


@pytest.mark.parametrize("inbox", [1000], indirect=True)
def test_a_failure_while_storing_ends_the_fetch_thread_before_the_connection_is_used_again(
    inbox: IMAPClient,
) -> None:
    uids = inbox.search(["ALL"])

    def database_gone(_batch: Batch) -> None:
        time.sleep(0.05)  # the reader fetches the next batch meanwhile
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError, match="database gone"):
        store_each(inbox, uids, make, database_gone, "test-reader-db")

    assert not any(thread.name == "test-reader-db" for thread in threading.enumerate())
    assert inbox.search(["ALL"]) == uids  # no FETCH response left half-read on the connection
