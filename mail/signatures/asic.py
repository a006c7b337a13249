"""ASiC-E and ASiC-S containers: the zip's layout and entries, the ODF manifest, XAdES and CAdES
signatures and the file digests they bind."""

from __future__ import annotations

import base64
import binascii
import io
import struct
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from mail.signatures.der import cms_read
from mail.signatures.hashing import hasher_new
from mail.signatures.model import Damage, SignedDocument, SignedFormat, SignedVerdict, damaged

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element


ZIP_MAGIC = b"PK\x03\x04"
ASIC_MIMETYPES = {
    b"application/vnd.etsi.asic-e+zip": SignedFormat.ASIC_E,
    b"application/vnd.etsi.asic-s+zip": SignedFormat.ASIC_S,
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


def asic_read(filename: str, data: bytes, claimed: SignedFormat | None) -> SignedDocument | None:
    claim = claimed or _asic_sniffed(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS:
        return damaged(filename, claim, "not a zip archive") if claim else None
    with archive:
        found = _archive_mimetype(archive)
        if found is None:
            return damaged(filename, claim, "mimetype entry missing or not ASiC") if claim else None
        try:
            signatures, reason = _asic_check(archive, found)
        except Damage as damage:
            return damaged(filename, found, str(damage))
        except _ZIP_ERRORS as error:
            return damaged(filename, found, f"unreadable zip entry: {error}")
    if reason:
        return damaged(filename, found, reason, signatures)
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
    """(signatures that pass, the first problem or ""), or Damage when the container itself is not whole.
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
    """Raise Damage unless mimetype comes first and stored, the sizes are sane and every entry uses a
    compression with a bounded output; nothing is inflated yet."""
    if len(entries) > ARCHIVE_MAX_ENTRIES or sum(info.file_size for info in entries) > ARCHIVE_MAX_BYTES:
        raise Damage("too large")
    unsupported = [info.filename for info in entries if info.compress_type not in _COMPRESSIONS]
    if unsupported:
        raise Damage(f"unsupported compression in {unsupported[0]}")
    if entries[0].filename != "mimetype":
        raise Damage("mimetype is not the first entry")
    if entries[0].compress_type != zipfile.ZIP_STORED:
        raise Damage("mimetype entry is compressed")


def _meta_read(archive: zipfile.ZipFile, names: set[str]) -> dict[str, bytes]:
    """The manifest and the signature files, read whole (the total was bounded by _layout_check)."""
    meta = {}
    for name in sorted(name for name in names if name == MANIFEST_PATH or _signature_kind(name)):
        try:
            meta[name] = _entry_read(archive, archive.getinfo(name))
        except _ZIP_ERRORS as error:
            raise Damage(f"corrupt zip entry {name}") from error
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
        hashers = {algorithm: hasher_new(algorithm) for algorithm in wanted.get(info.filename, ())}
        held = meta.get(info.filename)
        try:
            for chunk in _entry_chunks(archive, info) if held is None else [held]:
                for hasher in hashers.values():
                    hasher.update(chunk)
        except _ZIP_ERRORS as error:
            raise Damage(f"corrupt zip entry {info.filename}") from error
        digests.update(((info.filename, algorithm), hasher.digest()) for algorithm, hasher in hashers.items())
    return digests


def _data_files(names: set[str]) -> list[str]:
    files = [name for name in names if name != "mimetype" and not name.startswith("META-INF/")]
    return sorted(name for name in files if not name.endswith("/"))  # directory entries hold nothing


def _contents_check(meta: Mapping[str, bytes], names: set[str], found: SignedFormat) -> None:
    """Raise Damage unless the manifest (ASiC-E) lists files that exist and the data files are there."""
    if MANIFEST_PATH in meta:
        _manifest_check(meta[MANIFEST_PATH], names)
    elif found is SignedFormat.ASIC_E:
        raise Damage(f"{MANIFEST_PATH} missing")
    data_files = _data_files(names)
    if not data_files:
        raise Damage("no data file in the container")
    if found is SignedFormat.ASIC_S and len(data_files) > 1:
        raise Damage(f"ASiC-S holds {len(data_files)} data files, expected one")


def _xml_parse(raw: bytes, what: str) -> Element:
    """defusedxml refuses entity declarations (billion laughs) and external references."""
    try:
        return SafeElementTree.fromstring(raw)
    except DefusedXmlException as error:
        raise Damage(f"{what} unreadable: entities or external references refused ({error})") from error
    except ParseError as error:
        raise Damage(f"{what} unreadable: {error}") from error


def _manifest_check(raw: bytes, names: set[str]) -> None:
    root = _xml_parse(raw, "manifest XML")
    if root.tag != f"{_MANIFEST_NS}manifest":
        raise Damage(f"{MANIFEST_PATH} is not an ODF manifest")
    paths = [entry.get(f"{_MANIFEST_NS}full-path", "") for entry in root.iter(f"{_MANIFEST_NS}file-entry")]
    listed = [path for path in paths if path and not path.endswith("/")]  # "/" is the container itself
    missing = [path for path in listed if path not in names]
    if missing:
        raise Damage(f"manifest lists missing file {missing[0]}")
    if not listed:
        raise Damage("manifest lists no data file")


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
        except Damage as damage:
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
        raise Damage(f"no ds:Signature in {name}")
    return [_Signature("", _xades_digests(signature, name, names)) for signature in signatures]


def _xades_digests(signature: Element, name: str, names: set[str]) -> tuple[_FileDigest, ...]:
    """Raise Damage unless the signature has a value and refers to files that exist; their digests."""
    value = signature.find(f"{_DS_NS}SignatureValue")
    if value is None or not (value.text or "").strip():
        raise Damage(f"empty SignatureValue in {name}")
    signed_info = signature.find(f"{_DS_NS}SignedInfo")
    if signed_info is None:
        raise Damage(f"ds:SignedInfo missing in {name}")
    digests = []
    for reference in signed_info.iterfind(f"{_DS_NS}Reference"):
        uri = reference.get("URI", "")
        if not uri or uri.startswith("#"):  # "" is the signature document itself, "#id" a part of it
            continue
        path = unquote(uri)
        if path not in names:
            raise Damage(f"signature refers to missing file {path}")
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
        raise Damage(f"DigestValue of {path} unreadable in {name}")
    return _FileDigest(path, algorithm, value)


def _cades_read(raw: bytes, name: str, signed_file: str | None) -> _Signature:
    """A .p7s: a CMS SignedData. In ASiC-S it signs the one data file (`signed_file`), detached. In
    ASiC-E it signs a META-INF/ASiCManifest*.xml that lists the data files' digests; pairing manifests
    with signatures is not done here, so only ASiC-S compares digests (`signed_file` is None otherwise)."""
    cms = cms_read(raw, name)
    if signed_file is None or cms.content is not None:  # an encapsulated content is not the data file
        return _Signature("")
    return _Signature(
        "", tuple(_FileDigest(signed_file, algorithm, value) for algorithm, value in cms.digests)
    )
