"""E-signed documents among an e-mail's attachments, recognised by their structure rather than their name.

Latvian eParaksts `.edoc` and Estonian `.bdoc` are ASiC-E containers (ETSI EN 319 162-1); `.asics`/`.scs`
are ASiC-S; a PDF may carry PAdES/CMS signatures. A signature is not verified cryptographically here (that
needs the EU trust lists): the question is whether the file is a signed document and whether it arrived
whole, which includes unchanged since signing: the digests a signature binds (XAdES references, a CMS's
messageDigest) are recomputed from the bytes and compared. That catches a file edited or swapped after
signing, not a forger who recomputes the digests too; only verifying the signature would. A file that
claims to be a container (by name or content type) but is not one is reported DAMAGED, never ignored, so
a handler sees the flag. Pure code: bytes in, a verdict out; hostile input never raises.

- ``detect``: which reader an attachment goes to (``is_candidate``, ``signed_document_read``).
- ``asic``: ASiC-E/ASiC-S containers: zip layout and entries, the manifest, XAdES and CAdES signatures.
- ``pdf``: signed PDFs: each /ByteRange, its /Contents CMS and the digests of the covered bytes.
- ``der``: the bounded DER/BER reader and the CMS SignedData walk to each signer's messageDigest.
- ``hashing``: recomputing a digest by its hashlib name; ``model``: the verdict types and DAMAGED reasons.

Modules import one way, each only from those listed after it: detect, asic, pdf, der, hashing, model.
"""

from __future__ import annotations

from mail.signatures.der import SIGNED_DATA_OID
from mail.signatures.detect import is_candidate, signed_document_read
from mail.signatures.model import SignedDocument, SignedFormat, SignedVerdict

__all__ = [
    "SIGNED_DATA_OID",
    "SignedDocument",
    "SignedFormat",
    "SignedVerdict",
    "is_candidate",
    "signed_document_read",
]
