"""Every endpoint, every role and anonymous: who may read and do what (DATA)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AbstractUser
from rest_framework.test import APIClient

from agents.models import Person, Role, Unit
from contact_centre.services import interaction_record_call, interaction_record_email
from sla.models import Breach
from sla.sync import clock_breach_overdue
from tests.factories import PersonFactory, UserFactory, riga

pytestmark = pytest.mark.django_db

PERSONAS = ("anonymous", "no_role", "phone_agent", "email_handler", "team_lead", "quality_officer", "staff")


@dataclass
class World:
    users: dict[str, AbstractUser | None]
    agent: Person
    email_id: int
    phone_id: int
    breach_id: int


@pytest.fixture
def world() -> World:
    unit = Unit.objects.create(code="kac", name="KAC")
    people = {role: PersonFactory(user__username=role, user__roles=[role], unit=unit) for role in Role.values}
    unit.leads.add(people[Role.TEAM_LEAD])
    email = interaction_record_email(
        message_id="<m@client.lv>", received_at=riga(2026, 4, 7, 10), sender="k@example.lv", subject="?"
    )
    phone = interaction_record_call(
        sip_call_id="c1", arrived_at=riga(2026, 4, 7, 10), caller="+37120000000", in_office_hours=True
    )
    clock_breach_overdue(now=riga(2026, 4, 30, 12))
    users: dict[str, AbstractUser | None] = {role: people[role].user for role in Role.values}
    users |= {
        "anonymous": None,
        "no_role": UserFactory(username="nobody"),
        "staff": UserFactory(username="admin", is_staff=True),
    }
    return World(users, people[Role.PHONE_AGENT], email.pk, phone.pk, Breach.objects.first().pk)


def request_as(world: World, persona: str, method: str, path: str, data: dict | None = None) -> int:
    client = APIClient()
    if world.users[persona] is not None:
        client.force_authenticate(world.users[persona])
    response = client.generic(
        method, path, data=data and __import__("json").dumps(data), content_type="application/json"
    )
    return response.status_code


ABSENCE = {"kind": "leave", "starts_at": "2026-05-04T00:00:00+03:00", "ends_at": "2026-05-08T00:00:00+03:00"}

REPLY = {"body": "Labdien! Konta izraksts ir pievienots."}

LETTER = {
    "channel": "post",
    "registration_number": "3.1-7/123",
    "arrived_at": "2026-04-07T09:00:00+03:00",
    "client_name": "SIA Ozols",
}

MESSAGE = {"for_person": 0, "text": "Lūdzu atzvanīt par konta slēgšanu", "callback_number": "+37120000000"}

# persona order: anonymous, no_role, phone_agent, email_handler, team_lead, quality_officer, staff
MATRIX = [
    ("GET", "/api/interactions/", None, (401, 403, 200, 200, 200, 200, 200)),
    ("GET", "/api/interactions/{email_id}/", None, (401, 403, 404, 200, 200, 404, 200)),
    ("GET", "/api/interactions/{phone_id}/", None, (401, 403, 200, 404, 200, 200, 200)),
    ("GET", "/api/breaches/", None, (401, 403, 200, 200, 200, 403, 200)),
    (
        "POST",
        "/api/breaches/{breach_id}/acknowledge/",
        {"reason": "staff-shortage", "comment": "Divi darbinieki slimo"},
        (401, 403, 403, 403, 200, 403, 200),
    ),
    ("GET", "/api/agents/", None, (401, 403, 200, 200, 200, 200, 200)),
    ("GET", "/api/agents/{agent_id}/absences/", None, (401, 403, 200, 403, 200, 403, 200)),
    ("POST", "/api/agents/{agent_id}/absences/", ABSENCE, (401, 403, 201, 403, 201, 403, 201)),
    ("GET", "/api/breaches/{breach_id}/", None, (401, 403, 404, 404, 200, 403, 200)),
    ("GET", "/api/agents/{agent_id}/", None, (401, 403, 200, 200, 200, 200, 200)),
    ("GET", "/api/schema/", None, (200, 200, 200, 200, 200, 200, 200)),
    ("GET", "/api/docs/", None, (200, 200, 200, 200, 200, 200, 200)),
    ("POST", "/api/interactions/{email_id}/reply", REPLY, (401, 403, 403, 202, 202, 403, 202)),
    ("POST", "/api/interactions/{phone_id}/reply", REPLY, (401, 403, 403, 404, 400, 403, 400)),
    ("GET", "/api/mail/mailboxes/", None, (401, 403, 403, 403, 200, 403, 200)),
    ("GET", "/api/mail/quarantine/", None, (401, 403, 403, 403, 200, 403, 200)),
    ("GET", "/api/mail/outbound/", None, (401, 403, 403, 403, 200, 403, 200)),
    ("GET", "/api/mail/delivery-failures/", None, (401, 403, 403, 403, 200, 403, 200)),
    ("GET", "/api/agents/{agent_id}/status/", None, (401, 403, 200, 403, 200, 403, 200)),
    ("PUT", "/api/agents/{agent_id}/status/", {"state": "break"}, (401, 403, 200, 403, 200, 403, 200)),
    ("POST", "/api/interactions/{phone_id}/messages/", MESSAGE, (401, 403, 201, 403, 201, 403, 201)),
    ("POST", "/api/interactions/{email_id}/messages/", MESSAGE, (401, 403, 404, 403, 404, 403, 404)),
    ("GET", "/api/messages/", None, (401, 403, 200, 403, 200, 403, 200)),
    ("POST", "/api/interactions/{phone_id}/callback/", None, (401, 403, 400, 403, 400, 403, 400)),
    ("GET", "/api/reports/mk399/?year=2026", None, (401, 403, 403, 403, 200, 403, 200)),
    ("GET", "/api/reports/mk399/published/", None, (401, 403, 403, 403, 200, 403, 200)),
    (
        "GET",
        "/api/reports/breach-reasons/?since=2026-04-01&until=2026-04-30",
        None,
        (401, 403, 403, 403, 200, 403, 200),
    ),
    (
        "POST",
        "/api/reports/mk399/published/",
        {"year": 2025, "where": "kase.gov.lv"},
        (401, 403, 403, 403, 201, 403, 201),
    ),
    (
        "GET",
        "/api/reports/service-level/?from=2026-04-01&to=2026-04-30&group_by=unit",
        None,
        (401, 403, 403, 403, 200, 403, 200),
    ),
    ("GET", "/api/notifications/", None, (401, 403, 200, 200, 200, 200, 200)),
    # Issue 7: letters and decisions on written matters (handlers, leads), visits (agents, leads).
    ("POST", "/api/letters/", LETTER, (401, 403, 403, 201, 201, 403, 201)),
    ("POST", "/api/interactions/{email_id}/answer/", {"how": "post"}, (401, 403, 403, 200, 200, 403, 200)),
    (
        "POST",
        "/api/interactions/{email_id}/forward/",
        {"institution": "Valsts ieņēmumu dienests", "told_by": "phone"},
        (401, 403, 403, 200, 200, 403, 200),
    ),
    (
        "POST",
        "/api/interactions/{email_id}/reclassify/",
        {"not_client_matter": "spam", "comment": "Reklāma"},
        (401, 403, 403, 403, 200, 403, 200),
    ),
    ("GET", "/api/visits/", None, (401, 403, 200, 403, 200, 403, 200)),
    ("GET", "/api/visits/slots/?date=2026-04-15", None, (401, 403, 200, 403, 200, 403, 200)),
    ("POST", "/api/interactions/{email_id}/complaint/", {"note": ""}, (401, 403, 404, 200, 200, 404, 200)),
    ("POST", "/api/interactions/{phone_id}/complaint/", {"note": ""}, (401, 403, 200, 404, 200, 200, 200)),
    ("PUT", "/api/notifications/preferences/", {"immediate": True}, (401, 403, 403, 403, 200, 403, 200)),
    # Client audio: quality officers and team leads only, with no staff bypass; the audit log: admins.
    ("GET", "/api/recordings/", None, (401, 403, 403, 403, 200, 200, 403)),
    ("GET", "/api/recordings/audit/", None, (401, 403, 403, 403, 403, 403, 200)),
    # QA scorecards: officers and leads read all, an agent their own submitted ones (none here).
    ("GET", "/api/scorecards/", None, (401, 403, 200, 403, 200, 200, 200)),
    ("GET", "/api/scorecard-templates/", None, (401, 403, 200, 403, 200, 200, 200)),
    (
        "GET",
        "/api/scorecards/trends/?from=2026-04-01&to=2026-04-30&period=week",
        None,
        (401, 403, 200, 403, 200, 200, 200),
    ),
]


@pytest.mark.parametrize(("method", "path", "data", "expected"), MATRIX)
@pytest.mark.parametrize("persona_index", range(len(PERSONAS)), ids=PERSONAS)
def test_every_endpoint_admits_exactly_its_roles(
    world: World, method: str, path: str, data: dict | None, expected: tuple[int, ...], persona_index: int
) -> None:
    url = path.format(
        email_id=world.email_id, phone_id=world.phone_id, breach_id=world.breach_id, agent_id=world.agent.pk
    )
    if data is MESSAGE:
        data = {**MESSAGE, "for_person": world.agent.pk}
    assert request_as(world, PERSONAS[persona_index], method, url, data) == expected[persona_index]


def test_agents_and_leads_see_only_their_own_units_matters(world: World) -> None:
    other = Unit.objects.create(code="riga-2", name="Otrā nodaļa")
    outsider_lead = PersonFactory(user__username="lead2", user__roles=[Role.TEAM_LEAD], unit=other)
    other.leads.add(outsider_lead)
    outsider_agent = PersonFactory(user__username="agent2", user__roles=[Role.PHONE_AGENT], unit=other)
    routed = interaction_record_call(
        sip_call_id="kac-call",
        arrived_at=riga(2026, 4, 7, 11),
        caller="+37129999999",
        in_office_hours=True,
        unit=Unit.objects.get(code="kac"),
    )
    clock_breach_overdue(now=riga(2026, 4, 30, 12))
    kac_breach = Breach.objects.get(interaction=routed)

    def status(user: AbstractUser, path: str, method: str = "GET") -> int:
        client = APIClient()
        client.force_authenticate(user)
        return client.generic(
            method, path, data='{"reason": "staff-shortage"}', content_type="application/json"
        ).status_code

    assert status(outsider_agent.user, f"/api/interactions/{routed.pk}/") == 404
    assert status(outsider_lead.user, f"/api/interactions/{routed.pk}/") == 404
    assert status(outsider_lead.user, f"/api/breaches/{kac_breach.pk}/acknowledge/", "POST") == 404
    assert status(world.users[Role.TEAM_LEAD], f"/api/breaches/{kac_breach.pk}/acknowledge/", "POST") == 200
    assert status(world.users[Role.PHONE_AGENT], f"/api/interactions/{routed.pk}/") == 200
    assert (
        status(outsider_agent.user, f"/api/interactions/{world.phone_id}/") == 200
    )  # not yet routed: shared
