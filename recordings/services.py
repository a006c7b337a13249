"""Writes of recordings: storing a call's audio once, with its ledger fact."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agents.errors import DomainError
from agents.models import Person
from contact_centre.models import EventKind
from contact_centre.services import call_interaction, call_source_key, event_append
from recordings import audio
from recordings.governance import recording_peaks
from recordings.models import Recording, RecordingFormat

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordedPayload:
    """The ledger payload of `call_recorded`."""

    recording_id: int
    sha256: str
    duration_ms: int
    loud_fraction: float


@dataclass(frozen=True)
class _Staged:
    """A transcoded file written next to its final name, renamed into place inside the transaction."""

    staging: Path
    final: Path
    relative: str
    info: audio.AudioInfo


def recording_store(
    *,
    sip_call_id: str,
    wav_path: Path,
    started_at: datetime,
    agent: Person | None = None,
    caller_wav: Path | None = None,
    agent_wav: Path | None = None,
) -> Recording:
    """Store a call's recorder WAV (and, if recorded apart, each party's) as FLAC, and record the fact.

    Side effects: repairs the WAV headers in place (a killed recorder leaves zero sizes); writes
    `<CC_RECORDINGS_DIR>/YYYY/MM/DD/<sha256 of the Call-ID>[.caller|.agent].flac` (the local, Riga, date
    of `started_at`); a Recording row and a `call_recorded` event in one transaction; after that
    transaction commits, deletes the source WAVs (a crash before then leaves them, to be stored again).
    Idempotency key: `sip_call_id`; a second call returns the stored row and does nothing else.
    Raises DomainError `call_unknown` (no such call reached the line) or `recording_unreadable` (a WAV
    missing, empty or not 16-bit PCM; the WAVs are left in place).
    """
    if started_at.tzinfo is None:
        raise DomainError(
            "naive_datetime", "started_at jānorāda ar laika joslu / started_at needs a time zone"
        )
    if (existing := Recording.objects.filter(sip_call_id=sip_call_id).first()) is not None:
        return existing
    interaction = call_interaction(sip_call_id)
    sources = {"": wav_path, "caller": caller_wav, "agent": agent_wav}
    present = {role: path for role, path in sources.items() if path is not None}
    for path in present.values():
        _repair(path)
    base = _relative_base(sip_call_id, started_at)
    staged: dict[str, _Staged] = {}
    try:
        for role, path in present.items():
            staged[role] = _stage(path, base, role)
        facts = _facts(staged[""])
        with transaction.atomic():
            # Two stores of one call at once: the second INSERT waits for the first to commit, then
            # returns its row; it never renames over the first one's files.
            recording, created = Recording.objects.get_or_create(
                sip_call_id=sip_call_id,
                defaults={
                    **facts,
                    "interaction": interaction,
                    "agent": agent,
                    "started_at": started_at,
                    "caller_path": staged["caller"].relative if "caller" in staged else "",
                    "agent_path": staged["agent"].relative if "agent" in staged else "",
                },
            )
            if created:
                _files_place(staged.values())
                _recorded_append(recording)
                transaction.on_commit(partial(_sources_delete, list(present.values())), robust=True)
                # The player's waveform, ready before anyone opens the call (an hour takes ~0.5 s).
                transaction.on_commit(partial(_peaks_prepare, recording), robust=True)
        return recording
    finally:
        for file in staged.values():  # what was not renamed into place: a refusal, a lost race
            file.staging.unlink(missing_ok=True)


def _peaks_prepare(recording: Recording) -> None:
    try:
        recording_peaks(recording)
    except (OSError, RuntimeError, DomainError) as error:  # the player computes them on first use then
        logger.warning("waveform of recording %s not prepared: %s", recording.pk, error)


def recording_verify(recording: Recording) -> bool:
    """Whether the stored file exists and its SHA-256 is the one taken when it was stored. No side effects."""
    try:
        with recording.file_path().open("rb") as stored:
            return hashlib.file_digest(stored, "sha256").hexdigest() == recording.sha256
    except FileNotFoundError:
        return False


def _unreadable(error: audio.WavUnreadable) -> DomainError:
    return DomainError(
        "recording_unreadable",
        f"Ierakstu nevar nolasīt, WAV fails atstāts vietā / The recording cannot be read, the WAV is left "
        f"in place: {error}",
    )


def _repair(path: Path) -> None:
    try:
        if audio.wav_header_repair(path):
            logger.info("recordings: repaired the WAV header of %s", path)
    except audio.WavUnreadable as error:
        raise _unreadable(error) from error


def _relative_base(sip_call_id: str, started_at: datetime) -> PurePosixPath:
    """`YYYY/MM/DD/<hex>`: the local date of the call's start, and a name that is a hash of the Call-ID,
    because a Call-ID may hold any character (slashes, dots, spaces, quotes)."""
    day = timezone.localdate(started_at)
    digest = hashlib.sha256(sip_call_id.encode("utf-8", "surrogatepass")).hexdigest()
    return PurePosixPath(f"{day:%Y}", f"{day:%m}", f"{day:%d}", digest)


def _stage(source: Path, base: PurePosixPath, role: str) -> _Staged:
    relative = f"{base}.{role}.flac" if role else f"{base}.flac"
    final = Path(settings.CC_RECORDINGS_DIR) / relative
    _directory_ensure(final.parent)
    staging = final.with_name(f".{final.name}.{secrets.token_hex(8)}.staging")
    try:
        info = audio.transcode_to_flac(source, staging)
    except audio.WavUnreadable as error:
        raise _unreadable(error) from error
    return _Staged(staging=staging, final=final, relative=relative, info=info)


def _directory_ensure(directory: Path) -> None:
    """Create the day's directory; fsync each new level's parent so the new entry survives a crash."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for new in reversed(missing):
        new.mkdir(exist_ok=True)
        audio.directory_fsync(new.parent)


def _facts(mixed: _Staged) -> dict[str, object]:
    """The stored (mixed) file's columns: format, size, checksum and levels, read from the file itself."""
    try:
        levels = audio.audio_levels(mixed.staging)
    except audio.WavUnreadable as error:
        raise _unreadable(error) from error
    with mixed.staging.open("rb") as stored:
        checksum = hashlib.file_digest(stored, "sha256").hexdigest()
    return {
        "path": mixed.relative,
        "format": RecordingFormat.FLAC,
        "sample_rate": mixed.info.sample_rate,
        "channels": mixed.info.channels,
        "size_bytes": mixed.staging.stat().st_size,
        "sha256": checksum,
        "duration_ms": levels.duration_ms,
        "rms": levels.rms,
        "peak": levels.peak,
        "loud_fraction": levels.loud_fraction,
    }


def _files_place(staged: Iterable[_Staged]) -> None:
    directories = set()
    for file in staged:
        file.staging.replace(file.final)
        directories.add(file.final.parent)
    for directory in directories:
        audio.directory_fsync(directory)


def _recorded_append(recording: Recording) -> None:
    payload = RecordedPayload(
        recording_id=recording.pk,
        sha256=recording.sha256,
        duration_ms=recording.duration_ms,
        loud_fraction=recording.loud_fraction,
    )
    event_append(
        interaction=recording.interaction,
        kind=EventKind.CALL_RECORDED,
        # The fact is complete when the recording ends.
        occurred_at=recording.started_at + timedelta(milliseconds=recording.duration_ms),
        payload=asdict(payload),
        source_key=call_source_key(recording.sip_call_id, "recorded"),
    )


def _sources_delete(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
        logger.info("recordings: deleted the stored source %s", path)
