"""`manage.py simulate` against real peers: Kamailio and two real call handlers (tests/telephony's
fixtures, the handlers' clock on a Monday morning), Dovecot with the product's mailbox and the mail
watcher reading it. The simulation's SIPp callers, phones and e-mails must leave real rows in the ledger."""

from __future__ import annotations

import os
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import Settings

from agents.models import AgentState, AgentStatus, Person
from contact_centre.models import Channel, EventKind, Interaction
from mail.models import QuarantinedMessage, StoredMessage
from recordings.models import Recording
from sla.models import Clock
from sla.sync import clock_sync
from tests.factories import riga
from tests.mail import conftest as mail_fixtures
from tests.mail.test_watcher import wait_until, watching
from tests.mailpeers import DovecotServer
from tests.peers import RedisServer
from tests.sipkit import DOMAIN, LINE_NUMBER, free_udp_port
from tests.telephony import conftest as line_fixtures
from tests.telephony.conftest import FrontDoor, Line

pytestmark = [pytest.mark.peers, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# The line's fixtures and the mail tests' mailbox, used here as they are.
front_door = line_fixtures.front_door
line = line_fixtures.line
product_mailbox = mail_fixtures.product_mailbox

MONDAY_10 = riga(2026, 11, 23, 10, 0)


@pytest.fixture
def demo(settings: Settings, front_door: FrontDoor, tmp_path: Path) -> None:
    """seed_demo's people, and the product's line settings pointed at the test front door."""
    settings.DEBUG = True  # seed_demo and simulate refuse otherwise
    settings.CC_SIP_BIND = front_door.kamailio.address
    settings.CC_SIP_DOMAIN, settings.CC_SIP_LINE_NUMBER = DOMAIN, LINE_NUMBER
    settings.CC_SIP_STATE_DIR = tmp_path / "state"  # no managed Kamailio's control socket here
    call_command("seed_demo", stdout=StringIO())


def _sipp_children() -> list[int]:
    """SIPp processes that are children of this test process."""
    children = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        children += [int(pid) for pid in (task / "children").read_text().split()]
    return [pid for pid in children if Path(f"/proc/{pid}/comm").read_text().strip() == "sipp"]


def test_a_short_run_puts_answered_recorded_calls_and_every_kind_of_email_into_the_ledger(
    demo: None, line: Line, dovecot: DovecotServer, product_mailbox: str, redis_server: RedisServer
) -> None:
    line.start(MONDAY_10, index=0)
    line.start(MONDAY_10, index=1)
    out = StringIO()
    with watching(redis_server):
        call_command(
            "simulate",
            *("--calls-per-minute", "16", "--emails-per-minute", "60", "--minutes", "0.35"),
            # --drain 0: the calls still going at the end are hung up by the simulation (BYE or CANCEL).
            *("--agents", "2", "--answer-after", "1-3", "--talk", "2-4", "--drain", "0", "--seed", "3"),
            *("--lmtp", f"{dovecot.host}:{dovecot.lmtp_port}"),
            stdout=out,
        )
        summary = re.search(r"e-mails delivered (\d+) \(LMTP", out.getvalue())
        assert summary is not None, out.getvalue()
        delivered = int(summary[1])
        recorded = lambda: StoredMessage.objects.count() + QuarantinedMessage.objects.count()  # noqa: E731
        wait_until(lambda: recorded() >= delivered, timeout=20, what="every delivered e-mail recorded")

    output = out.getvalue()
    assert delivered >= 13, output  # the tour: every kind once
    assert recorded() == delivered, output  # none lost, none twice
    assert Interaction.objects.filter(channel=Channel.PHONE).exists(), output
    assert Interaction.objects.filter(channel=Channel.EMAIL).exists(), output
    assert Interaction.objects.filter(channel=Channel.PORTAL, intake_rule__contains="Latvija.lv").exists(), (
        output
    )
    clock_sync()  # the watcher leaves clocks to the worker, which this test does not run
    assert Clock.objects.filter(rule_id="SUBM-ANS").exists(), output  # the .edoc made a formal submission
    recording = Recording.objects.select_related("interaction").first()
    assert recording is not None, output
    assert recording.interaction.events.filter(kind=EventKind.CALL_ANSWERED).exists()
    assert recording.loud_fraction > 0.3  # speech (or tones) from both parties, not silence
    auto_replies = StoredMessage.objects.filter(automatic_reason="auto-submitted:auto-replied")
    assert auto_replies.exists(), output
    for auto_reply in auto_replies.select_related("interaction"):
        assert auto_reply.interaction.events.filter(kind=EventKind.EMAIL_AUTOMATIC_RECEIVED).exists()
    # Quarantined: the messages without a sender, and nothing else (the other odd ones are stored).
    reasons = set(QuarantinedMessage.objects.values_list("reason", flat=True))
    assert reasons == {"unparseable: no sender: neither From nor Sender holds an e-mail address"}
    hostile = StoredMessage.objects.filter(subject="Steidzami: jūsu konts tiks bloķēts")
    assert hostile.exists(), output
    assert not any("<script" in html.lower() for html in hostile.values_list("html", flat=True))
    assert StoredMessage.objects.filter(subject__startswith="Jautājums par kontu Jautājums").exists()
    # Everything is put back: no SIPp left, the agents offline again and in no call.
    assert _sipp_children() == []
    statuses = AgentStatus.objects.filter(person__in=Person.objects.filter(extension__in=["101", "104"]))
    assert sorted(statuses.values_list("state", flat=True)) == [AgentState.OFFLINE, AgentState.OFFLINE]
    wait_until(lambda: not AgentStatus.objects.exclude(in_call="").exists(), timeout=10, what="agents freed")


def test_it_refuses_naming_the_start_command_when_the_line_is_not_running(
    demo: None, settings: Settings
) -> None:
    settings.CC_SIP_BIND = f"127.0.0.1:{free_udp_port()}"  # nothing listens there

    with pytest.raises(CommandError, match=r"Nothing answers SIP on .*scripts/start"):
        call_command("simulate", "--minutes", "0.1", "--emails-per-minute", "0", stdout=StringIO())


def test_it_refuses_when_the_mailbox_is_not_reachable(demo: None, settings: Settings) -> None:
    settings.CC_IMAP_HOST, settings.CC_IMAP_PORT = "127.0.0.1", free_udp_port()  # no IMAP server there
    settings.CC_IMAP_USER, settings.CC_IMAP_PASSWORD = "ekase@kase.gov.lv", "x"

    with pytest.raises(CommandError, match=r"mailbox .* not reachable.*scripts/start"):
        call_command("simulate", "--calls-per-minute", "0", stdout=StringIO())


def test_the_dry_run_prints_the_same_plan_for_the_same_seed_and_changes_nothing(demo: None) -> None:
    people = Person.objects.count()

    def plan() -> str:
        out = StringIO()
        call_command("simulate", "--dry-run", "--minutes", "2", "--seed", "11", "--agents", "3", stdout=out)
        return out.getvalue()

    first = plan()
    assert first == plan()
    assert "Anna Bērziņa (101)" in first
    assert "Laura Kļaviņa (new)" in first
    assert "e-mail #2: question through the portal (latvija.lv)" in first
    assert "e-mail #5: out-of-office auto-reply (RFC 3834)" in first
    assert Person.objects.count() == people
