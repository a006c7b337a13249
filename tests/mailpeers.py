"""Mail peers for the test suite: a pytest plugin, loaded with ``-p tests.mailpeers`` (pyproject addopts).

Dovecot 2.3 (IMAP and LMTP, /work/shared/TESTBED.md §D): the session fixture ``dovecot``. Every test adds
its own mailbox user with ``dovecot.user_add()``, so tests share one server but never one mailbox.
SMTP (aiosmtpd, TESTBED §E): the fixtures ``smtp_server`` (a plain capture) and ``smtp_server_factory``
(relay into Dovecot, auto-responders, AUTH). Each peer listens on free loopback ports in a temporary
directory and is stopped by PID (Dovecot) or by joining its thread (aiosmtpd) in fixture teardown.
"""

from __future__ import annotations

import asyncio
import email
import itertools
import os
import pwd
import re
import shutil
import smtplib
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from imapclient import IMAPClient

from tests.peers import HOST, SETUP_HINT, ManagedProcess, PeerError, free_port, port_open

MAIL_DOMAIN = "example.test"  # mailbox users live here; RFC 2606 reserves .test, so nothing leaks out
MAIL_PASSWORD = "mailbox-test-password"  # one shared credential for every throw-away mailbox user
DOVECOT_DIR_PREFIX = "cc-sla-dovecot-"
DOVECOT_OWNER_FILE = "pytest.pid"
MAIL_USER = "nobody"  # Dovecot refuses to touch mail as uid 0
_LOCAL_PART = re.compile(r"[a-z0-9][a-z0-9._-]{0,40}")
_BARE_LF = re.compile(rb"(?<!\r)\n")


# --- Dovecot --------------------------------------------------------------------------------------


def dovecot_binary() -> Path:
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise PeerError(f"dovecot was not found (Debian: dovecot-imapd, dovecot-lmtpd). {SETUP_HINT}")
    return Path(found)


def dovecot_sweep_stale() -> None:
    """Delete Dovecot folders left by killed runs (their pytest is gone; the server died with it)."""
    for root in Path(tempfile.gettempdir()).glob(f"{DOVECOT_DIR_PREFIX}*"):
        try:
            owner = int((root / DOVECOT_OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # not ours, or not readable: leave it alone
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            shutil.rmtree(root, ignore_errors=True)
        except PermissionError:
            continue


def _dovecot_config(root: Path, imap_port: int, lmtp_port: int, log_path: Path) -> str:
    """TESTBED §D's configuration, with per-user passwd-files (see ``DovecotServer.user_add``)."""
    mail_user = pwd.getpwnam(MAIL_USER)
    return f"""\
base_dir = {root}/run
state_dir = {root}/state
log_path = {log_path}
protocols = imap lmtp
listen = {HOST}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# A wrong password answers at once: the production 2 s delay would only slow the tests.
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_uid = {mail_user.pw_uid}
mail_gid = {mail_user.pw_gid}
first_valid_uid = 1
# An IMAP worker may hold an IDLE connection per folder, and a test may open several clients.
mail_max_userip_connections = 100
lmtp_save_to_detail_mailbox = no
lda_mailbox_autocreate = yes
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users.d/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users.d/%u
  default_fields = home={root}/mail/%d/%n
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    auto = subscribe
    special_use = \\Sent
  }}
  mailbox Drafts {{
    auto = subscribe
    special_use = \\Drafts
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = {HOST}
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = {HOST}
    port = {lmtp_port}
  }}
}}
"""


def _imap_greets(port: int) -> bool:
    """True once imap-login answers with its ``* OK`` greeting (the port alone opens before that)."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as sock:
            return sock.recv(64).startswith(b"* OK")
    except OSError:
        return False


def _crlf(raw: bytes) -> bytes:
    """.eml files on disk often have bare LF line ends; on the wire SMTP and LMTP want CRLF."""
    return _BARE_LF.sub(b"\r\n", raw)


class DovecotServer:
    """Dovecot 2.3 with IMAP and LMTP on free loopback ports; one maildir per user under ``root``.

    ``root`` must be traversable by the mail user (nobody) and readable by the auth process (dovecot),
    which is why the fixture uses a ``tempfile.mkdtemp`` folder: pytest's own base temp dir is 0700.
    ``stop()`` and ``start()`` keep the ports and the mail store, so UIDVALIDITY survives a restart.
    """

    def __init__(self, root: Path, *, password: str = MAIL_PASSWORD) -> None:
        if os.geteuid() != 0:
            raise PeerError("the Dovecot test peer runs as root (it switches mail access to nobody).")
        self.root = root
        self.host = HOST
        self.password = password
        self.imap_port = free_port()
        self.lmtp_port = free_port()
        while self.lmtp_port == self.imap_port:
            self.lmtp_port = free_port()
        self.users_dir = root / "users.d"
        self.mail_root = root / "mail"
        self.config_path = root / "dovecot.conf"
        self._numbers = itertools.count(1)
        self._numbers_lock = threading.Lock()
        self._write_layout()
        log_path = root / "dovecot.log"  # Dovecot's log and the master's stderr share one file
        self.process = ManagedProcess(
            name="Dovecot",
            argv=[str(dovecot_binary()), "-F", "-c", str(self.config_path)],
            log_path=log_path,
            ready=lambda: _imap_greets(self.imap_port) and port_open(self.lmtp_port),
            cwd=root,
        )
        self.config_path.write_text(_dovecot_config(root, self.imap_port, self.lmtp_port, log_path))

    def _write_layout(self) -> None:
        mail_user = pwd.getpwnam(MAIL_USER)
        self.root.chmod(0o755)
        for folder in (self.users_dir, self.mail_root, self.root / "run", self.root / "state"):
            folder.mkdir(mode=0o755, exist_ok=True)
        os.chown(self.mail_root, mail_user.pw_uid, mail_user.pw_gid)
        (self.root / DOVECOT_OWNER_FILE).write_text(str(os.getpid()))

    @property
    def running(self) -> bool:
        return self.process.running

    def start(self) -> None:
        self.process.start()

    def stop(self) -> None:
        self.process.stop()

    def user_add(self, local: str | None = None, *, domain: str = MAIL_DOMAIN) -> str:
        """Create a fresh mailbox user, ``<local>-<n>@<domain>``, usable at once; return its address.

        Each user has its own passwd-file (``users.d/<address>``). With one shared file Dovecot does see
        changes (it compares mtime and size) but stats the file at most once a second
        (``passwd_file_sync``), so a user added in the same second as any earlier lookup stays unknown.
        A new per-user path has never been looked at, so there is no stale copy to serve.
        """
        prefix = local or "user"
        if not _LOCAL_PART.fullmatch(prefix):
            raise ValueError(f"local part {prefix!r} must match {_LOCAL_PART.pattern}")
        with self._numbers_lock:
            address = f"{prefix}-{next(self._numbers)}@{domain}"
        path = self.users_dir / address
        staging = self.users_dir / f".{address}.tmp"
        staging.write_text(f"{address}:{{PLAIN}}{self.password}::::::\n")
        staging.chmod(0o644)
        os.replace(staging, path)  # the auth process never reads a half-written line
        return address

    def deliver(self, raw: bytes | Message, rcpt: str, mail_from: str = "client@example.org") -> None:
        """Deliver one message over LMTP, Dovecot's own delivery path; raise if the recipient is refused.

        One recipient a transaction: ``smtplib.LMTP`` reads a single reply after DATA, while LMTP sends
        one per recipient. ``mail_from=""`` sends the null sender, as auto-replies and bounces do.
        """
        payload = raw.as_bytes(policy=policy.SMTP) if isinstance(raw, Message) else _crlf(raw)
        with smtplib.LMTP(self.host, self.lmtp_port, timeout=10) as lmtp:
            # All recipients refused raises SMTPRecipientsRefused; with one recipient that is the only case.
            lmtp.sendmail(mail_from, [rcpt], payload)

    def client(self, user: str, folder: str | None = None, *, timeout: float = 10) -> IMAPClient:
        """An IMAPClient logged in as ``user`` (and ``folder`` selected); the caller logs out."""
        client = IMAPClient(self.host, port=self.imap_port, ssl=False, timeout=timeout)
        try:
            client.login(user, self.password)
            if folder is not None:
                client.select_folder(folder)
        except BaseException:
            client.shutdown()
            raise
        return client

    def folder_path(self, user: str, folder: str = "INBOX") -> Path:
        """The maildir of ``folder`` (Maildir++: INBOX is the root, ``A/B`` is ``.A.B``)."""
        local, _, domain = user.partition("@")
        maildir = self.mail_root / domain / local / "Maildir"
        if folder.upper() == "INBOX":
            return maildir
        return maildir / ("." + folder.replace("/", "."))

    def uidvalidity_reset(self, user: str, folder: str = "INBOX") -> None:
        """Make ``folder`` come back with a new UIDVALIDITY and its messages renumbered, as after a migration.

        With Dovecot stopped, delete the folder's ``dovecot-uidlist`` (the UID map) and ``dovecot.index*``
        (which also record UIDVALIDITY), and the user's ``dovecot.list.index*`` (its cached STATUS).
        On start Dovecot rebuilds them and takes the next value from ``dovecot-uidvalidity``, which it
        keeps per user and only ever increments, so the new UIDVALIDITY always differs. Messages stay.
        Open IMAP connections are dropped by the restart, as they would be by a real migration.
        """
        path = self.folder_path(user, folder)
        if not (path / "dovecot-uidlist").exists():
            raise PeerError(f"{user} {folder} has no UID list yet: open or deliver to it first ({path})")
        maildir = self.folder_path(user, "INBOX")
        self.stop()
        try:
            doomed = [path / "dovecot-uidlist", *path.glob("dovecot.index*")]
            doomed += maildir.glob("dovecot.list.index*")
            for file in doomed:
                file.unlink(missing_ok=True)
        finally:
            self.start()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A real Dovecot for this session. Tests use their own ``user_add()`` users; a test that stops it
    must start it again before it finishes."""
    dovecot_sweep_stale()
    root = Path(tempfile.mkdtemp(prefix=DOVECOT_DIR_PREFIX))
    try:
        server = DovecotServer(root)
        server.start()
    except PeerError as error:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(str(error), pytrace=False)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


# --- SMTP -----------------------------------------------------------------------------------------


def parse_message(raw: bytes) -> EmailMessage:
    """Parse with the modern policy, which gives EmailMessage (typeshed types the result as Message)."""
    return cast(EmailMessage, email.message_from_bytes(raw, policy=policy.default))


@dataclass(frozen=True)
class CapturedEnvelope:
    """One accepted SMTP transaction: the envelope as the client sent it and the message bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return parse_message(self.raw)


def _addresses(message: Message, header: str) -> list[str]:
    return [address for _, address in getaddresses([str(value) for value in message.get_all(header, [])])]


class AutoResponder:
    """An out-of-office peer: answers every captured message for ``peer`` into a Dovecot mailbox.

    The answer goes over LMTP to ``mailbox``, by default the envelope sender of the captured message
    (the product's own mailbox, which its IMAP worker watches). ``polite=True`` follows RFC 3834:
    ``Auto-Submitted: auto-replied``, null envelope sender, ``In-Reply-To`` and ``References``, and
    no answer to mail that is itself automatic or bulk. ``polite=False`` is a badly behaved responder:
    a plain "Re:" with ``In-Reply-To`` and a fresh Message-ID, no Auto-Submitted, no Precedence, sent
    from the peer's address, answering everything, so only the product can stop a mail loop.
    ``max_replies`` caps the damage if it cannot: a loop shows as ``sent == max_replies``, not a hang.
    """

    def __init__(
        self,
        dovecot: DovecotServer,
        peer: str,
        *,
        polite: bool = True,
        mailbox: str | None = None,
        max_replies: int = 20,
        body: str = "I am out of the office until Monday and will read your message then.\n",
    ) -> None:
        self.dovecot = dovecot
        self.peer = peer
        self.polite = polite
        self.mailbox = mailbox
        self.max_replies = max_replies
        self.body = body
        self.replies: list[EmailMessage] = []
        self.skipped = 0  # messages for the peer it chose not to answer (polite rules, or the cap)
        self._lock = threading.Lock()

    @property
    def sent(self) -> int:
        with self._lock:
            return len(self.replies)

    def wants(self, captured: CapturedEnvelope) -> bool:
        return self.peer.lower() in (rcpt.lower() for rcpt in captured.rcpt_tos)

    def respond(self, captured: CapturedEnvelope) -> EmailMessage | None:
        """Build and deliver the automatic reply (blocking: run it in an executor); None if skipped."""
        original = captured.message
        target = self.mailbox or captured.mail_from
        if not self.polite and not target:
            target = next(iter(_addresses(original, "From")), "")
        if not target or (self.polite and _is_automatic(original)) or self.sent >= self.max_replies:
            with self._lock:
                self.skipped += 1
            return None
        reply = self._reply(original, to=target)
        self.dovecot.deliver(reply, target, mail_from="" if self.polite else self.peer)
        with self._lock:
            self.replies.append(reply)
        return reply

    def _reply(self, original: EmailMessage, *, to: str) -> EmailMessage:
        subject = str(original.get("Subject", ""))
        reply = EmailMessage()
        reply["From"] = self.peer
        reply["To"] = to
        reply["Subject"] = f"Automatic reply: {subject}" if self.polite else f"Re: {subject}"
        reply["Date"] = format_datetime(datetime.now(UTC))
        reply["Message-ID"] = make_msgid(domain=self.peer.rpartition("@")[2] or None)
        original_id = original.get("Message-ID")
        if original_id:
            reply["In-Reply-To"] = str(original_id)
            if self.polite:
                references = str(original.get("References", "")).split()
                reply["References"] = " ".join([*references, str(original_id)])
        if self.polite:
            reply["Auto-Submitted"] = "auto-replied"
        reply.set_content(self.body)
        return reply


def _is_automatic(message: EmailMessage) -> bool:
    """RFC 3834 §2: never answer automatic, bulk or list mail."""
    auto_submitted = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return auto_submitted != "no" or precedence in {"bulk", "list", "junk"}


class _CaptureHandler:
    """aiosmtpd hooks (found by their ``handle_<VERB>`` names); they run on the controller's loop thread."""

    def __init__(self, capture: SmtpCapture) -> None:
        self.capture = capture

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        # AUTH is checked here rather than with auth_required=True, which warns without TLS.
        if self.capture.auth is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        domain = address.rpartition("@")[2].lower()
        if domain not in self.capture.allowed_domains:
            return f"550 5.1.1 not relaying to {address}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        captured = CapturedEnvelope(envelope.mail_from or "", tuple(envelope.rcpt_tos), raw)
        loop = asyncio.get_running_loop()
        try:
            # Relay before accepting: a Dovecot refusal reaches the client as a transient failure.
            await loop.run_in_executor(None, self.capture.relay, captured)
        except (OSError, smtplib.SMTPException) as error:
            self.capture.errors.append(f"relay of {captured.rcpt_tos}: {error!r}")
            return "451 4.3.0 relay into Dovecot failed"
        number = self.capture.record(captured)
        responder = self.capture.auto_responder
        if responder is not None and responder.wants(captured):
            try:
                await loop.run_in_executor(None, responder.respond, captured)
            except (OSError, smtplib.SMTPException) as error:
                # The responder is another system: its failure must not turn into our refusal.
                self.capture.errors.append(f"auto-reply to {captured.mail_from!r}: {error!r}")
        return f"250 2.0.0 queued as {number}"


class SmtpCapture:
    """An aiosmtpd server on a free loopback port that keeps every message it accepts.

    RCPT to a domain outside ``allowed_domains`` gets 550 (a permanent failure on demand). ``auth``
    requires AUTH PLAIN/LOGIN with that user and password. ``relay_to`` also delivers each message into
    Dovecot over LMTP, to ``relay_rcpt[rcpt]`` when a mapping is given (recipients missing from it are
    not relayed), else to the SMTP recipient itself. ``stop()`` and ``start()`` keep the port; while
    stopped, connections are refused.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        allowed_domains: Sequence[str] = ("example.org", "example.test"),
        auth: tuple[str, str] | None = None,
        relay_to: DovecotServer | None = None,
        relay_rcpt: Mapping[str, str] | None = None,
        auto_responder: AutoResponder | None = None,
    ) -> None:
        self.host = HOST
        self.port = port or free_port()
        self.allowed_domains = frozenset(domain.lower() for domain in allowed_domains)
        self.auth = auth
        self.relay_to = relay_to
        self.relay_rcpt = relay_rcpt
        self.auto_responder = auto_responder
        self.errors: list[str] = []
        self._envelopes: list[CapturedEnvelope] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is not None:
            raise PeerError(f"SMTP capture on port {self.port} is already running")
        # A new Controller each time: stop() closes the old one's event loop for good.
        options: dict[str, Any] = {}
        if self.auth is not None:
            options = {"authenticator": self._authenticate, "auth_require_tls": False}
        controller = Controller(
            _CaptureHandler(self),
            hostname=self.host,
            port=self.port,
            server_hostname="smtp.example.test",  # else socket.getfqdn(), a DNS lookup per connection
            ready_timeout=10,
            **options,
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def reset(self) -> None:
        with self._lock:
            self._envelopes.clear()
            self.errors.clear()

    def record(self, captured: CapturedEnvelope) -> int:
        with self._lock:
            self._envelopes.append(captured)
            return len(self._envelopes)

    def relay(self, captured: CapturedEnvelope) -> None:
        if self.relay_to is None:
            return
        for rcpt in captured.rcpt_tos:
            target = rcpt if self.relay_rcpt is None else self.relay_rcpt.get(rcpt)
            if target is not None:
                self.relay_to.deliver(captured.raw, target, mail_from=captured.mail_from)

    @property
    def envelopes(self) -> list[CapturedEnvelope]:
        with self._lock:
            return list(self._envelopes)

    @property
    def messages(self) -> list[EmailMessage]:
        return [captured.message for captured in self.envelopes]

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        """Poll until at least ``count`` messages arrived; return them all, or fail saying what came."""
        deadline = time.monotonic() + timeout
        while len(self.envelopes) < count:
            if time.monotonic() > deadline:
                arrived = [
                    f"{captured.mail_from} -> {list(captured.rcpt_tos)}: {captured.message['Subject']!r}"
                    for captured in self.envelopes
                ]
                raise AssertionError(
                    f"expected {count} message(s) on SMTP port {self.port} within {timeout} s, "
                    f"got {len(arrived)}: {arrived}; errors: {self.errors}"
                )
            time.sleep(0.02)
        return self.messages

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        expected = self.auth
        if (
            expected is not None
            and isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == expected[0]
            and auth_data.password.decode() == expected[1]
        ):
            return AuthResult(success=True)
        # handled=False: aiosmtpd sends the 535 itself; the default True leaves the client hanging.
        return AuthResult(success=False, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[SmtpCapture]:
    """A plain SMTP capture for one test (starting one takes milliseconds)."""
    server = SmtpCapture()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server_factory() -> Iterator[Callable[..., SmtpCapture]]:
    """Start SmtpCaptures with options (``relay_to``, ``auto_responder``, ``auth``); all stop afterwards."""
    started: list[SmtpCapture] = []

    def make(**options: Any) -> SmtpCapture:
        server = SmtpCapture(**options)
        server.start()
        started.append(server)
        return server

    try:
        yield make
    finally:
        for server in started:
            server.stop()
