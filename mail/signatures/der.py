"""A bounded DER/BER reader and the CMS SignedData walk to the messageDigest each signer signed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from mail.signatures.model import Damage

# Just enough of X.690 to walk a CMS SignedData (RFC 5652) to the digests it signs. BER's indefinite
# lengths are read too: OpenSSL's `smime -outform DER` and streaming generators write them.

SIGNED_DATA_OID = bytes.fromhex("06092A864886F70D010702")  # DER of 1.2.840.113549.1.7.2, CMS signedData
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
DATA_OID = _oid_encode("1.2.840.113549.1.7.1")
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
class Cms:
    content_type: bytes  # the encapsulated content's type, as OID content octets
    content: bytes | None  # the encapsulated content; None when detached
    digests: tuple[tuple[str, bytes], ...]  # (hashlib name, messageDigest) of each SignerInfo that has one


def cms_read(cms: bytes, what: str) -> Cms:
    """Raise Damage unless `cms` is a ContentInfo holding a SignedData; what it signs."""
    if not cms.startswith(b"\x30") or SIGNED_DATA_OID not in cms:
        raise Damage(f"{what} is not a CMS SignedData")
    try:
        return _signed_data_read(_Asn1(cms))
    except _Asn1Error as error:
        raise Damage(f"{what} is not a CMS SignedData") from error
    except _Asn1Limit:
        return Cms(b"", None, ())


def _signed_data_read(reader: _Asn1) -> Cms:
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
    return Cms(content_type, content, digests)


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
