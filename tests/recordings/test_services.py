"""Storing a call's recording: lossless FLAC under the recordings directory, once, with its ledger fact."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from django.db import transaction
from pytest_django.fixtures import Settings

from agents.errors import DomainError
from contact_centre.models import Event, EventKind, Interaction
from contact_centre.selectors import ledger_chain_verify
from contact_centre.services import interaction_record_call
from recordings.audio import tone_power
from recordings.governance import PEAKS_SUFFIX
from recordings.models import Recording
from recordings.services import recording_store, recording_verify
from tests.concurrency import run_concurrently
from tests.factories import PersonFactory, riga
from tests.recordings.wavs import RATE, header_zero, silence, tone, wav_write

# A Call-ID may hold anything a SIP token allows, and more from a broken peer: none of it reaches a path.
CALL_ID = 'a84b4c76e66710/../..\\x "q" ž@10.0.0.1'
STARTED_AT = riga(2026, 4, 7, 10, 0, 5)

CommitCallbacks = Callable[..., Any]

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(settings: Settings, tmp_path: Path) -> Path:
    settings.CC_RECORDINGS_DIR = tmp_path / "store"
    return settings.CC_RECORDINGS_DIR


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    """Where the line's recorder leaves its WAVs."""
    return tmp_path / "spool"


def call(sip_call_id: str = CALL_ID) -> Interaction:
    return interaction_record_call(
        sip_call_id=sip_call_id,
        arrived_at=riga(2026, 4, 7, 9, 59, 50),
        caller="+37120000000",
        in_office_hours=True,
    )


def files_in(directory: Path) -> list[Path]:
    """The audio files under `directory` (the player's waveform cache beside each is derived, not audio)."""
    if not directory.exists():
        return []
    return sorted(p for p in directory.rglob("*") if p.is_file() and not p.name.endswith(PEAKS_SUFFIX))


def test_a_stored_recording_decodes_to_the_samples_it_was_given(store: Path, spool: Path) -> None:
    interaction = call()
    samples = np.concatenate([tone(440, 1.5), silence(0.5)])
    recording = recording_store(
        sip_call_id=CALL_ID, wav_path=wav_write(spool / "c.wav", samples), started_at=STARTED_AT
    )
    digest = hashlib.sha256(CALL_ID.encode()).hexdigest()
    assert recording.path == f"2026/04/07/{digest}.flac"
    assert recording.file_path() == store / recording.path
    assert files_in(store) == [store / recording.path]  # no staging or temporary file is left
    decoded, rate = sf.read(str(recording.file_path()), dtype="int16")
    np.testing.assert_array_equal(decoded, samples)
    assert (recording.format, recording.sample_rate, recording.channels, rate) == ("flac", RATE, 1, RATE)
    assert recording.size_bytes == recording.file_path().stat().st_size
    assert recording.duration_ms == 2000
    assert recording.loud_fraction == 0.75
    assert recording.peak == pytest.approx(16384, abs=2)
    assert (recording.interaction, recording.agent, recording.legal_hold) == (interaction, None, False)
    assert (recording.caller_path, recording.agent_path) == ("", "")


def test_the_checksum_is_the_stored_files_and_verify_notices_a_change(store: Path, spool: Path) -> None:
    call()
    recording = recording_store(
        sip_call_id=CALL_ID, wav_path=wav_write(spool / "c.wav", tone(440, 1.0)), started_at=STARTED_AT
    )
    assert recording.sha256 == hashlib.sha256(recording.file_path().read_bytes()).hexdigest()
    assert recording_verify(recording) is True
    with recording.file_path().open("r+b") as stored:
        stored.seek(-1, 2)
        last = stored.read(1)
        stored.seek(-1, 2)
        stored.write(bytes([last[0] ^ 1]))
    assert recording_verify(recording) is False
    recording.file_path().unlink()
    assert recording_verify(recording) is False


def test_the_ledger_records_the_recording_with_its_checksum(store: Path, spool: Path) -> None:
    interaction = call()
    recording = recording_store(
        sip_call_id=CALL_ID, wav_path=wav_write(spool / "c.wav", tone(440, 2.0)), started_at=STARTED_AT
    )
    event = Event.objects.get(kind=EventKind.CALL_RECORDED)
    assert event.interaction == interaction
    assert event.payload == {
        "recording_id": recording.pk,
        "sha256": recording.sha256,
        "duration_ms": 2000,
        "loud_fraction": 1.0,
    }
    assert event.occurred_at == riga(2026, 4, 7, 10, 0, 7)  # when the recording ended
    assert event.source_key == f"call:{CALL_ID}:recorded"
    assert list(interaction.recordings.all()) == [recording]
    assert ledger_chain_verify().intact


def test_storing_the_same_call_again_returns_the_first_recording_and_does_nothing_else(
    store: Path, spool: Path, django_capture_on_commit_callbacks: CommitCallbacks
) -> None:
    call()
    with django_capture_on_commit_callbacks(execute=True):
        first = recording_store(
            sip_call_id=CALL_ID, wav_path=wav_write(spool / "c.wav", tone(440, 1.0)), started_at=STARTED_AT
        )
    stored = first.file_path().read_bytes()
    again = wav_write(spool / "again.wav", tone(1000, 3.0))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = recording_store(sip_call_id=CALL_ID, wav_path=again, started_at=riga(2026, 5, 1, 12))
    assert second.pk == first.pk
    assert callbacks == []
    assert again.exists()  # not ours to delete: it was not stored
    assert first.file_path().read_bytes() == stored
    assert files_in(store) == [first.file_path()]
    assert Recording.objects.count() == 1
    assert Event.objects.filter(kind=EventKind.CALL_RECORDED).count() == 1


def test_the_source_wav_is_deleted_only_once_the_transaction_commits(
    store: Path, spool: Path, django_capture_on_commit_callbacks: CommitCallbacks
) -> None:
    call()
    wav = wav_write(spool / "c.wav", tone(440, 1.0))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        recording_store(sip_call_id=CALL_ID, wav_path=wav, started_at=STARTED_AT)
        assert wav.exists()
    assert wav.exists()  # nothing committed yet
    for callback in callbacks:
        callback()
    assert not wav.exists()


def test_a_rolled_back_store_keeps_the_wav_to_store_again(
    store: Path, spool: Path, django_capture_on_commit_callbacks: CommitCallbacks
) -> None:
    call()
    wav = wav_write(spool / "c.wav", tone(440, 1.0))

    def store_then_fail() -> None:
        with transaction.atomic():
            recording_store(sip_call_id=CALL_ID, wav_path=wav, started_at=STARTED_AT)
            raise RuntimeError("the worker died before the commit")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        store_then_fail()
    assert callbacks == []
    assert wav.exists()
    assert not Recording.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        recording = recording_store(sip_call_id=CALL_ID, wav_path=wav, started_at=STARTED_AT)
    assert recording_verify(recording)
    assert not wav.exists()


def test_the_wav_of_a_killed_recorder_is_repaired_and_stored_whole(store: Path, spool: Path) -> None:
    call()
    samples = tone(440, 1.5)
    wav = header_zero(wav_write(spool / "c.wav", samples))
    recording = recording_store(sip_call_id=CALL_ID, wav_path=wav, started_at=STARTED_AT)
    assert recording.duration_ms == 1500
    np.testing.assert_array_equal(sf.read(str(recording.file_path()), dtype="int16")[0], samples)


def test_a_silent_recording_is_stored_with_no_loud_frame(store: Path, spool: Path) -> None:
    call()
    recording = recording_store(
        sip_call_id=CALL_ID, wav_path=wav_write(spool / "c.wav", silence(3.0)), started_at=STARTED_AT
    )
    assert (recording.loud_fraction, recording.rms, recording.peak, recording.duration_ms) == (
        0.0,
        0,
        0,
        3000,
    )


def test_each_partys_channel_is_stored_beside_the_mix(
    store: Path, spool: Path, django_capture_on_commit_callbacks: CommitCallbacks
) -> None:
    call()
    agent = PersonFactory()
    caller_wav = wav_write(spool / "caller.wav", tone(440, 1.0, amplitude=0.25))
    agent_wav = header_zero(wav_write(spool / "agent.wav", tone(1000, 1.0, amplitude=0.25)))
    mixed_wav = wav_write(
        spool / "mixed.wav", tone(440, 1.0, amplitude=0.25) + tone(1000, 1.0, amplitude=0.25)
    )
    with django_capture_on_commit_callbacks(execute=True):
        recording = recording_store(
            sip_call_id=CALL_ID,
            wav_path=mixed_wav,
            started_at=STARTED_AT,
            agent=agent,
            caller_wav=caller_wav,
            agent_wav=agent_wav,
        )
    assert recording.caller_path == recording.path.replace(".flac", ".caller.flac")
    assert recording.agent_path == recording.path.replace(".flac", ".agent.flac")
    caller, _ = sf.read(str(store / recording.caller_path), dtype="int16")
    party, _ = sf.read(str(store / recording.agent_path), dtype="int16")
    assert tone_power(caller, RATE, 440) > 0.06 > tone_power(caller, RATE, 1000)
    assert tone_power(party, RATE, 1000) > 0.06 > tone_power(party, RATE, 440)
    assert recording.agent == agent
    assert list(agent.recordings.all()) == [recording]
    assert files_in(spool) == []


def test_the_directory_is_the_riga_date_of_the_start_not_the_utc_one(store: Path, spool: Path) -> None:
    call()
    just_after_midnight = riga(2026, 4, 7, 0, 30)  # 2026-04-06 21:30 UTC
    recording = recording_store(
        sip_call_id=CALL_ID,
        wav_path=wav_write(spool / "c.wav", tone(440, 0.5)),
        started_at=just_after_midnight,
    )
    assert recording.path.startswith("2026/04/07/")


@pytest.mark.parametrize(
    "content",
    [None, b"", b"not audio at all" * 100, wav_write],
    ids=["missing", "empty-file", "garbage", "header-only"],
)
def test_an_unreadable_wav_is_refused_and_left_in_place(store: Path, spool: Path, content: object) -> None:
    call()
    wav = spool / "c.wav"
    if content is wav_write:
        wav_write(wav, silence(0))
    elif isinstance(content, bytes):
        spool.mkdir()
        wav.write_bytes(content)
    before = wav.read_bytes() if wav.exists() else None
    with pytest.raises(DomainError) as refused:
        recording_store(sip_call_id=CALL_ID, wav_path=wav, started_at=STARTED_AT)
    assert refused.value.code == "recording_unreadable"
    assert "Ierakstu nevar nolasīt" in refused.value.message
    assert (wav.read_bytes() if wav.exists() else None) == before
    assert files_in(store) == []
    assert not Recording.objects.exists()
    assert not Event.objects.filter(kind=EventKind.CALL_RECORDED).exists()


def test_an_unreadable_party_channel_refuses_the_whole_store(store: Path, spool: Path) -> None:
    call()
    mixed = wav_write(spool / "mixed.wav", tone(440, 1.0))
    caller = spool / "caller.wav"
    caller.write_bytes(b"RIFF")
    with pytest.raises(DomainError, match="cannot be read"):
        recording_store(sip_call_id=CALL_ID, wav_path=mixed, started_at=STARTED_AT, caller_wav=caller)
    assert mixed.exists()
    assert caller.exists()
    assert files_in(store) == []


def test_a_recording_of_a_call_that_never_reached_the_line_is_refused(store: Path, spool: Path) -> None:
    wav = wav_write(spool / "c.wav", tone(440, 1.0))
    with pytest.raises(DomainError) as refused:
        recording_store(sip_call_id="nobody@nowhere", wav_path=wav, started_at=STARTED_AT)
    assert refused.value.code == "call_unknown"
    assert wav.exists()
    assert files_in(store) == []


def test_a_naive_start_is_refused(store: Path, spool: Path) -> None:
    call()
    with pytest.raises(DomainError) as refused:
        recording_store(
            sip_call_id=CALL_ID,
            wav_path=wav_write(spool / "c.wav", tone(440, 1.0)),
            started_at=STARTED_AT.replace(tzinfo=None),
        )
    assert refused.value.code == "naive_datetime"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_stores_of_one_call_at_once_keep_one_file_one_row_one_event(store: Path, spool: Path) -> None:
    call()
    first = wav_write(spool / "first.wav", tone(440, 3.0))
    second = wav_write(spool / "second.wav", tone(440, 3.0))
    outcomes = run_concurrently(
        lambda: recording_store(sip_call_id=CALL_ID, wav_path=first, started_at=STARTED_AT),
        lambda: recording_store(sip_call_id=CALL_ID, wav_path=second, started_at=STARTED_AT),
    )
    assert all(isinstance(outcome, Recording) for outcome in outcomes), outcomes
    assert {outcome.pk for outcome in outcomes if isinstance(outcome, Recording)} == {
        Recording.objects.get().pk
    }
    assert Event.objects.filter(kind=EventKind.CALL_RECORDED).count() == 1
    assert recording_verify(Recording.objects.get())
    assert files_in(store) == [Recording.objects.get().file_path()]
    assert [first.exists(), second.exists()].count(True) == 1  # the loser's WAV is not deleted
