"""The line's API: messages taken for absent colleagues (PH-ABSENT), callbacks (PH-CALLBACK), and
agents' availability."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from agents.models import AbsenceKind, AgentState, Person, Role, Unit
from agents.services import absence_create
from contact_centre.models import EventKind, Interaction
from contact_centre.services import call_fact_record, interaction_record_call
from sla.sync import clock_sync
from tests.factories import PersonFactory, riga

pytestmark = pytest.mark.django_db

AT = riga(2026, 11, 23, 10, 0)


@pytest.fixture
def unit() -> Unit:
    return Unit.objects.create(code="kac", name="KAC")


def _agent(unit: Unit, name: str) -> Person:
    return PersonFactory(user__username=name, user__roles=[Role.PHONE_AGENT], unit=unit, extension=name[-3:])


def _client(person: Person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person.user)
    return client


def _call(call_id: str = "call-1") -> Interaction:
    return interaction_record_call(
        sip_call_id=call_id, arrived_at=AT, caller="+37120000000", in_office_hours=True
    )


def test_a_message_for_an_absent_agent_is_seen_by_them_and_their_substitute_until_dealt_with(
    unit: Unit,
) -> None:
    away, substitute, colleague = _agent(unit, "ag101"), _agent(unit, "ag102"), _agent(unit, "ag103")
    absence_create(
        person=away, kind=AbsenceKind.LEAVE, substitute=substitute,
        starts_at=riga(2026, 11, 1, 0, 0), ends_at=riga(2099, 1, 1, 0, 0),
    )  # fmt: skip
    call = _call()
    message = {"for_person": away.pk, "text": "Lūdzu atzvanīt par kontu", "callback_number": "+37120000000"}

    taken = _client(colleague).post(
        f"/api/interactions/{call.pk}/messages/", message, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    again = _client(colleague).post(
        f"/api/interactions/{call.pk}/messages/", message, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )

    assert taken.status_code == again.status_code == 201
    assert taken.json()["seq"] == again.json()["seq"]
    assert taken.json()["substitute_id"] == substitute.pk
    clock_sync()
    assert call.clocks.get(rule_id="PH-ABSENT").state == "pending"
    for reader in (away, substitute):
        listed = _client(reader).get("/api/messages/").json()["results"]
        assert [(m["text"], m["handled"]) for m in listed] == [("Lūdzu atzvanīt par kontu", False)]
    assert _client(colleague).get("/api/messages/").json()["results"] == []

    seq = taken.json()["seq"]
    handled = _client(substitute).post(f"/api/messages/{seq}/handled/", {"note": "Atzvanīju"}, format="json")

    assert handled.status_code == 200
    assert handled.json()["handled"] is True
    clock_sync()
    assert call.clocks.get(rule_id="PH-ABSENT").state == "met"
    assert _client(away).get("/api/messages/").json()["results"] == []
    assert [m["handled"] for m in _client(away).get("/api/messages/?all=true").json()["results"]] == [True]
    assert _client(colleague).post(f"/api/messages/{seq}/handled/").status_code == 404


def test_an_empty_message_is_refused_with_a_reason(unit: Unit) -> None:
    agent = _agent(unit, "ag111")
    response = _client(agent).post(
        f"/api/interactions/{_call().pk}/messages/", {"for_person": agent.pk, "text": "  "}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("invalid", "message_empty")
    assert "text" in str(response.json()["error"])


def test_a_requested_callback_is_met_once_an_agent_calls_back(unit: Unit) -> None:
    agent = _agent(unit, "ag121")
    call = _call()
    call_fact_record(
        sip_call_id="call-1", kind=EventKind.CALLBACK_REQUESTED, step="callback", occurred_at=AT,
        payload={"number": "+37120000000"},
    )  # fmt: skip
    clock_sync()
    assert call.clocks.get(rule_id="PH-CALLBACK").state == "pending"

    first = _client(agent).post(f"/api/interactions/{call.pk}/callback/", {"note": "Runājām"}, format="json")
    second = _client(agent).post(f"/api/interactions/{call.pk}/callback/", {}, format="json")

    assert first.status_code == second.status_code == 200
    assert first.json()["seq"] == second.json()["seq"]
    clock_sync()
    assert call.clocks.get(rule_id="PH-CALLBACK").state == "met"


def test_an_agent_sets_their_state_and_sees_their_registration(unit: Unit) -> None:
    agent = _agent(unit, "ag131")
    client = _client(agent)

    assert client.get(f"/api/agents/{agent.pk}/status/").json()["state"] == AgentState.OFFLINE
    response = client.put(f"/api/agents/{agent.pk}/status/", {"state": "available"}, format="json")
    refused = client.put(f"/api/agents/{agent.pk}/status/", {"state": "asleep"}, format="json")

    assert response.status_code == 200
    assert (response.json()["state"], response.json()["in_call"], response.json()["registered"]) == (
        "available", False, False
    )  # fmt: skip
    assert refused.status_code == 400
