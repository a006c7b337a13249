"""Replaying recordings (DATA, PH-REC): entitled roles only, a reason logged before any byte, the audio
served with HTTP Range, legal holds, and the nightly retention run that logs what it deleted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
import time_machine
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from agents.models import Person, Role
from contact_centre.models import EventKind
from contact_centre.services import call_record_outcome, interaction_record_call
from recordings.governance import PEAKS_SUFFIX, recording_peaks, recordings_purge
from recordings.models import AuditAction, Recording, RecordingAudit
from recordings.services import recording_store
from recordings.tasks import recordings_purge_task
from sla.sync import clock_sync
from tests.factories import PersonFactory, UserFactory, riga
from tests.recordings.wavs import tone, wav_write

pytestmark = pytest.mark.django_db

CALLED_AT = riga(2026, 4, 7, 10, 0)


@pytest.fixture
def store(settings: Settings, tmp_path: Path) -> Path:
    settings.CC_RECORDINGS_DIR = tmp_path / "store"
    settings.CC_RECORDINGS_RETENTION_DAYS = 90
    return settings.CC_RECORDINGS_DIR


def _recorded_call(tmp_path: Path, call_id: str, *, wait_ms: int, seconds: float = 20.0) -> Recording:
    interaction_record_call(
        sip_call_id=call_id, arrived_at=CALLED_AT, caller="+37120000000", in_office_hours=True
    )
    call_record_outcome(
        sip_call_id=call_id,
        kind=EventKind.CALL_ANSWERED,
        occurred_at=CALLED_AT + timedelta(milliseconds=wait_ms),
        wait_ms=wait_ms,
    )
    clock_sync()
    wav = wav_write(tmp_path / "spool" / f"{call_id}.wav", tone(440, seconds))
    return recording_store(sip_call_id=call_id, wav_path=wav, started_at=CALLED_AT + timedelta(seconds=10))


@pytest.fixture
def recording(store: Path, tmp_path: Path) -> Recording:
    return _recorded_call(tmp_path, "call-1", wait_ms=4000)


def _as(role: str, username: str | None = None) -> tuple[APIClient, Person]:
    person = PersonFactory(user__username=username or role, user__roles=[role])
    client = APIClient()
    client.force_authenticate(person.user)
    return client, person


def _grant(
    client: APIClient, recording: Recording, reason: str = "Sūdzības izskatīšana", **extra: object
) -> dict:
    response = client.post(
        f"/api/recordings/{recording.pk}/replays/", {"reason": reason, **extra}, format="json"
    )
    assert response.status_code == 201, response.content
    return dict(response.json())


def _body(response: object) -> bytes:
    return b"".join(response.streaming_content)


def test_a_quality_officer_gives_a_reason_then_plays_and_seeks_with_range_requests(
    recording: Recording,
) -> None:
    client, officer = _as(Role.QUALITY_OFFICER)
    grant = _grant(client, recording)
    whole = client.get(grant["audio_url"])
    first = client.get(grant["audio_url"], HTTP_RANGE="bytes=0-99")
    middle = client.get(grant["audio_url"], HTTP_RANGE="bytes=1000-")
    tail = client.get(grant["audio_url"], HTTP_RANGE="bytes=-50")

    stored = recording.file_path().read_bytes()
    assert (whole.status_code, whole["Content-Type"], _body(whole)) == (200, "audio/flac", stored)
    assert whole["Accept-Ranges"] == "bytes"
    assert (first.status_code, first["Content-Range"]) == (206, f"bytes 0-99/{len(stored)}")
    assert _body(first) == stored[:100]
    assert _body(middle) == stored[1000:]
    assert middle["Content-Length"] == str(len(stored) - 1000)
    assert _body(tail) == stored[-50:]
    audit = RecordingAudit.objects.get()
    assert (audit.action, audit.user, audit.reason) == (
        AuditAction.PLAY,
        officer.user,
        "Sūdzības izskatīšana",
    )
    assert (audit.requests, audit.bytes_served) == (4, len(stored) + 100 + (len(stored) - 1000) + 50)


def test_the_served_audio_is_the_call(recording: Recording, tmp_path: Path) -> None:
    client, _ = _as(Role.TEAM_LEAD)
    response = client.get(f"/api/recordings/{recording.pk}/audio", {"reason": "Kvalitātes pārbaude"})
    received = tmp_path / "received.flac"
    received.write_bytes(_body(response))
    samples, rate = sf.read(received, dtype="int16")
    assert rate == recording.sample_rate
    assert len(samples) == pytest.approx(20 * rate, abs=rate // 10)


def test_a_range_past_the_end_is_refused_and_a_malformed_one_gets_the_whole_file(
    recording: Recording,
) -> None:
    client, _ = _as(Role.QUALITY_OFFICER)
    url = _grant(client, recording)["audio_url"]
    past = client.get(url, HTTP_RANGE=f"bytes={recording.size_bytes}-")
    odd = client.get(url, HTTP_RANGE="bytes=5-2")
    several = client.get(url, HTTP_RANGE="bytes=0-1,5-9")
    assert (past.status_code, past["Content-Range"]) == (416, f"bytes */{recording.size_bytes}")
    assert (odd.status_code, several.status_code) == (200, 200)


@pytest.mark.parametrize("role", [Role.PHONE_AGENT, Role.EMAIL_HANDLER])
def test_other_roles_may_neither_list_nor_grant_nor_hear(recording: Recording, role: str) -> None:
    client, _ = _as(role)
    assert client.get("/api/recordings/").status_code == 403
    assert client.post(f"/api/recordings/{recording.pk}/replays/", {"reason": "ziņkārība"}).status_code == 403
    assert client.get(f"/api/recordings/{recording.pk}/audio", {"reason": "ziņkārība"}).status_code == 403
    assert not RecordingAudit.objects.exists()


def test_staff_admins_read_the_audit_log_but_hear_nothing(recording: Recording) -> None:
    officer_client, _ = _as(Role.QUALITY_OFFICER)
    _grant(officer_client, recording)
    admin = APIClient()
    admin.force_authenticate(UserFactory(username="admin", is_staff=True))
    assert admin.get(f"/api/recordings/{recording.pk}/audio", {"reason": "pārbaude"}).status_code == 403
    log = admin.get("/api/recordings/audit/").json()["results"]
    assert [(row["action"], row["username"]) for row in log] == [("play", "quality_officer")]
    assert "token" not in log[0]
    assert officer_client.get("/api/recordings/audit/").status_code == 403


def test_without_a_reason_or_with_someone_elses_or_an_expired_grant_no_byte_is_served(
    recording: Recording,
) -> None:
    officer, _ = _as(Role.QUALITY_OFFICER)
    lead, _ = _as(Role.TEAM_LEAD)
    no_reason = officer.get(f"/api/recordings/{recording.pk}/audio")
    short = officer.post(f"/api/recordings/{recording.pk}/replays/", {"reason": "x"}, format="json")
    with time_machine.travel(riga(2026, 5, 4, 9), tick=False):
        url = _grant(officer, recording)["audio_url"]
        borrowed = lead.get(url)
    with time_machine.travel(riga(2026, 5, 4, 11, 1), tick=False):
        expired = officer.get(url)
    assert (no_reason.status_code, no_reason.json()["error"]["code"]) == (400, "reason_required")
    assert short.status_code == 400
    assert (borrowed.status_code, borrowed.json()["error"]["code"]) == (403, "grant_invalid")
    assert expired.status_code == 403
    assert RecordingAudit.objects.get().requests == 0


def test_a_download_is_logged_as_one_and_named_for_the_matter(recording: Recording) -> None:
    client, _ = _as(Role.TEAM_LEAD)
    grant = _grant(client, recording, download=True)
    response = client.get(grant["audio_url"])
    assert response["Content-Disposition"] == f'attachment; filename="{recording.interaction.reference}.flac"'
    assert RecordingAudit.objects.get().action == AuditAction.DOWNLOAD


def test_recordings_are_listed_by_agent_date_ring_verdict_and_duration(store: Path, tmp_path: Path) -> None:
    on_time = _recorded_call(tmp_path, "on-time", wait_ms=4000, seconds=30)
    late = _recorded_call(tmp_path, "late", wait_ms=20_000, seconds=5)
    client, _ = _as(Role.QUALITY_OFFICER)

    def ids(**params: object) -> list[int]:
        response = client.get("/api/recordings/", params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert sorted(ids()) == sorted([on_time.pk, late.pk])
    assert ids(verdict="met") == [on_time.pk]
    assert ids(verdict="breached") == [late.pk]
    assert ids(min_seconds=10) == [on_time.pk]
    assert ids(max_seconds=10) == [late.pk]
    assert ids(since="2026-04-08") == []
    assert sorted(ids(since="2026-04-07", until="2026-04-07")) == sorted([on_time.pk, late.pk])
    assert client.get("/api/recordings/", {"verdict": "maybe"}).status_code == 400


def test_retention_deletes_old_audio_logs_it_keeps_held_ones_and_runs_once(
    store: Path, tmp_path: Path
) -> None:
    old = _recorded_call(tmp_path, "old", wait_ms=3000)
    held = _recorded_call(tmp_path, "held", wait_ms=3000)
    lead, _ = _as(Role.TEAM_LEAD)
    hold = lead.post(
        f"/api/recordings/{held.pk}/hold/", {"hold": True, "reason": "Tiesas pieprasījums"}, format="json"
    )
    assert (hold.status_code, hold.json()["legal_hold"]) == (200, True)

    assert recordings_purge(now=riga(2026, 7, 5, 3)) == 0  # 89 days: kept
    with time_machine.travel(riga(2026, 7, 7, 2, 30), tick=False):
        assert recordings_purge_task() == 1  # the nightly task, after 90 days
        assert recordings_purge_task() == 0  # again: nothing twice

    old.refresh_from_db()
    assert old.purged_at == riga(2026, 7, 7, 2, 30)
    assert not old.file_path().exists()
    assert held.file_path().exists()
    purge = RecordingAudit.objects.get(action=AuditAction.PURGED)
    assert (purge.recording, purge.user, purge.detail["sha256"]) == (old, None, old.sha256)
    officer, _ = _as(Role.QUALITY_OFFICER)
    gone = officer.post(f"/api/recordings/{old.pk}/replays/", {"reason": "Sūdzība"}, format="json")
    assert (gone.status_code, gone.json()["error"]["code"]) == (410, "recording_purged")
    assert list(
        RecordingAudit.objects.filter(action=AuditAction.HOLD_SET).values_list("reason", flat=True)
    ) == ["Tiesas pieprasījums"]


def test_the_waveform_is_ready_when_the_recording_is_stored(
    store: Path, tmp_path: Path, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        recording = _recorded_call(tmp_path, "ready", wait_ms=3000, seconds=6.0)
    cache = recording.file_path().with_name(recording.file_path().name + PEAKS_SUFFIX)
    assert cache.exists()
    assert recording_peaks(recording)["duration"] == pytest.approx(6.0, abs=0.05)
