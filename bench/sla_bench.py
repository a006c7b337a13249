"""Benchmark of the SLA engine on PostgreSQL (issue 5, "Benchmark").

Run from the project root: `.venv/bin/python -m bench.sla_bench [--clocks N] [--closed N]`; a quick check
at a tenth of the scale: `--clocks 100000 --closed 100000`.

Set-up: a throw-away PostgreSQL and Redis (tests/peers.py), the migrated schema, and a year of data
written with COPY (bench/sla_load.py, which says what it holds): `--closed` closed interactions over the
past year with their settled clocks, every breach (about 5 %) a row with its ledger event and alert, and
`--clocks` pending EM-ACK/EM-REPLY clocks of open e-mails, all due later, as one valid hash-chained
ledger. A sample of interactions is replayed through the product's rules to check the rows (sla.rules
gives the same clocks and breaches); the year's daily counts are compiled by `counts_compile`.
The product runs as deployed: DJANGO_DEBUG=false, session login, the Procfile's worker and beat.

Figures, each with its target:
1. Due -> breach row: the Procfile's Celery worker and beat against this PostgreSQL and the Redis peer.
   1,000 calls reach the line at one instant (the line's own bulk ledger write, `interactions_open_many`),
   which opens 1,000 PH-RING clocks falling due together, three rings later. Per clock, the time from
   its due time to its breach row: `Breach.raised_at` (the moment the sweep wrote it, when the model has
   it) and, independently, the moment this process first saw the row, polling every 20 ms.
   p50/p99/max; target p99 <= 2 s (Zammad and Znuny rescan every 5 minutes). An extra probe: 10 calls
   two seconds after the burst, whose clocks fall due while the worker may still be busy with the
   burst's sweep (it raises the breach alerts in the same task); same target, max. Before the worker
   starts, a sweep of 1,000 due clocks runs here in a transaction rolled back (its statements, plans and
   the time of its alert step); the worker then breaches those clocks first (a catch-up, timed too).
2. The idle sweep (nothing due): `clock_breach_overdue(now=...)` and the whole `sla.sweep` task body, in
   this process, 200 times each, p50/p95; target <= 20 ms. EXPLAIN (ANALYZE, BUFFERS) of each statement
   of the idle sweep; the worker's own idle sweeps are listed too (run time as Celery logs it).
3. Breach list API as a team lead of every unit (all breaches visible): `GET /api/breaches/` (the
   default page) and `?rule=EM-ACK&breached_from=&breached_to=` (the last 90 days), 200 times each
   through django.test.Client, p50/p95; target p95 <= 50 ms.
4. Yearly report for this year: `mk399_report(year)` and `GET /api/reports/mk399/?year=` as JSON, CSV
   and XLSX, 10 times each; target <= 1 s. The compile of the year's counts is timed too (no target).
Each section shows the host's load average: other work on the machine slows every figure.
Exit code 1 when a target is missed, 2 when the benchmark could not run or the data failed its checks.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
POLL_S = 0.02
FOLLOWERS, FOLLOW_S = 10, 2.0  # the extra probe after the burst
TARGETS = {"latency": 2.0, "idle": 0.020, "api": 0.050, "report": 1.0}


# --- figures ---------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def host() -> str:
    """The host's 1-minute load average: other work on the machine shows in the timings."""
    return f"[host load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs]"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def spread(values: list[float], *shares: float) -> str:
    parts = [f"p{round(share * 100)} {ms(percentile(values, share))}" for share in shares]
    return "   ".join([*parts, f"max {ms(max(values))}"])


def repeat(call: Callable[[], object], times: int) -> list[float]:
    taken = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        taken.append(time.perf_counter() - started)
    return taken


@dataclass
class Figure:
    name: str
    value: float | None  # seconds; None when it could not be measured
    target: float

    @property
    def met(self) -> bool:
        return self.value is not None and self.value <= self.target


def summary(figures: list[Figure]) -> bool:
    print(f"\n=== Summary === {host()}")
    width = max(len(figure.name) for figure in figures)
    print(f"  {'figure':<{width}}  {'value':>10}  {'target':>10}")
    for figure in figures:
        value = "n/a" if figure.value is None else ms(figure.value)
        verdict = "PASS" if figure.met else "MISS"
        print(f"  {figure.name:<{width}}  {value:>10}  {'<= ' + ms(figure.target):>10}  {verdict}")
    return all(figure.met for figure in figures)


def explain(sql: str) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of one captured statement, in a transaction rolled back afterwards."""
    from django.db import connection, transaction

    lines: list[str] = []
    with suppress(_Rollback), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        lines = [row[0] for row in cursor.fetchall()]
        raise _Rollback
    return lines


class _Rollback(Exception):
    pass


def clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 4] + " ..."


def print_plans(queries: list[dict[str, str]]) -> None:
    """Each statement with its time as captured; a SELECT with its plan too (EXPLAIN ANALYZE, rolled back)."""
    for number, query in enumerate(queries, 1):
        sql = query["sql"]
        print(f"    [{number}] {float(query['time']) * 1000:.2f} ms  {clip(sql, 300)}")
        if sql.lstrip().upper().startswith("SELECT"):
            for line in explain(sql):
                print(f"          {clip(line, 200)}")


# --- stages ----------------------------------------------------------------------------------------


def load(args: argparse.Namespace) -> Any:
    from django.utils import timezone

    from bench.sla_load import SlaLoad, replay_check, staff_create

    now = timezone.now()
    staff = staff_create()
    loader = SlaLoad(staff=staff, now=now, seed=args.seed)
    started = time.perf_counter()
    try:
        loader.closed_load(args.closed, args.breaches)
        loader.open_load(args.clocks)
        generated = time.perf_counter() - started
        seconds = loader.write()
    except BaseException:
        loader.discard()
        raise
    total = time.perf_counter() - started
    c = loader.counts
    print(
        f"=== Data (loaded in {total:.0f} s: rows generated and spooled in {generated:.0f} s, then COPY) ==="
    )
    print(
        f"  interactions {c.interactions:,} ({c.interactions - c.open_interactions:,} closed over the past "
        f"year, {c.open_interactions:,} open e-mails)"
    )
    print(f"  clocks       {c.clocks:,} ({c.pending:,} pending: EM-ACK and EM-REPLY, all due after the run)")
    print(f"  deadlines    {c.deadlines:,} ({c.fixed_deadlines:,} fixed instants: PH-RING, PH-REC)")
    by_rule = ", ".join(f"{rule} {n:,}" for rule, n in sorted(c.breaches.items()))
    print(
        f"  breaches     {sum(c.breaches.values()):,} ({by_rule}); {c.reviews:,} reviews, {c.alerts:,} alerts"
    )
    print(f"  events       {c.events:,} (one hash chain; the sla cursor at its tip)")
    print("  COPY and checks: " + ", ".join(f"{name} {value:.1f} s" for name, value in seconds.items()))
    checked, clocks, differences = replay_check(args.replay)
    print(
        f"  replay check: the events of {checked} random interactions applied again through sla.rules give "
        f"{'the same' if not differences else 'DIFFERENT'} clocks and breaches ({clocks} clocks)"
    )
    if differences:
        print("\n".join(f"    {line}" for line in differences))
        raise SystemExit(2)
    if c.events <= args.verify_chain_up_to:
        from contact_centre.selectors import ledger_chain_verify

        started = time.perf_counter()
        chain = ledger_chain_verify()
        verdict = "intact" if chain.intact else f"BROKEN at {chain.first_broken_seq}: {chain.problem}"
        taken = time.perf_counter() - started
        print(f"  ledger_chain_verify: {chain.events_checked:,} events, {verdict} ({taken:.0f} s)")
        if not chain.intact:
            raise SystemExit(2)
    else:
        print(
            f"  ledger_chain_verify skipped above {args.verify_chain_up_to:,} events (--verify-chain-up-to)"
        )
    return staff


def compile_counts() -> None:
    from django.utils import timezone

    from sla.counts import counts_compile

    today = timezone.localdate()
    first, last = today - timedelta(days=366), today - timedelta(days=1)
    started = time.perf_counter()
    rows = counts_compile(first, last)
    print(f"\n=== MK399 counts ===\n  counts_compile({first}, {last}): {rows:,} daily rows in "
          f"{time.perf_counter() - started:.2f} s")  # fmt: skip


def idle_sweep(times: int) -> list[Figure]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from sla.sync import clock_breach_overdue
    from sla.tasks import sla_sweep

    raised = clock_breach_overdue(now=timezone.now())
    if raised:
        raise SystemExit(f"the idle sweep breached {len(raised)} clocks: something was due after the load")
    overdue = repeat(lambda: clock_breach_overdue(now=timezone.now()), times)
    whole = repeat(sla_sweep, times)
    print(f"\n=== Idle sweep (nothing due), in this process, {times} runs each === {host()}")
    print(f"  clock_breach_overdue(now): {spread(overdue, 0.5, 0.95)}")
    print(f"  sla.sweep task body:       {spread(whole, 0.5, 0.95)}")
    with CaptureQueriesContext(connection) as captured:
        sla_sweep()
    print(f"  the statements of one idle sla.sweep ({len(captured.captured_queries)}), with their plans:")
    print_plans(captured.captured_queries)
    return [
        Figure("idle sweep: clock_breach_overdue p95", percentile(overdue, 0.95), TARGETS["idle"]),
        Figure("idle sweep: whole sla.sweep task p95", percentile(whole, 0.95), TARGETS["idle"]),
    ]


def breach_list(staff: Any, times: int) -> list[Figure]:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    client = Client()
    client.force_login(User.objects.get(pk=staff.lead_user_id))
    today = timezone.localdate()
    urls = {
        "default page": "/api/breaches/",
        "rule + 90 days": f"/api/breaches/?rule=EM-ACK&breached_from={today - timedelta(days=90)}"
        f"&breached_to={today}",
    }
    print(f"\n=== Breach list API as a team lead (every unit), {times} requests each === {host()}")
    figures = []
    for name, url in urls.items():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"GET {url}: {response.status_code} {response.content[:300]!r}")
        body = response.json()
        repeat(lambda url=url: client.get(url), 10)  # warm
        taken = repeat(lambda url=url: client.get(url), times)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        print(f"  GET {url}")
        print(
            f"    {spread(taken, 0.5, 0.95)}   ({body['count']:,} breaches, {len(body['results'])} on the "
            f"page, {len(response.content):,} bytes, {len(captured.captured_queries)} statements)"
        )
        slowest = sorted(captured.captured_queries, key=lambda query: -float(query["time"]))[:2]
        print("    its slowest statements:")
        print_plans(slowest)
        figures.append(Figure(f"breach list API p95 ({name})", percentile(taken, 0.95), TARGETS["api"]))
    return figures


def report(staff: Any, times: int) -> list[Figure]:
    from django.contrib.auth.models import User
    from django.test import Client
    from django.utils import timezone

    from sla.counts import mk399_report
    from sla.models import DailyCount

    year = timezone.localdate().year
    client = Client()
    client.force_login(User.objects.get(pk=staff.lead_user_id))
    rows = DailyCount.objects.filter(day__year=year).count()
    print(f"\n=== Yearly report {year} ({rows:,} daily count rows), {times} runs each === {host()}")
    taken = repeat(lambda: mk399_report(year), times)
    print(f"  mk399_report({year}):{'':22}{spread(taken, 0.5)}")
    figures = [Figure("yearly report: mk399_report (max)", max(taken), TARGETS["report"])]
    for fmt in ("json", "csv", "xlsx"):
        url = f"/api/reports/mk399/?year={year}" + ("" if fmt == "json" else f"&format={fmt}")
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"GET {url}: {response.status_code} {response.content[:300]!r}")
        taken = repeat(lambda url=url: client.get(url), times)
        print(f"  GET {url:<40}{spread(taken, 0.5)}   ({len(response.content):,} bytes)")
        figures.append(Figure(f"yearly report API {fmt.upper()} (max)", max(taken), TARGETS["report"]))
    return figures


# --- the burst, through the product's worker and beat ----------------------------------------------


def procfile_command(name: str) -> list[str]:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return shlex.split(line.partition(":")[2])
    raise SystemExit(f"Procfile has no {name} line")


class Product:
    """The Procfile's worker and beat, with .venv/bin first on PATH as scripts/start runs them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def log(self, name: str) -> Path:
        return self.directory / f"{name}.log"

    def start(self, name: str) -> None:
        env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        with self.log(name).open("wb") as log:
            self.processes[name] = subprocess.Popen(
                procfile_command(name), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_for(self, name: str, pattern: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.log(name).read_text(errors="replace")):
            if self.processes[name].poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(self.log(name).read_text(errors="replace").splitlines()[-30:])
                raise SystemExit(f"{name} did not log {pattern!r}:\n{tail}")
            time.sleep(0.1)

    def stop(self) -> None:
        for name in ("beat", "worker"):
            process = self.processes.pop(name, None)
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def sweeps(self) -> list[tuple[str, float, int]]:
        """(log time, seconds, breaches) of each sla.sweep the worker ran, in order."""
        pattern = re.compile(
            r"\[([\d-]+ [\d:,]+): INFO[^\]]*\] Task sla\.sweep\[[^\]]+\] succeeded in ([\d.e-]+)s: (\d+)"
        )
        found = pattern.findall(self.log("worker").read_text(errors="replace"))
        return [(at, float(seconds), int(n)) for at, seconds, n in found]


def calls_arrive(count: int, at: datetime, tag: str) -> tuple[list[int], datetime]:
    """`count` calls reaching the line at `at`, through the ledger's bulk opening (the product applies them
    to the clocks after the commit). Returns the PH-RING clock ids and their (one) due time."""
    from contact_centre.models import Channel, EventKind
    from contact_centre.services import Opening, interactions_open_many
    from sla.models import Clock, ClockState

    openings = [
        Opening(
            channel=Channel.PHONE,
            kind=EventKind.CALL_ARRIVED,
            occurred_at=at,
            source_key=f"call:{tag}-{n}:arrived",
            payload={"sip_call_id": f"{tag}-{n}", "caller": f"+37129{n:06d}"},
        )
        for n in range(count)
    ]
    opened = interactions_open_many(openings)
    clocks = Clock.objects.filter(
        interaction_id__in=[interaction.pk for interaction, _ in opened], rule_id="PH-RING"
    ).select_related("deadline")
    ids = [clock.pk for clock in clocks if clock.state == ClockState.PENDING]
    due = {clock.deadline.due_at for clock in clocks}
    if len(ids) != count or len(due) != 1:
        raise SystemExit(
            f"{tag}: {len(ids)} pending PH-RING clocks on {len(due)} due times, not {count} on one"
        )
    return ids, due.pop()


class StatementCount:
    """An execute wrapper counting statements and keeping the first few (Django's query log stops at
    9,000)."""

    def __init__(self, keep: int = 20) -> None:
        self.count, self.keep, self.first = 0, keep, []

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        if len(self.first) < self.keep:
            self.first.append(" ".join(sql.split()))
        return execute(sql, params, many, context)


def due_sweep_plans(count: int) -> tuple[list[int], datetime]:
    """A sweep finding `count` clocks due, run here in a transaction rolled back: its time and plans, and
    the time the same sla.sweep then takes to raise their breach alerts."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from sla.alerts import breach_alerts_raise
    from sla.sync import clock_breach_overdue

    ids, due = calls_arrive(count, timezone.now() - timedelta(minutes=2), "bench-plan")
    with suppress(_Rollback), transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            raised = clock_breach_overdue(now=timezone.now())
            taken = time.perf_counter() - started
        alerting = StatementCount()
        with connection.execute_wrapper(alerting):
            started = time.perf_counter()
            alerted = breach_alerts_raise(now=timezone.now())
            alerts_taken = time.perf_counter() - started
        raise _Rollback
    print(
        f"\n  A sweep finding {count:,} clocks due (in this process, rolled back): {len(raised):,} breached "
        f"in {ms(taken)}, {len(captured.captured_queries)} statements; then breach_alerts_raise, the next "
        f"step of sla.sweep, alerted {alerted:,} breaches in {ms(alerts_taken)}, "
        f"{alerting.count:,} statements, the first breach's being:"
    )
    for sql in alerting.first[1:]:  # after the SELECT of the breaches to alert
        print(f"      {clip(sql, 150)}")
        if sql.startswith("RELEASE SAVEPOINT") or sql == "COMMIT":
            break
    print("  The breaching SELECTs with their plans:")
    selects = [
        query for query in captured.captured_queries if query["sql"].lstrip().upper().startswith("SELECT")
    ]
    print_plans(selects)
    # Left pending and overdue: the worker breaches them as soon as it starts (a catch-up, timed below).
    return ids, due


def wait_breached(clock_ids: list[int], timeout: float) -> dict[int, float]:
    """Poll the breach rows every POLL_S; when each of these clocks' row was first seen (epoch s)."""
    from django.db import connection

    wanted, seen = set(clock_ids), {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM sla_breach WHERE clock_id < %s", [min(clock_ids)])
        last_id = cursor.fetchone()[0]
        deadline = time.monotonic() + timeout
        while len(seen) < len(wanted) and time.monotonic() < deadline:
            cursor.execute("SELECT id, clock_id FROM sla_breach WHERE id > %s ORDER BY id", [last_id])
            rows = cursor.fetchall()
            now = time.time()
            for breach_id, clock_id in rows:
                last_id = max(last_id, breach_id)
                if clock_id in wanted:
                    seen.setdefault(clock_id, now)
            time.sleep(POLL_S)
    return seen


def latencies(ids: list[int], due: datetime, seen: dict[int, float]) -> tuple[list[float], list[float]]:
    """Per clock, seconds from its due time to its breach row: by Breach.raised_at (when the model has
    it), and as first seen by polling."""
    from sla.models import Breach

    polled = [seen[clock_id] - due.timestamp() for clock_id in ids if clock_id in seen]
    raised = []
    if "raised_at" in {field.name for field in Breach._meta.concrete_fields}:
        written = Breach.objects.filter(clock_id__in=ids).values_list("raised_at", flat=True)
        raised = [(at - due).total_seconds() for at in written if at is not None]
    return raised, polled


def worker_sweeps_wait(product: Product, after: int, breaches: int) -> list[tuple[str, float, int]]:
    """The worker's sweeps after the first `after`, once those that breached `breaches` clocks have
    returned (the worker logs a task when it returns: after the breach rows, a sweep raises their alerts)."""
    deadline = time.monotonic() + 90
    while sum(n for _, _, n in product.sweeps()[after:]) < breaches and time.monotonic() < deadline:
        time.sleep(0.2)
    return product.sweeps()[after:]


def burst(count: int, product: Product) -> list[Figure]:
    from django.utils import timezone

    print(
        f"\n=== Due -> breach row: a burst of {count:,} clocks, the Procfile's worker and beat === {host()}"
    )
    print("  " + " | ".join(" ".join(procfile_command(name)) for name in ("worker", "beat")))
    leftover, _ = due_sweep_plans(count)
    started = time.time()
    product.start("worker")
    product.start("beat")
    product.wait_for("worker", r"ready\.", 60)
    product.wait_for("beat", r"beat: Starting", 60)
    caught_up = wait_breached(leftover, 120)
    first = worker_sweeps_wait(product, 0, len(caught_up))
    print(
        f"  worker and beat started; the {len(caught_up):,} clocks left overdue above were breached "
        f"{max(caught_up.values()) - started:.1f} s after they were launched (by a first sweep that ran "
        f"{sum(seconds for _, seconds, n in first if n):.1f} s in all, alerts included)"
    )
    time.sleep(5)  # idle ticks
    before = len(product.sweeps())
    idle = [seconds for _, seconds, n in product.sweeps()[len(first) :] if not n]
    if idle:
        print(
            f"  the worker's idle sweeps ({len(idle)}, run time as Celery logs it): {spread(idle, 0.5, 0.95)}"
        )
    arrived = timezone.now()
    ids, due = calls_arrive(count, arrived, "bench-burst")
    opened = timezone.now()
    print(
        f"  {count:,} calls reached the line at {arrived:%H:%M:%S.%f}; their PH-RING clocks were open "
        f"{(opened - arrived).total_seconds():.2f} s later and fall due together at {due:%H:%M:%S.%f}"
    )
    # A probe beyond the burst: a few calls two seconds later, falling due while the worker is still
    # busy with the burst's sweep (its alerts).
    time.sleep(max(0.0, FOLLOW_S - (timezone.now() - arrived).total_seconds()))
    late_ids, late_due = calls_arrive(FOLLOWERS, timezone.now(), "bench-follow")
    seen = wait_breached(ids + late_ids, (late_due - timezone.now()).total_seconds() + 120)
    figures = []
    raised, polled = latencies(ids, due, seen)
    if len(polled) < count:
        print(f"  only {len(polled):,} of {count:,} breach rows appeared within 2 minutes of the due time")
    print(f"  due -> breach row, Breach.raised_at:         {spread(raised, 0.5, 0.99) if raised else 'n/a'}")
    print(f"  due -> breach row, seen polling every {POLL_S * 1000:.0f} ms: {spread(polled, 0.5, 0.99)}")
    complete = len(polled) == count
    complete_raised = percentile(raised, 0.99) if raised and complete else None
    figures.append(Figure("due -> breach row p99 (raised_at)", complete_raised, TARGETS["latency"]))
    complete_polled = percentile(polled, 0.99) if complete else None
    figures.append(Figure("due -> breach row p99 (polled)", complete_polled, TARGETS["latency"]))
    late_raised, late_polled = latencies(late_ids, late_due, seen)
    late = late_raised or late_polled
    print(
        f"  extra probe: {FOLLOWERS} calls {FOLLOW_S:.0f} s after the burst, due {late_due:%H:%M:%S.%f}: "
        f"due -> breach row {spread(late, 0.5) if late else 'n/a'} "
        f"({'raised_at' if late_raised else 'polled'}; {len(late_polled)} of {FOLLOWERS} seen)"
    )
    probe = f"extra probe: {FOLLOWERS} clocks due {FOLLOW_S:.0f} s later (max)"
    figures.append(Figure(probe, max(late) if late else None, TARGETS["latency"]))
    print("  the sweeps that breached them (worker log: local time, run time of the whole task, breaches):")
    for at, seconds, n in worker_sweeps_wait(product, before, len(seen)):
        if n:
            print(f"    {at}  {ms(seconds):>10}  {n:,}")
    return figures


# --- main ------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clocks", type=int, default=1_000_000, help="pending clocks")
    parser.add_argument("--closed", type=int, default=1_000_000, help="closed interactions over the year")
    parser.add_argument("--breaches", type=int, default=None, help="breach rows (default: 5 %% of --closed)")
    parser.add_argument("--burst", type=int, default=1000, help="clocks falling due together")
    parser.add_argument("--repeat", type=int, default=200, help="runs of the sweep and requests of the API")
    parser.add_argument("--replay", type=int, default=400, help="interactions replayed to check the data")
    parser.add_argument(
        "--verify-chain-up-to", type=int, default=1_000_000, help="events (the check is slow)"
    )
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    if args.breaches is None:
        args.breaches = args.closed // 20

    from bench.loader import database_start, peers_stop
    from tests.peers import RedisServer, free_port

    directory = Path(tempfile.mkdtemp(prefix="cc-sla-bench-"))
    redis = RedisServer(directory)
    redis.start()
    env = {
        "REDIS_URL": redis.url,
        "DJANGO_DEBUG": "false",  # as in production: DEBUG keeps every query and logs more
        "DJANGO_SECRET_KEY": "bench-only-secret-key-not-used-anywhere-else",
        "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "CC_LOG_LEVEL": os.environ.get("CC_LOG_LEVEL", "WARNING"),
        # Alerts e-mailed by the worker meet a closed port at once (refused), never a real server.
        "CC_SMTP_HOST": "127.0.0.1",
        "CC_SMTP_PORT": str(free_port()),
    }
    product = Product(directory)
    cluster = None
    keep = True  # the logs stay when the run fails or misses a target
    try:
        cluster = database_start(env=env)
        staff = load(args)
        gc.collect()  # the loader's millions of objects are gone; no collection pauses inside the timings
        compile_counts()
        figures = idle_sweep(args.repeat)
        figures += breach_list(staff, args.repeat)
        figures += report(staff, 10)
        figures += burst(args.burst, product)
        passed = summary(figures)
        from django.db import connection

        print(
            f"\nPostgreSQL {connection.pg_version // 10000} as tests/peers.py starts it (fsync off); "
            f"{os.cpu_count()} CPUs shared by PostgreSQL, Redis, the worker, beat and this process."
        )
        keep = not passed
        return 0 if passed else 1
    finally:
        product.stop()
        peers_stop(cluster=cluster, redis=redis, directory=directory, keep_logs=keep)


if __name__ == "__main__":
    sys.exit(main())
