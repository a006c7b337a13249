"""The announcements' texts and audio: what each prompt says, and the WAV file the line plays for it.

A prompt's text is a template (Latvian, then English) stored in its `Prompt` row; `{hours_lv}`, `{hours_en}`,
`{email_lv}` and `{email_en}` are filled from the office hours (sla `OfficeHours`) and CC_MAIL_FROM, spelt
out in words, because espeak-ng reads "08:30" as "astoņi trīsdesmit" and "@" as the English "at".

Audio, in the order `prompt_audio_path` looks:
1. an admin's uploaded recording, converted once to the line's format into the cache;
2. the file committed under telephony/prompts/ by `manage.py prompts_generate`, when it was generated from
   the text in force (telephony/prompts/manifest.json records the text of each file);
3. otherwise (the hours, the address or the text changed since) the text synthesised into the cache.
The cache is CC_RECORDINGS_DIR/../prompts-cache, so the application never writes into its own code.

The line's conference bridge plays exactly one format: 16-bit PCM WAV, mono, 8000 Hz.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import time
from io import BytesIO
from pathlib import Path

import numpy as np
import soundfile
from django.conf import settings

from sla.models import OfficeHours
from telephony.models import Prompt, PromptCode

logger = logging.getLogger(__name__)

PROMPT_DIR = Path(__file__).parent / "prompts"
PROMPT_MANIFEST = PROMPT_DIR / "manifest.json"
SAMPLE_RATE = 8000
PAUSE_BETWEEN_LANGUAGES_S = 0.4
# Words per minute: espeak-ng's default 175 is hurried on a narrow-band telephone line.
SPEECH_RATE_WPM = 165
PLACEHOLDERS = ("hours_lv", "hours_en", "email_lv", "email_en")
_PLACEHOLDER = re.compile(r"\{(\w*)\}")

# The defaults the data migration seeds (it keeps a frozen copy; a test keeps the two equal).
PROMPT_DEFAULTS: Mapping[str, tuple[str, str]] = {
    PromptCode.RECORDING_NOTICE: (
        "Jūsu saruna tiks ierakstīta kvalitātes kontrolei.",
        "Your call will be recorded for quality control.",
    ),
    PromptCode.CLOSED: (
        "Valsts kase. Pašlaik klientu apkalpošana nestrādā. "
        "Zvaniet {hours_lv}, vai rakstiet uz e-pastu {email_lv}. Paldies!",
        "State Treasury. We are closed now. Please call {hours_en}, or write to {email_en}. Thank you.",
    ),
    PromptCode.ALL_BUSY: (
        "Pašlaik visi konsultanti ir aizņemti. Jautājumu varat rakstīt uz e-pastu {email_lv}. "
        "Lai mēs jums atzvanītu, nospiediet taustiņu viens.",
        "All our consultants are busy. You can write to {email_en}. To be called back, press 1.",
    ),
    PromptCode.CALLBACK_CONFIRMED: (
        "Paldies! Mēs jums atzvanīsim, tiklīdz būs iespējams. Uz dzirdēšanos!",
        "Thank you. We will call you back as soon as possible. Goodbye.",
    ),
}


class PromptAudioError(Exception):
    """A prompt's audio cannot be made: espeak-ng or sox missing or failing, or an unreadable upload."""


# --- Texts ----------------------------------------------------------------------------------------


def prompt_texts(code: str) -> tuple[str, str]:
    """The Latvian and English text the caller hears for `code`, placeholders filled in."""
    row = Prompt.objects.filter(code=code).values_list("text_lv", "text_en").first()
    text_lv, text_en = row or PROMPT_DEFAULTS[code]
    values = prompt_placeholder_values()
    return prompt_render(text_lv, values), prompt_render(text_en, values)


def prompt_placeholder_values() -> dict[str, str]:
    """What each placeholder stands for now: the office hours and the shared inbox, spelt for speech."""
    hours = {row.weekday: (row.opens_at, row.closes_at) for row in OfficeHours.objects.all()}
    email = str(settings.CC_MAIL_FROM)
    return {
        "hours_lv": hours_spoken_lv(hours),
        "hours_en": hours_spoken_en(hours),
        "email_lv": email_spoken_lv(email),
        "email_en": email_spoken_en(email),
    }


def prompt_render(template: str, values: Mapping[str, str]) -> str:
    """`template` with each known `{placeholder}` replaced; any other brace is left as it is."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def prompt_unknown_placeholders(template: str) -> list[str]:
    """The `{names}` in `template` that are not placeholders (the admin refuses them: likely typos)."""
    return [m.group(0) for m in _PLACEHOLDER.finditer(template) if m.group(1) not in PLACEHOLDERS]


# Cardinal numbers as espeak-ng's Latvian voice reads them well; hours in the dative plural that
# "no …" and "līdz …" take for clock times ("no astoņiem trīsdesmit līdz septiņpadsmitiem piecpadsmit").
def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_LV_UNITS = _words("nulle viens divi trīs četri pieci seši septiņi astoņi deviņi")
_LV_TEENS = _words(
    "desmit vienpadsmit divpadsmit trīspadsmit četrpadsmit piecpadsmit sešpadsmit septiņpadsmit "
    "astoņpadsmit deviņpadsmit"
)
_LV_TENS = ("", "", "divdesmit", "trīsdesmit", "četrdesmit", "piecdesmit")
_LV_UNITS_DATIVE = _words("nulles vieniem diviem trim četriem pieciem sešiem septiņiem astoņiem deviņiem")
_LV_DAYS_FROM = _words("pirmdienas otrdienas trešdienas ceturtdienas piektdienas sestdienas svētdienas")
_LV_DAYS_TO = _words("pirmdienai otrdienai trešdienai ceturtdienai piektdienai sestdienai svētdienai")
_LV_DAYS_ON = _words("pirmdien otrdien trešdien ceturtdien piektdien sestdien svētdien")
_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def number_lv(n: int) -> str:
    """0 to 59 in Latvian words (nominative)."""
    if n < 10:  # noqa: PLR2004
        return _LV_UNITS[n]
    if n < 20:  # noqa: PLR2004
        return _LV_TEENS[n - 10]
    tens, units = divmod(n, 10)
    return _LV_TENS[tens] + (f" {_LV_UNITS[units]}" if units else "")


def _hour_lv(n: int) -> str:
    if n < 10:  # noqa: PLR2004
        return _LV_UNITS_DATIVE[n]
    if n < 20:  # noqa: PLR2004
        return _LV_TEENS[n - 10] + "iem"
    return "divdesmitiem" if n == 20 else f"divdesmit {_LV_UNITS_DATIVE[n - 20]}"  # noqa: PLR2004


def time_spoken_lv(at: time) -> str:
    """08:30 → "astoņiem trīsdesmit", 16:00 → "sešpadsmitiem", 9:05 → "deviņiem nulle pieci"."""
    if not at.minute:
        return _hour_lv(at.hour)
    minutes = number_lv(at.minute) if at.minute >= 10 else f"nulle {number_lv(at.minute)}"  # noqa: PLR2004
    return f"{_hour_lv(at.hour)} {minutes}"


def time_spoken_en(at: time) -> str:
    """08:30 → "8:30 am", 16:00 → "4 pm" (espeak-ng reads "16:00" as "sixteen zero zero")."""
    if (at.hour, at.minute) == (12, 0):
        return "12 noon"
    hour = at.hour % 12 or 12
    clock = f"{hour}:{at.minute:02d}" if at.minute else str(hour)
    return f"{clock} {'am' if at.hour < 12 else 'pm'}"  # noqa: PLR2004


def _day_groups(hours: Mapping[int, tuple[time, time]]) -> list[tuple[int, int, time, time]]:
    """Runs of consecutive weekdays with the same hours: (first, last, opens, closes)."""
    groups: list[tuple[int, int, time, time]] = []
    for weekday in sorted(hours):
        opens, closes = hours[weekday]
        if groups and groups[-1][1] == weekday - 1 and groups[-1][2:] == (opens, closes):
            groups[-1] = (groups[-1][0], weekday, opens, closes)
        else:
            groups.append((weekday, weekday, opens, closes))
    return groups


def _joined(parts: list[str], conjunction: str) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f", {conjunction} " + parts[-1]


def hours_spoken_lv(hours: Mapping[int, tuple[time, time]]) -> str:
    """Like "no pirmdienas līdz ceturtdienai, no astoņiem trīsdesmit līdz …, un piektdien līdz …"."""
    if not hours:
        return "darba laikā"
    parts, opened = [], None
    for first, last, opens, closes in _day_groups(hours):
        days = _LV_DAYS_ON[first] if first == last else f"no {_LV_DAYS_FROM[first]} līdz {_LV_DAYS_TO[last]}"
        if opens == opened:  # the same opening as the days before: only the closing is news
            parts.append(f"{days} līdz {time_spoken_lv(closes)}")
        else:
            parts.append(f"{days}, no {time_spoken_lv(opens)} līdz {time_spoken_lv(closes)}")
        opened = opens
    return _joined(parts, "un")


def hours_spoken_en(hours: Mapping[int, tuple[time, time]]) -> str:
    """Like "Monday to Thursday, 8:30 am to 5:15 pm, and on Friday until 4 pm"."""
    if not hours:
        return "during office hours"
    parts, opened = [], None
    for first, last, opens, closes in _day_groups(hours):
        days = f"on {_EN_DAYS[first]}" if first == last else f"{_EN_DAYS[first]} to {_EN_DAYS[last]}"
        if opens == opened:
            parts.append(f"{days} until {time_spoken_en(closes)}")
        else:
            parts.append(f"{days}, {time_spoken_en(opens)} to {time_spoken_en(closes)}")
        opened = opens
    return _joined(parts, "and")


# Latvian letter names, for labels the Latvian voice cannot read as a word ("lv" → "el vē").
_LV_LETTERS = dict(
    zip(
        "abcčdefgģhijkķlļmnņoprsštuūvzžqwxyāēīō",
        _words(
            "a bē cē čē dē e ef gā ģē hā i jē kā ķē el eļ em en eņ o pē er es eš tē u ū vē zē žē "
            "kū dubultvē iks igrek ā ē ī ō"
        ),
        strict=True,
    )
)
_LV_SYMBOLS = {"-": "defise", "_": "apakšsvītra", "+": "plus", ".": "punkts"}
_EN_SYMBOLS = {"-": "dash", "_": "underscore", "+": "plus", ".": "dot"}
# Labels an English listener knows as words; every other label is spelt letter by letter, since an
# English reading of a Latvian word ("kase" as "case") would be written down wrong.
_EN_WORDS = frozenset({"gov", "com", "org", "net", "edu", "info", "mail"})
_VOWELS = set("aāeēiīoōuūy")


def _chunks(text: str) -> list[str]:
    """Runs of letters, runs of digits, and single other characters."""
    return re.findall(r"[^\W\d_]+|\d+|.", text.lower())


def email_spoken_lv(address: str) -> str:
    """ekase@kase.gov.lv → "ekase et kase punkts gov punkts el vē" (espeak-ng says "@" in English)."""
    words: list[str] = []
    for chunk in _chunks(address):
        if chunk == "@":
            words.append("et")
        elif chunk in _LV_SYMBOLS:
            words.append(_LV_SYMBOLS[chunk])
        elif chunk.isdigit():
            words.extend(_LV_UNITS[int(d)] for d in chunk)
        elif len(chunk) <= 2 or not _VOWELS & set(chunk):  # noqa: PLR2004
            words.extend(_LV_LETTERS.get(c, c) for c in chunk)
        else:
            words.append(chunk)
    return " ".join(words)


def email_spoken_en(address: str) -> str:
    """ekase@kase.gov.lv → "E K A- S E at K A- S E dot gov dot L V".

    espeak-ng reads a lone "A" as the article; "A-" as the letter.
    """
    words: list[str] = []
    for chunk in _chunks(address):
        if chunk == "@":
            words.append("at")
        elif chunk in _EN_SYMBOLS:
            words.append(_EN_SYMBOLS[chunk])
        elif chunk.isdigit():
            words.extend(chunk)
        elif chunk in _EN_WORDS:
            words.append(chunk)
        else:
            words.extend("A-" if letter == "A" else letter for letter in chunk.upper())
    return " ".join(words)


# --- Audio ----------------------------------------------------------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise PromptAudioError(f"{name} not found: install espeak-ng and sox (apt install espeak-ng sox)")
    return path


def _run(args: list[str], *, stdin: bytes | None = None) -> None:
    try:
        subprocess.run(args, input=stdin, capture_output=True, check=True, timeout=60)  # noqa: S603
    except subprocess.CalledProcessError as error:
        detail = error.stderr.decode(errors="replace").strip()
        raise PromptAudioError(f"{Path(args[0]).name} failed: {detail}") from error
    except subprocess.TimeoutExpired as error:
        raise PromptAudioError(f"{Path(args[0]).name} timed out") from error


@contextmanager
def _atomic_target(out_wav: Path) -> Iterator[Path]:
    """A temporary path beside `out_wav`, moved over it on success: a reader never sees half a file."""
    out_wav.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=out_wav.parent, prefix=f".{out_wav.stem}-", suffix=".wav")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        tmp.chmod(0o644)
        tmp.replace(out_wav)
    finally:
        tmp.unlink(missing_ok=True)


_LINE_FORMAT = _words(f"-r {SAMPLE_RATE} -c 1 -b 16 -e signed-integer -t wav")


def _sox_to_line_format(sources: list[Path], out_wav: Path, *effects: str) -> None:
    # -R on every call: dither noise is then seeded the same on every run, so regenerating an
    # unchanged text writes the same bytes and git sees no change.
    sox = [_tool("sox"), "-R", "-V1", *map(str, sources), *_LINE_FORMAT, str(out_wav)]
    _run([*sox, "remix", "-", "rate", "-h", str(SAMPLE_RATE), *effects])


def _speak(espeak: str, voice: str, text: str, out_wav: Path) -> tuple[np.ndarray, int]:
    # Text on stdin, read as UTF-8 (-b 1) whatever the locale: on argv a leading "-" would be taken
    # for an option, and a C locale would garble the diacritics.
    speak = [espeak, "-v", voice, "-s", str(SPEECH_RATE_WPM), "-b", "1", "-w", str(out_wav)]
    _run(speak, stdin=text.encode())
    samples, rate = soundfile.read(str(out_wav), dtype="float32")
    # espeak-ng ends each text with ~0.3 s of silence; cut it so the pause is the one we choose.
    voiced = np.flatnonzero(np.abs(samples) > 1e-3)  # noqa: PLR2004
    return samples[: voiced[-1] + 1 if voiced.size else 0], rate


def prompt_synthesise(text_lv: str, text_en: str, out_wav: Path) -> None:
    """Speak `text_lv` (espeak-ng -v lv), a pause, then `text_en` (-v en) into `out_wav` (line format).

    Writes `out_wav` atomically; raises PromptAudioError when espeak-ng or sox is missing or fails.
    """
    espeak, _ = _tool("espeak-ng"), _tool("sox")
    with tempfile.TemporaryDirectory(prefix="prompt-") as tmp_dir:
        tmp = Path(tmp_dir)
        texts = [(voice, text) for voice, text in (("lv", text_lv), ("en", text_en)) if text.strip()]
        if not texts:
            raise PromptAudioError("Both texts are empty: nothing to say")
        spoken = [_speak(espeak, voice, text, tmp / f"{voice}.wav") for voice, text in texts]
        rates = {rate for _, rate in spoken}
        if len(rates) != 1:
            raise PromptAudioError(f"espeak-ng voices spoke at different sample rates: {sorted(rates)}")
        rate = rates.pop()
        pause = np.zeros(round(PAUSE_BETWEEN_LANGUAGES_S * rate), dtype=np.float32)
        # Each language followed by the pause: between them, and at the end so the bridge never clips
        # the last word.
        joined = np.concatenate([part for samples, _ in spoken for part in (samples, pause)])
        both = tmp / "both.wav"
        soundfile.write(str(both), joined, rate, subtype="FLOAT")
        with _atomic_target(out_wav) as target:
            # Peak at -1 dBFS: espeak-ng's level varies by voice; the bridge mixes at unity gain.
            _sox_to_line_format([both], target, "norm", "-1")


def prompt_duration_ms(path: Path) -> int:
    """How long the WAV at `path` plays, in milliseconds."""
    info = soundfile.info(str(path))
    return round(info.frames * 1000 / info.samplerate)


def prompt_cache_dir() -> Path:
    return Path(settings.CC_RECORDINGS_DIR).parent / "prompts-cache"


def prompt_generated_path(code: str) -> Path:
    """The committed file `manage.py prompts_generate` writes for `code`."""
    return PROMPT_DIR / f"{PromptCode(code).value}.wav"


def prompt_manifest() -> dict[str, dict[str, str]]:
    """Per code, the texts the committed file was generated from."""
    try:
        return dict(json.loads(PROMPT_MANIFEST.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {}


def prompt_manifest_record(code: str, text_lv: str, text_en: str) -> None:
    manifest = prompt_manifest() | {code: {"text_lv": text_lv, "text_en": text_en}}
    body = json.dumps(dict(sorted(manifest.items())), ensure_ascii=False, indent=2) + "\n"
    fd, name = tempfile.mkstemp(dir=PROMPT_DIR, prefix=".manifest-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(body)
    Path(name).chmod(0o644)
    Path(name).replace(PROMPT_MANIFEST)


def prompt_is_current(code: str, texts: tuple[str, str] | None = None) -> bool:
    """True when the committed file exists and was generated from the text in force now."""
    text_lv, text_en = texts or prompt_texts(code)
    recorded = prompt_manifest().get(code)
    current = recorded == {"text_lv": text_lv, "text_en": text_en}
    return current and prompt_generated_path(code).exists()


def prompt_synthesised_path(code: str) -> Path:
    """The text in force for `code` spoken into the cache (synthesised now if not there yet)."""
    text_lv, text_en = prompt_texts(code)
    key = hashlib.sha256(f"{text_lv}\0{text_en}".encode()).hexdigest()[:16]
    path = prompt_cache_dir() / f"text-{code}-{key}.wav"
    if not path.exists():
        prompt_synthesise(text_lv, text_en, path)
    return path


def prompt_recording_path(prompt: Prompt) -> Path:
    """The admin's upload for `prompt` in the line's format, converted once into the cache.

    Keyed by the upload's content hash, so a replaced upload is converted again and an unchanged one never.
    Raises PromptAudioError when the file is not readable audio.
    """
    try:
        with prompt.recording.open("rb") as upload:
            data = upload.read()
    except OSError as error:
        raise PromptAudioError(f"{prompt.recording.name} cannot be read: {error}") from error
    path = prompt_cache_dir() / f"upload-{hashlib.sha256(data).hexdigest()[:16]}.wav"
    if path.exists():
        return path
    try:
        samples, rate = soundfile.read(BytesIO(data), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as error:
        raise PromptAudioError(f"{prompt.recording.name} is not readable audio: {error}") from error
    with tempfile.TemporaryDirectory(prefix="prompt-") as tmp_dir:
        # soundfile reads what sox may not (MP3, OGG); sox resamples with a proper low-pass filter.
        mono = Path(tmp_dir) / "mono.wav"
        soundfile.write(str(mono), np.mean(samples, axis=1), rate, subtype="FLOAT")
        with _atomic_target(path) as target:
            _sox_to_line_format([mono], target)
    return path


def prompt_audio_path(code: str) -> Path:
    """The WAV (16-bit PCM, mono, 8 kHz) the line plays for `code`.

    The uploaded recording if any; else the committed generated file when it says the text in force;
    else that text synthesised into the cache. A caller always hears something: an upload that cannot
    be read, or synthesis that is impossible here (no espeak-ng), falls back to the text's audio or the
    committed file, and is logged. Side effect: may write into the cache.
    """
    prompt = Prompt.objects.filter(code=code).first()
    if prompt is not None and prompt.recording:
        try:
            return prompt_recording_path(prompt)
        except PromptAudioError:
            logger.exception("prompt %s: the uploaded recording cannot be played; using the text", code)
    texts = prompt_texts(code)
    if prompt_is_current(code, texts):
        return prompt_generated_path(code)
    try:
        return prompt_synthesised_path(code)
    except PromptAudioError:
        committed = prompt_generated_path(code)
        if not committed.exists():
            raise
        logger.warning("prompt %s: playing %s, generated from an older text", code, committed, exc_info=True)
        return committed


def prompt_generate(code: str) -> bool:
    """Write the committed file for `code` from the text in force and record that text in the manifest.

    Returns whether the file's bytes changed (an unchanged text writes the same bytes: git sees nothing).
    """
    text_lv, text_en = prompt_texts(code)
    target = prompt_generated_path(code)
    with tempfile.TemporaryDirectory(prefix="prompt-") as tmp_dir:
        fresh = Path(tmp_dir) / target.name
        prompt_synthesise(text_lv, text_en, fresh)
        changed = not target.exists() or fresh.read_bytes() != target.read_bytes()
        if changed:
            with _atomic_target(target) as tmp:
                shutil.copyfile(fresh, tmp)
    prompt_manifest_record(code, text_lv, text_en)
    return changed


def prompt_check(code: str) -> str | None:
    """Why the committed file for `code` is not fit to play, or None: missing, stale, wrong format."""
    path = prompt_generated_path(code)
    if not path.exists():
        return "missing"
    info = soundfile.info(str(path))
    if (info.format, info.subtype, info.channels, info.samplerate) != ("WAV", "PCM_16", 1, SAMPLE_RATE):
        return (
            f"not 16-bit mono {SAMPLE_RATE} Hz WAV ({info.subtype}, {info.channels} ch, {info.samplerate} Hz)"
        )
    if not prompt_is_current(code):
        return "stale: generated from another text (run manage.py prompts_generate)"
    return None
