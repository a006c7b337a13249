"""The admin refuses what the API refuses, with the same message, and goes through the same services."""

from __future__ import annotations

import pytest
from django.test import Client

from agents.models import Absence, Person
from sla.models import CalendarChange, CalendarOverride, OfficeHours
from tests.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in() -> Client:
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    return client


def test_the_admin_index_lists_every_model(admin_client_logged_in: Client) -> None:
    page = admin_client_logged_in.get("/admin/").content.decode()
    for model in (
        "absence",
        "unit",
        "person",
        "interaction",
        "event",
        "service",
        "policy",
        "officehours",
        "calendaroverride",
        "calendarchange",
        "clock",
        "deadline",
        "breach",
    ):
        assert f"/{model}/" in page, model


def test_a_substitute_cycle_is_refused_in_the_admin_with_the_reason(admin_client_logged_in: Client) -> None:
    anna, berta = PersonFactory(user__username="anna"), PersonFactory(user__username="berta")
    form = {
        "kind": "leave",
        "starts_at_0": "2026-05-04",
        "starts_at_1": "00:00",
        "ends_at_0": "2026-05-08",
        "ends_at_1": "00:00",
        "forward_number": "",
        "note": "",
    }
    first = admin_client_logged_in.post(
        "/admin/agents/absence/add/", form | {"person": anna.pk, "substitute": berta.pk}
    )
    assert first.status_code == 302
    second = admin_client_logged_in.post(
        "/admin/agents/absence/add/", form | {"person": berta.pk, "substitute": anna.pk}
    )
    assert second.status_code == 200
    assert "Aizvietošanas cikls / Substitute cycle" in second.content.decode()
    assert list(Absence.objects.values_list("person", flat=True)) == [anna.pk]
    assert Absence.objects.get().created_by.username == "root"


def test_an_override_on_an_impossible_date_is_refused_in_the_admin(admin_client_logged_in: Client) -> None:
    before = CalendarOverride.objects.count()
    response = admin_client_logged_in.post(
        "/admin/sla/calendaroverride/add/",
        {
            "day": "2026-05-08",
            "kind": "working_saturday",
            "replaces": "2026-05-07",
            "name": "X",
            "legal_source": "MK rīkojums",
            "note": "",
        },
    )
    assert response.status_code == 200
    assert "2026-05-08 is not a Saturday" in response.content.decode()
    assert CalendarOverride.objects.count() == before


def test_an_override_added_in_the_admin_is_audited(admin_client_logged_in: Client) -> None:
    response = admin_client_logged_in.post(
        "/admin/sla/calendaroverride/add/",
        {
            "day": "2026-05-12",
            "kind": "holiday",
            "name": "Hokeja bronza",
            "legal_source": "Saeimas likums",
            "note": "pieņemts vienā dienā",
        },
    )
    assert response.status_code == 302
    change = CalendarChange.objects.latest("id")
    assert (change.changed_by.username, "2026-05-12" in change.description) == ("root", True)


def test_office_hours_closing_before_opening_are_refused_in_the_admin(admin_client_logged_in: Client) -> None:
    monday = OfficeHours.objects.get(weekday=0)
    response = admin_client_logged_in.post(
        f"/admin/sla/officehours/{monday.pk}/change/",
        {"weekday": 0, "opens_at": "17:00", "closes_at": "08:30"},
    )
    assert response.status_code == 200
    monday.refresh_from_db()
    assert str(monday.closes_at) == "17:15:00"


def test_the_ledger_cannot_be_edited_in_the_admin(admin_client_logged_in: Client) -> None:
    assert admin_client_logged_in.get("/admin/contact_centre/event/add/").status_code == 403


def test_people_are_listed_in_the_admin(admin_client_logged_in: Client) -> None:
    person: Person = PersonFactory(user__first_name="Līga", user__last_name="Zariņa")
    assert "Līga Zariņa" in admin_client_logged_in.get("/admin/agents/person/").content.decode()
    assert person.pk
