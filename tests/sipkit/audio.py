"""Tones as SIPp streams them (headerless G.711 u-law at 8 kHz), and a tone's level in recorded samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 8000  # G.711
CALLER_TONE_HZ = 440.0
AGENT_TONE_HZ = 1000.0
TONE_AMPLITUDE = 0.25  # of full scale: a caller and an agent mixed into one recording do not clip

_ULAW_BIAS = 0x84
_ULAW_CLIP = 32635


def ulaw_encode(pcm: npt.NDArray[np.int16]) -> bytes:
    """G.711 u-law of 16-bit PCM (the ITU-T reference algorithm, vectorised)."""
    values = pcm.astype(np.int32)
    sign = np.where(values < 0, 0x80, 0x00)
    magnitude = np.minimum(np.abs(values), _ULAW_CLIP) + _ULAW_BIAS
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    encoded = ~(sign | (exponent << 4) | mantissa) & 0xFF
    return encoded.astype(np.uint8).tobytes()


def ulaw_decode(data: bytes) -> npt.NDArray[np.int16]:
    """16-bit PCM from G.711 u-law bytes."""
    codes = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _ULAW_BIAS) << exponent) - _ULAW_BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def tone_ul(path: Path, freq_hz: float, seconds: float, amplitude: float = TONE_AMPLITUDE) -> Path:
    """Write a sine tone as headerless u-law at 8 kHz (SIPp's rtp_stream plays no WAV header)."""
    if not 0 < amplitude <= 1:
        raise ValueError(f"amplitude {amplitude} is not a fraction of full scale")
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    pcm = np.round(amplitude * 32767 * np.sin(2 * np.pi * freq_hz * t)).astype(np.int16)
    path.write_bytes(ulaw_encode(pcm))
    return path


def tone_level(samples: npt.ArrayLike, freq_hz: float, rate: int = SAMPLE_RATE) -> float:
    """Amplitude of ``freq_hz`` in 16-bit ``samples`` as a fraction of full scale (one DFT bin).

    A pure tone at amplitude A reads about A; a frequency that is absent reads about 0.
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        return 0.0
    phase = np.exp(-2j * np.pi * freq_hz * np.arange(x.size) / rate)
    return float(2 * np.abs(np.dot(x, phase)) / x.size / 32768)
