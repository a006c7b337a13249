"""Benchmark: move 1,000,000 pending clocks after a calendar edit, on a real PostgreSQL.

Run from the project root: `.venv/bin/python -m bench.recompute_bench [--clocks N]`.
It starts a throw-away PostgreSQL (tests/peers.py), migrates, bulk-loads N pending working-day clocks
whose due dates lie after a chosen day, then times the real service `calendar_override_create` adding
an extra public holiday on that day: every clock must move. Target: ≤ 5 s for 1,000,000 clocks.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime, timedelta

HOLIDAY = date(2026, 5, 12)  # a Tuesday; clocks opened in the ten days before it are due after it
CLOCKS_PER_INTERACTION = 10
RULES = (("EM-ACK", 1), ("EM-REPLY", 2), ("PORTAL-ANS", 6))


def _load_clocks(count: int) -> None:
    """Bulk-load interactions, their deadlines and pending clocks with COPY (the ORM would take minutes)."""
    from django.db import connection

    from bench.loader import TableSpool, raw_cursor
    from contact_centre.models import Interaction
    from sla.calendar_source import current_calendar
    from sla.models import Clock
    from sla.services import deadline_for_basis

    calendar = current_calendar()
    bases = [HOLIDAY - timedelta(days=d) for d in range(1, 9)]
    terms = [
        (rule_id, deadline_for_basis(basis, working_days, calendar).pk)
        for basis in bases
        for rule_id, working_days in RULES
        if deadline_for_basis(basis, working_days, calendar).due_at.date() >= HOLIDAY
    ]
    interactions = count // CLOCKS_PER_INTERACTION
    opened = datetime(2026, 5, 4, 8, 0, tzinfo=UTC).isoformat()
    rows = TableSpool(Interaction, ["id", "channel", "state", "is_complaint", "opened_at"])
    rows.add_many(f"{n}\temail\topen\tf\t{opened}" for n in range(1, interactions + 1))
    clocks = TableSpool(
        Clock, ["interaction_id", "rule_id", "opened_by_seq", "started_at", "deadline_id", "created_at"]
    )
    clocks.add_many(
        f"{n // CLOCKS_PER_INTERACTION + 1}\t{terms[n % len(terms)][0]}\t{n}\t{opened}\t"
        f"{terms[n % len(terms)][1]}\t{opened}"
        for n in range(count)
    )
    with raw_cursor() as cursor:  # every other column (state, detail, warnings...) takes the model's default
        rows.load(cursor)
        clocks.load(cursor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval('contact_centre_interaction_id_seq', %s)", [interactions])
        cursor.execute("VACUUM ANALYZE sla_clock")


def _clocks_due_as_the_new_calendar_says(sample: int = 2000) -> int:
    """Read clocks back through the ORM and check each due time against the calendar, computed afresh."""
    from sla.calendar import due_from_basis
    from sla.calendar_source import current_calendar
    from sla.models import Clock

    calendar = current_calendar()
    wrong = 0
    for clock in Clock.objects.select_related("deadline").order_by("?")[:sample]:
        expected = due_from_basis(clock.deadline.basis_on, clock.deadline.working_days, calendar)
        wrong += clock.due_at != expected
    return wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clocks", type=int, default=1_000_000)
    count = parser.parse_args().clocks
    from bench.loader import database_start

    cluster = database_start()
    try:
        started = time.perf_counter()
        _load_clocks(count)
        print(
            f"loaded {count:,} pending clocks, all due on or after {HOLIDAY}, in "
            f"{time.perf_counter() - started:.1f} s"
        )
        from sla.models import CalendarChange
        from sla.services import calendar_override_create

        started = time.perf_counter()
        calendar_override_create(day=HOLIDAY, kind="holiday", name="Benchmark holiday", legal_source="bench")
        elapsed = time.perf_counter() - started
        moved = CalendarChange.objects.latest("id").clocks_moved
        print(
            f"calendar edit recomputed and moved {moved:,} clocks in {elapsed:.2f} s "
            f"({moved / elapsed:,.0f} clocks/s); target ≤ 5 s for 1,000,000"
        )
        wrong = _clocks_due_as_the_new_calendar_says()
        print(f"read back 2,000 random clocks: {wrong} with a due time the new calendar disagrees with")
        if moved != count or wrong:
            sys.exit(f"expected every clock to move correctly: {moved:,} of {count:,} moved, {wrong} wrong")
    finally:
        from django.db import connections

        connections.close_all()
        cluster.stop()


if __name__ == "__main__":
    main()
