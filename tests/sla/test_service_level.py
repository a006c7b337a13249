"""Service levels (PH-RING, EM-ACK, EM-REPLY met on time) per day, unit, agent and service, checked
against a tally made here from the verdicts the handbook gives each matter."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest
import time_machine
from pytest_django import DjangoAssertNumQueries
from rest_framework.test import APIClient

from agents.models import Person, Role, Unit
from contact_centre.models import EventKind, Interaction, Service
from contact_centre.services import (
    call_record_outcome,
    email_outbound_record,
    interaction_reassign,
    interaction_record_call,
    interaction_record_email,
)
from sla.service_level import NOT_SET, RULES, ServiceLevelRow, service_level
from sla.sync import clock_sync
from tests.factories import PersonFactory, UnitFactory, riga

pytestmark = pytest.mark.django_db

NOW = riga(2026, 4, 8, 15, 0)  # Wednesday after Easter (Good Friday 3 April, Easter Monday 6 April)
FIRST, LAST = date(2026, 4, 1), date(2026, 4, 8)
RING, ACK, REPLY = "PH-RING", "EM-ACK", "EM-REPLY"
UNITS = {"kac": "Klientu apkalpošanas centrs", "maks": "Maksājumu nodaļa"}


@dataclass(frozen=True)
class Matter:
    """One matter of the world below: where it is counted, and each rule's verdict at NOW."""

    name: str
    day: str
    unit: str | None
    owner: str | None
    service: str
    verdicts: dict[str, str] = field(default_factory=dict)


MATTERS = (
    # Arrived 00:30 Riga time, still 31 March in UTC: a clock belongs to its Riga day. Acknowledged late
    # (due Thu 2 April), answered on Tue 7 April 16:00, before its 17:15 close.
    Matter("e4", "2026-04-01", "kac", "anna", "payments", {ACK: "breached", REPLY: "met"}),
    # Acknowledged on Good Friday; the reply is due Wed 8 April 17:15, still running at NOW.
    Matter("e1", "2026-04-02", "kac", None, "payments", {ACK: "met", REPLY: "pending"}),
    # Never acknowledged: due Tue 7 April 17:15, so overdue at NOW although no sweep has breached it.
    Matter("e2", "2026-04-02", "maks", "janis", "accounts", {ACK: "breached", REPLY: "pending"}),
    Matter("e3", "2026-04-07", "maks", "janis", "accounts", {ACK: "met", REPLY: "met"}),
    Matter("c1", "2026-04-07", "kac", "anna", "accounts", {RING: "met"}),  # answered after 3 s
    Matter("c9", "2026-04-07", "kac", "anna", "accounts", {RING: "met"}),  # 14.999 s: by the third ring
    Matter("c2", "2026-04-07", "kac", "anna", "accounts", {RING: "breached"}),  # answered after 20 s
    Matter("c3", "2026-04-07", "kac", None, "accounts", {RING: "stopped"}),  # hung up after 8 s
    Matter("c4", "2026-04-08", "maks", "janis", "payments", {RING: "met"}),
    Matter("c5", "2026-04-08", "maks", None, "payments", {RING: "breached"}),  # still ringing after 60 s
    Matter("c6", "2026-04-08", "maks", None, "payments", {RING: "pending"}),  # reached the line 5 s ago
    Matter("c7", "2026-04-08", None, None, "payments", {RING: "breached"}),  # hung up after 21 s
)


@dataclass
class World:
    units: dict[str, Unit]
    people: dict[str, Person]
    services: dict[str, Service]


def _email(name: str, at: datetime, world: World, unit: str, service: str, owner: str | None) -> Interaction:
    interaction = interaction_record_email(
        message_id=f"<{name}@client.lv>",
        received_at=at,
        sender=f"{name}@example.lv",
        subject="Jautājums",
        unit=world.units[unit],
        service=world.services[service],
    )
    if owner:
        interaction_reassign(
            interaction=interaction, owner=world.people[owner], occurred_at=at, reason="Sadalīts"
        )
    return interaction


def _send(interaction: Interaction, kind: str, at: datetime) -> None:
    message_id = f"<{kind}-{interaction.pk}@kase.gov.lv>"
    email_outbound_record(interaction=interaction, kind=kind, message_id=message_id, sent_at=at)


def _call(
    name: str,
    at: datetime,
    world: World,
    *,
    unit: str | None,
    outcome: str | None = None,
    wait_ms: int = 0,
    agent: str | None = None,
    service: str,
) -> None:
    interaction = interaction_record_call(
        sip_call_id=name,
        arrived_at=at,
        caller="+37120000000",
        in_office_hours=True,
        unit=world.units[unit] if unit else None,
    )
    # The agent picks the topic after the call; the ledger has no service for that yet.
    Interaction.objects.filter(pk=interaction.pk).update(service=world.services[service])
    if outcome:
        call_record_outcome(
            sip_call_id=name,
            kind=outcome,
            occurred_at=at + timedelta(milliseconds=wait_ms),
            wait_ms=wait_ms,
            agent=world.people[agent] if agent else None,
        )


def _record_emails(world: World) -> None:
    e4 = _email("e4", riga(2026, 4, 1, 0, 30), world, "kac", "payments", "anna")
    _send(e4, EventKind.EMAIL_ACKNOWLEDGED, riga(2026, 4, 7, 9, 0))
    _send(e4, EventKind.EMAIL_REPLIED, riga(2026, 4, 7, 16, 0))
    e1 = _email("e1", riga(2026, 4, 2, 20, 0), world, "kac", "payments", None)
    _send(e1, EventKind.EMAIL_ACKNOWLEDGED, riga(2026, 4, 3, 9, 0))
    _email("e2", riga(2026, 4, 2, 10, 0), world, "maks", "accounts", "janis")
    e3 = _email("e3", riga(2026, 4, 7, 9, 0), world, "maks", "accounts", "janis")
    _send(e3, EventKind.EMAIL_ACKNOWLEDGED, riga(2026, 4, 7, 9, 30))
    _send(e3, EventKind.EMAIL_REPLIED, riga(2026, 4, 7, 16, 0))
    # Outside the range by a minute each way: never counted.
    _email("e0", riga(2026, 3, 31, 23, 59), world, "kac", "accounts", "anna")
    _email("e9", riga(2026, 4, 9, 0, 0), world, "kac", "accounts", "anna")


def _record_calls(world: World) -> None:
    answered, abandoned = EventKind.CALL_ANSWERED, EventKind.CALL_ABANDONED
    kac = {"unit": "kac", "service": "accounts"}
    _call("c1", riga(2026, 4, 7, 10, 0), world, **kac, outcome=answered, wait_ms=3000, agent="anna")
    _call("c9", riga(2026, 4, 7, 10, 20), world, **kac, outcome=answered, wait_ms=14_999, agent="anna")
    _call("c2", riga(2026, 4, 7, 10, 5), world, **kac, outcome=answered, wait_ms=20_000, agent="anna")
    _call("c3", riga(2026, 4, 7, 10, 10), world, **kac, outcome=abandoned, wait_ms=8000)
    maks = {"unit": "maks", "service": "payments"}
    _call("c4", riga(2026, 4, 8, 11, 0), world, **maks, outcome=answered, wait_ms=14_999, agent="janis")
    _call("c5", NOW - timedelta(seconds=60), world, **maks)
    _call("c6", NOW - timedelta(seconds=5), world, **maks)
    _call(
        "c7", riga(2026, 4, 8, 12, 0), world, unit=None, service="payments", outcome=abandoned, wait_ms=21_000
    )
    # 31 March, the day before the range: never counted.
    _call("c8", riga(2026, 3, 31, 10, 0), world, **kac, outcome=answered, wait_ms=30_000, agent="anna")


@pytest.fixture
def world() -> Iterator[World]:
    """The matters of MATTERS recorded through the ledger's services, and time stopped at NOW."""
    with time_machine.travel(NOW, tick=False):
        units = {code: UnitFactory(code=code, name=name) for code, name in UNITS.items()}
        people = {
            "anna": PersonFactory(user__first_name="Anna", user__last_name="Bērziņa", unit=units["kac"]),
            "janis": PersonFactory(user__first_name="Jānis", user__last_name="Ozols", unit=units["maks"]),
        }
        services = {service.code: service for service in Service.objects.all()}
        built = World(units, people, services)
        _record_emails(built)
        _record_calls(built)
        clock_sync()  # apply the ledger now: no sweep runs, so overdue clocks stay pending
        yield built


# --- The tally: what the rows must say, computed from MATTERS alone --------------------------------


def _tally(group_of: Callable[[Matter], str]) -> dict[str, dict[str, dict[str, object]]]:
    """Per group label and rule: the verdict counts and met / (met + breached) in per cent."""
    counts: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for matter in MATTERS:
        for rule_id, verdict in matter.verdicts.items():
            counts[group_of(matter)][rule_id][verdict] += 1
    return {
        label: {rule_id: _figures(by_rule[rule_id]) for rule_id in RULES} for label, by_rule in counts.items()
    }


def _figures(verdicts: Counter[str]) -> dict[str, object]:
    decided = verdicts["met"] + verdicts["breached"]
    return {
        "met": verdicts["met"],
        "breached": verdicts["breached"],
        "pending": verdicts["pending"],
        "stopped": verdicts["stopped"],
        "percent_on_time": round(100 * verdicts["met"] / decided, 1) if decided else None,
    }


def _by_label(rows: list[ServiceLevelRow]) -> dict[str, dict[str, dict[str, object]]]:
    return {row.label: {rule_id: vars(level) for rule_id, level in row.rules.items()} for row in rows}


def _person_name(username: str | None) -> str:
    return {"anna": "Anna Bērziņa", "janis": "Jānis Ozols"}.get(username or "", NOT_SET)


def _levels(group_by: str, **filters: int) -> list[ServiceLevelRow]:
    return service_level(first=FIRST, last=LAST, group_by=group_by, **filters)


# --- The selector ---------------------------------------------------------------------------------


@pytest.mark.smoke
def test_each_riga_day_has_the_share_met_on_time_of_the_clocks_that_started_on_it(world: World) -> None:
    rows = _levels("day")

    assert [row.key for row in rows] == ["2026-04-01", "2026-04-02", "2026-04-07", "2026-04-08"]
    assert _by_label(rows) == _tally(lambda matter: matter.day)
    by_day = _by_label(rows)
    # Written out once by hand: 7 April rang 2 met, 1 late, 1 short abandon (not counted) -> 2 of 3.
    assert by_day["2026-04-07"][RING]["percent_on_time"] == 66.7
    # 8 April: c4 met; c5 overdue and c7 a long abandon breached; c6 still ringing -> 1 of 3.
    assert (by_day["2026-04-08"][RING]["pending"], by_day["2026-04-08"][RING]["percent_on_time"]) == (1, 33.3)
    assert by_day["2026-04-02"][REPLY]["percent_on_time"] is None  # nothing due yet


def test_units_are_named_and_the_matters_without_one_come_last(world: World) -> None:
    rows = _levels("unit")

    assert [row.label for row in rows] == [UNITS["kac"], UNITS["maks"], NOT_SET]
    assert [row.key for row in rows] == [world.units["kac"].pk, world.units["maks"].pk, None]
    assert _by_label(rows) == _tally(lambda matter: UNITS[matter.unit] if matter.unit else NOT_SET)


def test_an_agent_is_the_matters_owner(world: World) -> None:
    rows = _levels("agent")

    assert [row.key for row in rows] == [world.people["anna"].pk, world.people["janis"].pk, None]
    assert _by_label(rows) == _tally(lambda matter: _person_name(matter.owner))


def test_services_go_by_their_latvian_names(world: World) -> None:
    rows = _levels("service")

    names = {code: service.name_lv for code, service in world.services.items()}
    assert _by_label(rows) == _tally(lambda matter: names[matter.service])
    assert _by_label(rows)[names["payments"]][RING] == {
        "met": 1,
        "breached": 2,
        "pending": 1,
        "stopped": 0,
        "percent_on_time": 33.3,
    }


def test_filters_narrow_the_clocks_before_grouping(world: World) -> None:
    rows = _levels("agent", unit_id=world.units["kac"].pk, service_id=world.services["accounts"].pk)

    in_scope = [matter for matter in MATTERS if matter.unit == "kac" and matter.service == "accounts"]
    assert {row.label for row in rows} == {_person_name(matter.owner) for matter in in_scope}
    assert _by_label(rows)["Anna Bērziņa"][RING]["percent_on_time"] == 66.7
    assert _levels("day", agent_id=world.people["janis"].pk)[0].key == "2026-04-02"


def test_a_range_without_clocks_has_no_rows(world: World) -> None:
    assert service_level(first=date(2026, 2, 1), last=date(2026, 2, 28), group_by="unit") == []


def test_a_pending_clock_counts_as_breached_once_past_its_due_time() -> None:
    with time_machine.travel(riga(2026, 4, 14, 9, 0), tick=False):
        interaction_record_email(
            message_id="<late@client.lv>", received_at=riga(2026, 4, 14, 9, 0), sender="k@x.lv", subject="?"
        )
        clock_sync()
    day = date(2026, 4, 14)

    def ack_at(moment: datetime) -> dict[str, object]:
        with time_machine.travel(moment, tick=False):
            return vars(service_level(first=day, last=day, group_by="day")[0].rules[ACK])

    # EM-ACK falls due at the close of the next working day, Wed 15 April 17:15.
    assert ack_at(riga(2026, 4, 15, 17, 15)) == {
        "met": 0,
        "breached": 0,
        "pending": 1,
        "stopped": 0,
        "percent_on_time": None,
    }
    assert ack_at(riga(2026, 4, 15, 17, 15, 1)) == {
        "met": 0,
        "breached": 1,
        "pending": 0,
        "stopped": 0,
        "percent_on_time": 0.0,
    }


# --- The API --------------------------------------------------------------------------------------


@pytest.fixture
def lead() -> APIClient:
    client = APIClient()
    client.force_authenticate(PersonFactory(user__username="lead", user__roles=[Role.TEAM_LEAD]).user)
    return client


URL = "/api/reports/service-level/"


def test_the_api_gives_team_leads_the_rows_with_the_rules_titles(
    world: World, lead: APIClient, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(6):
        response = lead.get(URL, {"from": "2026-04-01", "to": "2026-04-08", "group_by": "unit"})

    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"], body["group_by"]) == ("2026-04-01", "2026-04-08", "unit")
    assert (
        body["rules"]["PH-RING"]
        == "Tālrunis atbildēts līdz trešajam signālam / Phone answered by the third ring"
    )
    assert list(body["rules"]) == [RING, ACK, REPLY, "PORTAL-ANS", "SUBM-ANS"]
    first = body["rows"][0]
    assert (first["key"], first["label"]) == (world.units["kac"].pk, UNITS["kac"])
    assert (
        first["rules"] == _tally(lambda matter: UNITS[matter.unit] if matter.unit else NOT_SET)[UNITS["kac"]]
    )
    assert body["rows"][-1]["key"] is None


def test_the_api_narrows_to_one_agent(world: World, lead: APIClient) -> None:
    query = {"from": "2026-04-01", "to": "2026-04-08", "group_by": "day", "agent": world.people["anna"].pk}
    with time_machine.travel(NOW, tick=False):
        rows = lead.get(URL, query).json()["rows"]

    anna = _tally(lambda matter: matter.day if matter.owner == "anna" else "other")
    assert {row["label"]: row["rules"] for row in rows} == {day: anna[day] for day in anna if day != "other"}


def test_the_csv_has_a_bom_a_bilingual_header_and_empty_cells_for_no_percentage(
    world: World, lead: APIClient
) -> None:
    with time_machine.travel(NOW, tick=False):
        response = lead.get(
            URL, {"from": "2026-04-01", "to": "2026-04-08", "group_by": "day", "format": "csv"}
        )

    assert response.status_code == 200
    assert response.content.startswith("\ufeff".encode())
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="service-level-day-2026-04-01-2026-04-08.csv"'
    )
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row["Grupa / Group"] for row in table] == ["2026-04-01", "2026-04-02", "2026-04-07", "2026-04-08"]
    assert table[2]["PH-RING % laikā / % on time"] == "66.7"
    assert table[2]["PH-RING apturēts / stopped"] == "1"
    assert table[0]["PH-RING % laikā / % on time"] == ""


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "2026-04-31", "to": "2026-05-01"}, "from: Datums jānorāda formā GGGG-MM-DD"),
        ({"from": "1.4.2026", "to": "2026-05-01"}, "from: Datums jānorāda formā GGGG-MM-DD"),
        ({"from": None}, "from: Norādiet datumu"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "to: Beigu datums ir pirms sākuma datuma"),
        ({"from": "2027-01-01", "to": "2028-01-02"}, "to: Periods ir garāks par 366 dienām"),
        ({"group_by": "week"}, 'group_by: Grupē pēc day, unit, agent vai service, ne "week"'),
        ({"group_by": ""}, "group_by: Grupē pēc day, unit, agent vai service"),
        ({"unit": "999999"}, "unit: Nav tādas nodaļas: 999999 / No such unit"),
        ({"agent": "anna"}, "agent: Norādiet numuru / Give the agent by its id"),
    ],
)
def test_the_api_refuses_a_bad_query_with_a_bilingual_message(
    lead: APIClient, query: dict[str, str | None], message: str
) -> None:
    defaults = {"from": "2026-04-01", "to": "2026-04-30", "group_by": "unit"}
    params = {key: value for key, value in (defaults | query).items() if value is not None}
    response = lead.get(URL, params)

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(message)


def test_a_whole_leap_year_is_allowed(lead: APIClient) -> None:
    response = lead.get(URL, {"from": "2028-01-01", "to": "2028-12-31", "group_by": "service"})
    assert (response.status_code, response.json()["rows"]) == (200, [])


def test_other_roles_may_not_read_service_levels() -> None:
    agent = APIClient()
    agent.force_authenticate(PersonFactory(user__username="agent", user__roles=[Role.PHONE_AGENT]).user)
    assert agent.get(URL, {"from": "2026-04-01", "to": "2026-04-30", "group_by": "unit"}).status_code == 403
    assert (
        APIClient().get(URL, {"from": "2026-04-01", "to": "2026-04-30", "group_by": "unit"}).status_code
        == 401
    )
