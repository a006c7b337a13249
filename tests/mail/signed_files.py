"""Real e-signed files for tests, made with `cryptography`: ASiC-E (.edoc), ASiC-S and signed PDFs, and
the ways they arrive broken. Signatures are real RSA/SHA-256 ones under a self-signed certificate, so the
files have the shape and size of the real thing; nobody trusts the certificate, which is not the point."""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from urllib.parse import quote
from xml.etree import ElementTree as ET

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

ASIC_E_MIMETYPE = b"application/vnd.etsi.asic-e+zip"
ASIC_S_MIMETYPE = b"application/vnd.etsi.asic-s+zip"
SIGNER = "Jānis Bērziņš"
SIGNED_AT = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)  # fixed: no test depends on the clock
_ZIP_DATE = (2025, 3, 14, 9, 30, 0)

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
ASIC = "http://uri.etsi.org/02918/v1.2.1#"
MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
for _prefix, _uri in {"ds": DS, "xades": XADES, "asic": ASIC, "manifest": MANIFEST}.items():
    ET.register_namespace(_prefix, _uri)
_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
XML_DIGEST_METHODS = {  # ds:DigestMethod URIs by hashlib name
    "sha1": "http://www.w3.org/2000/09/xmldsig#sha1",
    "sha224": "http://www.w3.org/2001/04/xmldsig-more#sha224",
    "sha256": _SHA256,
    "sha384": "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "sha512": "http://www.w3.org/2001/04/xmlenc#sha512",
}
_RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
_C14N2 = "http://www.w3.org/2010/xml-c14n2"  # ElementTree.canonicalize() is C14N 2.0

MANIFEST_PATH = "META-INF/manifest.xml"
XADES_PATH = "META-INF/signatures0.xml"
DATA_PDF = "iesniegums.pdf"
DATA_NOTE = "pielikums Nr.1 – Bērziņš.txt"  # a space, a dash and diacritics: the reference URI is encoded


class ZipEntry(NamedTuple):
    name: str
    data: bytes
    compression: int = zipfile.ZIP_DEFLATED


# Signer ----------------------------------------------------------------------------------------------


@functools.cache
def signer_make(name: str = SIGNER) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """An RSA key and a self-signed certificate shaped like an eParaksts one; made once a name (~50 ms)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "LV"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, "PNOLV-010190-12345"),
        ]
    )
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,  # non-repudiation, as on a qualified signature certificate
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(0x5EED)
        .not_valid_before(SIGNED_AT - timedelta(days=1))
        .not_valid_after(SIGNED_AT + timedelta(days=3650))
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def cms_detached_build(
    data: bytes,
    *,
    signer_name: str = SIGNER,
    hash_algorithm: hashes.SHA224 | hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None = None,
    signed_attributes: bool = True,
) -> bytes:
    """A DER CMS SignedData over `data`, which it does not carry (a .p7s or a PDF's /Contents). Its signed
    attributes hold messageDigest, the digest of `data` (SHA-256 unless told); without them the signature
    value signs that digest directly."""
    key, certificate = signer_make(signer_name)
    builder = pkcs7.PKCS7SignatureBuilder().set_data(data)
    builder = builder.add_signer(certificate, key, hash_algorithm or hashes.SHA256())
    # Binary: without it the data is hashed as S/MIME text, every LF turned into CRLF, and a PDF reader
    # (or `openssl cms -verify -binary`) would find the signature does not match the bytes.
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    if not signed_attributes:
        options.append(pkcs7.PKCS7Options.NoAttributes)
    return builder.sign(serialization.Encoding.DER, options)


def cms_carrying_build(content: bytes) -> bytes:
    """A DER CMS SignedData that carries `content` (eContent) and signs it, as adbe.pkcs7.sha1 does with
    the SHA-1 of a PDF's covered bytes."""
    key, certificate = signer_make(SIGNER)
    builder = pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(certificate, key, hashes.SHA256())
    return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])


def _der_split(der: bytes) -> tuple[int, bytes, bytes]:
    """(tag, content, what follows) of the DER element `der` starts with; our own bytes, so no checks."""
    tag, first = der[0], der[1]
    at, length = 2, first
    if first & 0x80:
        at = 2 + (first & 0x7F)
        length = int.from_bytes(der[2:at], "big")
    return tag, der[at : at + length], der[at + length :]


def ber_indefinite(der: bytes, levels: int = 4) -> bytes:
    """The DER element re-encoded with indefinite lengths on its outer `levels` levels of constructed
    elements, as OpenSSL's `smime -outform DER` and streaming CMS generators write a SignedData. Four
    levels reach the SignedData's fields (certificates, signerInfos) and leave each SignerInfo as DER."""
    tag, content, rest = _der_split(der)
    element = der[: len(der) - len(rest)]
    if not levels or not tag & 0x20:
        return element
    children = []
    while content:
        _, _, after = _der_split(content)
        children.append(ber_indefinite(content[: len(content) - len(after)], levels - 1))
        content = after
    return bytes([tag, 0x80]) + b"".join(children) + b"\0\0"


# Zip -------------------------------------------------------------------------------------------------


def zip_build(entries: Iterable[ZipEntry]) -> bytes:
    """A zip of the entries in order, each with its own compression and a fixed date."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for entry in entries:
            archive.writestr(
                zipfile.ZipInfo(entry.name, _ZIP_DATE), entry.data, compress_type=entry.compression
            )
    return buffer.getvalue()


def zip_entries(data: bytes) -> list[ZipEntry]:
    """A zip's entries in order, to edit and build again."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [
            ZipEntry(info.filename, archive.read(info), info.compress_type) for info in archive.infolist()
        ]


def zip_crc_corrupt(data: bytes, name: str) -> bytes:
    """The zip with the CRC-32 of `name` inverted in the central directory (the copy zipfile checks)."""
    encoded = name.encode()
    for match in re.finditer(re.escape(b"PK\x01\x02"), data):
        at = match.start()
        name_length = int.from_bytes(data[at + 28 : at + 30], "little")
        if data[at + 46 : at + 46 + name_length] == encoded:
            crc = bytes(byte ^ 0xFF for byte in data[at + 16 : at + 20])
            return data[: at + 16] + crc + data[at + 20 :]
    raise AssertionError(f"{name} not in the central directory")


# ASiC ------------------------------------------------------------------------------------------------


def _digest(data: bytes, algorithm: str = "sha256") -> str:
    return base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


def _c14n(element: ET.Element) -> bytes:
    return ET.canonicalize(ET.tostring(element, encoding="unicode")).encode()


def _ds(tag: str) -> str:
    return f"{{{DS}}}{tag}"


def _xades(tag: str) -> str:
    return f"{{{XADES}}}{tag}"


def _child(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = text
    return element


def _reference_add(
    signed_info: ET.Element, uri: str, digest: str, method: str = _SHA256, **attributes: str
) -> None:
    reference = _child(signed_info, _ds("Reference"), URI=uri, **attributes)
    _child(reference, _ds("DigestMethod"), Algorithm=method)
    _child(reference, _ds("DigestValue"), digest)


def _signed_properties(certificate: x509.Certificate, signature_id: str) -> ET.Element:
    """XAdES SignedProperties: signing time and the certificate's digest (what a XAdES-B signature binds)."""
    properties = ET.Element(_xades("SignedProperties"), Id=f"{signature_id}-SignedProperties")
    signature_properties = _child(properties, _xades("SignedSignatureProperties"))
    _child(signature_properties, _xades("SigningTime"), SIGNED_AT.strftime("%Y-%m-%dT%H:%M:%SZ"))
    cert = _child(_child(signature_properties, _xades("SigningCertificateV2")), _xades("Cert"))
    cert_digest = _child(cert, _xades("CertDigest"))
    _child(cert_digest, _ds("DigestMethod"), Algorithm=_SHA256)
    _child(cert_digest, _ds("DigestValue"), _digest(certificate.public_bytes(serialization.Encoding.DER)))
    return properties


def xades_build(
    files: Mapping[str, bytes],
    *,
    signer_name: str = SIGNER,
    signature_id: str = "S0",
    digest: str = "sha256",
    digest_method: str | None = None,
) -> bytes:
    """An ASiC XAdES signatures file: one ds:Signature with a reference to each file (URI percent-encoded,
    digested with the hashlib algorithm `digest`, named by its ds:DigestMethod URI or `digest_method`) and
    a SHA-256 one to its SignedProperties, an RSA signature over the canonical SignedInfo, and the
    certificate in KeyInfo."""
    key, certificate = signer_make(signer_name)
    root = ET.Element(f"{{{ASIC}}}XAdESSignatures")
    signature = _child(root, _ds("Signature"), Id=signature_id)
    signed_info = _child(signature, _ds("SignedInfo"))
    _child(signed_info, _ds("CanonicalizationMethod"), Algorithm=_C14N2)
    _child(signed_info, _ds("SignatureMethod"), Algorithm=_RSA_SHA256)
    method = digest_method or XML_DIGEST_METHODS[digest]
    for name, data in files.items():
        _reference_add(signed_info, quote(name), _digest(data, digest), method)
    properties = _signed_properties(certificate, signature_id)
    properties_type = "http://uri.etsi.org/01903#SignedProperties"
    _reference_add(signed_info, f"#{properties.get('Id')}", _digest(_c14n(properties)), Type=properties_type)
    value = key.sign(_c14n(signed_info), padding.PKCS1v15(), hashes.SHA256())
    _child(signature, _ds("SignatureValue"), base64.b64encode(value).decode(), Id=f"{signature_id}-SIG")
    x509_data = _child(_child(signature, _ds("KeyInfo")), _ds("X509Data"))
    der = certificate.public_bytes(serialization.Encoding.DER)
    _child(x509_data, _ds("X509Certificate"), base64.b64encode(der).decode())
    object_ = _child(signature, _ds("Object"))
    _child(object_, _xades("QualifyingProperties"), Target=f"#{signature_id}").append(properties)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def manifest_build(names: Iterable[str], *, mimetype: bytes = ASIC_E_MIMETYPE) -> bytes:
    root = ET.Element(f"{{{MANIFEST}}}manifest", {f"{{{MANIFEST}}}version": "1.2"})
    for path, media_type in [
        ("/", mimetype.decode()),
        *((name, "application/octet-stream") for name in names),
    ]:
        attributes = {f"{{{MANIFEST}}}full-path": path, f"{{{MANIFEST}}}media-type": media_type}
        ET.SubElement(root, f"{{{MANIFEST}}}file-entry", attributes)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def asic_e_build(files: Mapping[str, bytes], *, signer_name: str = SIGNER) -> bytes:
    """An ASiC-E (.edoc, .asice, .bdoc): stored `mimetype` first, the files, manifest, one XAdES file."""
    return zip_build(
        [
            ZipEntry("mimetype", ASIC_E_MIMETYPE, zipfile.ZIP_STORED),
            *(ZipEntry(name, data) for name, data in files.items()),
            ZipEntry(MANIFEST_PATH, manifest_build(files)),
            ZipEntry(XADES_PATH, xades_build(files, signer_name=signer_name)),
        ]
    )


def asic_s_build(name: str, data: bytes, *, cades: bool = False, signer_name: str = SIGNER) -> bytes:
    """An ASiC-S (.asics, .scs) holding one file, signed by META-INF/signatures.xml (XAdES) or, with
    `cades`, by a detached CMS in META-INF/signature.p7s. No manifest: ASiC-S does not need one."""
    if cades:
        signature = ZipEntry("META-INF/signature.p7s", cms_detached_build(data, signer_name=signer_name))
    else:
        signature = ZipEntry("META-INF/signatures.xml", xades_build({name: data}, signer_name=signer_name))
    return zip_build(
        [ZipEntry("mimetype", ASIC_S_MIMETYPE, zipfile.ZIP_STORED), ZipEntry(name, data), signature]
    )


def edoc_files() -> dict[str, bytes]:
    """What a citizen signs in eParaksts: an application PDF and a note."""
    return {DATA_PDF: plain_pdf_build("Iesniegums"), DATA_NOTE: "Pielikumā izziņa.\n".encode()}


def edoc_build() -> bytes:
    return asic_e_build(edoc_files())


def zip_edited(data: bytes, *, drop: Iterable[str] = (), put: Mapping[str, bytes] | None = None) -> bytes:
    """The zip rebuilt with entries dropped or their contents replaced (order and compression kept, CRCs
    new): what a tool that rewrites a file inside a container leaves."""
    changes = put or {}
    entries = [entry for entry in zip_entries(data) if entry.name not in set(drop)]
    return zip_build(entry._replace(data=changes.get(entry.name, entry.data)) for entry in entries)


def _edoc_edited(*, drop: Iterable[str] = (), put: Mapping[str, bytes] | None = None) -> bytes:
    """The standard .edoc with entries dropped or their contents replaced."""
    return zip_edited(edoc_build(), drop=drop, put=put)


def edoc_pdf_replaced_build() -> bytes:
    """The application PDF swapped for another after signing; the signature XML is the original."""
    return _edoc_edited(put={DATA_PDF: plain_pdf_build("Iesniegums (labots)")})


def edoc_note_changed_build() -> bytes:
    """One byte of the note changed after signing (its name is percent-encoded in the reference URI)."""
    return _edoc_edited(put={DATA_NOTE: "Pielikumā izziņa!\n".encode()})


def asic_s_data_file_replaced_build(*, cades: bool) -> bytes:
    container = asic_s_build(DATA_PDF, plain_pdf_build(), cades=cades)
    return zip_edited(container, put={DATA_PDF: plain_pdf_build("Iesniegums (labots)")})


def edoc_without_manifest_build() -> bytes:
    return _edoc_edited(drop=[MANIFEST_PATH])


def edoc_manifest_listing_missing_file_build() -> bytes:
    return _edoc_edited(put={MANIFEST_PATH: manifest_build([*edoc_files(), "pielikums Nr.2.pdf"])})


def edoc_without_signature_build() -> bytes:
    return _edoc_edited(drop=[XADES_PATH])


def edoc_malformed_signature_build() -> bytes:
    """The signature XML cut in half, as a tool that crashed mid-write leaves it."""
    xades = xades_build(edoc_files())
    return _edoc_edited(put={XADES_PATH: xades[: len(xades) // 2]})


def billion_laughs_build() -> bytes:
    """The classic entity-expansion bomb (3 GB once expanded) dressed as a signatures file."""
    entities = ['<!ENTITY lol0 "lol">']
    entities += [f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10)]
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n{chr(10).join(entities)}\n]>\n'
        f'<asic:XAdESSignatures xmlns:asic="{ASIC}" xmlns:ds="{DS}">'
        f"<ds:Signature><ds:SignatureValue>&lol9;</ds:SignatureValue></ds:Signature></asic:XAdESSignatures>"
    ).encode()


def edoc_billion_laughs_build() -> bytes:
    return _edoc_edited(put={XADES_PATH: billion_laughs_build()})


def edoc_corrupt_crc_build() -> bytes:
    return zip_crc_corrupt(edoc_build(), DATA_PDF)


def edoc_compressed_mimetype_build() -> bytes:
    entries = zip_entries(edoc_build())
    return zip_build([entries[0]._replace(compression=zipfile.ZIP_DEFLATED), *entries[1:]])


def edoc_mimetype_not_first_build() -> bytes:
    entries = zip_entries(edoc_build())
    return zip_build([*entries[1:], entries[0]])


def edoc_signature_referring_to_missing_file_build() -> bytes:
    """The signature also covers a file that is not in the container (the manifest does not list it)."""
    signed = {**edoc_files(), "pielikums Nr.2.pdf": b"%PDF-1.7\n"}
    return _edoc_edited(put={XADES_PATH: xades_build(signed)})


def edoc_empty_signature_value_build() -> bytes:
    xades = re.sub(rb"(<ds:SignatureValue[^>]*>)[^<]*", rb"\1", xades_build(edoc_files()))
    return _edoc_edited(put={XADES_PATH: xades})


def edoc_signature_without_ds_signature_build() -> bytes:
    return _edoc_edited(put={XADES_PATH: f'<asic:XAdESSignatures xmlns:asic="{ASIC}"/>'.encode()})


def edoc_too_many_entries_build() -> bytes:
    entries = zip_entries(edoc_build())
    pages = [ZipEntry(f"lapas/{number:04}.txt", b"") for number in range(1000)]
    return zip_build([*entries, *pages])


def edoc_zip_bomb_build() -> bytes:
    """A container whose data file inflates to 51 MB of zeros from about 50 kB."""
    buffer = io.BytesIO(edoc_build())
    with zipfile.ZipFile(buffer, "a") as archive:
        info = zipfile.ZipInfo("dati.bin", _ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as entry:
            for _ in range(51):
                entry.write(bytes(1024 * 1024))
    return buffer.getvalue()


def asic_s_cades_with_p7s_build(p7s: bytes) -> bytes:
    """An ASiC-S CAdES container whose META-INF/signature.p7s holds `p7s`."""
    entries = zip_entries(asic_s_build(DATA_PDF, plain_pdf_build(), cades=True))
    return zip_build([*entries[:-1], entries[-1]._replace(data=p7s)])


def asic_s_cades_not_cms_build() -> bytes:
    return asic_s_cades_with_p7s_build(b"-----BEGIN PKCS7-----\n")


# PDF -------------------------------------------------------------------------------------------------

SIGNATURE_ROOM = 8192  # bytes reserved for the CMS in /Contents; written as twice as many hex digits
_NUMBER_WIDTH = 10  # ByteRange numbers are padded to this, so filling them in moves no byte
_BYTE_RANGE_PLACEHOLDER = b"/ByteRange [" + b" ".join([b"*" * _NUMBER_WIDTH] * 4) + b"]"
_BYTE_RANGE = re.compile(rb"/ByteRange \[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")
_FONT, _CONTENT, _FIRST_FIELD = 4, 5, 6


def _pdf_text(text: str) -> bytes:
    literal = text.encode("latin-1", "replace")
    return literal.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _pdf_revision(objects: Mapping[int, bytes], *, prior: bytes = b"", prev_xref: int | None = None) -> bytes:
    """`prior` (b"" for a new file) followed by the objects, their cross-reference section and a trailer
    (an incremental update when `prior` is given)."""
    out = bytearray(prior or b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, body in sorted(objects.items()):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n" + (b"" if prior else b"0 1\n0000000000 65535 f \n")
    for number, offset in offsets.items():
        out += b"%d 1\n%010d 00000 n \n" % (number, offset)
    size = max(offsets) + 1
    prev = b"" if prev_xref is None else b" /Prev %d" % prev_xref
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (size, prev, xref_at)
    return bytes(out)


def _pdf_page_objects(text: str, fields: list[int]) -> dict[int, bytes]:
    """Catalog, page tree, page, font and content; with `fields`, an AcroForm and annotations for them."""
    refs = b" ".join(b"%d 0 R" % number for number in fields)
    form = b" /AcroForm << /Fields [%s] /SigFlags 3 >>" % refs if fields else b""
    annots = b" /Annots [%s]" % refs if fields else b""
    stream = b"BT /F1 24 Tf 72 770 Td (%s) Tj ET" % _pdf_text(text)
    return {
        1: b"<< /Type /Catalog /Pages 2 0 R%s >>" % form,
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 %d 0 R >> >>"
        b" /Contents %d 0 R%s >>" % (_FONT, _CONTENT, annots),
        _FONT: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        _CONTENT: b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    }


def _pdf_signature_objects(field: int, ordinal: int, signer_name: str) -> dict[int, bytes]:
    """A signature field (merged with its invisible widget) and its /Type /Sig value, to be filled."""
    name = b"<%s>" % ("\ufeff" + signer_name).encode("utf-16-be").hex().upper().encode()
    return {
        field: b"<< /Type /Annot /Subtype /Widget /FT /Sig /T (Paraksts%d) /V %d 0 R /F 132 /Rect [0 0 0 0]"
        b" /P 3 0 R >>" % (ordinal, field + 1),
        field + 1: b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached /Name %s"
        b" /M (D:20250314093000Z) %s /Contents <%s> >>"
        % (name, _BYTE_RANGE_PLACEHOLDER, b"0" * SIGNATURE_ROOM * 2),
    }


def _pdf_sign(pdf: bytes, sign: Callable[[bytes], bytes]) -> bytes:
    """Fill the last placeholder: ByteRange around its /Contents, then a CMS over exactly those bytes."""
    marker_at = pdf.rindex(_BYTE_RANGE_PLACEHOLDER)
    gap_at = pdf.index(b"/Contents <", marker_at) + len(b"/Contents ")
    rest_at = gap_at + 2 + SIGNATURE_ROOM * 2
    pdf = pdf_byte_range_rewrite(pdf, (0, gap_at, rest_at, len(pdf) - rest_at), at=marker_at)
    return pdf_contents_rewrite(pdf, sign(pdf[:gap_at] + pdf[rest_at:]).hex().upper().encode())


def signed_pdf_build(
    text: str = "Iesniegums",
    *,
    signatures: int = 1,
    signer_name: str = SIGNER,
    sign: Callable[[bytes], bytes] | None = None,
) -> bytes:
    """A one-page PDF with an AcroForm signature field whose /V is a detached PKCS#7 signature (PAdES
    basic); each further signature is an incremental update adding a field and signing the whole file.
    `sign` turns the covered bytes into the CMS written to /Contents (cms_detached_build unless given)."""
    sign = sign or functools.partial(cms_detached_build, signer_name=signer_name)
    pdf = _pdf_revision(
        {**_pdf_page_objects(text, [_FIRST_FIELD]), **_pdf_signature_objects(_FIRST_FIELD, 1, signer_name)}
    )
    pdf = _pdf_sign(pdf, sign)
    fields = [_FIRST_FIELD]
    for ordinal in range(2, signatures + 1):
        field = fields[-1] + 2
        fields.append(field)
        page = _pdf_page_objects(text, fields)
        changed = {1: page[1], 3: page[3], **_pdf_signature_objects(field, ordinal, signer_name)}
        prev_xref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
        pdf = _pdf_sign(_pdf_revision(changed, prior=pdf, prev_xref=prev_xref), sign)
    return pdf


def plain_pdf_build(text: str = "Iesniegums") -> bytes:
    return _pdf_revision(_pdf_page_objects(text, []))


def pdf_byte_range(pdf: bytes) -> tuple[int, int, int, int]:
    """The last signature's ByteRange."""
    *_, match = _BYTE_RANGE.finditer(pdf)
    start, gap_at, rest_at, rest_length = (int(number) for number in match.groups())
    return start, gap_at, rest_at, rest_length


def pdf_byte_range_rewrite(pdf: bytes, numbers: tuple[int, int, int, int], *, at: int | None = None) -> bytes:
    """The PDF with the last ByteRange (or the one at `at`) set to `numbers`, padded to the same width."""
    if at is None:
        *_, match = _BYTE_RANGE.finditer(pdf)
        at = match.start()
    field = (
        b"/ByteRange [" + b" ".join(str(number).encode().ljust(_NUMBER_WIDTH) for number in numbers) + b"]"
    )
    return pdf[:at] + field + pdf[at + len(field) :]


def pdf_contents_rewrite(pdf: bytes, hex_digits: bytes) -> bytes:
    """The PDF with the last signature's /Contents set to `hex_digits`, zero-padded to the reserved room."""
    _, gap_at, rest_at, _ = pdf_byte_range(pdf)
    room = rest_at - gap_at - 2
    assert len(hex_digits) <= room, "the CMS outgrew the room reserved for it"
    return pdf[: gap_at + 1] + hex_digits.ljust(room, b"0") + pdf[rest_at - 1 :]


def pdf_text_changed(pdf: bytes) -> bytes:
    """The PDF with one letter of the page text changed in place: no byte moves, so the ByteRange and the
    cross-reference table stay right and only the digest can tell."""
    at = pdf.index(b"(Iesniegums) Tj") + len(b"(Iesniegum")
    return pdf[:at] + b"5" + pdf[at + 1 :]


def pdf_truncated_build() -> bytes:
    """A signed PDF whose last 100 bytes were lost in transit."""
    return signed_pdf_build()[:-100]


def pdf_byte_range_past_the_end_build() -> bytes:
    pdf = signed_pdf_build()
    start, gap_at, rest_at, rest_length = pdf_byte_range(pdf)
    return pdf_byte_range_rewrite(pdf, (start, gap_at, rest_at, rest_length + 1000))
