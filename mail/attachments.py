"""An attachment of a stored message, fetched when a handler opens it: the message's bytes stay on the
IMAP server (the product keeps their text, sanitised HTML and the attachments' names and sizes)."""

from __future__ import annotations

from dataclasses import dataclass

from agents.errors import DomainError
from mail.imap import imap_connect
from mail.models import StoredMessage
from mail.parsing import UnparseableMail, attachment_content


@dataclass(frozen=True)
class AttachmentFile:
    filename: str
    content_type: str
    data: bytes


def _gone(detail: str) -> DomainError:
    return DomainError(
        "attachment_gone",
        f"Vēstule vairs nav pastkastē / The message is no longer in the mailbox ({detail})",
        status=410,
    )


def attachment_fetch(*, message: StoredMessage, index: int) -> AttachmentFile:
    """Read the message by its UID (read-only: no flag changes) and return its `index`-th attachment.

    Raises DomainError: `attachment_unknown` (404) for an index it does not list, `attachment_gone` (410)
    when the folder was renumbered (UIDVALIDITY) or the message deleted since it was stored.
    """
    if not 0 <= index < len(message.attachments):
        raise DomainError("attachment_unknown", "Tāda pielikuma nav / No such attachment", status=404)
    client = imap_connect()
    try:
        selected = client.select_folder(message.folder, readonly=True)
        if int(selected.get(b"UIDVALIDITY", 0)) != message.imap_uidvalidity:
            raise _gone("UIDVALIDITY changed")
        fetched = client.fetch([message.imap_uid], [b"BODY.PEEK[]"]).get(message.imap_uid, {})
        raw = fetched.get(b"BODY[]")
        if not isinstance(raw, bytes):
            raise _gone(f"UID {message.imap_uid} not found")
    finally:
        client.logout()
    try:
        attachment, data = attachment_content(raw, index)
    except (UnparseableMail, IndexError) as error:
        raise _gone(str(error)) from error
    return AttachmentFile(attachment.filename or f"attachment-{index + 1}", attachment.content_type, data)
