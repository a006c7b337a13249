"""SIP over UDP from Python, for what SIPp does not do itself: REGISTER an agent's phone (a SIPp UAS does
not register), ping the front door with OPTIONS, and hang up a caller whose SIPp process was stopped.

Why the hang-up is ours: SIPp, stopped by a signal, sends nothing, and the line keeps a call until one
side sends BYE (there is no media timeout), so the agent would stay "in a call" for good. Each caller's
SIPp writes its messages (``-trace_msg``); from them we rebuild the dialog, take the caller's UDP port
once SIPp has exited, and send the BYE (answered) or the CANCEL (still waiting) a real phone would.
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

T1 = 0.5  # RFC 3261's retransmission interval over UDP, seconds
_TRACE_SEPARATOR = re.compile(r"^-{20,} .*$", re.MULTILINE)
_URI_HOST_PORT = re.compile(r"sip:(?:[^@>;]*@)?([^:;>]+):(\d+)")


@dataclass
class SipMessage:
    first_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), "")

    @property
    def status(self) -> int | None:
        """The status code of a response; None for a request."""
        parts = self.first_line.split(" ", 2)
        return int(parts[1]) if parts[0] == "SIP/2.0" and len(parts) > 1 and parts[1].isdigit() else None

    @property
    def cseq_method(self) -> str:
        return self.header("CSeq").split(" ")[-1].strip().upper()


def sip_parse(text: str) -> SipMessage | None:
    """The start line and headers of one SIP message (the body is not needed here)."""
    head = text.replace("\r\n", "\n").split("\n\n", 1)[0].strip("\n")
    lines = head.split("\n")
    if not lines or not lines[0].strip():
        return None
    message = SipMessage(lines[0].strip())
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            message.headers.append((name.strip(), value.strip()))
    return message


def _host_port(uri: str) -> tuple[str, int]:
    match = _URI_HOST_PORT.search(uri)
    if match is None:
        raise ValueError(f"no host:port in {uri!r}")
    return match[1], int(match[2])


def _branch() -> str:
    return f"z9hG4bK-sim-{uuid.uuid4().hex}"


def _request(method: str, uri: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"{method} {uri} SIP/2.0", *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join([*lines, "Max-Forwards: 70", "Content-Length: 0", "", ""])).encode()


class SipSocket:
    """One UDP socket sending requests and collecting the responses to them."""

    def __init__(self, host: str, port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.host, self.port = self.sock.getsockname()

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> SipSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, data: bytes, dest: tuple[str, int]) -> None:
        self.sock.sendto(data, dest)

    def final(self, data: bytes, dest: tuple[str, int], *, cseq_method: str, timeout: float) -> SipMessage:
        """Send ``data`` (retransmitted at T1, 2·T1, ...) until a final response to it; that response."""
        deadline = time.monotonic() + timeout
        interval = T1
        while time.monotonic() < deadline:
            self.send(data, dest)
            resend_at = min(time.monotonic() + interval, deadline)
            interval = min(interval * 2, 4.0)
            while (left := resend_at - time.monotonic()) > 0:
                response = self.receive(left)
                if response and (response.status or 0) >= 200 and response.cseq_method == cseq_method:  # noqa: PLR2004
                    return response
        raise TimeoutError(f"no final answer to {cseq_method} from {dest[0]}:{dest[1]} in {timeout:g} s")

    def receive(self, timeout: float) -> SipMessage | None:
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65535)
        except TimeoutError:
            return None
        return sip_parse(data.decode(errors="replace"))


def _out_of_dialog(
    front_door: tuple[str, int],
    method: str,
    uri: str,
    *,
    party: str,
    extra: tuple[tuple[str, str], ...] = (),
    timeout: float,
) -> int:
    """One request outside any dialog, From and To ``party``; the final status. TimeoutError if silent."""
    with SipSocket(front_door[0]) as sip:
        headers = [
            ("Via", f"SIP/2.0/UDP {sip.host}:{sip.port};branch={_branch()};rport"),
            ("From", f"{party};tag={uuid.uuid4().hex[:10]}"),
            ("To", party),
            ("Call-ID", f"{uuid.uuid4().hex}@simulate"),
            ("CSeq", f"1 {method}"),
            *extra,
        ]
        return (
            sip.final(_request(method, uri, headers), front_door, cseq_method=method, timeout=timeout).status
            or 0
        )


def sip_options(front_door: tuple[str, int], *, timeout: float = 2.0) -> int:
    """OPTIONS to the front door; its status (Kamailio answers 200 itself). TimeoutError if silent."""
    uri = f"sip:{front_door[0]}:{front_door[1]}"
    return _out_of_dialog(front_door, "OPTIONS", uri, party=f"<{uri}>", timeout=timeout)


def sip_register(
    front_door: tuple[str, int], *, domain: str, extension: str, contact: str, expires: int
) -> int:
    """REGISTER ``extension`` at ``domain`` with ``contact`` (host:port of the phone); the status.
    ``expires=0`` removes the registration."""
    extra = (("Contact", f"<sip:{extension}@{contact}>"), ("Expires", str(expires)))
    party = f"<sip:{extension}@{domain}>"
    return _out_of_dialog(front_door, "REGISTER", f"sip:{domain}", party=party, extra=extra, timeout=4.0)


# --- hanging up a stopped caller ------------------------------------------------------------------


@dataclass
class CallerDialog:
    """A caller's call as its SIPp trace shows it: the INVITE sent and the responses to it."""

    invite: SipMessage
    answer: SipMessage | None  # the 200 OK to the INVITE
    final_status: int | None  # the INVITE's final status, if one came


def caller_dialog_read(trace: Path) -> CallerDialog | None:
    """The dialog from SIPp's ``-trace_msg`` file; None when no INVITE was sent."""
    try:
        text = trace.read_text(errors="replace")
    except OSError:
        return None
    invite: SipMessage | None = None
    answer: SipMessage | None = None
    final_status: int | None = None
    for block in _TRACE_SEPARATOR.split(text):
        direction, _, message_text = block.strip("\n").partition("\n")
        message = sip_parse(message_text.lstrip("\n"))
        if message is None:
            continue
        if "sent" in direction and message.first_line.startswith("INVITE ") and invite is None:
            invite = message
        elif "received" in direction and message.cseq_method == "INVITE" and (message.status or 0) >= 200:  # noqa: PLR2004
            final_status = message.status
            if message.status == 200:  # noqa: PLR2004
                answer = message
    return None if invite is None else CallerDialog(invite, answer, final_status)


def caller_hang_up(dialog: CallerDialog, local: tuple[str, int], front_door: tuple[str, int]) -> str:
    """Send, from the caller's own address, what ends its call: "bye" (it was answered), "cancel" (still
    waiting), or nothing ("over": a final answer already ended it). SIPp must have exited (the port)."""
    if dialog.answer is not None:
        with SipSocket(*local) as sip:
            _bye(sip, dialog.invite, dialog.answer)
        return "bye"
    if dialog.final_status is not None:
        return "over"
    with SipSocket(*local) as sip:
        _cancel(sip, dialog.invite, front_door)
    return "cancel"


def _contact_uri(message: SipMessage) -> str:
    """The URI of a Contact header (``<sip:agent@127.0.0.1:21000;transport=UDP>;expires=60``)."""
    return message.header("Contact").lstrip("<").split(">")[0]


def _via(sip: SipSocket) -> tuple[str, str]:
    return ("Via", f"SIP/2.0/UDP {sip.host}:{sip.port};branch={_branch()}")


def _bye(sip: SipSocket, invite: SipMessage, answer: SipMessage) -> None:
    contact = _contact_uri(answer)
    request = _request(
        "BYE",
        contact,
        [
            _via(sip),
            ("From", invite.header("From")),
            ("To", answer.header("To")),
            ("Call-ID", invite.header("Call-ID")),
            ("CSeq", "9 BYE"),  # above the scenario's own (1 INVITE, 2 BYE)
        ],
    )
    with contextlib.suppress(TimeoutError):  # the far end went too: nothing more to do
        sip.final(request, _host_port(contact), cseq_method="BYE", timeout=4.0)


def _cancel(sip: SipSocket, invite: SipMessage, front_door: tuple[str, int]) -> None:
    """CANCEL (hop by hop, through the front door, with the INVITE's Via), then ACK the 487. If an agent
    answered meanwhile the 200 is ACKed and the call ended with a BYE. A response to the INVITE that
    comes while we wait for the CANCEL's 200 is dropped; its sender retransmits it until it is ACKed."""
    uri = invite.first_line.split(" ")[1]
    common = [
        ("Via", invite.header("Via")),
        ("From", invite.header("From")),
        ("Call-ID", invite.header("Call-ID")),
    ]
    cancel = _request("CANCEL", uri, [*common, ("To", invite.header("To")), ("CSeq", "1 CANCEL")])
    try:
        sip.final(cancel, front_door, cseq_method="CANCEL", timeout=4.0)
    except TimeoutError:
        return
    deadline = time.monotonic() + 4.0
    while (left := deadline - time.monotonic()) > 0:
        response = sip.receive(left)
        if response is None or response.cseq_method != "INVITE" or (response.status or 0) < 200:  # noqa: PLR2004
            continue
        if response.status == 200:  # noqa: PLR2004 -- answered just before the CANCEL got there
            contact = _contact_uri(response)
            in_dialog = [_via(sip), *common[1:], ("To", response.header("To")), ("CSeq", "1 ACK")]
            ack = _request("ACK", contact, in_dialog)
            sip.send(ack, _host_port(contact))
            _bye(sip, invite, response)
        else:
            ack = _request("ACK", uri, [*common, ("To", response.header("To")), ("CSeq", "1 ACK")])
            sip.send(ack, front_door)
        return
