"""Who may hear a recording, and for how long it is kept (DATA, PH-REC).

Every play and download is granted for a stated reason and logged (RecordingAudit); the audio endpoint
serves only a live grant of the same user and recording, and counts what each request fetched. Legal
holds are set and released with a reason. The nightly retention task deletes the audio of recordings
older than CC_RECORDINGS_RETENTION_DAYS that are not held, and logs each deletion.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from agents.errors import DomainError
from agents.models import Role
from agents.selectors import user_roles
from recordings import audio
from recordings.models import AuditAction, Recording, RecordingAudit

logger = logging.getLogger(__name__)

# The roles that may hear recordings (ARCHITECTURE.md); staff admins read the audit log, not the audio.
REPLAY_ROLES = frozenset({Role.QUALITY_OFFICER, Role.TEAM_LEAD})
# Long enough to listen to an hour-long call with pauses; a new play asks for a new reason.
GRANT_VALIDITY = timedelta(hours=2)
REASON_MIN_LENGTH = 5
PURGE_BATCH = 500


def _entitled(user: User) -> None:
    if not user_roles(user) & REPLAY_ROLES:
        raise DomainError(
            "replay_not_entitled",
            "Ierakstus var atskaņot tikai kvalitātes speciālisti un komandu vadītāji / "
            "Only quality officers and team leads may replay recordings",
            status=403,
        )


def _reason_checked(reason: str) -> str:
    reason = reason.strip()
    if len(reason) < REASON_MIN_LENGTH:
        raise DomainError(
            "reason_required", "Norādiet atskaņošanas iemeslu / Say why you replay it", field="reason"
        )
    return reason[:2000]


def _available(recording: Recording) -> None:
    if recording.purged_at is not None:
        raise DomainError(
            "recording_purged",
            f"Ieraksts dzēsts {timezone.localtime(recording.purged_at):%d.%m.%Y} (glabāšanas termiņš) / "
            "The recording was deleted after its retention period",
            status=410,
        )


def replay_grant(
    *,
    recording: Recording,
    user: User,
    reason: str,
    download: bool = False,
    client_address: str | None = None,
) -> RecordingAudit:
    """Grant `user` one play (or download) of `recording` for `reason`, logged before a byte is served.

    Side effects: a RecordingAudit row with a fresh token valid for GRANT_VALIDITY.
    """
    _entitled(user)
    reason = _reason_checked(reason)
    _available(recording)
    now = timezone.now()
    return RecordingAudit.objects.create(
        recording=recording,
        action=AuditAction.DOWNLOAD if download else AuditAction.PLAY,
        at=now,
        user=user,
        reason=reason,
        client_address=client_address,
        token=secrets.token_urlsafe(32),
        expires_at=now + GRANT_VALIDITY,
    )


def replay_open(*, recording: Recording, user: User, token: str, length: int) -> RecordingAudit:
    """Check a grant for one audio request of `length` bytes and count it. Raises DomainError
    `grant_invalid` for a token that is unknown, someone else's, another recording's or expired."""
    _entitled(user)
    _available(recording)
    now = timezone.now()
    counted = RecordingAudit.objects.filter(
        token=token, recording=recording, user=user, expires_at__gt=now
    ).update(requests=F("requests") + 1, bytes_served=F("bytes_served") + length, last_request_at=now)
    if not counted:
        raise DomainError(
            "grant_invalid",
            "Atskaņošanas atļauja nav derīga; norādiet iemeslu vēlreiz / "
            "The replay grant is not valid; give the reason again",
            field="grant",
            status=403,
        )
    return RecordingAudit.objects.get(token=token)


def legal_hold_set(*, recording: Recording, by: User, hold: bool, reason: str) -> Recording:
    """Keep a recording past its retention period (a complaint, a court order), or let it go again.
    Side effects: the flag and an audit row; nothing when the flag is already so."""
    _entitled(by)
    reason = _reason_checked(reason)
    with transaction.atomic():
        locked = Recording.objects.select_for_update().get(pk=recording.pk)
        _available(locked)
        if locked.legal_hold != hold:
            locked.legal_hold = hold
            locked.save(update_fields=["legal_hold"])
            RecordingAudit.objects.create(
                recording=locked,
                action=AuditAction.HOLD_SET if hold else AuditAction.HOLD_RELEASED,
                at=timezone.now(),
                user=by,
                reason=reason,
            )
    return locked


PEAKS_SUFFIX = ".peaks.json"


def recording_peaks(recording: Recording) -> dict[str, object]:
    """The player's waveform (peaks and duration), computed once and kept beside the audio file."""
    _available(recording)
    cache = recording.file_path().with_name(recording.file_path().name + PEAKS_SUFFIX)
    try:
        return dict(json.loads(cache.read_text()))
    except (OSError, ValueError):
        pass  # not computed yet, or a half-written file from a crash: compute it (again)
    peaks, duration = audio.waveform_peaks(recording.file_path())
    computed = {"peaks": peaks, "duration": duration}
    staging = cache.with_name(f".{cache.name}.{secrets.token_hex(4)}")
    staging.write_text(json.dumps(computed))
    staging.replace(cache)  # atomic: a reader sees the old file or the whole new one
    return computed


def retention_cutoff(now: datetime) -> datetime:
    return now - timedelta(days=settings.CC_RECORDINGS_RETENTION_DAYS)


def recordings_purge(*, now: datetime) -> int:
    """Delete the audio of recordings past the retention period and not on legal hold; log each.

    Idempotent and safe to interrupt: each recording is locked, its files deleted (a file already gone
    is fine) and the row marked in one transaction. Returns how many were purged.
    """
    cutoff = retention_cutoff(now)
    due = Recording.objects.filter(started_at__lt=cutoff, legal_hold=False, purged_at__isnull=True)
    purged = 0
    for recording_id in due.order_by("started_at").values_list("pk", flat=True)[:PURGE_BATCH]:
        with transaction.atomic():
            recording = (
                Recording.objects.select_for_update(skip_locked=True)
                .filter(pk=recording_id, legal_hold=False, purged_at__isnull=True)
                .first()
            )
            if recording is not None:
                _purge_one(recording, now)
                purged += 1
    if purged:
        logger.info("retention: deleted the audio of %d recordings older than %s", purged, cutoff)
    return purged


def _purge_one(recording: Recording, now: datetime) -> None:
    root = Path(settings.CC_RECORDINGS_DIR)
    paths = [path for path in (recording.path, recording.caller_path, recording.agent_path) if path]
    for relative in [*paths, recording.path + PEAKS_SUFFIX]:
        (root / relative).unlink(missing_ok=True)
    recording.purged_at = now
    recording.save(update_fields=["purged_at"])
    RecordingAudit.objects.create(
        recording=recording,
        action=AuditAction.PURGED,
        at=now,
        reason=f"glabāšanas termiņš / retention {settings.CC_RECORDINGS_RETENTION_DAYS} d",
        detail={"files": paths, "sha256": recording.sha256, "size_bytes": recording.size_bytes},
    )
