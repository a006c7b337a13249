"""Benchmark of the phone line end to end, on real peers (issue 4, "Benchmark").

Run from the project root: `.venv/bin/python -m bench.line_bench [--callers 30] [--minutes 3] [--handlers N]`.

Set-up, everything on loopback in one temporary directory (kept, with every log, when a target is missed
or the run fails; `--keep` keeps it always):
- a throw-away PostgreSQL (tests/peers.py) with the migrated schema;
- the line as deployed: `manage.py telephony` (DJANGO_DEBUG=false), which writes Kamailio's configuration,
  starts Kamailio on CC_SIP_BIND and CC_SIP_WORKERS = ceil(callers / 2) + 1 call handlers
  (`manage.py telephony_worker`; the pjsua2 wheel allows 4 calls, so 2 callers, per handler);
  CC_SIP_RING_SECONDS=25 (every agent answers within one ring attempt), CC_SIP_WRAP_UP_SECONDS=0;
- 30 agents (extensions 1001..1030, phone agents, available), all registered at Kamailio with the contact
  of ONE SIPp UAS (telephony/sipp/agent.xml: 180, a ring time drawn uniformly from 2-20 s, 200, a 1 kHz
  tone until the BYE; SIPp serves the calls concurrently);
- one SIPp UAC (telephony/sipp/caller.xml, a 440 Hz tone) keeping `--callers` calls up (`-l`) at up to
  `--rate` new calls a second, each talking `--talk-ms` after the answer, for `--minutes`; then SIGUSR1
  (SIPp's soft quit: no new calls, the calls in progress finish).
Office hours: when the real clock is outside them for the run (the product's own calendar says), the
supervisor and, through it, every call handler run with their wall clock moved to Monday 2026-11-23
10:00 Riga by time-machine (the technique of tests/telephony/handler_at.py): a sitecustomize.py in the
temporary directory, on PYTHONPATH, starts the travel in every Python process the supervisor starts.
Nothing else is changed; monotonic clocks (which measure the waits) are untouched.

Figures, with their targets:
- calls attempted / answered / failed, from SIPp's statistics and from the ledger (target: 0 failed);
- per answered call, SIPp's wait (INVITE sent -> 200 received) minus the ledger's `wait_ms` (INVITE
  reached the handler -> 200 sent), joined on the Call-ID: p50/p95/p99/max of |difference|
  (target p99 <= 50 ms); it includes Kamailio's hop, failovers from full handlers, and scheduling;
- calls per hour (answered calls / the calling window, and / the whole run with the drain);
- CPU seconds, CPU % of one core and peak RSS per call handler (min/mean/max) and for Kamailio (all its
  processes), and the host's busy CPU share (all processes on it, this benchmark's or not);
- recordings: every answered call has a Recording that is not silent (loud_fraction >= 0.5) and holds
  both parties: tone_power at 440 Hz (caller) and at 1 kHz (agent) each at least half a 0.25-FS tone's
  in >= 90 % of the recording's 100 ms windows (see `heard` for why not over the whole file).
Exit code 1 when a target is missed, 2 when the benchmark could not run.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bench.common import (
    ProcessId,
    children,
    command_line,
    cpu_seconds,
    machine_busy_seconds,
    peak_rss_mib,
    process_tree,
    tree_cpu_seconds,
)
from bench.mail_bench import percentile
from recordings.audio import tone_power, tone_presence
from telephony.kamailio import KamailioError, dispatcher_state
from tests.peers import ManagedProcess, PeerError, postgres_start
from tests.sipkit import (
    AGENT_TONE_HZ,
    CALLER_TONE_HZ,
    DOMAIN,
    LINE_NUMBER,
    SippAgent,
    SippCaller,
    SippResult,
    sip_register,
    sipp_stats_read,
    udp_port_bound,
)

if TYPE_CHECKING:
    from recordings.models import Recording

ROOT = Path(__file__).resolve().parents[1]
FIRST_EXTENSION = 1001
RING_MS = (2000, 20000)
RING_SECONDS = 25  # above the longest ring: every agent answers within one ring attempt
RTP_PORTS_PER_HANDLER = 40  # telephony/supervisor.py: handler i gets RTP from CC_SIP_RTP_PORT + 40 i
MONDAY_10 = datetime.fromisoformat("2026-11-23T10:00:00+02:00")  # a working Monday, as in the tests
TARGET_FAILED = 0
TARGET_P99_MS = 50.0
LOUD_FRACTION_MIN = 0.5
TONE_MIN = 0.25**2 * 0.5  # tone_power of the 0.25-FS test tones is 0.0625; half of it is "present"
PRESENT_SHARE_MIN = 0.9  # a party is in the recording when its tone is in 90 % of the 100 ms windows
SETTLE_TIMEOUT_S = 180.0  # after the last call: every end and recording in the ledger within this
SITECUSTOMIZE = '''\
"""Written by bench/line_bench.py: move this process's wall clock by CC_BENCH_CLOCK_SHIFT_S seconds."""
import os

if os.environ.get("CC_BENCH_CLOCK_SHIFT_S"):
    import time

    import time_machine

    time_machine.travel(time.time() + float(os.environ["CC_BENCH_CLOCK_SHIFT_S"]), tick=True).start()
'''


class BenchError(RuntimeError):
    """The benchmark could not run (a peer did not start, the line did not come up)."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the run like Ctrl-C: every process is stopped in `finally`


# --- ports and environment ------------------------------------------------------------------------


def port_block(count: int) -> int:
    """The first of `count` consecutive free UDP ports below the kernel's ephemeral range: the ports the
    SIPp peers and PostgreSQL get from the kernel (free_udp_port) can then never fall inside the block."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    base = 10000 + (os.getpid() * 7919) % max(low - 10000 - count, 1)
    for _ in range(200):
        base = base & ~1
        if base + count < low and not any(udp_port_bound(base + i) for i in range(count)):
            return base
        base = 10000 + (base + 4 * count - 10000) % max(low - 10000 - count, 1)
    raise BenchError(f"no {count} consecutive free UDP ports below {low}")


@dataclass(frozen=True)
class LinePorts:
    kamailio: int
    handler: int  # the first handler's SIP port; handler i has handler + i
    rtp: int  # the first handler's first RTP port

    @classmethod
    def choose(cls, handlers: int) -> LinePorts:
        base = port_block(2 + handlers + RTP_PORTS_PER_HANDLER * handlers + 2)
        rtp = (base + 2 + handlers + 1) & ~1
        return cls(kamailio=base, handler=base + 2, rtp=rtp)


def product_env(work_dir: Path, database_url: str) -> dict[str, str]:
    """Settings shared by this process's Django and the product's processes."""
    return {
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "false",  # as in production: DEBUG keeps every query
        "DJANGO_SECRET_KEY": "bench-only-secret-key-not-used-anywhere-else",
        "CC_LOG_LEVEL": os.environ.get("CC_LOG_LEVEL", "INFO"),
        "CC_RECORDINGS_DIR": str(work_dir / "recordings"),
        "CC_SIP_STATE_DIR": str(work_dir / "state"),
    }


def line_env(work_dir: Path, ports: LinePorts, handlers: int, clock_shift_s: float) -> dict[str, str]:
    clock_dir = work_dir / "clock"
    clock_dir.mkdir(exist_ok=True)
    (clock_dir / "sitecustomize.py").write_text(SITECUSTOMIZE)
    python_path = os.pathsep.join(filter(None, [str(clock_dir), os.environ.get("PYTHONPATH", "")]))
    env = os.environ | {
        "CC_SIP_BIND": f"127.0.0.1:{ports.kamailio}",
        "CC_SIP_DOMAIN": DOMAIN,
        "CC_SIP_LINE_NUMBER": LINE_NUMBER,
        "CC_SIP_KAMAILIO": "managed",
        "CC_SIP_WORKERS": str(handlers),
        "CC_SIP_WORKER_HOST": "127.0.0.1",
        "CC_SIP_WORKER_PORT": str(ports.handler),
        "CC_SIP_RTP_PORT": str(ports.rtp),
        "CC_SIP_RING_SECONDS": str(RING_SECONDS),
        "CC_SIP_WRAP_UP_SECONDS": "0",
        "CC_SIP_DRAIN_SECONDS": "5",
        "PYTHONPATH": python_path,
    }
    if clock_shift_s:
        env["CC_BENCH_CLOCK_SHIFT_S"] = f"{clock_shift_s:.6f}"
    return env


# --- the database and its rows --------------------------------------------------------------------


def django_setup(database_url: str, env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    import psycopg

    with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute("CREATE DATABASE cc_sla")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def agents_create(count: int) -> list[str]:
    """`count` phone agents with extensions from 1001, available; their extensions."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from agents.models import AgentState, AgentStatus, Person, Role

    group = Group.objects.get(name=Role.PHONE_AGENT)
    extensions = [str(FIRST_EXTENSION + i) for i in range(count)]
    for extension in extensions:
        user = get_user_model().objects.create_user(
            username=f"agent{extension}", first_name="Aģents", last_name=extension
        )
        user.groups.add(group)
        person = Person.objects.create(user=user, extension=extension)
        AgentStatus.objects.create(person=person, state=AgentState.AVAILABLE, state_since=timezone.now())
    return extensions


def clock_shift_s(minutes: float) -> float:
    """0 when the office is open (the product's calendar) from now until well after the run; else the
    shift that puts the line at Monday 10:00."""
    from sla.calendar import is_office_open
    from sla.calendar_source import current_calendar

    calendar = current_calendar()
    now = datetime.now().astimezone()
    until = now + timedelta(minutes=minutes + 10)
    open_throughout = now.date() == until.date() and all(is_office_open(at, calendar) for at in (now, until))
    return 0.0 if open_throughout else MONDAY_10.timestamp() - now.timestamp()


# --- the line's processes -------------------------------------------------------------------------


@dataclass
class Line:
    """The supervisor (`manage.py telephony`) and what it started, found by PID."""

    work_dir: Path
    ports: LinePorts
    handlers: int
    env: dict[str, str]
    process: ManagedProcess = field(init=False)
    handler_pids: dict[str, ProcessId] = field(default_factory=dict)
    kamailio_pid: ProcessId | None = None

    @property
    def ctl_socket(self) -> Path:
        return self.work_dir / "state" / "kamailio" / "kamailio_ctl"

    @property
    def kamailio_log(self) -> Path:
        return self.work_dir / "state" / "kamailio" / "kamailio.log"

    def __post_init__(self) -> None:
        self.process = ManagedProcess(
            name="manage.py telephony",
            argv=[sys.executable, "manage.py", "telephony"],
            log_path=self.work_dir / "telephony.log",
            ready=self.dispatcher_all_active,
            cwd=ROOT,
            env=self.env,
            ready_timeout=180,  # 16 Django processes starting at once on 2 cores
        )

    def handler_names(self) -> list[str]:
        return [f"127.0.0.1:{self.ports.handler + i}" for i in range(self.handlers)]

    def dispatcher_all_active(self) -> bool:
        if not all(udp_port_bound(self.ports.handler + i) for i in range(self.handlers)):
            return False
        try:
            state = dispatcher_state(self.ctl_socket)
        except KamailioError:
            return False
        return all(state.get(name) == "active" for name in self.handler_names())

    def start(self) -> None:
        self.process.start()
        time.sleep(3)  # past a dispatcher probe (every 2 s): a handler not answering would show now
        if not self.dispatcher_all_active():
            raise BenchError(f"not every call handler is active at Kamailio; see {self.process.log_path}")
        self.find_children()

    def find_children(self) -> None:
        for pid in children(_known(self.process.pid).pid):
            argv = command_line(pid)
            process_id = ProcessId.of(pid)
            if process_id is None or not argv:
                continue
            if "telephony_worker" in argv and "--port" in argv:
                self.handler_pids[f"127.0.0.1:{argv[argv.index('--port') + 1]}"] = process_id
            elif Path(argv[0]).name == "kamailio":
                self.kamailio_pid = process_id
        if len(self.handler_pids) != self.handlers or self.kamailio_pid is None:
            raise BenchError(
                f"the supervisor runs {len(self.handler_pids)} of {self.handlers} handlers, "
                f"Kamailio {'found' if self.kamailio_pid else 'not found'}"
            )

    def stop(self) -> None:
        """SIGTERM to the supervisor (it stops the handlers and Kamailio); anything of its left after that
        (it was killed, or hung) is killed by its recorded PID."""
        self.process.stop(timeout=60)
        leftovers = [*self.handler_pids.values(), *([self.kamailio_pid] if self.kamailio_pid else [])]
        for process_id in leftovers:
            if process_id.alive():
                for pid in reversed(process_tree(process_id.pid)):
                    os.kill(pid, signal.SIGKILL)


def phones_start(work_dir: Path, line: Line, extensions: list[str]) -> SippAgent:
    """One SIPp UAS answering for every agent's extension (all registered with its contact)."""
    phones = SippAgent(work_dir, scenario="agent.xml", ring_ms=RING_MS, name="agents").start()
    for extension in extensions:
        status = sip_register(
            "127.0.0.1", line.ports.kamailio, extension, "127.0.0.1", phones.port,
            expires=3600, domain=DOMAIN,
        )  # fmt: skip
        if status != 200:
            raise BenchError(f"REGISTER {extension} at Kamailio answered {status}")
    return phones


# --- the run --------------------------------------------------------------------------------------


@dataclass
class Usage:
    """CPU seconds per watched process (or process tree) at one instant, and the host's busy time."""

    at: float
    cpu: dict[str, float]
    busy_s: float


@dataclass
class Run:
    started: float
    quit_at: float
    ended: float
    before: Usage
    after: Usage
    concurrency: list[int]
    result: SippResult


def usage_read(watched: dict[str, tuple[ProcessId, bool]]) -> Usage:
    """`watched`: name -> (process, whether to count its whole tree)."""
    cpu = {}
    for name, (process_id, tree) in watched.items():
        if process_id.alive():
            cpu[name] = tree_cpu_seconds(process_id.pid) if tree else cpu_seconds(process_id.pid)
        else:
            cpu[name] = float("nan")
    return Usage(at=time.monotonic(), cpu=cpu, busy_s=machine_busy_seconds())


def sipp_current_calls(stats_path: Path) -> int | None:
    """CurrentCall of the last row of a SIPp -trace_stat file."""
    try:
        lines = stats_path.read_text(errors="replace").splitlines()
    except OSError:
        return None
    if len(lines) < 2:
        return None
    header, last = lines[0].split(";"), lines[-1].split(";")
    if "CurrentCall" not in header or len(last) != len(header):
        return None
    value = last[header.index("CurrentCall")]
    return int(value) if value.isdigit() else None


def calls_run(
    args: argparse.Namespace,
    line: Line,
    watched: dict[str, tuple[ProcessId, bool]],
    work_dir: Path,
    stops: list[Callable[[], None]],
) -> Run:
    drain_s = 120 + args.talk_ms / 1000 + 60  # the longest wait (CC_SIP_MAX_WAIT_SECONDS), talk, slack
    caller = SippCaller(
        f"127.0.0.1:{line.ports.kamailio}", LINE_NUMBER, work_dir, scenario="caller.xml",
        calls=1_000_000, rate_per_s=args.rate, limit=args.callers, duration_ms=args.talk_ms,
        timeout_s=args.minutes * 60 + drain_s, name="callers",
    )  # fmt: skip
    stops.append(caller.process.stop)
    before = usage_read(watched)
    caller.start()
    watched["SIPp callers"] = (_known(caller.process.pid), False)
    before.cpu["SIPp callers"] = 0.0
    started = time.monotonic()
    concurrency = _watch(args, line, caller, started)
    after = usage_read(watched)
    # SIPp's soft quit (its 'q' key): no new calls; the calls in progress finish, then it exits.
    os.kill(watched["SIPp callers"][0].pid, signal.SIGUSR1)
    quit_at = time.monotonic()
    print(f"    calling stopped after {quit_at - started:.0f} s; letting the calls in progress finish")
    result = caller.wait()
    return Run(started, quit_at, time.monotonic(), before, after, concurrency, result)


def _watch(args: argparse.Namespace, line: Line, caller: SippCaller, started: float) -> list[int]:
    """Wait out the calling window, sampling SIPp's calls in progress every second; fail early if the
    callers or the line stop."""
    samples: list[int] = []
    end, report_at = started + args.minutes * 60, started + 30
    while (now := time.monotonic()) < end:
        if not caller.process.running:
            raise BenchError(f"SIPp callers stopped early:\n{caller.process.log_tail()}")
        if not line.process.running:
            raise BenchError(f"manage.py telephony stopped:\n{line.process.log_tail()}")
        current = sipp_current_calls(caller.work_dir / "stats.csv")
        if current is not None:
            samples.append(current)
        if now >= report_at:
            stats = sipp_stats_read(caller.work_dir / "stats.csv")
            print(
                f"    {now - started:4.0f} s: {current} calls in progress, "
                f"{stats.get('SuccessfulCall', 0)} successful, {stats.get('FailedCall', 0)} failed",
                flush=True,
            )
            report_at += 30
        time.sleep(1.0)
    return samples


def ledger_counts() -> Counter[str]:
    from django.db.models import Count

    from contact_centre.models import Event

    rows = Event.objects.values_list("kind").annotate(n=Count("id"))
    return Counter(dict(rows))


def ledger_settle(timeout: float) -> Counter[str]:
    """Wait until every call that reached the line has ended in the ledger and every answered call's
    recording is stored (the handlers store recordings after the hang-up)."""
    from contact_centre.models import EventKind

    deadline = time.monotonic() + timeout
    while True:
        counts = ledger_counts()
        arrived = counts[EventKind.CALL_ARRIVED] + counts[EventKind.CALL_OUT_OF_HOURS]
        settled = (
            counts[EventKind.CALL_ENDED] + counts[EventKind.CALL_DROPPED] >= arrived
            and counts[EventKind.CALL_RECORDED] >= counts[EventKind.CALL_ANSWERED]
        )
        if settled or time.monotonic() > deadline:
            return counts
        time.sleep(0.5)


# --- figures --------------------------------------------------------------------------------------


def spread(values: list[float], unit: str, digits: int = 1) -> str:
    if not values:
        return "no values"
    if len(values) == 1:
        return f"{values[0]:.{digits}f} {unit} (one value)"
    p50, p95, p99 = statistics.median(values), percentile(values, 0.95), percentile(values, 0.99)
    return (
        f"p50 {p50:.{digits}f}  p95 {p95:.{digits}f}  p99 {p99:.{digits}f}  "
        f"max {max(values):.{digits}f} {unit}"
    )


def min_mean_max(values: list[float]) -> str:
    if not values:
        return "no values"
    return f"min {min(values):.1f} mean {statistics.fmean(values):.1f} max {max(values):.1f}"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report_calls(run: Run, counts: Counter[str]) -> tuple[bool, set[str]]:
    """Calls attempted, answered and failed by SIPp and by the ledger; the answered Call-IDs."""
    from contact_centre.models import Event, EventKind

    stats = run.result.stats
    records = run.result.records
    statuses = Counter(record.final_status for record in records)
    created = stats.get("OutgoingCall", len(records))
    sipp_failed = stats.get("FailedCall", 0)
    answered_ids = set(
        Event.objects.filter(kind=EventKind.CALL_ANSWERED).values_list("payload__sip_call_id", flat=True)
    )
    not_answered = {
        str(kind): counts[kind]
        for kind in (
            EventKind.CALL_ABANDONED, EventKind.CALL_UNANSWERED, EventKind.CALL_DROPPED,
            EventKind.CALL_OUT_OF_HOURS,
        )
        if counts[kind]
    }  # fmt: skip
    arrived = counts[EventKind.CALL_ARRIVED] + counts[EventKind.CALL_OUT_OF_HOURS]
    failed = max(sipp_failed, sum(not_answered.values()), arrived - len(answered_ids))
    print("calls")
    print(
        f"    SIPp:   attempted {created}, successful {stats.get('SuccessfulCall', 0)}, "
        f"failed {sipp_failed}; final statuses {dict(sorted(statuses.items()))}; SIPp rc {run.result.rc}"
    )
    print(
        f"    ledger: reached the line {arrived}, answered {len(answered_ids)}, "
        f"ended {counts[EventKind.CALL_ENDED]}, recorded {counts[EventKind.CALL_RECORDED]}, "
        f"not answered {not_answered or 0}"
    )
    ok = failed <= TARGET_FAILED and run.result.rc == 0
    print(
        f"    failed calls: {failed} (SIPp's, or the ledger's calls not answered if more)   "
        f"(target {TARGET_FAILED})   {verdict(ok)}"
    )
    for record in records:
        if record.final_status != 200:
            print(f"      {record.call_id}: final status {record.final_status}")
    return ok, answered_ids


_DISPATCH = re.compile(r"to call handler sip:(\S+)")
_REFUSED = re.compile(r"call handler sip:(\S+) refused INVITE (\S+) \((\d+)\)")


def refusals_by_call(line: Line) -> Counter[str]:
    """How many handlers refused each Call-ID before one took it (Kamailio's log)."""
    try:
        text = line.kamailio_log.read_text(errors="replace")
    except OSError:
        return Counter()
    return Counter(call_id for _, call_id, _ in _REFUSED.findall(text))


def report_waits(run: Run, line: Line, work_dir: Path) -> bool:
    from contact_centre.models import Event, EventKind

    sipp = {record.call_id: record.wait_ms for record in run.result.records if record.wait_ms is not None}
    payloads = Event.objects.filter(kind=EventKind.CALL_ANSWERED).values_list("payload", flat=True)
    ledger = {payload["sip_call_id"]: float(payload["wait_ms"]) for payload in payloads}
    joined = sorted(set(sipp) & set(ledger))
    differences = {call_id: sipp[call_id] - ledger[call_id] for call_id in joined}
    absolute = [abs(value) for value in differences.values()]
    print("wait: SIPp (INVITE sent -> 200 received) minus the ledger's wait_ms, per call")
    print(
        f"    joined on Call-ID: {len(joined)}; only in SIPp {len(set(sipp) - set(ledger))}, "
        f"only in the ledger {len(set(ledger) - set(sipp))}"
    )
    print(f"    waits themselves (SIPp): {spread([sipp[c] / 1000 for c in joined], 's', 2)}")
    lowest = min(differences.values(), default=0.0)
    print(f"    signed difference:  {spread(list(differences.values()), 'ms')}  (min {lowest:.1f})")
    print(f"    |difference|:       {spread(absolute, 'ms')}")
    p99 = percentile(absolute, 0.99) if len(absolute) > 1 else (absolute[0] if absolute else math.inf)
    ok = p99 <= TARGET_P99_MS and len(joined) == len(sipp) == len(ledger)
    print(
        f"    p99 |difference| {p99:.1f} ms   (target <= {TARGET_P99_MS:.0f} ms, every call joined)   "
        f"{verdict(ok)}"
    )
    refusals = refusals_by_call(line)
    direct = [abs(differences[c]) for c in joined if not refusals[c]]
    failed_over = [abs(differences[c]) for c in joined if refusals[c]]
    print(f"    |difference|, first handler took the call ({len(direct)}): {spread(direct, 'ms')}")
    print(
        f"    |difference|, after full handlers refused it ({len(failed_over)}, "
        f"{statistics.fmean(refusals[c] for c in joined if refusals[c]) if failed_over else 0:.1f} "
        f"refusals each on average): {spread(failed_over, 'ms')}"
    )
    for call_id, value in sorted(differences.items(), key=lambda item: -abs(item[1]))[:5]:
        sipp_ms, ledger_ms = sipp[call_id], ledger[call_id]
        print(
            f"      {value:+8.1f} ms  {call_id}  (SIPp {sipp_ms:.0f} ms, ledger {ledger_ms:.0f} ms, "
            f"{refusals[call_id]} refusals)"
        )
    with (work_dir / "waits.csv").open("w") as table:
        table.write("sip_call_id;sipp_wait_ms;ledger_wait_ms;difference_ms;refusals\n")
        for call_id in joined:
            table.write(
                f"{call_id};{sipp[call_id]:.1f};{ledger[call_id]:.0f};{differences[call_id]:.1f};"
                f"{refusals[call_id]}\n"
            )
    return ok


def report_rate(args: argparse.Namespace, run: Run, answered: int) -> None:
    window, whole = run.quit_at - run.started, run.ended - run.started
    steady = run.concurrency[next((i for i, n in enumerate(run.concurrency) if n >= args.callers), 0) :]
    reached = "yes" if max(run.concurrency, default=0) >= args.callers else "NO"
    print("throughput")
    print(
        f"    calls in progress (SIPp, sampled each second after reaching {args.callers}): "
        f"mean {statistics.fmean(steady) if steady else 0:.1f}, min {min(steady, default=0)}, "
        f"max {max(steady, default=0)}; reached {args.callers}: {reached}"
    )
    print(
        f"    answered calls per hour: {answered * 3600 / window:.0f} over the {window:.0f} s calling "
        f"window; {answered * 3600 / whole:.0f} over the whole {whole:.0f} s with the drain"
    )


def report_usage(line: Line, run: Run) -> None:
    seconds = run.after.at - run.before.at
    cpu = {name: run.after.cpu[name] - run.before.cpu.get(name, 0.0) for name in run.after.cpu}
    print(f"CPU over the {seconds:.0f} s calling window (% of one core) and peak RSS (VmHWM)")
    # A handler the supervisor restarted has no reading of its own (NaN): it is named, not averaged.
    handler_cpu = [cpu[f"handler {name}"] for name in line.handler_names()]
    handler_cpu = [value for value in handler_cpu if not math.isnan(value)]
    handler_rss = [peak_rss_mib(line.handler_pids[name].pid) for name in line.handler_names()]
    handler_rss = [value for value in handler_rss if not math.isnan(value)]
    restarted = [name for name, pid in line.handler_pids.items() if not pid.alive()]
    percent = [100 * value / seconds for value in handler_cpu]
    print(
        f"    call handlers ({len(line.handler_pids)}): CPU s {min_mean_max(handler_cpu)}; "
        f"CPU % {min_mean_max(percent)}; peak RSS MiB {min_mean_max(handler_rss)}"
        + (f"; exited during the run (restarted by the supervisor): {restarted}" if restarted else "")
    )
    if line.kamailio_pid is None:
        raise BenchError("Kamailio's process was not found")
    kamailio_tree = process_tree(line.kamailio_pid.pid)
    kamailio_rss = [peak_rss_mib(pid) for pid in kamailio_tree]
    print(
        f"    Kamailio ({len(kamailio_tree)} processes): CPU {cpu['Kamailio']:.1f} s = "
        f"{100 * cpu['Kamailio'] / seconds:.1f} %; peak RSS MiB largest process {max(kamailio_rss):.1f}, "
        f"sum {sum(kamailio_rss):.1f} (shared memory counted in each)"
    )
    for name in ("manage.py telephony (supervisor)", "SIPp callers", "SIPp agents", "PostgreSQL"):
        print(f"    {name}: CPU {cpu[name]:.1f} s = {100 * cpu[name] / seconds:.1f} %")
    cores = os.cpu_count() or 1
    busy = run.after.busy_s - run.before.busy_s
    ours = sum(value for value in cpu.values() if not math.isnan(value))
    print(
        f"    host: {cores} cores busy {100 * busy / (cores * seconds):.0f} % "
        f"({busy:.0f} CPU s; this benchmark's processes {ours:.0f} s, everything else {busy - ours:.0f} s)"
    )


@dataclass(frozen=True)
class Heard:
    """One recording's audio by party: the share of its 100 ms windows in which each party's tone is
    present (tone_power >= TONE_MIN in that window), and tone_power over the whole file."""

    caller_share: float
    agent_share: float
    caller_whole: float
    agent_whole: float


def heard(samples: npt.NDArray[np.int16], rate: int) -> Heard:
    """Presence per 100 ms window (recordings.audio.tone_presence: robust to frames a jitter buffer
    slipped, which cancel part of a whole-file measurement at 440 Hz); whole-file figures kept."""
    return Heard(
        caller_share=tone_presence(samples, rate, CALLER_TONE_HZ, threshold=TONE_MIN),
        agent_share=tone_presence(samples, rate, AGENT_TONE_HZ, threshold=TONE_MIN),
        caller_whole=tone_power(samples, rate, CALLER_TONE_HZ),
        agent_whole=tone_power(samples, rate, AGENT_TONE_HZ),
    )


def recording_fault(recording: Recording, recordings_dir: Path) -> tuple[str | None, Heard | None]:
    """Why a stored recording fails the check (None when it passes), and what it holds."""
    import soundfile

    try:
        samples, rate = soundfile.read(recordings_dir / recording.path, dtype="int16")
    except (OSError, RuntimeError) as error:
        return f"unreadable {recording.path}: {error}", None
    found = heard(samples, rate)
    if recording.loud_fraction < LOUD_FRACTION_MIN:
        return f"silent: loud_fraction {recording.loud_fraction:.2f}", found
    if min(found.caller_share, found.agent_share) < PRESENT_SHARE_MIN:
        return (
            f"a party missing: caller's 440 Hz in {found.caller_share:.0%} of the 100 ms windows, "
            f"agent's 1 kHz in {found.agent_share:.0%}"
        ), found
    return None, found


def report_recordings(answered_ids: set[str], recordings_dir: Path) -> bool:
    from recordings.models import Recording

    stored = {r.sip_call_id: r for r in Recording.objects.filter(sip_call_id__in=answered_ids)}
    failures = [(call_id, "no Recording") for call_id in sorted(answered_ids - set(stored))]
    found: list[Heard] = []
    for call_id in sorted(stored):
        fault, heard_in = recording_fault(stored[call_id], recordings_dir)
        if fault is not None:
            failures.append((call_id, fault))
        if heard_in is not None:
            found.append(heard_in)
    seconds = [recording.duration_ms / 1000 for recording in stored.values()]
    print("recordings")
    print(
        f"    answered calls {len(answered_ids)}, with a Recording {len(stored)}; durations "
        f"{spread(seconds, 's')}; loud_fraction min "
        f"{min((r.loud_fraction for r in stored.values()), default=0):.2f}"
    )
    print(
        f"    100 ms windows with the tone present, mean over recordings: caller 440 Hz "
        f"{statistics.fmean(h.caller_share for h in found) if found else 0:.1%}, agent 1 kHz "
        f"{statistics.fmean(h.agent_share for h in found) if found else 0:.1%}; whole-file tone_power min: "
        f"caller {min((h.caller_whole for h in found), default=0):.4f}, agent "
        f"{min((h.agent_whole for h in found), default=0):.4f} (a steady 0.25-FS tone gives 0.0625)"
    )
    caller_slipped = [1 - h.caller_share for h in found]
    print(
        f"    caller's tone impaired (phase slips: frames the handler's jitter buffer dropped or concealed) "
        f"in {statistics.fmean(caller_slipped) if found else 0:.1%} of the 100 ms windows, worst recording "
        f"{max(caller_slipped, default=0):.1%}"
    )
    ok = not failures
    print(
        f"    missing, silent or one-sided: {len(failures)}   (target 0; loud_fraction >= "
        f"{LOUD_FRACTION_MIN}, each tone >= {TONE_MIN:.4f} in >= {PRESENT_SHARE_MIN:.0%} of the "
        f"100 ms windows)   {verdict(ok)}"
    )
    for call_id, reason in failures[:20]:
        print(f"      {call_id}: {reason}")
    return ok


def report_dispatch(line: Line) -> None:
    """How Kamailio spread the INVITEs (round robin; a full handler answers 486 and the next is tried),
    and the incidents in the line's logs."""
    try:
        text = line.kamailio_log.read_text(errors="replace")
        supervisor = line.process.log_path.read_text(errors="replace")
    except OSError:
        return
    offered = Counter(_DISPATCH.findall(text))
    refused = Counter(code for _, _, code in _REFUSED.findall(text))
    print(
        f"Kamailio: {sum(offered.values())} INVITEs relayed to handlers (per handler min "
        f"{min(offered.values(), default=0)}, max {max(offered.values(), default=0)}), refused by a "
        f"full or stopping handler {dict(refused) or 0}; 'maximum number of branches exceeded' "
        f"{text.count('maximum number of branches exceeded')}, 'every call handler refused' "
        f"{text.count('every call handler refused')}, 'no call handler is active' "
        f"{text.count('no call handler is active')}"
    )
    exits = re.findall(r"call handler (\S+) exited with (-?\d+)", supervisor)
    print(
        f"call handlers: restarted by the supervisor {len(exits)} times {exits or ''}; Python tracebacks "
        f"in their output {supervisor.count('Traceback (most recent call last)')}"
    )


# --- main -----------------------------------------------------------------------------------------


@contextmanager
def peers_stopped(stops: list[Callable[[], None]]) -> Iterator[None]:
    """Run the stops (last started, first stopped) however the block ends; each stop's error is printed,
    not raised, so the others still run."""
    try:
        yield
    finally:
        for stop in reversed(stops):
            try:
                stop()
            except Exception as error:  # a failed stop must not keep the next from running
                print(f"stopping a peer failed: {error!r}", file=sys.stderr)


def run_bench(args: argparse.Namespace, work_dir: Path, stops: list[Callable[[], None]]) -> bool:
    handlers = args.handlers or math.ceil(args.callers / 2) + 1
    postgres = postgres_start()
    stops.append(postgres.stop)
    django_setup(postgres.url, product_env(work_dir, postgres.url))
    extensions = agents_create(args.agents)
    shift = clock_shift_s(args.minutes + 5)
    ports = LinePorts.choose(handlers)
    line = Line(work_dir, ports, handlers, line_env(work_dir, ports, handlers, shift))
    stops.append(line.stop)
    clock = (
        f"wall clock moved to {MONDAY_10:%a %Y-%m-%d %H:%M} Riga (outside office hours now)"
        if shift
        else "the real clock (office hours now)"
    )
    print(
        f"line: Kamailio 127.0.0.1:{ports.kamailio}, {handlers} call handlers from :{ports.handler} "
        f"(RTP from {ports.rtp}), {clock}; starting"
    )
    started = time.monotonic()
    line.start()
    print(f"    up in {time.monotonic() - started:.1f} s; {args.agents} agents registering")
    phones = phones_start(work_dir, line, extensions)
    stops.append(phones.process.stop)
    watched = {f"handler {name}": (pid, False) for name, pid in line.handler_pids.items()}
    watched |= {
        "Kamailio": (_known(line.kamailio_pid.pid if line.kamailio_pid else None), True),
        "manage.py telephony (supervisor)": (_known(line.process.pid), False),
        "SIPp agents": (_known(phones.process.pid), False),
        "PostgreSQL": (_known(postgres.process.pid), True),
    }
    print(
        f"calling: {args.callers} at once, up to {args.rate:g} new calls/s, {args.talk_ms / 1000:g} s "
        f"talk, agents ring {RING_MS[0] / 1000:g}-{RING_MS[1] / 1000:g} s, for {args.minutes:g} min"
    )
    run = calls_run(args, line, watched, work_dir, stops)
    counts = ledger_settle(SETTLE_TIMEOUT_S)
    print(f"    all calls ended after {run.ended - run.quit_at:.0f} s of drain; the ledger settled\n")
    calls_ok, answered_ids = report_calls(run, counts)
    waits_ok = report_waits(run, line, work_dir)
    report_rate(args, run, len(answered_ids))
    report_usage(line, run)
    report_dispatch(line)
    recordings_ok = report_recordings(answered_ids, work_dir / "recordings")
    passed = calls_ok and waits_ok and recordings_ok
    print(f"\nRESULT: {'every target met' if passed else 'a target was MISSED'}")
    return passed


def _known(pid: int | None) -> ProcessId:
    process_id = ProcessId.of(pid or 0)
    if process_id is None:
        raise BenchError(f"process {pid} is not running")
    return process_id


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--callers", type=int, default=30, help="simultaneous callers (SIPp -l)")
    parser.add_argument("--minutes", type=float, default=3.0, help="how long new calls are placed")
    parser.add_argument("--handlers", type=int, default=0, help="call handlers (default ceil(callers/2)+1)")
    parser.add_argument("--agents", type=int, default=30, help="agents, extensions from 1001")
    parser.add_argument("--talk-ms", type=int, default=15000, help="talk time after the answer (SIPp -d)")
    parser.add_argument("--rate", type=float, default=10.0, help="most new calls a second (SIPp -r)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    signal.signal(signal.SIGTERM, _terminate)
    work_dir = Path(tempfile.mkdtemp(prefix="cc-sla-line-"))
    print(f"work directory {work_dir}")
    stops: list[Callable[[], None]] = []
    passed = False
    try:
        with peers_stopped(stops):
            passed = run_bench(args, work_dir, stops)
    except KeyboardInterrupt:
        print("interrupted: every process stopped", file=sys.stderr)
        return 130
    except (BenchError, PeerError, KamailioError, OSError) as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 2
    finally:
        if passed and not args.keep:
            shutil.rmtree(work_dir, ignore_errors=True)
        else:
            print(f"logs and recordings kept in {work_dir}", file=sys.stderr)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
