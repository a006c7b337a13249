"""Delay counts per day and the yearly MK399 report, checked against counts made independently here."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook
from rest_framework.test import APIClient

from agents.models import Role
from contact_centre.models import Channel, EventKind, Interaction, Service
from contact_centre.services import (
    call_record_outcome,
    event_append,
    interaction_record_call,
    interaction_record_email,
)
from sla.counts import counts_compile, mk399_report
from sla.models import Breach, DailyCount
from sla.sync import clock_breach_overdue
from tests.factories import PersonFactory, riga

pytestmark = pytest.mark.django_db

# Days that test the day boundaries: a DST night, a transferred working Saturday, a public holiday.
DST_DAY, WORKING_SATURDAY, HOLIDAY = date(2026, 3, 29), date(2026, 1, 17), date(2026, 11, 18)


def _service(code: str) -> Service:
    return Service.objects.get(code=code)


def _classify(interaction: Interaction, code: str) -> None:
    Interaction.objects.filter(pk=interaction.pk).update(service=_service(code))


def _email(n: int, at: datetime, code: str) -> Interaction:
    interaction = interaction_record_email(
        message_id=f"<m{n}@client.lv>", received_at=at, sender=f"k{n}@example.lv", subject="Jautājums"
    )
    _classify(interaction, code)
    return interaction


def _call(
    n: int, at: datetime, code: str, *, outcome: str | None, wait_ms: int = 0, in_hours: bool = True
) -> None:
    call_id = f"call-{n}"
    interaction = interaction_record_call(
        sip_call_id=call_id, arrived_at=at, caller="+37120000000", in_office_hours=in_hours
    )
    _classify(interaction, code)
    if outcome is not None:
        call_record_outcome(sip_call_id=call_id, kind=outcome, occurred_at=at, wait_ms=wait_ms)


@pytest.fixture
def year_2026() -> None:
    """A year's facts: e-mails (one answered late), calls of every PH-RING outcome, a complaint."""
    _email(1, riga(2026, 3, 29, 2, 30), "accounts")  # DST night: 02:30 does not exist, it is 03:30
    _email(2, riga(2026, 1, 17, 10, 0), "accounts")
    _email(3, riga(2026, 11, 18, 12, 0), "payments")  # on a holiday: counted on its own day
    complaint = _email(4, riga(2026, 11, 18, 13, 0), "payments")
    event_append(
        interaction=complaint, kind=EventKind.COMPLAINT_MARKED, occurred_at=riga(2026, 11, 18, 13, 5)
    )
    _call(10, riga(2026, 11, 18, 10, 0), "accounts", outcome=None, in_hours=False)
    _call(11, riga(2026, 3, 29, 10, 0), "accounts", outcome=EventKind.CALL_ANSWERED, wait_ms=3000)
    _call(12, riga(2026, 3, 29, 10, 5), "accounts", outcome=EventKind.CALL_ANSWERED, wait_ms=20000)
    _call(13, riga(2026, 3, 29, 10, 9), "payments", outcome=EventKind.CALL_ABANDONED, wait_ms=8000)
    _call(14, riga(2026, 3, 29, 10, 12), "payments", outcome=EventKind.CALL_ABANDONED, wait_ms=21000)
    _call(15, riga(2027, 1, 4, 10, 0), "accounts", outcome=EventKind.CALL_ANSWERED, wait_ms=1000)  # next year
    # No e-mail is acknowledged or answered: each misses EM-ACK and EM-REPLY.
    clock_breach_overdue(now=riga(2027, 2, 1, 12, 0))


def _compile_2026() -> None:
    counts_compile(date(2026, 1, 1), date(2026, 12, 31))


def test_a_day_is_counted_per_service_and_channel_on_riga_days(year_2026: None) -> None:
    counts_compile(DST_DAY)

    rows = {(row.service.code, row.channel): row for row in DailyCount.objects.filter(day=DST_DAY)}
    assert set(rows) == {("accounts", "email"), ("accounts", "phone"), ("payments", "phone")}
    accounts_phone = rows[("accounts", "phone")]
    assert (accounts_phone.cases, accounts_phone.calls_by_ring_3, accounts_phone.calls_late) == (2, 1, 1)
    payments_phone = rows[("payments", "phone")]
    assert (payments_phone.short_abandons, payments_phone.long_abandons) == (1, 1)
    assert rows[("accounts", "email")].cases == 1
    # PH-RING breaches fall due on this day too: the late answer and the long abandon.
    assert accounts_phone.delays_by_rule == {"PH-RING": 1}
    assert payments_phone.delays_by_rule == {"PH-RING": 1}


def test_compiling_a_day_again_replaces_its_rows(year_2026: None) -> None:
    counts_compile(HOLIDAY)
    first = list(DailyCount.objects.filter(day=HOLIDAY).values_list("service_id", "channel", "cases"))
    counts_compile(HOLIDAY)
    assert list(DailyCount.objects.filter(day=HOLIDAY).values_list("service_id", "channel", "cases")) == first
    holiday = {(row.service.code, row.channel): row for row in DailyCount.objects.filter(day=HOLIDAY)}
    assert holiday[("payments", "email")].complaints == 1
    assert holiday[("accounts", "phone")].out_of_hours == 1


def test_the_yearly_report_matches_counts_made_independently(year_2026: None) -> None:
    _compile_2026()

    report = {row.service_code: row for row in mk399_report(2026)}

    # Written out by hand from the fixture: e-mails 1, 2 (accounts), 3, 4 (payments); calls 10-12
    # (accounts), 13-14 (payments); call 15 is 2027. Each e-mail breached EM-ACK and EM-REPLY in 2026
    # (the holiday ones fall due in November/December); calls 12 and 14 breached PH-RING.
    accounts, payments = report["accounts"], report["payments"]
    assert (accounts.cases, accounts.by_channel[Channel.EMAIL], accounts.by_channel[Channel.PHONE]) == (
        5,
        2,
        3,
    )
    assert (payments.cases, payments.by_channel[Channel.EMAIL], payments.by_channel[Channel.PHONE]) == (
        4,
        2,
        2,
    )
    assert accounts.delays_by_rule == {"EM-ACK": 2, "EM-REPLY": 2, "PH-RING": 1}
    # The complaint on e-mail 4 never got its outcome: COMPLAINT breached too.
    assert payments.delays_by_rule == {"EM-ACK": 2, "EM-REPLY": 2, "PH-RING": 1, "COMPLAINT": 1}
    assert (accounts.delays, payments.delays) == (5, 6)
    assert (accounts.complaints, payments.complaints) == (0, 1)
    assert report["other"].cases == 0  # every active service has its line


@pytest.fixture
def lead_client() -> APIClient:
    client = APIClient()
    client.force_authenticate(PersonFactory(user__username="lead", user__roles=[Role.TEAM_LEAD]).user)
    return client


def test_the_report_api_gives_json_csv_and_xlsx_to_team_leads_only(
    year_2026: None, lead_client: APIClient
) -> None:
    _compile_2026()
    agent = APIClient()
    agent.force_authenticate(PersonFactory(user__username="agent", user__roles=[Role.PHONE_AGENT]).user)

    as_json = lead_client.get("/api/reports/mk399/?year=2026")
    as_csv = lead_client.get("/api/reports/mk399/?year=2026&format=csv")
    as_xlsx = lead_client.get("/api/reports/mk399/?year=2026&format=xlsx")

    assert as_json.status_code == 200
    assert {row["service_code"]: row["cases"] for row in as_json.json()["rows"]}["accounts"] == 5
    assert as_json.json()["compiled_until"] == "2026-12-31"
    table = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["Pakalpojuma kods / Service code", "Pakalpojums / Service", "Gadījumi / Cases"]
    assert [table[1][0], table[1][2]] == ["accounts", "5"]
    assert as_csv["Content-Disposition"] == 'attachment; filename="mk399-2026.csv"'
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet.title == "MK399 2026"
    assert [cell.value for cell in sheet[2]][:3] == ["accounts", "Kontu atvēršana un slēgšana", 5]
    assert agent.get("/api/reports/mk399/?year=2026").status_code == 403
    assert lead_client.get("/api/reports/mk399/?year=twenty").status_code == 400
    assert lead_client.get("/api/reports/mk399/").status_code == 400


def test_the_command_writes_xlsx_or_csv_by_extension(year_2026: None, tmp_path: Path) -> None:
    _compile_2026()

    call_command("mk399_report", "--year", "2026", "--out", str(tmp_path / "r.xlsx"))
    call_command("mk399_report", "--year", "2026", "--out", str(tmp_path / "r.csv"))

    assert load_workbook(tmp_path / "r.xlsx").active.cell(row=2, column=3).value == 5
    assert "accounts" in (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    with pytest.raises(CommandError, match=r"\.xlsx or \.csv"):
        call_command("mk399_report", "--year", "2026", "--out", str(tmp_path / "r.pdf"))


def test_a_year_compiled_at_once_equals_its_weeks_compiled_one_by_one(year_2026: None) -> None:
    _compile_2026()
    at_once = sorted(DailyCount.objects.values_list("day", "service_id", "channel", "cases", "delays"))
    for week in range(53):
        first = date(2026, 1, 1) + timedelta(weeks=week)
        counts_compile(first, min(first + timedelta(days=6), date(2026, 12, 31)))
    assert (
        sorted(DailyCount.objects.values_list("day", "service_id", "channel", "cases", "delays")) == at_once
    )


def test_a_reclassified_breach_leaves_the_compiled_counts_of_its_day(
    year_2026: None, lead_client: APIClient
) -> None:
    _compile_2026()
    breach = Breach.objects.filter(rule_id="PH-RING", interaction__service__code="accounts").get()
    before = {row.service_code: row.delays for row in mk399_report(2026)}["accounts"]

    lead_client.post(f"/api/breaches/{breach.pk}/reclassify/", {"comment": "Tests zvans"}, format="json")

    assert {row.service_code: row.delays for row in mk399_report(2026)}["accounts"] == before - 1
