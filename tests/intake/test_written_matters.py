"""Post and e-address letters registered by hand, and the decisions on written matters: the answer, the
forward to another institution (SUBM-FWD, PORTAL-FWD) and the extension of a submission's answer time
(the Law on Submissions' clocks, SUBM-ANS)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from agents.errors import DomainError
from agents.models import Role
from contact_centre.channel_services import WrittenMatter
from contact_centre.models import Channel, Interaction
from contact_centre.services import interaction_record_email
from intake.models import Scan
from intake.services import letter_register_with_scan, matter_answer, matter_forward, submission_extend
from mail.models import MailTemplate, OutboundKind, OutboundMail, TemplateKind
from sla.models import Clock, ClockState, Policy
from sla.sync import clock_breach_overdue, clock_sync
from tests.factories import PersonFactory, riga

pytestmark = pytest.mark.django_db

SCAN = b"%PDF-1.4\n% skenets iesniegums\n" + bytes(range(256)) * 8


@pytest.fixture
def handler() -> User:
    return PersonFactory(user__username="janis", user__roles=[Role.EMAIL_HANDLER]).user


@pytest.fixture(autouse=True)
def _scans_dir(settings: Settings, tmp_path: Path) -> None:
    settings.CC_SCANS_DIR = tmp_path / "scans"


def letter(number: str = "3.1-7/101", **changes: object) -> WrittenMatter:
    fields: dict[str, object] = {
        "channel": Channel.POST,
        "registration_number": number,
        "arrived_at": riga(2026, 4, 7, 10, 0),
        "client_name": "SIA Ozols",
        "client_contact": "birojs@example.org",
        "subject": "Par konta slēgšanu",
    }
    return WrittenMatter(**{**fields, **changes})


def register(handler: User, matter: WrittenMatter | None = None, now: datetime | None = None) -> Interaction:
    interaction, _created = letter_register_with_scan(
        matter=matter or letter(), scan=None, by=handler, now=now or riga(2026, 4, 7, 11, 0)
    )
    clock_sync()  # what the ledger's after-commit announcement does outside a test's transaction
    return interaction


def clock(interaction: Interaction, rule_id: str) -> Clock:
    clock_sync()
    return interaction.clocks.filter(rule_id=rule_id).latest("opened_by_seq")


def test_a_paper_letter_registered_with_its_scan_gets_the_submission_clock(
    handler: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    client = APIClient()
    client.force_authenticate(handler)
    with (
        time_machine.travel(riga(2026, 4, 7, 11, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            "/api/letters/",
            {
                "channel": "post",
                "registration_number": "3.1-7/101",
                "arrived_at": "2026-04-07T10:00:00+03:00",
                "client_name": "SIA Ozols",
                "service": "accounts",
                "scan": SimpleUploadedFile("iesniegums.pdf", SCAN, content_type="application/pdf"),
            },
            format="multipart",
        )
    assert response.status_code == 201, response.content
    with time_machine.travel(riga(2026, 4, 7, 11, 0), tick=False):
        body = client.get(f"/api/interactions/{response.json()['id']}/").json()
    assert (body["channel"], body["service"]) == ("post", "accounts")
    assert body["rules"] == {"SUBM-ANS": "pending"}
    assert [d["due_at"] for d in body["deadlines"]] == ["2026-04-21T17:15:00+03:00"]  # 10 working days
    scan = Scan.objects.get()
    assert body["events"][0]["payload"]["scan"]["sha256"] == scan.sha256

    download = client.get(f"/api/interactions/{body['id']}/scans/{scan.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == SCAN
    assert download["X-Content-Type-Options"] == "nosniff"


def test_the_same_registration_number_twice_returns_the_first_matter(handler: User) -> None:
    first, created = letter_register_with_scan(
        matter=letter(), scan=None, by=handler, now=riga(2026, 4, 7, 11)
    )
    again, created_again = letter_register_with_scan(
        matter=letter(), scan=None, by=handler, now=riga(2026, 4, 7, 12)
    )

    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    assert Interaction.objects.count() == 1


def test_another_document_under_a_taken_number_is_refused(handler: User) -> None:
    register(handler)
    with pytest.raises(DomainError) as taken:
        register(handler, letter(client_name="Cits klients"))
    assert (taken.value.code, taken.value.status) == ("registration_number_taken", 409)


def test_a_letter_dated_in_the_future_is_refused_and_nothing_is_written(
    handler: User, settings: Settings
) -> None:
    with pytest.raises(DomainError) as future:
        letter_register_with_scan(
            matter=letter(arrived_at=riga(2026, 4, 8, 9, 0)),
            scan=SimpleUploadedFile("iesniegums.pdf", SCAN),
            by=handler,
            now=riga(2026, 4, 7, 11, 0),
        )
    assert future.value.code == "arrived_in_future"
    assert "2026-04-08 09:00" in future.value.message
    assert not Interaction.objects.exists()
    assert not Path(settings.CC_SCANS_DIR).exists()  # the scan of a refused letter is not kept


def test_an_oversized_scan_is_refused_before_anything_is_stored(handler: User, settings: Settings) -> None:
    settings.CC_SCAN_MAX_BYTES = 1000
    with pytest.raises(DomainError, match="larger than"):
        letter_register_with_scan(
            matter=letter(),
            scan=SimpleUploadedFile("big.pdf", SCAN),
            by=handler,
            now=riga(2026, 4, 7, 11),
        )
    assert not Interaction.objects.exists()
    assert not Path(settings.CC_SCANS_DIR).exists()


def test_an_e_address_message_opens_on_its_own_channel(handler: User) -> None:
    matter = register(handler, letter(channel=Channel.E_ADDRESS, registration_number="EA-2026-55"))
    assert matter.channel == Channel.E_ADDRESS
    assert clock(matter, "SUBM-ANS").state == ClockState.PENDING


def test_only_post_and_e_address_are_registered_by_hand(handler: User) -> None:
    with pytest.raises(DomainError) as refused:
        register(handler, letter(channel=Channel.EMAIL))
    assert refused.value.code == "channel_not_registrable"


def test_the_channel_policy_in_the_database_decides_the_clocks(handler: User) -> None:
    from sla.models import ChannelPolicy

    ChannelPolicy.objects.filter(channel=Channel.POST).update(rule_ids=["SUBM-ANS", "COMPLAINT"])
    Policy.objects.filter(rule_id="SUBM-ANS").update(amount=15)
    matter = register(handler)

    assert set(matter.clocks.values_list("rule_id", flat=True)) == {"SUBM-ANS", "COMPLAINT"}
    assert clock(matter, "SUBM-ANS").due_at == riga(2026, 4, 28, 17, 15)  # 15 working days


def test_an_answer_by_post_meets_the_submission_clock(handler: User) -> None:
    matter = register(handler)
    matter_answer(interaction=matter, how="post", by=handler, now=riga(2026, 4, 20, 12, 0))
    assert clock(matter, "SUBM-ANS").state == ClockState.MET


def test_forwarding_within_five_working_days_meets_subm_fwd_and_stops_the_answer_clock(handler: User) -> None:
    matter = register(handler)
    matter_forward(
        interaction=matter,
        institution="Valsts ieņēmumu dienests",
        told_by="post",
        by=handler,
        now=riga(2026, 4, 14, 10, 0),
    )
    forwarding = clock(matter, "SUBM-FWD")
    assert (forwarding.state, forwarding.started_at) == (ClockState.MET, riga(2026, 4, 7, 10, 0))
    assert forwarding.due_at == riga(2026, 4, 14, 17, 15)
    answer = clock(matter, "SUBM-ANS")
    assert (answer.state, answer.stop_reason) == (ClockState.STOPPED, "forwarded")


def test_forwarding_late_breaches_subm_fwd(handler: User) -> None:
    matter = register(handler)
    matter_forward(
        interaction=matter, institution="VID", told_by="phone", by=handler, now=riga(2026, 4, 15, 9, 0)
    )
    assert clock(matter, "SUBM-FWD").state == ClockState.BREACHED
    assert matter.breaches.get().rule_id == "SUBM-FWD"


def test_forwarding_by_email_queues_the_clients_notice_latvian_first(handler: User) -> None:
    matter = register(handler)
    matter_forward(
        interaction=matter, institution="VID", told_by="email", by=handler, now=riga(2026, 4, 8, 9, 0)
    )
    notice = OutboundMail.objects.get(interaction=matter, kind=OutboundKind.NOTIFICATION)
    assert notice.to_address == "birojs@example.org"
    assert notice.body.index("pārsūtījām: VID") < notice.body.index("forwarded it to: VID")


def test_the_client_must_be_told_and_by_a_way_that_reaches_them(handler: User) -> None:
    matter = register(handler, letter(client_contact="+37129000000"))
    with pytest.raises(DomainError) as no_address:
        matter_forward(
            interaction=matter, institution="VID", told_by="email", by=handler, now=riga(2026, 4, 8)
        )
    assert no_address.value.code == "client_email_missing"
    assert not matter.events.filter(kind="forwarded").exists()


def test_a_portal_question_forwarded_next_day_meets_portal_fwd(handler: User) -> None:
    question = interaction_record_email(
        message_id="<q1@latvija.lv>",
        received_at=riga(2026, 4, 7, 10, 0),
        sender="info@latvija.lv",
        subject="Portāla jautājums",
        channel=Channel.PORTAL,
        intake_rule="portal rule 1: latvija.lv",
    )
    clock_sync()
    matter_forward(
        interaction=question, institution="VID", told_by="phone", by=handler, now=riga(2026, 4, 8, 9)
    )

    assert clock(question, "PORTAL-FWD").state == ClockState.MET
    assert clock(question, "PORTAL-ANS").stop_reason == "forwarded"


def test_an_extension_moves_the_answer_to_the_date_given_within_a_month(handler: User) -> None:
    matter = register(handler)
    submission_extend(
        interaction=matter,
        until=date(2026, 5, 6),
        reason="Jāsaņem informācija no VID",
        told_by="post",
        by=handler,
        now=riga(2026, 4, 15, 10, 0),
    )
    clock_sync()
    first, extended = matter.clocks.filter(rule_id="SUBM-ANS").order_by("opened_by_seq")
    assert (first.state, first.stop_reason) == (ClockState.STOPPED, "extended")
    assert (extended.state, extended.due_at) == (ClockState.PENDING, riga(2026, 5, 6, 17, 15))
    assert extended.detail == {"extended_until": "2026-05-06"}


@pytest.mark.parametrize("until", [date(2026, 5, 8), date(2026, 4, 15)])
def test_an_extension_past_the_policys_month_or_not_in_the_future_is_refused(
    handler: User, until: date
) -> None:
    matter = register(handler)
    with pytest.raises(DomainError) as refused:
        submission_extend(
            interaction=matter,
            until=until,
            reason="Vajag laiku",
            told_by="post",
            by=handler,
            now=riga(2026, 4, 15),
        )
    assert refused.value.code == "extension_out_of_range"
    assert "2026-05-07" in refused.value.message  # a month from 7 April


def test_the_extension_notice_is_the_admins_template_signed_by_the_handler(handler: User) -> None:
    matter = register(handler)
    template = MailTemplate.objects.get(code="extended-notice")
    template.body = template.body.replace("Labdien!", "Labdien, {{ client_name }}!")
    template.save()

    submission_extend(
        interaction=matter,
        until=date(2026, 5, 6),
        reason="Jāsaņem informācija no VID",
        told_by="email",
        by=handler,
        now=riga(2026, 4, 15, 10, 0),
    )

    notice = OutboundMail.objects.get(interaction=matter, kind=OutboundKind.NOTIFICATION)
    assert notice.to_address == "birojs@example.org"
    assert notice.subject == f"Atbildes termiņš pagarināts / Answer time extended [{matter.reference}]"
    assert notice.body.startswith("Labdien, SIA Ozols!")
    lv, en = notice.body.index("atbildi sniegsim līdz 06.05.2026"), notice.body.index("by 2026-05-06")
    assert lv < en
    assert "„Par konta slēgšanu”" in notice.body
    assert notice.body.count(handler.person.position) == 2  # EM-SIGN: signed in both languages
    assert "Jāsaņem informācija no VID" not in notice.body  # the reason is for the file, not the client


def test_without_an_active_notice_template_the_decision_is_refused_and_not_recorded(handler: User) -> None:
    matter = register(handler)
    MailTemplate.objects.filter(kind=TemplateKind.FORWARDED).update(active=False)
    with pytest.raises(DomainError) as refused:
        matter_forward(
            interaction=matter, institution="VID", told_by="email", by=handler, now=riga(2026, 4, 8, 9, 0)
        )
    assert refused.value.code == "template_missing"
    assert not matter.events.filter(kind="forwarded").exists()
    assert not OutboundMail.objects.filter(interaction=matter).exists()


def test_an_extension_after_the_due_time_does_not_undo_the_breach(handler: User) -> None:
    matter = register(handler)
    clock_breach_overdue(now=riga(2026, 4, 22, 9, 0))
    submission_extend(
        interaction=matter,
        until=date(2026, 5, 6),
        reason="Par vēlu",
        told_by="post",
        by=handler,
        now=riga(2026, 4, 22, 9),
    )
    clock_sync()
    first, extended = matter.clocks.filter(rule_id="SUBM-ANS").order_by("opened_by_seq")
    assert first.state == ClockState.BREACHED
    assert extended.state == ClockState.PENDING


def test_a_plain_email_cannot_be_extended(handler: User) -> None:
    email = interaction_record_email(
        message_id="<e1@example.org>", received_at=riga(2026, 4, 7, 10), sender="k@example.org", subject="?"
    )
    clock_sync()
    with pytest.raises(DomainError) as refused:
        submission_extend(
            interaction=email,
            until=date(2026, 4, 20),
            reason="Vajag laiku",
            told_by="email",
            by=handler,
            now=riga(2026, 4, 8),
        )
    assert refused.value.code == "not_a_submission"
