"""E-signed documents among an e-mail's attachments, recognised by their structure rather than their name.

Latvian eParaksts `.edoc` and Estonian `.bdoc` are ASiC-E containers (ETSI EN 319 162-1); `.asics`/`.scs`
are ASiC-S; a PDF may carry PAdES/CMS signatures. A signature is not verified cryptographically here (that
needs the EU trust lists): the question is whether the file is a signed document and whether it arrived
whole, which includes unchanged since signing: the digests a signature binds (XAdES references, a CMS's
messageDigest) are recomputed from the bytes and compared. That catches a file edited or swapped after
signing, not a forger who recomputes the digests too; only verifying the signature would. A file that
claims to be a container (by name or content type) but is not one is reported DAMAGED, never ignored, so
a handler sees the flag. Pure code: bytes in, a verdict out; hostile input never raises.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple
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
# ds:DigestMethod algorithms as hashlib names; SHA-1 stays readable, older signatures use it.
_XML_DIGESTS = {
    "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
    "http://www.w3.org/2001/04/xmldsig-more#sha224": "sha224",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}

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
            signatures, reason = _asic_check(archive, found)
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


def _entry_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The entry's bytes, inflated a chunk at a time: ZipFile.read() asks zlib for up to 2 GB in one call,
    whatever the entry declares, before cutting the output to the declared size. zipfile compares the
    CRC once the last chunk is read."""
    with archive.open(info) as entry:
        while chunk := entry.read(_READ_CHUNK):
            yield chunk


def _entry_read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    return b"".join(_entry_chunks(archive, info))


@dataclass(frozen=True)
class _FileDigest:
    """A container file's digest as a signature binds it."""

    path: str
    algorithm: str  # a hashlib name
    value: bytes


@dataclass(frozen=True)
class _Signature:
    """One signature in a container: its problem ("" for none found yet) and the file digests to compare."""

    problem: str
    digests: tuple[_FileDigest, ...] = ()


def _asic_check(archive: zipfile.ZipFile, found: SignedFormat) -> tuple[int, str]:
    """(signatures that pass, the first problem or ""), or _Damage when the container itself is not whole.
    The layout is checked before anything is inflated; then the signatures are read, so that the pass
    checking every entry's CRC also hashes the files they bind, and each entry is inflated once."""
    entries = archive.infolist()
    _layout_check(entries)
    names = {info.filename for info in entries}
    meta = _meta_read(archive, names)
    signatures = _asic_signatures(meta, names, found)
    wanted: dict[str, set[str]] = {}
    for digest in (digest for signature in signatures for digest in signature.digests):
        wanted.setdefault(digest.path, set()).add(digest.algorithm)
    digests = _entries_verify(archive, entries, wanted, meta)
    _contents_check(meta, names, found)
    return _signatures_tally(signatures, digests)


def _layout_check(entries: list[zipfile.ZipInfo]) -> None:
    """Raise _Damage unless mimetype comes first and stored, the sizes are sane and every entry uses a
    compression with a bounded output; nothing is inflated yet."""
    if len(entries) > ARCHIVE_MAX_ENTRIES or sum(info.file_size for info in entries) > ARCHIVE_MAX_BYTES:
        raise _Damage("too large")
    unsupported = [info.filename for info in entries if info.compress_type not in _COMPRESSIONS]
    if unsupported:
        raise _Damage(f"unsupported compression in {unsupported[0]}")
    if entries[0].filename != "mimetype":
        raise _Damage("mimetype is not the first entry")
    if entries[0].compress_type != zipfile.ZIP_STORED:
        raise _Damage("mimetype entry is compressed")


def _meta_read(archive: zipfile.ZipFile, names: set[str]) -> dict[str, bytes]:
    """The manifest and the signature files, read whole (the total was bounded by _layout_check)."""
    meta = {}
    for name in sorted(name for name in names if name == MANIFEST_PATH or _signature_kind(name)):
        try:
            meta[name] = _entry_read(archive, archive.getinfo(name))
        except _ZIP_ERRORS as error:
            raise _Damage(f"corrupt zip entry {name}") from error
    return meta


def _entries_verify(
    archive: zipfile.ZipFile,
    entries: list[zipfile.ZipInfo],
    wanted: Mapping[str, set[str]],
    meta: Mapping[str, bytes],
) -> dict[tuple[str, str], bytes]:
    """ZipFile.testzip(), but naming the entry for every failure, not only a CRC mismatch: a bit flipped
    in a deflated entry usually breaks the deflate stream (zlib.error) before the CRC is compared. On the
    way, each entry is hashed with the algorithms `wanted` of its path; the digests are returned by (path,
    algorithm). Nothing is kept but what `meta` already holds, read and CRC-checked before."""
    digests: dict[tuple[str, str], bytes] = {}
    for info in entries:
        hashers = {algorithm: _hasher(algorithm) for algorithm in wanted.get(info.filename, ())}
        held = meta.get(info.filename)
        try:
            for chunk in _entry_chunks(archive, info) if held is None else [held]:
                for hasher in hashers.values():
                    hasher.update(chunk)
        except _ZIP_ERRORS as error:
            raise _Damage(f"corrupt zip entry {info.filename}") from error
        digests.update(((info.filename, algorithm), hasher.digest()) for algorithm, hasher in hashers.items())
    return digests


def _data_files(names: set[str]) -> list[str]:
    files = [name for name in names if name != "mimetype" and not name.startswith("META-INF/")]
    return sorted(name for name in files if not name.endswith("/"))  # directory entries hold nothing


def _contents_check(meta: Mapping[str, bytes], names: set[str], found: SignedFormat) -> None:
    """Raise _Damage unless the manifest (ASiC-E) lists files that exist and the data files are there."""
    if MANIFEST_PATH in meta:
        _manifest_check(meta[MANIFEST_PATH], names)
    elif found is SignedFormat.ASIC_E:
        raise _Damage(f"{MANIFEST_PATH} missing")
    data_files = _data_files(names)
    if not data_files:
        raise _Damage("no data file in the container")
    if found is SignedFormat.ASIC_S and len(data_files) > 1:
        raise _Damage(f"ASiC-S holds {len(data_files)} data files, expected one")


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


def _asic_signatures(meta: Mapping[str, bytes], names: set[str], found: SignedFormat) -> list[_Signature]:
    """Every signature in the container, a signature file that cannot be read standing as one with its
    problem, so a damaged file next to a good one still lets the good one count."""
    data_files = _data_files(names)
    signed_file = data_files[0] if found is SignedFormat.ASIC_S and len(data_files) == 1 else None
    signatures: list[_Signature] = []
    for name in sorted(name for name in meta if _signature_kind(name)):
        try:
            if _signature_kind(name) == "xades":
                signatures += _xades_read(meta[name], name, names)
            else:
                signatures.append(_cades_read(meta[name], name, signed_file))
        except _Damage as damage:
            signatures.append(_Signature(str(damage)))
    return signatures


def _signatures_tally(
    signatures: list[_Signature], digests: Mapping[tuple[str, str], bytes]
) -> tuple[int, str]:
    """(signatures without a problem whose file digests all match, the first problem or "")."""
    if not signatures:
        return 0, "no signature in META-INF"
    count, problems = 0, []
    for signature in signatures:
        changed = [
            digest.path
            for digest in signature.digests
            if digests.get((digest.path, digest.algorithm)) != digest.value
        ]
        problem = signature.problem or (
            f"file {changed[0]} changed after signing (digest mismatch)" if changed else ""
        )
        if problem:
            problems.append(problem)
        else:
            count += 1
    return count, (problems[0] if problems else "")


def _xades_read(raw: bytes, name: str, names: set[str]) -> list[_Signature]:
    root = _xml_parse(raw, "signature XML")
    # Top-level signatures only: a counter-signature nests a ds:Signature inside another one.
    signatures = [root] if root.tag == f"{_DS_NS}Signature" else root.findall(f"{_DS_NS}Signature")
    if not signatures:
        raise _Damage(f"no ds:Signature in {name}")
    return [_Signature("", _xades_digests(signature, name, names)) for signature in signatures]


def _xades_digests(signature: Element, name: str, names: set[str]) -> tuple[_FileDigest, ...]:
    """Raise _Damage unless the signature has a value and refers to files that exist; their digests."""
    value = signature.find(f"{_DS_NS}SignatureValue")
    if value is None or not (value.text or "").strip():
        raise _Damage(f"empty SignatureValue in {name}")
    signed_info = signature.find(f"{_DS_NS}SignedInfo")
    if signed_info is None:
        raise _Damage(f"ds:SignedInfo missing in {name}")
    digests = []
    for reference in signed_info.iterfind(f"{_DS_NS}Reference"):
        uri = reference.get("URI", "")
        if not uri or uri.startswith("#"):  # "" is the signature document itself, "#id" a part of it
            continue
        path = unquote(uri)
        if path not in names:
            raise _Damage(f"signature refers to missing file {path}")
        digest = _reference_digest(reference, path, name)
        if digest is not None:
            digests.append(digest)
    return tuple(digests)


def _reference_digest(reference: Element, path: str, name: str) -> _FileDigest | None:
    """The digest a ds:Reference binds `path` to, or None when it cannot be recomputed from the file: an
    algorithm not known here, or transforms (ASiC signers do not use them on data files), after which the
    digest is of the transforms' output rather than of the file's bytes."""
    if reference.find(f"{_DS_NS}Transforms") is not None:
        return None
    method = reference.find(f"{_DS_NS}DigestMethod")
    algorithm = _XML_DIGESTS.get("" if method is None else method.get("Algorithm", ""))
    if algorithm is None:
        return None
    text = (reference.findtext(f"{_DS_NS}DigestValue") or "").strip()
    try:
        value = base64.b64decode(text)  # skips the line breaks long values are written with
    except binascii.Error:
        value = b""
    if not value:
        raise _Damage(f"DigestValue of {path} unreadable in {name}")
    return _FileDigest(path, algorithm, value)


def _cades_read(raw: bytes, name: str, signed_file: str | None) -> _Signature:
    """A .p7s: a CMS SignedData. In ASiC-S it signs the one data file (`signed_file`), detached. In
    ASiC-E it signs a META-INF/ASiCManifest*.xml that lists the data files' digests; pairing manifests
    with signatures is not done here, so only ASiC-S compares digests (`signed_file` is None otherwise)."""
    cms = _cms_read(raw, name)
    if signed_file is None or cms.content is not None:  # an encapsulated content is not the data file
        return _Signature("")
    return _Signature(
        "", tuple(_FileDigest(signed_file, algorithm, value) for algorithm, value in cms.digests)
    )


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
PDF_MAX_HASHED_BYTES = 512 * 1024 * 1024  # for all signatures together: ten over a 50 MB file
PDF_DIGEST_MISMATCH = "signed bytes changed after signing (messageDigest mismatch)"
_SHA1_BYTES = 20


def _pdf_read(filename: str, data: bytes) -> SignedDocument | None:
    """Every distinct /ByteRange is a signature (an incremental update may repeat an unchanged one); none
    means an ordinary PDF."""
    starts = [match.end() for match in _BYTE_RANGE.finditer(data)]
    if not starts:
        return None
    byte_ranges = list(dict.fromkeys(_byte_range_parse(data, at) for at in starts))
    if len(byte_ranges) > PDF_MAX_SIGNATURES:
        return _damaged(filename, SignedFormat.PDF, "too many signatures")
    count, problems, unhashed = 0, [], PDF_MAX_HASHED_BYTES
    for byte_range in byte_ranges:
        try:
            unhashed -= _pdf_signature_check(data, byte_range, unhashed)
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


def _pdf_signature_check(data: bytes, byte_range: ByteRange | None, unhashed: int) -> int:
    """The signed bytes are the whole revision except the /Contents hex string, which holds the CMS.
    Returns the bytes hashed, at most `unhashed`."""
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
    cms = _cms_read(_contents_decode(data[gap_at + 1 : rest_at - 1]), "signature Contents")
    view = memoryview(data)
    return _pdf_digests_check((view[:gap_at], view[rest_at : rest_at + rest_length]), cms, unhashed)


def _contents_decode(hex_digits: bytes) -> bytes:
    try:
        cms = bytes.fromhex(hex_digits.decode("latin-1"))  # fromhex skips whitespace
    except ValueError as error:
        raise _Damage("signature Contents is not hex") from error
    if not cms.rstrip(b"\0"):  # a placeholder never filled: the writer reserved room and stopped
        raise _Damage("signature Contents is empty")
    return cms  # zero padding after the CMS stays: the DER reader stops at the CMS's own end


def _pdf_digests_check(covered: tuple[memoryview, memoryview], cms: _Cms, unhashed: int) -> int:
    """Raise _Damage unless the digests the CMS signed are those of the covered bytes; returns the bytes
    hashed. A detached CMS (adbe.pkcs7.detached, ETSI.CAdES.detached) signs the covered bytes' digest as
    messageDigest. One carrying content signs that content: adbe.pkcs7.sha1 carries the covered bytes'
    SHA-1, compared too; a document timestamp (ETSI.RFC3161) carries a TSTInfo, whose messageImprint is
    not read here, so only the token itself is checked."""
    imprints = cms.digests
    if cms.content is not None:
        if any(_digest(algorithm, [cms.content]) != value for algorithm, value in cms.digests):
            raise _Damage(PDF_DIGEST_MISMATCH)
        is_sha1 = cms.content_type == _DATA_OID and len(cms.content) == _SHA1_BYTES
        imprints = (("sha1", cms.content),) if is_sha1 else ()
    algorithms = {algorithm for algorithm, _ in imprints}
    cost = len(algorithms) * sum(len(part) for part in covered)
    if cost > unhashed:
        # Past the bound on a file's hashing (100 signatures over the same 50 MB would otherwise be 5 GB),
        # the remaining signatures are checked by structure only.
        return 0
    computed = {algorithm: _digest(algorithm, covered) for algorithm in algorithms}
    if any(computed[algorithm] != value for algorithm, value in imprints):
        raise _Damage(PDF_DIGEST_MISMATCH)
    return cost


def _hasher(algorithm: str) -> hashlib._Hash:
    # Not for security: a digest tells a changed file from an unchanged one, as the signer computed it.
    return hashlib.new(algorithm, usedforsecurity=False)


def _digest(algorithm: str, chunks: Iterable[bytes | memoryview]) -> bytes:
    hasher = _hasher(algorithm)
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.digest()


# CMS -------------------------------------------------------------------------------------------------
# Just enough of X.690 to walk a CMS SignedData (RFC 5652) to the digests it signs. BER's indefinite
# lengths are read too: OpenSSL's `smime -outform DER` and streaming generators write them.

_SEQUENCE, _SET, _OID, _OCTET_STRING = 0x30, 0x31, 0x06, 0x04
_CONSTRUCTED = 0x20
_HIGH_TAG = 0x1F  # tag number bits all set: the number follows in further octets
_CONTEXT_0 = 0xA0  # [0], constructed
_INDEFINITE = 0x80  # the length octet of an indefinite length; above it, the count of length octets
_LENGTH_MAX_OCTETS = 4  # up to 4 GB: past it no CMS here could fit anyway
ASN1_MAX_DEPTH = 32  # nested indefinite lengths or split OCTET STRINGs; a real CMS nests a few
ASN1_MAX_ELEMENTS = 10_000  # element headers read per buffer; walking a CMS to its digests takes ~100
_PAIR = 2  # ContentInfo and Attribute: a type OID and its value
_SIGNED_DATA_MIN_FIELDS = 4  # version, digestAlgorithms, encapContentInfo, signerInfos
_ENCAPSULATED_MAX_FIELDS = 2  # eContentType, [0] eContent (absent when detached)
_SIGNER_INFO_MIN_FIELDS = 5  # version, sid, digestAlgorithm, signatureAlgorithm, signature


class _Asn1Error(Exception):
    """The bytes are not well-formed DER or BER, or nest deeper than a CMS does."""


class _Asn1Limit(Exception):
    """Well-formed so far but past the element budget: left unchecked rather than called damaged, since a
    CMS may carry large certificate or revocation sets the walk has to step over."""


class _Tlv(NamedTuple):
    tag: int
    start: int  # the first content byte
    end: int  # one past the last content byte
    next: int  # the next element: `end`, or past the end-of-contents octets of an indefinite length


class _Asn1:
    """A reader over one buffer. Every element's length is checked against its parent's end before use;
    each element read costs one unit of a budget, and indefinite lengths nest at most ASN1_MAX_DEPTH deep,
    so hostile bytes end in _Asn1Error or _Asn1Limit, never in a long loop or a deep recursion."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.budget = ASN1_MAX_ELEMENTS

    def element(self, at: int, end: int, depth: int = 0) -> _Tlv:
        self.budget -= 1
        if self.budget < 0:
            raise _Asn1Limit
        if depth > ASN1_MAX_DEPTH:
            raise _Asn1Error("nested deeper than any CMS")
        if at + 2 > end:
            raise _Asn1Error("element past its parent's end")
        tag, first = self.data[at], self.data[at + 1]
        if tag & _HIGH_TAG == _HIGH_TAG:  # CMS uses no tag number above 30
            raise _Asn1Error("high tag number")
        at += 2
        if first == _INDEFINITE:
            return self._indefinite(tag, at, end, depth)
        length = first
        if first > _INDEFINITE:
            size = first - _INDEFINITE
            if size > _LENGTH_MAX_OCTETS or at + size > end:
                raise _Asn1Error("length unreadable")
            length, at = int.from_bytes(self.data[at : at + size]), at + size
        if at + length > end:
            raise _Asn1Error("element past its parent's end")
        return _Tlv(tag, at, at + length, at + length)

    def _indefinite(self, tag: int, start: int, end: int, depth: int) -> _Tlv:
        if not tag & _CONSTRUCTED:
            raise _Asn1Error("indefinite length on a primitive element")
        at = start
        while not self.data.startswith(b"\0\0", at, end):  # each pass moves on by 2 bytes at least
            at = self.element(at, end, depth + 1).next
        return _Tlv(tag, start, at, at + 2)

    def children(self, parent: _Tlv) -> list[_Tlv]:
        items, at = [], parent.start
        while at < parent.end:
            item = self.element(at, parent.end)
            items.append(item)
            at = item.next
        return items

    def value(self, item: _Tlv) -> bytes:
        return self.data[item.start : item.end]

    def octets(self, item: _Tlv, depth: int = 0) -> bytes:
        """An OCTET STRING's value, joined from its parts when BER splits it (constructed)."""
        if item.tag == _OCTET_STRING:
            return self.value(item)
        if item.tag != _OCTET_STRING | _CONSTRUCTED:
            raise _Asn1Error("not an OCTET STRING")
        if depth > ASN1_MAX_DEPTH:
            raise _Asn1Error("nested deeper than any CMS")
        return b"".join(self.octets(part, depth + 1) for part in self.children(item))


def _expect(item: _Tlv, tag: int) -> _Tlv:
    if item.tag != tag:
        raise _Asn1Error(f"tag {item.tag:#x} where {tag:#x} belongs")
    return item


def _oid_encode(dotted: str) -> bytes:
    """The content octets of an OBJECT IDENTIFIER's DER encoding: base-128 arcs, the first two joined."""
    first, second, *rest = (int(arc) for arc in dotted.split("."))
    out = bytearray()
    for arc in (first * 40 + second, *rest):
        septets = [arc & 0x7F]
        while arc := arc >> 7:
            septets.append(0x80 | (arc & 0x7F))
        out += bytes(reversed(septets))
    return bytes(out)


_SIGNED_DATA = _oid_encode("1.2.840.113549.1.7.2")
_DATA_OID = _oid_encode("1.2.840.113549.1.7.1")
_MESSAGE_DIGEST_OID = _oid_encode("1.2.840.113549.1.9.4")
_CMS_DIGESTS = {
    _oid_encode("1.3.14.3.2.26"): "sha1",
    _oid_encode("2.16.840.1.101.3.4.2.4"): "sha224",
    _oid_encode("2.16.840.1.101.3.4.2.1"): "sha256",
    _oid_encode("2.16.840.1.101.3.4.2.2"): "sha384",
    _oid_encode("2.16.840.1.101.3.4.2.3"): "sha512",
}
_DIGESTS_BY_LENGTH = {20: "sha1", 32: "sha256", 48: "sha384", 64: "sha512"}


@dataclass(frozen=True)
class _Cms:
    content_type: bytes  # the encapsulated content's type, as OID content octets
    content: bytes | None  # the encapsulated content; None when detached
    digests: tuple[tuple[str, bytes], ...]  # (hashlib name, messageDigest) of each SignerInfo that has one


def _cms_read(cms: bytes, what: str) -> _Cms:
    """Raise _Damage unless `cms` is a ContentInfo holding a SignedData; what it signs."""
    if not cms.startswith(b"\x30") or SIGNED_DATA_OID not in cms:
        raise _Damage(f"{what} is not a CMS SignedData")
    try:
        return _signed_data_read(_Asn1(cms))
    except _Asn1Error as error:
        raise _Damage(f"{what} is not a CMS SignedData") from error
    except _Asn1Limit:
        return _Cms(b"", None, ())


def _signed_data_read(reader: _Asn1) -> _Cms:
    info = reader.children(_expect(reader.element(0, len(reader.data)), _SEQUENCE))
    if (
        len(info) != _PAIR
        or reader.value(_expect(info[0], _OID)) != _SIGNED_DATA
        or info[1].tag != _CONTEXT_0
    ):
        raise _Asn1Error("not a SignedData ContentInfo")
    wrapped = reader.children(info[1])
    if len(wrapped) != 1:
        raise _Asn1Error("[0] holds more than the SignedData")
    # version, digestAlgorithms, encapContentInfo, [0] certificates, [1] crls, signerInfos (always last)
    fields = reader.children(_expect(wrapped[0], _SEQUENCE))
    if len(fields) < _SIGNED_DATA_MIN_FIELDS:
        raise _Asn1Error("SignedData too short")
    encapsulated = reader.children(_expect(fields[2], _SEQUENCE))
    if not encapsulated or len(encapsulated) > _ENCAPSULATED_MAX_FIELDS:
        raise _Asn1Error("encapContentInfo malformed")
    content_type = reader.value(_expect(encapsulated[0], _OID))
    content = None
    if len(encapsulated) == _ENCAPSULATED_MAX_FIELDS:
        parts = reader.children(_expect(encapsulated[1], _CONTEXT_0))
        if len(parts) != 1:
            raise _Asn1Error("eContent malformed")
        content = reader.octets(parts[0])
    signers = reader.children(_expect(fields[-1], _SET))
    digests = tuple(digest for signer in signers if (digest := _signer_digest(reader, signer)))
    return _Cms(content_type, content, digests)


def _signer_digest(reader: _Asn1, signer: _Tlv) -> tuple[str, bytes] | None:
    """A SignerInfo's (hashlib name, messageDigest), or None when there is nothing to compare: no signed
    attributes (the signature value then signs the content's digest itself, which only the signer's public
    key recovers, and this module verifies no signature) or a digest algorithm not known here."""
    # version, sid, digestAlgorithm, [0] signedAttrs (optional), signatureAlgorithm, signature, ...
    fields = reader.children(_expect(signer, _SEQUENCE))
    if len(fields) < _SIGNER_INFO_MIN_FIELDS:
        raise _Asn1Error("SignerInfo too short")
    if fields[3].tag != _CONTEXT_0:
        return None
    for attribute in reader.children(fields[3]):
        parts = reader.children(_expect(attribute, _SEQUENCE))
        if len(parts) != _PAIR:
            raise _Asn1Error("Attribute malformed")
        if reader.value(_expect(parts[0], _OID)) == _MESSAGE_DIGEST_OID:
            digest = reader.children(_expect(parts[1], _SET))
            if len(digest) != 1:
                raise _Asn1Error("messageDigest holds more than one value")
            value = reader.value(_expect(digest[0], _OCTET_STRING))  # signed attributes are DER
            algorithm = _digest_algorithm(reader, fields[2], value)
            return None if algorithm is None else (algorithm, value)
    return None  # RFC 5652 requires messageDigest among signed attributes; without it there is no digest


def _digest_algorithm(reader: _Asn1, identifier: _Tlv, digest: bytes) -> str | None:
    """The hashlib name an AlgorithmIdentifier names, or by the digest's length when it does not read.
    An OID that reads but is not known here gives None: guessing by length would take SHA3-256 or a GOST
    digest for SHA-256 and call an unchanged file changed."""
    try:
        oid = reader.value(_expect(reader.children(_expect(identifier, _SEQUENCE))[0], _OID))
    except (_Asn1Error, IndexError):
        return _DIGESTS_BY_LENGTH.get(len(digest))
    return _CMS_DIGESTS.get(oid)
