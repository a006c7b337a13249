"""Reading a folder's new messages in batches, one batch ahead of the database work.

While the watcher parses and stores one batch, a reader thread fetches the next over IMAP, so the
network round trip overlaps the work on the batch before. At most two batches are in memory: the one
being stored and the one read ahead.

Parsing stays in the watcher's thread. It is pure Python: in the reader it would hold the GIL just when
the watcher, back from each PostgreSQL round trip, wants it again, and every round trip would wait for
the reader's next switch interval. Measured on the backlog benchmark, fetch-only read-ahead was faster
than fetching and parsing ahead, in each of five alternating rounds.

The reader owns the IMAP connection while it runs; the watcher uses the connection again (NOOP, SEARCH,
IDLE) only after leaving the `with` block, which ends the thread. The reader never touches the database
or the checkpoint. An error it meets reaches the watcher in order, after the batches read before it, so
the checkpoint still moves only past messages that were stored.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType

from imapclient import IMAPClient

from mail.ingest import FetchedMessage

FETCH_MAX_MESSAGES = 100
# Per batch. With the batch read ahead, the watcher holds at most twice this much mail (16 MB), as much
# as one batch of the 16 MB it fetched before reading ahead.
FETCH_MAX_BYTES = 8 * 1024 * 1024
# UIDs in one RFC822.SIZE FETCH. Dovecot refuses a command line over 64 kB ("Too long argument"): a
# backlog of 10,000 six-digit UIDs in one command is just past that, and would fail on every reconnect.
SIZES_CHUNK = 1000
_AHEAD = 2  # batches fetched and not yet stored: the current one and the next
_SLOT_POLL_S = 0.2  # how quickly a reader waiting for a free slot notices that it is not needed

# Turns one FETCH response item (UID, data) into a message; raises to end the reading (e.g. no body).
MessageMaker = Callable[[int, dict[bytes, object]], FetchedMessage]


@dataclass(frozen=True)
class Batch:
    uids: list[int]  # as searched, ascending: once stored, the checkpoint moves to uids[-1]
    messages: list[FetchedMessage]  # those the server still had (one expunged since the SEARCH is missing)


class BatchReader:
    """`with BatchReader(client, uids, make) as reader: for batch in reader: ...` reads `uids` in batches
    small enough to hold in memory (by count and by RFC822.SIZE), in order, each fetched with BODY.PEEK[]
    (the \\Seen flag never changes) and INTERNALDATE and turned into messages by `make`."""

    def __init__(self, client: IMAPClient, uids: Sequence[int], make: MessageMaker, *, name: str) -> None:
        self.client, self.uids, self.make = client, list(uids), make
        # Batches in order, then None at the end or the error that ended the reading.
        self._results: queue.SimpleQueue[Batch | BaseException | None] = queue.SimpleQueue()
        self._slots = threading.Semaphore(_AHEAD)  # taken by the reader per batch, given back once stored
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._read, name=name, daemon=True)

    def __enter__(self) -> BatchReader:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        # Whatever ended the loop (the end, stop, a database error), the connection is ours again only once
        # the reader is gone; a FETCH in progress completes first (or fails by the socket timeout).
        self._cancel.set()
        self._thread.join()

    def __iter__(self) -> Iterator[Batch]:
        while True:
            item = self._results.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            try:
                yield item
            finally:
                self._slots.release()  # stored (or abandoned): the reader may fetch one more

    def _read(self) -> None:
        try:
            for uids in self._batches():
                if not self._slot_taken():
                    return
                fetched = self.client.fetch(uids, ["BODY.PEEK[]", "INTERNALDATE"])
                messages = [self.make(uid, fetched[uid]) for uid in uids if uid in fetched]
                self._results.put(Batch(uids, messages))
        except BaseException as error:  # handed to the watcher, whose top loop tells what it means
            self._results.put(error)
        else:
            self._results.put(None)

    def _slot_taken(self) -> bool:
        while not self._slots.acquire(timeout=_SLOT_POLL_S):
            if self._cancel.is_set():
                return False
        return not self._cancel.is_set()

    def _batches(self) -> Iterator[list[int]]:
        batch: list[int] = []
        batch_bytes = 0
        for start in range(0, len(self.uids), SIZES_CHUNK):
            chunk = self.uids[start : start + SIZES_CHUNK]
            sizes = self.client.fetch(chunk, ["RFC822.SIZE"])
            for uid in chunk:
                size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
                if batch and (len(batch) >= FETCH_MAX_MESSAGES or batch_bytes + size > FETCH_MAX_BYTES):
                    yield batch
                    batch, batch_bytes = [], 0
                batch.append(uid)
                batch_bytes += size
        if batch:
            yield batch
