"""SIP from Python: out-of-dialog REGISTER, OPTIONS and other non-INVITE requests over UDP, retransmitted
like RFC 3261; each returns the final status code it got."""

from __future__ import annotations

import re
import socket
import time
import uuid
from collections.abc import Callable

from tests.peers import HOST

T1 = 0.5  # RFC 3261 retransmission interval, seconds


def _sip_status(
    host: str, port: int, build: Callable[[int, str], bytes], timeout: float, *, source_port: int = 0
) -> int:
    """Send one non-INVITE request over UDP, retransmitting like RFC 3261; its final status code."""
    branch = f"z9hG4bK-sipkit-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, source_port))
        request = build(sock.getsockname()[1], branch)
        deadline = time.monotonic() + timeout
        interval = T1
        while time.monotonic() < deadline:
            sock.sendto(request, (host, port))
            resend_at = min(time.monotonic() + interval, deadline)
            interval = min(interval * 2, 4.0)
            while (left := resend_at - time.monotonic()) > 0:
                sock.settimeout(left)
                try:
                    data = sock.recv(65535)
                except TimeoutError:
                    break
                status = _final_status(data, branch)
                if status is not None:
                    return status
    raise TimeoutError(f"no final answer from {host}:{port} in {timeout} s")


_STATUS_LINE = re.compile(rb"^SIP/2\.0 (\d{3}) ")


def _final_status(data: bytes, branch: str) -> int | None:
    """The status of a final response to our request (``branch``); None for others and for 1xx."""
    match = _STATUS_LINE.match(data)
    if match is None or branch.encode() not in data:
        return None
    status = int(match.group(1))
    return status if status >= 200 else None  # 1xx are provisional


def sip_register(
    proxy_host: str,
    proxy_port: int,
    user: str,
    contact_host: str,
    contact_port: int,
    expires: int = 300,
    domain: str | None = None,
    *,
    timeout: float = 4.0,
) -> int:
    """REGISTER ``user`` at a registrar with the given contact (a SIPp UAS does not register itself).

    Sent from an ephemeral port of 127.0.0.1; returns the final status (200, 403, ...). ``expires=0``
    removes the registration.
    """
    realm = domain or proxy_host
    call_id = f"{uuid.uuid4().hex}@sipkit"

    def build(local_port: int, branch: str) -> bytes:
        return (
            f"REGISTER sip:{realm} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {HOST}:{local_port};branch={branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:{user}@{realm}>;tag={uuid.uuid4().hex[:10]}\r\n"
            f"To: <sip:{user}@{realm}>\r\n"
            f"Call-ID: {call_id}\r\n"
            "CSeq: 1 REGISTER\r\n"
            f"Contact: <sip:{user}@{contact_host}:{contact_port}>\r\n"
            f"Expires: {expires}\r\n"
            "User-Agent: sipkit\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()

    return _sip_status(proxy_host, proxy_port, build, timeout)


def sip_options(host: str, port: int, *, timeout: float = 2.0) -> int:
    """An out-of-dialog OPTIONS (a keepalive); the final status it gets."""
    return sip_request("OPTIONS", host, port, timeout=timeout)


def sip_request(
    method: str, host: str, port: int, *, request_uri: str | None = None, timeout: float = 2.0
) -> int:
    """An out-of-dialog non-INVITE request without a body; the final status it gets."""
    uri = request_uri or f"sip:{host}:{port}"

    def build(local_port: int, branch: str) -> bytes:
        return (
            f"{method} {uri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {HOST}:{local_port};branch={branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:sipkit@{HOST}>;tag={uuid.uuid4().hex[:10]}\r\n"
            f"To: <{uri}>\r\n"
            f"Call-ID: {uuid.uuid4().hex}@sipkit\r\n"
            f"CSeq: 1 {method}\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()

    return _sip_status(host, port, build, timeout)
