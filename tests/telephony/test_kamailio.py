"""The front door: Kamailio as telephony/kamailio.py renders it, with SIPp phones, callers and stand-in
call handlers ("workers") around it, all on free loopback ports."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from telephony.kamailio import (
    FrontDoorConfig,
    KamailioError,
    KamailioProcess,
    dispatcher_list_render,
    dispatcher_state,
    kamailio_config_check,
    kamailio_config_render,
    kamailio_config_write,
    registrations_read,
)
from tests.sipkit import (
    DOMAIN,
    HOST,
    LINE_NUMBER,
    SCENARIO_DIR,
    KamailioPeer,
    SippAgent,
    SippCaller,
    free_udp_port,
    sip_options,
    sip_register,
    sip_request,
)

pytestmark = pytest.mark.peers


def front_door_config(directory: Path, **changes: object) -> FrontDoorConfig:
    cfg = FrontDoorConfig(
        listen_host=HOST,
        listen_port=free_udp_port(),
        domain=DOMAIN,
        line_number=LINE_NUMBER,
        workers=(f"{HOST}:15081", f"{HOST}:15082"),
        run_dir=directory,
    )
    return dataclasses.replace(cfg, **changes)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A run directory short enough for a unix socket path (pytest's tmp_path may not be)."""
    directory = Path(tempfile.mkdtemp(prefix="cc-sla-kam-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def an_unused_worker() -> str:
    return f"{HOST}:{free_udp_port()}"


# --- configuration --------------------------------------------------------------------------------


def test_rendered_config_passes_kamailio_check(short_dir: Path) -> None:
    cfg = front_door_config(
        short_dir, agent_networks=("127.0.0.0/8", "10.20.0.0/16"), gateway_uri="sip:127.0.0.1:5999"
    )

    kamailio_config_check(kamailio_config_write(cfg))

    text = (short_dir / "kamailio.cfg").read_text()
    assert "record_route(" not in text  # calls in progress must survive a restart
    assert 'is_in_subnet("$si", "10.20.0.0/16")' in text
    assert (short_dir / "dispatcher.list").read_text().splitlines()[1:] == [
        f"1 sip:{HOST}:15081 0 0",
        f"1 sip:{HOST}:15082 0 0",
    ]


def test_config_check_reports_kamailio_s_own_complaint(short_dir: Path) -> None:
    cfg = front_door_config(short_dir)
    path = short_dir / "broken.cfg"
    path.write_text(kamailio_config_render(cfg) + "\nroute[BROKEN] {\n    no_such_function();\n}\n")

    with pytest.raises(KamailioError, match="no_such_function"):
        kamailio_config_check(path)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("workers", ()),
        ("workers", ("127.0.0.1",)),
        ("workers", ("127.0.0.1:70000",)),
        ("agent_networks", ("300.0.0.0/8",)),
        ("gateway_uri", "tel:+37112345678"),
        ("domain", 'kase.test"; exit'),
        ("run_dir", Path("/tmp") / ("x" * 100)),  # noqa: S108 -- never created
    ],
)
def test_config_refuses_what_kamailio_could_not_use(short_dir: Path, field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field.split("_", maxsplit=1)[0]):
        front_door_config(short_dir, **{field: value})


def test_dispatcher_list_names_every_worker_in_set_one(short_dir: Path) -> None:
    cfg = front_door_config(short_dir, workers=("10.0.0.5:5080", "10.0.0.6:5081"))

    assert dispatcher_list_render(cfg).splitlines()[1:] == [
        "1 sip:10.0.0.5:5080 0 0",
        "1 sip:10.0.0.6:5081 0 0",
    ]


# --- registrar ------------------------------------------------------------------------------------


def test_an_agent_phone_registers_and_appears_in_the_location_table() -> None:
    with KamailioPeer([an_unused_worker()]) as door:
        assert door.registrations() == []
        status = sip_register(door.host, door.port, "1001", HOST, 5555, expires=300, domain=DOMAIN)
        assert status == 200
        [registration] = door.registrations()
        assert (registration.aor_user, registration.contact_uri) == ("1001", f"sip:1001@{HOST}:5555")
        now = datetime.now(tz=UTC)
        assert now + timedelta(seconds=290) < registration.expires_at <= now + timedelta(seconds=301)

        # A phone that re-registers from a new port replaces its old contact; expires=0 removes it.
        assert sip_register(door.host, door.port, "1001", HOST, 5556, domain=DOMAIN) == 200
        assert [r.contact_uri for r in door.registrations()] == [f"sip:1001@{HOST}:5556"]
        assert sip_register(door.host, door.port, "1001", HOST, 5556, expires=0, domain=DOMAIN) == 200
        assert door.registrations() == []


def test_registration_from_a_network_not_allowed_is_refused() -> None:
    with KamailioPeer([an_unused_worker()], agent_networks=("10.20.0.0/16",)) as door:
        assert sip_register(door.host, door.port, "1001", HOST, 5555, domain=DOMAIN) == 403
        assert door.registrations() == []


def test_no_phone_may_register_as_the_line_number() -> None:
    with KamailioPeer([an_unused_worker()]) as door:
        assert sip_register(door.host, door.port, LINE_NUMBER, HOST, 5555, domain=DOMAIN) == 403


# --- callers to the line --------------------------------------------------------------------------


def test_a_call_to_the_line_reaches_a_worker_and_completes(tmp_path: Path) -> None:
    with SippAgent(tmp_path, ring_ms=300, name="worker") as worker, KamailioPeer([worker.address]) as door:
        result = SippCaller(door.address, LINE_NUMBER, tmp_path, duration_ms=300).run()

    assert result.rc == 0, result.explain()
    [record] = result.records
    assert record.final_status == 200
    assert record.wait_ms is not None
    assert 300 <= record.wait_ms < 1000
    [call] = worker.calls()
    assert call.call_id == record.call_id
    assert call.outcome == "answered"
    assert call.request_uri == f"sip:{LINE_NUMBER}@{door.address}"  # Request-URI kept for the worker
    assert worker.rc == 0


def test_an_outside_call_to_an_extension_goes_to_a_worker_not_to_the_phone(tmp_path: Path) -> None:
    with (
        SippAgent(tmp_path, ring_ms=100, name="worker") as worker,
        SippAgent(tmp_path, ring_ms=100, name="phone") as phone,
        KamailioPeer([worker.address]) as door,
    ):
        assert sip_register(door.host, door.port, "1001", phone.host, phone.port, domain=DOMAIN) == 200
        result = SippCaller(door.address, "1001", tmp_path, duration_ms=200).run()

    assert result.rc == 0, result.explain()
    assert [call.request_uri for call in worker.calls()] == [f"sip:1001@{door.address}"]
    assert phone.calls() == []


def test_a_call_fails_over_from_a_busy_worker(tmp_path: Path) -> None:
    with (
        SippAgent(tmp_path, scenario="agent_busy.xml", name="full") as full,
        SippAgent(tmp_path, ring_ms=100, name="worker") as worker,
        KamailioPeer([full.address, worker.address]) as door,
    ):
        result = SippCaller(door.address, LINE_NUMBER, tmp_path, calls=2, duration_ms=200).run()

    assert result.rc == 0, result.explain()
    assert [r.final_status for r in result.records] == [200, 200]
    assert {c.call_id for c in worker.calls()} == {r.call_id for r in result.records}
    # Round robin starts one of the two calls at the full worker, which refuses it with 486.
    assert [c.outcome for c in full.calls()] == ["busy"]


def test_a_call_fails_over_from_a_worker_that_is_down_and_it_is_taken_out(tmp_path: Path) -> None:
    down = an_unused_worker()
    with (
        SippAgent(tmp_path, ring_ms=100, name="worker") as worker,
        KamailioPeer([down, worker.address]) as door,
    ):
        result = SippCaller(door.address, LINE_NUMBER, tmp_path, calls=2, duration_ms=200).run()

        assert result.rc == 0, result.explain()
        assert len(worker.calls()) == 2
        assert door.wait_worker_state(down, "inactive", timeout=5), door.dispatcher_state()
        assert door.dispatcher_state()[worker.address] == "active"


def ringing_then_busy_scenario(directory: Path) -> Path:
    """agent_busy.xml with a 180 before its 486: a worker that took the call, then refused it."""
    text = (SCENARIO_DIR / "agent_busy.xml").read_text()
    ringing = "SIP/2.0 180 Ringing"
    head, marker, tail = text.partition("<send>")
    response = tail.partition("</send>")[0]
    path = directory / "ringing_then_busy.xml"
    path.write_text(
        head + marker + response.replace("SIP/2.0 486 Busy Here", ringing) + "</send>\n  " + marker + tail
    )
    return path


def test_a_worker_that_rang_keeps_the_call_and_its_refusal_reaches_the_caller(tmp_path: Path) -> None:
    scenario = ringing_then_busy_scenario(tmp_path)
    with (
        SippAgent(tmp_path, scenario=str(scenario), name="rang") as rang,
        SippAgent(tmp_path, ring_ms=100, name="worker") as worker,
        KamailioPeer([rang.address, worker.address]) as door,
    ):
        result = SippCaller(
            door.address, LINE_NUMBER, tmp_path, scenario="caller_closed.xml", calls=2, rate_per_s=5
        ).run()

    # One call starts at each worker: the one that rang first answers 486 itself, with no failover.
    assert sorted(r.final_status for r in result.records) == [200, 486], result.explain()
    assert [c.outcome for c in rang.calls()] == ["busy"]
    assert [c.outcome for c in worker.calls()] == ["answered"]


def test_a_caller_gets_503_when_every_worker_refuses(tmp_path: Path) -> None:
    with (
        SippAgent(tmp_path, scenario="agent_busy.xml", name="full") as full,
        KamailioPeer([full.address]) as door,
    ):
        result = SippCaller(door.address, LINE_NUMBER, tmp_path, scenario="caller_closed.xml").run()

    assert result.rc == 0, result.explain()
    assert [r.final_status for r in result.records] == [503]


def test_a_caller_who_gives_up_cancels_the_worker(tmp_path: Path) -> None:
    with (
        SippAgent(tmp_path, scenario="agent_noanswer.xml", name="worker") as worker,
        KamailioPeer([worker.address]) as door,
    ):
        caller = SippCaller(
            door.address,
            LINE_NUMBER,
            tmp_path,
            scenario="caller_abandon.xml",
            sets={"abandon_after_ms": 400},
        )
        result = caller.run()

    assert result.rc == 0, result.explain()
    assert [r.final_status for r in result.records] == [487]
    assert [c.outcome for c in worker.calls()] == ["cancelled"]


# --- calls from the workers to the agents' phones -------------------------------------------------


def test_a_worker_call_to_an_extension_reaches_the_registered_phone(tmp_path: Path) -> None:
    worker_port = free_udp_port()
    with (
        SippAgent(tmp_path, ring_ms=200, name="phone") as phone,
        KamailioPeer([f"{HOST}:{worker_port}"]) as door,
    ):
        assert sip_register(door.host, door.port, "1001", phone.host, phone.port, domain=DOMAIN) == 200
        result = SippCaller(
            door.address, "1001", tmp_path, local_port=worker_port, caller_id=LINE_NUMBER, duration_ms=200
        ).run()

    assert result.rc == 0, result.explain()
    [call] = phone.calls()
    assert call.call_id == result.records[0].call_id
    assert call.request_uri == f"sip:1001@{phone.address}"


def test_a_worker_call_to_an_unregistered_number_goes_to_the_gateway(tmp_path: Path) -> None:
    worker_port = free_udp_port()
    with (
        SippAgent(tmp_path, ring_ms=100, name="gateway") as gateway,
        KamailioPeer([f"{HOST}:{worker_port}"], gateway_uri=f"sip:{gateway.address}") as door,
    ):
        result = SippCaller(door.address, "29111111", tmp_path, local_port=worker_port, duration_ms=200).run()

    assert result.rc == 0, result.explain()
    assert [c.request_uri for c in gateway.calls()] == [f"sip:29111111@{gateway.address}"]


def test_a_worker_call_to_an_unregistered_extension_gets_404(tmp_path: Path) -> None:
    worker_port = free_udp_port()
    with KamailioPeer([f"{HOST}:{worker_port}"]) as door:
        result = SippCaller(
            door.address, "1999", tmp_path, scenario="caller_closed.xml", local_port=worker_port
        ).run()

    assert result.rc == 0, result.explain()
    assert [r.final_status for r in result.records] == [404]


# --- robustness -----------------------------------------------------------------------------------


def test_garbage_does_not_kill_kamailio_and_it_still_answers_options() -> None:
    garbage = [
        b"",
        b"\x00\xff" * 700,
        os.urandom(4000),
        b"INVITE\r\n\r\n",
        b"INVITE sip:1@x SIP/2.0\r\nVia: nonsense\r\n\r\n",
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx\r\n\r\n",
        b"REGISTER sip:x SIP/2.0\r\nContent-Length: 900\r\nCSeq: x\r\n\r\nshort",
        b"OPTIONS sip:x SIP/2.0\r\nX-Long: " + b"a" * 60000 + b"\r\n\r\n",
    ]
    with KamailioPeer([an_unused_worker()]) as door:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for datagram in garbage:
                sock.sendto(datagram, (door.host, door.port))

        assert sip_options(door.host, door.port) == 200
        assert sip_request("MESSAGE", door.host, door.port, request_uri=f"sip:1001@{DOMAIN}") == 405
        assert door.process.running


# --- the product's process control ----------------------------------------------------------------


def test_kamailio_process_starts_reloads_its_worker_list_and_stops(short_dir: Path) -> None:
    first, second = an_unused_worker(), an_unused_worker()
    cfg = front_door_config(short_dir, workers=(first,))
    process = KamailioProcess(cfg, log_path=short_dir / "kamailio.log")
    process.start()
    try:
        assert process.running
        assert set(dispatcher_state(cfg.ctl_socket)) == {first}
        assert registrations_read(cfg.ctl_socket) == []

        kamailio_config_write(dataclasses.replace(cfg, workers=(first, second)))
        process.reload_dispatcher()

        assert set(dispatcher_state(cfg.ctl_socket)) == {first, second}
    finally:
        process.stop()
    assert not process.running
