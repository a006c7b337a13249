"""The simulation's options and its schedule: when each call and e-mail comes, and of what kind.

The schedule is drawn from ``random.Random`` streams seeded from ``--seed`` (one per stream, so adding
e-mails does not move the calls), which makes a run repeatable: the same seed gives the same callers,
talk times, abandon times and e-mails at the same offsets. The phones' ring times are drawn by SIPp
itself within ``--answer-after`` (see sipp.AgentPhone), and what the line does with the calls depends
on timing, so the outcomes of two runs differ in detail.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

# Callers: most wait as long as it takes; some hang up before the third ring is over (a short abandon,
# counted but not breached: HANDBOOK PH-RING) and a few after it (a breach).
SHORT_ABANDON_S = (3.0, 12.0)
LATE_ABANDON_S = (20.0, 40.0)
CALLER_POOL = 40  # distinct callers' numbers; a number may call again
_T = TypeVar("_T")


class CallKind(StrEnum):
    PATIENT = "patient"
    SHORT_ABANDON = "short_abandon"
    LATE_ABANDON = "late_abandon"


CALL_MIX = ((CallKind.PATIENT, 70), (CallKind.SHORT_ABANDON, 20), (CallKind.LATE_ABANDON, 10))


class MailKind(StrEnum):
    QUESTION = "question"
    PORTAL_QUESTION = "portal_question"
    SIGNED_SUBMISSION = "signed_submission"
    FOLLOW_UP = "follow_up"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    MAILING_LIST = "mailing_list"
    BROKEN_MIME = "broken_mime"
    HOSTILE_HTML = "hostile_html"
    HUGE_HEADER = "huge_header"
    RAW_8BIT_HEADERS = "raw_8bit_headers"
    NO_SENDER = "no_sender"


ODD_MAIL = frozenset(
    {
        MailKind.BROKEN_MIME,
        MailKind.HOSTILE_HTML,
        MailKind.HUGE_HEADER,
        MailKind.RAW_8BIT_HEADERS,
        MailKind.NO_SENDER,
    }
)
# The first e-mails show every kind once (a question first: follow-ups and auto-replies answer one);
# after them the kinds are drawn by weight.
MAIL_TOUR = (
    MailKind.QUESTION,
    MailKind.PORTAL_QUESTION,
    MailKind.SIGNED_SUBMISSION,
    MailKind.QUESTION,
    MailKind.AUTO_REPLY,
    MailKind.FOLLOW_UP,
    MailKind.HOSTILE_HTML,
    MailKind.BOUNCE,
    MailKind.BROKEN_MIME,
    MailKind.MAILING_LIST,
    MailKind.RAW_8BIT_HEADERS,
    MailKind.HUGE_HEADER,
    MailKind.NO_SENDER,
)
MAIL_WEIGHTS = (
    (MailKind.QUESTION, 45),
    (MailKind.PORTAL_QUESTION, 6),
    (MailKind.SIGNED_SUBMISSION, 4),
    (MailKind.FOLLOW_UP, 15),
    (MailKind.AUTO_REPLY, 10),
    (MailKind.BOUNCE, 4),
    (MailKind.MAILING_LIST, 6),
    *((kind, 4) for kind in sorted(ODD_MAIL)),
)


@dataclass(frozen=True)
class Span:
    """A range of seconds to draw from uniformly (``low == high``: always that)."""

    low: float
    high: float

    def draw(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)

    def __str__(self) -> str:
        return f"{self.low:g} s" if self.low == self.high else f"{self.low:g}–{self.high:g} s"


_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:[-–:]\s*(\d+(?:\.\d+)?))?\s*$")


def span_parse(text: str) -> Span:
    """``"3-20"`` (seconds, from 3 to 20) or ``"5"`` (always 5); ValueError naming the form otherwise."""
    match = _SPAN.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a number of seconds or a range LOW-HIGH (e.g. 3-20)")
    low = float(match[1])
    high = float(match[2]) if match[2] is not None else low
    if high < low:
        raise ValueError(f"{text!r}: the range ends before it starts")
    return Span(low, high)


@dataclass(frozen=True)
class Options:
    calls_per_minute: float
    emails_per_minute: float
    minutes: float | None  # None: until Ctrl-C
    agents: int
    answer_after: Span  # how long an agent's phone rings before it answers
    talk: Span
    seed: int | None
    lmtp: str  # host:port of the mailbox's LMTP; "" delivers with IMAP APPEND
    open_line: bool
    drain_s: float  # at the end of --minutes, calls in progress get this long to end on their own


@dataclass(frozen=True)
class PlannedCall:
    number: int
    at_s: float  # seconds after the start
    kind: CallKind
    caller: str  # the caller's number, as the line sees it (From user part)
    talk_s: float
    abandon_after_s: float | None  # after the first ring; None: waits for an answer


@dataclass(frozen=True)
class PlannedMail:
    number: int
    at_s: float
    kind: MailKind


def _arrivals(rng: random.Random, per_minute: float) -> Iterator[float]:
    """Offsets in seconds at about ``per_minute`` a minute: each gap within ±50 % of the mean."""
    if per_minute <= 0:
        return
    mean = 60.0 / per_minute
    at = mean * rng.uniform(0.1, 0.6)
    while True:
        yield at
        at += mean * rng.uniform(0.5, 1.5)


def _weighted(rng: random.Random, choices: tuple[tuple[_T, int], ...]) -> _T:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights=weights)[0]


class Schedule:
    """The calls and e-mails of one run, as endless iterators in time order (the runner stops them)."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self._seed = "unseeded" if options.seed is None else str(options.seed)
        system = random.SystemRandom()
        self._salt = "" if options.seed is not None else str(system.random())

    def rng(self, stream: str) -> random.Random:
        """A random stream of its own for ``stream`` (calls, mail, content, ...)."""
        return random.Random(f"{self._seed}:{self._salt}:{stream}")  # noqa: S311 -- a demo, not a secret

    def calls(self) -> Iterator[PlannedCall]:
        rng = self.rng("calls")
        numbers = [f"3712{rng.randrange(10**7):07d}" for _ in range(CALLER_POOL)]
        for number, at in enumerate(_arrivals(rng, self.options.calls_per_minute), start=1):
            kind = _weighted(rng, CALL_MIX)
            abandon = {
                CallKind.PATIENT: None,
                CallKind.SHORT_ABANDON: rng.uniform(*SHORT_ABANDON_S),
                CallKind.LATE_ABANDON: rng.uniform(*LATE_ABANDON_S),
            }[kind]
            yield PlannedCall(
                number=number,
                at_s=at,
                kind=kind,
                caller=rng.choice(numbers),
                talk_s=self.options.talk.draw(rng),
                abandon_after_s=abandon,
            )

    def mails(self) -> Iterator[PlannedMail]:
        rng = self.rng("mail")
        for number, at in enumerate(_arrivals(rng, self.options.emails_per_minute), start=1):
            kind = MAIL_TOUR[number - 1] if number <= len(MAIL_TOUR) else _weighted(rng, MAIL_WEIGHTS)
            yield PlannedMail(number=number, at_s=at, kind=kind)
