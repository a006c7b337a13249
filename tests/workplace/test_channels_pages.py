"""The pages of the channels recorded by hand: registering a letter (post, e-address) with its scan, the
decisions on a written matter (answered, forwarded, extended, reclassified), booking a visit on the call
(VISIT-BOOK) and the visit desk's day with its outcome buttons. Through Django's test client, on the real
database, at a fixed Riga time."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from agents.models import AgentStatus, Role
from contact_centre.models import EventKind, Interaction
from intake.models import Visit, VisitSlot
from mail.models import OutboundMail
from sla.models import Clock
from sla.sync import clock_sync
from tests.factories import riga
from tests.workplace.conftest import Office

pytestmark = pytest.mark.django_db

NOW = riga(2026, 4, 7, 11)  # Tuesday after Easter Monday, the office open
EARLIEST = riga(2026, 4, 9, 10)  # Thursday: two working days after NOW, a slot on the grid


def client_for(office: Office, role: str | None) -> Client:
    client = Client()
    client.cookies["django_language"] = "lv"
    if role == "admin":
        client.force_login(office.admin)
    elif role is not None:
        client.force_login(office.user(role))
    return client


@pytest.fixture
def scans(settings: Settings, tmp_path: Path) -> Path:
    settings.CC_SCANS_DIR = tmp_path / "scans"
    return settings.CC_SCANS_DIR


LETTER = {
    "channel": "post",
    "registration_number": "VK/2026/115",
    "arrived_at": "2026-04-07T09:30",
    "client_name": "Pēteris Ozols",
    "client_contact": "Brīvības iela 1, Rīga",
    "subject": "Konta slēgšana",
    "service": "accounts",
}


def register_letter(client: Client, **changes: object) -> Interaction:
    """Register a letter through the page, as a handler would, and let the clocks follow the ledger."""
    with time_machine.travel(NOW, tick=False):
        response = client.post(reverse("letter-new"), LETTER | changes)
    assert response.status_code == 302, response.content.decode()
    clock_sync()
    return Interaction.objects.get(channel__in=["post", "e_address"], pk=_pk(response["Location"]))


def _pk(location: str) -> int:
    found = re.search(r"/mail/(\d+)/$", location)
    assert found, location
    return int(found.group(1))


def page_of(client: Client, interaction: Interaction) -> str:
    with time_machine.travel(NOW, tick=False):
        return client.get(reverse("mail-thread", args=[interaction.pk])).content.decode()


# --- Who may open what --------------------------------------------------------------------------------

PAGES = {
    "letter-new": {Role.EMAIL_HANDLER, Role.TEAM_LEAD},
    "visits": {Role.PHONE_AGENT, Role.TEAM_LEAD},
    "visit-slots": {Role.PHONE_AGENT, Role.TEAM_LEAD},
    "agent-home": {Role.PHONE_AGENT},
}


@pytest.mark.parametrize("name", sorted(PAGES))
@pytest.mark.parametrize("role", [*Role.values, "admin"])
def test_each_new_page_admits_exactly_its_roles(office: Office, name: str, role: str) -> None:
    with time_machine.travel(NOW, tick=False):
        response = client_for(office, role).get(reverse(name))
    assert response.status_code == (200 if role in PAGES[name] else 403)


@pytest.mark.parametrize("role", [*Role.values, "admin"])
def test_a_letters_page_opens_for_handlers_and_leads_only(office: Office, scans: Path, role: str) -> None:
    letter = register_letter(client_for(office, Role.EMAIL_HANDLER))
    response = client_for(office, role).get(reverse("mail-thread", args=[letter.pk]))
    assert response.status_code == (200 if role in {Role.EMAIL_HANDLER, Role.TEAM_LEAD} else 403)


def test_the_navigation_offers_the_new_pages_to_their_roles(office: Office) -> None:
    with time_machine.travel(NOW, tick=False):
        handler = client_for(office, Role.EMAIL_HANDLER).get(reverse("mail-queue")).content.decode()
        agent = client_for(office, Role.PHONE_AGENT).get(reverse("agent-home")).content.decode()
    assert "Reģistrēt vēstuli" in handler
    assert reverse("visits") not in handler
    assert "Apmeklējumi" in agent
    assert reverse("letter-new") not in agent


# --- Registering a letter -----------------------------------------------------------------------------


def test_a_letter_registered_with_its_scan_opens_a_post_matter_with_a_submission_clock(
    office: Office, scans: Path
) -> None:
    client = client_for(office, Role.EMAIL_HANDLER)
    scan = SimpleUploadedFile("vēstule.pdf", b"%PDF-1.4 registered letter", content_type="application/pdf")

    letter = register_letter(client, scan=scan)

    assert (letter.channel, letter.client_name, letter.service.code) == ("post", "Pēteris Ozols", "accounts")
    assert letter.opened_at == riga(2026, 4, 7, 9, 30)  # the form's time is Riga time
    clock = Clock.objects.get(interaction=letter, rule_id="SUBM-ANS")
    assert clock.due_at == riga(2026, 4, 21, 17, 15)  # 10 working days, due at Tuesday's close
    page = page_of(client, letter)
    assert "VK/2026/115" in page
    assert "21.04.2026 17:15" in page
    scan_row = letter.scans.get()
    link = reverse("interaction-scan", args=[letter.pk, scan_row.pk])
    assert link in page
    download = client.get(link)
    assert b"".join(download.streaming_content) == b"%PDF-1.4 registered letter"


def test_a_registered_letter_is_in_the_handlers_queue(office: Office, scans: Path) -> None:
    client = client_for(office, Role.EMAIL_HANDLER)
    letter = register_letter(client)
    with time_machine.travel(NOW, tick=False):
        queue = client.get(reverse("mail-queue")).content.decode()
    assert reverse("mail-thread", args=[letter.pk]) in queue
    assert "SUBM-ANS" in queue


def test_the_same_registration_number_again_opens_the_first_matter(office: Office, scans: Path) -> None:
    client = client_for(office, Role.EMAIL_HANDLER)
    first = register_letter(client)
    again = register_letter(client)
    assert again == first
    assert Interaction.objects.filter(channel="post").count() == 1


def test_a_letter_from_the_future_is_refused_in_the_form(office: Office, scans: Path) -> None:
    with time_machine.travel(NOW, tick=False):
        response = client_for(office, Role.EMAIL_HANDLER).post(
            reverse("letter-new"), LETTER | {"arrived_at": "2026-04-08T09:00"}
        )
    assert response.status_code == 200
    assert "ir nākotnē" in response.content.decode()
    assert not Interaction.objects.filter(channel="post").exists()


# --- Decisions on a written matter --------------------------------------------------------------------


def test_the_answer_sent_by_post_meets_the_submission_clock(office: Office, scans: Path) -> None:
    client = client_for(office, Role.EMAIL_HANDLER)
    letter = register_letter(client)
    with time_machine.travel(NOW, tick=False):
        response = client.post(reverse("matter-answer", args=[letter.pk]), {"answer-how": "post"})
    clock_sync()
    assert response.status_code == 302
    assert Clock.objects.get(interaction=letter, rule_id="SUBM-ANS").state == "met"


def test_a_forwarded_letter_tells_the_client_and_stops_the_answer_clock(office: Office, scans: Path) -> None:
    client = client_for(office, Role.EMAIL_HANDLER)
    letter = register_letter(client, client_contact="peteris@example.lv")
    with time_machine.travel(NOW, tick=False):
        client.post(
            reverse("matter-forward", args=[letter.pk]),
            {"forward-institution": "Valsts ieņēmumu dienests", "forward-told_by": "email"},
        )
    clock_sync()
    assert Clock.objects.get(interaction=letter, rule_id="SUBM-ANS").state == "stopped"
    notice = OutboundMail.objects.get(interaction=letter)
    assert notice.to_address == "peteris@example.lv"
    assert "Valsts ieņēmumu dienests" in notice.body


def test_the_extend_form_shows_only_on_a_submission(office: Office, scans: Path) -> None:
    client = client_for(office, Role.EMAIL_HANDLER)
    letter = register_letter(client)
    assert "extend-until" in page_of(client, letter)
    assert "extend-until" not in page_of(client, office.email)  # a plain e-mail has no SUBM-ANS clock


def test_an_extension_moves_the_answer_date_and_one_past_the_limit_is_refused(
    office: Office, scans: Path
) -> None:
    client = client_for(office, Role.EMAIL_HANDLER)
    letter = register_letter(client)
    extend = reverse("matter-extend", args=[letter.pk])
    form = {"extend-reason": "Jāsaņem ziņas no bankas", "extend-told_by": "post"}
    with time_machine.travel(NOW, tick=False):
        refused = client.post(extend, form | {"extend-until": "2026-06-30"})
        done = client.post(extend, form | {"extend-until": "2026-04-30"})
    assert "Termiņu var pagarināt līdz 07.05.2026" in refused.content.decode()
    assert done.status_code == 302
    clock_sync()
    clock = Clock.objects.get(interaction=letter, rule_id="SUBM-ANS", state="pending")
    assert clock.due_at == riga(2026, 4, 30, 16, 15)  # the day before 1 May closes an hour early


def test_a_team_lead_reclassifies_a_letter_as_spam_on_its_page(office: Office, scans: Path) -> None:
    letter = register_letter(client_for(office, Role.EMAIL_HANDLER))
    lead = client_for(office, Role.TEAM_LEAD)
    assert "reclassify-comment" in page_of(lead, letter)
    with time_machine.travel(NOW, tick=False):
        response = lead.post(
            reverse("matter-reclassify", args=[letter.pk]),
            {
                "reclassify-channel": "e_address",
                "reclassify-service": "accounts",
                "reclassify-not_client_matter": "spam",
                "reclassify-comment": "Reklāma, nevis iesniegums",
            },
        )
    assert response.status_code == 302
    letter.refresh_from_db()
    assert (letter.channel, letter.not_client_matter) == ("e_address", "spam")
    event = letter.events.get(kind=EventKind.RECLASSIFIED)
    assert event.payload["before"]["channel"] == "post"
    assert event.payload["after"]["service_id"] == letter.service_id  # unchanged, so not sent as a change


def test_a_reclassification_that_changes_nothing_is_refused_in_the_form(office: Office, scans: Path) -> None:
    letter = register_letter(client_for(office, Role.EMAIL_HANDLER))
    with time_machine.travel(NOW, tick=False):
        response = client_for(office, Role.TEAM_LEAD).post(
            reverse("matter-reclassify", args=[letter.pk]),
            {
                "reclassify-channel": "post",
                "reclassify-service": "accounts",
                "reclassify-comment": "Pārbaude",
            },
        )
    assert response.status_code == 200
    assert "Nekas netika mainīts" in response.content.decode()


def test_only_a_team_lead_may_reclassify(office: Office, scans: Path) -> None:
    handler = client_for(office, Role.EMAIL_HANDLER)
    letter = register_letter(handler)
    assert "reclassify-comment" not in page_of(handler, letter)
    response = handler.post(
        reverse("matter-reclassify", args=[letter.pk]),
        {"reclassify-channel": "e_address", "reclassify-comment": "Mēģinājums"},
    )
    assert response.status_code == 403
    letter.refresh_from_db()
    assert letter.channel == "post"


# --- Booking a visit ----------------------------------------------------------------------------------


def booking(starts_at: str, **changes: str) -> dict[str, str]:
    form = {
        "visit-day": starts_at[:10],
        "visit-starts_at": starts_at,
        "visit-client_name": "Līga Zariņa",
        "visit-client_phone": "+37120000001",
        "visit-client_email": "liga@example.lv",
        "visit-service": "signature-cards",
        "visit-reason_not_electronic": "Nav eID, parakstu karte jāiesniedz klātienē",
        "visit-booking_key": "8d7c4f0e1b2a4c3d9e8f7a6b5c4d3e2f",
    }
    return form | {f"visit-{name}": value for name, value in changes.items()}


def book(office: Office, starts_at: str, **changes: str) -> tuple[int, str]:
    with time_machine.travel(NOW, tick=False):
        response = client_for(office, Role.PHONE_AGENT).post(
            reverse("agent-visit-book"), booking(starts_at, **changes)
        )
    return response.status_code, response.content.decode()


def test_the_agent_page_offers_the_earliest_day_and_its_free_slots(office: Office) -> None:
    with time_machine.travel(NOW, tick=False):
        page = client_for(office, Role.PHONE_AGENT).get(reverse("agent-home")).content.decode()
    assert 'min="2026-04-09"' in page
    assert f'value="{EARLIEST.isoformat()}"' in page
    assert "09.04.2026" in page


def test_the_slots_of_a_picked_day_come_with_their_free_places(office: Office) -> None:
    VisitSlot.objects.create(starts_at=riga(2026, 4, 14, 9), capacity=2, booked=2)
    with time_machine.travel(NOW, tick=False):
        slots = client_for(office, Role.PHONE_AGENT).get(reverse("visit-slots"), {"visit-day": "2026-04-14"})
    html = slots.content.decode()
    first = re.search(r'value="([^"]+)"', html)
    assert first is not None
    assert first.group(1) == riga(2026, 4, 14, 8, 30).isoformat()  # opening time, on the grid
    assert re.search(rf'value="{re.escape(riga(2026, 4, 14, 9).isoformat())}"[^>]*disabled', html)


def test_a_visit_booked_two_working_days_ahead_is_booked_once_on_a_double_submit(office: Office) -> None:
    AgentStatus.objects.update_or_create(
        person=office.people[Role.PHONE_AGENT],
        defaults={"state": "available", "state_since": NOW, "in_call": "call-1", "in_call_since": NOW},
    )
    first = book(office, EARLIEST.isoformat())
    second = book(office, EARLIEST.isoformat())
    assert (first[0], second[0]) == (302, 302)
    visit = Visit.objects.get()
    assert (visit.starts_at, visit.interaction.client_name) == (EARLIEST, "Līga Zariņa")
    assert visit.call == office.call  # booked on the call in progress
    assert VisitSlot.objects.get(starts_at=EARLIEST).booked == 1
    assert OutboundMail.objects.filter(to_address="liga@example.lv").count() == 1  # the confirmation


def test_a_day_beyond_the_working_calendar_is_refused_in_the_page_not_with_an_error(office: Office) -> None:
    agent = client_for(office, Role.PHONE_AGENT)
    with time_machine.travel(NOW, tick=False):
        slots = agent.get(reverse("visit-slots"), {"visit-day": "2099-01-05"})
    status, page = book(office, riga(2099, 1, 5, 10).isoformat())
    assert (slots.status_code, status) == (200, 200)
    assert "2099-01-05 is outside it" in slots.content.decode()
    assert "Apmeklējumu var pieteikt līdz" in page  # VISIT-BOOK's horizon
    assert not Visit.objects.exists()


def test_a_visit_on_a_public_holiday_is_refused_with_the_reason(office: Office) -> None:
    status, page = book(office, riga(2026, 5, 1, 10).isoformat())
    assert status == 200
    assert "01.05.2026 ir svētku diena" in page
    assert not Visit.objects.exists()


def test_a_visit_tomorrow_is_refused_as_too_soon(office: Office) -> None:
    status, page = book(office, riga(2026, 4, 8, 10).isoformat())
    assert status == 200
    assert "vismaz divas darbdienas iepriekš" in page
    assert "09.04.2026" in page
    assert not Visit.objects.exists()


def test_a_full_slot_is_refused_and_the_form_keeps_what_was_typed(office: Office) -> None:
    VisitSlot.objects.create(starts_at=EARLIEST, capacity=1, booked=1)
    status, page = book(office, EARLIEST.isoformat())
    assert status == 200
    assert "ir aizņemts" in page
    assert "Līga Zariņa" in page
    assert not Visit.objects.exists()


def test_a_booking_without_a_reason_is_refused(office: Office) -> None:
    status, page = book(office, EARLIEST.isoformat(), reason_not_electronic="")
    assert status == 200
    assert "Šis lauks ir obligāts" in page
    assert not Visit.objects.exists()


# --- The visit desk's day -----------------------------------------------------------------------------


def test_the_days_visits_are_listed_with_outcome_buttons_that_record_the_outcome(office: Office) -> None:
    book(office, EARLIEST.isoformat())
    visit = Visit.objects.get()
    lead = client_for(office, Role.TEAM_LEAD)
    with time_machine.travel(EARLIEST, tick=False):
        day = lead.get(reverse("visits"), {"date": "2026-04-09"}).content.decode()
        assert "Līga Zariņa" in day
        assert reverse("visit-outcome", args=[visit.pk]) in day
        response = lead.post(reverse("visit-outcome", args=[visit.pk]), {"outcome": "served"})
        assert response["Location"] == f"{reverse('visits')}?date=2026-04-09"
        again = lead.post(reverse("visit-outcome", args=[visit.pk]), {"outcome": "no_show"}, follow=True)
    visit.refresh_from_db()
    assert visit.outcome == "served"
    assert "Iznākums jau reģistrēts" in again.content.decode()
    assert visit.interaction.events.filter(kind=EventKind.VISIT_SERVED).exists()


def test_todays_page_reminds_the_desk_of_an_earlier_visit_without_an_outcome(office: Office) -> None:
    book(office, EARLIEST.isoformat())
    visit = Visit.objects.get()
    agent = client_for(office, Role.PHONE_AGENT)
    next_day = riga(2026, 4, 10, 9)
    with time_machine.travel(EARLIEST, tick=False):  # the visit's own day: it is in the day's table
        assert "Agrākie apmeklējumi" not in agent.get(reverse("visits")).content.decode()
    with time_machine.travel(next_day, tick=False):
        today = agent.get(reverse("visits")).content.decode()
        another_day = agent.get(reverse("visits"), {"date": "2026-04-13"}).content.decode()
        agent.post(reverse("visit-outcome", args=[visit.pk]), {"outcome": "no_show"})
        after = agent.get(reverse("visits")).content.decode()
        visit_page = agent.get(reverse("matter", args=[visit.interaction_id])).content.decode()
    assert "Agrākie apmeklējumi, kuriem vēl nav norādīts iznākums" in today
    assert 'href="?date=2026-04-09"' in today
    assert reverse("matter", args=[visit.interaction_id]) in today
    assert "Agrākie apmeklējumi" not in another_day  # only today's page reminds
    assert "Agrākie apmeklējumi" not in after
    assert "Nav eID, parakstu karte jāiesniedz klātienē" in visit_page  # the visit's own page
    assert "Neieradās" in visit_page


def test_served_before_the_visits_time_is_refused(office: Office) -> None:
    book(office, EARLIEST.isoformat())
    visit = Visit.objects.get()
    with time_machine.travel(NOW, tick=False):
        response = client_for(office, Role.PHONE_AGENT).post(
            reverse("visit-outcome", args=[visit.pk]), {"outcome": "served"}, follow=True
        )
    visit.refresh_from_db()
    assert visit.outcome == "booked"
    assert "vēl nav pienācis" in response.content.decode()


def test_a_cancellation_frees_the_slot(office: Office) -> None:
    book(office, EARLIEST.isoformat())
    visit = Visit.objects.get()
    with time_machine.travel(NOW, tick=False):
        client_for(office, Role.PHONE_AGENT).post(
            reverse("visit-outcome", args=[visit.pk]), {"outcome": "cancelled"}
        )
    visit.refresh_from_db()
    assert visit.outcome == "cancelled"
    assert VisitSlot.objects.get(starts_at=EARLIEST).booked == 0


def test_outcome_buttons_are_closed_to_handlers(office: Office) -> None:
    book(office, EARLIEST.isoformat())
    visit = Visit.objects.get()
    response = client_for(office, Role.EMAIL_HANDLER).post(
        reverse("visit-outcome", args=[visit.pk]), {"outcome": "cancelled"}
    )
    assert response.status_code == 403
