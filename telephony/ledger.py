"""The call handler's database side: it applies the SIP thread's facts to the ledger, in order, and answers
its questions (which agent to ring next). It runs on its own thread so SIP timing never waits for it.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections, transaction
from django.utils import timezone

from agents.errors import DomainError
from agents.models import Person, Unit
from agents.selectors import line_candidates, person_by_extension, person_covered_by
from agents.services import agent_claim_for_call, agent_release
from contact_centre.models import EventKind
from contact_centre.services import call_fact_record, call_record_outcome, interaction_record_call
from recordings.services import recording_store
from telephony.journal import Fact, Journal, journal_read
from telephony.models import LineWorker

log = logging.getLogger(__name__)

# Errors that mean "the database is away for now": the fact is retried, in order, until it goes in.
TRANSIENT = (OperationalError, InterfaceError)
RETRY_MAX_SECONDS = 30.0
HEARTBEAT_SECONDS = 5.0


class FactKind:
    ARRIVED = "arrived"
    RUNG = "rung"
    FORWARDED = "forwarded"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    UNANSWERED = "unanswered"
    CALLBACK = "callback"
    RECORDING_STARTED = "recording_started"
    RECORDING = "recording"
    ENDED = "ended"
    RELEASE = "release"  # an agent claimed for a caller who had gone by the time the claim came back


TERMINAL = frozenset({FactKind.ENDED})
# What a recovery needs to know about a call still in progress; a rotated journal carries these.
CARRIED = frozenset({FactKind.ARRIVED, FactKind.ANSWERED, FactKind.RECORDING_STARTED, FactKind.ENDED})
OUTCOME_DETAILS = frozenset({"rings", "attempts", "ended_by"})


@dataclass(frozen=True)
class HuntStep:
    """What to ring next for a waiting caller: an agent's phone, a forward number, or nothing yet."""

    person_id: int | None = None
    extension: str = ""
    forward_number: str = ""
    covering_for: int | None = None  # the absent agent the caller dialled, when a colleague answers

    @property
    def target(self) -> str:
        return self.extension or self.forward_number


def _person(person_id: object) -> Person | None:
    return Person.objects.filter(pk=person_id).first() if isinstance(person_id, int) else None


def _wait_ms(fact: Fact) -> int:
    return int(fact.data["wait_ms"])


def _apply_arrived(fact: Fact) -> None:
    unit = Unit.objects.filter(code=settings.CC_SIP_UNIT).first() if settings.CC_SIP_UNIT else None
    interaction_record_call(
        sip_call_id=fact.sip_call_id,
        arrived_at=fact.at,
        caller=str(fact.data.get("caller", ""))[:320],
        in_office_hours=bool(fact.data["in_hours"]),
        unit=unit,
    )


def _apply_rung(fact: Fact) -> None:
    call_fact_record(
        sip_call_id=fact.sip_call_id,
        kind=EventKind.CALL_AGENT_RUNG,
        step=f"ring:{fact.data['attempt']}",
        occurred_at=fact.at,
        payload=fact.data,
    )
    if fact.data.get("outcome") != "answered" and fact.data.get("agent_id") is not None:
        agent_release(sip_call_id=fact.sip_call_id, at=fact.at, person_id=fact.data["agent_id"])


def _apply_outcome(kind: str) -> Callable[[Fact], None]:
    def apply(fact: Fact) -> None:
        call_record_outcome(
            sip_call_id=fact.sip_call_id,
            kind=kind,
            occurred_at=fact.at,
            wait_ms=_wait_ms(fact),
            agent=_person(fact.data.get("agent_id")),
            details={key: value for key, value in fact.data.items() if key in OUTCOME_DETAILS},
        )
        if kind != EventKind.CALL_ANSWERED:
            agent_release(sip_call_id=fact.sip_call_id, at=fact.at)

    return apply


def _apply_fact_event(kind: str, step: str) -> Callable[[Fact], None]:
    def apply(fact: Fact) -> None:
        call_fact_record(
            sip_call_id=fact.sip_call_id, kind=kind, step=step, occurred_at=fact.at, payload=fact.data
        )

    return apply


def _apply_ended(fact: Fact) -> None:
    call_fact_record(
        sip_call_id=fact.sip_call_id,
        kind=EventKind.CALL_ENDED,
        step="ended",
        occurred_at=fact.at,
        payload=fact.data,
    )
    wrap_up = timedelta(seconds=settings.CC_SIP_WRAP_UP_SECONDS if fact.data.get("answered") else 0)
    agent_release(sip_call_id=fact.sip_call_id, at=fact.at, wrap_up=wrap_up)


def _apply_recording(fact: Fact) -> None:
    caller_wav, agent_wav = fact.data.get("caller_wav"), fact.data.get("agent_wav")
    recording_store(
        sip_call_id=fact.sip_call_id,
        wav_path=Path(fact.data["wav"]),
        started_at=datetime.fromisoformat(fact.data["started_at"]),
        agent=_person(fact.data.get("agent_id")),
        caller_wav=Path(caller_wav) if caller_wav else None,
        agent_wav=Path(agent_wav) if agent_wav else None,
    )


def _apply_release(fact: Fact) -> None:
    agent_release(sip_call_id=fact.sip_call_id, at=fact.at, person_id=fact.data.get("agent_id"))


APPLY: dict[str, Callable[[Fact], None]] = {
    FactKind.ARRIVED: _apply_arrived,
    FactKind.RUNG: _apply_rung,
    FactKind.FORWARDED: _apply_fact_event(EventKind.CALL_FORWARDED, "forwarded"),
    FactKind.ANSWERED: _apply_outcome(EventKind.CALL_ANSWERED),
    FactKind.ABANDONED: _apply_outcome(EventKind.CALL_ABANDONED),
    FactKind.UNANSWERED: _apply_outcome(EventKind.CALL_UNANSWERED),
    FactKind.CALLBACK: _apply_fact_event(EventKind.CALLBACK_REQUESTED, "callback"),
    FactKind.RECORDING_STARTED: lambda fact: None,  # only the recovery reads it
    FactKind.RECORDING: _apply_recording,
    FactKind.ENDED: _apply_ended,
    FactKind.RELEASE: _apply_release,
}


def fact_apply(fact: Fact) -> None:
    """Apply one fact in its own transaction. Idempotent (every ledger write has a source key)."""
    with transaction.atomic():
        APPLY[fact.kind](fact)


def hunt_next(*, dialled: str, tried: Iterable[int], sip_call_id: str, at: datetime) -> HuntStep:
    """Claim whom to ring next (PH-ABSENT, PH-FOCUS): the dialled agent or whoever covers them, else the
    free agent of the line's unit who was offered a call least recently. `tried` are skipped until
    everyone has been tried once."""
    tried = set(tried)
    dialled_person = person_by_extension(dialled) if dialled else None
    if dialled_person is not None and dialled_person.pk not in tried:
        step = _hunt_dialled(dialled_person, sip_call_id, at, tried)
        if step is not None:
            return step
    candidates = line_candidates(unit_code=settings.CC_SIP_UNIT, at=at)
    untried = [person_id for person_id in candidates if person_id not in tried] or candidates
    person = agent_claim_for_call(candidates=untried, sip_call_id=sip_call_id, at=at)
    if person is None:
        return HuntStep()
    return HuntStep(person_id=person.pk, extension=person.extension)


def _hunt_dialled(person: Person, sip_call_id: str, at: datetime, tried: set[int]) -> HuntStep | None:
    try:
        coverage = person_covered_by(person, at)
    except DomainError as error:  # a broken chain saved before the check existed: ring the unit
        log.warning("call %s: coverage of %s failed (%s); ringing the unit", sip_call_id, person, error)
        return None
    if coverage.forward_number:
        if -person.pk in tried:  # the forward number was tried once already
            return None
        return HuntStep(forward_number=coverage.forward_number, covering_for=person.pk)
    target = coverage.covered_by
    if target is None or target.pk in tried:
        return None
    claimed = agent_claim_for_call(candidates=[target.pk], sip_call_id=sip_call_id, at=at)
    if claimed is None:
        return None
    covering_for = person.pk if coverage.is_absent else None
    return HuntStep(person_id=claimed.pk, extension=claimed.extension, covering_for=covering_for)


def journal_recover(paths: Iterable[Path], *, now: datetime) -> int:
    """Apply the facts of journals left by an earlier run, then finish what they left open: a call with
    no end was on a handler that died, so it is recorded as dropped and its agents are freed; a recording
    that was started and not stored is stored as far as it got. Deletes each journal when done.
    Returns how many calls were dropped."""
    dropped = 0
    for path in paths:
        calls: dict[str, dict[str, Fact]] = {}
        for fact in journal_read(path):
            _apply_logged(fact)
            calls.setdefault(fact.sip_call_id, {})[fact.kind] = fact
        for sip_call_id, seen in calls.items():
            started = seen.get(FactKind.RECORDING_STARTED)
            if started is not None and FactKind.RECORDING not in seen:
                _apply_logged(Fact(FactKind.RECORDING, sip_call_id, now, started.data))
            if FactKind.ARRIVED in seen and not TERMINAL.intersection(seen):
                _call_drop(sip_call_id, seen, now)
                dropped += 1
        path.unlink()
    return dropped


def _call_drop(sip_call_id: str, seen: dict[str, Fact], now: datetime) -> None:
    log.warning("call %s was on a call handler that stopped; recorded as dropped", sip_call_id)
    with transaction.atomic():
        call_fact_record(
            sip_call_id=sip_call_id,
            kind=EventKind.CALL_DROPPED,
            step="dropped",
            occurred_at=now,
            payload={
                "answered": FactKind.ANSWERED in seen,
                "last_fact": max(seen.values(), key=lambda fact: fact.at).kind,
            },
        )
        agent_release(sip_call_id=sip_call_id, at=now)


def _apply_logged(fact: Fact) -> bool:
    """Apply a fact, retrying while the database is away; a fact the ledger refuses is logged and skipped
    (it stays in the log with its Call-ID; nothing else depends on it being applied)."""
    delay = 0.5
    while True:
        try:
            fact_apply(fact)
            return True
        except TRANSIENT as error:
            log.warning("call %s: database unavailable (%s); retrying %s", fact.sip_call_id, error, fact.kind)
            close_old_connections()
            time.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)
        except (DomainError, DatabaseError, KeyError, ValueError) as error:
            log.error("call %s: fact %s refused: %s (%r)", fact.sip_call_id, fact.kind, error, fact.data)
            return False


class LedgerThread(threading.Thread):
    """Applies facts in order and answers questions; a question's answer goes back through `reply`."""

    def __init__(self, journal: Journal, worker_name: str) -> None:
        super().__init__(name="ledger", daemon=True)
        self.journal = journal
        self.worker_name = worker_name
        self.items: queue.Queue[Fact | Callable[[], None] | None] = queue.Queue()
        self.calls_active = 0
        self.open_calls: dict[str, dict[str, Fact]] = {}
        self._started_at = timezone.now()
        self._beat_at = 0.0

    def record(self, fact: Fact) -> None:
        """Called on the SIP thread: journal first (survives a crash), then queue for the ledger."""
        with self.journal.lock:
            self.journal.append(fact)
            self.items.put(fact)

    def ask(self, question: Callable[[], None]) -> None:
        self.items.put(question)

    def stop(self) -> None:
        self.items.put(None)

    def run(self) -> None:
        while True:
            try:
                item = self.items.get(timeout=1.0)
            except queue.Empty:
                self._heartbeat()
                continue
            if item is None:
                break
            if isinstance(item, Fact):
                _apply_logged(item)
                self._track(item)
            else:
                self._answer(item)
            self._rotate_when_due()
            self._heartbeat()
        self._heartbeat(force=True)
        close_old_connections()

    def _track(self, fact: Fact) -> None:
        """Keep the facts a recovery would need until the call is over and its recording stored."""
        facts = self.open_calls.get(fact.sip_call_id)
        if facts is None:
            if fact.kind not in CARRIED:  # e.g. an agent given back after the call ended
                return
            facts = self.open_calls[fact.sip_call_id] = {}
        if fact.kind in CARRIED:
            facts[fact.kind] = fact
        recorded = FactKind.RECORDING_STARTED not in facts or fact.kind == FactKind.RECORDING
        if FactKind.ENDED in facts and recorded:
            del self.open_calls[fact.sip_call_id]

    def _rotate_when_due(self) -> None:
        if not self.journal.needs_rotation():
            return
        with self.journal.lock:
            if self.items.empty():  # every journaled fact is applied: nothing is in flight here
                carried = [fact for facts in self.open_calls.values() for fact in facts.values()]
                self.journal.rotate(sorted(carried, key=lambda fact: fact.at))

    def _answer(self, question: Callable[[], None]) -> None:
        delay = 0.5
        while True:
            try:
                question()
                return
            except TRANSIENT as error:
                log.warning("database unavailable (%s); asking again", error)
                close_old_connections()
                time.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)

    def _heartbeat(self, *, force: bool = False) -> None:
        if not force and time.monotonic() - self._beat_at < HEARTBEAT_SECONDS:
            return
        self._beat_at = time.monotonic()
        try:
            LineWorker.objects.update_or_create(
                name=self.worker_name,
                defaults={
                    "pid": os.getpid(),
                    "started_at": self._started_at,
                    "heartbeat_at": datetime.now(UTC),
                    "calls_active": self.calls_active,
                },
            )
        except TRANSIENT as error:
            log.warning("heartbeat not written: %s", error)
            close_old_connections()
