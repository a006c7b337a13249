"""IMAP connections (imapclient) for the watcher and for filing our sent mail in the Sent folder."""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from datetime import datetime

from imapclient import IMAPClient

from mail.config import ImapSettings, imap_settings

# A socket timeout well above the 1 s IDLE polls, well below Dovecot's 2-minute keep-alive "still here".
SOCKET_TIMEOUT_S = 60.0


def imap_connect(config: ImapSettings | None = None) -> IMAPClient:
    """A logged-in client. INTERNALDATEs come back as aware datetimes (normalise_times off)."""
    config = config or imap_settings()
    context = ssl.create_default_context()
    client = IMAPClient(
        config.host,
        port=config.port,
        ssl=config.tls == "tls",
        ssl_context=context if config.tls == "tls" else None,
        timeout=SOCKET_TIMEOUT_S,
    )
    try:
        if config.tls == "starttls":
            client.starttls(context)
        client.login(config.user, config.password)
    except Exception:
        client.shutdown()
        raise
    client.normalise_times = False
    return client


def sent_folder_append_many(
    messages: Sequence[tuple[bytes, str, datetime]], *, config: ImapSettings | None = None
) -> int:
    """File copies of messages we sent (raw, Message-ID, sent at) in the Sent folder, in order, once:
    a copy already there is not added again. Returns how many are now filed (all, unless an error is
    raised part-way, in which case the caller retries the rest)."""
    config = config or imap_settings()
    client = imap_connect(config)
    try:
        client.select_folder(config.sent)
        for raw, message_id, sent_at in messages:
            if not client.search(["HEADER", "Message-ID", f"<{message_id}>"]):
                client.append(config.sent, raw, flags=[b"\\Seen"], msg_time=sent_at)
        return len(messages)
    finally:
        try:
            client.logout()
        except Exception:  # closing a connection that may already be broken
            client.shutdown()
