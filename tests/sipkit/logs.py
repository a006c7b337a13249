"""What the peers leave in their working directories: the per-call ``<log>`` lines of the SIPp scenarios
(``CALL``, ``DTMF``, ``AGENT``), SIPp's ``-trace_stat`` counters, and any log file as text."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CallRecord:
    """One call of a caller scenario, from its ``CALL`` log line (times in epoch milliseconds)."""

    call_id: str
    invite_sent_ms: float
    answered_ms: float | None
    final_status: int
    dtmf_sent_ms: float | None = None

    @property
    def wait_ms(self) -> float | None:
        """What the caller measured from INVITE to 200, or None when not answered."""
        return None if self.answered_ms is None else self.answered_ms - self.invite_sent_ms


@dataclass(frozen=True)
class AgentCall:
    """One call an agent scenario took, from its ``AGENT`` log line (times in epoch milliseconds)."""

    call_id: str
    invite_at_ms: float
    answered_at_ms: float | None
    ring_ms: float
    outcome: str  # answered, cancelled or busy
    request_uri: str


def _epoch_ms(seconds: str, micros: str) -> float | None:
    """SIPp prints gettimeofday() variables as doubles ("1795356715.000000 88889.000000")."""
    value = float(seconds) * 1000 + float(micros) / 1000
    return value or None


_CALL_LINE = re.compile(
    r"CALL call_id=(?P<call_id>\S+) invite_sent=(?P<is>\S+) (?P<ius>\S+) "
    r"answered=(?P<as>\S+) (?P<aus>\S+) status=(?P<status>[\d.]+)"
)
_DTMF_LINE = re.compile(r"DTMF call_id=(?P<call_id>\S+) sent=(?P<s>\S+) (?P<us>\S+)")
_AGENT_LINE = re.compile(
    r"AGENT call_id=(?P<call_id>\S+) invite_at=(?P<is>\S+) (?P<ius>\S+) "
    r"answered_at=(?P<as>\S+) (?P<aus>\S+) ring_ms=(?P<ring>[\d.]+) outcome=(?P<outcome>\w+) uri=(?P<uri>\S+)"
)


def caller_log_parse(text: str) -> list[CallRecord]:
    """The per-call records of a caller scenario's ``-trace_logs`` file, in the order written."""
    dtmf = {m["call_id"]: _epoch_ms(m["s"], m["us"]) for m in _DTMF_LINE.finditer(text)}
    records = []
    for m in _CALL_LINE.finditer(text):
        invite_sent_ms = _epoch_ms(m["is"], m["ius"])
        assert invite_sent_ms is not None, f"no INVITE time in {m.group(0)!r}"
        records.append(
            CallRecord(
                call_id=m["call_id"],
                invite_sent_ms=invite_sent_ms,
                answered_ms=_epoch_ms(m["as"], m["aus"]),
                final_status=int(float(m["status"])),
                dtmf_sent_ms=dtmf.get(m["call_id"]),
            )
        )
    return records


def agent_log_parse(text: str) -> list[AgentCall]:
    """The per-call records of an agent scenario's ``-trace_logs`` file, in the order written."""
    calls = []
    for m in _AGENT_LINE.finditer(text):
        invite_at_ms = _epoch_ms(m["is"], m["ius"])
        assert invite_at_ms is not None, f"no INVITE time in {m.group(0)!r}"
        calls.append(
            AgentCall(
                call_id=m["call_id"],
                invite_at_ms=invite_at_ms,
                answered_at_ms=_epoch_ms(m["as"], m["aus"]),
                ring_ms=float(m["ring"]),
                outcome=m["outcome"],
                request_uri=m["uri"],
            )
        )
    return calls


def sipp_stats_read(path: Path) -> dict[str, int]:
    """The cumulative counters of the last row of a ``-trace_stat`` file (IncomingCall, SuccessfulCall,
    FailedCall, ...); empty when SIPp wrote none."""
    try:
        rows = list(csv.reader(path.read_text(errors="replace").splitlines(), delimiter=";"))
    except OSError:
        return {}
    if len(rows) < 2:  # a header and at least one row
        return {}
    header, last = rows[0], rows[-1]
    counters = {}
    for name, value in zip(header, last, strict=False):
        if name.endswith("(C)") and value.strip().isdigit():
            counters[name.removesuffix("(C)")] = int(value)
    return counters


def log_read(path: Path) -> str:
    """A file a peer writes, as text; empty while it has written none."""
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
