"""A call handler process: the SIP thread (telephony.line), the ledger thread, and recovery at start."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections

from agents.selectors import line_extensions
from sla.calendar_source import current_calendar
from sla.rules import PH_RING
from sla.services import policy_get, policy_ring_cadence
from telephony.journal import Journal
from telephony.ledger import LedgerThread, journal_recover
from telephony.line import Line, LineSettings
from telephony.models import PromptCode
from telephony.prompts import prompt_audio_path
from telephony.sip import EndpointSettings

log = logging.getLogger(__name__)

SETTINGS_REFRESH_S = 30.0


@dataclass(frozen=True)
class HandlerAddress:
    host: str
    port: int
    rtp_port: int

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def state_dir(self) -> Path:
        return Path(settings.CC_SIP_STATE_DIR) / "handlers" / f"{self.host}_{self.port}"


def line_settings_load(address: HandlerAddress) -> LineSettings:
    """Read what the SIP thread needs from the database (the calendar, the ring cadence, the prompts)."""
    cadence = policy_ring_cadence(policy_get(PH_RING))
    return LineSettings(
        calendar=current_calendar(),
        prompts={code: prompt_audio_path(code) for code in PromptCode.values},
        ring_on_ms=cadence.on_ms,
        ring_off_ms=cadence.off_ms,
        ring_s=float(settings.CC_SIP_RING_SECONDS),
        max_wait_s=float(settings.CC_SIP_MAX_WAIT_SECONDS),
        proxy_domain=settings.CC_SIP_DOMAIN,
        spool_dir=Path(settings.CC_RECORDINGS_DIR) / "spool" / f"{address.host}_{address.port}",
        record_split=settings.CC_SIP_RECORD_SPLIT,
        numbers=frozenset({settings.CC_SIP_LINE_NUMBER, *line_extensions()}),
    )


def front_door_uri() -> str:
    host, _, port = settings.CC_SIP_BIND.rpartition(":")
    return f"sip:{host}:{port}"


def handler_run(address: HandlerAddress, stop: threading.Event) -> None:
    """Run one call handler until `stop` is set; then let calls in progress finish (CC_SIP_DRAIN_SECONDS)."""
    journal = Journal(address.state_dir / "journal")
    dropped = journal_recover(journal.leftovers(), now=datetime.now(UTC))
    if dropped:
        log.warning("%d call(s) of the previous run of %s recorded as dropped", dropped, address.name)
    ledger = LedgerThread(journal, address.name)
    line = Line(
        EndpointSettings(
            host=address.host,
            port=address.port,
            rtp_port=address.rtp_port,
            proxy=front_door_uri(),
            log_path=address.state_dir / "pjsua.log",
        ),
        ledger,
        line_settings_load(address),
    )
    close_old_connections()  # the ledger thread has its own connection; this one is not used again here
    ledger.start()
    refresher = threading.Thread(
        target=_settings_refresh, args=(line, address, stop), name="settings", daemon=True
    )
    refresher.start()
    ended_cleanly = False
    try:
        line.run(stop, drain_s=float(settings.CC_SIP_DRAIN_SECONDS))
        ended_cleanly = line.finished_cleanly
    finally:
        ledger.stop()
        ledger.join(timeout=60)
        journal.close()
        # Only a run that ended every call and applied every fact leaves nothing to recover; otherwise
        # the journal stays, and the next start records the open calls as dropped.
        if ended_cleanly and not ledger.is_alive() and ledger.items.empty():
            journal.path.unlink(missing_ok=True)


def _settings_refresh(line: Line, address: HandlerAddress, stop: threading.Event) -> None:
    """Keep the SIP thread's calendar and prompts current (an admin's override applies within 30 s)."""
    while not stop.wait(SETTINGS_REFRESH_S):
        started = time.monotonic()
        try:
            fresh = line_settings_load(address)
        except Exception:
            log.exception("line settings not refreshed")
            close_old_connections()
            continue
        line.inbox.put(lambda fresh=fresh: setattr(line, "settings", fresh))  # type: ignore[misc]
        log.debug("line settings refreshed in %.3f s", time.monotonic() - started)
    close_old_connections()
