"""Putting the simulated e-mails into the product's mailbox: over LMTP (Dovecot's own delivery path, as a
mail server would hand them over) or with IMAP APPEND (any IMAP server; the Return-Path a delivering
server would add is added here)."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime

from imapclient import IMAPClient

from mail.imap import imap_connect
from workplace.simulation.mails import Mail
from workplace.simulation.target import Mailbox


class MailDrop:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self._imap: IMAPClient | None = None

    def deliver(self, mail: Mail) -> None:
        """Deliver one message; an error (refused, unreachable) is raised for the caller to report."""
        if self.mailbox.lmtp is not None:
            self._lmtp(mail)
        else:
            self._append(mail)

    def _lmtp(self, mail: Mail) -> None:
        host, port = self.mailbox.lmtp or ("", 0)
        with smtplib.LMTP(host, port, timeout=10) as lmtp:
            lmtp.ehlo_or_helo_if_needed()
            options = []
            if not mail.raw.isascii() and lmtp.has_extn("8bitmime"):
                options.append("BODY=8BITMIME")
            # One recipient a transaction: smtplib.LMTP reads a single reply after DATA.
            lmtp.sendmail(mail.envelope_from, [self.mailbox.address], mail.raw, mail_options=options)

    def _append(self, mail: Mail) -> None:
        raw = f"Return-Path: <{mail.envelope_from}>\r\n".encode() + mail.raw
        for attempt in range(2):  # a connection the server closed meanwhile is opened once more
            try:
                if self._imap is None:
                    self._imap = imap_connect(self.mailbox.imap)
                self._imap.append(self.mailbox.imap.inbox, raw, msg_time=datetime.now(UTC))
                return
            except (OSError, IMAPClient.AbortError):
                self.close()
                if attempt:
                    raise

    def close(self) -> None:
        if self._imap is not None:
            try:
                self._imap.logout()
            except Exception:  # closing a connection that may already be broken
                self._imap.shutdown()
            self._imap = None
