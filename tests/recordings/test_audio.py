"""Call audio as files: header repair of a killed recorder's WAV, levels, tone power, lossless FLAC."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from recordings.audio import (
    WavUnreadable,
    audio_levels,
    tone_power,
    transcode_to_flac,
    wav_header_repair,
)
from tests.recordings.wavs import CORPUS, RATE, header_zero, silence, tone, wav_write


def sizes(path: Path) -> tuple[int, int]:
    """(riff_size, data_size) of a canonical 44-byte header."""
    header = path.read_bytes()[:44]
    return struct.unpack("<I", header[4:8])[0], struct.unpack("<I", header[40:44])[0]


def corpus_copy(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copy(CORPUS / name, tmp_path / name))


# --- header repair -----------------------------------------------------------------------------------


def test_a_killed_pjsua2_recorders_wav_gets_the_header_a_closed_one_has(tmp_path: Path) -> None:
    killed = corpus_copy("pjsua2_killed_440hz.wav", tmp_path)
    closed = (CORPUS / "pjsua2_closed_440hz.wav").read_bytes()
    assert sizes(killed) == (0, 0)
    assert sf.info(str(killed)).frames == 0  # what a reader makes of it unrepaired
    assert wav_header_repair(killed) is True
    size = killed.stat().st_size
    assert sizes(killed) == (size - 8, size - 44)
    # Byte for byte the layout pjmedia writes on close, but for the two sizes.
    repaired = killed.read_bytes()
    assert repaired[8:40] == closed[8:40]
    assert repaired[44:] == closed[44:size]
    assert sf.info(str(killed)).frames == (size - 44) // 2


def test_a_zeroed_header_is_repaired_and_the_samples_read_back(tmp_path: Path) -> None:
    samples = tone(440, 1.0)
    wav = header_zero(wav_write(tmp_path / "a.wav", samples))
    assert wav_header_repair(wav) is True
    read, rate = sf.read(str(wav), dtype="int16")
    assert rate == RATE
    np.testing.assert_array_equal(read, samples)


def test_a_correct_header_is_left_alone_and_repair_is_idempotent(tmp_path: Path) -> None:
    wav = header_zero(wav_write(tmp_path / "a.wav", tone(440, 0.5)))
    wav_header_repair(wav)
    before = wav.read_bytes()
    assert wav_header_repair(wav) is False
    assert wav_header_repair(CORPUS / "pjsua2_closed_440hz.wav") is False
    assert wav.read_bytes() == before


def test_a_data_size_past_the_end_of_the_file_is_cut_to_what_is_there(tmp_path: Path) -> None:
    wav = wav_write(tmp_path / "a.wav", tone(440, 0.5))
    with wav.open("r+b") as handle:
        handle.seek(40)
        handle.write(struct.pack("<I", 0xFFFFFFFF))
    assert wav_header_repair(wav) is True
    assert sizes(wav) == (wav.stat().st_size - 8, 8000)


def test_an_odd_trailing_byte_of_a_killed_recorder_is_not_counted_as_a_sample(tmp_path: Path) -> None:
    wav = header_zero(wav_write(tmp_path / "a.wav", tone(440, 0.5)))
    with wav.open("ab") as handle:
        handle.write(b"\x01")
    wav_header_repair(wav)
    assert sizes(wav)[1] == 8000


def test_chunks_are_walked_so_a_list_chunk_after_the_data_is_kept(tmp_path: Path) -> None:
    wav = wav_write(tmp_path / "a.wav", tone(440, 0.5))
    info = b"INFOICMT" + struct.pack("<I", 6) + b"notes\0"
    with wav.open("ab") as handle:
        handle.write(b"LIST" + struct.pack("<I", len(info)) + info)
    with wav.open("r+b") as handle:
        handle.seek(4)
        handle.write(struct.pack("<I", wav.stat().st_size - 8))
    before = wav.read_bytes()
    assert wav_header_repair(wav) is False
    assert wav.read_bytes() == before
    assert sf.info(str(wav)).frames == 4000


def test_a_data_chunk_after_other_chunks_is_found(tmp_path: Path) -> None:
    """A WAV whose fmt chunk is followed by a `fact` chunk before the data (not pjmedia's layout)."""
    canonical = wav_write(tmp_path / "c.wav", tone(1000, 0.25)).read_bytes()
    fact = b"fact" + struct.pack("<I", 4) + struct.pack("<I", 2000)
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF\0\0\0\0WAVE" + canonical[12:36] + fact + b"data\0\0\0\0" + canonical[44:])
    assert wav_header_repair(wav) is True
    read, _ = sf.read(str(wav), dtype="int16")
    np.testing.assert_array_equal(read, tone(1000, 0.25))


@pytest.mark.parametrize(
    "content",
    [b"", b"RIFF", b"ID3\x03 not a wave at all" * 10, b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0" + bytes(16)],
    ids=["empty", "truncated", "mp3", "no-data-chunk"],
)
def test_what_is_not_a_wav_is_refused_and_left_as_it_was(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(content)
    with pytest.raises(WavUnreadable):
        wav_header_repair(path)
    assert path.read_bytes() == content


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WavUnreadable):
        wav_header_repair(tmp_path / "gone.wav")


# --- levels ------------------------------------------------------------------------------------------


def test_silence_has_no_level_and_no_loud_frame(tmp_path: Path) -> None:
    levels = audio_levels(wav_write(tmp_path / "s.wav", silence(2.0)))
    assert (levels.duration_ms, levels.rms, levels.peak, levels.loud_fraction) == (2000, 0, 0, 0.0)


def test_a_half_scale_tone_has_the_rms_and_peak_of_a_sine(tmp_path: Path) -> None:
    levels = audio_levels(wav_write(tmp_path / "t.wav", tone(440, 1.0)))
    assert levels.duration_ms == 1000
    assert levels.peak == pytest.approx(16384, abs=2)
    assert levels.rms == pytest.approx(16384 / np.sqrt(2), abs=2)
    assert levels.loud_fraction == 1.0


def test_loud_fraction_counts_20_ms_frames_above_an_rms_of_300() -> None:
    quiet = tone(440, 0.3, amplitude=250 / 32767 * np.sqrt(2))  # rms 250: line noise, not speech
    loud = tone(440, 0.1, amplitude=350 / 32767 * np.sqrt(2))  # rms 350
    levels = audio_levels(np.concatenate([quiet, loud, silence(0.6)]), sample_rate=RATE)
    assert levels.duration_ms == 1000
    assert levels.loud_fraction == pytest.approx(0.1)


def test_levels_of_a_file_read_in_blocks_equal_those_of_its_samples(tmp_path: Path) -> None:
    # 11 s: more than one block of 512 frames, and a trailing partial frame (ignored).
    samples = np.concatenate([tone(440, 5.0), silence(6.0), tone(1000, 0.011, amplitude=0.9)])
    from_file = audio_levels(wav_write(tmp_path / "long.wav", samples))
    assert from_file == audio_levels(samples, sample_rate=RATE)
    assert from_file.loud_fraction == pytest.approx(5.0 / 11.0, abs=0.001)


def test_float_samples_are_measured_on_the_16_bit_scale() -> None:
    as_float = tone(440, 0.5).astype(np.float64) / 32768
    assert audio_levels(as_float, sample_rate=RATE) == audio_levels(tone(440, 0.5), sample_rate=RATE)


def test_a_recording_shorter_than_one_frame_is_one_frame() -> None:
    assert audio_levels(tone(440, 0.005), sample_rate=RATE).loud_fraction == 1.0


def test_levels_of_samples_need_their_rate() -> None:
    with pytest.raises(ValueError, match="sample_rate"):
        audio_levels(silence(1.0))


# --- tone power --------------------------------------------------------------------------------------


def test_tone_power_finds_440_and_not_1000_in_a_440_tone() -> None:
    samples = tone(440, 2.0)
    assert tone_power(samples, RATE, 440) == pytest.approx(0.25, abs=0.005)
    assert tone_power(samples, RATE, 1000) < 0.001


def test_tone_power_tells_the_two_parties_of_a_mixed_recording_apart() -> None:
    mixed = tone(440, 2.0, amplitude=0.25) + tone(1000, 2.0, amplitude=0.25)
    assert tone_power(mixed, RATE, 440) == pytest.approx(0.0625, abs=0.002)
    assert tone_power(mixed, RATE, 1000) == pytest.approx(0.0625, abs=0.002)
    assert tone_power(mixed, RATE, 2000) < 0.001


def test_tone_power_of_silence_and_of_nothing_is_zero() -> None:
    assert tone_power(silence(1.0), RATE, 440) == 0.0
    assert tone_power(silence(0), RATE, 440) == 0.0


def test_tone_power_hears_the_tone_in_a_real_pjsua2_recording() -> None:
    samples, rate = sf.read(str(CORPUS / "pjsua2_closed_440hz.wav"), dtype="int16")
    assert tone_power(samples, rate, 440) > 0.1
    assert tone_power(samples, rate, 1000) < 0.001


# --- FLAC --------------------------------------------------------------------------------------------


def test_flac_is_lossless_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    samples = np.concatenate([tone(440, 1.0), silence(0.5), tone(1000, 1.0, amplitude=0.99)])
    wav = wav_write(tmp_path / "in" / "a.wav", samples)
    out = tmp_path / "out"
    out.mkdir()
    info = transcode_to_flac(wav, out / "a.flac")
    assert (info.sample_rate, info.channels, info.frames) == (RATE, 1, len(samples))
    decoded, rate = sf.read(str(out / "a.flac"), dtype="int16")
    assert (rate, sf.info(str(out / "a.flac")).format) == (RATE, "FLAC")
    np.testing.assert_array_equal(decoded, samples)
    assert [p.name for p in out.iterdir()] == ["a.flac"]
    assert (out / "a.flac").stat().st_size < wav.stat().st_size


def test_flac_replaces_an_existing_file_whole(tmp_path: Path) -> None:
    dst = tmp_path / "a.flac"
    dst.write_bytes(b"an older, broken attempt")
    transcode_to_flac(wav_write(tmp_path / "a.wav", tone(440, 0.5)), dst)
    np.testing.assert_array_equal(sf.read(str(dst), dtype="int16")[0], tone(440, 0.5))


def test_flac_of_an_empty_wav_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    wav = wav_write(tmp_path / "in" / "empty.wav", silence(0))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(WavUnreadable, match="no audio"):
        transcode_to_flac(wav, out / "a.flac")
    assert list(out.iterdir()) == []


def test_flac_of_a_24_bit_wav_is_refused_rather_than_stored_lossily(tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    sf.write(str(wav), tone(440, 0.5), RATE, subtype="PCM_24")
    with pytest.raises(WavUnreadable, match="PCM_24"):
        transcode_to_flac(wav, tmp_path / "a.flac")
    assert not (tmp_path / "a.flac").exists()
