"""mail_parse against a corpus of real-shaped .eml files, plus the header rules that are easy to get wrong.

No database: parsing is pure code. Corpus files are hand-written after what the named mail systems send.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import random
from datetime import UTC, datetime, timedelta, timezone
from email.charset import BASE64, QP, Charset
from email.header import Header
from pathlib import Path
from typing import Any

import pytest

from mail.parsing import Attachment, ParsedMail, UnparseableMail, header_text, mail_parse

CORPUS = Path(__file__).parent / "corpus"
OWN_ADDRESSES = frozenset({"ekase@kase.gov.lv"})
OWN_DOMAIN = "sla.kase.gov.lv"
RIGA_WINTER = timezone(timedelta(hours=2))

LONG_Q_SUBJECT = (
    "Iesniegums par nodokļu pārmaksu: ģimenes īpašums Ķekavā — lūdzu, ņemiet vērā čeku, ķēdi un šo žurnālu"
)
LONG_B_SUBJECT = "Atbilde: Lūgums pārskatīt nodokļu nomaksas grafiku — Ērgļu novada zemnieku saimniecība"


def parse_corpus(name: str) -> ParsedMail:
    raw = (CORPUS / name).read_bytes()
    return mail_parse(raw, own_addresses=OWN_ADDRESSES, own_message_id_domain=OWN_DOMAIN)


def mail_bytes(headers: dict[str, str | None], body: str = "Labdien!\n") -> bytes:
    """A small person-written mail; ``headers`` adds or replaces fields (None removes one)."""
    fields: dict[str, str | None] = {
        "From": "Jānis Bērziņš <janis.berzins@inbox.lv>",
        "To": "ekase@kase.gov.lv",
        "Subject": "Jautājums",
        "Date": "Mon, 27 Jan 2025 10:15:42 +0200",
        "Message-ID": "<t-1@inbox.lv>",
        "Content-Type": "text/plain; charset=utf-8",
    }
    fields.update(headers)
    head = "".join(f"{name}: {value}\r\n" for name, value in fields.items() if value is not None)
    return (head + "\r\n" + body).encode("utf-8")


# --- The corpus, table-style ------------------------------------------------------------------------------

CORPUS_CASES = [
    pytest.param(
        "postfix_bounce.eml",
        {
            "automatic_reason": "delivery-report",
            "bounced_message_ids": ("ack-1@sla.kase.gov.lv",),
            "from_address": "mailer-daemon@mx1.kase.gov.lv",
            "from_name": "Mail Delivery System",
            "attachments": (Attachment("", "message/rfc822", 683, False),),
        },
        id="postfix-bounce-names-our-acknowledgement",
    ),
    pytest.param(
        "exchange_ndr.eml",
        {
            "automatic_reason": "delivery-report",
            "bounced_message_ids": ("reply-42@sla.kase.gov.lv",),
            "subject": "Undeliverable: Atbilde: Jautājums par maksājumu",
            "attachments": (),
        },
        id="exchange-ndr-reads-returned-headers",
    ),
    pytest.param(
        "gmail_dsn_failure.eml",
        {
            "automatic_reason": "delivery-report",
            "bounced_message_ids": ("ack-7@sla.kase.gov.lv",),
            "text": "** Address not found **\n",
        },
        id="gmail-dsn-failure",
    ),
    pytest.param(
        "gmail_dsn_delay.eml",
        {"automatic_reason": "delivery-report", "bounced_message_ids": ()},
        id="gmail-dsn-delay-is-not-a-bounce-yet",
    ),
    pytest.param(
        "exim_classic_bounce.eml",
        {"automatic_reason": "delivery-report", "bounced_message_ids": ("ack-3@sla.kase.gov.lv",)},
        id="exim-classic-bounce-quotes-the-original-in-text",
    ),
    pytest.param(
        "read_receipt_mdn.eml",
        {"automatic_reason": "delivery-report", "bounced_message_ids": ()},
        id="read-receipt-is-a-report-but-nothing-bounced",
    ),
    pytest.param(
        "outlook_out_of_office.eml",
        {
            "automatic_reason": "auto-submitted:auto-replied",
            "subject": "Automātiskā atbilde: Jūsu vēstule ir saņemta",
            "from_name": "Līga Ābele",
            "in_reply_to": "ack-11@sla.kase.gov.lv",
            "text": (
                "Labdien!\n\nEsmu atvaļinājumā līdz 31. janvārim. "
                "Steidzamos jautājumos rakstiet kolēģim Mārim Kļaviņam.\n"
            ),
        },
        id="outlook-out-of-office",
    ),
    pytest.param(
        "exchange_oof_without_auto_submitted.eml",
        {"automatic_reason": "x-auto-response-suppress"},
        id="exchange-oof-with-only-microsoft-headers",
    ),
    pytest.param(
        "exchange_rules_agent_notice.eml",
        {"automatic_reason": "x-ms-exchange-generated-message-source"},
        id="exchange-transport-rule-notice",
    ),
    pytest.param(
        "mailing_list_post.eml",
        {"automatic_reason": "list:list-id", "to": ("fintech@lists.lu.lv",)},
        id="mailing-list-post",
    ),
    pytest.param(
        "newsletter_bulk.eml",
        {
            "automatic_reason": "precedence:bulk",
            "from_name": "Biznesa Ziņas",
            "text": "Nedēļas apskats\n\nŠonedēļ: nodokļu izmaiņas.",
        },
        id="bulk-newsletter",
    ),
    pytest.param(
        "noreply_notification.eml",
        {"automatic_reason": "sender:no-reply", "subject": "Paziņojums par jaunu dokumentu"},
        id="noreply-notification",
    ),
    pytest.param(
        "no_message_id.eml",
        {"automatic_reason": "no-message-id", "message_id": ""},
        id="mail-without-message-id",
    ),
    pytest.param(
        "own_message_copy.eml",
        {"automatic_reason": "own-message", "from_address": "ekase@kase.gov.lv"},
        id="our-own-mail-coming-back",
    ),
    pytest.param(
        "thunderbird_reply.eml",
        {
            "automatic_reason": "",
            "message_id": "5b0c6e1a-2f4d-4a7b-9c3e-1d2f3a4b5c6d@inbox.lv",
            "in_reply_to": "reply-99@sla.kase.gov.lv",
            "references": ("CAF7x9k2mQ@mail.gmail.com", "reply-99@sla.kase.gov.lv"),
            "from_address": "janis.berzins@inbox.lv",
            "from_name": "Jānis Bērziņš",
            "cc": ("ilze.berzina@inbox.lv", "peteris.ozols@inbox.lv"),
            "date": datetime(2025, 1, 27, 10, 15, 42, tzinfo=RIGA_WINTER),
            "bounced_message_ids": (),
        },
        id="thunderbird-reply-by-a-person",
    ),
    pytest.param(
        "latvian_q_encoded_subject.eml",
        {
            "subject": LONG_Q_SUBJECT,
            "from_name": "Jānis Bērziņš",
            "to": ("ekase@kase.gov.lv", "janis.berzins@inbox.lv"),
            "text": "Labdien! Pielikumā iesniegums par nodokļu pārmaksu.\n",
            "automatic_reason": "",
        },
        id="latvian-subject-over-five-q-encoded-words",
    ),
    pytest.param(
        "latvian_b_encoded_subject.eml",
        {"subject": LONG_B_SUBJECT, "from_name": "Līga Ūdre-Šiņķe"},
        id="latvian-subject-over-b-encoded-words-splitting-letters",
    ),
    pytest.param(
        "raw_utf8_headers.eml",
        {
            "subject": "Jautājums par ūdens nodokli un ģimenes īpašumu",
            "from_name": "Pēteris Kļaviņš",
            "text": "Labdien, vai ūdens nodoklis ir jāmaksā arī par šo īpašumu?\n",
        },
        id="raw-8-bit-utf-8-headers",
    ),
    pytest.param(
        "latin1_header_and_body.eml",
        {
            "from_name": "Jürgen Müller",
            "subject": "Frage zur Rückerstattung",
            "text": "Sehr geehrte Damen und Herren, die Rückerstattung für François ist offen.\n",
        },
        id="latin-1-header-and-body",
    ),
    pytest.param(
        "windows1257_body.eml",
        {"text": "Lūdzu, pārbaudiet maksājuma uzdevumu: ā č ē ģ ī ķ ļ ņ š ū ž.\n"},
        id="windows-1257-body",
    ),
    pytest.param(
        "iso8859_13_body.eml",
        {"text": "Ģimenes īpašuma nodoklis: ā č ē ģ ī ķ ļ ņ š ū ž.\n"},
        id="iso-8859-13-body",
    ),
    pytest.param(
        "mislabelled_and_unknown_charsets.eml",
        {
            "subject": "Atskaite 2025",
            "text": "Summa: 120 eiro, ņemta no konta.\n",
            "attachments": (Attachment("piezimes.txt", "text/plain", 17, False),),
        },
        id="baltic-text-labelled-utf-8-and-an-unknown-charset",
    ),
    pytest.param(
        "unterminated_multipart_bad_base64.eml",
        {
            "text": "Pielikumā skenētie dokumenti.",
            "attachments": (Attachment("scan.jpg", "image/jpeg", 146, False),),
            "defects": ("CloseBoundaryNotFoundDefect", "InvalidBase64LengthDefect"),
        },
        id="unterminated-multipart-with-bad-base64",
    ),
    pytest.param(
        "bad_base64_body.eml",
        {"text": "Lūdzu, sazinieties ar mani.", "defects": ("InvalidBase64CharactersDefect",)},
        id="bad-base64-body",
    ),
    pytest.param(
        "missing_boundary_parameter.eml",
        {
            "text": "Teksts bez MIME robezas.\n",
            "defects": ("NoBoundaryInMultipartDefect", "MultipartInvariantViolationDefect"),
        },
        id="multipart-without-boundary",
    ),
    pytest.param(
        "html_only_hostile.eml",
        {"subject": "Jūs laimējāt!", "text": "Apsveicam, jūs laimējāt!\n\nSaņemt balvu Noteikumi"},
        id="html-only-mail",
    ),
    pytest.param(
        "alternative_inline_image_and_pdf.eml",
        {
            "from_name": "Dace Krūmiņa",
            "text": "Labdien! Pielikumā iesniegums.",
            "attachments": (
                Attachment("paraksts.png", "image/png", 75, True),
                Attachment("ģimenes īpašums.pdf", "application/pdf", 142, False),
                Attachment("Nodokļu pārmaksas čeks.pdf", "application/pdf", 142, False),
                Attachment("piežuļšanas rīkojums.txt", "text/plain", 2, False),
            ),
        },
        id="alternative-with-inline-image-and-rfc-2231-filenames",
    ),
    pytest.param(
        "outlook_winmail_dat.eml",
        {
            "text": "Please find the invoice attached.\n",
            "attachments": (Attachment("winmail.dat", "application/ms-tnef", 64, False),),
        },
        id="outlook-winmail-dat",
    ),
    pytest.param(
        "forwarded_rfc822.eml",
        {
            "subject": "Fwd: Maksājums",
            "text": "Pārsūtu iedzīvotāja vēstuli.\n",
            "attachments": (Attachment("Maksajums.eml", "message/rfc822", 709, False),),
            "automatic_reason": "",
            "bounced_message_ids": (),
        },
        id="forward-as-message-rfc822",
    ),
]


@pytest.mark.parametrize(("filename", "expected"), CORPUS_CASES)
def test_corpus_message_parses_to_the_expected_fields(filename: str, expected: dict[str, Any]) -> None:
    parsed = parse_corpus(filename)

    assert {field: getattr(parsed, field) for field in expected} == expected


def test_every_corpus_file_is_in_a_table() -> None:
    tabled = {param.values[0] for param in CORPUS_CASES} | {"no_sender.eml"}

    assert {path.name for path in CORPUS.glob("*.eml")} == tabled


def test_corpus_dates_are_timezone_aware() -> None:
    dates = [parse_corpus(path.name).date for path in CORPUS.glob("*.eml") if path.name != "no_sender.eml"]

    assert dates
    assert all(date is not None and date.utcoffset() is not None for date in dates)


# --- RFC 2047 and the CPython whitespace bugs ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("=?utf-8?q?a?= =?utf-8?q?b?=", "ab", id="blank-between-encoded-words-is-dropped"),
        pytest.param(
            "=?utf-8?q?J=C4=81nis_?=\r\n =?utf-8?q?B=C4=93rzi=C5=86=C5=A1?=",
            "Jānis Bērziņš",
            id="underscore-inside-a-word-is-a-space",
        ),
        pytest.param(
            "=?utf-8?q?J=C4=81nis=20?= =?utf-8?q?B=C4=93rzi=C5=86=C5=A1?=", "Jānis Bērziņš", id="eq-20"
        ),
        pytest.param(
            "Re: =?utf-8?q?J=C4=81nis?= un citi", "Re: Jānis un citi", id="blank-next-to-text-is-kept"
        ),
        pytest.param(
            "=?utf-8?q?=C4=A2ertr=C5=ABdes?==?utf-8?q?_iela?=",
            "Ģertrūdes iela",
            id="words-glued-by-gh-144156-still-decode",
        ),
        pytest.param(
            "=?utf-8?b?xYZlbXQ=?=\r\n  =?utf-8?b?xb51cm7EgWxz?=",
            "ņemtžurnāls",
            id="blank-a-gh-92081-folder-left-outside-the-words-is-not-content",
        ),
        pytest.param("=?utf-8?b?xIE?=", "ā", id="missing-base64-padding"),
        pytest.param("=?UTF-8*lv?Q?Sveiki?=", "Sveiki", id="rfc-2231-language-tag"),
        pytest.param("=?iso-8859-13?q?=EC=E2?= =?windows-1257?q?=FE?=", "ģāž", id="baltic-charsets"),
        pytest.param("=?x-unknown?q?Atskaite?=", "Atskaite", id="unknown-charset"),
        pytest.param("=?utf-8?b?SsSBbmlz?", "=?utf-8?b?SsSBbmlz?", id="unterminated-word-stays-literal"),
        pytest.param("=?utf-8?q?a=0D=0AInjected:_x?=", "a Injected: x", id="no-line-breaks-survive"),
        pytest.param(b"P\xc4\x93teris".decode("ascii", "surrogateescape"), "Pēteris", id="raw-utf-8"),
        pytest.param(b"J\xfcrgen".decode("ascii", "surrogateescape"), "Jürgen", id="raw-latin-1"),
    ],
)
def test_header_text_follows_rfc_2047(raw: str, expected: str) -> None:
    assert header_text(raw) == expected


@pytest.mark.parametrize("encoding", [QP, BASE64], ids=["q", "b"])
@pytest.mark.parametrize("subject", [LONG_Q_SUBJECT, LONG_B_SUBJECT, "ā " * 60 + "beigas"])
def test_long_latvian_subject_survives_folding_over_many_encoded_words(subject: str, encoding: int) -> None:
    charset = Charset("utf-8")
    charset.header_encoding = encoding
    folded = Header(subject, charset, header_name="Subject").encode(maxlinelen=76)

    parsed = mail_parse(mail_bytes({"Subject": folded}))

    assert folded.count("?=") >= 2
    assert parsed.subject == subject


def test_display_name_made_of_adjacent_encoded_words_gets_one_space() -> None:
    # The header registry of Python 3.11 returns "Jānis  Bērziņš" here (gh-128110).
    raw = mail_bytes({"From": "=?utf-8?q?J=C4=81nis?= =?utf-8?q?_B=C4=93rzi=C5=86=C5=A1?= <Janis@Inbox.LV>"})

    parsed = mail_parse(raw)

    assert (parsed.from_name, parsed.from_address) == ("Jānis Bērziņš", "janis@inbox.lv")


# --- Automatic mail ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        pytest.param({}, "", id="a-person"),
        pytest.param({"Auto-Submitted": "auto-generated (nightly export)"}, "auto-submitted:auto-generated"),
        pytest.param({"Auto-Submitted": "No"}, "", id="auto-submitted-no-is-a-person"),
        pytest.param(
            {"Auto-Submitted": "auto-replied", "List-Id": "<x.lists.lv>"}, "auto-submitted:auto-replied"
        ),
        pytest.param({"Return-Path": "< >"}, "null-return-path"),
        pytest.param({"X-Loop": "ekase@kase.gov.lv"}, "x-loop"),
        pytest.param({"Precedence": "junk"}, "precedence:junk"),
        pytest.param({"Precedence": "auto_reply"}, "precedence:auto_reply"),
        pytest.param({"Precedence": "first-class"}, "", id="other-precedence-is-a-person"),
        pytest.param({"List-Unsubscribe": "<mailto:leave@lists.lv>"}, "list:list-unsubscribe"),
        pytest.param({"X-Autoreply": "yes"}, "x-autoreply"),
        pytest.param({"X-Autorespond": "Out of office"}, "x-autorespond"),
        pytest.param({"X-Auto-Response-Suppress": "DR, RN, NRN"}, "", id="receipt-suppression-is-a-person"),
        pytest.param({"X-Auto-Response-Suppress": "OOF"}, "x-auto-response-suppress"),
        pytest.param({"From": "DoNotReply@bank.lv"}, "sender:donotreply"),
        pytest.param({"From": "bounces+8842@mail.shop.lv"}, "sender:bounces"),
        pytest.param({"From": "Postmaster <postmaster@partneris.lv>"}, "sender:postmaster"),
        pytest.param({"Subject": "Undeliverable: Jautājums"}, "delivery-report"),
        pytest.param({"Subject": "Fw: Undeliverable: Jautājums"}, "", id="a-person-forwarding-a-bounce"),
        pytest.param({"Message-ID": "<copy-3@sla.kase.gov.lv>"}, "own-message", id="our-message-id-domain"),
        pytest.param({"Message-ID": None}, "no-message-id"),
    ],
)
def test_automatic_reason_names_the_first_rule_that_matched(
    headers: dict[str, str | None], reason: str
) -> None:
    parsed = mail_parse(mail_bytes(headers), own_addresses=OWN_ADDRESSES, own_message_id_domain=OWN_DOMAIN)

    assert parsed.automatic_reason == reason


def test_bounce_without_returned_parts_falls_back_to_in_reply_to() -> None:
    raw = mail_bytes(
        {
            "From": "MAILER-DAEMON@mx.partneris.lv",
            "Subject": "failure notice",
            "In-Reply-To": "<ack-9@sla.kase.gov.lv>",
        },
        body="Sorry, I wasn't able to deliver your message.\n",
    )

    assert mail_parse(raw).bounced_message_ids == ("ack-9@sla.kase.gov.lv",)


# --- Bodies, attachments, identity -------------------------------------------------------------------------


def test_html_is_sanitised_before_anyone_renders_it() -> None:
    html = parse_corpus("html_only_hostile.eml").html

    for dangerous in (
        "<script",
        "document.cookie",
        "onclick",
        "onload",
        "javascript:",
        "<style",
        "evil.example",
    ):
        assert dangerous not in html
    assert 'src="cid:logo@laimests"' in html
    assert '<a href="https://laimests-lv.example/balva" rel="noopener noreferrer">' in html


def test_inline_image_referenced_by_content_id_stays_in_the_html() -> None:
    html = parse_corpus("alternative_inline_image_and_pdf.eml").html

    assert html == '<p>Labdien! Pielikumā iesniegums.</p><img src="cid:paraksts@inbox.lv" alt="paraksts">'


def test_fifteen_megabyte_attachment_is_measured_exactly() -> None:
    payload = random.Random(15).randbytes(15 * 1024 * 1024)
    body = (
        "--big\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSk. pielikumu.\r\n--big\r\n"
        'Content-Type: application/zip\r\nContent-Disposition: attachment; filename="arhīvs.zip"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(payload).decode().replace("\n", "\r\n")
        + "--big--\r\n"
    )
    raw = mail_bytes({"Content-Type": 'multipart/mixed; boundary="big"'}, body=body)

    parsed = mail_parse(raw)

    assert parsed.text == "Sk. pielikumu."
    assert parsed.attachments == (Attachment("arhīvs.zip", "application/zip", 15 * 1024 * 1024, False),)


def test_mail_without_message_id_is_identified_by_a_hash_of_its_bytes() -> None:
    raw = (CORPUS / "no_message_id.eml").read_bytes()

    assert mail_parse(raw).source_id == "sha256:" + hashlib.sha256(raw).hexdigest()


def test_source_id_is_the_message_id_when_there_is_one() -> None:
    parsed = mail_parse(mail_bytes({"Message-ID": "  < t-77@inbox.lv >  "}))

    assert (parsed.message_id, parsed.source_id) == ("t-77@inbox.lv", "t-77@inbox.lv")


def test_sender_header_stands_in_for_a_missing_from() -> None:
    parsed = mail_parse(mail_bytes({"From": None, "Sender": "=?utf-8?q?Kase?= <Kase@Example.LV>"}))

    assert (parsed.from_name, parsed.from_address) == ("Kase", "kase@example.lv")


@pytest.mark.parametrize(
    ("date_header", "expected"),
    [
        pytest.param(
            "Mon, 27 Jan 2025 10:15:42 +0200", datetime(2025, 1, 27, 8, 15, 42, tzinfo=UTC), id="offset"
        ),
        pytest.param(
            "Mon, 27 Jan 2025 08:15:42 -0000", datetime(2025, 1, 27, 8, 15, 42, tzinfo=UTC), id="minus-0"
        ),
        pytest.param("vakar pēcpusdienā", None, id="unparseable"),
        pytest.param(None, None, id="missing"),
    ],
)
def test_date_is_aware_or_none(date_header: str | None, expected: datetime | None) -> None:
    parsed = mail_parse(mail_bytes({"Date": date_header}))

    assert parsed.date == expected
    assert parsed.date is None or parsed.date.tzinfo is not None


@pytest.mark.parametrize(
    ("part_headers", "filename"),
    [
        pytest.param("Content-Disposition: attachment; filename*0*", "", id="truncated-continuation"),
        pytest.param(
            "Content-Type: application/pdf; name*0*", "", id="truncated-continuation-in-content-type"
        ),
        pytest.param(
            "Content-Disposition: attachment; filename*=utf-8''a.pdf; filename*0*=utf-8''b.pdf",
            "a.pdfb.pdf",
            id="mixed-continuation-styles",
        ),
        pytest.param(
            "Content-Disposition: attachment; filename*0*=utf-8''\0x.pdf", "x.pdf", id="nul-in-name"
        ),
        pytest.param('Content-Disposition: attachment; filename="../../start.exe"', "start.exe", id="path"),
    ],
)
def test_damaged_mime_parameters_cost_at_most_the_filename(part_headers: str, filename: str) -> None:
    # Python 3.11's header registry raises IndexError on the truncated ones, even from inside its parser.
    body = (
        "--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nTeksts\r\n--m\r\n"
        f"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n{part_headers}\r\n\r\n"
        "QUJD\r\n--m--\r\n"
    )

    parsed = mail_parse(mail_bytes({"Content-Type": 'multipart/mixed; boundary="m"'}, body=body))

    assert parsed.text == "Teksts"
    assert parsed.attachments == (Attachment(filename, "application/pdf", 3, False),)


@pytest.mark.parametrize(
    "content_type",
    ['text/plain; charset="utf-8\0"', "text/plain; charset*0*=utf-8''\0", "text/plain; charset*0*"],
)
def test_damaged_charset_label_still_yields_the_text(content_type: str) -> None:
    raw = mail_bytes(
        {"Content-Type": content_type, "Content-Transfer-Encoding": "8bit"}, body="Ģimenes īpašums\n"
    )

    assert mail_parse(raw).text == "Ģimenes īpašums\n"


# --- Not e-mail at all -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason_starts"),
    [
        pytest.param(b"", "empty message", id="empty"),
        pytest.param(b"\r\n \r\n", "empty message", id="only-blank-lines"),
        pytest.param(random.Random(20250114).randbytes(4096), "no header section", id="binary-junk"),
        pytest.param(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "no header section", id="a-pdf"),
        pytest.param(
            "Labdien,\nlūdzu atmaksājiet.\n".encode(), "no header section", id="text-without-headers"
        ),
        pytest.param((CORPUS / "no_sender.eml").read_bytes(), "no sender", id="no-from-or-sender"),
        pytest.param(
            b"From: undisclosed-recipients:;\nSubject: x\n\nbody\n", "no sender", id="from-without-address"
        ),
    ],
)
def test_input_that_is_not_an_email_is_refused_with_a_reason(raw: bytes, reason_starts: str) -> None:
    with pytest.raises(UnparseableMail) as refused:
        mail_parse(raw)

    assert refused.value.reason.startswith(reason_starts)
    assert str(refused.value) == refused.value.reason


def test_mime_nested_beyond_what_the_email_package_reads_is_refused() -> None:
    nested = "Content-Type: text/plain\r\n\r\nx\r\n"
    for level in range(3000):
        head = f"Content-Type: multipart/mixed; boundary=b{level}\r\n\r\n"
        nested = f"{head}--b{level}\r\n{nested}\r\n--b{level}--\r\n"
    raw = ("From: a@b.lv\r\n" + nested).encode()

    with pytest.raises(UnparseableMail) as refused:
        mail_parse(raw)

    assert "nested too deeply" in refused.value.reason


def test_parsing_is_repeatable() -> None:
    raw = (CORPUS / "alternative_inline_image_and_pdf.eml").read_bytes()

    assert mail_parse(raw) == mail_parse(raw)


@pytest.mark.parametrize("module", ["mail/parsing.py", "mail/classify.py"])
def test_parsing_modules_stay_free_of_django(module: str) -> None:
    tree = ast.parse((Path(__file__).parents[2] / module).read_text())
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]

    assert imported
    assert not [name for name in imported if name.split(".")[0] == "django"]
