"""Each role's main path in a real browser (Debian's Chromium through Playwright) against the live product:
signing in, the page each role lands on, its main action, a screenshot kept, and an accessibility check."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import numpy as np
import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Dialog, Page, Request, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from agents.models import AgentStatus, Person, Role, Unit
from contact_centre.models import EventKind, Interaction
from contact_centre.services import call_record_outcome, interaction_record_call
from mail.ingest import message_ingest
from mail.models import OutboundMail
from mail.replies import mailbox_default
from recordings.models import AuditAction, Recording, RecordingAudit
from recordings.services import recording_store
from sla.models import Breach
from sla.sync import clock_breach_overdue, clock_sync
from tests.browser.conftest import accessibility_violations, screenshot, sign_in
from tests.factories import PersonFactory
from tests.mail.builders import client_mail, fetched
from tests.recordings.wavs import silence, tone, wav_write

pytestmark = [pytest.mark.peers, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "salasana-123"
HOSTILE_HTML = """<html><head><style>body{display:none}</style></head><body>
<p id="greeting">Labdien!</p>
<script>window.__pwned = 1; alert('x')</script>
<img src="x" onerror="window.__pwned = 2">
<a href="javascript:window.__pwned=3" id="trap">Spied šeit</a>
<div style="position:fixed;top:0;left:0;width:100%;height:100%;background:red">pārklājums</div>
<iframe src="https://example.org/"></iframe>
<svg><script>window.__pwned = 4</script></svg>
<form action="https://evil.example/"><input name="p"></form>
</body></html>"""


def _person(unit: Unit, username: str, role: str, extension: str) -> Person:
    person = PersonFactory(user__username=username, user__roles=[role], unit=unit, extension=extension)
    person.user.set_password(PASSWORD)
    person.user.save()
    return person


@pytest.fixture
def office(settings: Settings, tmp_path: Path) -> dict[str, Person]:
    settings.CC_RECORDINGS_DIR = tmp_path / "recordings"
    unit = Unit.objects.create(code="kac", name="Klientu apkalpošanas centrs")
    people = {
        Role.PHONE_AGENT: _person(unit, "anna", Role.PHONE_AGENT, "101"),
        Role.EMAIL_HANDLER: _person(unit, "janis", Role.EMAIL_HANDLER, "102"),
        Role.TEAM_LEAD: _person(unit, "ilze", Role.TEAM_LEAD, "100"),
        Role.QUALITY_OFFICER: _person(unit, "peteris", Role.QUALITY_OFFICER, "103"),
    }
    unit.leads.add(people[Role.TEAM_LEAD])
    return people


def _email(message_id: str, subject: str, *, html: str | None = None, days_ago: int = 0) -> Interaction:
    if html is None:
        raw = client_mail(message_id=message_id, subject=subject)
    else:
        message = EmailMessage(policy=SMTP)
        message["From"] = "Līga Kļaviņa <klients@example.org>"
        message["To"] = "ekase@kase.gov.lv"
        message["Subject"] = subject
        message["Message-ID"] = f"<{message_id}>"
        message.set_content("Labdien!")
        message.add_alternative(html, subtype="html")
        raw = message.as_bytes()
    message_ingest(mailbox=mailbox_default(), fetched=fetched(raw, timezone.now() - timedelta(days=days_ago)))
    clock_sync()
    return Interaction.objects.get(events__source_key=f"email:{message_id}")


def _answered_call(
    agent: Person, sip_call_id: str, *, wait_ms: int, rings: int
) -> tuple[Interaction, datetime]:
    """A call that reached the line an hour ago and `agent` answered after `wait_ms`; and its arrival."""
    arrived = timezone.now() - timedelta(hours=1)
    call = interaction_record_call(
        sip_call_id=sip_call_id, arrived_at=arrived, caller="+37120000001", in_office_hours=True
    )
    call_record_outcome(
        sip_call_id=sip_call_id,
        kind=EventKind.CALL_ANSWERED,
        occurred_at=arrived + timedelta(milliseconds=wait_ms),
        wait_ms=wait_ms,
        agent=agent,
        details={"rings": rings},
    )
    clock_sync()
    return call, arrived


def _recorded_call(agent: Person, tmp_path: Path, seconds: float = 40.0) -> Recording:
    _call, arrived = _answered_call(agent, "call-b1", wait_ms=6000, rings=2)
    audio = np.concatenate([tone(440, seconds / 2), silence(seconds / 2)])
    wav = wav_write(tmp_path / "spool" / "call-b1.wav", audio)
    return recording_store(
        sip_call_id="call-b1", wav_path=wav, started_at=arrived + timedelta(seconds=7), agent=agent
    )


def _accessible(browser: Browser, page: Page) -> None:
    assert accessibility_violations(browser, page) == []


def test_a_phone_agent_goes_available_with_one_click(
    live_server: LiveServer, browser: Browser, page: Page, office: dict[str, Person]
) -> None:
    sign_in(page, live_server.url, "anna", PASSWORD)
    expect(page.get_by_role("heading", name="Mana līnija")).to_be_visible()
    page.get_by_role("button", name="Pieejams").click()
    expect(page.get_by_role("button", name="Pieejams")).to_have_attribute("aria-pressed", "true")
    assert AgentStatus.objects.get(person=office[Role.PHONE_AGENT]).state == "available"
    screenshot(page, "phone-agent")
    _accessible(browser, page)


def test_an_email_handler_opens_the_first_matter_due_and_replies(
    live_server: LiveServer, browser: Browser, page: Page, office: dict[str, Person]
) -> None:
    _email("older@example.org", "Konta izraksts", days_ago=3)
    _email("newer@example.org", "Paraksta paraugs")
    sign_in(page, live_server.url, "janis", PASSWORD)
    expect(page.get_by_role("heading", name="E-pasta rinda")).to_be_visible()
    first_row = page.locator("#queue-rows tr").first
    expect(first_row).to_contain_text("Konta izraksts")  # the older one falls due first
    expect(first_row.locator(".countdown")).to_contain_text(":")  # the live counter ticks
    screenshot(page, "email-handler-queue")
    _accessible(browser, page)
    first_row.get_by_role("link").click()
    page.get_by_label("Atbilde", exact=True).fill("Izraksts pievienots pielikumā.")
    page.get_by_role("button", name="Sūtīt atbildi").click()
    expect(page.get_by_role("status")).to_contain_text("Atbilde ierindota")
    assert OutboundMail.objects.filter(kind="reply", body__startswith="Izraksts pievienots").exists()
    screenshot(page, "email-handler-thread")
    _accessible(browser, page)


def test_a_hostile_email_is_shown_without_running_anything(
    live_server: LiveServer, page: Page, office: dict[str, Person]
) -> None:
    matter = _email("hostile@example.org", "Uzbrukums", html=HOSTILE_HTML)
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    sign_in(page, live_server.url, "janis", PASSWORD)
    page.goto(f"{live_server.url}/mail/{matter.pk}/")
    body = page.locator(".mail-body").first
    expect(body).to_contain_text("Labdien!")
    page.get_by_text("Spied šeit").click()
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.evaluate("window.__pwned") is None
    assert body.locator("script, iframe, img[onerror], form, style, [style]").count() == 0
    assert body.locator("a[href^='javascript']").count() == 0
    expect(page.get_by_role("heading", name="Uzbrukums")).to_be_visible()  # no overlay hid the page


def test_a_team_lead_filters_the_breach_board_and_acknowledges_a_breach(
    live_server: LiveServer, browser: Browser, page: Page, office: dict[str, Person]
) -> None:
    matter = _email("late@example.org", "Nokavēts jautājums", days_ago=7)
    clock_breach_overdue(now=timezone.now())
    sign_in(page, live_server.url, "ilze", PASSWORD)
    page.goto(f"{live_server.url}/lead/breaches/")
    page.get_by_label("Noteikums").select_option("EM-ACK")
    row = page.locator("#breach-rows tbody tr").filter(has_text=matter.reference)
    expect(row).to_have_count(1)
    expect(page.locator("#breach-rows tbody tr")).to_have_count(1)  # EM-REPLY filtered out
    screenshot(page, "team-lead-breaches")
    _accessible(browser, page)
    row.get_by_label("Iemesls").select_option("staff-shortage")
    row.get_by_label("Komentārs").fill("Divi kolēģi slimoja")
    row.get_by_role("button", name="Apstiprināt").click()
    expect(page.get_by_role("status")).to_contain_text("Kavējums apstiprināts")
    breach = Breach.objects.get(interaction=matter, rule_id="EM-ACK")
    assert (breach.reason.code, breach.acknowledge_reason) == ("staff-shortage", "Divi kolēģi slimoja")
    page.goto(f"{live_server.url}/lead/levels/")
    expect(page.locator("svg.chart").first).to_be_visible()
    screenshot(page, "team-lead-levels")
    _accessible(browser, page)


def test_a_quality_officer_gives_a_reason_plays_and_seeks_a_recording_through_range_requests(
    live_server: LiveServer, browser: Browser, page: Page, office: dict[str, Person], tmp_path: Path
) -> None:
    recording = _recorded_call(office[Role.PHONE_AGENT], tmp_path)
    ranges: list[str] = []

    def note_range(request: Request) -> None:
        if "/audio" in request.url:
            ranges.append(request.headers.get("range", ""))

    page.on("request", note_range)
    sign_in(page, live_server.url, "peteris", PASSWORD)
    expect(page.get_by_role("heading", name="Ieraksti")).to_be_visible()
    screenshot(page, "quality-officer-recordings")
    _accessible(browser, page)
    page.get_by_role("link", name="Klausīties un novērtēt").click()
    page.get_by_label("Kāpēc klausāties? (tiek reģistrēts)").fill("Kvalitātes pārbaude")
    page.get_by_role("button", name="Atskaņot").click()
    player = page.locator("[data-player]")
    expect(player).to_have_attribute("data-ready", "true")
    page.get_by_role("button", name="+10 s").click()
    page.wait_for_function("Number(document.querySelector('[data-player]').dataset.position) >= 10")
    page.get_by_label("Ātrums").select_option("2")
    screenshot(page, "quality-officer-player")
    _accessible(browser, page)
    assert any(value.startswith("bytes=") for value in ranges), ranges
    grant = RecordingAudit.objects.get(recording=recording)
    assert (grant.action, grant.reason, grant.user.username) == (
        AuditAction.PLAY,
        "Kvalitātes pārbaude",
        "peteris",
    )
    assert grant.requests >= 1


def test_the_team_leads_other_pages_work_on_a_tablet_and_pass_the_accessibility_check(
    live_server: LiveServer, browser: Browser, office: dict[str, Person]
) -> None:
    tablet = browser.new_context(
        locale="lv-LV", timezone_id="Europe/Riga", viewport={"width": 820, "height": 1180}
    )
    page = tablet.new_page()
    sign_in(page, live_server.url, "ilze", PASSWORD)
    for path, heading, name in (
        ("/lead/calendar/", "Darba laika kalendārs", "team-lead-calendar-tablet"),
        ("/lead/absences/", "Prombūtnes manās struktūrvienībās", "team-lead-absences-tablet"),
        ("/mail/", "E-pasta rinda", "team-lead-mail-queue-tablet"),
    ):
        page.goto(f"{live_server.url}{path}")
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
        screenshot(page, name)
        _accessible(browser, page)
    tablet.close()


def test_a_team_lead_opens_a_late_call_from_the_breach_board_and_sets_it_aside(
    live_server: LiveServer, browser: Browser, page: Page, office: dict[str, Person]
) -> None:
    call, _arrived = _answered_call(office[Role.PHONE_AGENT], "call-late", wait_ms=20_000, rings=5)
    clock_breach_overdue(now=timezone.now())
    sign_in(page, live_server.url, "ilze", PASSWORD)
    page.goto(f"{live_server.url}/lead/breaches/")
    page.get_by_role("link", name=call.reference).click()
    expect(page.get_by_role("heading", name="Zvans")).to_be_visible()
    expect(page.locator(".events")).to_contain_text("gaidīja 20,0 s · signāli: 5")
    screenshot(page, "team-lead-call")
    _accessible(browser, page)
    page.get_by_label("Vai tā ir klienta lieta?").select_option("misdirected")
    page.get_by_label("Kāpēc").fill("Kļūdains numurs")
    page.get_by_role("button", name="Pārklasificēt").click()
    expect(page.get_by_role("status")).to_contain_text("Pārklasificēts")
    expect(page.get_by_role("heading", name="Kavējumi")).to_be_visible()
    assert Breach.objects.get(interaction=call).withdrawn_at is not None
