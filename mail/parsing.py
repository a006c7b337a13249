"""Parse one raw RFC 5322 message into a ParsedMail. Pure code: bytes in, frozen dataclass out, no Django.

The email package (policy.default, made to tolerate headers its registry cannot parse) splits the MIME
tree and decodes transfer encodings. Header text is decoded here, from the raw source value, and never
re-serialised, because Python 3.11's header handling has two whitespace bugs around RFC 2047 encoded-words:

- the header registry keeps the blank between adjacent encoded-words in address display names
  ("Jānis  Bērziņš", gh-128110), while RFC 2047 §6.2 says that blank is not part of the text;
- its folder puts the blank between two words outside both encoded-words when it refolds a long header,
  so a compliant decoder drops it ("ņemt žurnāls" comes back as "ņemtžurnāls", gh-92081). The fix for that,
  released in 3.12.5/3.13, regressed into gh-144156 (encoded-words glued together as "?==?"), which is
  what senders running those versions now put on the wire; the decoder below reads that form too.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import hashlib
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.errors import MessageError
from email.generator import BytesGenerator
from email.message import EmailMessage, Message
from email.parser import BytesParser, HeaderParser
from email.policy import EmailPolicy
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime
from html import unescape
from typing import Any

import nh3

from mail.classify import DELIVERY_REPORT, MDN_TYPE, MailFacts, automatic_reason, bounced_message_ids
from mail.signatures import SignedDocument, is_candidate, signed_document_read

__all__ = ["DELIVERY_REPORT", "Attachment", "ParsedMail", "UnparseableMail", "header_text", "mail_parse"]


@dataclass(frozen=True)
class Attachment:
    filename: str  # decoded (RFC 2231 / RFC 2047), "" when none given
    content_type: str  # e.g. "application/pdf"
    size: int  # decoded payload size in bytes
    is_inline: bool


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    source_id: str  # message_id, else "sha256:<hex of the raw bytes>"
    subject: str
    from_address: str
    from_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    in_reply_to: str
    references: tuple[str, ...]
    date: datetime | None
    text: str
    html: str
    attachments: tuple[Attachment, ...]
    automatic_reason: str  # "" for mail written by a person, else a reason code (see mail.classify)
    bounced_message_ids: tuple[str, ...]
    defects: tuple[str, ...]
    # E-signed documents among the attachments, recognised by structure (damaged ones flagged).
    signed_documents: tuple[SignedDocument, ...] = ()
    # Every header as sent (lower-case name -> raw values), for the portal rules.
    headers: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)


MAX_ADDRESS_LENGTH = 254
MAX_MESSAGE_ID_LENGTH = 900  # the ledger keys a message by "email:" + its id, in 998 characters


class UnparseableMail(Exception):
    """The bytes are not a usable e-mail; the caller quarantines them with ``reason`` and keeps the raw."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Errors the email package is known to raise on hostile input; anything else is a bug worth a traceback.
_EMAIL_PACKAGE_ERRORS = (MessageError, LookupError, ValueError, TypeError, AttributeError, IndexError)


class _ForgivingPolicy(EmailPolicy):
    """policy.default, except that a header the registry cannot parse is handed over as its raw string.

    Parsed headers are memoised: the email package parses a header again on every read, and reading one
    plain-text part asks for its Content-Type about ten times (type, main type, charset, filename...),
    each time through a freshly built header class. A parsed header is immutable (a str with read-only
    params), so one parse per distinct (name, value) gives the same objects for a fraction of the cost.
    """

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if type(value) is str and len(value) <= _MEMO_MAX_VALUE:
            return _header_memo(self, name, value)
        return _header_parsed(self, name, value)


def _header_parsed(policy: EmailPolicy, name: str, value: str) -> Any:
    try:
        return EmailPolicy.header_fetch_parse(policy, name, value)
    except _EMAIL_PACKAGE_ERRORS:
        # Python 3.11's registry raises IndexError on some damaged parameter lists ("name*0*" with no
        # value), even from inside the parser. Message's own methods read a plain string the legacy way.
        return re.sub(r"[\r\n]", "", value)


# MIME headers (Content-Type, -Transfer-Encoding, -Disposition) repeat across messages; a long value is
# rare and parsed as before. At most about 2 MB of header text is held.
_MEMO_MAX_VALUE = 1000
_header_memo = functools.lru_cache(maxsize=2048)(_header_parsed)


_PARSER = BytesParser(policy=_ForgivingPolicy())
# Size of an embedded message: written out verbatim, never refolded (refolding is where gh-92081 lives).
_VERBATIM = _ForgivingPolicy(refold_source="none", linesep="\r\n")
# Latvian senders' legacy 8-bit text is the Baltic Windows code page; it also agrees with Latin-1 on the
# German/Nordic letters (ä ö ü å é ó õ ß), so unlabelled Latin-1 mostly reads right too.
_LEGACY_CHARSET = "windows-1257"
_CHARSET_ALIASES = {"ks_c_5601-1987": "cp949", "x-mac-roman": "mac-roman", "unicode-1-1-utf-7": "utf-7"}
_HEADER_TYPES = frozenset({"text/rfc822-headers", "message/global-headers"})
_DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})


def mail_parse(
    raw: bytes, *, own_addresses: Collection[str] = (), own_message_id_domain: str = ""
) -> ParsedMail:
    """Parse ``raw``; raise UnparseableMail only when it is not a usable e-mail at all."""
    if not raw.strip():
        raise UnparseableMail("empty message: no bytes to parse")
    try:
        message = _PARSER.parsebytes(raw)
        return _parsed(
            message, raw, own_addresses={a.lower() for a in own_addresses}, own_domain=own_message_id_domain
        )
    except RecursionError as error:
        raise UnparseableMail("MIME parts nested too deeply for the email package to read") from error
    except _EMAIL_PACKAGE_ERRORS as error:
        raise UnparseableMail(f"the email package failed on it: {type(error).__name__}: {error}") from error


def attachment_content(raw: bytes, index: int) -> tuple[Attachment, bytes]:
    """The `index`-th attachment of a message (numbered as `mail_parse` lists them) and its decoded bytes.
    Raises UnparseableMail, or IndexError for an index the message does not have."""
    try:
        message = _PARSER.parsebytes(raw)
        found = _Parts()
        _walk(message, found)
    except (RecursionError, *_EMAIL_PACKAGE_ERRORS) as error:
        raise UnparseableMail(f"the email package failed on it: {type(error).__name__}: {error}") from error
    part = found.attachment_parts[index]
    data = part.as_bytes() if part.is_multipart() else part.get_payload(decode=True)
    return found.attachments[index], data if isinstance(data, bytes) else b""


def _parsed(message: Message, raw: bytes, *, own_addresses: Collection[str], own_domain: str) -> ParsedMail:
    headers = _raw_headers(message)
    from_name, from_address = _sender(headers)
    found = _Parts()
    _walk(message, found)
    facts = _facts(headers, found, from_address, own_addresses=own_addresses, own_domain=own_domain)
    reason = automatic_reason(facts)
    return ParsedMail(
        message_id=facts.message_id,
        source_id=facts.message_id or "sha256:" + hashlib.sha256(raw).hexdigest(),
        subject=facts.subject,
        from_address=from_address,
        from_name=from_name,
        to=_unique(address for _, address in _addresses(headers.get("to", []))),
        cc=_unique(address for _, address in _addresses(headers.get("cc", []))),
        in_reply_to=facts.in_reply_to,
        references=tuple(facts.references),
        date=_date(headers.get("date", [""])[0]),
        text=facts.text,
        html=found.html or "",
        attachments=tuple(found.attachments),
        automatic_reason=reason,
        bounced_message_ids=bounced_message_ids(facts) if reason == DELIVERY_REPORT else (),
        # Collected last: decoding payloads (bad base64, say) is what records some of them.
        defects=_unique(type(defect).__name__ for part in message.walk() for defect in part.defects),
        signed_documents=_signed_documents(found),
        headers=headers,
    )


# Types under which a signed container or PDF may travel; only these attachments' bytes are decoded.
_MAYBE_SIGNED_TYPES = frozenset(
    {
        "application/octet-stream",
        "application/zip",
        "application/x-zip-compressed",
        "application/pdf",
        "application/x-pdf",
        "application/vnd.etsi.asic-e+zip",
        "application/vnd.etsi.asic-s+zip",
        "application/vnd.etsi.asic-e",
        "application/x-edoc",
    }
)


def _signed_documents(found: _Parts) -> tuple[SignedDocument, ...]:
    documents = []
    for attachment, part in zip(found.attachments, found.attachment_parts, strict=True):
        if part.is_multipart() or not (
            attachment.content_type in _MAYBE_SIGNED_TYPES
            or is_candidate(attachment.filename, attachment.content_type, b"")
        ):
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes) or not is_candidate(
            attachment.filename, attachment.content_type, data
        ):
            continue
        document = signed_document_read(attachment.filename, attachment.content_type, data)
        if document is not None:
            documents.append(document)
    return tuple(documents)


def _facts(
    headers: dict[str, list[str]],
    found: _Parts,
    from_address: str,
    *,
    own_addresses: Collection[str],
    own_domain: str,
) -> MailFacts:
    return MailFacts(
        headers=headers,
        from_address=from_address,
        subject=header_text(headers.get("subject", [""])[0]),
        message_id=_message_id(headers),
        in_reply_to=next(iter(_msg_ids(headers.get("in-reply-to", []))), ""),
        references=_msg_ids(headers.get("references", [])),
        text=found.text if found.text and found.text.strip() else _text_from_html(found.html or ""),
        mime_types=found.mime_types,
        report_types=found.report_types,
        dsn_actions=found.dsn_actions,
        embedded_message_ids=found.embedded_ids,
        own_addresses=own_addresses,
        own_message_id_domain=own_domain,
    )


def _sender(headers: dict[str, list[str]]) -> tuple[str, str]:
    """(display name, address) of the author; refuses data that has no header section or no sender."""
    if not headers:
        raise UnparseableMail("no header section: the data does not start with RFC 5322 header fields")
    senders = _addresses(headers.get("from", [])) or _addresses(headers.get("sender", []))
    if not senders:
        raise UnparseableMail("no sender: neither From nor Sender holds an e-mail address")
    return senders[0]


# --- Headers -------------------------------------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _raw_headers(message: Message) -> dict[str, list[str]]:
    """Header values as they stand in the source (8-bit bytes as surrogates), unfolded, by lower-case name."""
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        # Unfolding removes only the line break (RFC 5322 §2.2.3); the blank after it is content.
        headers.setdefault(name.strip().lower(), []).append(re.sub(r"[\r\n]", "", str(value)))
    return headers


def header_text(raw: str) -> str:
    """Decode an unstructured header value (RFC 2047), keeping raw 8-bit text readable.

    Blank between two adjacent encoded-words is dropped (RFC 2047 §6.2); blank inside one ("_" or "=20")
    and blank between an encoded-word and plain text is kept. Adjacent words in the same charset are
    decoded together because some senders split a multi-byte character across two words.
    """
    chunks: list[tuple[str | None, bytes]] = []  # (charset, bytes); charset None = plain text
    position = 0
    for match in _ENCODED_WORD.finditer(raw):
        between = raw[position : match.start()]
        after_word = bool(chunks) and chunks[-1][0] is not None
        if between and not (after_word and between.isspace()):
            chunks.append((None, _source_bytes(between)))
        charset = match.group(1).split("*", 1)[0].lower()  # "*lv" is an RFC 2231 language tag
        data = _encoded_word_bytes(match.group(2), match.group(3))
        if data is None:
            chunks.append((None, _source_bytes(match.group(0))))
        elif chunks and chunks[-1][0] == charset:
            chunks[-1] = (charset, chunks[-1][1] + data)
        else:
            chunks.append((charset, data))
        position = match.end()
    chunks.append((None, _source_bytes(raw[position:])))
    text = "".join(_decode_bytes(data, charset) for charset, data in chunks)
    # Control characters (a "=0A" in an encoded-word, say) would let a subject inject headers into replies.
    return _CONTROL.sub(" ", text).strip()


def _source_bytes(text: str) -> bytes:
    # The parser keeps undecodable 8-bit bytes as lone surrogates; this turns them back into the bytes.
    return text.encode("utf-8", "surrogateescape")


def _encoded_word_bytes(encoding: str, text: str) -> bytes | None:
    if encoding in "qQ":
        data = _source_bytes(text).replace(b"_", b" ")
        return re.sub(rb"=([0-9A-Fa-f]{2})", lambda hexpair: bytes([int(hexpair[1], 16)]), data)
    # Be lenient like mail clients: ignore stray characters and missing or surplus padding.
    compact = re.sub(r"[^A-Za-z0-9+/]", "", text)
    compact = compact[:-1] if len(compact) % 4 == 1 else compact
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4))
    except binascii.Error:
        return None


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    """(decoded display name, lower-case addr-spec) pairs; entries without a usable address are skipped."""
    pairs: list[tuple[str, str]] = []
    # The legacy address parser works on the raw value, so encoded-words stay intact until header_text.
    for name, address in getaddresses(values):
        addr_spec = _decode_bytes(_source_bytes(address), None).strip().lower()
        local, _, domain = addr_spec.rpartition("@")
        # RFC 5321 caps a path at 256 octets: a longer "address" is not one (and no reply can go to it).
        if local and domain and not re.search(r"\s", addr_spec) and len(addr_spec) <= MAX_ADDRESS_LENGTH:
            pairs.append((header_text(name), addr_spec))
    return pairs


def _message_id(headers: dict[str, list[str]]) -> str:
    value = header_text(headers.get("message-id", [""])[0])
    bracketed = re.search(r"<([^<>]*)>", value)
    message_id = re.sub(r"\s", "", bracketed.group(1) if bracketed else value)
    if len(message_id) > MAX_MESSAGE_ID_LENGTH:
        # Still a stable key for the same message, short enough for the ledger's source key column.
        return "sha256-id:" + hashlib.sha256(message_id.encode("utf-8", "surrogateescape")).hexdigest()
    return message_id


def _msg_ids(values: list[str]) -> tuple[str, ...]:
    """msg-ids in order, without brackets; bare ids are accepted when they look like one (contain "@")."""
    ids: list[str] = []
    for value in values:
        text = header_text(value)
        bracketed = [re.sub(r"\s", "", found) for found in re.findall(r"<([^<>]*)>", text)]
        ids.extend(bracketed or [word.strip("<>,") for word in text.split() if "@" in word])
    return _unique(ids)


def _date(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # "-0000" parses naive: the time is UTC with the sender's offset unknown (RFC 5322 §3.3).
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for item in items if item))


# --- Text decoding -------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)  # a handful of labels, asked for by every header and part
def _codec(charset: str | None) -> str | None:
    """Python's codec name for a MIME charset, or None when there is no such text codec."""
    name = (charset or "").strip().strip("\"'").lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        b"".decode(name)  # rejects both unknown names and bytes-to-bytes codecs such as "base64"
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def _decode_bytes(data: bytes, charset: str | None) -> str:
    codec = _codec(charset)
    if charset and codec is None:
        return data.decode("utf-8", errors="replace")
    # A declared charset can be wrong (UTF-8 labelled us-ascii, Baltic text labelled UTF-8): try the
    # likely ones strictly before giving in to replacement characters.
    for candidate in (codec, "utf-8", _LEGACY_CHARSET):
        if candidate is not None:
            try:
                return data.decode(candidate)
            except UnicodeDecodeError:
                continue
    return data.decode(codec or "utf-8", errors="replace")


# --- MIME tree -----------------------------------------------------------------------------------------


@dataclass
class _Parts:
    """What one walk over the MIME tree found; filled in while walking."""

    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    attachment_parts: list[Message] = field(default_factory=list)  # beside `attachments`, in order
    mime_types: set[str] = field(default_factory=set)
    report_types: set[str] = field(default_factory=set)
    dsn_actions: list[str] = field(default_factory=list)
    embedded_ids: list[str] = field(default_factory=list)  # Message-IDs of messages carried inside


def _walk(part: Message, found: _Parts) -> None:
    mime_type = part.get_content_type()
    found.mime_types.add(mime_type)
    # Only containers' payloads are read here: get_payload() on a leaf decodes 8-bit text by its charset
    # label, which fails on labels such as "utf-8\0".
    children = _children(part)
    if mime_type.startswith("multipart/") and part.is_multipart():
        if mime_type == "multipart/report":
            found.report_types.add(_param(part, "report-type").lower())
        for child in children:
            _walk(child, found)
    elif mime_type in _DSN_TYPES and part.is_multipart():
        found.dsn_actions.extend(_dsn_actions(children))
    elif mime_type == MDN_TYPE:
        pass  # read-receipt fields: classification needs only its presence, recorded above
    elif mime_type in _HEADER_TYPES:
        found.embedded_ids.extend(_embedded_id(part))
    else:
        if part.is_multipart():  # message/rfc822, message/global: a returned or forwarded mail
            found.embedded_ids.extend(_embedded_id(part))
        _leaf(part, mime_type, found)


def _children(part: Message) -> list[Message]:
    """Sub-parts of a multipart, the message inside a message/*, the blocks of a DSN; [] for a leaf."""
    payload = part.get_payload() if part.is_multipart() else []
    return [item for item in payload if isinstance(item, Message)] if isinstance(payload, list) else []


def _leaf(part: Message, mime_type: str, found: _Parts) -> None:
    disposition = part.get_content_disposition()
    filename = _filename(part)
    if disposition != "attachment" and not filename:
        # A multipart without a usable boundary arrives as one opaque text: read it as the body.
        if (mime_type == "text/plain" or mime_type.startswith("multipart/")) and found.text is None:
            found.text = _part_text(part)
            return
        if mime_type == "text/html" and found.html is None:
            found.html = _sanitise_html(_part_text(part))
            return
    # Inline means shown in the body: said so, or referenced by Content-ID (multipart/related).
    is_inline = disposition == "inline" or (disposition is None and part.get("content-id") is not None)
    found.attachments.append(Attachment(filename, mime_type, _payload_size(part), is_inline))
    found.attachment_parts.append(part)


def _filename(part: Message) -> str:
    name = _param(part, "filename", "content-disposition") or _param(part, "name")
    # header_text covers RFC 2047 inside the quotes (Outlook, Gmail) and raw 8-bit names.
    # Directory parts ("..\\..\\x.exe") are never ours to honour; storage keeps only the last component.
    return re.split(r"[\\/]", header_text(name))[-1].strip()


def _param(part: Message, name: str, header: str = "content-type") -> str:
    """A MIME parameter, RFC 2231 decoded (charset, continuations); "" when absent or beyond repair."""
    try:
        value = part.get_param(name, None, header)
        return collapse_rfc2231_value(value).strip() if value is not None else ""
    except _EMAIL_PACKAGE_ERRORS:
        return ""  # both parameter parsers trip over some damaged continuations ("name*0*" with no value)


def _part_text(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    text = _decode_bytes(data, _param(part, "charset") or None)
    return text.replace("\r\n", "\n").replace("\r", "\n")


_BASE64_BODY = re.compile(r"[A-Za-z0-9+/\s]*=?=?\s*")


def _payload_size(part: Message) -> int:
    if part.is_multipart():
        return _serialised_size(_children(part))
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    size = _base64_size(part) if encoding == "base64" else None
    if size is not None:
        return size
    data = part.get_payload(decode=True)
    return len(data) if isinstance(data, bytes) else 0


def _base64_size(part: Message) -> int | None:
    """Decoded size of well-formed base64, counted (3 bytes per 4 symbols) without decoding a copy."""
    try:
        payload = part.get_payload()
    except (LookupError, ValueError):  # 8-bit junk in the payload meets a broken charset label
        return None
    if not isinstance(payload, str) or not _BASE64_BODY.fullmatch(payload):
        return None
    return (len(payload) - sum(payload.count(char) for char in " \t\r\n=")) * 3 // 4


class _ByteCounter:
    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


def _serialised_size(messages: list[Message]) -> int:
    counter = _ByteCounter()
    try:
        for message in messages:
            if not isinstance(message, EmailMessage):  # narrows the type: policy.default makes only these
                continue
            BytesGenerator(counter, mangle_from_=False, policy=_VERBATIM).flatten(message)
    except (*_EMAIL_PACKAGE_ERRORS, UnicodeError):
        return 0  # an embedded message too broken to write out again; its size is unknown, not fatal
    return counter.size


def _embedded_id(part: Message) -> list[str]:
    if part.is_multipart():
        inner: Message | None = next(iter(_children(part)), None)
    else:  # text/rfc822-headers: the returned header section as text
        inner = HeaderParser(policy=policy.compat32).parsestr(_part_text(part), headersonly=True)
    message_id = _message_id(_raw_headers(inner)) if inner is not None else ""
    return [message_id] if message_id else []


def _dsn_actions(blocks: list[Message]) -> list[str]:
    """The Action field of each per-recipient block of a DSN (RFC 3464 §2.3.3): failed, delayed, ..."""
    actions = (_raw_headers(block).get("action", [""])[0] for block in blocks)
    return [action.split("(", 1)[0].strip().lower() for action in actions if action.strip()]


# --- HTML ----------------------------------------------------------------------------------------------

_HTML_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}
_HTML_BLOCK = re.compile(r"<(br|hr|/?(p|div|li|tr|table|blockquote|pre|ul|ol|h[1-6]))\b[^>]*>", re.IGNORECASE)


def _keep_attribute(element: str, attribute: str, value: str) -> str | None:
    url = value.strip().lower()
    if element == "img" and attribute == "src":
        # Remote images are tracking beacons (they tell the sender the mail was opened): embedded ones only.
        return value if url.startswith(("cid:", "data:image/")) else None
    if url.startswith("data:"):
        return None  # outside an embedded image a data: URL can carry a whole page
    return value


def _sanitise_html(html: str) -> str:
    return nh3.clean(
        html,
        clean_content_tags={"script", "style", "title"},
        url_schemes=_HTML_URL_SCHEMES,
        attribute_filter=_keep_attribute,
        link_rel="noopener noreferrer",
    )


def _text_from_html(html: str) -> str:
    """Readable text of sanitised HTML: tags dropped, a line break wherever a block starts or ends."""
    marked = _HTML_BLOCK.sub(lambda tag: "\n" + tag[0], html)
    text = unescape(nh3.clean(marked, tags=set(), clean_content_tags={"script", "style", "title"}))
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
