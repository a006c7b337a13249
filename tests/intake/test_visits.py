"""VISIT-BOOK: in-person visits booked on the phone, around holidays, working Saturdays and shortened days;
slots with a capacity; the visit's outcome; the client's confirmation e-mail over real SMTP."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from agents.errors import DomainError
from agents.models import Role
from contact_centre.models import Channel, EventKind, Service
from intake.models import Visit, VisitOutcome, VisitSlot
from intake.selectors import day_slots
from intake.services import VisitRequest, visit_book, visit_outcome_set
from mail.models import MailTemplate, OutboundKind, OutboundMail, OutboundState, TemplateKind
from mail.outbox import outbound_send
from tests.factories import PersonFactory, riga
from tests.mailpeers import SmtpCapture

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent() -> User:
    return PersonFactory(user__username="anna", user__roles=[Role.PHONE_AGENT]).user


def booking(starts_at: datetime, **changes: object) -> VisitRequest:
    fields: dict[str, object] = {
        "starts_at": starts_at,
        "client_name": "Līga Kļaviņa",
        "reason_not_electronic": "Nav eParaksta, jāuzrāda pase",
        "service_id": Service.objects.get(code="accounts").pk,
        "client_phone": "+37129111111",
    }
    return VisitRequest(**{**fields, **changes})


def refusal(starts_at: datetime, booked_at: datetime, agent: User) -> DomainError:
    with pytest.raises(DomainError) as caught:
        visit_book(request=booking(starts_at), by=agent, now=booked_at)
    return caught.value


def test_a_visit_two_working_days_ahead_is_booked_as_a_visit_matter(agent: User) -> None:
    visit = visit_book(request=booking(riga(2026, 4, 15, 8, 30)), by=agent, now=riga(2026, 4, 13, 10, 0))

    assert visit.interaction.channel == Channel.VISIT
    assert visit.ends_at == riga(2026, 4, 15, 9, 0)
    event = visit.interaction.events.get()
    assert event.kind == EventKind.VISIT_BOOKED
    assert event.payload["reason_not_electronic"] == "Nav eParaksta, jāuzrāda pase"
    assert VisitSlot.objects.get(starts_at=riga(2026, 4, 15, 8, 30)).booked == 1


def test_a_visit_on_the_next_working_day_is_refused_with_the_earliest_date(agent: User) -> None:
    error = refusal(riga(2026, 4, 14, 10, 0), riga(2026, 4, 13, 16, 59), agent)

    assert error.code == "visit_too_soon"
    assert "15.04.2026" in error.message
    assert "2026-04-15" in error.message


def test_easter_holidays_push_the_earliest_date_past_them(agent: User) -> None:
    # Booked on Wednesday 1 April 2026: Thursday is the first working day, Good Friday and Easter Monday
    # are holidays, so Tuesday 7 April is the second.
    error = refusal(riga(2026, 4, 2, 10, 0), riga(2026, 4, 1, 10, 0), agent)
    assert "2026-04-07" in error.message
    visit = visit_book(request=booking(riga(2026, 4, 7, 10, 0)), by=agent, now=riga(2026, 4, 1, 10, 0))
    assert visit.pk is not None


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (riga(2026, 5, 4, 10, 0), "public holiday"),  # Restoration of Independence, a Monday
        (riga(2026, 5, 1, 10, 0), "public holiday"),  # Labour Day
        (riga(2026, 6, 22, 10, 0), "day off"),  # the Monday moved to Saturday 27 June
        (riga(2026, 5, 9, 10, 0), "day off"),  # an ordinary Saturday
    ],
)
def test_a_visit_on_a_day_the_centre_is_closed_is_refused_saying_why(
    agent: User, day: datetime, why: str
) -> None:
    error = refusal(day, riga(2026, 4, 20, 10, 0), agent)

    assert error.code == "visit_day_closed"
    assert why in error.message


def test_a_working_saturday_takes_visits_in_the_hours_of_the_monday_it_replaces(agent: User) -> None:
    # Saturday 27 June 2026 replaces Monday 22 June, the eve of Līgo: 08:30 to 16:15, so the last
    # 30-minute slot is 15:30 to 16:00.
    booked_at = riga(2026, 6, 15, 10, 0)
    slots = day_slots(riga(2026, 6, 27, 0, 0).date(), now=booked_at)
    assert slots["bookable"] is True
    assert slots["slots"][0]["starts_at"] == "2026-06-27T08:30:00+03:00"
    assert slots["slots"][-1]["ends_at"] == "2026-06-27T16:00:00+03:00"
    visit = visit_book(request=booking(riga(2026, 6, 27, 15, 30)), by=agent, now=booked_at)
    assert visit.ends_at == riga(2026, 6, 27, 16, 0)
    assert "08:30–16:15" in refusal(riga(2026, 6, 27, 16, 15), booked_at, agent).message


def test_the_working_saturday_counts_as_a_working_day_ahead(agent: User) -> None:
    # Booked on Thursday 25 June (after Jāņi): Friday 26 is the first working day, Saturday 27 the second.
    visit = visit_book(request=booking(riga(2026, 6, 27, 9, 0)), by=agent, now=riga(2026, 6, 25, 9, 0))
    assert visit.pk is not None


def test_a_shortened_pre_holiday_day_has_no_slot_after_its_earlier_close(agent: User) -> None:
    # Thursday 2 April 2026 precedes Good Friday: the office closes at 16:15, not 17:15.
    booked_at = riga(2026, 3, 30, 9, 0)
    visit_book(request=booking(riga(2026, 4, 2, 15, 30)), by=agent, now=booked_at)
    error = refusal(riga(2026, 4, 2, 16, 0), booked_at, agent)

    assert error.code == "visit_outside_hours"
    assert "08:30–16:15" in error.message


@pytest.mark.parametrize("minute", [(7, 30), (10, 10), (17, 0)])
def test_a_time_off_the_slot_grid_or_outside_hours_is_refused(agent: User, minute: tuple[int, int]) -> None:
    error = refusal(riga(2026, 4, 15, *minute), riga(2026, 4, 13, 9, 0), agent)
    assert error.code == "visit_outside_hours"


def test_a_full_slot_is_refused_and_a_cancellation_frees_a_place(agent: User, settings: Settings) -> None:
    settings.CC_VISIT_DESKS = 2
    slot_at, now = riga(2026, 4, 15, 11, 0), riga(2026, 4, 13, 9, 0)
    first = visit_book(request=booking(slot_at, client_name="A"), by=agent, now=now)
    visit_book(request=booking(slot_at, client_name="B"), by=agent, now=now)
    with pytest.raises(DomainError) as full:
        visit_book(request=booking(slot_at, client_name="C"), by=agent, now=now)
    assert (full.value.code, full.value.status) == ("visit_slot_full", 409)

    visit_outcome_set(visit=first, outcome=VisitOutcome.CANCELLED, by=agent, now=now)
    visit_book(request=booking(slot_at, client_name="C"), by=agent, now=now)
    assert VisitSlot.objects.get(starts_at=slot_at).booked == 2
    assert day_slots(slot_at.date(), now=now)["slots"][5]["free"] == 0


def test_the_same_booking_submitted_twice_books_once(agent: User) -> None:
    request = booking(riga(2026, 4, 15, 9, 0), booking_key="7d0c2a7e-form")
    first = visit_book(request=request, by=agent, now=riga(2026, 4, 13, 9, 0))
    second = visit_book(request=request, by=agent, now=riga(2026, 4, 13, 9, 0, 5))

    assert first.pk == second.pk
    assert Visit.objects.count() == 1
    assert VisitSlot.objects.get().booked == 1


def test_a_booking_without_the_reason_or_the_service_is_refused(agent: User) -> None:
    when, now = riga(2026, 4, 15, 9, 0), riga(2026, 4, 13, 9, 0)
    with pytest.raises(DomainError, match="electronically"):
        visit_book(request=booking(when, reason_not_electronic="  "), by=agent, now=now)
    with pytest.raises(DomainError, match="service"):
        visit_book(request=booking(when, service_id=None), by=agent, now=now)
    assert not Visit.objects.exists()
    assert not VisitSlot.objects.filter(booked__gt=0).exists()  # nothing half-written


def test_the_outcome_is_recorded_once_and_served_only_when_the_time_has_come(agent: User) -> None:
    visit = visit_book(request=booking(riga(2026, 4, 15, 9, 0)), by=agent, now=riga(2026, 4, 13, 9, 0))
    with pytest.raises(DomainError, match="not come yet"):
        visit_outcome_set(visit=visit, outcome=VisitOutcome.SERVED, by=agent, now=riga(2026, 4, 14, 9, 0))

    served = visit_outcome_set(
        visit=visit, outcome=VisitOutcome.SERVED, by=agent, now=riga(2026, 4, 15, 9, 5)
    )
    again = visit_outcome_set(visit=visit, outcome=VisitOutcome.SERVED, by=agent, now=riga(2026, 4, 15, 9, 6))
    with pytest.raises(DomainError) as other:
        visit_outcome_set(visit=visit, outcome=VisitOutcome.NO_SHOW, by=agent, now=riga(2026, 4, 15, 9, 7))

    assert served.outcome == again.outcome == VisitOutcome.SERVED
    assert other.value.status == 409
    kinds = list(visit.interaction.events.values_list("kind", flat=True))
    assert kinds == [EventKind.VISIT_BOOKED, EventKind.VISIT_SERVED]


@pytest.mark.peers
def test_the_client_gets_a_latvian_then_english_confirmation_over_smtp(
    agent: User, smtp_settings: SmtpCapture
) -> None:
    visit = visit_book(
        request=booking(riga(2026, 4, 15, 9, 0), client_email="liga@example.org"),
        by=agent,
        now=riga(2026, 4, 13, 9, 0),
    )
    row = OutboundMail.objects.get(interaction=visit.interaction, kind=OutboundKind.NOTIFICATION)

    outbound_send(row.pk)

    row.refresh_from_db()
    assert row.state == OutboundState.SENT, row.last_error
    message = smtp_settings.messages[-1]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert message["To"] == "liga@example.org"
    assert visit.interaction.reference in message["Subject"]
    assert body.index("Apstiprinām Jūsu apmeklējumu 15.04.2026 plkst. 09:00") < body.index(
        "We confirm your visit"
    )
    assert "Smilšu iela 1" in body
    assert body.count(agent.person.position) == 2  # EM-SIGN: the agent who booked signs, in both languages


def test_without_a_confirmation_template_the_visit_is_booked_and_the_gap_logged(
    agent: User, caplog: pytest.LogCaptureFixture
) -> None:
    MailTemplate.objects.filter(kind=TemplateKind.VISIT_CONFIRMATION).update(active=False)
    visit = visit_book(
        request=booking(riga(2026, 4, 15, 9, 0), client_email="liga@example.org"),
        by=agent,
        now=riga(2026, 4, 13, 9, 0),
    )
    assert visit.outcome == "booked"
    assert not OutboundMail.objects.filter(interaction=visit.interaction).exists()
    assert f"{visit.interaction.reference} not confirmed" in caplog.text


def test_a_phone_agent_books_through_the_api_and_sees_the_days_visits(agent: User) -> None:
    client = APIClient()
    client.force_authenticate(agent)
    with time_machine.travel(riga(2026, 4, 13, 10, 0), tick=False):
        slots = client.get("/api/visits/slots/?date=2026-04-14").json()
        refused = client.post(
            "/api/visits/",
            {**_api_booking(), "starts_at": "2026-04-14T10:00:00+03:00"},
            format="json",
        )
        booked = client.post("/api/visits/", _api_booking(), format="json")
        listed = client.get("/api/visits/?date=2026-04-15").json()

    assert (slots["bookable"], slots["earliest"]) == (False, "2026-04-15")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "visit_too_soon"
    assert booked.status_code == 201, booked.content
    assert [row["reference"] for row in listed] == [booked.json()["reference"]]
    assert listed[0]["outcome"] == "booked"


def _api_booking() -> dict[str, object]:
    return {
        "starts_at": "2026-04-15T10:00:00+03:00",
        "client_name": "Jānis Bērziņš",
        "client_phone": "+37129000000",
        "service": "accounts",
        "reason_not_electronic": "Klientam nav eParaksta",
    }
