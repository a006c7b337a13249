"""Delay counts per day, service and channel, and the yearly MK399 report made from them.

Cabinet Regulation No. 399 asks the service holder to count, per service: cases, the channel of each
application, delays and complaints, and to publish a year's results by 1 April of the next year. A day is
compiled once it is over (and again for a week, so late facts are counted); the report sums the days.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

from contact_centre.models import Channel, Event, EventKind, Interaction, Service
from sla.models import Breach, Clock, ClockState, CompiledDay, DailyCount
from sla.rules import PH_RING
from sla.services import sla_lock

Key = tuple[date, int | None, str]  # (Riga day, service id, channel)


def _window(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants from the start of Riga day `first` to the end of Riga day `last`."""
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
    return start, end


def _grouped(
    rows: QuerySet[Any], when: str, path: str = "interaction__", distinct: str = "pk"
) -> dict[Key, int]:
    """Counts by (Riga day of `when`, service, channel); `path` leads from the rows to the interaction."""
    by_day = rows.annotate(day=TruncDate(when, tzinfo=timezone.get_current_timezone()))
    counted = by_day.values("day", f"{path}service_id", f"{path}channel").annotate(
        n=Count(distinct, distinct=True)
    )
    return {(row["day"], row[f"{path}service_id"], row[f"{path}channel"]): row["n"] for row in counted}


def _delays(start: datetime, end: datetime) -> dict[Key, dict[str, int]]:
    rows = Breach.objects.filter(breached_at__gte=start, breached_at__lt=end, withdrawn_at__isnull=True)
    by_day = rows.annotate(day=TruncDate("breached_at", tzinfo=timezone.get_current_timezone()))
    counted = by_day.values("day", "interaction__service_id", "interaction__channel", "rule_id").annotate(
        n=Count("pk")
    )
    delays: dict[Key, dict[str, int]] = defaultdict(dict)
    for row in counted:
        key = (row["day"], row["interaction__service_id"], row["interaction__channel"])
        delays[key][row["rule_id"]] = row["n"]
    return delays


def _ring_outcomes(start: datetime, end: datetime) -> dict[str, dict[Key, int]]:
    """PH-RING outcomes of the calls that reached the line on each day."""
    abandoned = Q(interaction__events__kind__in=(EventKind.CALL_ABANDONED, EventKind.CALL_UNANSWERED))
    clocks = Clock.objects.filter(rule_id=PH_RING, started_at__gte=start, started_at__lt=end)
    groups = {
        "calls_by_ring_3": clocks.filter(state=ClockState.MET),
        "calls_late": clocks.filter(state=ClockState.BREACHED).exclude(abandoned),
        "long_abandons": clocks.filter(state=ClockState.BREACHED).filter(abandoned),
        "short_abandons": clocks.filter(state=ClockState.STOPPED, stop_reason="short_abandon"),
    }
    return {name: _grouped(rows, "started_at") for name, rows in groups.items()}


def _figures(start: datetime, end: datetime) -> dict[str, dict[Key, int]]:
    # A matter a team lead set aside (spam, misdirected) is no client's case: MK399 does not count it.
    events = Event.objects.filter(
        occurred_at__gte=start, occurred_at__lt=end, interaction__not_client_matter=""
    )
    interactions = Interaction.objects.filter(opened_at__gte=start, opened_at__lt=end, not_client_matter="")
    return {
        "cases": _grouped(interactions, "opened_at", path=""),
        "complaints": _grouped(
            events.filter(kind=EventKind.COMPLAINT_MARKED), "occurred_at", distinct="interaction_id"
        ),
        "out_of_hours": _grouped(
            events.filter(kind=EventKind.CALL_OUT_OF_HOURS), "occurred_at", distinct="interaction_id"
        ),
        **_ring_outcomes(start, end),
    }


def counts_compile(first: date, last: date | None = None) -> int:
    """Compile the Riga days `first`..`last` (one day when `last` is None), replacing their rows.

    A handful of grouped queries whatever the range, so a year is compiled as fast as a day.
    Idempotent. Returns the rows written.
    """
    last = last or first
    start, end = _window(first, last)
    figures, delays = _figures(start, end), _delays(start, end)
    keys = set(delays).union(*figures.values())
    rows = [
        DailyCount(
            day=day,
            service_id=service_id,
            channel=channel,
            delays=sum(delays.get((day, service_id, channel), {}).values()),
            delays_by_rule=delays.get((day, service_id, channel), {}),
            **{name: values.get((day, service_id, channel), 0) for name, values in figures.items()},
        )
        for day, service_id, channel in sorted(keys, key=lambda key: (key[0], key[1] or 0, key[2]))
    ]
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    with transaction.atomic():
        sla_lock()  # one compiler at a time: two beat processes started by mistake write once
        DailyCount.objects.filter(day__gte=first, day__lte=last).delete()
        DailyCount.objects.bulk_create(rows)
        CompiledDay.objects.filter(day__gte=first, day__lte=last).delete()
        CompiledDay.objects.bulk_create([CompiledDay(day=day) for day in days])
    return len(rows)


def counts_compile_recent(*, today: date, days: int = 7) -> int:
    """The nightly run: the last `days` days that are over (late facts land in earlier days)."""
    return counts_compile(today - timedelta(days=days), today - timedelta(days=1))


@dataclass
class Mk399Row:
    """One service's line of the yearly report."""

    service_code: str
    service_name: str
    cases: int = 0
    by_channel: dict[str, int] = field(default_factory=lambda: dict.fromkeys(Channel.values, 0))
    delays: int = 0
    delays_by_rule: dict[str, int] = field(default_factory=dict)
    complaints: int = 0


UNCLASSIFIED = ("", "Neklasificēts / Not classified")


def mk399_report(year: int) -> list[Mk399Row]:
    """The yearly report per service (every active service, and the cases with none), from the days."""
    rows: dict[int | None, Mk399Row] = {
        service.pk: Mk399Row(service.code, service.name_lv)
        for service in Service.objects.filter(active=True).order_by("position", "code")
    }
    counts = DailyCount.objects.filter(day__year=year).select_related("service")
    for count in counts:
        row = rows.get(count.service_id)
        if row is None:
            code, name = (count.service.code, count.service.name_lv) if count.service else UNCLASSIFIED
            row = rows[count.service_id] = Mk399Row(code, name)
        row.cases += count.cases
        row.by_channel[count.channel] += count.cases
        row.delays += count.delays
        for rule_id, number in count.delays_by_rule.items():
            row.delays_by_rule[rule_id] = row.delays_by_rule.get(rule_id, 0) + number
        row.complaints += count.complaints
    return list(rows.values())


REPORT_COLUMNS = (
    ("service_code", "Pakalpojuma kods / Service code"),
    ("service_name", "Pakalpojums / Service"),
    ("cases", "Gadījumi / Cases"),
    *((f"channel_{channel}", str(label)) for channel, label in Channel.choices),
    ("delays", "Kavējumi / Delays"),
    ("complaints", "Sūdzības / Complaints"),
)


def mk399_table(year: int) -> tuple[list[str], list[list[object]]]:
    """The report as a header and rows (CSV and XLSX share it)."""
    header = [title for _, title in REPORT_COLUMNS]
    body = [
        [
            row.service_code,
            row.service_name,
            row.cases,
            *(row.by_channel[channel] for channel in Channel.values),
            row.delays,
            row.complaints,
        ]
        for row in mk399_report(year)
    ]
    return header, body


def mk399_csv(year: int) -> str:
    """The report as CSV (UTF-8 with a BOM, so spreadsheet programs read the Latvian letters)."""
    header, body = mk399_table(year)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(body)
    return out.getvalue()


def mk399_xlsx(year: int) -> bytes:
    """The report as an Excel workbook, one sheet, with the year in the title."""
    header, body = mk399_table(year)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"MK399 {year}"
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in body:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def counts_after_review(breached_at: datetime) -> None:
    """Recompile the day of a breach a team lead reclassified, if that day was compiled already (the
    nightly run only looks a week back)."""
    day = timezone.localdate(breached_at)
    if CompiledDay.objects.filter(day=day).exists():
        counts_compile(day)
