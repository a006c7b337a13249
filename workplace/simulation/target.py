"""Where the running product is, and whether it runs: the phone line's front door (CC_SIP_BIND, Kamailio)
and the mailbox the mail watcher reads (CC_IMAP_*, or the local one scripts/start keeps in var/mail/).

`scripts/start` exports the local mailbox's CC_IMAP_* to the processes it starts, not to a shell where
`manage.py simulate` is typed; so when CC_IMAP_USER is unset and var/mail/ holds scripts/mail_local.sh's
mailbox, that is the product's mailbox (address and password from its users file, its fixed ports).
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from mail.config import ImapSettings, imap_settings
from mail.imap import imap_connect
from sla.calendar import is_office_open
from sla.calendar_source import current_calendar
from telephony.kamailio import CTL_SOCKET_NAME, KamailioError, dispatcher_state
from workplace.simulation.plan import Options
from workplace.simulation.sip import sip_options
from workplace.simulation.sipp import SippError, sipp_binary

START_HINT = "Start the product first: scripts/start (see the README)."
# scripts/mail_local.sh's fixed ports.
LOCAL_IMAP_PORT = 1143
LOCAL_LMTP_PORT = 2424


class ProductNotRunning(RuntimeError):
    """A part of the product the simulation drives does not answer."""


@dataclass(frozen=True)
class Mailbox:
    imap: ImapSettings
    address: str  # what clients write to, and the LMTP recipient
    lmtp: tuple[str, int] | None  # None: IMAP APPEND
    local: bool  # scripts/start's local mailbox in var/mail/

    @property
    def via(self) -> str:
        return f"LMTP {self.lmtp[0]}:{self.lmtp[1]}" if self.lmtp else f"IMAP APPEND to {self.imap.inbox}"


@dataclass(frozen=True)
class Target:
    front_door: tuple[str, int]
    domain: str
    line_number: str
    mailbox: Mailbox

    @property
    def front_door_address(self) -> str:
        return f"{self.front_door[0]}:{self.front_door[1]}"


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"{text!r} is not host:port")
    return host, int(port)


def _local_mailbox() -> tuple[str, str] | None:
    """(address, password) of scripts/mail_local.sh's mailbox, if var/mail/ holds one."""
    users = Path(settings.VAR_DIR) / "mail" / "users"
    try:
        first = users.read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    address, _, rest = first.partition(":")
    return address, rest.removeprefix("{PLAIN}").split(":", 1)[0]


def target_resolve(options: Options) -> Target:
    """The product's addresses from the settings (the local mailbox when no CC_IMAP_USER is set)."""
    imap = imap_settings()
    local = _local_mailbox() if not imap.user else None
    if local is not None:
        imap = replace(
            imap, host="127.0.0.1", port=LOCAL_IMAP_PORT, user=local[0], password=local[1], tls="none"
        )
    address = imap.user if "@" in imap.user else str(settings.CC_MAIL_FROM)
    if options.lmtp == "auto":
        lmtp = ("127.0.0.1", LOCAL_LMTP_PORT) if local else None
    else:
        lmtp = _address(options.lmtp) if options.lmtp else None
    return Target(
        front_door=_address(settings.CC_SIP_BIND),
        domain=settings.CC_SIP_DOMAIN,
        line_number=settings.CC_SIP_LINE_NUMBER,
        mailbox=Mailbox(imap=imap, address=address, lmtp=lmtp, local=local is not None),
    )


def target_check(target: Target, options: Options) -> tuple[Target, list[str]]:
    """Refuse (ProductNotRunning) unless what the simulation drives answers; notes for the operator,
    and the target with LMTP dropped when it does not answer (IMAP APPEND instead)."""
    notes: list[str] = []
    if options.calls_per_minute > 0:
        _line_check(target, notes)
    if options.emails_per_minute > 0:
        target = _mailbox_check(target, notes)
    return target, notes


def _line_check(target: Target, notes: list[str]) -> None:
    try:
        sipp_binary()
    except SippError as error:
        raise ProductNotRunning(str(error)) from error
    try:
        status = sip_options(target.front_door)
    except (TimeoutError, OSError) as error:
        raise ProductNotRunning(
            f"Nothing answers SIP on {target.front_door_address} (CC_SIP_BIND): the phone line (Kamailio, "
            f"started by `manage.py telephony`) is not running. {START_HINT}"
        ) from error
    if status != 200:  # noqa: PLR2004
        raise ProductNotRunning(
            f"{target.front_door_address} answered OPTIONS with {status}, not Kamailio's 200"
        )
    ctl = Path(settings.CC_SIP_STATE_DIR) / "kamailio" / CTL_SOCKET_NAME
    if ctl.exists():
        try:
            states = dispatcher_state(ctl)
        except KamailioError:
            states = {}
        if states and "active" not in states.values():
            notes.append(f"no call handler is up yet ({states}); callers get 5xx until one is")
    if not is_office_open(datetime.now(UTC), current_calendar()):
        notes.append(
            "the office is closed now (HANDBOOK PH-HOURS): callers hear the closed-hours announcement and "
            "are logged out of hours; --open-line opens today in the demo calendar while the simulation runs"
        )


def _mailbox_check(target: Target, notes: list[str]) -> Target:
    imap = target.mailbox.imap
    if not imap.user:
        raise ProductNotRunning(
            "No mailbox: CC_IMAP_USER is unset and there is no local mailbox in var/mail/. "
            "scripts/start makes one when CC_IMAP_HOST is unset."
        )
    try:
        client = imap_connect(imap)
        try:
            client.select_folder(imap.inbox, readonly=True)
        finally:
            client.logout()
    except Exception as error:  # any refusal or network error means the same to the operator
        raise ProductNotRunning(
            f"The mailbox {imap.user} on {imap.host}:{imap.port} (IMAP) is not reachable: {error}. "
            f"{START_HINT}"
        ) from error
    lmtp = target.mailbox.lmtp
    if lmtp is not None:
        try:
            with smtplib.LMTP(lmtp[0], lmtp[1], timeout=5) as client:
                client.noop()
        except OSError as error:
            notes.append(f"LMTP on {lmtp[0]}:{lmtp[1]} does not answer ({error}); e-mails go by IMAP APPEND")
            return replace(target, mailbox=replace(target.mailbox, lmtp=None))
    return target
