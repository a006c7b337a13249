"""The beat entry's task run by a real Celery worker over a real Redis broker."""

from __future__ import annotations

import time

import pytest
import time_machine

from contact_centre.services import interaction_record_email
from sla.models import Breach
from sla.tasks import sla_sweep
from tests.factories import riga

pytestmark = [pytest.mark.peers, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_sweep_task_breaches_an_overdue_clock_through_a_real_worker(celery_worker: None) -> None:
    interaction = interaction_record_email(
        message_id="<w@client.lv>", received_at=riga(2026, 4, 7, 10), sender="k@example.lv", subject="?"
    )
    with time_machine.travel(riga(2026, 4, 8, 17, 30), tick=True):
        sla_sweep.delay()
        deadline = time.monotonic() + 15
        while not Breach.objects.filter(interaction=interaction).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    assert list(Breach.objects.filter(interaction=interaction).values_list("rule_id", flat=True)) == [
        "EM-ACK"
    ]


def test_a_bulk_writer_leaves_the_clocks_to_the_worker_which_opens_them(celery_worker: None) -> None:
    from sla.models import Clock
    from sla.receivers import clocks_follow_ledger_here, clocks_follow_ledger_in_background

    clocks_follow_ledger_in_background()
    try:
        interaction = interaction_record_email(
            message_id="<bulk@client.lv>",
            received_at=riga(2026, 4, 7, 10),
            sender="k@example.lv",
            subject="?",
        )
        deadline = time.monotonic() + 15
        while Clock.objects.filter(interaction=interaction).count() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        clocks_follow_ledger_here()
    assert sorted(Clock.objects.filter(interaction=interaction).values_list("rule_id", flat=True)) == [
        "EM-ACK",
        "EM-REPLY",
    ]
