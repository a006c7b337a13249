"""Free loopback UDP ports for the kit's peers, and waiting for a condition (a peer ready, a state)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from tests.peers import HOST, PeerError


def free_udp_port(host: str = HOST) -> int:
    """A UDP port on ``host`` that nobody has bound right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def free_udp_ports(count: int, host: str = HOST) -> int:
    """The first of ``count`` consecutive free UDP ports, starting at an even one (RTP's habit)."""
    for _ in range(200):
        base = free_udp_port(host) & ~1
        if base + count > 65535:
            continue
        if all(not udp_port_bound(base + offset, host) for offset in range(count)):
            return base
    raise PeerError(f"no {count} consecutive free UDP ports on {host}")


def udp_port_bound(port: int, host: str = HOST) -> bool:
    """True when some process holds UDP ``host:port`` (we cannot bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False


def poll_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Call ``condition`` until it is true or ``timeout`` seconds passed; its last answer."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True
