"""Portal questions and e-signed submissions arriving by e-mail: delivered into a real Dovecot mailbox,
read by the real watcher, recognised by rule and by structure, and given their clocks."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from agents.models import Role
from contact_centre.models import Channel, Interaction
from mail.models import OutboundKind, OutboundMail, PortalRule, StoredMessage
from mail.parsing import mail_parse
from mail.portal import portal_rule_check, portal_rule_match
from sla.models import ClockState
from sla.sync import clock_sync
from tests.factories import PersonFactory
from tests.mail.builders import client_mail
from tests.mail.signed_files import edoc_build, edoc_without_signature_build, signed_pdf_build
from tests.mail.test_watcher import wait_until, watching
from tests.mailpeers import DovecotServer
from tests.peers import RedisServer

PORTAL_SENDER = "info@latvija.lv"


def portal_rule(**fields: str) -> PortalRule:
    return PortalRule(name="Latvija.lv jautājumi", **fields)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "__all__"),
        ({"subject_pattern": ".*"}, "subject_pattern"),
        ({"subject_pattern": "."}, "subject_pattern"),
        ({"subject_pattern": "^"}, "subject_pattern"),
        ({"subject_pattern": "(unclosed"}, "subject_pattern"),
        ({"header_name": "Received"}, "header_name"),
        ({"header_name": "X-Portal", "header_pattern": "a*"}, "header_pattern"),
        ({"header_pattern": "latvija"}, "header_name"),
        ({"sender": "*"}, "sender"),
        ({"sender": "@"}, "sender"),
    ],
)
def test_a_portal_rule_that_would_match_everything_or_nothing_sensible_is_refused(
    fields: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        portal_rule_check(portal_rule(**fields))
    assert field in refused.value.message_dict


@pytest.mark.parametrize(
    ("fields", "matches"),
    [
        ({"sender": "latvija.lv"}, True),
        ({"sender": "@latvija.lv"}, True),
        ({"sender": PORTAL_SENDER}, True),
        ({"sender": "lv"}, False),  # refused by the check anyway; never a suffix match on a bare TLD
        ({"sender": "vid.gov.lv"}, False),
        ({"sender": "latvija.lv", "subject_pattern": "iesniegums"}, True),
        ({"sender": "latvija.lv", "subject_pattern": "sūdzība"}, False),
        ({"header_name": "X-Latvija-Lv-Question", "header_pattern": r"^\d+$"}, True),
        ({"header_name": "X-Latvija-Lv-Question"}, True),
        ({"header_name": "X-Other"}, False),
    ],
)
def test_every_condition_of_a_rule_must_hold(fields: dict[str, str], matches: bool) -> None:
    parsed = mail_parse(_portal_question())
    assert (portal_rule_match([portal_rule(**fields)], parsed) is not None) is matches


def test_a_subdomain_matches_its_domain_but_a_lookalike_does_not() -> None:
    rule = [portal_rule(sender="latvija.lv")]
    assert portal_rule_match(
        rule, mail_parse(client_mail(message_id="a@x", sender="noreply@pakalpojumi.latvija.lv"))
    )
    assert not portal_rule_match(rule, mail_parse(client_mail(message_id="b@x", sender="x@evil-latvija.lv")))


@pytest.mark.parametrize("pattern", [r"(a|aa)+$", r"^(\d|\d\d)+$", r"(x+x+)+y"])
def test_a_pattern_that_backtracks_catastrophically_is_refused_when_saved(pattern: str) -> None:
    with pytest.raises(ValidationError) as refused:
        portal_rule_check(portal_rule(sender="latvija.lv", subject_pattern=pattern))
    assert "pārāk lēna" in refused.value.message_dict["subject_pattern"][0]


def test_a_slow_pattern_saved_anyway_gives_up_on_a_hostile_subject_and_names_the_rule(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Saved without the check (an older row, a raw insert): Python's re would take hours on this subject.
    rule = portal_rule(subject_pattern=r"(a|aa)+$")
    rule.pk = 7
    hostile = mail_parse(client_mail(message_id="redos@x", sender="a@example.org", subject="a" * 60 + "!"))
    ordinary = mail_parse(client_mail(message_id="fine@x", sender="a@example.org", subject="aaaa"))

    assert portal_rule_match([rule], hostile) is None
    assert portal_rule_match([rule], ordinary) is rule
    assert "portal rule 7" in caplog.text
    assert "not matched" in caplog.text


def test_only_the_first_values_of_a_repeated_header_are_searched() -> None:
    message = EmailMessage(policy=SMTP)
    message["From"] = "a@example.org"
    message["Subject"] = "Jautājums"
    message["Message-ID"] = "<many-headers@x>"
    for n in range(6):
        message["X-Portal"] = "portal" if n == 5 else f"value {n}"
    message.set_content("Labdien!")
    rule = portal_rule(header_name="X-Portal", header_pattern="^portal$")
    assert portal_rule_match([rule], mail_parse(message.as_bytes())) is None
    message.replace_header("X-Portal", "portal")  # now the first value
    assert portal_rule_match([rule], mail_parse(message.as_bytes())) is rule


def _portal_question() -> bytes:
    return client_mail(
        message_id="portal-1@latvija.lv",
        sender=PORTAL_SENDER,
        sender_name="Latvija.lv",
        subject="Iesniegums no portāla: konta izraksts",
        headers={"X-Latvija-Lv-Question": "885512"},
    )


def _with_attachment(message_id: str, data: bytes, filename: str, subtype: str) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = (
        f"Jānis Bērziņš <{message_id.partition('@')[0]}@example.org>"  # one EM-ACK per sender a day
    )
    message["To"] = "ekase@kase.gov.lv"
    message["Subject"] = "Iesniegums"
    message["Message-ID"] = f"<{message_id}>"
    message.set_content("Pielikumā parakstīts iesniegums.")
    message.add_attachment(data, maintype="application", subtype=subtype, filename=filename)
    return message.as_bytes()


def _matter(message_id: str) -> Interaction:
    stored = StoredMessage.objects.select_related("interaction").get(message_id=message_id)
    assert stored.interaction is not None
    return stored.interaction


def _rules(matter: Interaction) -> dict[str, str]:
    return dict(matter.clocks.values_list("rule_id", "state"))


@pytest.mark.peers
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_portal_questions_and_signed_submissions_arrive_with_their_clocks(
    dovecot: DovecotServer, product_mailbox: str, redis_server: RedisServer
) -> None:
    # The rule seeded by the migrations: mail from latvija.lv is a portal question.
    mails = {
        "portal-1@latvija.lv": _portal_question(),
        "edoc@example.org": _with_attachment(
            "edoc@example.org", edoc_build(), "iesniegums.edoc", "octet-stream"
        ),
        "pdf@example.org": _with_attachment("pdf@example.org", signed_pdf_build(), "iesniegums.pdf", "pdf"),
        "broken@example.org": _with_attachment(
            "broken@example.org", b"this is not a container", "iesniegums.edoc", "octet-stream"
        ),
        "unsigned@example.org": _with_attachment(
            "unsigned@example.org", edoc_without_signature_build(), "iesniegums.asice", "vnd.etsi.asic-e+zip"
        ),
        "plain@example.org": client_mail(message_id="plain@example.org"),
    }
    for raw in mails.values():
        dovecot.deliver(raw, product_mailbox)

    with watching(redis_server):
        wait_until(
            lambda: StoredMessage.objects.filter(folder="INBOX").count() == len(mails), what="all stored"
        )
    clock_sync()

    portal = _matter("portal-1@latvija.lv")
    assert portal.channel == Channel.PORTAL
    assert portal.intake_rule.endswith(": Latvija.lv portāla jautājumi / Questions from the national portal")
    assert _rules(portal) == {"PORTAL-ANS": ClockState.PENDING}
    assert not OutboundMail.objects.filter(interaction=portal).exists()  # no EM-ACK to the portal's body

    for message_id, format_ in (("edoc@example.org", "asic-e"), ("pdf@example.org", "pdf")):
        submission = _matter(message_id)
        assert submission.channel == Channel.EMAIL
        assert _rules(submission) == {"EM-ACK": "pending", "EM-REPLY": "pending", "SUBM-ANS": "pending"}
        [document] = submission.events.get(kind="email_received").payload["signed_documents"]
        assert (document["format"], document["verdict"]) == (format_, "signed")
        assert OutboundMail.objects.filter(interaction=submission, kind=OutboundKind.ACKNOWLEDGEMENT).exists()

    for message_id, reason in (
        ("broken@example.org", "not a zip archive"),
        ("unsigned@example.org", "no signature in META-INF"),
    ):
        flagged = _matter(message_id)
        assert _rules(flagged) == {"EM-ACK": "pending", "EM-REPLY": "pending"}  # flagged, not trusted
        [document] = flagged.events.get(kind="email_received").payload["signed_documents"]
        assert document["verdict"] == "damaged"
        assert reason in document["reason"]

    assert _rules(_matter("plain@example.org")) == {"EM-ACK": "pending", "EM-REPLY": "pending"}

    # The handler sees each verdict at the file, in Latvian.
    handler = Client()
    handler.force_login(PersonFactory(user__username="janis", user__roles=[Role.EMAIL_HANDLER]).user)
    signed_page = handler.get(reverse("mail-thread", args=[_matter("edoc@example.org").pk])).content.decode()
    broken_page = handler.get(
        reverse("mail-thread", args=[_matter("broken@example.org").pk])
    ).content.decode()
    assert "E-parakstīts (parakstu: 1)" in signed_page
    assert "Bojāts e-paraksts, neuzticams: not a zip archive" in broken_page
