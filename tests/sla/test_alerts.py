"""Alerts: pre-breach warnings at 50 % and 80 % of the working time, breaches to the unit's team leads,
held outside office hours, e-mailed once through a real SMTP server, listed in the product."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from rest_framework.test import APIClient

from agents.models import Person, Role, Unit
from contact_centre.models import Interaction
from contact_centre.services import interaction_record_email
from sla.alerts import alerts_send, breach_alerts_raise, warnings_raise
from sla.models import Alert, AlertEmailState, AlertKind, AlertPreference
from sla.services import calendar_override_create, clock_warnings_replan
from sla.sync import clock_breach_overdue, clock_sync
from tests.factories import PersonFactory, riga
from tests.mailpeers import SmtpCapture

pytestmark = pytest.mark.django_db

MONDAY_10 = riga(2026, 11, 23, 10, 0)  # EM-ACK falls due Tuesday 17:15, EM-REPLY Wednesday 17:15


@pytest.fixture
def unit() -> Unit:
    return Unit.objects.create(code="kac", name="KAC")


@pytest.fixture
def owner(unit: Unit) -> Person:
    return PersonFactory(user__username="handler", user__roles=[Role.EMAIL_HANDLER], unit=unit)


@pytest.fixture
def lead(unit: Unit) -> Person:
    person = PersonFactory(user__username="lead", user__roles=[Role.TEAM_LEAD], unit=unit)
    unit.leads.add(person)
    return person


@pytest.fixture
def matter(owner: Person, unit: Unit) -> Interaction:
    interaction = interaction_record_email(
        message_id="<q1@client.lv>", received_at=MONDAY_10, sender="k@example.lv", subject="Konta izraksts"
    )
    Interaction.objects.filter(pk=interaction.pk).update(owner=owner, unit=unit)
    clock_sync()
    return interaction


def _warnings() -> list[tuple[str, int]]:
    return sorted(Alert.objects.filter(kind=AlertKind.WARNING).values_list("rule_id", "percent"))


def _sweep(now: datetime) -> None:
    clock_breach_overdue(now=now)
    clock_warnings_replan(now=now)
    warnings_raise(now=now)
    breach_alerts_raise(now=now)


def test_the_owner_is_warned_at_half_and_four_fifths_of_the_working_time_once_each(
    matter: Interaction, owner: Person
) -> None:
    # EM-ACK allows 16 working hours (Mon 10:00-17:15, Tue 08:30-17:15): 50 % falls Tue 09:15, 80 % 14:03.
    # EM-REPLY allows 24.75: 50 % Tue 13:37:30, 80 % Wed 12:18.
    _sweep(riga(2026, 11, 24, 9, 14))
    assert _warnings() == []
    _sweep(riga(2026, 11, 24, 9, 16))
    assert _warnings() == [("EM-ACK", 50)]
    _sweep(riga(2026, 11, 24, 14, 10))
    _sweep(riga(2026, 11, 24, 14, 10))  # a second beat process, or a restart: nothing twice
    assert _warnings() == [("EM-ACK", 50), ("EM-ACK", 80), ("EM-REPLY", 50)]
    alert = Alert.objects.get(rule_id="EM-ACK", percent=80)
    assert alert.recipient == owner.user
    assert alert.deliver_at == riga(2026, 11, 24, 14, 10)  # in office hours: at once
    assert "24.11.2026 17:15" in alert.subject


def test_a_calendar_edit_after_a_warning_re_plans_the_next_ones_from_the_new_due_time(
    matter: Interaction,
) -> None:
    _sweep(riga(2026, 11, 24, 9, 16))
    assert _warnings() == [("EM-ACK", 50)]
    # Tuesday 10:00: Wednesday becomes a public holiday. Tuesday now closes at 16:15 (the day before a
    # holiday), so EM-ACK falls due an hour earlier and allows 15 working hours: 80 % is Tue 13:15, not
    # 14:03. EM-REPLY moves to Thursday 17:15 but allows 23.75 hours, not 24.75: its 50 % point comes
    # earlier although its due time went later (Tue 13:07:30 instead of 13:37:30).
    with time_machine.travel(riga(2026, 11, 24, 10, 0), tick=False):
        calendar_override_create(
            day=date(2026, 11, 25), kind="holiday", name="Saeimas papildu brīvdiena", legal_source="Likums"
        )
    _sweep(riga(2026, 11, 24, 13, 8))
    assert _warnings() == [("EM-ACK", 50), ("EM-REPLY", 50)]
    _sweep(riga(2026, 11, 24, 13, 16))
    assert _warnings() == [("EM-ACK", 50), ("EM-ACK", 80), ("EM-REPLY", 50)]
    assert "24.11.2026 16:15" in Alert.objects.get(rule_id="EM-ACK", percent=80).subject
    assert "26.11.2026 17:15" in Alert.objects.get(rule_id="EM-REPLY", percent=50).subject
    _sweep(riga(2026, 11, 24, 14, 10))  # the old plan's instants pass without another warning
    assert len(_warnings()) == 3


def test_a_sweep_that_was_down_sends_only_the_latest_warning(matter: Interaction) -> None:
    _sweep(riga(2026, 11, 24, 16, 0))
    assert _warnings() == [("EM-ACK", 80), ("EM-REPLY", 50)]


def test_a_breach_alerts_the_units_team_leads_at_the_next_opening_unless_they_asked_for_it_at_once(
    matter: Interaction, lead: Person, unit: Unit, api_client: APIClient
) -> None:
    on_call = PersonFactory(user__username="oncall", user__roles=[Role.TEAM_LEAD], unit=unit)
    unit.leads.add(on_call)
    AlertPreference.objects.create(user=on_call.user, immediate=True)
    PersonFactory(user__username="other-lead", user__roles=[Role.TEAM_LEAD])  # another unit's lead
    evening = riga(2026, 11, 24, 20, 0)

    _sweep(evening)
    _sweep(evening)

    breach_alerts = Alert.objects.filter(kind=AlertKind.BREACH, rule_id="EM-ACK")
    assert {(a.recipient.username, a.deliver_at) for a in breach_alerts} == {
        ("lead", riga(2026, 11, 25, 8, 30)), ("oncall", evening)
    }  # fmt: skip
    api_client.force_authenticate(lead.user)
    with time_machine.travel(evening, tick=False):
        assert api_client.get("/api/notifications/").json()["results"] == []
    with time_machine.travel(riga(2026, 11, 25, 8, 31), tick=False):
        listed = api_client.get("/api/notifications/?unread=true").json()["results"]
        assert [(a["kind"], a["rule_id"]) for a in listed] == [("breach", "EM-ACK")]
        read = api_client.post(f"/api/notifications/{listed[0]['id']}/read/")
        assert read.json()["read_at"] is not None
        assert api_client.get("/api/notifications/?unread=true").json()["results"] == []


def test_alerts_are_e_mailed_once_and_kept_until_the_smtp_server_takes_them(
    matter: Interaction, owner: Person, smtp_settings: SmtpCapture
) -> None:
    owner.user.email = "handler@example.org"  # an address the capturing server takes
    owner.user.save()
    _sweep(riga(2026, 11, 24, 14, 10))
    owner_alerts = Alert.objects.count()

    smtp_settings.stop()
    with time_machine.travel(riga(2026, 11, 24, 14, 11), tick=False):
        assert alerts_send(now=riga(2026, 11, 24, 14, 11)) == 0
    failed = Alert.objects.first()
    assert failed is not None
    assert failed.email_state == AlertEmailState.PENDING
    assert failed.email_error != ""
    smtp_settings.start()

    sent = alerts_send(now=riga(2026, 11, 24, 15, 0))
    again = alerts_send(now=riga(2026, 11, 24, 15, 1))

    assert (sent, again) == (owner_alerts, 0)
    messages = smtp_settings.wait_for(owner_alerts)
    assert {message["To"] for message in messages} == {"handler@example.org"}
    assert any("EM-ACK" in str(message["Subject"]) for message in messages)


def test_team_leads_set_alerts_at_once_and_others_may_not(lead: Person, owner: Person) -> None:
    lead_client, handler_client = APIClient(), APIClient()
    lead_client.force_authenticate(lead.user)
    handler_client.force_authenticate(owner.user)

    assert (
        lead_client.put("/api/notifications/preferences/", {"immediate": True}, format="json").status_code
        == 200
    )
    assert lead_client.get("/api/notifications/preferences/").json() == {"immediate": True}
    assert (
        handler_client.put("/api/notifications/preferences/", {"immediate": True}, format="json").status_code
        == 403
    )


def test_a_complaint_alerts_the_team_leads_at_once_and_its_outcome_meets_the_clock(
    matter: Interaction, lead: Person, owner: Person
) -> None:
    handler = APIClient()
    handler.force_authenticate(owner.user)
    sunday_night = riga(2026, 11, 29, 22, 0)  # outside office hours: a complaint is not held back

    with time_machine.travel(sunday_night, tick=False):
        marked = handler.post(
            f"/api/interactions/{matter.pk}/complaint/", {"note": "Neapmierināts"}, format="json"
        )
        again = handler.post(f"/api/interactions/{matter.pk}/complaint/", {}, format="json")
        clock_sync()

    assert marked.status_code == again.status_code == 200
    assert Interaction.objects.get(pk=matter.pk).is_complaint
    clock = matter.clocks.get(rule_id="COMPLAINT")
    assert clock.due_at == riga(2026, 11, 30, 17, 15)  # the close of the next working day
    alert = Alert.objects.get(kind=AlertKind.COMPLAINT)
    assert (alert.recipient, alert.deliver_at) == (lead.user, sunday_night)

    with time_machine.travel(riga(2026, 11, 30, 11, 0), tick=False):
        outcome = handler.post(
            f"/api/interactions/{matter.pk}/complaint-outcome/",
            {"outcome": "Kļūda labota, atvainojamies"},
            format="json",
        )
        clock_sync()

    assert outcome.status_code == 200
    assert matter.clocks.get(rule_id="COMPLAINT").state == "met"


def test_an_outcome_for_a_matter_that_is_no_complaint_is_refused(matter: Interaction, owner: Person) -> None:
    handler = APIClient()
    handler.force_authenticate(owner.user)
    response = handler.post(
        f"/api/interactions/{matter.pk}/complaint-outcome/", {"outcome": "?"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "not_a_complaint"
