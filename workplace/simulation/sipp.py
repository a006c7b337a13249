"""The SIPp processes of a simulation, running the shipped scenarios in telephony/sipp/: one caller process
per call (caller.xml or caller_abandon.xml) and one phone per agent (agent.xml).

Each process gets its own working directory (the audio it streams under the literal name the scenario
plays, its logs), its own SIP port and four media ports (SIPp binds -mp and -mp+2), handed out by a
``PortPool`` so that processes started moments apart never pick the same free port. Each runs in its own
process group (Ctrl-C in the terminal reaches the simulation only, which hangs the calls up first) and
is sent SIGTERM by the kernel if the simulation dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from workplace.simulation.plan import PlannedCall

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "telephony" / "sipp"
MEDIA_PORTS = 4
_PR_SET_PDEATHSIG = 1
_CALL_LINE = re.compile(r"CALL call_id=\S+ invite_sent=(\S+) (\S+) answered=(\S+) (\S+) status=([\d.]+)")
_AGENT_LINE = re.compile(r"AGENT call_id=\S+ .*? ring_ms=([\d.]+) outcome=(\w+)")


class SippError(RuntimeError):
    """SIPp is missing or a SIPp process did not start."""


def sipp_binary() -> str:
    found = shutil.which("sipp")
    if found is None:
        raise SippError("sipp is not installed (Debian package: sip-tester; apt-get install sip-tester)")
    return found


def _udp_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


class PortPool:
    """Blocks of consecutive UDP ports below the kernel's ephemeral range (32768 up) and away from the
    call handlers' RTP ports (CC_SIP_RTP_PORT, 40000 up), each free when handed out and ours until given
    back."""

    def __init__(self, host: str, first: int = 21000, last: int = 30000) -> None:
        self.host, self.first, self.last = host, first, last
        self._next = first
        self._taken: set[int] = set()

    def take(self, count: int) -> int:
        span = self.last - self.first
        for _ in range(span // count + 1):
            base = self._next
            self._next = base + count if base + 2 * count <= self.last else self.first
            ports = range(base, base + count)
            if not self._taken.intersection(ports) and all(_udp_free(self.host, p) for p in ports):
                self._taken.update(ports)
                return base
        raise SippError(f"no {count} consecutive free UDP ports between {self.first} and {self.last}")

    def give_back(self, base: int, count: int) -> None:
        self._taken.difference_update(range(base, base + count))


def _child_setup() -> None:  # pragma: no cover -- runs in the forked child
    os.setpgid(0, 0)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class SippProcess:
    """One SIPp process in ``work_dir``; its SIP port and media ports come from ``ports``."""

    def __init__(self, ports: PortPool, work_dir: Path, scenario: str, name: str) -> None:
        self.ports = ports
        self.host = ports.host
        self.port = ports.take(1)
        self.media_port = ports.take(MEDIA_PORTS)
        self.scenario = scenario
        self.work_dir = work_dir / f"{name}-{self.port}"
        self.work_dir.mkdir(parents=True)
        self.popen: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None

    def _argv(self, *scenario_args: str) -> list[str]:
        return [
            sipp_binary(), "-sf", str(SCENARIO_DIR / self.scenario), *scenario_args,
            "-i", self.host, "-p", str(self.port), "-mi", self.host, "-mp", str(self.media_port),
            "-nostdin", "-trace_err", "-error_file", "errors.log", "-trace_logs", "-log_file", "calls.log",
            "-ringbuffer_files", "1", "-ringbuffer_size", "1048576",
        ]  # fmt: skip

    def _spawn(self, argv: list[str]) -> None:
        with (self.work_dir / "sipp.out").open("wb") as out:
            self.popen = subprocess.Popen(  # noqa: S603 -- sipp, with arguments of our making
                argv, cwd=self.work_dir, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                preexec_fn=_child_setup,  # noqa: PLW1509 -- started from the main thread only
            )  # fmt: skip

    @property
    def running(self) -> bool:
        return self.popen is not None and self.returncode is None and self.poll() is None

    def poll(self) -> int | None:
        if self.popen is not None and self.returncode is None:
            self.returncode = self.popen.poll()
        return self.returncode

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> None:
        """Signal SIPp and wait for it; SIGKILL after ``timeout``. The ports go back to the pool."""
        if self.popen is not None and self.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
            self.returncode = self.popen.returncode
        self.ports.give_back(self.port, 1)
        self.ports.give_back(self.media_port, MEDIA_PORTS)

    def log_text(self, name: str = "calls.log") -> str:
        try:
            return (self.work_dir / name).read_text(errors="replace")
        except OSError:
            return ""


class AgentPhone(SippProcess):
    """An agent's phone: agent.xml, ringing a time drawn from ``ring_s`` per call, then answering.

    SIPp seeds the generator the scenario draws from with the wall-clock second it started in (measured:
    GSL_RNG_SEED is not read): two phones started in the same second ring the same times, call after call.
    ``start`` therefore waits for a second no other phone started in.
    """

    _started_seconds: set[int] = set()

    def __init__(
        self,
        ports: PortPool,
        work_dir: Path,
        extension: str,
        *,
        audio: Path,
        ring_s: tuple[float, float],
    ) -> None:
        super().__init__(ports, work_dir, "agent.xml", f"phone-{extension}")
        self.extension = extension
        (self.work_dir / "agent.ul").symlink_to(audio)
        low, high = (round(seconds * 1000) for seconds in ring_s)
        # -aa answers out-of-dialog OPTIONS (keep-alives) with 200.
        self._argv_full = self._argv("-aa", "-set", "ring_min_ms", str(low), "-set", "ring_max_ms", str(high))
        self._seen = 0

    @property
    def contact(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, ready_timeout: float = 10.0) -> None:
        while int(time.time()) in AgentPhone._started_seconds:
            time.sleep(1.02 - time.time() % 1)
        AgentPhone._started_seconds.add(int(time.time()))
        self._spawn(self._argv_full)
        deadline = time.monotonic() + ready_timeout
        while _udp_free(self.host, self.port):
            if self.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SippError(
                    f"the phone of {self.extension} did not start: {self.log_text('sipp.out')[-500:]}"
                )
            time.sleep(0.05)

    def new_calls(self) -> list[tuple[str, float]]:
        """(outcome, ring seconds) of the calls this phone finished ringing since the last look."""
        lines = _AGENT_LINE.findall(self.log_text())
        if len(lines) < self._seen:  # SIPp rotated the log (-ringbuffer_size): all of it is new
            self._seen = 0
        fresh, self._seen = lines[self._seen :], len(lines)
        return [(outcome, float(ring_ms) / 1000) for ring_ms, outcome in fresh]


@dataclass(frozen=True)
class CallOutcome:
    status: int | None  # the INVITE's final status as the caller saw it; None: no final answer
    wait_s: float | None  # INVITE sent to 200 received (SIPp's clock)


class CallerProcess(SippProcess):
    """One call: caller.xml (waits for an answer) or caller_abandon.xml (gives up after a while)."""

    def __init__(self, ports: PortPool, work_dir: Path, call: PlannedCall, audio: Path) -> None:
        scenario = "caller.xml" if call.abandon_after_s is None else "caller_abandon.xml"
        super().__init__(ports, work_dir, scenario, f"call-{call.number}")
        self.call = call
        (self.work_dir / "caller.ul").symlink_to(audio)
        self.started_mono = 0.0
        self.answered_reported = False

    def start(self, front_door: str, line_number: str) -> None:
        extra = ["-m", "1", "-l", "1", "-d", str(round(self.call.talk_s * 1000))]
        if self.call.abandon_after_s is not None:
            extra += ["-set", "abandon_after_ms", str(round(self.call.abandon_after_s * 1000))]
        # -trace_msg: the dialog, for hanging up ourselves if we must stop SIPp (see sip.py).
        # -default_behaviors all,-bye: a call the scenario marks failed is already over.
        argv = self._argv(front_door, "-s", line_number, "-key", "caller", self.call.caller, *extra)
        argv += ["-trace_msg", "-message_file", "messages.log", "-default_behaviors", "all,-bye"]
        self._spawn(argv)
        self.started_mono = time.monotonic()

    @property
    def trace(self) -> Path:
        return self.work_dir / "messages.log"

    def outcome(self) -> CallOutcome | None:
        """From the scenario's CALL line, written when the final answer came; None before."""
        match = _CALL_LINE.search(self.log_text())
        if match is None:
            return None
        invite_s = float(match[1]) + float(match[2]) / 1e6
        answered_s = float(match[3]) + float(match[4]) / 1e6
        wait = answered_s - invite_s if answered_s else None
        return CallOutcome(status=int(float(match[5])), wait_s=wait)
