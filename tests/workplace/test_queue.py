"""The e-mail queue's rows: the open matters in scope, one row each (its clock falling due first), the
matter falling due first on top; `mine_only` keeps the handler's own."""

from __future__ import annotations

import pytest

from agents.models import Role, Unit
from contact_centre.models import Interaction, InteractionState
from contact_centre.services import interaction_record_email
from sla.selectors import interaction_scope
from sla.sync import clock_sync
from tests.factories import PersonFactory, riga
from tests.workplace.conftest import Office
from workplace.mailq import queue_rows

pytestmark = pytest.mark.django_db

NOW = riga(2026, 4, 9, 11)


def _email(n: int, day: int, hour: int) -> Interaction:
    return interaction_record_email(
        message_id=f"<queue-{n}@client.lv>",
        received_at=riga(2026, 4, day, hour),
        sender=f"klients{n}@example.org",
        subject=f"Jautājums {n}",
    )


def test_each_open_matter_once_by_its_first_due_clock_the_earliest_first(office: Office) -> None:
    handler = office.people[Role.EMAIL_HANDLER]  # owns office.email, received on 7 April
    newer, older, closed, elsewhere = _email(1, 8, 10), _email(2, 2, 9), _email(3, 2, 8), _email(4, 1, 9)
    clock_sync()
    Interaction.objects.filter(pk__in=[newer.pk, older.pk, closed.pk]).update(unit=office.unit)
    Interaction.objects.filter(pk=closed.pk).update(state=InteractionState.CLOSED)
    other = Unit.objects.create(code="cits", name="Cita nodaļa")
    Interaction.objects.filter(pk=elsewhere.pk).update(unit=other, owner=PersonFactory(unit=other))
    Interaction.objects.filter(pk=older.pk).update(owner=handler)

    rows = queue_rows(scope=interaction_scope(handler.user), now=NOW)

    assert [row.interaction.pk for row in rows] == [older.pk, office.email.pk, newer.pk]
    for row in rows:  # the clock falling due first: the acknowledgement's, before the reply's
        assert (row.clock.interaction_id, row.clock.rule_id) == (row.interaction.pk, "EM-ACK")
    assert rows[0].working_left < 0 < rows[2].working_left  # older is overdue, newer not yet
    mine = queue_rows(scope=interaction_scope(handler.user), now=NOW, mine_only=handler)
    assert [row.interaction.pk for row in mine] == [older.pk, office.email.pk]
    everyone = queue_rows(scope=None, now=NOW)  # a staff admin's: every open matter
    assert [row.interaction.pk for row in everyone] == [elsewhere.pk, older.pk, office.email.pk, newer.pk]
