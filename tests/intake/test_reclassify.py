"""A team lead moves a matter to another channel or service, or sets it aside as not a client's: clocks are
recomputed, breaches that no longer apply are withdrawn, the ledger keeps before and after, and MK399
counts every channel (and no spam)."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import User

from agents.errors import DomainError
from agents.models import Role
from contact_centre.channel_services import Reclassification, WrittenMatter
from contact_centre.models import Channel, EventKind, Interaction, Service
from contact_centre.services import (
    email_outbound_record,
    interaction_record_call,
    interaction_record_email,
)
from intake.services import VisitRequest, letter_register_with_scan, matter_reclassify, visit_book
from sla.counts import counts_compile, mk399_report
from sla.models import Breach, ClockState
from sla.sync import clock_breach_overdue, clock_sync
from tests.factories import PersonFactory, riga

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead() -> User:
    return PersonFactory(user__username="ilze", user__roles=[Role.TEAM_LEAD]).user


def email(message_id: str = "<r1@example.org>", day: int = 7) -> Interaction:
    matter = interaction_record_email(
        message_id=message_id, received_at=riga(2026, 4, day, 10, 0), sender="k@example.org", subject="?"
    )
    clock_sync()
    return matter


def reclassify(matter: Interaction, lead: User, day: int = 8, **change: object) -> None:
    matter_reclassify(
        interaction=matter,
        change=Reclassification(comment="Pārbaudīts", **change),
        by=lead,
        now=riga(2026, 4, day, 12, 0),
    )
    clock_sync()


def states(matter: Interaction) -> dict[str, tuple[str, str]]:
    return {c.rule_id: (c.state, c.stop_reason) for c in matter.clocks.order_by("opened_by_seq")}


def test_an_email_that_is_a_portal_question_gets_the_portal_clock_from_its_arrival(lead: User) -> None:
    matter = email()
    reclassify(matter, lead, channel=Channel.PORTAL)

    assert states(matter) == {
        "EM-ACK": (ClockState.STOPPED, "reclassified"),
        "EM-REPLY": (ClockState.STOPPED, "reclassified"),
        "PORTAL-ANS": (ClockState.PENDING, ""),
    }
    portal = matter.clocks.get(rule_id="PORTAL-ANS")
    assert portal.started_at == riga(2026, 4, 7, 10, 0)
    assert portal.due_at == riga(2026, 4, 15, 17, 15)  # 6 working days from Tuesday 7 April
    event = matter.events.get(kind=EventKind.RECLASSIFIED)
    assert event.actor == lead
    assert event.payload["before"]["channel"] == "email"
    assert event.payload["after"]["channel"] == "portal"
    assert event.payload["comment"] == "Pārbaudīts"


def test_an_answer_already_given_decides_the_new_clock(lead: User) -> None:
    matter = email()
    email_outbound_record(
        interaction=matter,
        kind=EventKind.EMAIL_REPLIED,
        message_id="<answer@kase.gov.lv>",
        sent_at=riga(2026, 4, 9, 11, 0),
    )
    clock_sync()
    reclassify(matter, lead, day=10, channel=Channel.PORTAL)

    portal = matter.clocks.get(rule_id="PORTAL-ANS")
    assert (portal.state, portal.met_at) == (ClockState.MET, riga(2026, 4, 9, 11, 0))
    assert matter.clocks.get(rule_id="EM-REPLY").state == ClockState.MET  # met stays met


def test_spam_voids_every_clock_and_withdraws_its_breaches(lead: User) -> None:
    matter = email()
    clock_breach_overdue(now=riga(2026, 4, 10, 9, 0))
    assert Breach.objects.filter(interaction=matter, withdrawn_at__isnull=True).count() == 2

    reclassify(matter, lead, day=10, not_client_matter="spam")

    assert states(matter) == {
        "EM-ACK": (ClockState.STOPPED, "not_client_matter"),
        "EM-REPLY": (ClockState.STOPPED, "not_client_matter"),
    }
    assert not Breach.objects.filter(interaction=matter, withdrawn_at__isnull=True).exists()
    assert matter.events.filter(kind=EventKind.SLA_BREACH_WITHDRAWN).count() == 2
    matter.refresh_from_db()
    assert not matter.is_client_matter()


def test_a_new_message_on_a_spam_matter_opens_no_clock(lead: User) -> None:
    matter = email()
    reclassify(matter, lead, not_client_matter="spam")
    interaction_record_email(
        message_id="<r2@example.org>",
        received_at=riga(2026, 4, 9, 10, 0),
        sender="k@example.org",
        subject="Re: ?",
        in_reply_to="<r1@example.org>",
    )
    clock_sync()
    assert not matter.clocks.filter(state=ClockState.PENDING).exists()


def test_made_a_client_matter_again_it_counts_from_its_arrival(lead: User) -> None:
    matter = email()
    reclassify(matter, lead, not_client_matter="misdirected")
    reclassify(matter, lead, day=9, not_client_matter="")

    pending = matter.clocks.filter(state=ClockState.PENDING)
    assert sorted(pending.values_list("rule_id", flat=True)) == ["EM-ACK", "EM-REPLY"]
    assert {c.started_at for c in pending} == {riga(2026, 4, 7, 10, 0)}


def test_a_change_of_service_keeps_the_clocks_and_is_audited(lead: User) -> None:
    matter = email()
    reclassify(matter, lead, service=Service.objects.get(code="payments"))

    matter.refresh_from_db()
    assert matter.service.code == "payments"
    assert states(matter) == {"EM-ACK": ("pending", ""), "EM-REPLY": ("pending", "")}
    event = matter.events.get(kind=EventKind.RECLASSIFIED)
    assert event.payload["after"]["service_id"] == matter.service_id


def test_a_reclassification_that_changes_nothing_or_gives_no_reason_is_refused(lead: User) -> None:
    matter = email()
    with pytest.raises(DomainError) as same:
        reclassify(matter, lead, channel=Channel.EMAIL)
    with pytest.raises(DomainError) as silent:
        matter_reclassify(
            interaction=matter,
            change=Reclassification(channel=Channel.PORTAL, comment=" "),
            by=lead,
            now=riga(2026, 4, 8),
        )
    assert (same.value.code, silent.value.code) == ("nothing_changed", "comment_required")
    assert not matter.events.filter(kind=EventKind.RECLASSIFIED).exists()


def test_mk399_counts_every_channel_for_a_year_and_leaves_spam_out(lead: User) -> None:
    accounts = Service.objects.get(code="accounts")
    agent = PersonFactory(user__username="anna", user__roles=[Role.PHONE_AGENT]).user
    call = interaction_record_call(
        sip_call_id="mk-call", arrived_at=riga(2026, 3, 2, 10), caller="+37120000000", in_office_hours=True
    )
    mail = email("<mk-mail@example.org>", day=8)
    portal = interaction_record_email(
        message_id="<mk-portal@latvija.lv>",
        received_at=riga(2026, 5, 5, 10),
        sender="info@latvija.lv",
        subject="Portāla jautājums",
        channel=Channel.PORTAL,
    )
    post, _ = letter_register_with_scan(
        matter=WrittenMatter(Channel.POST, "P-1", riga(2026, 6, 1, 9), "SIA Ozols", service=accounts),
        scan=None,
        by=lead,
        now=riga(2026, 6, 1, 12),
    )
    e_address, _ = letter_register_with_scan(
        matter=WrittenMatter(Channel.E_ADDRESS, "EA-1", riga(2026, 7, 1, 9), "SIA Liepa", service=accounts),
        scan=None,
        by=lead,
        now=riga(2026, 7, 1, 12),
    )
    visit = visit_book(
        request=VisitRequest(riga(2026, 9, 3, 10), "Jānis", "Nav eParaksta", accounts.pk),
        by=agent,
        now=riga(2026, 9, 1, 10),
    )
    spam = email("<mk-spam@example.org>", day=9)
    for matter in (call, mail, portal, spam):
        Interaction.objects.filter(pk=matter.pk).update(service=accounts)
    reclassify(spam, lead, day=10, not_client_matter="spam")
    reclassify(mail, lead, day=10, channel=Channel.PORTAL)
    clock_sync()

    counts_compile(date(2026, 1, 1), date(2026, 12, 31))
    row = next(r for r in mk399_report(2026) if r.service_code == "accounts")

    assert row.cases == 6
    assert row.by_channel == {
        "phone": 1,
        "email": 0,
        "portal": 2,
        "visit": 1,
        "post": 1,
        "e_address": 1,
    }
    assert {visit.interaction.channel, post.channel, e_address.channel} == {"visit", "post", "e_address"}
