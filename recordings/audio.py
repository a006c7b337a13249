"""Call audio as files and samples: WAV header repair, levels, tone power, lossless FLAC transcoding.

Pure code (numpy and soundfile, no ORM). Samples are on the 16-bit scale: int16 arrays as they are, float
arrays in soundfile's convention (full scale is ±1.0) multiplied by 32768.
"""

from __future__ import annotations

import contextlib
import math
import os
import struct
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
import soundfile as sf

FULL_SCALE = 32768.0
FRAME_MS = 20
# A 20 ms frame with an RMS above this (16-bit scale) counts as sound, not line noise (TESTBED §A).
LOUD_RMS = 300
# Frames are read in blocks of whole 20 ms frames, so no frame straddles two blocks.
_FRAMES_PER_BLOCK = 512
_DFT_CHUNK = 1 << 16


class WavUnreadable(ValueError):
    """The file is not a 16-bit PCM WAV with audio in it (missing, truncated, empty, another format)."""


@dataclass(frozen=True)
class AudioLevels:
    """Loudness of a recording: RMS and peak on the 16-bit scale, and the share of 20 ms frames with
    an RMS above `LOUD_RMS` (0.0 for silence; a recorder running on a dead line gives about 0)."""

    duration_ms: int
    rms: int
    peak: int
    loud_fraction: float


@dataclass(frozen=True)
class AudioInfo:
    sample_rate: int
    channels: int
    frames: int


# --- WAV header repair -----------------------------------------------------------------------------

_CHUNK_HEADER = struct.Struct("<4sI")
_RIFF_HEADER_SIZE = 12  # "RIFF", size, "WAVE"
_FMT_BLOCK_ALIGN_END = 14  # wFormatTag, nChannels, nSamplesPerSec, nAvgBytesPerSec, nBlockAlign
_PRINTABLE = range(0x20, 0x7F)


def wav_header_repair(path: Path) -> bool:
    """Make the RIFF and data chunk sizes match the file, in place; True when something was rewritten.

    pjmedia's recorder writes a canonical 44-byte header with both sizes 0 and fills them in when the
    recorder is closed, so the WAV of a killed process says it holds no audio. The chunks are walked
    rather than assumed at offsets 4 and 40, so a WAV with extra chunks (LIST, fact) is repaired too.
    A data size of 0, or one running past the end of the file, or one followed by bytes that are not a
    chunk, is replaced by what the file holds (whole sample frames). Idempotent: a correct file is not
    written. Raises `WavUnreadable` for a file that is not a RIFF/WAVE file or has no data chunk.
    """
    try:
        handle = path.open("r+b")
    except OSError as error:
        raise WavUnreadable(f"cannot open {path}: {error.strerror}") from error
    with handle:
        file_size = os.fstat(handle.fileno()).st_size
        riff = handle.read(_RIFF_HEADER_SIZE)
        if len(riff) < _RIFF_HEADER_SIZE or riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
            raise WavUnreadable(f"{path} is not a RIFF/WAVE file")
        data_offset, data_size, fix_data = _data_chunk_find(handle, file_size, path)
        (riff_size,) = struct.unpack("<I", riff[4:8])
        data_end = data_offset + data_size
        fix_riff = riff_size == 0 or riff_size > file_size - 8 or riff_size + 8 < data_end
        if fix_data:
            handle.seek(data_offset - 4)
            handle.write(struct.pack("<I", data_size))
        if fix_riff:
            handle.seek(4)
            handle.write(struct.pack("<I", file_size - 8))
        if fix_data or fix_riff:
            handle.flush()
            os.fsync(handle.fileno())
        return fix_data or fix_riff


def _data_chunk_find(handle: BinaryIO, file_size: int, path: Path) -> tuple[int, int, bool]:
    """Walk the chunks to `data`: its payload offset, its true size, and whether the header is wrong."""
    block_align = 1
    position = _RIFF_HEADER_SIZE
    while position + _CHUNK_HEADER.size <= file_size:
        handle.seek(position)
        chunk_id, size = _CHUNK_HEADER.unpack(handle.read(_CHUNK_HEADER.size))
        payload = position + _CHUNK_HEADER.size
        if chunk_id == b"data":
            available = (file_size - payload) // block_align * block_align
            if size == 0 or size > file_size - payload:
                return payload, available, size != available
            if size < available and not _chunk_follows(handle, payload + size + (size & 1), file_size):
                return payload, available, True
            return payload, size, False
        if payload + size > file_size:
            raise WavUnreadable(f"{path}: chunk {chunk_id!r} runs past the end of the file")
        if chunk_id == b"fmt " and size >= _FMT_BLOCK_ALIGN_END:
            handle.seek(payload + _FMT_BLOCK_ALIGN_END - 2)
            (block_align,) = struct.unpack("<H", handle.read(2))
            block_align = max(block_align, 1)
        position = payload + size + (size & 1)  # chunks are word-aligned
    raise WavUnreadable(f"{path} has no data chunk")


def _chunk_follows(handle: BinaryIO, position: int, file_size: int) -> bool:
    """Whether a well-formed chunk header (printable id, size within the file) starts at `position`."""
    if position + _CHUNK_HEADER.size > file_size:
        return position >= file_size  # exactly at the end: the data chunk was the last one
    handle.seek(position)
    chunk_id, size = _CHUNK_HEADER.unpack(handle.read(_CHUNK_HEADER.size))
    printable = all(byte in _PRINTABLE for byte in chunk_id)
    return printable and position + _CHUNK_HEADER.size + size <= file_size


# --- Levels and tones --------------------------------------------------------------------------------


def audio_levels(source: Path | npt.NDArray[np.generic], *, sample_rate: int | None = None) -> AudioLevels:
    """Duration, RMS, peak and loud fraction of a sound file (read in blocks) or of samples in memory.

    For samples, `sample_rate` is required; a 2-D array is (frames, channels). Frames are whole 20 ms
    frames; a trailing partial frame is measured only when the recording is shorter than one frame.
    """
    if isinstance(source, Path):
        info = _sound_info(source)
        frame = _frame_length(info.sample_rate)
        blocks = sf.blocks(str(source), blocksize=frame * _FRAMES_PER_BLOCK, dtype="int16", always_2d=True)
        return _levels_of(blocks, info.sample_rate)
    if sample_rate is None:
        raise ValueError("audio_levels of samples needs their sample_rate")
    samples = source.reshape(len(source), -1) if source.ndim == 1 else source
    return _levels_of([samples], sample_rate)


def _frame_length(sample_rate: int) -> int:
    return max(sample_rate * FRAME_MS // 1000, 1)


def _levels_of(blocks: Iterable[npt.NDArray[np.generic]], sample_rate: int) -> AudioLevels:
    frame = _frame_length(sample_rate)
    frames = samples = frame_count = loud = 0
    squares = peak = 0.0
    for block in blocks:
        values = _on_16_bit_scale(block)
        if values.size == 0:
            continue
        frames += values.shape[0]
        samples += values.size
        squared = np.square(values)
        squares += float(squared.sum())
        peak = max(peak, float(np.abs(values).max()))
        whole = values.shape[0] // frame * frame
        per_frame = squared[:whole].reshape(-1, frame * values.shape[1]).mean(axis=1)
        if whole == 0 and frame_count == 0:  # a recording shorter than one frame is one frame
            per_frame = np.array([squared.mean()])
        frame_count += per_frame.shape[0]
        loud += int(np.count_nonzero(per_frame > LOUD_RMS**2))
    return AudioLevels(
        duration_ms=round(frames * 1000 / sample_rate),
        rms=round(math.sqrt(squares / samples)) if samples else 0,
        peak=round(peak),
        loud_fraction=loud / frame_count if frame_count else 0.0,
    )


def _on_16_bit_scale(samples: npt.NDArray[np.generic]) -> npt.NDArray[np.float64]:
    values = np.asarray(samples)
    if np.issubdtype(values.dtype, np.floating):
        return values.astype(np.float64) * FULL_SCALE
    return values.astype(np.float64)


def tone_power(samples: npt.NDArray[np.generic], rate: int, freq_hz: float) -> float:
    """Power of one frequency, normalised so that a sine of amplitude A (a fraction of full scale) gives
    about A²: a 0.5-FS tone gives ≈0.25, silence and other frequencies ≈0 (the test bed's figures).

    This is the Goertzel bin |X(f)|, computed as the equivalent single-frequency DFT in numpy chunks
    (the Goertzel recursion is sequential, ~100 times slower in Python). 2-D samples are mixed to mono.
    """
    values = _on_16_bit_scale(samples) / FULL_SCALE
    if values.ndim > 1:  # (frames, channels)
        values = values.mean(axis=1)
    count = values.shape[0]
    if count == 0:
        return 0.0
    omega = 2 * math.pi * freq_hz / rate
    total = 0j
    for start in range(0, count, _DFT_CHUNK):
        chunk = values[start : start + _DFT_CHUNK]
        phases = np.exp(-1j * omega * (start + np.arange(chunk.shape[0])))
        total += complex(np.dot(chunk, phases))
    return float((2 * abs(total) / count) ** 2)


def tone_presence(
    samples: npt.NDArray[np.generic], rate: int, freq_hz: float, *, threshold: float, window_ms: int = 100
) -> float:
    """The share of `window_ms` windows in which `freq_hz` is present (tone_power >= threshold).

    Measured per window rather than over the whole file: a single-frequency DFT over many seconds adds a
    tone up coherently, and each phase slip (a 20 ms frame a jitter buffer drops or conceals) cancels part
    of it, so a voice heard throughout can read as absent. The first and last windows are left out: a
    party may start or stop inside them.
    """
    size = rate * window_ms // 1000
    starts = range(size, len(samples) - 2 * size + 1, size)
    present = [tone_power(samples[start : start + size], rate, freq_hz) >= threshold for start in starts]
    return sum(present) / len(present) if present else 0.0


# --- Reading and transcoding ------------------------------------------------------------------------


def _sound_info(path: Path) -> AudioInfo:
    """Format of a 16-bit PCM sound file with at least one frame, or `WavUnreadable` saying why not."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as error:
        raise WavUnreadable(f"{path}: {error}") from error
    if info.subtype != "PCM_16":
        raise WavUnreadable(f"{path}: {info.subtype} audio, not 16-bit PCM")
    if info.frames <= 0:
        raise WavUnreadable(f"{path} holds no audio")
    return AudioInfo(sample_rate=info.samplerate, channels=info.channels, frames=info.frames)


def transcode_to_flac(src_wav: Path, dst_flac: Path) -> AudioInfo:
    """Write `src_wav` losslessly as 16-bit FLAC at `dst_flac`, atomically.

    The FLAC is written to a temporary file in the destination's directory, fsynced, and renamed over
    `dst_flac` (then the directory is fsynced), so a reader or a crash sees the old file or the whole new
    one, never half of it. Raises `WavUnreadable` (leaving no temporary file) if the source is not a
    16-bit PCM WAV with audio.
    """
    info = _sound_info(src_wav)
    descriptor, temporary = tempfile.mkstemp(dir=dst_flac.parent, prefix=f".{dst_flac.name}.", suffix=".tmp")
    os.close(descriptor)
    try:
        frames = _flac_write(src_wav, Path(temporary), info)
        os.replace(temporary, dst_flac)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    directory_fsync(dst_flac.parent)
    return AudioInfo(sample_rate=info.sample_rate, channels=info.channels, frames=frames)


def _flac_write(src_wav: Path, temporary: Path, info: AudioInfo) -> int:
    frames = 0
    try:
        with sf.SoundFile(
            str(temporary),
            mode="w",
            samplerate=info.sample_rate,
            channels=info.channels,
            format="FLAC",
            subtype="PCM_16",
        ) as flac:
            for block in sf.blocks(str(src_wav), blocksize=1 << 16, dtype="int16", always_2d=True):
                flac.write(block)
                frames += block.shape[0]
    except (sf.LibsndfileError, RuntimeError) as error:
        raise WavUnreadable(f"{src_wav}: {error}") from error
    with temporary.open("rb") as written:
        os.fsync(written.fileno())
    return frames


def directory_fsync(directory: Path) -> None:
    """Make a rename or a new entry in `directory` durable (POSIX: fsync the directory itself)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- Waveform peaks for the player -------------------------------------------------------------------


def waveform_peaks(path: Path, *, buckets: int = 2000) -> tuple[list[float], float]:
    """The loudest sample of each of `buckets` equal slices of a recording (0..1), and its duration in s.

    Read in blocks, so an hour-long call never sits in memory; the player draws the waveform from these
    instead of decoding the whole file in the browser.
    """
    info = sf.info(str(path))
    frames = max(info.frames, 1)
    per_bucket = max(math.ceil(frames / buckets), 1)
    peaks = [
        round(float(np.abs(block.astype(np.int32)).max(initial=0)) / FULL_SCALE, 4)
        for block in sf.blocks(str(path), blocksize=per_bucket, dtype="int16", always_2d=False)
    ]
    return peaks, info.frames / info.samplerate
