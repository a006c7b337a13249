"""E-signed documents among an e-mail's attachments, recognised by their structure rather than their name.

Latvian eParaksts `.edoc` and Estonian `.bdoc` are ASiC-E containers (ETSI EN 319 162-1); `.asics`/`.scs`
are ASiC-S; a PDF may carry PAdES/CMS signatures. A signature is not verified cryptographically here (that
needs the EU trust lists): the question is whether the file is a signed document and whether it arrived
whole. A file that claims to be a container (by name or content type) but is not one is reported DAMAGED,
never ignored, so a handler sees the flag. Pure code: bytes in, a verdict out; hostile input never raises.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import unquote
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element


class SignedFormat(StrEnum):
    ASIC_E = "asic-e"
    ASIC_S = "asic-s"
    PDF = "pdf"


class SignedVerdict(StrEnum):
    SIGNED = "signed"
    DAMAGED = "damaged"


@dataclass(frozen=True)
class SignedDocument:
    filename: str
    format: SignedFormat
    verdict: SignedVerdict
    signatures: int  # signatures that passed the checks; 0 when damaged before counting
    reason: str  # "" when SIGNED

    def as_payload(self) -> dict[str, object]:
        return {
            "filename": self.filename,
            "format": self.format.value,
            "verdict": self.verdict.value,
            "signatures": self.signatures,
            "reason": self.reason,
        }


ZIP_MAGIC = b"PK\x03\x04"
PDF_MAGIC = b"%PDF-"
HEAD_SIZE = 1024  # magic numbers are looked for this far in: some PDF writers put junk before %PDF-
SIGNED_DATA_OID = bytes.fromhex("06092A864886F70D010702")  # DER of 1.2.840.113549.1.7.2, CMS signedData

ASIC_MIMETYPES = {
    b"application/vnd.etsi.asic-e+zip": SignedFormat.ASIC_E,
    b"application/vnd.etsi.asic-s+zip": SignedFormat.ASIC_S,
}
_CONTAINER_TYPES = {mimetype.decode(): signed_format for mimetype, signed_format in ASIC_MIMETYPES.items()}
_CONTAINER_SUFFIXES = {
    ".edoc": SignedFormat.ASIC_E,  # Latvian eParaksts
    ".asice": SignedFormat.ASIC_E,
    ".bdoc": SignedFormat.ASIC_E,  # Estonian DigiDoc
    ".sce": SignedFormat.ASIC_E,
    ".asics": SignedFormat.ASIC_S,
    ".scs": SignedFormat.ASIC_S,
}

# Zip bomb guard: the declared sizes bound what zipfile decompresses (it stops at an entry's file_size and
# then fails its CRC), so checking the declared total before reading anything bounds the work.
ARCHIVE_MAX_BYTES = 50 * 1024 * 1024
ARCHIVE_MAX_ENTRIES = 1000
_READ_CHUNK = 1024 * 1024
_MIMETYPE_MAX_BYTES = 64  # the longest ASiC mimetype is 31 bytes; a bigger entry is not one
_LOCAL_HEADER_SIZE = 30  # fixed part of a zip local file header; name and extra lengths end it
# ASiC and ODF use only these; bzip2 and LZMA are inflated by zipfile without an output bound.
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)

REASON_MAX_CHARS = 200
MANIFEST_PATH = "META-INF/manifest.xml"
_MANIFEST_NS = "{urn:oasis:names:tc:opendocument:xmlns:manifest:1.0}"
_DS_NS = "{http://www.w3.org/2000/09/xmldsig#}"

# What zipfile, zlib and struct raise on a malformed archive: a bad directory, an unsupported or
# encrypted entry (NotImplementedError, RuntimeError), a broken deflate stream, a short header.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    RuntimeError,
    ValueError,
    EOFError,
    OSError,
    zlib.error,
    struct.error,
)


class _Damage(Exception):
    """A check failed; the message is the DAMAGED reason."""


def _damaged(filename: str, signed_format: SignedFormat, reason: str, signatures: int = 0) -> SignedDocument:
    # Reasons quote entry names and parser messages from the attacker's bytes: keep them one short line.
    shown = "".join(char if char.isprintable() else "?" for char in reason)
    if len(shown) > REASON_MAX_CHARS:
        shown = shown[: REASON_MAX_CHARS - 1] + "…"
    return SignedDocument(filename, signed_format, SignedVerdict.DAMAGED, signatures, shown)


def _content_type_bare(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _claimed_format(filename: str, content_type: str) -> SignedFormat | None:
    """The container format a name or content type promises, whatever the bytes are."""
    by_type = _CONTAINER_TYPES.get(_content_type_bare(content_type))
    if by_type is not None:
        return by_type
    name = filename.strip().lower()
    return next((fmt for suffix, fmt in _CONTAINER_SUFFIXES.items() if name.endswith(suffix)), None)


def is_candidate(filename: str, content_type: str, head: bytes) -> bool:
    """True when the attachment may be a signed document and its bytes are worth reading."""
    window = head[:HEAD_SIZE]
    return (
        ZIP_MAGIC in window
        or PDF_MAGIC in window
        or _claimed_format(filename, content_type) is not None
        or _content_type_bare(content_type) == "application/pdf"
    )


def signed_document_read(filename: str, content_type: str, data: bytes) -> SignedDocument | None:
    """The attachment as a signed document, DAMAGED with a reason when it is not whole, or None when it is
    not a signed document at all (an ordinary PDF or zip, a picture). The bytes decide; a container name
    or content type only turns "not a container" into DAMAGED."""
    claimed = _claimed_format(filename, content_type)
    window = data[:HEAD_SIZE]
    zip_at, pdf_at = window.find(ZIP_MAGIC), window.find(PDF_MAGIC)
    # Whichever magic comes first wins: a stored PDF inside an ASiC shows %PDF- within the first kilobyte.
    is_pdf = pdf_at >= 0 and (zip_at < 0 or pdf_at < zip_at)
    if is_pdf and claimed is None:
        return _pdf_read(filename, data)
    if zip_at >= 0 or claimed is not None:
        return _asic_read(filename, data, claimed)
    return None


# ASiC ------------------------------------------------------------------------------------------------


def _asic_sniffed(data: bytes) -> SignedFormat | None:
    """The ASiC mimetype read straight from the first local header (ETSI puts it there, stored), so a
    container whose end was cut off in transit is still known for what it was."""
    if not data.startswith(ZIP_MAGIC) or len(data) < _LOCAL_HEADER_SIZE:
        return None
    name_length, extra_length = struct.unpack_from("<HH", data, _LOCAL_HEADER_SIZE - 4)
    name_at = _LOCAL_HEADER_SIZE
    if data[name_at : name_at + name_length] != b"mimetype":
        return None
    content_at = name_at + name_length + extra_length
    return next((fmt for mime, fmt in ASIC_MIMETYPES.items() if data.startswith(mime, content_at)), None)


def _asic_read(filename: str, data: bytes, claimed: SignedFormat | None) -> SignedDocument | None:
    claim = claimed or _asic_sniffed(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS:
        return _damaged(filename, claim, "not a zip archive") if claim else None
    with archive:
        found = _archive_mimetype(archive)
        if found is None:
            return _damaged(filename, claim, "mimetype entry missing or not ASiC") if claim else None
        try:
            _archive_check(archive, found)
            signatures, reason = _asic_signatures(archive)
        except _Damage as damage:
            return _damaged(filename, found, str(damage))
        except _ZIP_ERRORS as error:
            return _damaged(filename, found, f"unreadable zip entry: {error}")
    if reason:
        return _damaged(filename, found, reason, signatures)
    return SignedDocument(filename, found, SignedVerdict.SIGNED, signatures, "")


def _archive_mimetype(archive: zipfile.ZipFile) -> SignedFormat | None:
    """The format the `mimetype` entry declares, wherever it sits; its position is checked later so a
    misplaced one reads as a damaged container rather than an ordinary zip."""
    try:
        info = archive.getinfo("mimetype")
        if info.file_size > _MIMETYPE_MAX_BYTES or info.compress_type not in _COMPRESSIONS:
            return None
        return ASIC_MIMETYPES.get(_entry_read(archive, info))
    except (KeyError, *_ZIP_ERRORS):
        return None


def _entry_read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The entry's bytes, inflated a chunk at a time: ZipFile.read() asks zlib for up to 2 GB in one call,
    whatever the entry declares, before cutting the output to the declared size."""
    chunks = []
    with archive.open(info) as entry:
        while chunk := entry.read(_READ_CHUNK):
            chunks.append(chunk)
    return b"".join(chunks)


def _archive_check(archive: zipfile.ZipFile, found: SignedFormat) -> None:
    """Raise _Damage unless the container's layout is whole: mimetype first and stored, sizes sane, every
    entry's CRC right, manifest (ASiC-E) listing files that exist, data files present."""
    entries = archive.infolist()
    if len(entries) > ARCHIVE_MAX_ENTRIES or sum(info.file_size for info in entries) > ARCHIVE_MAX_BYTES:
        raise _Damage("too large")
    unsupported = [info.filename for info in entries if info.compress_type not in _COMPRESSIONS]
    if unsupported:
        raise _Damage(f"unsupported compression in {unsupported[0]}")
    if entries[0].filename != "mimetype":
        raise _Damage("mimetype is not the first entry")
    if entries[0].compress_type != zipfile.ZIP_STORED:
        raise _Damage("mimetype entry is compressed")
    _entries_verify(archive, entries)
    names = set(archive.namelist())
    data_files = [name for name in names if name != "mimetype" and not name.startswith("META-INF/")]
    data_files = [name for name in data_files if not name.endswith("/")]  # directory entries hold nothing
    if MANIFEST_PATH in names:
        _manifest_check(_entry_read(archive, archive.getinfo(MANIFEST_PATH)), names)
    elif found is SignedFormat.ASIC_E:
        raise _Damage(f"{MANIFEST_PATH} missing")
    if not data_files:
        raise _Damage("no data file in the container")
    if found is SignedFormat.ASIC_S and len(data_files) > 1:
        raise _Damage(f"ASiC-S holds {len(data_files)} data files, expected one")


def _entries_verify(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]) -> None:
    """ZipFile.testzip(), but naming the entry for every failure, not only a CRC mismatch: a bit flipped
    in a deflated entry usually breaks the deflate stream (zlib.error) before the CRC is compared.
    Streams and discards, so nothing is extracted; the total was bounded by _archive_check."""
    for info in entries:
        try:
            with archive.open(info) as entry:
                while entry.read(_READ_CHUNK):  # a chunk at a time, discarded: see _entry_read
                    pass
        except _ZIP_ERRORS as error:
            raise _Damage(f"corrupt zip entry {info.filename}") from error


def _xml_parse(raw: bytes, what: str) -> Element:
    """defusedxml refuses entity declarations (billion laughs) and external references."""
    try:
        return SafeElementTree.fromstring(raw)
    except DefusedXmlException as error:
        raise _Damage(f"{what} unreadable: entities or external references refused ({error})") from error
    except ParseError as error:
        raise _Damage(f"{what} unreadable: {error}") from error


def _manifest_check(raw: bytes, names: set[str]) -> None:
    root = _xml_parse(raw, "manifest XML")
    if root.tag != f"{_MANIFEST_NS}manifest":
        raise _Damage(f"{MANIFEST_PATH} is not an ODF manifest")
    paths = [entry.get(f"{_MANIFEST_NS}full-path", "") for entry in root.iter(f"{_MANIFEST_NS}file-entry")]
    listed = [path for path in paths if path and not path.endswith("/")]  # "/" is the container itself
    missing = [path for path in listed if path not in names]
    if missing:
        raise _Damage(f"manifest lists missing file {missing[0]}")
    if not listed:
        raise _Damage("manifest lists no data file")


def _signature_kind(name: str) -> str:
    """'xades' for META-INF/*signatures*.xml, 'cades' for META-INF/*signature*.p7s, else ''."""
    folder, _, base = name.rpartition("/")
    base = base.lower()
    if folder != "META-INF":
        return ""
    if "signatures" in base and base.endswith(".xml"):
        return "xades"
    if "signature" in base and base.endswith(".p7s"):
        return "cades"
    return ""


def _asic_signatures(archive: zipfile.ZipFile) -> tuple[int, str]:
    """(signatures that pass, the first problem or ""): every signature file is looked at, so a damaged
    one next to a good one still reports the good one's count."""
    names = set(archive.namelist())
    files = sorted(name for name in names if _signature_kind(name))
    if not files:
        return 0, "no signature in META-INF"
    count, problems = 0, []
    for name in files:
        try:
            if _signature_kind(name) == "xades":
                count += _xades_count(_entry_read(archive, archive.getinfo(name)), name, names)
            else:
                count += _cades_count(_entry_read(archive, archive.getinfo(name)), name)
        except _Damage as damage:
            problems.append(str(damage))
    return count, (problems[0] if problems else "")


def _xades_count(raw: bytes, name: str, names: set[str]) -> int:
    root = _xml_parse(raw, "signature XML")
    # Top-level signatures only: a counter-signature nests a ds:Signature inside another one.
    signatures = [root] if root.tag == f"{_DS_NS}Signature" else root.findall(f"{_DS_NS}Signature")
    if not signatures:
        raise _Damage(f"no ds:Signature in {name}")
    for signature in signatures:
        _xades_check(signature, name, names)
    return len(signatures)


def _xades_check(signature: Element, name: str, names: set[str]) -> None:
    value = signature.find(f"{_DS_NS}SignatureValue")
    if value is None or not (value.text or "").strip():
        raise _Damage(f"empty SignatureValue in {name}")
    signed_info = signature.find(f"{_DS_NS}SignedInfo")
    if signed_info is None:
        raise _Damage(f"ds:SignedInfo missing in {name}")
    for reference in signed_info.iterfind(f"{_DS_NS}Reference"):
        uri = reference.get("URI", "")
        if not uri or uri.startswith("#"):  # "" is the signature document itself, "#id" a part of it
            continue
        path = unquote(uri)
        if path not in names:
            raise _Damage(f"signature refers to missing file {path}")


def _cades_count(raw: bytes, name: str) -> int:
    if not raw.startswith(b"\x30") or SIGNED_DATA_OID not in raw:
        raise _Damage(f"{name} is not a CMS SignedData")
    return 1


# PDF -------------------------------------------------------------------------------------------------

_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[")
# At most 20 digits: int() of a longer run is pointless here and Python refuses past 4300 digits.
_BYTE_RANGE_NUMBERS = re.compile(rb"\s*(\d{1,20})\s+(\d{1,20})\s+(\d{1,20})\s+(\d{1,20})\s*\]")
ByteRange = tuple[int, int, int, int]
# Bounds on the hex decoding a hostile PDF can ask for (ranges may share one huge gap). A real CMS, even
# with a timestamp and embedded revocation data, is tens to hundreds of kilobytes; documents carry a handful
# of signatures.
PDF_MAX_SIGNATURES = 100
PDF_CONTENTS_MAX_BYTES = 4 * 1024 * 1024


def _pdf_read(filename: str, data: bytes) -> SignedDocument | None:
    """Every distinct /ByteRange is a signature (an incremental update may repeat an unchanged one); none
    means an ordinary PDF."""
    starts = [match.end() for match in _BYTE_RANGE.finditer(data)]
    if not starts:
        return None
    byte_ranges = list(dict.fromkeys(_byte_range_parse(data, at) for at in starts))
    if len(byte_ranges) > PDF_MAX_SIGNATURES:
        return _damaged(filename, SignedFormat.PDF, "too many signatures")
    count, problems = 0, []
    for byte_range in byte_ranges:
        try:
            _pdf_signature_check(data, byte_range)
            count += 1
        except _Damage as damage:
            problems.append(str(damage))
    if problems:
        return _damaged(filename, SignedFormat.PDF, problems[0], count)
    return SignedDocument(filename, SignedFormat.PDF, SignedVerdict.SIGNED, count, "")


def _byte_range_parse(data: bytes, at: int) -> ByteRange | None:
    match = _BYTE_RANGE_NUMBERS.match(data, at)
    if match is None:
        return None
    start, gap_at, rest_at, rest_length = (int(number) for number in match.groups())
    return start, gap_at, rest_at, rest_length


def _pdf_signature_check(data: bytes, byte_range: ByteRange | None) -> None:
    """The signed bytes are the whole revision except the /Contents hex string, which holds the CMS."""
    if byte_range is None:
        raise _Damage("ByteRange unreadable")
    start, gap_at, rest_at, rest_length = byte_range
    if start != 0:
        raise _Damage("ByteRange does not start at the beginning of the file")
    if rest_at <= gap_at:
        raise _Damage("ByteRange ranges overlap")
    if rest_at + rest_length > len(data):
        raise _Damage("ByteRange beyond the end of the file")
    key = data[max(0, gap_at - 32) : gap_at].rstrip()
    is_string = data.startswith(b"<", gap_at) and data.endswith(b">", 0, rest_at)
    if not (is_string and key.endswith(b"/Contents")):
        raise _Damage("ByteRange gap is not the /Contents value")
    if rest_at - gap_at > PDF_CONTENTS_MAX_BYTES:
        raise _Damage("signature Contents too large")
    _cms_check(data[gap_at + 1 : rest_at - 1])


def _cms_check(hex_digits: bytes) -> None:
    try:
        cms = bytes.fromhex(hex_digits.decode("latin-1"))  # fromhex skips whitespace
    except ValueError as error:
        raise _Damage("signature Contents is not hex") from error
    if not cms.rstrip(b"\0"):  # a placeholder never filled: the writer reserved room and stopped
        raise _Damage("signature Contents is empty")
    if not cms.startswith(b"\x30") or SIGNED_DATA_OID not in cms:
        raise _Damage("signature Contents is not a CMS SignedData")
