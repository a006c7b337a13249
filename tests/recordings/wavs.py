"""Test audio: tones and silence as 16-bit samples, written as WAVs the way the line's recorder does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

RATE = 8000
CORPUS = Path(__file__).parent / "corpus"


def tone(freq_hz: float, seconds: float, amplitude: float = 0.5, rate: int = RATE) -> npt.NDArray[np.int16]:
    """A sine at `amplitude` (a fraction of full scale) as int16 samples."""
    n = np.arange(round(seconds * rate))
    return np.round(amplitude * 32767 * np.sin(2 * np.pi * freq_hz * n / rate)).astype(np.int16)


def silence(seconds: float, rate: int = RATE) -> npt.NDArray[np.int16]:
    return np.zeros(round(seconds * rate), dtype=np.int16)


def wav_write(path: Path, samples: npt.NDArray[np.int16], rate: int = RATE) -> Path:
    """A 16-bit PCM WAV with a canonical 44-byte header, as pjmedia's recorder writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), samples, rate, subtype="PCM_16", format="WAV")
    return path


def header_zero(path: Path) -> Path:
    """Set the RIFF and data sizes to 0, as a pjsua2 process killed while recording leaves them."""
    with path.open("r+b") as wav:
        header = wav.read(44)
        assert header[:4] == b"RIFF", "not a RIFF file"
        assert header[36:40] == b"data", "not a canonical 44-byte header"
        wav.seek(4)
        wav.write(b"\0\0\0\0")
        wav.seek(40)
        wav.write(b"\0\0\0\0")
    return path
