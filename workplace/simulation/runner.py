"""The simulation's loop: phones up and registered, calls placed and e-mails delivered on schedule, a line
printed per action, and on the way out every call hung up, every SIPp process stopped, the agents and
the office hours put back as they were, and the summary printed.

One thread does it all, in 0.1 s ticks: SIPp does the real-time work (SIP, RTP), and nothing here waits
long except the hang-ups at the end.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from agents.models import Person
from sla.rings import ring_deadline_ms
from sla.services import policy_get, policy_ring_cadence
from workplace.simulation.agents import Shift, demo_agents
from workplace.simulation.audio import AGENT_TONE_HZ, CALLER_LINES, CALLER_TONE_HZ, agent_line, voice_write
from workplace.simulation.delivery import MailDrop
from workplace.simulation.mails import MailWriter
from workplace.simulation.office import HANDLERS_REREAD_S, OpenedDay, line_open_today, line_restore
from workplace.simulation.plan import Options, PlannedCall, PlannedMail, Schedule
from workplace.simulation.report import MAIL_LABELS, Tally, call_plan_text, clock
from workplace.simulation.sip import caller_dialog_read, caller_hang_up, sip_register
from workplace.simulation.sipp import AgentPhone, CallerProcess, CallOutcome, PortPool
from workplace.simulation.target import Target

TICK_S = 0.1
REGISTER_EXPIRES_S = 300
REGISTER_EVERY_S = 120.0
BUSY_STATUSES = frozenset({486, 503, 600})


class Simulation:
    def __init__(
        self, options: Options, target: Target, say: Callable[[str], None], stop: threading.Event
    ) -> None:
        self.options = options
        self.target = target
        self._say = say
        self.stop = stop
        self.tally = Tally()
        self.ports = PortPool(target.front_door[0])
        self.work_dir = Path(tempfile.mkdtemp(prefix="cc-simulate-"))
        self.phones: list[tuple[Person, AgentPhone]] = []
        self.callers: list[CallerProcess] = []
        self.caller_voices: list[Path] = []
        self.started = time.monotonic()
        self.calls_from_s = 0.0  # calls wait for the handlers to see --open-line's hours
        self.shift: Shift | None = None
        self.opened: OpenedDay | None = None
        self.ring_deadline_s = _ring_deadline_s()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def say(self, text: str) -> None:
        self._say(f"{clock(self.elapsed)} {text}")

    # --- the run ---------------------------------------------------------------------------------

    def run(self, schedule: Schedule) -> Tally:
        try:
            self._set_up()
            self._loop(schedule)
            self._drain()
        finally:
            self._tear_down()
        for line in self.tally.summary(self.elapsed, self.target.mailbox.via):
            self._say(line)
        return self.tally

    def _set_up(self) -> None:
        if self.options.calls_per_minute <= 0:
            return
        if self.options.open_line:
            self._open_line()
        spoken = True
        for index, text in enumerate(CALLER_LINES):
            path = self.work_dir / f"caller-{index}.ul"
            spoken &= voice_write(path, text, tone_hz=CALLER_TONE_HZ)
            self.caller_voices.append(path)
        self.say(
            "voices: " + ("Latvian speech (espeak-ng)" if spoken else "tones (no espeak-ng or sox here)")
        )
        agents = demo_agents(self.options.agents)
        self.shift = Shift.begin(agents, datetime.now(UTC))
        for person in agents:
            self._phone_start(person)

    def _open_line(self) -> None:
        try:
            self.opened = line_open_today(datetime.now(UTC))
        except ValueError as error:
            self.say(f"--open-line: {error}; callers will hear the closed-hours announcement")
            return
        if self.opened is not None:
            self.calls_from_s = HANDLERS_REREAD_S
            self.say(
                f"--open-line: today's office hours set to 00:00–23:59:59 until the end (weekday "
                f"{self.opened.weekday}); calls start in {HANDLERS_REREAD_S:.0f} s, when the call handlers "
                "have re-read the calendar. If this process is killed, put the hours back in the admin."
            )

    def _phone_start(self, person: Person) -> None:
        name = person.user.get_full_name() or person.user.get_username()
        voice = self.work_dir / f"agent-{person.extension}.ul"
        voice_write(voice, agent_line(person.user.first_name or name), tone_hz=AGENT_TONE_HZ)
        span = self.options.answer_after
        ring = (span.low, span.high)
        phone = AgentPhone(self.ports, self.work_dir, person.extension, audio=voice, ring_s=ring)
        phone.start()
        self.phones.append((person, phone))
        status = self._register(phone, REGISTER_EXPIRES_S)
        self.say(
            f"phone {person.extension} ({name}) on {phone.contact}: registered ({status}), available, "
            f"rings {span} then answers"
        )

    def _register(self, phone: AgentPhone, expires: int) -> int:
        return sip_register(
            self.target.front_door,
            domain=self.target.domain,
            extension=phone.extension,
            contact=phone.contact,
            expires=expires,
        )

    def _loop(self, schedule: Schedule) -> None:
        calls, mails = schedule.calls(), schedule.mails()
        next_call, next_mail = next(calls, None), next(mails, None)
        writer = MailWriter(schedule.rng("content"), self.target.mailbox.address)
        drop = MailDrop(self.target.mailbox)
        end_at = self.options.minutes * 60 if self.options.minutes is not None else float("inf")
        registered_at = time.monotonic()
        try:
            while not self.stop.is_set() and self.elapsed < end_at:
                while next_call is not None and next_call.at_s + self.calls_from_s <= self.elapsed:
                    self._call_place(next_call)
                    next_call = next(calls, None)
                while next_mail is not None and next_mail.at_s <= self.elapsed:
                    self._mail_deliver(writer, drop, next_mail)
                    next_mail = next(mails, None)
                self._poll()
                if time.monotonic() - registered_at >= REGISTER_EVERY_S:
                    for _, phone in self.phones:
                        self._register(phone, REGISTER_EXPIRES_S)
                    registered_at = time.monotonic()
                self.stop.wait(TICK_S)
        finally:
            drop.close()

    def _drain(self) -> None:
        if self.stop.is_set() or not self.callers:
            return
        if self.options.drain_s <= 0:
            self.say("time is up")
            return
        self.say(f"time is up: {len(self.callers)} calls in progress get {self.options.drain_s:g} s to end")
        deadline = time.monotonic() + self.options.drain_s
        while self.callers and not self.stop.is_set() and time.monotonic() < deadline:
            self._poll()
            self.stop.wait(TICK_S)

    def _tear_down(self) -> None:
        try:
            self._hang_up_all()
            if self.phones:
                time.sleep(1.0)  # the handlers' BYEs and CANCELs reach the phones
                self._poll()
        finally:
            self._phones_stop()
        if self.shift is not None:
            self.shift.end(datetime.now(UTC))
        if self.opened is not None:
            line_restore(self.opened)
            self.say("--open-line: today's office hours are back as they were")
        if self.tally.calls["failed"]:
            self.say(f"SIPp's logs of the failed calls are kept in {self.work_dir}")
        else:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def _phones_stop(self) -> None:
        for _, phone in self.phones:
            with contextlib.suppress(TimeoutError, OSError):  # else the registration expires by itself
                self._register(phone, 0)
            phone.stop()
        self.phones.clear()

    # --- calls -----------------------------------------------------------------------------------

    def _call_place(self, call: PlannedCall) -> None:
        voice = self.caller_voices[call.number % len(self.caller_voices)]
        caller = CallerProcess(self.ports, self.work_dir, call, voice)
        caller.start(self.target.front_door_address, self.target.line_number)
        self.callers.append(caller)
        self.tally.calls["placed"] += 1
        self.say(f"{call_plan_text(call)} -> dials {self.target.line_number}")

    def _poll(self) -> None:
        for caller in list(self.callers):
            self._call_answered(caller, caller.outcome())
            if caller.poll() is not None:
                self.callers.remove(caller)
                caller.stop()
                outcome = caller.outcome()  # read again: it may have ended since
                self._call_answered(caller, outcome)
                self._call_ended(caller, outcome)
            elif time.monotonic() - caller.started_mono > self._longest_call_s():
                self._hang_up(caller, why="took longer than any call should")
        for person, phone in self.phones:
            for result, ring_s in phone.new_calls():
                name = person.user.first_name or person.extension
                if result == "answered":
                    self.tally.answered_by[f"{name} ({person.extension})"] += 1
                    self.say(f"phone {person.extension} ({name}) rang {ring_s:.1f} s and answered")
                else:  # the line gave up (CC_SIP_RING_SECONDS) and tried another agent, or the caller left
                    self.say(
                        f"phone {person.extension} ({name}) stopped ringing ({result}) before its answer at "
                        f"{ring_s:.1f} s"
                    )
            if not phone.running:
                self.say(f"phone {person.extension} stopped unexpectedly (rc {phone.returncode})")
                self.phones.remove((person, phone))

    def _call_answered(self, caller: CallerProcess, outcome: CallOutcome | None) -> None:
        """Count and report the answer once, when the caller's 200 OK is in its log."""
        if outcome is None or outcome.status != 200 or caller.answered_reported:  # noqa: PLR2004
            return
        caller.answered_reported = True
        wait = outcome.wait_s or 0
        self.tally.calls["answered"] += 1
        if wait >= settings.CC_SIP_MAX_WAIT_SECONDS - 1:
            self.tally.calls["all_busy"] += 1
            how = "nobody free: the all-busy message"
        elif wait >= self.ring_deadline_s:
            self.tally.calls["answered_late"] += 1
            how = "after the 3rd ring: a PH-RING breach"
        else:
            how = "by the 3rd ring"
        self.say(f"call #{caller.call.number} answered after {wait:.1f} s ({how})")

    def _call_ended(self, caller: CallerProcess, outcome: CallOutcome | None) -> None:
        status = outcome.status if outcome else None
        if status == 200:  # noqa: PLR2004 -- counted when answered
            text = "talked and hung up"
        elif status == 487:  # noqa: PLR2004 -- the caller's own CANCEL
            after = caller.call.abandon_after_s or 0
            short = after < self.ring_deadline_s
            self.tally.calls["short_abandon" if short else "late_abandon"] += 1
            verdict = "a short abandon, not a breach" if short else "a PH-RING breach"
            text = f"gave up after {after:.0f} s of ringing ({verdict})"
        elif status == 480:  # noqa: PLR2004
            self.tally.calls["closed"] += 1
            text = "heard the closed-hours announcement (out of hours, PH-HOURS)"
        elif status in BUSY_STATUSES:
            self.tally.calls["busy"] += 1
            text = f"line full ({status}): every call handler is busy"
        elif status is not None:
            self.tally.calls["refused"] += 1
            text = f"refused with {status}"
        else:
            self.tally.calls["failed"] += 1
            text = f"failed (SIPp rc {caller.returncode}); see the SIPp errors in {caller.work_dir}"
        self.say(f"call #{caller.call.number} ended: {text}")

    def _longest_call_s(self) -> float:
        return settings.CC_SIP_MAX_WAIT_SECONDS + self.options.talk.high + 60

    def _hang_up(self, caller: CallerProcess, *, why: str) -> None:
        """Stop the caller's SIPp and send what a caller hanging up would (see sip.py)."""
        self.callers.remove(caller)
        local = (caller.host, caller.port)
        caller.stop(sig=signal.SIGKILL, timeout=2)
        dialog = caller_dialog_read(caller.trace)
        try:
            done = "over" if dialog is None else caller_hang_up(dialog, local, self.target.front_door)
        except OSError as error:  # its port was taken meanwhile by another program
            self.say(f"call #{caller.call.number} {why}: could not hang it up ({error})")
            return
        self.tally.calls["hung_up"] += done != "over"
        how = done.upper() if done != "over" else "it was already over"
        self.say(f"call #{caller.call.number} {why}: hung up ({how})")

    def _hang_up_all(self) -> None:
        for caller in list(self.callers):
            self._hang_up(caller, why="still in progress at the end")

    # --- e-mail ----------------------------------------------------------------------------------

    def _mail_deliver(self, writer: MailWriter, drop: MailDrop, planned: PlannedMail) -> None:
        mail = writer.write(planned.kind)
        answers = f", answering {mail.answers}" if mail.answers else ""
        what = f"e-mail #{planned.number} {MAIL_LABELS[mail.kind]} from {mail.sender or '(nobody)'}{answers}"
        subject = mail.subject if len(mail.subject) <= 60 else mail.subject[:59] + "…"  # noqa: PLR2004
        try:
            drop.deliver(mail)
        except Exception as error:  # refused or unreachable: reported, and the run goes on
            self.tally.mail_failures += 1
            self.say(f"{what}: NOT delivered ({error})")
            return
        self.tally.mails[mail.kind] += 1
        self.say(f'{what}: "{subject}" delivered')


def _ring_deadline_s() -> float:
    """When PH-RING is late: the start of the ring after the allowed ones (15 s by the handbook)."""
    policy = policy_get("PH-RING")
    return ring_deadline_ms(policy.amount, policy_ring_cadence(policy)) / 1000


def simulation_run(
    options: Options, target: Target, *, say: Callable[[str], None], stop: threading.Event
) -> Tally:
    return Simulation(options, target, say, stop).run(Schedule(options))
