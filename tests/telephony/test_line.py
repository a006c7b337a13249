"""The phone line end to end (PH-RING, PH-ABSENT, PH-REC, PH-HOURS, PH-FOCUS): SIPp callers and phones,
Kamailio, real call handlers, and the ledger and clocks they write."""

from __future__ import annotations

import socket
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile

from agents.models import AbsenceKind, AgentStatus, Person
from agents.services import absence_create
from contact_centre.models import Event, EventKind, Interaction
from recordings.audio import tone_presence
from recordings.models import Recording
from sla.models import Clock
from telephony.models import Prompt, PromptCode
from tests.factories import riga
from tests.sipkit import (
    AGENT_TONE_HZ,
    CALLER_NUMBER,
    CALLER_TONE_HZ,
    DOMAIN,
    LINE_NUMBER,
    SippAgent,
    SippCaller,
    sip_register,
)
from tests.telephony.conftest import FrontDoor, Line, Phone, add_phone, wait_for
from tests.telephony.rtpsniff import RtpSniffer

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

MONDAY_10 = riga(2026, 11, 23, 10, 0)
TONE = 0.25**2 * 0.5  # tone_power of a 0.25-FS tone is 0.0625; half of it is a clear "present"


def _heard(samples: npt.NDArray[np.int16], freq_hz: float) -> float:
    """The share of 100 ms windows holding the tone (robust to a frame a jitter buffer slipped)."""
    return tone_presence(samples, 8000, freq_hz, threshold=TONE)


def _kinds(interaction: Interaction) -> list[str]:
    return list(interaction.events.order_by("seq").values_list("kind", flat=True))


def _ended(count: int = 1) -> None:
    wait_for(lambda: Event.objects.filter(kind=EventKind.CALL_ENDED).count() >= count, what="the call's end")


def _recorded(count: int = 1) -> None:
    wait_for(lambda: Recording.objects.count() >= count, what="the recording stored")


def _ring_clock(interaction: Interaction) -> Clock:
    return interaction.clocks.get(rule_id="PH-RING")


def _call(front_door: FrontDoor, work_dir: Path, *, talk_ms: int = 2000, **kwargs: object) -> SippCaller:
    return SippCaller(front_door.kamailio.address, LINE_NUMBER, work_dir, duration_ms=talk_ms, **kwargs)


def test_a_call_answered_on_the_second_ring_meets_ph_ring_and_is_recorded_with_both_voices(
    line: Line, front_door: FrontDoor, phones: list[Phone], tmp_path: Path
) -> None:
    phone = add_phone(phones, front_door, tmp_path, "101", ring_ms=2000)
    line.start(MONDAY_10)

    result = _call(front_door, tmp_path, talk_ms=3000).run()

    assert result.rc == 0, result.explain()
    _recorded()
    interaction = Interaction.objects.get()
    assert _kinds(interaction)[:4] == [
        EventKind.CALL_ARRIVED, EventKind.CALL_AGENT_RUNG, EventKind.CALL_ANSWERED, EventKind.CALL_ENDED
    ]  # fmt: skip
    answered = interaction.events.get(kind=EventKind.CALL_ANSWERED)
    # The caller heard the recording notice (6.8 s) first: the answer comes on ring 2 (5-10 s).
    assert 5000 <= answered.payload["wait_ms"] < 10000
    assert answered.payload["rings"] == 2
    assert answered.payload["agent_id"] == phone.person.pk
    caller_wait = result.records[0].wait_ms
    assert caller_wait is not None
    assert abs(caller_wait - answered.payload["wait_ms"]) < 100
    clock = _ring_clock(interaction)
    assert clock.state == "met"
    assert clock.detail["rings"] == 2
    recording = Recording.objects.get()
    samples, _ = soundfile.read(line.recordings_dir / recording.path, dtype="int16")
    assert _heard(samples, CALLER_TONE_HZ) > 0.8
    assert _heard(samples, AGENT_TONE_HZ) > 0.8
    assert interaction.clocks.get(rule_id="PH-REC").state == "met"


def test_the_caller_hears_the_agent_and_the_agent_hears_the_caller(
    line: Line, front_door: FrontDoor, phones: list[Phone], tmp_path: Path
) -> None:
    phone = add_phone(phones, front_door, tmp_path, "111", ring_ms=1000)
    line.start(MONDAY_10, CC_SIP_RECORD_SPLIT="true")
    caller = _call(front_door, tmp_path, talk_ms=4000)
    to_caller, to_agent = RtpSniffer(caller.media_port), RtpSniffer(phone.sipp.media_port)

    result = caller.run()
    _ended()
    heard_by_caller, heard_by_agent = to_caller.stop(), to_agent.stop()

    assert result.rc == 0, result.explain()
    last_2_s = slice(-2 * 8000, None)  # the conversation; before it the caller heard the notice
    assert _heard(heard_by_caller[last_2_s], AGENT_TONE_HZ) > 0.8
    assert _heard(heard_by_caller[last_2_s], CALLER_TONE_HZ) < 0.1
    assert _heard(heard_by_agent[last_2_s], CALLER_TONE_HZ) > 0.8
    assert _heard(heard_by_agent[last_2_s], AGENT_TONE_HZ) < 0.1
    # Recorded apart as well (CC_SIP_RECORD_SPLIT): each party on their own file.
    _recorded()
    recording = Recording.objects.get()
    caller_only, _ = soundfile.read(line.recordings_dir / recording.caller_path, dtype="int16")
    agent_only, _ = soundfile.read(line.recordings_dir / recording.agent_path, dtype="int16")
    assert _heard(caller_only, CALLER_TONE_HZ) > 0.8
    assert _heard(caller_only, AGENT_TONE_HZ) < 0.1
    assert _heard(agent_only, AGENT_TONE_HZ) > 0.8
    assert _heard(agent_only, CALLER_TONE_HZ) < 0.1


def test_a_call_answered_at_16_seconds_breaches_ph_ring_with_four_rings(
    line: Line, front_door: FrontDoor, phones: list[Phone], tmp_path: Path
) -> None:
    add_phone(phones, front_door, tmp_path, "121", ring_ms=16000)
    line.start(MONDAY_10, CC_SIP_RING_SECONDS=25)

    result = _call(front_door, tmp_path, talk_ms=1000).run()

    assert result.rc == 0, result.explain()
    _ended()
    interaction = Interaction.objects.get()
    wait_ms = interaction.events.get(kind=EventKind.CALL_ANSWERED).payload["wait_ms"]
    assert 16000 <= wait_ms < 17000
    clock = _ring_clock(interaction)
    assert clock.state == "breached"
    assert clock.detail == {"wait_ms": wait_ms, "rings": 4, "verdict": "breached"}


def test_when_the_first_agent_does_not_answer_the_next_is_rung_under_one_clock(
    line: Line, front_door: FrontDoor, phones: list[Phone], tmp_path: Path
) -> None:
    silent = add_phone(phones, front_door, tmp_path, "131", scenario="agent_noanswer.xml")
    answering = add_phone(phones, front_door, tmp_path, "132", ring_ms=1000)
    line.start(MONDAY_10, CC_SIP_RING_SECONDS=3)

    result = _call(front_door, tmp_path).run()

    assert result.rc == 0, result.explain()
    _ended()
    interaction = Interaction.objects.get()
    rung = [event.payload for event in interaction.events.filter(kind=EventKind.CALL_AGENT_RUNG)]
    assert [(r["agent_id"], r["outcome"]) for r in rung] == [
        (silent.person.pk, "no_answer"), (answering.person.pk, "answered")
    ]  # fmt: skip
    assert 2900 <= rung[0]["ring_ms"] < 3300
    assert interaction.events.get(kind=EventKind.CALL_ANSWERED).payload["agent_id"] == answering.person.pk
    assert interaction.clocks.filter(rule_id="PH-RING").count() == 1
    assert _ring_clock(interaction).state == "met"
    assert silent.sipp.counts().get("cancelled") == 1


def _absence(person: Person, **target: object) -> None:
    absence_create(
        person=person, kind=AbsenceKind.LEAVE, starts_at=riga(2026, 11, 20, 0, 0),
        ends_at=riga(2026, 11, 30, 0, 0), **target,
    )  # fmt: skip


def test_the_line_skips_an_absent_agent(
    line: Line, front_door: FrontDoor, phones: list[Phone], tmp_path: Path
) -> None:
    away = add_phone(phones, front_door, tmp_path, "141", ring_ms=1000)
    present = add_phone(phones, front_door, tmp_path, "142", ring_ms=1000)
    _absence(away.person, substitute=present.person)
    line.start(MONDAY_10)

    result = _call(front_door, tmp_path).run()

    assert result.rc == 0, result.explain()
    _ended()
    rung = Event.objects.filter(kind=EventKind.CALL_AGENT_RUNG)
    assert [event.payload["agent_id"] for event in rung] == [present.person.pk]
    assert away.sipp.calls() == []


def test_a_call_to_an_absent_agents_extension_goes_to_their_substitute(
    line: Line, front_door: FrontDoor, phones: list[Phone], tmp_path: Path
) -> None:
    away = add_phone(phones, front_door, tmp_path, "151", ring_ms=1000)
    substitute = add_phone(phones, front_door, tmp_path, "152", ring_ms=1000)
    _absence(away.person, substitute=substitute.person)
    line.start(MONDAY_10)

    result = SippCaller(front_door.kamailio.address, "151", tmp_path, duration_ms=1000).run()

    assert result.rc == 0, result.explain()
    _ended()
    rung = Event.objects.get(kind=EventKind.CALL_AGENT_RUNG).payload
    assert (rung["agent_id"], rung["covering_for"], rung["outcome"]) == (
        substitute.person.pk, away.person.pk, "answered"
    )  # fmt: skip


def test_a_call_to_an_absent_agent_with_a_forward_number_goes_to_that_number(
    line: Line, front_door: FrontDoor, phones: list[Phone], tmp_path: Path
) -> None:
    away = add_phone(phones, front_door, tmp_path, "161", ring_ms=1000)
    _absence(away.person, forward_number="29123456")
    with SippAgent(tmp_path, ring_ms=1000, name="mobile") as mobile:
        kamailio = front_door.kamailio
        assert (
            sip_register(kamailio.host, kamailio.port, "29123456", "127.0.0.1", mobile.port, domain=DOMAIN)
            == 200
        )
        line.start(MONDAY_10)

        result = SippCaller(kamailio.address, "161", tmp_path, duration_ms=1000).run()
        _ended()
        sip_register(
            kamailio.host, kamailio.port, "29123456", "127.0.0.1", mobile.port, expires=0, domain=DOMAIN
        )

    assert result.rc == 0, result.explain()
    interaction = Interaction.objects.get()
    forwarded = interaction.events.get(kind=EventKind.CALL_FORWARDED).payload
    assert (forwarded["number"], forwarded["covering_for"]) == ("29123456", away.person.pk)
    assert interaction.events.get(kind=EventKind.CALL_AGENT_RUNG).payload["outcome"] == "answered"
    assert [call.outcome for call in mobile.calls()] == ["answered"]
    assert away.sipp.calls() == []


@pytest.mark.parametrize(
    ("hang_up_after_ms", "verdict", "state"),
    [(8000, "short_abandon", "stopped"), (20000, "breached", "breached")],
)
def test_a_caller_who_hangs_up_before_15_s_is_a_short_abandon_and_after_it_a_breach(
    line: Line, front_door: FrontDoor, phones: list[Phone], tmp_path: Path,
    hang_up_after_ms: int, verdict: str, state: str,
) -> None:  # fmt: skip
    add_phone(phones, front_door, tmp_path, "171", scenario="agent_noanswer.xml")
    line.start(MONDAY_10, CC_SIP_RING_SECONDS=30)

    result = _call(
        front_door, tmp_path, scenario="caller_abandon.xml", sets={"abandon_after_ms": hang_up_after_ms}
    ).run()

    assert result.rc == 0, result.explain()
    _ended()
    interaction = Interaction.objects.get()
    abandoned = interaction.events.get(kind=EventKind.CALL_ABANDONED).payload
    assert hang_up_after_ms <= abandoned["wait_ms"] < hang_up_after_ms + 500
    clock = _ring_clock(interaction)
    assert (clock.state, clock.detail["verdict"]) == (state, verdict)
    rung = interaction.events.get(kind=EventKind.CALL_AGENT_RUNG).payload
    assert rung["outcome"] == "caller_left"
    assert AgentStatus.objects.get().in_call == ""  # the agent is free again


@pytest.mark.parametrize(
    "at",
    [riga(2026, 11, 22, 10, 0), riga(2026, 11, 17, 16, 30)],
    ids=["sunday", "the-shortened-day-before-18-november"],
)
def test_a_call_outside_office_hours_hears_the_closed_announcement_and_is_not_breached(
    line: Line, front_door: FrontDoor, phones: list[Phone], tmp_path: Path, at: datetime
) -> None:
    add_phone(phones, front_door, tmp_path, "181", ring_ms=1000)
    # A short announcement keeps the test short; the line synthesises the edited text on start.
    Prompt.objects.filter(code=PromptCode.CLOSED).update(text_lv="Slēgts.", text_en="Closed.")
    line.start(at)

    result = _call(front_door, tmp_path, scenario="caller_closed.xml").run()

    assert result.rc == 0, result.explain()
    assert result.records[0].final_status == 480
    _ended()
    interaction = Interaction.objects.get()
    assert _kinds(interaction) == [EventKind.CALL_OUT_OF_HOURS, EventKind.CALL_ENDED]
    assert not interaction.clocks.exists()
    assert phones[0].sipp.calls() == []


def test_more_callers_than_the_line_can_take_get_busy_and_the_rest_are_served(
    line: Line, front_door: FrontDoor, phones: list[Phone], tmp_path: Path
) -> None:
    for extension in ("191", "192", "193"):
        add_phone(phones, front_door, tmp_path, extension, ring_ms=1000)
    line.start(MONDAY_10)  # one call handler: two callers at a time (four pjsua2 calls)
    kamailio = front_door.kamailio
    assert kamailio.wait_worker_state(front_door.handler_name(1), "inactive", timeout=10)

    result = _call(front_door, tmp_path, talk_ms=3000, calls=3, rate_per_s=20).run()

    statuses = sorted(record.final_status for record in result.records)
    assert statuses[:2] == [200, 200], result.explain()
    assert statuses[2] in (486, 500, 503), result.explain()
    _ended(2)
    assert Interaction.objects.count() == 2
    assert Event.objects.filter(kind=EventKind.CALL_ANSWERED).count() == 2
    wait_for(lambda: not AgentStatus.objects.exclude(in_call="").exists(), what="agents released")


def test_a_call_on_a_killed_call_handler_is_recorded_as_dropped_with_its_recording(
    line: Line, front_door: FrontDoor, phones: list[Phone], tmp_path: Path
) -> None:
    add_phone(phones, front_door, tmp_path, "201", ring_ms=1000)
    line.start(MONDAY_10)
    caller = _call(front_door, tmp_path, talk_ms=30000, timeout_s=20).start()
    wait_for(lambda: Event.objects.filter(kind=EventKind.CALL_ANSWERED).exists(), what="the answer")
    time.sleep(2)  # two seconds of conversation on the recorder

    line.kill()
    line.start(MONDAY_10)  # the supervisor's restart: the handler replays its journal

    wait_for(lambda: Event.objects.filter(kind=EventKind.CALL_DROPPED).exists(), what="the drop")
    caller.process.stop()
    interaction = Interaction.objects.get()
    assert interaction.events.get(kind=EventKind.CALL_DROPPED).payload["answered"] is True
    _recorded()
    recording = Recording.objects.get()
    assert recording.duration_ms >= 1500
    assert recording.loud_fraction > 0.5
    assert interaction.clocks.get(rule_id="PH-REC").state == "met"
    assert AgentStatus.objects.get().in_call == ""


def _invite_with_codec(
    kamailio_host: str, kamailio_port: int, payload_type: int, codec: str, number: str = LINE_NUMBER
) -> int:
    """An INVITE for `number` offering only `codec`; the final status the line answers with."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(10)
        port = sock.getsockname()[1]
        sdp = (
            f"v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio 9 RTP/AVP {payload_type}\r\na=rtpmap:{payload_type} {codec}/8000\r\n"
        )
        head = (
            f"INVITE sip:{number}@{kamailio_host}:{kamailio_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-codec-{port};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:37120000009@127.0.0.1>;tag=codec\r\n"
            f"To: <sip:{number}@{kamailio_host}>\r\nCall-ID: codec-{port}@test\r\nCSeq: 1 INVITE\r\n"
            f"Contact: <sip:x@127.0.0.1:{port}>\r\nContent-Type: application/sdp\r\n"
            f"Content-Length: {len(sdp)}\r\n\r\n"
        )
        sock.sendto((head + sdp).encode(), (kamailio_host, kamailio_port))
        while True:
            status = int(sock.recv(65535).split(b" ", 2)[1])
            if status >= 200:
                return status


def test_bad_calls_are_refused_and_the_line_goes_on(
    line: Line, front_door: FrontDoor, phones: list[Phone], tmp_path: Path
) -> None:
    add_phone(phones, front_door, tmp_path, "211", ring_ms=1000)
    line.start(MONDAY_10)
    kamailio = front_door.kamailio

    assert _invite_with_codec(kamailio.host, kamailio.port, 18, "G729") == 488
    assert _invite_with_codec(kamailio.host, kamailio.port, 0, "PCMU", number="99999999") == 404
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # garbage straight at the handler
        sock.sendto(b"INVITE nonsense\r\n\r\n\x00\xff", ("127.0.0.1", front_door.handler_port))
    result = _call(front_door, tmp_path).run()

    assert result.rc == 0, result.explain()
    wait_for(lambda: Event.objects.filter(kind=EventKind.CALL_ANSWERED).count() == 1, what="the good call")
    # pjsua2 refuses an offer without a common codec before the call reaches our code, and an unknown
    # number is not a client's call: only the good call is on the ledger.
    assert list(Interaction.objects.values_list("client_contact", flat=True)) == [CALLER_NUMBER]


def test_nobody_answering_within_the_maximum_wait_offers_a_callback_on_1(
    line: Line, front_door: FrontDoor, tmp_path: Path
) -> None:
    line.start(MONDAY_10, CC_SIP_MAX_WAIT_SECONDS=3)

    result = _call(
        front_door, tmp_path, scenario="caller_dtmf.xml", talk_ms=20000, sets={"dtmf_after_ms": 1500}
    ).run()

    assert result.rc == 0, result.explain()
    _ended()
    interaction = Interaction.objects.get()
    assert _kinds(interaction) == [
        EventKind.CALL_ARRIVED, EventKind.CALL_UNANSWERED, EventKind.CALLBACK_REQUESTED, EventKind.CALL_ENDED
    ]  # fmt: skip
    callback = interaction.events.get(kind=EventKind.CALLBACK_REQUESTED).payload
    assert callback["number"] == CALLER_NUMBER
    assert interaction.clocks.get(rule_id="PH-CALLBACK").state == "pending"


def test_a_kamailio_restart_during_a_call_leaves_the_call_and_its_recording_alone(
    line: Line, front_door: FrontDoor, phones: list[Phone], tmp_path: Path
) -> None:
    add_phone(phones, front_door, tmp_path, "221", ring_ms=1000)
    line.start(MONDAY_10)
    caller = _call(front_door, tmp_path, talk_ms=6000).start()
    wait_for(lambda: Event.objects.filter(kind=EventKind.CALL_ANSWERED).exists(), what="the answer")

    kamailio = front_door.kamailio.process
    kamailio.stop()
    kamailio.start()  # no record-route: in-dialog requests (the BYE) never passed through it
    result = caller.wait()

    assert result.rc == 0, result.explain()
    _recorded()
    assert Event.objects.filter(kind=EventKind.CALL_ENDED, payload__ended_by="caller").count() == 1
    assert Recording.objects.get().duration_ms >= 5000
