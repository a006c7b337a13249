"""What the API shows and how it refuses: deadlines, verdicts, filters, errors, query budgets."""

from __future__ import annotations

from datetime import date, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from rest_framework.test import APIClient

from agents.models import Person, Role, Unit
from contact_centre.models import EventKind
from contact_centre.services import email_outbound_record, interaction_record_call, interaction_record_email
from sla.models import Breach, Clock, ClockState
from sla.services import calendar_override_create
from sla.sync import clock_breach_overdue, clock_sync
from tests.factories import PersonFactory, riga

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit() -> Unit:
    return Unit.objects.create(code="kac", name="KAC")


@pytest.fixture
def lead(unit: Unit) -> Person:
    person = PersonFactory(user__username="lead", user__roles=[Role.TEAM_LEAD], unit=unit)
    unit.leads.add(person)
    return person


@pytest.fixture
def client_as_lead(lead: Person) -> APIClient:
    client = APIClient()
    client.force_authenticate(lead.user)
    return client


def client_email(n: int, at: datetime | None = None) -> int:
    interaction = interaction_record_email(
        message_id=f"<m{n}@client.lv>",
        received_at=at or riga(2026, 4, 7, 10),
        sender="k@example.lv",
        subject="?",
    )
    clock_sync()
    return interaction.pk


@pytest.mark.smoke
def test_an_interaction_shows_its_deadlines_and_a_verdict_per_rule(client_as_lead: APIClient) -> None:
    pk = client_email(1)
    interaction = interaction_record_email(
        message_id="<m1@client.lv>", received_at=riga(2026, 4, 7, 10), sender="k@example.lv", subject="?"
    )
    email_outbound_record(
        interaction=interaction,
        kind=EventKind.EMAIL_ACKNOWLEDGED,
        message_id="<a@kase>",
        sent_at=riga(2026, 4, 7, 11),
    )
    clock_sync()
    with time_machine.travel(riga(2026, 4, 9, 18, 0), tick=False):
        body = client_as_lead.get(f"/api/interactions/{pk}/").json()
    assert body["rules"] == {"EM-ACK": "met", "EM-REPLY": "breached"}
    deadlines = {d["rule"]: d for d in body["deadlines"]}
    assert deadlines["EM-REPLY"]["due_at"] == "2026-04-09T17:15:00+03:00"
    assert deadlines["EM-ACK"]["met_at"] == "2026-04-07T11:00:00+03:00"
    assert [e["kind"] for e in body["events"]] == ["email_received", "email_acknowledged"]


def test_a_moved_clock_says_which_calendar_edit_moved_it(client_as_lead: APIClient) -> None:
    pk = client_email(1, at=riga(2026, 5, 11, 10))
    calendar_override_create(
        day=date(2026, 5, 12), kind="holiday", name="Hokejs", legal_source="Saeimas likums"
    )
    with time_machine.travel(riga(2026, 5, 11, 12), tick=False):
        body = client_as_lead.get(f"/api/interactions/{pk}/").json()
    reply = next(d for d in body["deadlines"] if d["rule"] == "EM-REPLY")
    assert reply["due_at"] == "2026-05-14T17:15:00+03:00"
    assert reply["moved"]["previous_due_at"] == "2026-05-13T17:15:00+03:00"
    assert "2026-05-12" in reply["moved"]["change"]


def test_the_list_filters_by_channel_and_breach(client_as_lead: APIClient) -> None:
    late, fresh = client_email(1), client_email(2, at=riga(2026, 4, 9, 10))
    interaction_record_call(
        sip_call_id="c", arrived_at=riga(2026, 4, 9, 10), caller="+371", in_office_hours=True
    )
    with time_machine.travel(riga(2026, 4, 9, 18), tick=False):
        breached = client_as_lead.get("/api/interactions/", {"channel": "email", "breached": "true"}).json()
        on_time = client_as_lead.get("/api/interactions/", {"channel": "email", "breached": "false"}).json()
    assert [row["id"] for row in breached["results"]] == [late]
    assert [row["id"] for row in on_time["results"]] == [fresh]


def test_the_list_filters_by_riga_dates(client_as_lead: APIClient) -> None:
    client_email(1, at=riga(2026, 4, 7, 0, 30))  # 6 April in UTC, 7 April in Riga
    client_email(2, at=riga(2026, 4, 8, 10))
    body = client_as_lead.get(
        "/api/interactions/", {"opened_from": "2026-04-07", "opened_to": "2026-04-07"}
    ).json()
    assert body["count"] == 1


def test_the_list_stays_within_its_query_budget(
    client_as_lead: APIClient, django_assert_max_num_queries: object
) -> None:
    for n in range(25):
        client_email(n)
    with django_assert_max_num_queries(6):  # type: ignore[operator]
        response = client_as_lead.get("/api/interactions/")
    assert response.json()["count"] == 25


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"opened_from": "7.4.2026"}, "opened_from"),
        ({"breached": "maybe"}, "breached"),
    ],
)
def test_bad_filters_get_one_clear_error_shape(
    client_as_lead: APIClient, query: dict[str, str], field: str
) -> None:
    response = client_as_lead.get("/api/interactions/", query)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"].startswith(field)


def test_an_unknown_rule_in_the_breach_filter_is_named(client_as_lead: APIClient) -> None:
    response = client_as_lead.get("/api/breaches/", {"rule": "EM-FAST"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "rule_unknown"
    assert "EM-FAST" in response.json()["error"]["message"]


def test_breaches_filter_by_rule_and_are_acknowledged_once(client_as_lead: APIClient, lead: Person) -> None:
    client_email(1)
    clock_breach_overdue(now=riga(2026, 4, 30))
    rows = client_as_lead.get("/api/breaches/", {"rule": "em-reply"}).json()["results"]
    assert [row["rule"] for row in rows] == ["EM-REPLY"]
    url = f"/api/breaches/{rows[0]['id']}/acknowledge/"
    first = client_as_lead.post(
        url, {"reason": "staff-shortage", "comment": "Divi slimo"}, format="json"
    ).json()
    again = client_as_lead.post(url, {"reason": "other", "comment": "Cits"}, format="json").json()
    assert (first["reason"], first["acknowledge_reason"]) == ("staff-shortage", "Divi slimo")
    assert (again["reason"], again["acknowledge_reason"]) == ("staff-shortage", "Divi slimo")
    assert [(r["action"], r["reason"]) for r in again["reviews"]] == [("acknowledged", "staff-shortage")]
    assert Breach.objects.get(pk=rows[0]["id"]).acknowledged_by == lead.user
    reasons = {r["code"]: r["acknowledged"] for r in client_as_lead.get("/api/breaches/reasons/").json()}
    assert reasons["staff-shortage"] == 1
    assert reasons["system-outage"] == 0


def test_an_acknowledgement_with_a_reason_not_on_the_list_is_refused_naming_the_list(
    client_as_lead: APIClient,
) -> None:
    client_email(1)
    breach = clock_breach_overdue(now=riga(2026, 4, 30))[0]
    response = client_as_lead.post(
        f"/api/breaches/{breach.pk}/acknowledge/", {"reason": "bad-luck"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "breach_reason_unknown"
    assert "staff-shortage" in response.json()["error"]["message"]


def test_a_reclassified_breach_is_withdrawn_with_its_reason_and_no_longer_listed(
    client_as_lead: APIClient, lead: Person
) -> None:
    client_email(1)
    breach = clock_breach_overdue(now=riga(2026, 4, 30))[0]
    url = f"/api/breaches/{breach.pk}/reclassify/"

    refused = client_as_lead.post(url, {}, format="json")
    done = client_as_lead.post(url, {"comment": "Automātiska atbilde, skaitīta kļūdas pēc"}, format="json")

    assert refused.status_code == 400
    assert done.status_code == 200
    assert done.json()["withdrawn_at"] is not None
    assert done.json()["reviews"][0]["action"] == "reclassified"
    listed = [row["id"] for row in client_as_lead.get("/api/breaches/").json()["results"]]
    assert breach.pk not in listed
    withdrawn = client_as_lead.get("/api/breaches/", {"withdrawn": "true"}).json()["results"]
    assert breach.pk in [row["id"] for row in withdrawn]
    assert Breach.objects.filter(pk=breach.pk).exists()  # nothing is deleted
    clock = Clock.objects.get(pk=breach.clock_id)
    assert (clock.state, clock.stop_reason) == (ClockState.STOPPED, "reclassified")  # no longer counted
    assert breach.interaction.events.filter(kind=EventKind.SLA_BREACH_WITHDRAWN).count() == 1


def test_an_acknowledgement_without_a_reason_is_refused(client_as_lead: APIClient) -> None:
    client_email(1)
    breach = clock_breach_overdue(now=riga(2026, 4, 30))[0]
    response = client_as_lead.post(f"/api/breaches/{breach.pk}/acknowledge/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("reason")


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (
            {"kind": "leave", "starts_at": "2026-05-08T00:00+03:00", "ends_at": "2026-05-04T00:00+03:00"},
            "absence_ends_before_start",
        ),
        (
            {"kind": "vacation", "starts_at": "2026-05-04T00:00+03:00", "ends_at": "2026-05-08T00:00+03:00"},
            "invalid",
        ),
        ({"kind": "leave", "starts_at": "next monday", "ends_at": "2026-05-08T00:00+03:00"}, "invalid"),
        ({"kind": "leave"}, "invalid"),
    ],
)
def test_bad_absences_through_the_api_are_refused_by_name(
    client_as_lead: APIClient, lead: Person, payload: dict[str, str], code: str
) -> None:
    response = client_as_lead.post(f"/api/agents/{lead.pk}/absences/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_a_substitute_cycle_through_the_api_is_refused(
    client_as_lead: APIClient, lead: Person, unit: Unit
) -> None:
    colleague = PersonFactory(user__username="colleague", unit=unit)
    period = {"kind": "leave", "starts_at": "2026-05-04T00:00+03:00", "ends_at": "2026-05-08T00:00+03:00"}
    assert (
        client_as_lead.post(
            f"/api/agents/{colleague.pk}/absences/", period | {"substitute": lead.pk}, format="json"
        ).status_code
        == 201
    )
    response = client_as_lead.post(
        f"/api/agents/{lead.pk}/absences/", period | {"substitute": colleague.pk}, format="json"
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "substitute_cycle")


def test_the_openapi_schema_validates_without_warnings() -> None:
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "/api/interactions/" in out.getvalue()
    assert "/api/agents/{id}/absences/" in out.getvalue()


def test_the_breach_reasons_report_counts_a_periods_breaches_by_reason_and_rule(
    client_as_lead: APIClient,
) -> None:
    for n in range(3):
        client_email(n)
    breaches = sorted(clock_breach_overdue(now=riga(2026, 4, 30)), key=lambda b: (b.rule_id, b.pk))
    ack, reply_1, reply_2 = breaches[0], breaches[3], breaches[4]  # EM-ACK first, then EM-REPLY
    for breach, reason in ((ack, "staff-shortage"), (reply_1, "staff-shortage"), (reply_2, "system-outage")):
        client_as_lead.post(f"/api/breaches/{breach.pk}/acknowledge/", {"reason": reason}, format="json")
    client_as_lead.post(
        f"/api/breaches/{breaches[1].pk}/reclassify/", {"comment": "Automātiska"}, format="json"
    )

    report = client_as_lead.get(
        "/api/reports/breach-reasons/", {"since": "2026-04-01", "until": "2026-04-30"}
    )
    later = client_as_lead.get("/api/reports/breach-reasons/", {"since": "2026-05-01", "until": "2026-05-31"})
    refused = client_as_lead.get(
        "/api/reports/breach-reasons/", {"since": "2026-05-01", "until": "2026-04-01"}
    )

    rows = {row["reason"]: row for row in report.json()["rows"]}
    assert (rows["staff-shortage"]["breaches"], rows["staff-shortage"]["by_rule"]) == (
        2,
        {"EM-ACK": 1, "EM-REPLY": 1},
    )
    assert rows["system-outage"]["by_rule"] == {"EM-REPLY": 1}
    assert (rows[None]["breaches"], rows[None]["reclassified"]) == (2, 1)  # two unreviewed, one withdrawn
    assert later.json()["rows"] == []
    assert refused.status_code == 400
