"""Signed PDFs (PAdES, adbe.pkcs7): each /ByteRange, its /Contents CMS and the digests of the bytes it
covers."""

from __future__ import annotations

import re

from mail.signatures.der import DATA_OID, Cms, cms_read
from mail.signatures.hashing import digest_compute
from mail.signatures.model import Damage, SignedDocument, SignedFormat, SignedVerdict, damaged

PDF_MAGIC = b"%PDF-"
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


def pdf_read(filename: str, data: bytes) -> SignedDocument | None:
    """Every distinct /ByteRange is a signature (an incremental update may repeat an unchanged one); none
    means an ordinary PDF."""
    starts = [match.end() for match in _BYTE_RANGE.finditer(data)]
    if not starts:
        return None
    byte_ranges = list(dict.fromkeys(_byte_range_parse(data, at) for at in starts))
    if len(byte_ranges) > PDF_MAX_SIGNATURES:
        return damaged(filename, SignedFormat.PDF, "too many signatures")
    count, problems, unhashed = 0, [], PDF_MAX_HASHED_BYTES
    for byte_range in byte_ranges:
        try:
            unhashed -= _pdf_signature_check(data, byte_range, unhashed)
            count += 1
        except Damage as damage:
            problems.append(str(damage))
    if problems:
        return damaged(filename, SignedFormat.PDF, problems[0], count)
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
        raise Damage("ByteRange unreadable")
    start, gap_at, rest_at, rest_length = byte_range
    if start != 0:
        raise Damage("ByteRange does not start at the beginning of the file")
    if rest_at <= gap_at:
        raise Damage("ByteRange ranges overlap")
    if rest_at + rest_length > len(data):
        raise Damage("ByteRange beyond the end of the file")
    key = data[max(0, gap_at - 32) : gap_at].rstrip()
    is_string = data.startswith(b"<", gap_at) and data.endswith(b">", 0, rest_at)
    if not (is_string and key.endswith(b"/Contents")):
        raise Damage("ByteRange gap is not the /Contents value")
    if rest_at - gap_at > PDF_CONTENTS_MAX_BYTES:
        raise Damage("signature Contents too large")
    cms = cms_read(_contents_decode(data[gap_at + 1 : rest_at - 1]), "signature Contents")
    view = memoryview(data)
    return _pdf_digests_check((view[:gap_at], view[rest_at : rest_at + rest_length]), cms, unhashed)


def _contents_decode(hex_digits: bytes) -> bytes:
    try:
        cms = bytes.fromhex(hex_digits.decode("latin-1"))  # fromhex skips whitespace
    except ValueError as error:
        raise Damage("signature Contents is not hex") from error
    if not cms.rstrip(b"\0"):  # a placeholder never filled: the writer reserved room and stopped
        raise Damage("signature Contents is empty")
    return cms  # zero padding after the CMS stays: the DER reader stops at the CMS's own end


def _pdf_digests_check(covered: tuple[memoryview, memoryview], cms: Cms, unhashed: int) -> int:
    """Raise Damage unless the digests the CMS signed are those of the covered bytes; returns the bytes
    hashed. A detached CMS (adbe.pkcs7.detached, ETSI.CAdES.detached) signs the covered bytes' digest as
    messageDigest. One carrying content signs that content: adbe.pkcs7.sha1 carries the covered bytes'
    SHA-1, compared too; a document timestamp (ETSI.RFC3161) carries a TSTInfo, whose messageImprint is
    not read here, so only the token itself is checked."""
    imprints = cms.digests
    if cms.content is not None:
        if any(digest_compute(algorithm, [cms.content]) != value for algorithm, value in cms.digests):
            raise Damage(PDF_DIGEST_MISMATCH)
        is_sha1 = cms.content_type == DATA_OID and len(cms.content) == _SHA1_BYTES
        imprints = (("sha1", cms.content),) if is_sha1 else ()
    algorithms = {algorithm for algorithm, _ in imprints}
    cost = len(algorithms) * sum(len(part) for part in covered)
    if cost > unhashed:
        # Past the bound on a file's hashing (100 signatures over the same 50 MB would otherwise be 5 GB),
        # the remaining signatures are checked by structure only.
        return 0
    computed = {algorithm: digest_compute(algorithm, covered) for algorithm in algorithms}
    if any(computed[algorithm] != value for algorithm, value in imprints):
        raise Damage(PDF_DIGEST_MISMATCH)
    return cost
