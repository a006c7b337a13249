"""What a party hears: RTP sent to one UDP port on loopback, captured with a raw socket (root, Linux).

The recording proves what the line received; this proves what it sent: the caller's RTP port should
carry the agent's tone and the agent's port the caller's (TESTBED.md §B, "audio proof technique").
Loopback shows each packet twice (outgoing and incoming); only the outgoing copy is kept.
"""

from __future__ import annotations

import socket
import struct
import threading

import numpy as np
import numpy.typing as npt

from tests.sipkit import ulaw_decode

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
ETH_HEADER = 14
IPPROTO_UDP = 17
RTP_HEADER = 12
PCMU = 0


class RtpSniffer:
    """Collects the PCMU payload of RTP packets sent to `port` on loopback, until stopped."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.payload = bytearray()
        self.packets = 0
        self._socket = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self._socket.bind(("lo", 0))
        self._socket.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rtp-sniff-{port}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                frame, address = self._socket.recvfrom(65535)
            except TimeoutError:
                continue
            if address[2] == PACKET_OUTGOING:
                self._take(frame)

    def _take(self, frame: bytes) -> None:
        ip = frame[ETH_HEADER:]
        if len(ip) < 20 or ip[9] != IPPROTO_UDP:
            return
        udp = ip[(ip[0] & 0x0F) * 4 :]
        (destination,) = struct.unpack("!H", udp[2:4])
        rtp = udp[8:]
        if destination != self.port or len(rtp) <= RTP_HEADER or rtp[1] & 0x7F != PCMU:
            return
        self.payload += rtp[RTP_HEADER:]
        self.packets += 1

    def stop(self) -> npt.NDArray[np.int16]:
        """Stop capturing; the audio heard, as 16-bit samples at 8 kHz."""
        self._stop.set()
        self._thread.join(timeout=2)
        self._socket.close()
        return ulaw_decode(bytes(self.payload))
