"""SIP test kit for the tests and the benchmark: tones, REGISTER and OPTIONS from Python, SIPp phones and
callers, and a Kamailio front door on free loopback ports. A helper module, not a pytest plugin.

The SIPp scenarios live in telephony/sipp/ (shipped: the benchmark uses them too). Every SIPp instance
gets its own working directory (its audio file, logs and statistics), its own SIP port and its own
media ports: SIPp binds -mp and -mp+2, and all calls of one SIPp process share them.

SIPp facts this kit relies on (SIPp 3.6.1; see the scenario files for the rest):
- rtp_stream takes a literal file name, not a keyword: the scenarios stream ``caller.ul`` or ``agent.ul``
  from the working directory, which this kit fills with the audio asked for.
- SIGTERM ends a SIPp UAS with rc 0 (1 if a call failed) after it writes its final statistics.
- ``-aa`` answers out-of-dialog OPTIONS (the dispatcher's keepalives) with 200; SIPp counts each as an
  incoming call that never ends, so per-call outcomes come from the scenarios' ``<log>`` lines.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from telephony.kamailio import (
    FrontDoorConfig,
    Registration,
    ctl_answers,
    dispatcher_state,
    kamailio_argv,
    kamailio_config_check,
    kamailio_config_write,
    registrations_read,
)
from tests.peers import HOST, SETUP_HINT, ManagedProcess, PeerError

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "telephony" / "sipp"
SAMPLE_RATE = 8000  # G.711
CALLER_TONE_HZ = 440.0
AGENT_TONE_HZ = 1000.0
TONE_AMPLITUDE = 0.25  # of full scale: a caller and an agent mixed into one recording do not clip
LINE_NUMBER = "67094368"
DOMAIN = "kase.test"
CALLER_NUMBER = "37120000001"
MEDIA_PORTS = 4  # SIPp binds -mp and -mp+2; RTCP would take the odd ones


# --- ports ----------------------------------------------------------------------------------------


def free_udp_port(host: str = HOST) -> int:
    """A UDP port on ``host`` that nobody has bound right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def free_udp_ports(count: int, host: str = HOST) -> int:
    """The first of ``count`` consecutive free UDP ports, starting at an even one (RTP's habit)."""
    for _ in range(200):
        base = free_udp_port(host) & ~1
        if base + count > 65535:
            continue
        if all(not udp_port_bound(base + offset, host) for offset in range(count)):
            return base
    raise PeerError(f"no {count} consecutive free UDP ports on {host}")


def udp_port_bound(port: int, host: str = HOST) -> bool:
    """True when some process holds UDP ``host:port`` (we cannot bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False


def poll_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Call ``condition`` until it is true or ``timeout`` seconds passed; its last answer."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


# --- audio ----------------------------------------------------------------------------------------

_ULAW_BIAS = 0x84
_ULAW_CLIP = 32635


def ulaw_encode(pcm: npt.NDArray[np.int16]) -> bytes:
    """G.711 u-law of 16-bit PCM (the ITU-T reference algorithm, vectorised)."""
    values = pcm.astype(np.int32)
    sign = np.where(values < 0, 0x80, 0x00)
    magnitude = np.minimum(np.abs(values), _ULAW_CLIP) + _ULAW_BIAS
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    encoded = ~(sign | (exponent << 4) | mantissa) & 0xFF
    return encoded.astype(np.uint8).tobytes()


def ulaw_decode(data: bytes) -> npt.NDArray[np.int16]:
    """16-bit PCM from G.711 u-law bytes."""
    codes = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _ULAW_BIAS) << exponent) - _ULAW_BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def tone_ul(path: Path, freq_hz: float, seconds: float, amplitude: float = TONE_AMPLITUDE) -> Path:
    """Write a sine tone as headerless u-law at 8 kHz (SIPp's rtp_stream plays no WAV header)."""
    if not 0 < amplitude <= 1:
        raise ValueError(f"amplitude {amplitude} is not a fraction of full scale")
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    pcm = np.round(amplitude * 32767 * np.sin(2 * np.pi * freq_hz * t)).astype(np.int16)
    path.write_bytes(ulaw_encode(pcm))
    return path


def tone_level(samples: npt.ArrayLike, freq_hz: float, rate: int = SAMPLE_RATE) -> float:
    """Amplitude of ``freq_hz`` in 16-bit ``samples`` as a fraction of full scale (one DFT bin).

    A pure tone at amplitude A reads about A; a frequency that is absent reads about 0.
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        return 0.0
    phase = np.exp(-2j * np.pi * freq_hz * np.arange(x.size) / rate)
    return float(2 * np.abs(np.dot(x, phase)) / x.size / 32768)


# --- SIP from Python ------------------------------------------------------------------------------

T1 = 0.5  # RFC 3261 retransmission interval, seconds


def _sip_status(
    host: str, port: int, build: Callable[[int, str], bytes], timeout: float, *, source_port: int = 0
) -> int:
    """Send one non-INVITE request over UDP, retransmitting like RFC 3261; its final status code."""
    branch = f"z9hG4bK-sipkit-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, source_port))
        request = build(sock.getsockname()[1], branch)
        deadline = time.monotonic() + timeout
        interval = T1
        while time.monotonic() < deadline:
            sock.sendto(request, (host, port))
            resend_at = min(time.monotonic() + interval, deadline)
            interval = min(interval * 2, 4.0)
            while (left := resend_at - time.monotonic()) > 0:
                sock.settimeout(left)
                try:
                    data = sock.recv(65535)
                except TimeoutError:
                    break
                status = _final_status(data, branch)
                if status is not None:
                    return status
    raise TimeoutError(f"no final answer from {host}:{port} in {timeout} s")


_STATUS_LINE = re.compile(rb"^SIP/2\.0 (\d{3}) ")


def _final_status(data: bytes, branch: str) -> int | None:
    """The status of a final response to our request (``branch``); None for others and for 1xx."""
    match = _STATUS_LINE.match(data)
    if match is None or branch.encode() not in data:
        return None
    status = int(match.group(1))
    return status if status >= 200 else None  # 1xx are provisional


def sip_register(
    proxy_host: str,
    proxy_port: int,
    user: str,
    contact_host: str,
    contact_port: int,
    expires: int = 300,
    domain: str | None = None,
    *,
    timeout: float = 4.0,
) -> int:
    """REGISTER ``user`` at a registrar with the given contact (a SIPp UAS does not register itself).

    Sent from an ephemeral port of 127.0.0.1; returns the final status (200, 403, ...). ``expires=0``
    removes the registration.
    """
    realm = domain or proxy_host
    call_id = f"{uuid.uuid4().hex}@sipkit"

    def build(local_port: int, branch: str) -> bytes:
        return (
            f"REGISTER sip:{realm} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {HOST}:{local_port};branch={branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:{user}@{realm}>;tag={uuid.uuid4().hex[:10]}\r\n"
            f"To: <sip:{user}@{realm}>\r\n"
            f"Call-ID: {call_id}\r\n"
            "CSeq: 1 REGISTER\r\n"
            f"Contact: <sip:{user}@{contact_host}:{contact_port}>\r\n"
            f"Expires: {expires}\r\n"
            "User-Agent: sipkit\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()

    return _sip_status(proxy_host, proxy_port, build, timeout)


def sip_options(host: str, port: int, *, timeout: float = 2.0) -> int:
    """An out-of-dialog OPTIONS (a keepalive); the final status it gets."""
    return sip_request("OPTIONS", host, port, timeout=timeout)


def sip_request(
    method: str, host: str, port: int, *, request_uri: str | None = None, timeout: float = 2.0
) -> int:
    """An out-of-dialog non-INVITE request without a body; the final status it gets."""
    uri = request_uri or f"sip:{host}:{port}"

    def build(local_port: int, branch: str) -> bytes:
        return (
            f"{method} {uri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {HOST}:{local_port};branch={branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:sipkit@{HOST}>;tag={uuid.uuid4().hex[:10]}\r\n"
            f"To: <{uri}>\r\n"
            f"Call-ID: {uuid.uuid4().hex}@sipkit\r\n"
            f"CSeq: 1 {method}\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()

    return _sip_status(host, port, build, timeout)


# --- SIPp -----------------------------------------------------------------------------------------


def sipp_binary() -> str:
    found = shutil.which("sipp")
    if found is None:
        raise PeerError(f"sipp was not found (Debian package: sip-tester). {SETUP_HINT}")
    return found


@dataclass(frozen=True)
class CallRecord:
    """One call of a caller scenario, from its ``CALL`` log line (times in epoch milliseconds)."""

    call_id: str
    invite_sent_ms: float
    answered_ms: float | None
    final_status: int
    dtmf_sent_ms: float | None = None

    @property
    def wait_ms(self) -> float | None:
        """What the caller measured from INVITE to 200, or None when not answered."""
        return None if self.answered_ms is None else self.answered_ms - self.invite_sent_ms


@dataclass(frozen=True)
class AgentCall:
    """One call an agent scenario took, from its ``AGENT`` log line (times in epoch milliseconds)."""

    call_id: str
    invite_at_ms: float
    answered_at_ms: float | None
    ring_ms: float
    outcome: str  # answered, cancelled or busy
    request_uri: str


def _epoch_ms(seconds: str, micros: str) -> float | None:
    """SIPp prints gettimeofday() variables as doubles ("1795356715.000000 88889.000000")."""
    value = float(seconds) * 1000 + float(micros) / 1000
    return value or None


_CALL_LINE = re.compile(
    r"CALL call_id=(?P<call_id>\S+) invite_sent=(?P<is>\S+) (?P<ius>\S+) "
    r"answered=(?P<as>\S+) (?P<aus>\S+) status=(?P<status>[\d.]+)"
)
_DTMF_LINE = re.compile(r"DTMF call_id=(?P<call_id>\S+) sent=(?P<s>\S+) (?P<us>\S+)")
_AGENT_LINE = re.compile(
    r"AGENT call_id=(?P<call_id>\S+) invite_at=(?P<is>\S+) (?P<ius>\S+) "
    r"answered_at=(?P<as>\S+) (?P<aus>\S+) ring_ms=(?P<ring>[\d.]+) outcome=(?P<outcome>\w+) uri=(?P<uri>\S+)"
)


def caller_log_parse(text: str) -> list[CallRecord]:
    """The per-call records of a caller scenario's ``-trace_logs`` file, in the order written."""
    dtmf = {m["call_id"]: _epoch_ms(m["s"], m["us"]) for m in _DTMF_LINE.finditer(text)}
    records = []
    for m in _CALL_LINE.finditer(text):
        invite_sent_ms = _epoch_ms(m["is"], m["ius"])
        assert invite_sent_ms is not None, f"no INVITE time in {m.group(0)!r}"
        records.append(
            CallRecord(
                call_id=m["call_id"],
                invite_sent_ms=invite_sent_ms,
                answered_ms=_epoch_ms(m["as"], m["aus"]),
                final_status=int(float(m["status"])),
                dtmf_sent_ms=dtmf.get(m["call_id"]),
            )
        )
    return records


def agent_log_parse(text: str) -> list[AgentCall]:
    """The per-call records of an agent scenario's ``-trace_logs`` file, in the order written."""
    calls = []
    for m in _AGENT_LINE.finditer(text):
        invite_at_ms = _epoch_ms(m["is"], m["ius"])
        assert invite_at_ms is not None, f"no INVITE time in {m.group(0)!r}"
        calls.append(
            AgentCall(
                call_id=m["call_id"],
                invite_at_ms=invite_at_ms,
                answered_at_ms=_epoch_ms(m["as"], m["aus"]),
                ring_ms=float(m["ring"]),
                outcome=m["outcome"],
                request_uri=m["uri"],
            )
        )
    return calls


def sipp_stats_read(path: Path) -> dict[str, int]:
    """The cumulative counters of the last row of a ``-trace_stat`` file (IncomingCall, SuccessfulCall,
    FailedCall, ...); empty when SIPp wrote none."""
    try:
        rows = list(csv.reader(path.read_text(errors="replace").splitlines(), delimiter=";"))
    except OSError:
        return {}
    if len(rows) < 2:  # a header and at least one row
        return {}
    header, last = rows[0], rows[-1]
    counters = {}
    for name, value in zip(header, last, strict=False):
        if name.endswith("(C)") and value.strip().isdigit():
            counters[name.removesuffix("(C)")] = int(value)
    return counters


class _SippProcess(ManagedProcess):
    """ManagedProcess that also keeps SIPp's exit code (it says whether a call failed)."""

    returncode: int | None = None

    def stop(self, timeout: float = 15.0, sig: int | None = None) -> None:
        popen = self._popen
        super().stop(timeout, sig)
        if popen is not None:
            self.returncode = popen.returncode

    def wait(self, timeout: float) -> int:
        """Wait for SIPp to end by itself; kill it and raise PeerError after ``timeout`` seconds."""
        popen = self._popen
        if popen is None:
            raise PeerError(f"{self.name} is not running")
        try:
            popen.wait(timeout)
        except subprocess.TimeoutExpired as error:
            self.stop(sig=signal.SIGKILL)
            raise PeerError(f"{self.name} still running after {timeout} s.\n{self.log_tail()}") from error
        self.stop()
        assert self.returncode is not None
        return self.returncode


def _common_sipp_args(host: str, port: int, media_port: int, *, trace_messages: bool) -> list[str]:
    # The error log would grow by a line per receive-timeout tick (agent.xml, caller_abandon.xml):
    # two rotated files of 1 MB at most.
    trace = ["-trace_msg", "-message_file", "messages.log"] if trace_messages else []
    return [
        *trace,
        *("-i", host, "-p", str(port), "-mi", host, "-mp", str(media_port)),
        *("-nostdin", "-trace_err", "-error_file", "errors.log"),
        *("-trace_logs", "-log_file", "calls.log"),
        *("-trace_stat", "-stf", "stats.csv", "-fd", "1"),
        *("-ringbuffer_files", "2", "-ringbuffer_size", "1048576"),
    ]


def _work_dir(parent: Path, name: str, port: int) -> Path:
    directory = parent / f"{name}-{port}"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _place_audio(directory: Path, file_name: str, audio: Path | None, freq_hz: float) -> None:
    """Put the audio the scenario streams (a literal file name) into SIPp's working directory."""
    target = directory / file_name
    target.unlink(missing_ok=True)
    if audio is None:
        tone_ul(target, freq_hz, seconds=10)
    else:
        target.symlink_to(audio.resolve())


class SippAgent:
    """An agent's phone: one SIPp UAS (agent.xml, agent_noanswer.xml or agent_busy.xml) on its own port.

    ``ring_ms`` is a fixed ring time or a (low, high) range drawn from uniformly per call. It also
    stands in for a call handler behind Kamailio (``-aa`` answers the dispatcher's OPTIONS).
    """

    def __init__(
        self,
        work_dir: Path,
        *,
        scenario: str = "agent.xml",
        ring_ms: int | tuple[int, int] = 0,
        audio: Path | None = None,
        host: str = HOST,
        port: int | None = None,
        name: str = "agent",
        trace_messages: bool = False,
    ) -> None:
        self.host = host
        self.port = port or free_udp_port(host)
        self.media_port = free_udp_ports(MEDIA_PORTS, host)
        self.work_dir = _work_dir(work_dir, name, self.port)
        _place_audio(self.work_dir, "agent.ul", audio, AGENT_TONE_HZ)
        low, high = ring_ms if isinstance(ring_ms, tuple) else (ring_ms, ring_ms)
        argv = [sipp_binary(), "-sf", str(SCENARIO_DIR / scenario), "-aa"]
        if "ring_min_ms" in (SCENARIO_DIR / scenario).read_text():  # SIPp refuses -set for unknown variables
            argv += ["-set", "ring_min_ms", str(low), "-set", "ring_max_ms", str(high)]
        argv += _common_sipp_args(host, self.port, self.media_port, trace_messages=trace_messages)
        self.process = _SippProcess(
            name=f"SIPp {name} ({scenario}) on {host}:{self.port}",
            argv=argv,
            log_path=self.work_dir / "sipp.out",
            ready=lambda: udp_port_bound(self.port, host),
            cwd=self.work_dir,
            ready_timeout=10,
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def rc(self) -> int | None:
        """SIPp's exit code once stopped: 0 when every call went as the scenario says."""
        return self.process.returncode

    def start(self) -> SippAgent:
        self.process.start()
        return self

    def stop(self) -> int | None:
        """SIGTERM: SIPp writes its final statistics and exits."""
        self.process.stop()
        return self.rc

    def calls(self) -> list[AgentCall]:
        return agent_log_parse(_read(self.work_dir / "calls.log"))

    def counts(self) -> dict[str, int]:
        """Calls by outcome (answered, cancelled, busy) and SIPp's Successful/Failed counters."""
        counts = Counter(call.outcome for call in self.calls())
        stats = sipp_stats_read(self.work_dir / "stats.csv")
        counts["successful"] = stats.get("SuccessfulCall", 0)
        counts["failed"] = stats.get("FailedCall", 0)
        return dict(counts)

    def errors(self) -> str:
        return _read(self.work_dir / "errors.log")

    def __enter__(self) -> SippAgent:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class SippResult:
    """How a SippCaller run ended: SIPp's exit code (0 all calls as the scenario says, 1 a call failed,
    97 internal exit, 99 no call, 255/254 fatal) and its per-call records."""

    rc: int
    records: list[CallRecord]
    stats: dict[str, int]
    work_dir: Path
    output: str = field(repr=False, default="")

    def errors(self) -> str:
        return _read(self.work_dir / "errors.log")

    def explain(self) -> str:
        """For assertion messages: SIPp's own account of what went wrong."""
        return f"rc={self.rc} stats={self.stats}\n{self.errors()[-3000:]}\n{self.output[-2000:]}"


class SippCaller:
    """Callers: one SIPp UAC running ``calls`` calls of a scenario against ``target`` (host:port).

    ``rate_per_s`` calls start per second, at most ``limit`` at once; ``duration_ms`` is SIPp's -d
    (talk time in caller.xml, the wait after the DTMF in caller_dtmf.xml). ``sets`` are the scenario's
    -set variables (abandon_after_ms, dtmf_after_ms). ``local_port`` fixes the source port, e.g. a
    call handler's port, to call as that call handler.
    """

    def __init__(
        self,
        target: str,
        service: str,
        work_dir: Path,
        *,
        scenario: str = "caller.xml",
        calls: int = 1,
        rate_per_s: float = 10.0,
        limit: int | None = None,
        duration_ms: int = 0,
        caller_id: str = CALLER_NUMBER,
        sets: Mapping[str, int | str] | None = None,
        audio: Path | None = None,
        host: str = HOST,
        local_port: int | None = None,
        timeout_s: float = 60.0,
        name: str = "caller",
        trace_messages: bool = False,
    ) -> None:
        self.port = local_port or free_udp_port(host)
        self.media_port = free_udp_ports(MEDIA_PORTS, host)
        self.timeout_s = timeout_s
        self.work_dir = _work_dir(work_dir, name, self.port)
        _place_audio(self.work_dir, "caller.ul", audio, CALLER_TONE_HZ)
        argv = [sipp_binary(), "-sf", str(SCENARIO_DIR / scenario), target]
        argv += ["-s", service, "-key", "caller", caller_id]
        argv += ["-m", str(calls), "-r", f"{rate_per_s:g}", "-rp", "1000", "-d", str(duration_ms)]
        argv += ["-l", str(limit or calls)]
        # A call the scenario marks failed is already over: SIPp's default would send it a stray BYE.
        argv += ["-default_behaviors", "all,-bye", "-timeout", f"{timeout_s:g}s", "-timeout_error"]
        for variable, value in (sets or {}).items():
            argv += ["-set", variable, str(value)]
        argv += _common_sipp_args(host, self.port, self.media_port, trace_messages=trace_messages)
        self.argv = argv
        self.process = _SippProcess(
            name=f"SIPp {name} ({scenario}) from {host}:{self.port}",
            argv=argv,
            log_path=self.work_dir / "sipp.out",
            ready=lambda: True,
            cwd=self.work_dir,
        )

    def start(self) -> SippCaller:
        """Start the calls and return at once; ``wait()`` collects the result."""
        self.process.start()
        return self

    def wait(self) -> SippResult:
        rc = self.process.wait(self.timeout_s + 15)
        return SippResult(
            rc=rc,
            records=caller_log_parse(_read(self.work_dir / "calls.log")),
            stats=sipp_stats_read(self.work_dir / "stats.csv"),
            work_dir=self.work_dir,
            output=_read(self.process.log_path),
        )

    def run(self) -> SippResult:
        return self.start().wait()


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


# --- Kamailio -------------------------------------------------------------------------------------


class KamailioPeer:
    """The front door (telephony/kamailio.py's configuration) on a free loopback UDP port.

    Its runtime directory is a short temporary one (a unix socket path must stay under 108 bytes,
    which pytest's tmp_path does not promise); ``stop()`` deletes it. Test defaults probe the
    workers every second and give up on a silent one after one second.
    """

    def __init__(
        self,
        workers: Sequence[str],
        *,
        agent_networks: tuple[str, ...] = ("127.0.0.0/8",),
        gateway_uri: str = "",
        line_number: str = LINE_NUMBER,
        domain: str = DOMAIN,
        probe_interval_s: int = 1,
        worker_timeout_ms: int = 1000,
    ) -> None:
        self.run_dir = Path(tempfile.mkdtemp(prefix="cc-sla-kamailio-"))
        self.cfg = FrontDoorConfig(
            listen_host=HOST,
            listen_port=free_udp_port(),
            domain=domain,
            line_number=line_number,
            workers=tuple(workers),
            run_dir=self.run_dir,
            agent_networks=agent_networks,
            gateway_uri=gateway_uri,
            probe_interval_s=probe_interval_s,
            worker_timeout_ms=worker_timeout_ms,
            children=2,
        )
        self.process = ManagedProcess(
            name=f"Kamailio on {HOST}:{self.cfg.listen_port}",
            argv=kamailio_argv(self.cfg.config_path, self.run_dir),
            log_path=self.run_dir / "kamailio.log",
            ready=lambda: ctl_answers(self.cfg.ctl_socket),
            cwd=self.run_dir,
            ready_timeout=15,
        )

    @property
    def host(self) -> str:
        return self.cfg.listen_host

    @property
    def port(self) -> int:
        return self.cfg.listen_port

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def ctl_socket(self) -> Path:
        return self.cfg.ctl_socket

    def start(self) -> KamailioPeer:
        try:
            kamailio_config_check(kamailio_config_write(self.cfg))
            self.process.start()
        except BaseException:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            raise
        return self

    def stop(self) -> None:
        """SIGTERM (Kamailio stops its children); after 5 s, SIGKILL to its whole process group."""
        pid = self.process.pid
        self.process.stop(timeout=5)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)  # its own session: only its worker processes are left
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def registrations(self) -> list[Registration]:
        return registrations_read(self.ctl_socket)

    def dispatcher_state(self) -> dict[str, str]:
        return dispatcher_state(self.ctl_socket)

    def wait_worker_state(self, worker: str, state: str, timeout: float = 10.0) -> bool:
        return poll_until(lambda: self.dispatcher_state().get(worker) == state, timeout, interval=0.1)

    def log(self) -> str:
        return _read(self.process.log_path)

    def __enter__(self) -> KamailioPeer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
