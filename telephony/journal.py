"""The call handler's journal: every fact the SIP thread observes is written here before the ledger sees it.

The SIP thread must never wait for the database (ring timing is taken in the SIP callbacks), so facts go
to the ledger from another thread. If the process dies between the two, the journal still has them: an
append to a file is a write into the page cache, which survives the process being killed, and the next
start of the handler replays what the ledger did not confirm. Every fact is applied with an idempotency
key, so replaying a fact the ledger already has is harmless.

One journal file at a time (`<started>-<pid>.jsonl`); past a size it is replaced by a new file that
carries the facts of calls still in progress, once every fact in it has been applied. Files left by an
earlier run are replayed at start.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

log = logging.getLogger(__name__)

ROTATE_BYTES = 4 * 1024 * 1024  # a handler's journal is renewed past this size (~2,000 calls)


@dataclass(frozen=True)
class Fact:
    """One observation about a call, in the order the SIP thread saw it. `at` is UTC wall-clock time."""

    kind: str
    sip_call_id: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def to_line(self) -> str:
        record = asdict(self)
        record["at"] = self.at.astimezone(UTC).isoformat()
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"

    @classmethod
    def from_line(cls, line: str) -> Fact:
        record = json.loads(line)
        return cls(
            kind=record["kind"],
            sip_call_id=record["sip_call_id"],
            at=datetime.fromisoformat(record["at"]),
            data=record.get("data") or {},
        )


class Journal:
    """An append-only file of facts in one directory (one per call handler).

    `lock` is held by whoever appends (the SIP thread, which also queues the fact for the ledger inside
    it) and by the ledger thread while it rotates, so a rotation never falls between the two.
    """

    def __init__(self, directory: Path, rotate_bytes: int = ROTATE_BYTES) -> None:
        self.directory = directory
        self.rotate_bytes = rotate_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.path, self._file = self._open()

    def _open(self) -> tuple[Path, TextIO]:
        started = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.directory / f"{started}-{os.getpid()}.jsonl"
        # Line buffering: each fact reaches the kernel as soon as it is written.
        return path, path.open("a", encoding="utf-8", buffering=1)

    def append(self, fact: Fact) -> None:
        """Write one fact; the caller holds `lock`."""
        self._file.write(fact.to_line())

    def needs_rotation(self) -> bool:
        return self._file.tell() >= self.rotate_bytes

    def rotate(self, carried: list[Fact]) -> None:
        """Start a new file holding `carried` (what a recovery must know about calls still in progress)
        and delete the old one. The caller holds `lock`, and every fact in the old file is applied."""
        old_path, old_file = self.path, self._file
        self.path, self._file = self._open()
        for fact in carried:
            self.append(fact)
        old_file.close()
        old_path.unlink()

    def close(self) -> None:
        with self.lock:
            self._file.close()

    def leftovers(self) -> list[Path]:
        """Journals of earlier runs of this handler, oldest first."""
        return sorted(path for path in self.directory.glob("*.jsonl") if path != self.path)


def journal_read(path: Path) -> Iterator[Fact]:
    """The facts of a journal file; a torn last line (the process died mid-write) is skipped."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.endswith("\n"):
                log.warning("journal %s: line %d was cut off by a crash; skipped", path.name, number)
                return
            try:
                yield Fact.from_line(line)
            except (ValueError, KeyError) as error:
                log.error("journal %s: line %d is unreadable (%s); skipped", path.name, number, error)
