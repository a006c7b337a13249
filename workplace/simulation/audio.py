"""What the simulated people say: Latvian speech from espeak-ng (the voice the line's prompts use), as the
headerless G.711 u-law at 8 kHz that SIPp's rtp_stream plays (it reads no WAV header). Without espeak-ng
or sox the caller plays a 440 Hz tone and the agent a 1 kHz one, so a recording still has both parties.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import soundfile

from telephony.prompts import PromptAudioError, prompt_synthesise

RATE = 8000
# Of full scale: the line mixes caller and agent into one recording at unity gain, so each stays well
# below half of it (the prompts are normalised to -1 dBFS).
LEVEL = 0.35
PAUSE_S = 1.5  # between repeats: rtp_stream loops the file for as long as the call lasts

CALLER_TONE_HZ = 440.0
AGENT_TONE_HZ = 1000.0

CALLER_LINES = (
    "Labdien! Es zvanu par sava konta izrakstu. Vai jūs varētu pateikt, kāpēc maksājums vēl nav redzams?",
    "Labdien! Mums jāiesniedz jauna paraksta paraugu kartīte. Kā to izdarīt elektroniski?",
    "Sveiki! Nevaru pieslēgties e-pakalpojumiem, sistēma saka, ka lietotājs ir bloķēts.",
    "Labdien! Es gribētu iegādāties krājobligācijas. Cik ilgi tas aizņem?",
    "Labdien! Maksājumā norādīts nepareizs klasifikācijas kods. Kā to var labot?",
    "Labdien! Mūsu iestāde slēdz kontu Valsts kasē. Kādi dokumenti ir vajadzīgi?",
)


def agent_line(first_name: str) -> str:
    """PH-GREET: the institution and one's own name first."""
    return (
        f"Valsts kase, {first_name}! Lūdzu! Jā, protams, es jums palīdzēšu. Lūdzu, nosauciet klienta numuru."
    )


def voice_write(path: Path, text: str, *, tone_hz: float) -> bool:
    """Write ``text`` spoken (True), or a tone when speech cannot be made here (False), to ``path``."""
    try:
        with tempfile.TemporaryDirectory(prefix="cc-simulate-voice-") as tmp:
            wav = Path(tmp) / "speech.wav"
            prompt_synthesise(text, "", wav)
            samples, rate = soundfile.read(str(wav), dtype="float32")
        spoken = True
    except PromptAudioError:
        rate = RATE
        t = np.arange(5 * RATE) / RATE
        samples = np.sin(2 * np.pi * tone_hz * t).astype(np.float32)
        spoken = False
    if rate != RATE:
        raise PromptAudioError(f"speech came at {rate} Hz, not {RATE}")
    peak = float(np.max(np.abs(samples))) or 1.0
    audio = np.concatenate([samples / peak * LEVEL, np.zeros(round(PAUSE_S * RATE), dtype=np.float32)])
    soundfile.write(str(path), audio, RATE, format="RAW", subtype="ULAW")
    return spoken
