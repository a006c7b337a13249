"""SIPp phones and callers: ``SippAgent`` (a UAS: an agent's phone, or a call handler's stand-in) and
``SippCaller`` (a UAC running a number of calls of a caller scenario), with ``SippResult``.

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

import shutil
import signal
import subprocess
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.peers import HOST, SETUP_HINT, ManagedProcess, PeerError
from tests.sipkit.audio import AGENT_TONE_HZ, CALLER_TONE_HZ, tone_ul
from tests.sipkit.logs import (
    AgentCall,
    CallRecord,
    agent_log_parse,
    caller_log_parse,
    log_read,
    sipp_stats_read,
)
from tests.sipkit.ports import free_udp_port, free_udp_ports, udp_port_bound

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "telephony" / "sipp"
CALLER_NUMBER = "37120000001"
MEDIA_PORTS = 4  # SIPp binds -mp and -mp+2; RTCP would take the odd ones


def sipp_binary() -> str:
    found = shutil.which("sipp")
    if found is None:
        raise PeerError(f"sipp was not found (Debian package: sip-tester). {SETUP_HINT}")
    return found


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
        return agent_log_parse(log_read(self.work_dir / "calls.log"))

    def counts(self) -> dict[str, int]:
        """Calls by outcome (answered, cancelled, busy) and SIPp's Successful/Failed counters."""
        counts = Counter(call.outcome for call in self.calls())
        stats = sipp_stats_read(self.work_dir / "stats.csv")
        counts["successful"] = stats.get("SuccessfulCall", 0)
        counts["failed"] = stats.get("FailedCall", 0)
        return dict(counts)

    def errors(self) -> str:
        return log_read(self.work_dir / "errors.log")

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
        return log_read(self.work_dir / "errors.log")

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
            records=caller_log_parse(log_read(self.work_dir / "calls.log")),
            stats=sipp_stats_read(self.work_dir / "stats.csv"),
            work_dir=self.work_dir,
            output=log_read(self.process.log_path),
        )

    def run(self) -> SippResult:
        return self.start().wait()
