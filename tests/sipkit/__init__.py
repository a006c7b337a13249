"""SIP test kit for the tests and the benchmark: tones, REGISTER and OPTIONS from Python, SIPp phones and
callers, and a Kamailio front door on free loopback ports. A helper package, not a pytest plugin.

- ``ports``: free loopback UDP ports, ``poll_until``.
- ``audio``: G.711 u-law, the caller's and the agent's tones, a tone's level in samples.
- ``sip``: REGISTER, OPTIONS and other non-INVITE requests from Python.
- ``logs``: the SIPp scenarios' per-call log lines and SIPp's statistics, parsed.
- ``sipp``: ``SippAgent`` and ``SippCaller`` (SIPp processes running the scenarios in telephony/sipp/).
- ``kamailio``: ``KamailioPeer``, the front door on a free port.

Import from the package (``from tests.sipkit import SippAgent``): it re-exports every public name.
"""

from tests.peers import HOST
from tests.sipkit.audio import (
    AGENT_TONE_HZ,
    CALLER_TONE_HZ,
    SAMPLE_RATE,
    TONE_AMPLITUDE,
    tone_level,
    tone_ul,
    ulaw_decode,
    ulaw_encode,
)
from tests.sipkit.kamailio import DOMAIN, LINE_NUMBER, KamailioPeer
from tests.sipkit.logs import AgentCall, CallRecord, agent_log_parse, caller_log_parse, sipp_stats_read
from tests.sipkit.ports import free_udp_port, free_udp_ports, poll_until, udp_port_bound
from tests.sipkit.sip import T1, sip_options, sip_register, sip_request
from tests.sipkit.sipp import (
    CALLER_NUMBER,
    MEDIA_PORTS,
    SCENARIO_DIR,
    SippAgent,
    SippCaller,
    SippResult,
    sipp_binary,
)

__all__ = [
    "AGENT_TONE_HZ",
    "CALLER_NUMBER",
    "CALLER_TONE_HZ",
    "DOMAIN",
    "HOST",
    "LINE_NUMBER",
    "MEDIA_PORTS",
    "SAMPLE_RATE",
    "SCENARIO_DIR",
    "T1",
    "TONE_AMPLITUDE",
    "AgentCall",
    "CallRecord",
    "KamailioPeer",
    "SippAgent",
    "SippCaller",
    "SippResult",
    "agent_log_parse",
    "caller_log_parse",
    "free_udp_port",
    "free_udp_ports",
    "poll_until",
    "sip_options",
    "sip_register",
    "sip_request",
    "sipp_binary",
    "sipp_stats_read",
    "tone_level",
    "tone_ul",
    "udp_port_bound",
    "ulaw_decode",
    "ulaw_encode",
]
