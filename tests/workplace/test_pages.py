"""The workplace's pages through Django's test client: each role lands on its own page, every page
admits exactly its roles, the forms do what they say, the security headers are there."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings
from rest_framework.authtoken.models import Token

from agents.models import AgentStatus, Role
from contact_centre.models import Interaction
from mail.models import OutboundMail
from recordings.models import Scorecard, ScorecardAcknowledgement, ScorecardItem
from sla.models import Breach, CalendarOverride
from sla.sync import clock_breach_overdue
from tests.factories import riga
from tests.workplace.conftest import Office

pytestmark = pytest.mark.django_db

NOW = riga(2026, 4, 7, 11)  # a Tuesday, the office open


def client_for(office: Office, role: str | None, *, language: str = "lv") -> Client:
    client = Client()
    client.cookies["django_language"] = language
    if role == "admin":
        client.force_login(office.admin)
    elif role is not None:
        client.force_login(office.user(role))
    return client


@pytest.mark.parametrize(
    ("role", "lands_on"),
    [
        (Role.PHONE_AGENT, "agent-home"),
        (Role.EMAIL_HANDLER, "mail-queue"),
        (Role.TEAM_LEAD, "mail-queue"),
        (Role.QUALITY_OFFICER, "quality-recordings"),
        ("admin", "admin:index"),
    ],
)
def test_each_role_lands_on_its_own_page(office: Office, role: str, lands_on: str) -> None:
    response = client_for(office, role).get("/")
    assert (response.status_code, response["Location"]) == (302, reverse(lands_on))


def test_a_stranger_is_sent_to_sign_in(office: Office) -> None:
    response = Client().get(reverse("mail-queue"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


PAGES = {
    "agent-home": {Role.PHONE_AGENT},
    "agent-call": {Role.PHONE_AGENT},
    "mail-queue": {Role.EMAIL_HANDLER, Role.TEAM_LEAD},
    "mail-queue-rows": {Role.EMAIL_HANDLER, Role.TEAM_LEAD},
    "lead-breaches": {Role.TEAM_LEAD},
    "lead-levels": {Role.TEAM_LEAD},
    "lead-calendar": {Role.TEAM_LEAD},
    "lead-absences": {Role.TEAM_LEAD},
    "quality-recordings": {Role.QUALITY_OFFICER, Role.TEAM_LEAD},
    "quality-trends": {Role.QUALITY_OFFICER, Role.TEAM_LEAD},
}


@pytest.mark.parametrize("name", sorted(PAGES))
@pytest.mark.parametrize("role", [*Role.values, "admin"])
def test_every_page_admits_exactly_its_roles(office: Office, name: str, role: str) -> None:
    with time_machine.travel(NOW, tick=False):
        response = client_for(office, role).get(reverse(name))
    assert response.status_code == (200 if role in PAGES[name] else 403)


@pytest.mark.parametrize("role", [*Role.values, "admin"])
def test_the_matter_and_recording_pages_admit_exactly_their_roles(office: Office, role: str) -> None:
    client = client_for(office, role)
    pages = {
        reverse("mail-thread", args=[office.email.pk]): {Role.EMAIL_HANDLER, Role.TEAM_LEAD},
        reverse("quality-player", args=[office.recording.pk]): {Role.QUALITY_OFFICER, Role.TEAM_LEAD},
        reverse("quality-peaks", args=[office.recording.pk]): {Role.QUALITY_OFFICER, Role.TEAM_LEAD},
        reverse("matter", args=[office.call.pk]): {Role.PHONE_AGENT, Role.QUALITY_OFFICER, Role.TEAM_LEAD},
    }
    for url, roles in pages.items():
        assert client.get(url).status_code == (200 if role in roles else 403), url


def test_pages_speak_latvian_by_default_and_english_on_request(office: Office) -> None:
    with time_machine.travel(NOW, tick=False):
        latvian = client_for(office, Role.EMAIL_HANDLER).get(reverse("mail-queue")).content.decode()
        english = (
            client_for(office, Role.EMAIL_HANDLER, language="en").get(reverse("mail-queue")).content.decode()
        )
    assert '<html lang="lv">' in latvian
    assert "E-pasta rinda" in latvian
    assert '<html lang="en">' in english
    assert "E-mail queue" in english


def test_every_page_carries_a_strict_content_security_policy(office: Office) -> None:
    response = client_for(office, Role.TEAM_LEAD).get(reverse("lead-breaches"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.content.decode())  # no inline script


def test_the_agent_sets_her_state_with_one_click(office: Office) -> None:
    client = client_for(office, Role.PHONE_AGENT)
    response = client.post(reverse("agent-state"), {"state": "available"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'aria-pressed="true"' in response.content.decode()
    assert AgentStatus.objects.get(person=office.people[Role.PHONE_AGENT]).state == "available"


def test_the_agent_page_shows_the_call_in_progress_and_the_callers_earlier_matters(office: Office) -> None:
    AgentStatus.objects.update_or_create(
        person=office.people[Role.PHONE_AGENT],
        defaults={"state": "available", "state_since": NOW, "in_call": "call-1", "in_call_since": NOW},
    )
    earlier_email = Interaction.objects.create(
        channel="email", client_contact="+37120000001", subject="Iepriekšējā", opened_at=NOW
    )
    earlier_call = Interaction.objects.create(channel="phone", client_contact="+37120000001", opened_at=NOW)
    page = client_for(office, Role.PHONE_AGENT).get(reverse("agent-call")).content.decode()
    assert "+37120000001" in page
    assert "data-call-since" in page
    assert "Iepriekšējā" in page
    assert reverse("mail-thread", args=[earlier_email.pk]) not in page  # not an agent's page to open
    assert reverse("matter", args=[earlier_call.pk]) in page


def test_the_agent_records_an_absence_with_a_substitute_from_her_unit(office: Office) -> None:
    colleague = office.people[Role.EMAIL_HANDLER]
    response = client_for(office, Role.PHONE_AGENT).post(
        reverse("agent-absence-create"),
        {
            "kind": "leave",
            "starts_at": "2026-05-04T08:00",
            "ends_at": "2026-05-08T18:00",
            "substitute": colleague.pk,
            "note": "Atvaļinājums",
        },
    )
    assert response.status_code == 302
    absence = office.people[Role.PHONE_AGENT].absences.get()
    assert (absence.substitute, absence.starts_at) == (colleague, riga(2026, 5, 4, 8))


def test_a_handler_replies_from_the_thread_and_the_reply_is_queued(office: Office) -> None:
    client = client_for(office, Role.EMAIL_HANDLER)
    with time_machine.travel(NOW, tick=False):
        response = client.post(
            reverse("mail-reply", args=[office.email.pk]), {"body": "Izraksts pievienots."}
        )
    assert response.status_code == 302
    reply = OutboundMail.objects.get(kind="reply")
    assert reply.body.startswith("Izraksts pievienots.")
    assert reply.to_address == "klients@example.org"


def test_a_lead_acknowledges_a_breach_from_the_board(office: Office) -> None:
    clock_breach_overdue(now=riga(2026, 4, 30))
    breach = Breach.objects.filter(interaction=office.email).first()
    assert breach is not None
    client = client_for(office, Role.TEAM_LEAD)
    board = client.get(reverse("lead-breaches"), {"rule": "EM-ACK"}).content.decode()
    assert str(office.email.reference) in board
    client.post(
        reverse("lead-breach-acknowledge", args=[breach.pk]),
        {"reason": "staff-shortage", "comment": "Slimības"},
    )
    breach.refresh_from_db()
    assert (breach.reason.code, breach.acknowledge_reason) == ("staff-shortage", "Slimības")


def test_a_lead_adds_a_holiday_with_its_legal_source(office: Office) -> None:
    response = client_for(office, Role.TEAM_LEAD).post(
        reverse("lead-calendar"),
        {
            "day": "2026-06-26",
            "kind": "holiday",
            "name": "Papildu brīvdiena",
            "legal_source": "Saeimas likums",
        },
    )
    assert response.status_code == 302
    assert CalendarOverride.objects.get(day="2026-06-26").legal_source == "Saeimas likums"


def test_the_player_gets_the_waveform_without_any_audio_or_log(office: Office) -> None:
    response = client_for(office, Role.QUALITY_OFFICER).get(
        reverse("quality-peaks", args=[office.recording.pk])
    )
    body = response.json()
    assert body["duration"] == pytest.approx(12.0, abs=0.1)
    assert 0.4 < max(body["peaks"]) < 0.6  # the tone is at half scale
    assert not office.recording.audit.exists()  # the waveform is no replay; playing needs a reason


def test_no_page_carries_a_secret(office: Office, settings: Settings) -> None:
    settings.CC_SMTP_PASSWORD = "smtp-secret-value"
    settings.CC_IMAP_PASSWORD = "imap-secret-value"
    token = Token.objects.create(user=office.user(Role.TEAM_LEAD))
    secrets = (settings.SECRET_KEY, "smtp-secret-value", "imap-secret-value", token.key)
    client = client_for(office, Role.TEAM_LEAD)
    with time_machine.travel(NOW, tick=False):
        for name in ("mail-queue", "lead-breaches", "lead-levels", "lead-calendar", "lead-absences"):
            page = client.get(reverse(name)).content.decode()
            assert not [secret for secret in secrets if secret in page], name


def _score(office: Office, client: Client) -> Scorecard:
    """The quality officer scores the recording on its page: yes, yes, 3 of 4, no."""
    client.post(reverse("scorecard-start", args=[office.recording.pk]))
    card = Scorecard.objects.get(recording=office.recording)
    items = list(ScorecardItem.objects.filter(template=card.template).order_by("position"))
    values = {items[0].pk: 1, items[1].pk: 1, items[2].pk: 3, items[3].pk: 0}
    form = {f"item-{pk}": str(value) for pk, value in values.items()} | {"comment": "Laipni", "submit": "1"}
    client.post(reverse("scorecard-save", args=[card.pk]), form)
    card.refresh_from_db()
    return card


def test_a_quality_officer_scores_a_call_and_the_agent_acknowledges_it(office: Office) -> None:
    officer = client_for(office, Role.QUALITY_OFFICER)
    card = _score(office, officer)
    # Weights 1, 1, 2, 2: (1 + 1 + 2 * 3/4 + 0) / 6 = 58.3 %
    assert (card.submitted_at is not None, card.score) == (True, Decimal("58.3"))
    page = officer.get(reverse("quality-player", args=[office.recording.pk])).content.decode()
    assert "58,3 %" in page  # a decimal comma in Latvian
    assert 'name="submit"' not in page  # submitted: read-only
    agent = client_for(office, Role.PHONE_AGENT)
    assert "58,3 %" in agent.get(reverse("agent-home")).content.decode()
    agent.post(reverse("scorecard-acknowledge", args=[card.pk]))
    assert ScorecardAcknowledgement.objects.filter(scorecard=card).exists()


def test_an_agent_disputes_a_scorecard_and_the_team_lead_upholds_it(office: Office) -> None:
    card = _score(office, client_for(office, Role.QUALITY_OFFICER))
    client_for(office, Role.PHONE_AGENT).post(
        reverse("scorecard-dispute", args=[card.pk]), {"comment": "Iestādi nosaucu sākumā"}
    )
    lead = client_for(office, Role.TEAM_LEAD)
    assert "Iestādi nosaucu sākumā" in lead.get(reverse("quality-trends")).content.decode()
    lead.post(reverse("scorecard-resolve", args=[card.pk]), {"decision": "upheld", "comment": "Taisnība"})
    card.refresh_from_db()
    assert card.dispute.state == "upheld"
    assert Scorecard.objects.filter(supersedes=card, submitted_at__isnull=True).exists()  # a new draft
