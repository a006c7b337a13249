"""Rings (PH-RING): counted from the measured wait with the configured cadence. Pure code."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agents.errors import DomainError


@dataclass(frozen=True)
class RingCadence:
    """Ring on/off durations in milliseconds; ring k starts at (k - 1) * period."""

    on_ms: int = 1000
    off_ms: int = 4000

    @property
    def period_ms(self) -> int:
        return self.on_ms + self.off_ms


class RingVerdict(StrEnum):
    MET = "met"
    BREACHED = "breached"
    SHORT_ABANDON = "short_abandon"


def _check_wait(wait_ms: int) -> None:
    if wait_ms < 0:
        raise DomainError("negative_wait", f"wait_ms must not be negative, got {wait_ms}")


def ring_count(wait_ms: int, cadence: RingCadence = RingCadence()) -> int:
    """Rings started within `wait_ms` of the call reaching the line (the first starts at 0 ms)."""
    _check_wait(wait_ms)
    return wait_ms // cadence.period_ms + 1


def ring_deadline_ms(max_rings: int, cadence: RingCadence = RingCadence()) -> int:
    """The instant the ring after `max_rings` would start: answering at or after it is late."""
    return max_rings * cadence.period_ms


def ring_verdict(
    *,
    wait_ms: int,
    answered: bool,
    max_rings: int = 3,
    cadence: RingCadence = RingCadence(),
) -> RingVerdict:
    """PH-RING for one call: `wait_ms` until the answer, or until the caller hung up if unanswered."""
    _check_wait(wait_ms)
    if wait_ms >= ring_deadline_ms(max_rings, cadence):
        return RingVerdict.BREACHED
    return RingVerdict.MET if answered else RingVerdict.SHORT_ABANDON
