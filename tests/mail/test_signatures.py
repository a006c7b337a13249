"""Signed documents among attachments are known by their bytes, not their names, and come whole or flagged."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
import re
import time
import zipfile
from collections.abc import Callable
from urllib.parse import unquote
from xml.etree.ElementTree import canonicalize, tostring

import defusedxml.ElementTree as SafeElementTree
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from mail.signatures import (
    SIGNED_DATA_OID,
    SignedDocument,
    SignedFormat,
    SignedVerdict,
    is_candidate,
    signed_document_read,
)
from tests.mail import signed_files
from tests.mail.signed_files import ZipEntry

OCTET_STREAM = "application/octet-stream"
DS = "{http://www.w3.org/2000/09/xmldsig#}"


def _signed(document: SignedDocument | None, signed_format: SignedFormat, signatures: int) -> None:
    assert document is not None
    assert (document.format, document.verdict, document.signatures, document.reason) == (
        signed_format,
        SignedVerdict.SIGNED,
        signatures,
        "",
    )


def _damaged(document: SignedDocument | None) -> SignedDocument:
    assert document is not None
    assert document.verdict is SignedVerdict.DAMAGED
    return document


# Recognised ----------------------------------------------------------------------------------------


def test_edoc_is_recognised_as_asic_e_with_one_signature() -> None:
    document = signed_document_read("iesniegums.edoc", OCTET_STREAM, signed_files.edoc_build())

    _signed(document, SignedFormat.ASIC_E, 1)
    assert document is not None
    assert document.filename == "iesniegums.edoc"


def test_edoc_signed_by_two_people_counts_two_signatures() -> None:
    second = signed_files.xades_build(signed_files.edoc_files(), signer_name="Līga Kļaviņa")
    entries = [
        *signed_files.zip_entries(signed_files.edoc_build()),
        ZipEntry("META-INF/signatures1.xml", second),
    ]

    document = signed_document_read("iesniegums.edoc", OCTET_STREAM, signed_files.zip_build(entries))

    _signed(document, SignedFormat.ASIC_E, 2)


def test_asic_s_with_a_xades_signature_is_recognised() -> None:
    data = signed_files.asic_s_build("iesniegums.pdf", signed_files.plain_pdf_build())

    _signed(signed_document_read("iesniegums.asics", OCTET_STREAM, data), SignedFormat.ASIC_S, 1)


def test_asic_s_with_a_cades_signature_is_recognised() -> None:
    data = signed_files.asic_s_build("iesniegums.pdf", signed_files.plain_pdf_build(), cades=True)

    _signed(signed_document_read("iesniegums.scs", OCTET_STREAM, data), SignedFormat.ASIC_S, 1)


def test_signed_pdf_is_recognised_with_one_signature() -> None:
    document = signed_document_read("iesniegums.pdf", "application/pdf", signed_files.signed_pdf_build())

    _signed(document, SignedFormat.PDF, 1)


def test_pdf_signed_twice_by_incremental_update_counts_two_signatures() -> None:
    pdf = signed_files.signed_pdf_build(signatures=2)

    _signed(signed_document_read("iesniegums.pdf", "application/pdf", pdf), SignedFormat.PDF, 2)


# The builders sign for real ----------------------------------------------------------------------------


def test_edoc_signature_verifies_with_the_certificate_it_carries_and_digests_its_files() -> None:
    with zipfile.ZipFile(io.BytesIO(signed_files.edoc_build())) as archive:
        signature = SafeElementTree.fromstring(archive.read(signed_files.XADES_PATH)).find(f"{DS}Signature")
    signed_info = signature.find(f"{DS}SignedInfo")
    der = base64.b64decode(signature.findtext(f"{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate"))
    certificate = x509.load_der_x509_certificate(der)
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)

    public_key.verify(
        base64.b64decode(signature.findtext(f"{DS}SignatureValue")),
        canonicalize(tostring(signed_info, encoding="unicode")).encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    file_references = [
        ref for ref in signed_info.iterfind(f"{DS}Reference") if not ref.get("URI").startswith("#")
    ]
    digests = {unquote(ref.get("URI")): ref.findtext(f"{DS}DigestValue") for ref in file_references}
    expected = {
        name: base64.b64encode(hashlib.sha256(data).digest()).decode()
        for name, data in signed_files.edoc_files().items()
    }
    assert digests == expected
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Jānis Bērziņš"


def test_pdf_signature_digests_exactly_the_byte_range_up_to_the_end_of_the_file() -> None:
    pdf = signed_files.signed_pdf_build()
    start, gap_at, rest_at, rest_length = signed_files.pdf_byte_range(pdf)
    cms = bytes.fromhex(pdf[gap_at + 1 : rest_at - 1].decode())

    assert (start, rest_at + rest_length) == (0, len(pdf))
    # The CMS signed attributes carry messageDigest: SHA-256 of the covered bytes, as they are.
    assert hashlib.sha256(pdf[:gap_at] + pdf[rest_at:]).digest() in cms


# Names lie both ways -----------------------------------------------------------------------------------


def test_edoc_named_scan_zip_with_octet_stream_type_is_recognised() -> None:
    _signed(signed_document_read("scan.zip", OCTET_STREAM, signed_files.edoc_build()), SignedFormat.ASIC_E, 1)


def test_edoc_with_no_extension_but_the_asic_content_type_is_recognised() -> None:
    content_type = 'application/vnd.etsi.asic-e+zip; name="dokuments"'

    _signed(
        signed_document_read("dokuments", content_type, signed_files.edoc_build()), SignedFormat.ASIC_E, 1
    )


def test_signed_pdf_named_like_a_picture_is_recognised() -> None:
    document = signed_document_read("skenets.jpg", "image/jpeg", signed_files.signed_pdf_build())

    _signed(document, SignedFormat.PDF, 1)


@pytest.mark.parametrize(
    ("filename", "content_type", "expected_format"),
    [
        ("x.edoc", OCTET_STREAM, SignedFormat.ASIC_E),
        ("IESNIEGUMS.EDOC", "text/plain", SignedFormat.ASIC_E),
        ("x.asice", OCTET_STREAM, SignedFormat.ASIC_E),
        ("x.bdoc", OCTET_STREAM, SignedFormat.ASIC_E),
        ("x.sce", OCTET_STREAM, SignedFormat.ASIC_E),
        ("x.asics", OCTET_STREAM, SignedFormat.ASIC_S),
        ("x.scs", OCTET_STREAM, SignedFormat.ASIC_S),
        ("x", "application/vnd.etsi.asic-s+zip", SignedFormat.ASIC_S),
    ],
)
def test_text_file_with_a_container_name_or_type_is_damaged_as_not_a_zip_archive(
    filename: str, content_type: str, expected_format: SignedFormat
) -> None:
    document = _damaged(
        signed_document_read(filename, content_type, "Labdien, pielikumā iesniegums.".encode())
    )

    assert (document.format, document.reason, document.signatures) == (
        expected_format,
        "not a zip archive",
        0,
    )


def test_pdf_named_edoc_is_damaged_as_not_a_zip_archive() -> None:
    document = _damaged(signed_document_read("x.edoc", OCTET_STREAM, signed_files.signed_pdf_build()))

    assert document.reason == "not a zip archive"


def test_edoc_cut_in_half_is_damaged_even_when_named_zip() -> None:
    edoc = signed_files.edoc_build()

    document = _damaged(signed_document_read("scan.zip", OCTET_STREAM, edoc[: len(edoc) // 2]))

    assert (document.format, document.reason) == (SignedFormat.ASIC_E, "not a zip archive")


def _photos_zip() -> bytes:
    return signed_files.zip_build(
        [ZipEntry("foto1.jpg", b"\xff\xd8\xff\xe0"), ZipEntry("foto2.jpg", b"\xff\xd8")]
    )


def test_ordinary_zip_named_photos_zip_is_not_a_signed_document() -> None:
    assert signed_document_read("photos.zip", "application/zip", _photos_zip()) is None


def test_ordinary_zip_named_edoc_is_damaged_as_not_asic() -> None:
    document = _damaged(signed_document_read("iesniegums.edoc", OCTET_STREAM, _photos_zip()))

    assert document.reason == "mimetype entry missing or not ASiC"


def test_plain_pdf_is_not_a_signed_document() -> None:
    assert signed_document_read("iesniegums.pdf", "application/pdf", signed_files.plain_pdf_build()) is None


def test_picture_is_not_a_signed_document() -> None:
    assert signed_document_read("foto.jpg", "image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00") is None


# Damaged -----------------------------------------------------------------------------------------------


DAMAGED_EDOCS = [
    (signed_files.edoc_without_manifest_build, "META-INF/manifest.xml missing"),
    (signed_files.edoc_manifest_listing_missing_file_build, "manifest lists missing file pielikums Nr.2.pdf"),
    (signed_files.edoc_without_signature_build, "no signature in META-INF"),
    (signed_files.edoc_corrupt_crc_build, "corrupt zip entry iesniegums.pdf"),
    (signed_files.edoc_compressed_mimetype_build, "mimetype entry is compressed"),
    (signed_files.edoc_mimetype_not_first_build, "mimetype is not the first entry"),
    (
        signed_files.edoc_signature_referring_to_missing_file_build,
        "signature refers to missing file pielikums Nr.2.pdf",
    ),
    (signed_files.edoc_empty_signature_value_build, "empty SignatureValue in META-INF/signatures0.xml"),
    (signed_files.edoc_signature_without_ds_signature_build, "no ds:Signature in META-INF/signatures0.xml"),
    (signed_files.edoc_too_many_entries_build, "too large"),
    (signed_files.edoc_zip_bomb_build, "too large"),
]


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        pytest.param(build, reason, id=build.__name__.removesuffix("_build"))
        for build, reason in DAMAGED_EDOCS
    ],
)
def test_damaged_edoc_is_flagged_with_its_reason(build: Callable[[], bytes], reason: str) -> None:
    document = _damaged(signed_document_read("iesniegums.edoc", OCTET_STREAM, build()))

    assert (document.format, document.reason, document.signatures) == (SignedFormat.ASIC_E, reason, 0)


def test_edoc_with_a_signature_xml_cut_in_half_is_damaged_as_unreadable() -> None:
    document = _damaged(
        signed_document_read("x.edoc", OCTET_STREAM, signed_files.edoc_malformed_signature_build())
    )

    assert document.reason.startswith("signature XML unreadable: no element found: line ")


def test_edoc_with_a_billion_laughs_signature_is_refused_without_expanding_it() -> None:
    document = _damaged(
        signed_document_read("x.edoc", OCTET_STREAM, signed_files.edoc_billion_laughs_build())
    )

    assert document.reason == (
        "signature XML unreadable: entities or external references refused "
        "(EntitiesForbidden(name='lol0', system_id=None, public_id=None))"
    )


def test_edoc_with_a_bzip2_entry_is_damaged_rather_than_inflated() -> None:
    entries = signed_files.zip_entries(signed_files.edoc_build())
    entries[1] = entries[1]._replace(compression=zipfile.ZIP_BZIP2)

    document = _damaged(signed_document_read("x.edoc", OCTET_STREAM, signed_files.zip_build(entries)))

    assert document.reason == "unsupported compression in iesniegums.pdf"


def test_asic_s_with_a_p7s_that_is_not_cms_is_damaged() -> None:
    document = _damaged(
        signed_document_read("x.asics", OCTET_STREAM, signed_files.asic_s_cades_not_cms_build())
    )

    assert (document.format, document.reason) == (
        SignedFormat.ASIC_S,
        "META-INF/signature.p7s is not a CMS SignedData",
    )


def test_asic_s_with_two_data_files_is_damaged() -> None:
    entries = signed_files.zip_entries(signed_files.asic_s_build("a.pdf", signed_files.plain_pdf_build()))
    entries.append(ZipEntry("b.pdf", signed_files.plain_pdf_build()))

    document = _damaged(signed_document_read("x.asics", OCTET_STREAM, signed_files.zip_build(entries)))

    assert document.reason == "ASiC-S holds 2 data files, expected one"


def _byte_range_edit(change: Callable[[int, int, int, int], tuple[int, int, int, int]]) -> bytes:
    pdf = signed_files.signed_pdf_build()
    return signed_files.pdf_byte_range_rewrite(pdf, change(*signed_files.pdf_byte_range(pdf)))


def _contents_edit(hex_digits: bytes) -> bytes:
    return signed_files.pdf_contents_rewrite(signed_files.signed_pdf_build(), hex_digits)


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        pytest.param(
            signed_files.pdf_truncated_build, "ByteRange beyond the end of the file", id="truncated"
        ),
        pytest.param(
            signed_files.pdf_byte_range_past_the_end_build,
            "ByteRange beyond the end of the file",
            id="past-the-end",
        ),
        pytest.param(
            lambda: _byte_range_edit(lambda a, b, c, d: (a, b + 1, c, d)),
            "ByteRange gap is not the /Contents value",
            id="gap-shifted",
        ),
        pytest.param(
            lambda: _byte_range_edit(lambda a, b, c, d: (100, b, c, d)),
            "ByteRange does not start at the beginning of the file",
            id="not-from-zero",
        ),
        pytest.param(
            lambda: _byte_range_edit(lambda a, b, c, d: (a, c, b, d)),
            "ByteRange ranges overlap",
            id="overlap",
        ),
        pytest.param(
            lambda: signed_files.signed_pdf_build().replace(b"/ByteRange [0 ", b"/ByteRange [- "),
            "ByteRange unreadable",
            id="unreadable",
        ),
        pytest.param(lambda: _contents_edit(b""), "signature Contents is empty", id="never-signed"),
        pytest.param(
            lambda: _contents_edit(b"DEADBEEF"), "signature Contents is not a CMS SignedData", id="not-cms"
        ),
        pytest.param(lambda: _contents_edit(b"NOTHEX"), "signature Contents is not hex", id="not-hex"),
    ],
)
def test_damaged_signed_pdf_is_flagged_with_its_reason(build: Callable[[], bytes], reason: str) -> None:
    document = _damaged(signed_document_read("iesniegums.pdf", "application/pdf", build()))

    assert (document.format, document.reason, document.signatures) == (SignedFormat.PDF, reason, 0)


def test_pdf_cut_after_the_second_signature_still_counts_the_first_one() -> None:
    pdf = signed_files.signed_pdf_build(signatures=2)[:-100]

    document = _damaged(signed_document_read("iesniegums.pdf", "application/pdf", pdf))

    assert (document.reason, document.signatures) == ("ByteRange beyond the end of the file", 1)


def test_pdf_with_more_than_a_hundred_signatures_is_damaged_without_checking_each() -> None:
    pdf = signed_files.signed_pdf_build()
    _, gap_at, rest_at, _ = signed_files.pdf_byte_range(pdf)
    copies = b"".join(b"/ByteRange [0 %d %d %d]\n" % (gap_at, rest_at, length) for length in range(101))

    document = _damaged(signed_document_read("iesniegums.pdf", "application/pdf", pdf + copies))

    assert (document.reason, document.signatures) == ("too many signatures", 0)


def test_pdf_signature_contents_over_four_megabytes_is_damaged_without_decoding_it() -> None:
    pdf = signed_files.signed_pdf_build()
    gap_at = len(pdf) + len(b"/Contents ")
    huge = b"/Contents <%s>\n" % (b"0" * 4 * 1024 * 1024)
    rest_at = len(pdf) + len(huge) - 1  # just after the ">"
    pdf += huge + b"/ByteRange [0 %d %d 0]\n" % (gap_at, rest_at)

    document = _damaged(signed_document_read("iesniegums.pdf", "application/pdf", pdf))

    assert (document.reason, document.signatures) == ("signature Contents too large", 1)


# Changed after signing -------------------------------------------------------------------------------


def test_signed_pdf_with_one_letter_of_its_page_text_changed_is_damaged() -> None:
    pdf = signed_files.pdf_text_changed(signed_files.signed_pdf_build())

    document = _damaged(signed_document_read("iesniegums.pdf", "application/pdf", pdf))

    assert (document.reason, document.signatures) == (
        "signed bytes changed after signing (messageDigest mismatch)",
        0,
    )


def test_pdf_changed_under_both_signatures_is_damaged_with_neither_counted() -> None:
    pdf = signed_files.pdf_text_changed(signed_files.signed_pdf_build(signatures=2))

    document = _damaged(signed_document_read("iesniegums.pdf", "application/pdf", pdf))

    assert (document.reason, document.signatures) == (
        "signed bytes changed after signing (messageDigest mismatch)",
        0,
    )


@pytest.mark.parametrize(
    "hash_algorithm",
    [hashes.SHA224(), hashes.SHA384(), hashes.SHA512()],
    ids=lambda algorithm: algorithm.name,
)
def test_pdf_signature_is_checked_with_the_digest_algorithm_its_cms_names(
    hash_algorithm: hashes.SHA224 | hashes.SHA384 | hashes.SHA512,
) -> None:
    pdf = signed_files.signed_pdf_build(
        sign=lambda covered: signed_files.cms_detached_build(covered, hash_algorithm=hash_algorithm)
    )

    _signed(signed_document_read("a.pdf", "application/pdf", pdf), SignedFormat.PDF, 1)
    changed = _damaged(signed_document_read("a.pdf", "application/pdf", signed_files.pdf_text_changed(pdf)))
    assert changed.reason == "signed bytes changed after signing (messageDigest mismatch)"


def test_pdf_signed_with_a_ber_indefinite_length_cms_is_read_and_checked() -> None:
    pdf = signed_files.signed_pdf_build(
        sign=lambda covered: signed_files.ber_indefinite(signed_files.cms_detached_build(covered))
    )

    _signed(signed_document_read("a.pdf", "application/pdf", pdf), SignedFormat.PDF, 1)
    changed = _damaged(signed_document_read("a.pdf", "application/pdf", signed_files.pdf_text_changed(pdf)))
    assert changed.reason == "signed bytes changed after signing (messageDigest mismatch)"


def test_pdf_signed_the_adbe_pkcs7_sha1_way_is_checked_against_the_sha1_its_cms_carries() -> None:
    pdf = signed_files.signed_pdf_build(
        sign=lambda covered: signed_files.cms_carrying_build(
            hashlib.sha1(covered, usedforsecurity=False).digest()
        )
    )

    _signed(signed_document_read("a.pdf", "application/pdf", pdf), SignedFormat.PDF, 1)
    changed = _damaged(signed_document_read("a.pdf", "application/pdf", signed_files.pdf_text_changed(pdf)))
    assert changed.reason == "signed bytes changed after signing (messageDigest mismatch)"


def test_changed_pdf_whose_cms_has_no_signed_attributes_stays_signed_by_structure() -> None:
    # Without signed attributes there is no messageDigest: the digest sits inside the signature value,
    # which only verifying the signature would reveal.
    pdf = signed_files.signed_pdf_build(
        sign=lambda covered: signed_files.cms_detached_build(covered, signed_attributes=False)
    )

    document = signed_document_read("a.pdf", "application/pdf", signed_files.pdf_text_changed(pdf))

    _signed(document, SignedFormat.PDF, 1)


def test_pdf_whose_cms_was_cut_short_inside_the_contents_is_damaged_as_not_cms() -> None:
    pdf = signed_files.signed_pdf_build()
    _, gap_at, rest_at, _ = signed_files.pdf_byte_range(pdf)
    cms = bytes.fromhex(pdf[gap_at + 1 : rest_at - 1].decode()).rstrip(b"\0")

    cut = signed_files.pdf_contents_rewrite(pdf, cms[: len(cms) // 2].hex().upper().encode())

    document = _damaged(signed_document_read("a.pdf", "application/pdf", cut))
    assert document.reason == "signature Contents is not a CMS SignedData"


CHANGED_CONTAINERS = [
    pytest.param(
        "x.edoc",
        signed_files.edoc_pdf_replaced_build,
        SignedFormat.ASIC_E,
        "file iesniegums.pdf changed after signing (digest mismatch)",
        id="edoc-pdf-replaced",
    ),
    pytest.param(
        "x.edoc",
        signed_files.edoc_note_changed_build,
        SignedFormat.ASIC_E,
        "file pielikums Nr.1 – Bērziņš.txt changed after signing (digest mismatch)",
        id="edoc-note-changed",
    ),
    pytest.param(
        "x.asics",
        lambda: signed_files.asic_s_data_file_replaced_build(cades=False),
        SignedFormat.ASIC_S,
        "file iesniegums.pdf changed after signing (digest mismatch)",
        id="asic-s-xades",
    ),
    pytest.param(
        "x.asics",
        lambda: signed_files.asic_s_data_file_replaced_build(cades=True),
        SignedFormat.ASIC_S,
        "file iesniegums.pdf changed after signing (digest mismatch)",
        id="asic-s-cades",
    ),
]


@pytest.mark.parametrize(("filename", "build", "signed_format", "reason"), CHANGED_CONTAINERS)
def test_container_whose_data_file_changed_after_signing_is_damaged_naming_the_file(
    filename: str, build: Callable[[], bytes], signed_format: SignedFormat, reason: str
) -> None:
    document = _damaged(signed_document_read(filename, OCTET_STREAM, build()))

    assert (document.format, document.reason, document.signatures) == (signed_format, reason, 0)


def test_edoc_signed_again_after_its_pdf_changed_counts_only_the_later_signature() -> None:
    files = {**signed_files.edoc_files(), signed_files.DATA_PDF: signed_files.plain_pdf_build("Labots")}
    later = signed_files.xades_build(files, signer_name="Līga Kļaviņa", signature_id="S1")
    edited = signed_files.zip_edited(
        signed_files.edoc_build(), put={signed_files.DATA_PDF: files[signed_files.DATA_PDF]}
    )
    entries = [*signed_files.zip_entries(edited), ZipEntry("META-INF/signatures1.xml", later)]

    document = _damaged(signed_document_read("x.edoc", OCTET_STREAM, signed_files.zip_build(entries)))

    assert (document.reason, document.signatures) == (
        "file iesniegums.pdf changed after signing (digest mismatch)",
        1,
    )


@pytest.mark.parametrize("digest", ["sha1", "sha224", "sha384", "sha512"])
def test_edoc_is_checked_with_the_digest_method_its_references_name(digest: str) -> None:
    xades = signed_files.xades_build(signed_files.edoc_files(), digest=digest)
    edoc = signed_files.zip_edited(signed_files.edoc_build(), put={signed_files.XADES_PATH: xades})
    changed = signed_files.zip_edited(edoc, put={signed_files.DATA_NOTE: b"cits teksts"})

    _signed(signed_document_read("x.edoc", OCTET_STREAM, edoc), SignedFormat.ASIC_E, 1)
    document = _damaged(signed_document_read("x.edoc", OCTET_STREAM, changed))
    assert document.reason == f"file {signed_files.DATA_NOTE} changed after signing (digest mismatch)"


def test_changed_edoc_whose_references_use_an_unknown_digest_method_stays_signed() -> None:
    # The digest cannot be recomputed, so the reference stays unchecked rather than called a mismatch.
    xades = signed_files.xades_build(
        signed_files.edoc_files(), digest="sha3_256", digest_method="urn:example:digest#sha3-256"
    )
    edoc = signed_files.zip_edited(
        signed_files.edoc_build(), put={signed_files.XADES_PATH: xades, signed_files.DATA_NOTE: b"cits"}
    )

    _signed(signed_document_read("x.edoc", OCTET_STREAM, edoc), SignedFormat.ASIC_E, 1)


def test_edoc_reference_whose_digest_value_is_not_base64_is_damaged() -> None:
    xades = signed_files.xades_build(signed_files.edoc_files())
    broken = re.sub(rb"<ds:DigestValue>[^<]*", b"<ds:DigestValue>***", xades, count=1)
    edoc = signed_files.zip_edited(signed_files.edoc_build(), put={signed_files.XADES_PATH: broken})

    document = _damaged(signed_document_read("x.edoc", OCTET_STREAM, edoc))

    assert document.reason == "DigestValue of iesniegums.pdf unreadable in META-INF/signatures0.xml"


def test_p7s_nested_deeper_than_any_cms_is_damaged_without_a_recursion_error() -> None:
    nested = b"\x30\x80" + SIGNED_DATA_OID + b"\xa0\x80" + b"\x30\x80" * 100_000 + b"\0\0" * 100_002
    data = signed_files.asic_s_cades_with_p7s_build(nested)

    document = _damaged(signed_document_read("x.asics", OCTET_STREAM, data))

    assert document.reason == "META-INF/signature.p7s is not a CMS SignedData"


def test_p7s_too_wide_to_walk_is_left_unchecked_quickly() -> None:
    # A million empty elements in an indefinite-length [0]: the reader's budget stops it long before.
    wide = b"\x30\x80" + SIGNED_DATA_OID + b"\xa0\x80" + b"\x05\x00" * 1_000_000 + b"\0\0" * 2
    data = signed_files.asic_s_cades_with_p7s_build(wide)
    started = time.perf_counter()

    document = signed_document_read("x.asics", OCTET_STREAM, data)

    assert time.perf_counter() - started < 1
    _signed(document, SignedFormat.ASIC_S, 1)


# Payload, candidates, hostile bytes ---------------------------------------------------------------------


def test_payload_is_json_of_plain_values() -> None:
    document = _damaged(signed_document_read("x.edoc", OCTET_STREAM, b"teksts"))

    payload = document.as_payload()

    assert json.loads(json.dumps(payload)) == {
        "filename": "x.edoc",
        "format": "asic-e",
        "verdict": "damaged",
        "signatures": 0,
        "reason": "not a zip archive",
    }
    assert type(payload["format"]) is str


@pytest.mark.parametrize(
    ("filename", "content_type", "head", "expected"),
    [
        ("scan.zip", OCTET_STREAM, b"PK\x03\x04\x14\x00", True),
        ("IESNIEGUMS.EDOC", OCTET_STREAM, b"teksts", True),
        ("dokuments", "application/vnd.etsi.asic-e+zip; name=dokuments", b"", True),
        ("x.scs", "", b"", True),
        ("iesniegums", "Application/PDF", b"", True),
        ("skenets.bin", OCTET_STREAM, b"\r\n" * 100 + b"%PDF-1.7", True),
        ("foto.jpg", "image/jpeg", b"\xff\xd8\xff\xe0", False),
        ("late.bin", OCTET_STREAM, b" " * 1024 + b"%PDF-1.7", False),
        ("edoc.txt", "text/plain", b"edoc", False),
    ],
)
def test_candidate_is_told_by_magic_name_or_content_type(
    filename: str, content_type: str, head: bytes, expected: bool
) -> None:
    assert is_candidate(filename, content_type, head) is expected


@pytest.mark.parametrize(
    ("filename", "build"),
    [
        ("x.edoc", signed_files.edoc_build),
        ("x.asics", lambda: signed_files.asic_s_build("a.pdf", b"%PDF-1.7\n", cades=True)),
        ("x.pdf", lambda: signed_files.signed_pdf_build(signatures=2)),
    ],
    ids=["edoc", "asic-s-cades", "pdf"],
)
def test_flipped_bytes_and_cut_files_never_raise(filename: str, build: Callable[[], bytes]) -> None:
    original = build()
    chance = random.Random(20250314)  # fixed seed: a failure reproduces
    for _ in range(300):
        mutated = bytearray(original)
        for _ in range(chance.randint(1, 4)):
            mutated[chance.randrange(len(mutated))] = chance.randrange(256)
        cut = chance.randrange(len(original))
        for data in (bytes(mutated), original[:cut]):
            document = signed_document_read(filename, OCTET_STREAM, data)
            assert document is None or isinstance(document, SignedDocument)
