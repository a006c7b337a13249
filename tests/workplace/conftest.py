"""A small office for the page tests: one unit, one person per role, a few matters of each kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings

from agents.models import Person, Role, Unit
from contact_centre.models import EventKind, Interaction
from contact_centre.services import call_record_outcome, interaction_record_call, interaction_record_email
from recordings.models import Recording
from recordings.services import recording_store
from sla.sync import clock_sync
from tests.factories import PersonFactory, UserFactory, riga
from tests.recordings.wavs import tone, wav_write

ROLE_USERS = {
    Role.PHONE_AGENT: "anna",
    Role.EMAIL_HANDLER: "janis",
    Role.TEAM_LEAD: "ilze",
    Role.QUALITY_OFFICER: "peteris",
}


@dataclass
class Office:
    unit: Unit
    people: dict[str, Person]
    admin: User
    email: Interaction
    call: Interaction
    recording: Recording

    def user(self, role: str) -> User:
        return self.people[role].user


@pytest.fixture
def office(settings: Settings, tmp_path: Path) -> Office:
    settings.CC_RECORDINGS_DIR = tmp_path / "recordings"
    unit = Unit.objects.create(code="kac", name="Klientu apkalpošanas centrs")
    people = {
        role: PersonFactory(user__username=name, user__roles=[role], unit=unit, extension=str(100 + n))
        for n, (role, name) in enumerate(ROLE_USERS.items())
    }
    unit.leads.add(people[Role.TEAM_LEAD])
    email = interaction_record_email(
        message_id="<q1@client.lv>",
        received_at=riga(2026, 4, 7, 10),
        sender="klients@example.org",
        subject="Konta izraksts",
    )
    Interaction.objects.filter(pk=email.pk).update(owner=people[Role.EMAIL_HANDLER], unit=unit)
    call = interaction_record_call(
        sip_call_id="call-1", arrived_at=riga(2026, 4, 7, 10, 5), caller="+37120000001", in_office_hours=True
    )
    call_record_outcome(
        sip_call_id="call-1",
        kind=EventKind.CALL_ANSWERED,
        occurred_at=riga(2026, 4, 7, 10, 5, 6),
        wait_ms=6000,
        agent=people[Role.PHONE_AGENT],
    )
    clock_sync()
    wav = wav_write(tmp_path / "spool" / "call-1.wav", tone(440, 12.0))
    recording = recording_store(
        sip_call_id="call-1",
        wav_path=wav,
        started_at=riga(2026, 4, 7, 10, 5, 6) + timedelta(seconds=1),
        agent=people[Role.PHONE_AGENT],
    )
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    email.refresh_from_db()
    return Office(unit, people, admin, email, call, recording)
