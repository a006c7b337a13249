"""pjsua2 glue: one Endpoint per process, its account, and Call subclasses that forward their callbacks.

Threading (TESTBED.md §B): `threadCnt = 0` and `mainThreadOnly = True`, so every callback runs inside
`Endpoint.libHandleEvents()` on the one thread that polls it; only that thread touches pjsua2 objects.
A Call object must stay referenced until it is disconnected: when Python collects it, the C++ destructor
hangs the call up (a caller once got 603 that way).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pjsua2 as pj

log = logging.getLogger(__name__)

# The wheel is built with PJSUA_MAX_CALLS = 4 (TESTBED.md §H); a caller and an agent leg are two calls.
MAX_CALLS = 4
CALLERS_PER_HANDLER = MAX_CALLS // 2
CLOCK_RATE = 8000  # the bridge's rate = the recorders' WAV rate = the prompts' rate


class CallEvents(Protocol):
    def leg_state(self, leg: Leg) -> None: ...
    def leg_media(self, leg: Leg) -> None: ...
    def leg_dtmf(self, leg: Leg, digit: str) -> None: ...
    def incoming(self, account: LineAccount, call_id: int, request: str) -> None: ...


class Leg(pj.Call):  # SWIG classes carry no type information: pjsua2 is Any to mypy
    """One call leg (the caller's, or the one to an agent's phone) with the session it belongs to."""

    def __init__(
        self, events: CallEvents, account: pj.Account, role: str, call_id: int | None = None
    ) -> None:
        if call_id is None:
            super().__init__(account)
        else:
            super().__init__(account, call_id)
        self.events = events
        self.role = role
        self.session: object | None = None
        self.disconnected = False
        self.hanging_up = False

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        self.events.leg_state(self)

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        self.events.leg_media(self)

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        self.events.leg_dtmf(self, prm.digit)

    def audio_media(self) -> pj.AudioMedia | None:
        """The active audio stream of this leg, or None while there is none."""
        info = self.getInfo()
        for index, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status in (
                pj.PJSUA_CALL_MEDIA_ACTIVE,
                pj.PJSUA_CALL_MEDIA_REMOTE_HOLD,
            ):
                return self.getAudioMedia(index)
        return None


class LineAccount(pj.Account):
    def __init__(self, events: CallEvents) -> None:
        super().__init__()
        self.events = events

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        self.events.incoming(self, prm.callId, prm.rdata.wholeMsg)


class Player(pj.AudioMediaPlayer):
    """A prompt played once; `finished` turns True at its end (read on the next poll, never destroyed in
    its own callback)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.finished = False
        self.createPlayer(str(path), pj.PJMEDIA_FILE_NO_LOOP)

    def onEof2(self) -> None:
        self.finished = True


@dataclass(frozen=True)
class EndpointSettings:
    host: str
    port: int
    rtp_port: int
    proxy: str  # sip:host:port of the front door, for legs to agents' phones
    log_path: Path | None = None


def endpoint_start(config: EndpointSettings) -> tuple[pj.Endpoint, pj.TransportConfig]:
    endpoint = pj.Endpoint()
    endpoint.libCreate()
    ep_config = pj.EpConfig()
    ep_config.uaConfig.threadCnt = 0
    ep_config.uaConfig.mainThreadOnly = True
    ep_config.uaConfig.maxCalls = MAX_CALLS
    ep_config.uaConfig.userAgent = "Valsts kase SLA line"
    ep_config.logConfig.consoleLevel = 1
    ep_config.logConfig.level = 3
    if config.log_path is not None:
        ep_config.logConfig.filename = str(config.log_path)
    ep_config.medConfig.noVad = True  # keep recording through silence: a recording keeps real time
    ep_config.medConfig.clockRate = CLOCK_RATE
    ep_config.medConfig.sndClockRate = CLOCK_RATE
    ep_config.medConfig.channelCount = 1
    endpoint.libInit(ep_config)
    transport = pj.TransportConfig()
    transport.port = config.port
    transport.boundAddress = config.host
    endpoint.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
    endpoint.libStart()
    endpoint.audDevManager().setNullDev()  # no sound card: the null device drives the bridge clock
    _codecs_prefer_g711(endpoint)
    return endpoint, transport


def _codecs_prefer_g711(endpoint: pj.Endpoint) -> None:
    for codec in endpoint.codecEnum2():
        name = codec.codecId
        priority = 255 if name.startswith(("PCMA/", "PCMU/")) else 128 if name.startswith("G722/") else 0
        endpoint.codecSetPriority(name, priority)


def account_create(events: CallEvents, config: EndpointSettings) -> LineAccount:
    account_config = pj.AccountConfig()
    account_config.idUri = f"sip:line@{config.host}:{config.port}"
    account_config.sipConfig.proxies.append(f"{config.proxy};lr")
    account_config.mediaConfig.transportConfig.boundAddress = config.host
    account_config.mediaConfig.transportConfig.port = config.rtp_port
    account_config.mediaConfig.transportConfig.portRange = 40
    account = LineAccount(events)
    account.create(account_config)
    return account


def call_op(status_code: int = 0) -> pj.CallOpParam:
    operation = pj.CallOpParam(True)
    if status_code:
        operation.statusCode = status_code
    return operation


def ringback_tone(on_ms: int, off_ms: int, frequency_hz: int = 425) -> pj.ToneGenerator:
    """The ringback the caller hears while agents are rung (425 Hz, the configured cadence)."""
    tone = pj.ToneGenerator()
    tone.createToneGenerator(CLOCK_RATE, 1)
    desc = pj.ToneDesc()
    desc.freq1 = frequency_hz
    desc.freq2 = 0
    desc.on_msec = on_ms
    desc.off_msec = off_ms
    tones = pj.ToneDescVector()
    tones.append(desc)
    tone.play(tones, True)
    return tone
