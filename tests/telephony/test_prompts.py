"""Prompts: committed files in the line's format, texts following the office hours, synthesis, uploads."""

from __future__ import annotations

import importlib
import re
from datetime import time
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
import soundfile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from pytest_django.fixtures import Settings

from sla.services import office_hours_set
from telephony import prompts
from telephony.models import Prompt, PromptCode
from telephony.prompts import (
    PROMPT_DEFAULTS,
    PROMPT_DIR,
    email_spoken_en,
    email_spoken_lv,
    hours_spoken_en,
    hours_spoken_lv,
    prompt_audio_path,
    prompt_duration_ms,
    prompt_generated_path,
    prompt_synthesise,
    prompt_texts,
    time_spoken_en,
    time_spoken_lv,
)
from tests.factories import UserFactory

HANDBOOK_HOURS = {day: (time(8, 30), time(17, 15)) for day in range(4)} | {4: (time(8, 30), time(16, 0))}


def assert_line_format_and_audible(path: Path, *, min_seconds: float = 0.5) -> np.ndarray:
    info = soundfile.info(str(path))
    assert (info.format, info.subtype, info.channels, info.samplerate) == ("WAV", "PCM_16", 1, 8000)
    samples, _ = soundfile.read(str(path), dtype="float32")
    assert len(samples) / 8000 >= min_seconds
    assert float(np.sqrt(np.mean(samples**2))) > 0.01, "silent"
    return samples


@pytest.fixture
def cache_dir(settings: Settings, tmp_path: Path) -> Path:
    """Uploads under tmp_path/media; the prompts cache (CC_RECORDINGS_DIR/../prompts-cache) under tmp_path."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CC_RECORDINGS_DIR = tmp_path / "recordings"
    return tmp_path / "prompts-cache"


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def stereo_wav_44k(seconds: float = 1.0) -> bytes:
    """440 Hz on the left, 880 Hz on the right, 16-bit 44.1 kHz."""
    t = np.arange(round(44100 * seconds)) / 44100
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.5 * np.sin(2 * np.pi * 880 * t)], axis=1)
    out = BytesIO()
    soundfile.write(out, stereo, 44100, format="WAV", subtype="PCM_16")
    return out.getvalue()


# --- Committed files ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", PromptCode.values)
def test_every_prompt_has_a_committed_audible_wav_in_the_line_format(code: str) -> None:
    path = PROMPT_DIR / f"{code}.wav"
    assert path.exists(), f"run manage.py prompts_generate --code {code} and commit {path}"
    assert_line_format_and_audible(path, min_seconds=2)
    assert path.stat().st_size < 600_000


@pytest.mark.django_db
def test_prompts_generate_check_passes_for_the_committed_files() -> None:
    call_command("prompts_generate", "--check")


@pytest.mark.django_db
def test_prompts_generate_check_names_missing_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(prompts, "PROMPT_DIR", tmp_path)
    with pytest.raises(CommandError, match="recording_notice, closed, all_busy, callback_confirmed"):
        call_command("prompts_generate", "--check")


@pytest.mark.django_db
def test_prompts_generate_check_names_the_closed_prompt_once_the_hours_change() -> None:
    office_hours_set(weekday=4, opens_at=time(8, 30), closes_at=time(15, 0))
    with pytest.raises(CommandError, match=r"fit to play: closed$"):
        call_command("prompts_generate", "--check")


@pytest.mark.django_db
def test_prompts_generate_writes_the_file_and_records_its_text(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(prompts, "PROMPT_DIR", tmp_path)
    monkeypatch.setattr(prompts, "PROMPT_MANIFEST", tmp_path / "manifest.json")
    call_command("prompts_generate", "--code", "callback_confirmed")
    assert_line_format_and_audible(tmp_path / "callback_confirmed.wav")
    # espeak-ng and sox (dither seeded by -R) are deterministic: the committed bytes are reproduced.
    committed = (PROMPT_DIR / "callback_confirmed.wav").read_bytes()
    assert (tmp_path / "callback_confirmed.wav").read_bytes() == committed
    call_command("prompts_generate", "--check", "--code", "callback_confirmed")


@pytest.mark.django_db
def test_prompts_generate_says_what_to_install_without_espeak(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(prompts, "PROMPT_DIR", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CommandError, match="espeak-ng not found: install espeak-ng and sox"):
        call_command("prompts_generate", "--code", "closed")


# --- Texts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "latvian", "english"),
    [
        (time(8, 30), "astoņiem trīsdesmit", "8:30 am"),
        (time(17, 15), "septiņpadsmitiem piecpadsmit", "5:15 pm"),
        (time(16, 0), "sešpadsmitiem", "4 pm"),
        (time(9, 5), "deviņiem nulle pieci", "9:05 am"),
        (time(12, 0), "divpadsmitiem", "12 noon"),
        (time(13, 45), "trīspadsmitiem četrdesmit pieci", "1:45 pm"),
        (time(21, 59), "divdesmit vieniem piecdesmit deviņi", "9:59 pm"),
        (time(0, 20), "nulles divdesmit", "12:20 am"),
    ],
)
def test_clock_times_are_spoken_in_words(at: time, latvian: str, english: str) -> None:
    assert time_spoken_lv(at) == latvian
    assert time_spoken_en(at) == english


def test_the_handbook_hours_are_spoken_by_runs_of_days() -> None:
    assert hours_spoken_lv(HANDBOOK_HOURS) == (
        "no pirmdienas līdz ceturtdienai, no astoņiem trīsdesmit līdz septiņpadsmitiem piecpadsmit, "
        "un piektdien līdz sešpadsmitiem"
    )
    assert hours_spoken_en(HANDBOOK_HOURS) == (
        "Monday to Thursday, 8:30 am to 5:15 pm, and on Friday until 4 pm"
    )


def test_days_apart_or_opening_differently_are_named_apart() -> None:
    hours = {0: (time(9, 0), time(12, 0)), 2: (time(9, 0), time(12, 0)), 5: (time(10, 0), time(13, 0))}
    assert hours_spoken_lv(hours) == (
        "pirmdien, no deviņiem līdz divpadsmitiem, trešdien līdz divpadsmitiem, "
        "un sestdien, no desmitiem līdz trīspadsmitiem"
    )
    assert hours_spoken_lv({}) == "darba laikā"


@pytest.mark.parametrize(
    ("address", "latvian", "english"),
    [
        (
            "ekase@kase.gov.lv",
            "ekase et kase punkts gov punkts el vē",
            "E K A- S E at K A- S E dot gov dot L V",
        ),
        (
            "Info-2@VK.gov.lv",
            "info defise divi et vē kā punkts gov punkts el vē",
            "info dash 2 at V K dot gov dot L V",
        ),
    ],
)
def test_an_address_is_spelt_for_speech(address: str, latvian: str, english: str) -> None:
    assert email_spoken_lv(address) == latvian
    assert email_spoken_en(address) == english


@pytest.mark.django_db
def test_the_closed_text_says_the_office_hours_and_follows_their_change() -> None:
    text_lv, text_en = prompt_texts(PromptCode.CLOSED)
    assert (
        "no astoņiem trīsdesmit līdz septiņpadsmitiem piecpadsmit, un piektdien līdz sešpadsmitiem" in text_lv
    )
    assert "Monday to Thursday, 8:30 am to 5:15 pm, and on Friday until 4 pm" in text_en
    assert not re.search(r"[\d@{}]", text_lv), "espeak-ng reads digits and '@' badly in Latvian"

    office_hours_set(weekday=4, opens_at=time(8, 30), closes_at=time(15, 0))
    changed_lv, changed_en = prompt_texts(PromptCode.CLOSED)
    assert "un piektdien līdz piecpadsmitiem" in changed_lv
    assert "on Friday until 3 pm" in changed_en


@pytest.mark.django_db
def test_the_address_comes_from_cc_mail_from(settings: Settings) -> None:
    settings.CC_MAIL_FROM = "info@vk.gov.lv"
    for code in (PromptCode.CLOSED, PromptCode.ALL_BUSY):
        text_lv, text_en = prompt_texts(code)
        assert "info et vē kā punkts gov punkts el vē" in text_lv
        assert "info at V K dot gov dot L V" in text_en


@pytest.mark.django_db
def test_the_migration_seeded_the_default_texts_and_keeps_them_equal_to_the_code() -> None:
    migration = importlib.import_module("telephony.migrations.0002_prompt_texts")
    assert migration.PROMPTS == PROMPT_DEFAULTS
    seeded = {row.code: (row.text_lv, row.text_en) for row in Prompt.objects.all()}
    assert seeded == PROMPT_DEFAULTS


@pytest.mark.django_db
def test_without_a_row_the_default_text_is_spoken() -> None:
    Prompt.objects.filter(code=PromptCode.RECORDING_NOTICE).delete()
    assert prompt_texts(PromptCode.RECORDING_NOTICE) == PROMPT_DEFAULTS[PromptCode.RECORDING_NOTICE]


# --- Audio ----------------------------------------------------------------------------------------


def test_synthesis_speaks_both_languages_into_an_8khz_wav(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "hello.wav"
    prompt_synthesise("Labdien! Valsts kase.", "Good afternoon.", out)
    samples = assert_line_format_and_audible(out, min_seconds=1.5)
    assert prompt_duration_ms(out) == round(len(samples) / 8)
    # The ~0.4 s pause between the languages: a run of (near) silence of at least 0.35 s inside the file.
    quiet = np.abs(samples) < 0.002
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(int), [0]]))))[::2]
    assert runs.max() >= 0.35 * 8000
    assert list(tmp_path.joinpath("nested").iterdir()) == [out], "no temporary file left beside it"


@pytest.mark.django_db
def test_the_committed_file_is_played_while_it_says_the_text_in_force(cache_dir: Path) -> None:
    for code in PromptCode.values:
        assert prompt_audio_path(code) == prompt_generated_path(code)
    assert not cache_dir.exists()


@pytest.mark.django_db
def test_changed_hours_are_spoken_from_the_cache_until_the_files_are_regenerated(cache_dir: Path) -> None:
    office_hours_set(weekday=4, opens_at=time(8, 30), closes_at=time(15, 0))
    path = prompt_audio_path(PromptCode.CLOSED)
    assert path.parent == cache_dir
    assert_line_format_and_audible(path, min_seconds=10)
    assert path.read_bytes() != prompt_generated_path(PromptCode.CLOSED).read_bytes()
    assert prompt_audio_path(PromptCode.CLOSED) == path  # synthesised once
    assert prompt_audio_path(PromptCode.RECORDING_NOTICE) == prompt_generated_path(
        PromptCode.RECORDING_NOTICE
    )


@pytest.mark.django_db
def test_an_uploaded_stereo_44khz_recording_is_played_as_8khz_mono(
    admin_client: Client, cache_dir: Path
) -> None:
    prompt = Prompt.objects.get(code=PromptCode.ALL_BUSY)
    response = admin_client.post(
        f"/admin/telephony/prompt/{prompt.pk}/change/",
        {
            "text_lv": prompt.text_lv,
            "text_en": prompt.text_en,
            "recording": SimpleUploadedFile("busy.wav", stereo_wav_44k(), content_type="audio/wav"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    prompt.refresh_from_db()
    assert prompt.recording.name.startswith("prompts/")

    path = prompt_audio_path(PromptCode.ALL_BUSY)
    assert path.parent == cache_dir
    samples = assert_line_format_and_audible(path)
    assert abs(prompt_duration_ms(path) - 1000) <= 5
    spectrum = np.abs(np.fft.rfft(samples))
    frequencies = np.fft.rfftfreq(len(samples), 1 / 8000)
    loudest = sorted(frequencies[np.argsort(spectrum)[-2:]].round())
    assert loudest == [440, 880], "both channels mixed down, pitch kept"

    converted_at = path.stat().st_mtime_ns
    assert prompt_audio_path(PromptCode.ALL_BUSY) == path
    assert path.stat().st_mtime_ns == converted_at, "converted once"


@pytest.mark.django_db
def test_the_admin_refuses_an_upload_that_is_not_audio(admin_client: Client, cache_dir: Path) -> None:
    prompt = Prompt.objects.get(code=PromptCode.CLOSED)
    response = admin_client.post(
        f"/admin/telephony/prompt/{prompt.pk}/change/",
        {
            "text_lv": prompt.text_lv,
            "text_en": prompt.text_en,
            "recording": SimpleUploadedFile("busy.wav", b"RIFF but not really a wave file", "audio/wav"),
        },
    )
    assert response.status_code == 200
    assert "Not a readable audio file" in response.content.decode()
    prompt.refresh_from_db()
    assert not prompt.recording


@pytest.mark.django_db
def test_the_admin_refuses_an_unknown_placeholder(admin_client: Client) -> None:
    prompt = Prompt.objects.get(code=PromptCode.CLOSED)
    response = admin_client.post(
        f"/admin/telephony/prompt/{prompt.pk}/change/",
        {"text_lv": "Zvaniet {stundas}.", "text_en": prompt.text_en},
    )
    assert response.status_code == 200
    assert "Unknown placeholder {stundas}" in response.content.decode()


@pytest.mark.django_db
def test_the_admin_regenerates_a_changed_text_into_the_cache_and_skips_recordings(
    admin_client: Client, cache_dir: Path
) -> None:
    Prompt.objects.filter(code=PromptCode.CALLBACK_CONFIRMED).update(text_lv="Paldies! Uz dzirdēšanos!")
    with_recording = Prompt.objects.get(code=PromptCode.RECORDING_NOTICE)
    with_recording.recording.save("notice.wav", SimpleUploadedFile("notice.wav", stereo_wav_44k()))
    selected = Prompt.objects.filter(code__in=[PromptCode.CALLBACK_CONFIRMED, PromptCode.RECORDING_NOTICE])
    response = admin_client.post(
        "/admin/telephony/prompt/",
        {"action": "regenerate_from_text", "_selected_action": [p.pk for p in selected]},
        follow=True,
    )
    page = response.content.decode()
    assert "skipped — the line plays the uploaded recording" in page
    path = prompt_audio_path(PromptCode.CALLBACK_CONFIRMED)
    assert path.parent == cache_dir
    assert path.name in page


@pytest.mark.django_db
def test_a_lost_upload_falls_back_to_the_text_so_the_caller_hears_something(cache_dir: Path) -> None:
    Prompt.objects.filter(code=PromptCode.CLOSED).update(recording="prompts/gone.wav")
    assert prompt_audio_path(PromptCode.CLOSED) == prompt_generated_path(PromptCode.CLOSED)
