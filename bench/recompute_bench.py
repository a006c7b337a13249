"""Benchmark: move 1,000,000 pending clocks after a calendar edit, on a real PostgreSQL.

Run from the project root: `.venv/bin/python -m bench.recompute_bench [--clocks N]`.
It starts a throw-away PostgreSQL (tests/peers.py), migrates, bulk-loads N pending working-day clocks
whose due dates lie after a chosen day, then times the real service `calendar_override_create` adding
an extra public holiday on that day: every clock must move. Target: ≤ 5 s for 1,000,000 clocks.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from datetime import UTC, date, datetime, timedelta

HOLIDAY = date(2026, 5, 12)  # a Tuesday; clocks opened in the ten days before it are due after it
CLOCKS_PER_INTERACTION = 10
RULES = (("EM-ACK", 1), ("EM-REPLY", 2), ("PORTAL-ANS", 6))


def _start_database() -> object:
    import psycopg

    from tests.peers import postgres_start

    cluster = postgres_start()
    url = cluster.url  # type: ignore[attr-defined]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute("CREATE DATABASE cc_sla")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return cluster


def _copy_rows(cursor: object, table: str, columns: str, rows: io.StringIO) -> None:
    rows.seek(0)
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
        while chunk := rows.read(1 << 20):
            copy.write(chunk)


def _load_clocks(count: int) -> None:
    """Bulk-load interactions, their deadlines and pending clocks with COPY (the ORM would take minutes)."""
    from django.db import connection

    from sla.calendar_source import current_calendar
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
    opened = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    with connection.cursor() as cursor:
        raw = cursor.connection.cursor()
        buffer = io.StringIO()
        for n in range(1, interactions + 1):
            buffer.write(f"{n}\temail\topen\tf\t{opened.isoformat()}\t\t\t\n")
        _copy_rows(
            raw,
            "contact_centre_interaction",
            "id, channel, state, is_complaint, opened_at, client_name, client_contact, subject",
            buffer,
        )
        buffer = io.StringIO()
        for n in range(count):
            rule_id, deadline_id = terms[n % len(terms)]
            buffer.write(
                f"{n // CLOCKS_PER_INTERACTION + 1}\t{rule_id}\t{n}\t{opened.isoformat()}\t{deadline_id}\t"
                f"pending\t\t{{}}\t{opened.isoformat()}\t0\n"
            )
        _copy_rows(
            raw,
            "sla_clock",
            "interaction_id, rule_id, opened_by_seq, started_at, deadline_id, state, stop_reason, detail, "
            "created_at, warned_percent",
            buffer,
        )
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
    cluster = _start_database()
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
        cluster.stop()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
