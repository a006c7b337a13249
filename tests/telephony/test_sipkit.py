"""The SIP test kit itself (tests/sipkit): its audio, its Python SIP requests, its SIPp wrappers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.sipkit import (
    AGENT_TONE_HZ,
    CALLER_TONE_HZ,
    DOMAIN,
    HOST,
    TONE_AMPLITUDE,
    KamailioPeer,
    SippAgent,
    SippCaller,
    agent_log_parse,
    caller_log_parse,
    free_udp_port,
    free_udp_ports,
    sip_register,
    tone_level,
    tone_ul,
    udp_port_bound,
    ulaw_decode,
    ulaw_encode,
)


def sox_decode_ul(path: Path) -> np.ndarray:
    """16-bit PCM from a headerless u-law file, decoded by sox (not by the kit under test)."""
    sox = shutil.which("sox")
    assert sox is not None, "sox is not installed (Debian package: sox)"
    raw = subprocess.run(
        [sox, "-t", "ul", "-r", "8000", "-c", "1", str(path), "-t", "s16", "-L", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype="<i2")


@pytest.mark.parametrize(
    ("freq_hz", "other_hz"), [(CALLER_TONE_HZ, AGENT_TONE_HZ), (AGENT_TONE_HZ, CALLER_TONE_HZ)]
)
def test_tone_files_have_their_frequency_and_level(tmp_path: Path, freq_hz: float, other_hz: float) -> None:
    path = tone_ul(tmp_path / "tone.ul", freq_hz, seconds=1.0)

    assert path.stat().st_size == 8000  # headerless: one byte a sample, nothing else
    pcm = sox_decode_ul(path)
    spectrum = np.abs(np.fft.rfft(pcm))
    peak_hz = np.fft.rfftfreq(pcm.size, d=1 / 8000)[int(np.argmax(spectrum))]
    assert abs(peak_hz - freq_hz) <= 1
    assert tone_level(pcm, freq_hz) == pytest.approx(TONE_AMPLITUDE, abs=0.01)
    assert tone_level(pcm, other_hz) < 0.01
    # Two such tones mixed stay below full scale (a mixed recording must not clip).
    assert 2 * np.max(np.abs(pcm.astype(np.int32))) < 32767


def test_ulaw_codec_agrees_with_sox(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    pcm = rng.integers(-32768, 32767, size=4000, dtype=np.int16)
    (tmp_path / "ours.ul").write_bytes(ulaw_encode(pcm))

    theirs = sox_decode_ul(tmp_path / "ours.ul")

    assert np.array_equal(ulaw_decode(ulaw_encode(pcm)), theirs)
    # u-law keeps about 14 bits: the round trip is close, relative to the sample's size.
    assert np.all(np.abs(theirs.astype(np.int32) - pcm) <= np.abs(pcm.astype(np.int32)) // 16 + 8)


def test_free_udp_ports_are_consecutive_and_free() -> None:
    base = free_udp_ports(4)

    assert base % 2 == 0
    assert not any(udp_port_bound(base + offset) for offset in range(4))
    assert not udp_port_bound(free_udp_port())


def test_log_lines_parse_into_records() -> None:
    calls = caller_log_parse(
        "CALL call_id=1-42@127.0.0.1 invite_sent=1795356815.000000 951999.000000 answered=1795356818.000000 "
        "1000.000000 status=200\n"
        "DTMF call_id=1-42@127.0.0.1 sent=1795356819.000000 0.000000 digit=1\n"
        "CALL call_id=2-42@127.0.0.1 invite_sent=1795356815.000000 0.000000 answered=0 0 status=480\n"
    )
    agents = agent_log_parse(
        "AGENT call_id=1-42@127.0.0.1 invite_at=1795356815.000000 0.000000 answered_at=0 0 ring_ms=0 "
        "outcome=busy uri=sip:67094368@127.0.0.1:5060\n"
    )

    assert calls[0].wait_ms == pytest.approx(2049.001)
    assert calls[0].dtmf_sent_ms == 1795356819000.0
    assert (calls[1].final_status, calls[1].answered_ms, calls[1].wait_ms) == (480, None, None)
    assert (agents[0].outcome, agents[0].answered_at_ms, agents[0].request_uri) == (
        "busy",
        None,
        "sip:67094368@127.0.0.1:5060",
    )


@pytest.mark.peers
def test_sip_register_gets_the_registrar_s_answer() -> None:
    with KamailioPeer([f"{HOST}:{free_udp_port()}"]) as door:
        assert sip_register(door.host, door.port, "1002", HOST, 5070, expires=60, domain=DOMAIN) == 200
        assert [r.aor_user for r in door.registrations()] == ["1002"]


def test_sip_register_times_out_without_a_registrar() -> None:
    with pytest.raises(TimeoutError):
        sip_register(HOST, free_udp_port(), "1002", HOST, 5070, timeout=0.6)


@pytest.mark.peers
def test_sipp_caller_and_agent_talk_directly(tmp_path: Path) -> None:
    with SippAgent(tmp_path, ring_ms=(100, 200)) as agent:
        result = SippCaller(agent.address, "1001", tmp_path, calls=2, duration_ms=300).run()
    assert result.rc == 0, result.explain()
    assert [r.final_status for r in result.records] == [200, 200]
    assert {c.call_id for c in agent.calls()} == {r.call_id for r in result.records}
    for call in agent.calls():
        assert 100 <= call.ring_ms <= 200
        assert call.answered_at_ms is not None
        assert call.ring_ms <= call.answered_at_ms - call.invite_at_ms < call.ring_ms + 60
    assert agent.rc == 0
    assert agent.counts()["answered"] == 2


@pytest.mark.peers
def test_sipp_dtmf_caller_presses_one_and_hangs_up(tmp_path: Path) -> None:
    with SippAgent(tmp_path, ring_ms=50) as agent:
        result = SippCaller(
            agent.address,
            "1001",
            tmp_path,
            scenario="caller_dtmf.xml",
            sets={"dtmf_after_ms": 200},
            duration_ms=300,
        ).run()
    assert result.rc == 0, result.explain()
    [record] = result.records
    assert record.answered_ms is not None
    assert record.dtmf_sent_ms is not None
    assert 200 <= record.dtmf_sent_ms - record.answered_ms < 400
