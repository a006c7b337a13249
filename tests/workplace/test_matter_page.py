"""The page of a call or a visit: who may open it, the call's timeline in words (rings, waits, forwards,
substitutes), the recording only for the quality roles, breaches, and a team lead's reclassification.
Through Django's test client, on the real database, at a fixed Riga time."""

from __future__ import annotations

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from agents.models import Role, Unit
from contact_centre.models import EventKind, Interaction
from contact_centre.services import call_fact_record, call_record_outcome, interaction_record_call
from sla.models import Breach, Clock, ClockState
from sla.sync import clock_breach_overdue, clock_sync
from tests.factories import PersonFactory, riga
from tests.workplace.conftest import Office

pytestmark = pytest.mark.django_db

NOW = riga(2026, 4, 7, 11)


def client_for(office: Office, role: str) -> Client:
    client = Client()
    client.cookies["django_language"] = "lv"
    client.force_login(office.admin if role == "admin" else office.user(role))
    return client


def page(client: Client, interaction: Interaction) -> str:
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("matter", args=[interaction.pk]))
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def late_call(office: Office) -> Interaction:
    """A call that rang one colleague in vain, then the agent covering for an absent one, answered at the
    fifth ring (20 s): PH-RING breached."""
    call = interaction_record_call(
        sip_call_id="call-late",
        arrived_at=riga(2026, 4, 7, 10, 30),
        caller="+37120000002",
        in_office_hours=True,
    )
    colleague = PersonFactory(user__username="liga", user__first_name="Līga", user__last_name="Kalniņa")
    absent = PersonFactory(user__username="maris", user__first_name="Māris", user__last_name="Ozols")
    agent = office.people[Role.PHONE_AGENT]
    first_ring = {"attempt": 1, "agent_id": colleague.pk, "ring_ms": 8000, "outcome": "no_answer"}
    forwarded = {"number": "+37129999999", "covering_for": absent.pk}
    second_ring = {
        "attempt": 2,
        "agent_id": agent.pk,
        "ring_ms": 9500,
        "outcome": "answered",
        "covering_for": absent.pk,
    }
    facts = [
        ("ring:1", EventKind.CALL_AGENT_RUNG, 2, first_ring),
        ("forwarded", EventKind.CALL_FORWARDED, 9, forwarded),
        ("ring:2", EventKind.CALL_AGENT_RUNG, 20, second_ring),
    ]
    for step, kind, second, payload in facts:
        call_fact_record(
            sip_call_id="call-late",
            kind=kind,
            step=step,
            occurred_at=riga(2026, 4, 7, 10, 30, second),
            payload=payload,
        )
    call_record_outcome(
        sip_call_id="call-late",
        kind=EventKind.CALL_ANSWERED,
        occurred_at=riga(2026, 4, 7, 10, 30, 20),
        wait_ms=20_000,
        agent=agent,
        details={"rings": 5, "attempts": 2},
    )
    call_fact_record(
        sip_call_id="call-late",
        kind=EventKind.CALL_ENDED,
        step="ended",
        occurred_at=riga(2026, 4, 7, 10, 33),
        payload={"answered": True, "ended_by": "caller", "talk_ms": 151_000},
    )
    clock_sync()
    clock_breach_overdue(now=riga(2026, 4, 7, 10, 31))
    return call


@pytest.mark.parametrize("role", [*Role.values, "admin"])
def test_a_calls_page_opens_for_the_phone_roles_only(office: Office, role: str) -> None:
    with time_machine.travel(NOW, tick=False):
        response = client_for(office, role).get(reverse("matter", args=[office.call.pk]))
    allowed = {Role.PHONE_AGENT, Role.TEAM_LEAD, Role.QUALITY_OFFICER}
    assert response.status_code == (200 if role in allowed else 403)


def test_an_agent_does_not_see_another_units_call(office: Office) -> None:
    other = Unit.objects.create(code="vid", name="Cita nodaļa")
    Interaction.objects.filter(pk=office.call.pk).update(unit=other, owner=None)
    with time_machine.travel(NOW, tick=False):
        response = client_for(office, Role.PHONE_AGENT).get(reverse("matter", args=[office.call.pk]))
    assert response.status_code == 404  # as for a call that does not exist


def test_a_written_matter_opens_on_its_own_page(office: Office) -> None:
    with time_machine.travel(NOW, tick=False):
        response = client_for(office, Role.TEAM_LEAD).get(reverse("matter", args=[office.email.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("mail-thread", args=[office.email.pk])


def test_the_timeline_says_who_was_rung_how_long_and_who_answered_after_how_many_rings(
    office: Office,
) -> None:
    call = late_call(office)
    text = page(client_for(office, Role.TEAM_LEAD), call)
    assert "Līga Kalniņa · zvans skanēja 8,0 s · neatbildēja" in text
    assert "uz +37129999999 · aizvietojamais: Māris Ozols" in text
    assert "zvans skanēja 9,5 s · atbildēja · aizvietojamais: Māris Ozols" in text
    assert "gaidīja 20,0 s · signāli: 5" in text
    assert "saruna 2:31 · zvanītājs nolika klausuli" in text
    assert "+37120000002" in text


def test_a_callback_request_names_the_number(office: Office) -> None:
    call = interaction_record_call(
        sip_call_id="call-cb",
        arrived_at=riga(2026, 4, 7, 10, 40),
        caller="+37120000003",
        in_office_hours=True,
    )
    call_fact_record(
        sip_call_id="call-cb",
        kind=EventKind.CALLBACK_REQUESTED,
        step="callback",
        occurred_at=riga(2026, 4, 7, 10, 41),
        payload={"number": "+37120000003"},
    )
    assert "atzvanīt uz +37120000003" in page(client_for(office, Role.PHONE_AGENT), call)


def test_the_breach_shows_on_the_call_and_the_breach_board_links_to_it(office: Office) -> None:
    call = late_call(office)
    assert Breach.objects.get(interaction=call).rule_id == "PH-RING"
    lead = client_for(office, Role.TEAM_LEAD)
    text = page(lead, call)
    assert 'id="breaches-h"' in text
    assert "Kavējumu nav." not in text
    with time_machine.travel(NOW, tick=False):
        board = lead.get(reverse("lead-breaches")).content.decode()
    assert f'href="{reverse("matter", args=[call.pk])}"' in board
    assert f'href="{reverse("mail-thread", args=[call.pk])}"' not in board


@pytest.mark.parametrize(
    ("role", "sees_recording"),
    [(Role.QUALITY_OFFICER, True), (Role.TEAM_LEAD, True), (Role.PHONE_AGENT, False)],
)
def test_only_the_quality_roles_get_the_recording(office: Office, role: str, sees_recording: bool) -> None:
    text = page(client_for(office, role), office.call)
    player = reverse("quality-player", args=[office.recording.pk])
    assert (player in text) is sees_recording


def test_the_player_links_back_to_the_call(office: Office) -> None:
    with time_machine.travel(NOW, tick=False):
        text = client_for(office, Role.QUALITY_OFFICER).get(
            reverse("quality-player", args=[office.recording.pk])
        )
    assert reverse("matter", args=[office.call.pk]) in text.content.decode()


def test_a_team_lead_sets_a_wrong_number_aside_and_its_breach_is_withdrawn(office: Office) -> None:
    call = late_call(office)
    lead = client_for(office, Role.TEAM_LEAD)
    text = page(lead, call)
    assert "reclassify-comment" in text
    assert "reclassify-channel" not in text  # a call stays a call
    with time_machine.travel(NOW, tick=False):
        response = lead.post(
            reverse("matter-spoken-reclassify", args=[call.pk]),
            {"reclassify-not_client_matter": "misdirected", "reclassify-comment": "Kļūdains numurs"},
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("matter", args=[call.pk])
    call.refresh_from_db()
    assert (call.channel, call.not_client_matter) == ("phone", "misdirected")
    clock_sync()
    assert Breach.objects.get(interaction=call).withdrawn_at is not None
    assert Clock.objects.get(interaction=call, rule_id="PH-RING").state == ClockState.STOPPED
    assert "atsaukts" in page(lead, call)


def test_a_reclassification_that_changes_nothing_comes_back_in_the_form(office: Office) -> None:
    with time_machine.travel(NOW, tick=False):
        response = client_for(office, Role.TEAM_LEAD).post(
            reverse("matter-spoken-reclassify", args=[office.call.pk]), {"reclassify-comment": "Pārbaude"}
        )
    assert response.status_code == 200
    assert "Nekas netika mainīts" in response.content.decode()


@pytest.mark.parametrize("role", [Role.PHONE_AGENT, Role.QUALITY_OFFICER])
def test_only_a_team_lead_may_reclassify_a_call(office: Office, role: str) -> None:
    assert "reclassify-comment" not in page(client_for(office, role), office.call)
    with time_machine.travel(NOW, tick=False):
        response = client_for(office, role).post(
            reverse("matter-spoken-reclassify", args=[office.call.pk]),
            {"reclassify-not_client_matter": "spam", "reclassify-comment": "Mēģinājums"},
        )
    assert response.status_code == 403
    assert not office.call.events.filter(kind=EventKind.RECLASSIFIED).exists()


def test_odd_values_from_the_line_neither_break_the_page_nor_show_as_text(office: Office) -> None:
    call = interaction_record_call(
        sip_call_id="call-odd",
        arrived_at=riga(2026, 4, 7, 10, 50),
        caller="+37120000004",
        in_office_hours=True,
    )
    odd = {"attempt": 1, "agent_id": [1], "covering_for": True, "ring_ms": "slow", "outcome": None}
    call_fact_record(
        sip_call_id="call-odd",
        kind=EventKind.CALL_AGENT_RUNG,
        step="ring:1",
        occurred_at=riga(2026, 4, 7, 10, 50, 5),
        payload=odd,
    )
    call_fact_record(
        sip_call_id="call-odd",
        kind=EventKind.CALL_FORWARDED,
        step="forwarded",
        occurred_at=riga(2026, 4, 7, 10, 50, 9),
        payload={"number": None, "covering_for": {"id": 1}},
    )
    text = page(client_for(office, Role.TEAM_LEAD), call)
    assert "None" not in text
    assert "uz ·" not in text
    assert "Zvanīts konsultantam" in text  # the events are there, without the facts that made no sense


def test_a_lead_who_is_also_a_quality_officer_cannot_reclassify_another_units_call(office: Office) -> None:
    lead = office.user(Role.TEAM_LEAD)
    lead.groups.add(Group.objects.get(name=Role.QUALITY_OFFICER))
    other = Unit.objects.create(code="vid", name="Cita nodaļa")
    Interaction.objects.filter(pk=office.call.pk).update(unit=other, owner=None)
    client = client_for(office, Role.TEAM_LEAD)
    text = page(client, office.call)  # a quality officer hears every unit's calls
    assert "reclassify-comment" not in text
    with time_machine.travel(NOW, tick=False):
        response = client.post(
            reverse("matter-spoken-reclassify", args=[office.call.pk]),
            {"reclassify-not_client_matter": "misdirected", "reclassify-comment": "Ne mana nodaļa"},
        )
    assert response.status_code == 404
    assert not office.call.events.filter(kind=EventKind.RECLASSIFIED).exists()


def test_a_written_matter_is_not_reclassified_through_the_calls_form(office: Office) -> None:
    with time_machine.travel(NOW, tick=False):
        response = client_for(office, Role.TEAM_LEAD).post(
            reverse("matter-spoken-reclassify", args=[office.email.pk]),
            {"reclassify-not_client_matter": "spam", "reclassify-comment": "Nē"},
        )
    assert response.status_code == 404
