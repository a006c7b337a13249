"""MK399: in March team leads are reminded, once a week, until last year's report is marked published;
the reminder reaches them in the product and through a real SMTP server."""

from __future__ import annotations

import pytest
import time_machine
from rest_framework.test import APIClient

from agents.models import Person, Role, Unit
from sla.alerts import alerts_send, mk399_reminders_raise
from sla.models import Alert, AlertKind
from tests.factories import PersonFactory, riga
from tests.mailpeers import SmtpCapture

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads() -> list[Person]:
    unit = Unit.objects.create(code="kac", name="KAC")
    people = [
        PersonFactory(user__username=f"lead{n}", user__roles=[Role.TEAM_LEAD], unit=unit) for n in range(2)
    ]
    unit.leads.add(*people)
    return people


def _reminders() -> list[tuple[str, str]]:
    rows = Alert.objects.filter(kind=AlertKind.REMINDER).order_by("created_at", "recipient__username")
    return [(alert.recipient.username, alert.created_at.date().isoformat()) for alert in rows]


def _publish(client: APIClient, lead: Person, year: int) -> dict[str, object]:
    client.force_authenticate(lead.user)
    response = client.post(
        "/api/reports/mk399/published/",
        {"year": year, "where": "https://www.kase.gov.lv/mk399"},
        format="json",
    )
    assert response.status_code == 201, response.content
    return dict(response.json())


def test_team_leads_are_reminded_weekly_in_march_until_the_report_is_marked_published(
    leads: list[Person], api_client: APIClient
) -> None:
    assert mk399_reminders_raise(now=riga(2027, 2, 26, 9)) == 0  # February: not yet
    mk399_reminders_raise(now=riga(2027, 3, 1, 9))  # Monday
    mk399_reminders_raise(now=riga(2027, 3, 1, 9, 5))  # a second beat process: nothing twice
    mk399_reminders_raise(now=riga(2027, 3, 3, 9))  # the same week
    mk399_reminders_raise(now=riga(2027, 3, 8, 9))  # the next week
    assert _reminders() == [
        ("lead0", "2027-03-01"),
        ("lead1", "2027-03-01"),
        ("lead0", "2027-03-08"),
        ("lead1", "2027-03-08"),
    ]
    alert = Alert.objects.filter(kind=AlertKind.REMINDER).first()
    assert alert is not None
    assert alert.rule_id == "MK399"
    assert "2026" in alert.subject
    assert "1. aprīlim" in alert.body
    with time_machine.travel(riga(2027, 3, 10, 12), tick=False):
        published = _publish(api_client, leads[0], 2026)
    assert (published["year"], published["published_by"]) == (2026, "lead0")
    assert mk399_reminders_raise(now=riga(2027, 3, 15, 9)) == 0
    assert len(_reminders()) == 4
    assert mk399_reminders_raise(now=riga(2027, 4, 5, 9)) == 0


def test_a_reminder_is_e_mailed_to_each_team_lead(leads: list[Person], smtp_settings: SmtpCapture) -> None:
    for lead in leads:
        lead.user.email = f"{lead.user.username}@example.org"  # addresses the capturing server takes
        lead.user.save()
    mk399_reminders_raise(now=riga(2027, 3, 1, 9))
    assert alerts_send(now=riga(2027, 3, 1, 9, 1)) == 2
    messages = smtp_settings.wait_for(2)
    assert sorted(message["To"] for message in messages) == ["lead0@example.org", "lead1@example.org"]
    assert all("MK399" in str(message["Subject"]) for message in messages)


def test_marking_published_is_idempotent_and_refuses_a_year_not_over(
    leads: list[Person], api_client: APIClient
) -> None:
    with time_machine.travel(riga(2027, 3, 10, 12), tick=False):
        first = _publish(api_client, leads[0], 2026)
        again = _publish(api_client, leads[1], 2026)
        assert again == first  # the first mark stands
        refused = api_client.post(
            "/api/reports/mk399/published/", {"year": 2027, "where": "x"}, format="json"
        )
        assert refused.status_code == 400
        assert "nav beidzies" in refused.content.decode()
        listed = api_client.get("/api/reports/mk399/published/").json()
    assert [row["year"] for row in listed] == [2026]


def test_only_team_leads_mark_the_report_published(api_client: APIClient) -> None:
    handler = PersonFactory(user__username="handler", user__roles=[Role.EMAIL_HANDLER])
    api_client.force_authenticate(handler.user)
    response = api_client.post("/api/reports/mk399/published/", {"year": 2025, "where": "x"}, format="json")
    assert response.status_code == 403
