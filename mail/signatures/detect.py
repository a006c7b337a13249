"""Which reader an attachment goes to: the magic numbers in its first bytes, or the container its name or
content type claims."""

from __future__ import annotations

from mail.signatures.asic import ASIC_MIMETYPES, ZIP_MAGIC, asic_read
from mail.signatures.model import SignedDocument, SignedFormat
from mail.signatures.pdf import PDF_MAGIC, pdf_read

HEAD_SIZE = 1024  # magic numbers are looked for this far in: some PDF writers put junk before %PDF-

_CONTAINER_TYPES = {mimetype.decode(): signed_format for mimetype, signed_format in ASIC_MIMETYPES.items()}
_CONTAINER_SUFFIXES = {
    ".edoc": SignedFormat.ASIC_E,  # Latvian eParaksts
    ".asice": SignedFormat.ASIC_E,
    ".bdoc": SignedFormat.ASIC_E,  # Estonian DigiDoc
    ".sce": SignedFormat.ASIC_E,
    ".asics": SignedFormat.ASIC_S,
    ".scs": SignedFormat.ASIC_S,
}


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
        return pdf_read(filename, data)
    if zip_at >= 0 or claimed is not None:
        return asic_read(filename, data, claimed)
    return None
