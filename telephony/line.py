"""One call handler on the line: it takes callers from the front door, rings agents and bridges them.

Everything here runs on the SIP thread (see telephony/sip.py). Times are taken in the SIP callbacks with
a monotonic clock: the wait runs from the INVITE reaching the handler to the 200 OK sent to the caller
(ARCHITECTURE.md), whatever the database is doing. Facts go to the journal and the ledger thread; the
answers to questions (whom to ring) come back through `inbox` and are handled between polls.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import pjsua2 as pj

from sla.calendar import WorkingCalendar, is_office_open
from sla.rings import RingCadence, ring_count
from telephony.journal import Fact
from telephony.ledger import FactKind, HuntStep, LedgerThread, hunt_next
from telephony.sip import (
    CALLERS_PER_HANDLER,
    EndpointSettings,
    Leg,
    LineAccount,
    Player,
    account_create,
    call_op,
    endpoint_start,
    ringback_tone,
)

log = logging.getLogger(__name__)

HUNT_RETRY_S = 1.0  # nobody free: ask again after this long
DTMF_WAIT_S = 10.0  # after the all-busy message, how long the caller may take to press 1
RECORDING_SETTLE_S = 0.5  # the recorder's WAV header is written on a later poll (TESTBED.md §B)


@dataclass
class LineSettings:
    """What the SIP thread needs, refreshed by the ledger thread (it reads the database)."""

    calendar: WorkingCalendar
    prompts: dict[str, Path]
    ring_on_ms: int
    ring_off_ms: int
    ring_s: float
    max_wait_s: float
    proxy_domain: str
    spool_dir: Path
    record_split: bool
    # The numbers this line answers: its public number and the agents' extensions (direct dial).
    numbers: frozenset[str] = frozenset()


class Phase(StrEnum):
    CLOSED = "closed"  # out of hours: the announcement, then 480
    WAITING = "waiting"  # recording notice, ringback, agents rung
    CONNECTED = "connected"
    ALL_BUSY = "all_busy"  # nobody answered within the maximum wait: message, press 1
    ENDED = "ended"


@dataclass
class Session:
    """One caller on this handler, from INVITE to hang-up."""

    caller: Leg | GoneLeg
    sip_call_id: str
    caller_uri: str
    dialled: str
    arrived_mono: float
    arrived_at: datetime
    phase: Phase
    prompt_started: bool = False
    notice_done: bool = False
    agent: Leg | None = None
    step: HuntStep | None = None
    ring_started_mono: float = 0.0
    attempts: int = 0
    tried: list[int] = field(default_factory=list)
    hunt_asked: bool = False
    hunt_at: float = 0.0
    agent_answered: bool = False
    answered_mono: float | None = None
    answered_by: int | None = None
    player: Player | None = None
    tone: pj.ToneGenerator | None = None
    recorders: list[pj.AudioMediaRecorder] = field(default_factory=list)
    recording: dict[str, object] = field(default_factory=dict)
    bridged: bool = False
    hangup_at: float | None = None

    def elapsed_ms(self, now: float) -> int:
        return round((now - self.arrived_mono) * 1000)

    def at(self, now: float) -> datetime:
        """The wall-clock instant of monotonic `now`, anchored at the INVITE's arrival."""
        return self.arrived_at + timedelta(seconds=now - self.arrived_mono)


class GoneLeg:
    """Stands in for a caller's leg that pjsua2 has disconnected (the Call object itself is dropped)."""

    role = "caller"
    disconnected = True
    hanging_up = True

    def audio_media(self) -> None:
        return None

    def answer(self, operation: pj.CallOpParam) -> None:
        """Nothing to answer: callers check `disconnected` first."""


GONE = GoneLeg()

_REQUEST_USER = re.compile(r"^INVITE\s+(?:sips?:)?(?:([^@;>\s]+)@)?", re.IGNORECASE)


def dialled_user(request: str) -> str:
    """The user part of the INVITE's Request-URI: the line number or an agent's extension."""
    match = _REQUEST_USER.match(request)
    return match.group(1) if match and match.group(1) else ""


class Line:
    """The SIP thread's state: sessions by Call-ID, and the loop that polls pjsua2."""

    def __init__(self, config: EndpointSettings, ledger: LedgerThread, settings: LineSettings) -> None:
        self.config = config
        self.ledger = ledger
        self.settings = settings
        self.sessions: dict[str, Session] = {}
        self.legs: set[Leg] = set()  # every leg stays referenced until pjsua2 reports it disconnected
        self.released: list[object] = []  # pjsua2 objects dropped on the next poll, never in a callback
        self.inbox: queue.Queue[Callable[[], None]] = queue.Queue()
        self.accepting = True
        self.finished_cleanly = False  # every call ended and recorded before the loop stopped
        self.endpoint: pj.Endpoint | None = None
        self.account: LineAccount | None = None

    # --- the loop -------------------------------------------------------------------------------------

    def run(self, stop: threading.Event, drain_s: float) -> None:
        self.endpoint, _transport = endpoint_start(self.config)
        self.account = account_create(self, self.config)
        log.info("call handler listening on %s:%d", self.config.host, self.config.port)
        try:
            while not stop.is_set():
                self._poll()
            self.accepting = False
            deadline = time.monotonic() + drain_s
            while self.sessions and time.monotonic() < deadline:
                self._poll()
            for session in list(self.sessions.values()):
                self._hangup_all(session, "shutdown")
            deadline = time.monotonic() + 3.0
            while (self.sessions or self.legs) and time.monotonic() < deadline:
                self._poll()
            deadline = time.monotonic() + RECORDING_SETTLE_S + 0.5
            while time.monotonic() < deadline:  # the last recordings' facts are queued by timers
                self._poll()
            self.finished_cleanly = not self.sessions
        finally:
            self._shutdown()

    def _poll(self) -> None:
        if self.endpoint is None:
            raise RuntimeError("the line is not started")
        self.endpoint.libHandleEvents(10)
        self.released.clear()
        while True:
            try:
                action = self.inbox.get_nowait()
            except queue.Empty:
                break
            try:
                action()
            except Exception:  # the loop outlives one bad action; the call it was for is ended
                log.exception("an action on the SIP thread failed")
        now = time.monotonic()
        for session in list(self.sessions.values()):
            try:
                self._tick(session, now)
            except Exception:
                log.exception("call %s: error while ticking; the call is ended", session.sip_call_id)
                self._fail(session)
        self.ledger.calls_active = len(self.sessions)

    def _fail(self, session: Session) -> None:
        """End a call our code could not go on with (recorded as ended by `error`, recording kept)."""
        try:
            self._hangup_all(session, "error")
        except Exception:
            log.exception("call %s: could not end it cleanly", session.sip_call_id)
            self.sessions.pop(session.sip_call_id, None)

    def _shutdown(self) -> None:
        for leg in self.legs:
            leg.session = None
        self.sessions.clear()
        self.legs.clear()
        self.released.clear()
        gc.collect()  # a Call alive at libDestroy aborts the process (TESTBED.md §B)
        if self.account is not None:
            self.account.shutdown()
        if self.endpoint is not None:
            for _ in range(20):
                self.endpoint.libHandleEvents(10)
            self.account = None
            self.endpoint.libDestroy()
            self.endpoint = None

    # --- callbacks (CallEvents) ----------------------------------------------------------------------

    def incoming(self, account: LineAccount, call_id: int, request: str) -> None:
        now = time.monotonic()
        arrived_at = datetime.now(UTC)
        caller = Leg(self, account, "caller", call_id)
        self.legs.add(caller)
        info = caller.getInfo()
        if not self.accepting or len(self.sessions) >= CALLERS_PER_HANDLER:
            # At once, so the front door fails over to another handler.
            caller.answer(call_op(503 if not self.accepting else 486))
            return
        dialled = dialled_user(request)
        if dialled not in self.settings.numbers:
            log.warning("INVITE for unknown number %r from %s refused (404)", dialled, info.remoteUri)
            caller.answer(call_op(404))
            return
        in_hours = self._in_hours(arrived_at)
        session = Session(
            caller=caller,
            sip_call_id=info.callIdString,
            caller_uri=info.remoteUri,
            dialled=dialled,
            arrived_mono=now,
            arrived_at=arrived_at,
            phase=Phase.WAITING if in_hours else Phase.CLOSED,
        )
        caller.session = session
        self.sessions[session.sip_call_id] = session
        self._record(
            session,
            FactKind.ARRIVED,
            now,
            caller=_caller_number(info.remoteUri),
            dialled=session.dialled,
            in_hours=in_hours,
            handler=f"{self.config.host}:{self.config.port}",
        )
        try:
            caller.answer(call_op(183))  # early media: announcements before (or instead of) the answer
        except pj.Error as error:  # e.g. no codec in common: pjsua2 cannot build the SDP
            log.warning("call %s: cannot answer with early media (%s)", session.sip_call_id, error.info())
            self._finish(session, now, "codec", 488)
            self._hangup_leg(caller, 488)
            return
        if in_hours:
            self._hunt(session, now)

    def leg_state(self, leg: Leg) -> None:
        info = leg.getInfo()
        session = leg.session
        try:
            self._leg_state(leg, session, info)
        except Exception:  # a callback must not raise into pjsua2; the call is ended instead
            log.exception("call %s: error in a call-state callback", info.callIdString)
            if isinstance(session, Session):
                self._fail(session)
        finally:
            if leg.disconnected:
                self._forget(leg, session)

    def _forget(self, leg: Leg, session: object | None) -> None:
        """Drop every reference to a disconnected leg while its DISCONNECTED callback runs. pjsua2 frees
        the call id as the callback returns and may give it to the next INVITE at once; a Call object
        destroyed after that would hang the new call up (603). Destroyed here, it is harmless."""
        self.legs.discard(leg)
        leg.session = None
        if isinstance(session, Session):
            if session.caller is leg:
                session.caller = GONE
            if session.agent is leg:
                session.agent = None

    def _leg_state(self, leg: Leg, session: object | None, info: pj.CallInfo) -> None:
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            leg.disconnected = True
        if not isinstance(session, Session):
            return
        now = time.monotonic()
        if leg.role == "caller":
            if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                self._caller_gone(session, now, info.lastStatusCode)
        elif leg is session.agent:
            self._agent_state(session, leg, info, now)

    def leg_media(self, leg: Leg) -> None:
        try:
            self._leg_media(leg)
        except Exception:
            log.exception("call %s: error in a media callback", getattr(leg.session, "sip_call_id", "?"))
            if isinstance(leg.session, Session):
                self._fail(leg.session)

    def _leg_media(self, leg: Leg) -> None:
        session = leg.session
        if not isinstance(session, Session) or session.phase == Phase.ENDED:
            return
        if leg.role == "caller" and not session.prompt_started:
            session.prompt_started = True
            self._prompt_start(session)
        self._bridge(session)

    def leg_dtmf(self, leg: Leg, digit: str) -> None:
        session = leg.session
        if not isinstance(session, Session) or session.phase != Phase.ALL_BUSY or digit != "1":
            return
        if session.recording.get("callback"):
            return
        session.recording["callback"] = True
        now = time.monotonic()
        self._record(session, FactKind.CALLBACK, now, number=_caller_number(session.caller_uri))
        self._play(session, "callback_confirmed")
        session.hangup_at = None

    # --- the call's course ---------------------------------------------------------------------------

    def _in_hours(self, at: datetime) -> bool:
        try:
            return is_office_open(at, self.settings.calendar)
        except Exception:
            log.exception("office hours unknown for %s; treating the line as open", at)
            return True

    def _prompt_start(self, session: Session) -> None:
        if session.phase == Phase.CLOSED:
            self._play(session, "closed")
        elif session.phase == Phase.WAITING:
            self._play(session, "recording_notice")

    def _play(self, session: Session, code: str) -> None:
        media = session.caller.audio_media()
        if media is None:
            return
        self._stop_audio(session)
        player = Player(self.settings.prompts[code])
        player.startTransmit(media)
        session.player = player

    def _ringback(self, session: Session) -> None:
        media = session.caller.audio_media()
        if media is None or session.tone is not None:
            return
        session.tone = ringback_tone(self.settings.ring_on_ms, self.settings.ring_off_ms)
        session.tone.startTransmit(media)

    def _stop_audio(self, session: Session) -> None:
        for source in (session.player, session.tone):
            if source is not None:
                self.released.append(source)
        session.player = None
        session.tone = None

    def _tick(self, session: Session, now: float) -> None:
        if session.player is not None and session.player.finished:
            self._prompt_finished(session, now)
        if session.phase == Phase.WAITING:
            if session.agent is None and not session.hunt_asked and now >= session.hunt_at:
                self._hunt(session, now)
            agent = session.agent
            if (
                agent is not None
                and not session.agent_answered
                and now - session.ring_started_mono >= self.settings.ring_s
            ):
                self._hangup_leg(agent)
            if now - session.arrived_mono >= self.settings.max_wait_s:
                self._all_busy(session, now)
        if session.hangup_at is not None and now >= session.hangup_at:
            session.hangup_at = None
            self._hangup_leg(session.caller, 480 if session.phase == Phase.CLOSED else 200)

    def _prompt_finished(self, session: Session, now: float) -> None:
        self._stop_audio(session)
        if session.phase == Phase.CLOSED:
            session.hangup_at = now
        elif session.phase == Phase.WAITING:
            session.notice_done = True
            if session.agent_answered:
                self._connect(session, now)
            else:
                self._ringback(session)
        elif session.phase == Phase.ALL_BUSY:
            session.hangup_at = now + (0.2 if session.recording.get("callback") else DTMF_WAIT_S)

    def _hunt(self, session: Session, now: float) -> None:
        session.hunt_asked = True
        at = session.at(now)
        tried = tuple(session.tried)

        def question() -> None:
            step = hunt_next(dialled=session.dialled, tried=tried, sip_call_id=session.sip_call_id, at=at)
            self.inbox.put(lambda: self._hunt_answered(session, step))

        self.ledger.ask(question)

    def _hunt_answered(self, session: Session, step: HuntStep) -> None:
        session.hunt_asked = False
        now = time.monotonic()
        if session.phase != Phase.WAITING or self.sessions.get(session.sip_call_id) is not session:
            if step.person_id is not None:  # the caller went while we asked: give the agent back
                self._record(session, FactKind.RELEASE, now, agent_id=step.person_id)
            return
        if not step.target:
            session.hunt_at = now + HUNT_RETRY_S
            return
        self._ring(session, step, now)

    def _ring(self, session: Session, step: HuntStep, now: float) -> None:
        if self.account is None:
            raise RuntimeError("the line is not started")
        session.attempts += 1
        session.step = step
        session.tried.append(step.person_id if step.person_id is not None else -(step.covering_for or 0))
        leg = Leg(self, self.account, "agent")
        self.legs.add(leg)
        leg.session = session
        session.agent = leg
        session.ring_started_mono = now
        if step.forward_number:
            self._record(
                session, FactKind.FORWARDED, now, number=step.forward_number, covering_for=step.covering_for
            )
        try:
            leg.makeCall(f"sip:{step.target}@{self.settings.proxy_domain}", call_op())
        except pj.Error as error:
            log.warning("call %s: cannot ring %s (%s)", session.sip_call_id, step.target, error.info())
            self.legs.discard(leg)
            session.agent = None
            self._attempt_ended(session, now, "unreachable", 0)
            session.hunt_at = now + HUNT_RETRY_S

    def _agent_state(self, session: Session, leg: Leg, info: pj.CallInfo, now: float) -> None:
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED and not session.agent_answered:
            session.agent_answered = True
            session.answered_by = session.step.person_id if session.step else None
            self._attempt_ended(session, now, "answered", info.lastStatusCode)
            if session.notice_done:
                self._connect(session, now)
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            session.agent = None
            if session.agent_answered:
                self._hangup_all(session, "agent")
            elif session.phase == Phase.WAITING:
                outcome = "busy" if info.lastStatusCode in (486, 600) else "no_answer"
                if info.lastStatusCode in (404, 480, 408, 503) and now - session.ring_started_mono < 1.0:
                    outcome = "unreachable"
                self._attempt_ended(session, now, outcome, info.lastStatusCode)
                # The next agent at once after a ring that timed out; a phone that refused or cannot be
                # reached is not tried again in a tight loop.
                session.hunt_at = now if outcome == "no_answer" else now + HUNT_RETRY_S
            else:
                self._attempt_ended(session, now, "caller_left", info.lastStatusCode)

    def _attempt_ended(self, session: Session, now: float, outcome: str, status: int) -> None:
        step = session.step
        if step is None:
            return
        session.step = None
        self._record(
            session,
            FactKind.RUNG,
            now,
            attempt=session.attempts,
            agent_id=step.person_id,
            target=step.target,
            covering_for=step.covering_for,
            ring_ms=round((now - session.ring_started_mono) * 1000),
            outcome=outcome,
            sip_status=status,
        )

    def _connect(self, session: Session, now: float) -> None:
        """The agent answered and the caller has heard the notice: 200 OK to the caller, then bridge."""
        self._stop_audio(session)
        if not self._answer(session, 200):  # the caller went in this very poll
            self._finish(session, now, "caller", 0)
            return
        session.phase = Phase.CONNECTED
        session.answered_mono = now
        self._record(
            session, FactKind.ANSWERED, now, wait_ms=session.elapsed_ms(now), agent_id=session.answered_by
        )
        self._bridge(session)

    def _bridge(self, session: Session) -> None:
        if session.phase != Phase.CONNECTED or session.agent is None:
            return
        caller_media, agent_media = session.caller.audio_media(), session.agent.audio_media()
        if caller_media is None or agent_media is None:
            return
        caller_media.startTransmit(agent_media)
        agent_media.startTransmit(caller_media)
        if not session.bridged:
            session.bridged = True
            self._recording_start(session, caller_media, agent_media)

    def _recording_start(self, session: Session, caller: pj.AudioMedia, agent: pj.AudioMedia) -> None:
        spool = self.settings.spool_dir
        spool.mkdir(parents=True, exist_ok=True)
        stem = hashlib.sha256(session.sip_call_id.encode()).hexdigest()[:32]
        files = {"wav": spool / f"{stem}.wav"}
        sources: dict[str, list[pj.AudioMedia]] = {"wav": [caller, agent]}
        if self.settings.record_split:
            files |= {"caller_wav": spool / f"{stem}.caller.wav", "agent_wav": spool / f"{stem}.agent.wav"}
            sources |= {"caller_wav": [caller], "agent_wav": [agent]}
        for name, path in files.items():
            recorder = pj.AudioMediaRecorder()
            recorder.createRecorder(str(path))
            for source in sources[name]:
                source.startTransmit(recorder)
            session.recorders.append(recorder)
        now = time.monotonic()
        session.recording = {name: str(path) for name, path in files.items()} | {
            "started_at": session.at(now).isoformat(),
            "agent_id": session.answered_by,
        }
        self._record(session, FactKind.RECORDING_STARTED, now, **session.recording)

    def _all_busy(self, session: Session, now: float) -> None:
        """Nobody answered within the maximum wait: answer to play the message and take a '1'."""
        session.phase = Phase.ALL_BUSY
        self._record(
            session, FactKind.UNANSWERED, now, wait_ms=session.elapsed_ms(now), attempts=session.attempts
        )
        if session.agent is not None:
            self._hangup_leg(session.agent)
        self._stop_audio(session)
        if not self._answer(session, 200):
            self._finish(session, now, "caller", 0)
            return
        self._play(session, "all_busy")

    def _caller_gone(self, session: Session, now: float, status: int) -> None:
        if session.phase == Phase.WAITING:
            self._record(
                session, FactKind.ABANDONED, now, wait_ms=session.elapsed_ms(now), attempts=session.attempts
            )
        self._finish(session, now, "caller", status)

    def _hangup_all(self, session: Session, ended_by: str) -> None:
        now = time.monotonic()
        if session.phase == Phase.WAITING:
            self._record(
                session,
                FactKind.ABANDONED,
                now,
                wait_ms=session.elapsed_ms(now),
                attempts=session.attempts,
                ended_by=ended_by,
            )
        self._hangup_leg(session.caller)
        self._finish(session, now, ended_by, 0)

    def _finish(self, session: Session, now: float, ended_by: str, status: int) -> None:
        if session.phase == Phase.ENDED:
            return
        answered = session.answered_mono is not None
        previous, session.phase = session.phase, Phase.ENDED
        if session.agent is not None:
            self._hangup_leg(session.agent)
        self._stop_audio(session)
        self.released.extend(session.recorders)  # the WAV header is written once the recorder is gone
        session.recorders = []
        talk_ms = round((now - session.answered_mono) * 1000) if session.answered_mono else 0
        self._record(
            session,
            FactKind.ENDED,
            now,
            answered=answered,
            ended_by=ended_by,
            phase=previous.value,
            talk_ms=talk_ms,
            total_ms=session.elapsed_ms(now),
            sip_status=status,
        )
        if session.bridged:
            fact = Fact(FactKind.RECORDING, session.sip_call_id, session.at(now), dict(session.recording))
            self._later(RECORDING_SETTLE_S, lambda: self.ledger.record(fact))
        self.sessions.pop(session.sip_call_id, None)

    def _answer(self, session: Session, status: int) -> bool:
        """Answer the caller; False when the caller has gone meanwhile (their INVITE is over)."""
        if session.caller.disconnected:
            return False
        try:
            session.caller.answer(call_op(status))
        except pj.Error as error:
            log.warning("call %s: cannot answer %d (%s)", session.sip_call_id, status, error.info())
            return False
        return True

    def _later(self, delay_s: float, action: Callable[[], None]) -> None:
        timer = threading.Timer(delay_s, lambda: self.inbox.put(action))
        timer.daemon = True
        timer.start()

    def _hangup_leg(self, leg: Leg | GoneLeg, status: int = 0) -> None:
        if isinstance(leg, GoneLeg) or leg.disconnected or leg.hanging_up:
            return
        leg.hanging_up = True
        try:
            leg.hangup(call_op(status))
        except pj.Error as error:  # already being torn down by the other side
            log.debug("hangup: %s", error.info())

    def _record(self, session: Session, kind: str, now: float, **data: object) -> None:
        wait_ms = data.get("wait_ms")
        if isinstance(wait_ms, int):  # the ledger keeps the rings with the raw milliseconds
            cadence = RingCadence(on_ms=self.settings.ring_on_ms, off_ms=self.settings.ring_off_ms)
            data["rings"] = ring_count(wait_ms, cadence)
        self.ledger.record(Fact(kind, session.sip_call_id, session.at(now), data))


def _caller_number(remote_uri: str) -> str:
    """The caller's number (or SIP user) from the From URI, e.g. '"Anna" <sip:+37129111111@host>'."""
    match = re.search(r"sips?:([^@;>]+)@", remote_uri)
    return match.group(1) if match else remote_uri.strip("<>")
