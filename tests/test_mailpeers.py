"""The mail peers behave as TESTBED §D and §E found them, so product tests can rely on them."""

from __future__ import annotations

import asyncio
import smtplib
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
import pytest

from tests.mailpeers import AutoResponder, DovecotServer, SmtpCapture, parse_message
from tests.peers import port_open

pytestmark = pytest.mark.peers

IDLE_PUSH_LIMIT = 1.5  # Dovecot pushes EXISTS after its fixed 0.5 s notify delay


def _message(subject: str, *, to: str, sender: str = "customer@example.org", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.org")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Labdien! Lūdzu, atbildiet uz manu jautājumu.\n")
    return message


def _send(
    message: EmailMessage, port: int, *, username: str | None = None, password: str | None = None
) -> tuple[dict[str, aiosmtplib.SMTPResponse], str]:
    """Send as the product will: aiosmtplib, no TLS on loopback, a short timeout so a hang fails fast."""
    sending = aiosmtplib.send(
        message, hostname="127.0.0.1", port=port, username=username, password=password, timeout=5
    )
    return asyncio.run(sending)


def _subjects(dovecot: DovecotServer, user: str, folder: str = "INBOX") -> list[str]:
    client = dovecot.client(user, folder)
    try:
        fetched = client.fetch(client.search(), ["BODY.PEEK[]"])
        return [str(parse_message(data[b"BODY[]"])["Subject"]) for _, data in sorted(fetched.items())]
    finally:
        client.logout()


def _uidvalidity(dovecot: DovecotServer, user: str, folder: str = "INBOX") -> tuple[int, list[int]]:
    client = dovecot.client(user)
    try:
        selected = client.select_folder(folder, readonly=True)
        return selected[b"UIDVALIDITY"], client.search()
    finally:
        client.logout()


def test_lmtp_delivery_wakes_an_idle_inbox_promptly(dovecot: DovecotServer) -> None:
    user = dovecot.user_add("ekase")
    client = dovecot.client(user, "INBOX")
    try:
        client.idle()
        sent_at = time.monotonic()
        dovecot.deliver(_message("Jautājums par maksājumu", to=user).as_bytes(), user)
        responses: list[tuple[int, bytes]] = []
        while not any(kind == b"EXISTS" for _, kind in responses):
            if time.monotonic() - sent_at > IDLE_PUSH_LIMIT:
                break
            responses += client.idle_check(timeout=0.1)
        waited = time.monotonic() - sent_at
        client.idle_done()
    finally:
        client.logout()
    assert (1, b"EXISTS") in responses, responses
    assert waited < IDLE_PUSH_LIMIT


def test_uidvalidity_survives_a_dovecot_restart(dovecot: DovecotServer) -> None:
    user = dovecot.user_add()
    dovecot.deliver(_message("before restart", to=user), user)
    before = _uidvalidity(dovecot, user)
    imap_port, lmtp_port = dovecot.imap_port, dovecot.lmtp_port

    dovecot.stop()
    try:
        assert not port_open(imap_port)
    finally:
        dovecot.start()

    assert (dovecot.imap_port, dovecot.lmtp_port) == (imap_port, lmtp_port)
    assert _uidvalidity(dovecot, user) == before


def test_uidvalidity_reset_gives_a_new_uidvalidity_and_keeps_the_messages(dovecot: DovecotServer) -> None:
    user = dovecot.user_add()
    for subject in ("first", "second", "third"):
        dovecot.deliver(_message(subject, to=user), user)
    client = dovecot.client(user, "INBOX")
    client.delete_messages([1])  # UIDs 2 and 3 remain: after the reset they are renumbered 1 and 2
    client.expunge()
    client.logout()
    uidvalidity_before, uids_before = _uidvalidity(dovecot, user)

    dovecot.uidvalidity_reset(user)

    uidvalidity_after, uids_after = _uidvalidity(dovecot, user)
    assert uids_before == [2, 3]
    assert uidvalidity_after != uidvalidity_before
    assert uids_after == [1, 2]
    assert _subjects(dovecot, user) == ["second", "third"]


def test_uidvalidity_reset_of_sent_leaves_the_inbox_alone(dovecot: DovecotServer) -> None:
    user = dovecot.user_add()
    dovecot.deliver(_message("in the inbox", to=user), user)
    client = dovecot.client(user)
    client.append("Sent", _message("our answer", to="customer@example.org").as_bytes(), flags=[b"\\Seen"])
    client.logout()
    inbox_before, sent_before = _uidvalidity(dovecot, user), _uidvalidity(dovecot, user, "Sent")

    dovecot.uidvalidity_reset(user, "Sent")

    assert _uidvalidity(dovecot, user) == inbox_before
    sent_after = _uidvalidity(dovecot, user, "Sent")
    assert sent_after[0] != sent_before[0]
    assert _subjects(dovecot, user, "Sent") == ["our answer"]


def test_append_to_the_special_use_sent_folder(dovecot: DovecotServer) -> None:
    user = dovecot.user_add()
    client = dovecot.client(user)
    try:
        sent = client.find_special_folder(b"\\Sent")
        response = client.append(
            sent, _message("Atbilde", to="customer@example.org").as_bytes(), flags=[b"\\Seen"]
        )
        status = client.folder_status(sent, [b"MESSAGES", b"UIDNEXT"])
    finally:
        client.logout()
    assert sent == "Sent"
    assert b"APPENDUID" in response
    assert status[b"MESSAGES"] == 1
    assert status[b"UIDNEXT"] == 2


def test_lmtp_refuses_an_unknown_recipient(dovecot: DovecotServer) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        dovecot.deliver(_message("nobody home", to="ghost@example.test"), "ghost-0@example.test")
    assert refused.value.recipients["ghost-0@example.test"][0] == 550


def test_added_users_log_in_at_once_and_see_only_their_own_mail(dovecot: DovecotServer) -> None:
    # Several users in one second: a shared passwd-file would hide all but the first (see user_add).
    users = [dovecot.user_add("agent") for _ in range(5)]
    for user in users:
        dovecot.deliver(_message(f"for {user}", to=user), user)
    assert [_subjects(dovecot, user) for user in users] == [[f"for {user}"] for user in users]
    assert len(set(users)) == 5


def test_smtp_capture_receives_an_aiosmtplib_message(smtp_server: SmtpCapture) -> None:
    message = _message("Jautājums", to="support@example.test")

    errors, reply = _send(message, smtp_server.port)

    assert errors == {}
    assert reply.startswith("2.0.0 queued as 1")
    (received,) = smtp_server.wait_for(1)
    assert received["Subject"] == "Jautājums"
    assert "Lūdzu" in received.get_content()
    (envelope,) = smtp_server.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == ("customer@example.org", ("support@example.test",))


def test_smtp_capture_refuses_a_foreign_domain_permanently(smtp_server: SmtpCapture) -> None:
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        _send(_message("out", to="someone@elsewhere.invalid"), smtp_server.port)
    assert refused.value.recipients[0].code == 550
    assert smtp_server.envelopes == []


def test_smtp_capture_wait_for_says_what_arrived_when_it_times_out(smtp_server: SmtpCapture) -> None:
    _send(_message("only one", to="support@example.test"), smtp_server.port)
    with pytest.raises(AssertionError, match=r"got 1: .*only one"):
        smtp_server.wait_for(2, timeout=0.2)


def test_smtp_capture_refuses_connections_while_stopped_and_comes_back_on_the_same_port(
    smtp_server: SmtpCapture,
) -> None:
    port = smtp_server.port
    smtp_server.stop()
    with pytest.raises(aiosmtplib.SMTPConnectError):
        _send(_message("while down", to="support@example.test"), port)

    smtp_server.start()

    assert smtp_server.port == port
    _send(_message("after restart", to="support@example.test"), port)
    assert [message["Subject"] for message in smtp_server.wait_for(1)] == ["after restart"]


def test_smtp_capture_with_auth_accepts_the_right_password_only(
    smtp_server_factory: Callable[..., SmtpCapture],
) -> None:
    server = smtp_server_factory(auth=("ekase", "smtp-test-password"))
    message = _message("authenticated", to="support@example.test")

    with pytest.raises(aiosmtplib.SMTPSenderRefused) as unauthenticated:
        _send(message, server.port)
    started_at = time.monotonic()
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as wrong:
        _send(message, server.port, username="ekase", password="wrong")
    _send(message, server.port, username="ekase", password="smtp-test-password")

    assert unauthenticated.value.code == 530
    assert wrong.value.code == 535
    assert time.monotonic() - started_at < 2  # no client timeout after a refusal
    assert len(server.wait_for(1)) == 1


def test_smtp_capture_relays_into_dovecot(
    dovecot: DovecotServer, smtp_server_factory: Callable[..., SmtpCapture]
) -> None:
    customer = dovecot.user_add("customer")
    server = smtp_server_factory(relay_to=dovecot, relay_rcpt={"customer@example.org": customer})

    _send(
        _message("Atbilde no Valsts kases", to="customer@example.org", sender="support@example.test"),
        server.port,
    )

    assert len(server.wait_for(1)) == 1
    assert _subjects(dovecot, customer) == ["Atbilde no Valsts kases"]


def test_polite_auto_responder_answers_into_the_senders_mailbox(
    dovecot: DovecotServer, smtp_server_factory: Callable[..., SmtpCapture]
) -> None:
    support = dovecot.user_add("ekase")
    responder = AutoResponder(dovecot, "customer@example.org", polite=True)
    server = smtp_server_factory(auto_responder=responder)
    original = _message("Jūsu pieprasījums", to="customer@example.org", sender=support)

    _send(original, server.port)
    _send(_message("to someone else", to="other@example.org", sender=support), server.port)
    _send(_message("bulk", to="customer@example.org", sender=support, Precedence="bulk"), server.port)

    assert responder.sent == 1
    assert responder.skipped == 1
    client = dovecot.client(support, "INBOX")
    try:
        ((_, data),) = client.fetch(client.search(), ["BODY.PEEK[]"]).items()
    finally:
        client.logout()
    reply = parse_message(data[b"BODY[]"])
    assert reply["Subject"] == "Automatic reply: Jūsu pieprasījums"
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["In-Reply-To"] == original["Message-ID"]
    assert reply["References"] == original["Message-ID"]
    assert reply["Return-Path"] == "<>"  # RFC 3834: the null envelope sender


def test_impolite_auto_responder_answers_everything_without_auto_headers(
    dovecot: DovecotServer, smtp_server_factory: Callable[..., SmtpCapture]
) -> None:
    support = dovecot.user_add("ekase")
    responder = AutoResponder(dovecot, "customer@example.org", polite=False)
    server = smtp_server_factory(auto_responder=responder)
    original = _message("Re: Jūsu pieprasījums", to="customer@example.org", sender=support)
    _send(original, server.port)
    _send(
        _message("auto", to="customer@example.org", sender=support, Auto_Submitted="auto-replied"),
        server.port,
    )

    assert responder.sent == 2
    client = dovecot.client(support, "INBOX")
    try:
        fetched = client.fetch(client.search(), ["BODY.PEEK[]"])
    finally:
        client.logout()
    first = parse_message(fetched[min(fetched)][b"BODY[]"])
    assert first["Subject"] == "Re: Re: Jūsu pieprasījums"
    assert first["In-Reply-To"] == original["Message-ID"]
    assert first["Message-ID"] != original["Message-ID"]
    for absent in ("Auto-Submitted", "Precedence", "References", "X-Autoreply"):
        assert absent not in first
    assert first["Return-Path"] == "<customer@example.org>"
