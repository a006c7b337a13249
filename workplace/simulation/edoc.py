"""A demo e-signed submission: an ASiC-E container (.edoc) laid out as eParaksts makes one, with the stored
`mimetype` first, the ODF manifest and a XAdES signature whose reference digests are the real SHA-256 of
the data file. There is no qualified certificate on a demo machine, so the signature value is random bytes:
the product recognises containers by structure and digests, not by verifying signatures against a trust
list, so it reads this one as signed, which is what the demo shows."""

from __future__ import annotations

import base64
import hashlib
import io
import random
import zipfile

MIMETYPE = b"application/vnd.etsi.asic-e+zip"
DS = "http://www.w3.org/2000/09/xmldsig#"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


def _manifest(name: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.etsi.asic-e+zip"/>'
        f'<manifest:file-entry manifest:full-path="{name}" manifest:media-type="text/plain"/>'
        "</manifest:manifest>"
    ).encode()


def _signature(name: str, data: bytes, rng: random.Random) -> bytes:
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    value = base64.b64encode(rng.randbytes(256)).decode()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<asic:XAdESSignatures xmlns:asic="http://uri.etsi.org/02918/v1.2.1#" xmlns:ds="{DS}">'
        '<ds:Signature Id="S0"><ds:SignedInfo>'
        '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2006/12/xml-c14n11"/>'
        '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
        f'<ds:Reference Id="R0" URI="{name}"><ds:DigestMethod Algorithm="{SHA256}"/>'
        f"<ds:DigestValue>{digest}</ds:DigestValue></ds:Reference>"
        f"</ds:SignedInfo><ds:SignatureValue>{value}</ds:SignatureValue></ds:Signature>"
        "</asic:XAdESSignatures>"
    ).encode()


def edoc_build(name: str, text: str, rng: random.Random) -> bytes:
    """An .edoc holding `text` as `name`, signed as described above."""
    data = text.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE, compress_type=zipfile.ZIP_STORED)
        archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", _manifest(name), compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(
            "META-INF/signatures0.xml", _signature(name, data, rng), compress_type=zipfile.ZIP_DEFLATED
        )
    return out.getvalue()
