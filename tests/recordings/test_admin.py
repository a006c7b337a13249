"""The admin lists recordings and changes nothing: they are written by `recording_store` only."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from contact_centre.services import interaction_record_call
from recordings.services import recording_store
from tests.factories import UserFactory, riga
from tests.recordings.wavs import tone, wav_write

pytestmark = pytest.mark.django_db


def test_recordings_are_listed_and_cannot_be_added_changed_or_deleted(
    settings: Settings, tmp_path: Path
) -> None:
    settings.CC_RECORDINGS_DIR = tmp_path / "store"
    interaction = interaction_record_call(
        sip_call_id="adm-1@line", arrived_at=riga(2026, 4, 7, 10), caller="+37120000000", in_office_hours=True
    )
    recording = recording_store(
        sip_call_id="adm-1@line",
        wav_path=wav_write(tmp_path / "c.wav", tone(440, 1.0)),
        started_at=riga(2026, 4, 7, 10, 0, 5),
    )
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    listing = client.get("/admin/recordings/recording/")
    assert listing.status_code == 200
    assert str(interaction.reference) in listing.content.decode()
    assert client.get("/admin/recordings/recording/add/").status_code == 403
    assert client.get(f"/admin/recordings/recording/{recording.pk}/delete/").status_code == 403
    page = client.get(f"/admin/recordings/recording/{recording.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # view only
    before = recording.path
    client.post(f"/admin/recordings/recording/{recording.pk}/change/", {"path": "elsewhere.flac"})
    recording.refresh_from_db()
    assert recording.path == before
