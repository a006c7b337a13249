"""The line's front door: Kamailio's configuration, rendered from settings, and the Kamailio process.

Kamailio listens on the public SIP address (CC_SIP_BIND, UDP). It is the registrar for the agents'
phones, spreads callers' INVITEs over the call-handler processes ("workers", pjsua2, one UDP port
each) with the ``dispatcher`` module, and routes the workers' calls to the agents' registered phones.
It never record-routes: in-dialog requests go end to end, so restarting Kamailio (a new dispatcher
list, say) does not break the calls in progress.

Pure rendering (``kamailio_config_render``, which fills in ``kamailio.cfg.in`` beside this module, and
``dispatcher_list_render``) plus process control (``KamailioProcess``) and reads over Kamailio's control
socket with ``kamcmd`` (``registrations_read``, ``dispatcher_state``). No Django here: the caller passes
a ``FrontDoorConfig``.
"""

from __future__ import annotations

import ctypes
import ipaddress
import os
import re
import shutil
import signal
import string
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

CONFIG_NAME = "kamailio.cfg"
DISPATCHER_LIST_NAME = "dispatcher.list"
CTL_SOCKET_NAME = "kamailio_ctl"
DISPATCHER_SET = 1
_WORKER = re.compile(r"^(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>\d{1,5})$")
_TOKEN = re.compile(r"^[A-Za-z0-9.\-_]+$")  # domain, host, line number: nothing that could break a quote
_GATEWAY = re.compile(r"^sip:[A-Za-z0-9.\-_\[\]:;=]+$")  # a host[:port][;params], no user part
CONFIG_TEMPLATE_PATH = Path(__file__).with_name("kamailio.cfg.in")


class KamailioError(RuntimeError):
    """Kamailio refused its configuration, did not start, or did not answer on its control socket."""


@dataclass(frozen=True)
class FrontDoorConfig:
    """What the front door needs to know; ``workers`` are the call handlers' ``host:port`` (UDP).

    ``agent_networks`` are the source networks allowed to REGISTER (CIDR). ``gateway_uri``, when set,
    receives the workers' calls to numbers no phone is registered for (a PSTN gateway, say
    ``sip:10.0.0.5:5060``, as ``sip:<number>@10.0.0.5:5060``); without it such calls get 404.
    """

    listen_host: str
    listen_port: int
    domain: str
    line_number: str
    workers: tuple[str, ...]
    run_dir: Path
    agent_networks: tuple[str, ...] = ("127.0.0.0/8",)
    gateway_uri: str = ""
    probe_interval_s: int = 2  # OPTIONS to every worker this often; a silent one is taken out of rotation
    worker_timeout_ms: int = 3000  # no reply at all from a worker within this: try the next one
    ring_timeout_s: int = 300  # longest a caller's INVITE may stay unanswered (queue with early media)
    children: int = 4  # UDP receiver processes

    def __post_init__(self) -> None:
        """Refuse what Kamailio could not use, naming the field: settings are checked at start."""
        for name in ("listen_host", "domain", "line_number"):
            if not _TOKEN.match(getattr(self, name)):
                raise ValueError(f"{name}: {getattr(self, name)!r} is not a plain host name or number")
        if not 0 < self.listen_port < 65536:  # noqa: PLR2004 -- the UDP port range
            raise ValueError(f"listen_port: {self.listen_port} is not a port")
        _workers_check(self.workers)
        _networks_check(self.agent_networks)
        if self.gateway_uri and not _GATEWAY.match(self.gateway_uri):
            raise ValueError(f"gateway_uri: {self.gateway_uri!r} is not a sip: URI")
        if len(str(self.ctl_socket).encode()) > 100:  # noqa: PLR2004 -- sun_path holds 108 bytes
            raise ValueError(f"run_dir: {self.run_dir} is too long for a unix socket path inside it")
        if self.probe_interval_s < 1 or self.worker_timeout_ms < 100 or self.ring_timeout_s < 10:  # noqa: PLR2004
            raise ValueError("timers: probe_interval_s >= 1, worker_timeout_ms >= 100, ring_timeout_s >= 10")
        if self.children < 1:
            raise ValueError(f"children: {self.children} UDP receiver processes")

    @property
    def config_path(self) -> Path:
        return self.run_dir / CONFIG_NAME

    @property
    def dispatcher_list_path(self) -> Path:
        return self.run_dir / DISPATCHER_LIST_NAME

    @property
    def ctl_socket(self) -> Path:
        return self.run_dir / CTL_SOCKET_NAME


def _workers_check(workers: tuple[str, ...]) -> None:
    if not workers:
        raise ValueError("workers: the front door needs at least one call handler (host:port)")
    for worker in workers:
        match = _WORKER.match(worker)
        if match is None or not 0 < int(match["port"]) < 65536:  # noqa: PLR2004 -- the UDP port range
            raise ValueError(f"workers: {worker!r} is not host:port")


def _networks_check(networks: tuple[str, ...]) -> None:
    if not networks:
        raise ValueError("agent_networks: empty, so no phone could register")
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as error:
            raise ValueError(f"agent_networks: {error}") from error


@dataclass(frozen=True)
class Registration:
    """One registered contact of an agent's phone, as Kamailio's location table holds it."""

    aor_user: str
    contact_uri: str
    expires_at: datetime


# --- rendering ------------------------------------------------------------------------------------


def dispatcher_list_render(cfg: FrontDoorConfig) -> str:
    """The dispatcher list: one line per worker in set 1 (``setid destination flags priority``)."""
    lines = ["# setid destination flags priority -- rendered by telephony/kamailio.py"]
    lines += [f"{DISPATCHER_SET} sip:{worker} 0 0" for worker in cfg.workers]
    return "\n".join(lines) + "\n"


def _subnet_test(networks: tuple[str, ...]) -> str:
    tests = [f'is_in_subnet("$si", "{ipaddress.ip_network(n, strict=False)}")' for n in networks]
    return " || ".join(tests)


class _ConfigTemplate(string.Template):
    """``%%name`` placeholders (``%%%%`` for a literal ``%%``). Kamailio's config is full of ``$``
    pseudo-variables and braces, so neither ``$name`` nor ``{name}`` could mark ours without escaping."""

    delimiter = "%%"


# Read once, at import: a missing or broken template fails the process at start, not at the first render.
_CONFIG_TEMPLATE = _ConfigTemplate(CONFIG_TEMPLATE_PATH.read_text(encoding="utf-8"))


def kamailio_config_render(cfg: FrontDoorConfig) -> str:
    """The whole kamailio.cfg for this front door (Kamailio 5.6, modules from the Debian package)."""
    if cfg.gateway_uri:
        # The number goes to the gateway as the user part of a Request-URI at the gateway.
        gateway = cfg.gateway_uri.partition(":")[2]
        no_phone = (
            'xlog("L_INFO", "$rU is not registered: INVITE $ci to the gateway\\n");\n'
            f'        $ru = "sip:" + $rU + "@{gateway}";\n'
            "        route(RELAY);"
        )
    else:
        no_phone = 'sl_send_reply("404", "Not Found");\n        exit;'
    # substitute(), not safe_substitute(): a placeholder left unfilled is a KeyError, not a broken config.
    return _CONFIG_TEMPLATE.substitute(
        listen_host=cfg.listen_host,
        listen_port=cfg.listen_port,
        domain=cfg.domain,
        line=cfg.line_number,
        children=cfg.children,
        max_branches=min(MAX_BRANCHES_LIMIT, max(DEFAULT_BRANCHES, len(cfg.workers) + 1)),
        ctl_socket=cfg.ctl_socket,
        dispatcher_list=cfg.dispatcher_list_path,
        probe_interval_s=cfg.probe_interval_s,
        worker_timeout_ms=cfg.worker_timeout_ms,
        ring_timeout_ms=cfg.ring_timeout_s * 1000,
        # tm ends an INVITE transaction after this however it is going; it must outlast the ring timeout.
        max_inv_lifetime_ms=(cfg.ring_timeout_s + 30) * 1000,
        agent_networks=_subnet_test(cfg.agent_networks),
        no_phone=no_phone,
        dispatcher_set=DISPATCHER_SET,
    )


DEFAULT_BRANCHES, MAX_BRANCHES_LIMIT = 12, 31  # Kamailio 5.6's default and ceiling (tm branches)


def kamailio_config_write(cfg: FrontDoorConfig) -> Path:
    """Write kamailio.cfg and dispatcher.list into ``cfg.run_dir`` (created); returns the config path."""
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    _write_atomically(cfg.dispatcher_list_path, dispatcher_list_render(cfg))
    _write_atomically(cfg.config_path, kamailio_config_render(cfg))
    return cfg.config_path


def _write_atomically(path: Path, text: str) -> None:
    """A running Kamailio re-reads dispatcher.list on reload: it must never see half a file."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


# --- process control ------------------------------------------------------------------------------


def kamailio_binary() -> str:
    found = shutil.which("kamailio") or shutil.which("kamailio", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise KamailioError("kamailio was not found (Debian package: kamailio)")
    return found


def kamcmd_binary() -> str:
    found = shutil.which("kamcmd") or shutil.which("kamcmd", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise KamailioError("kamcmd was not found (Debian package: kamailio)")
    return found


def kamailio_config_check(path: Path) -> None:
    """Run ``kamailio -c -f path``; raise KamailioError with Kamailio's own complaint if it refuses."""
    result = subprocess.run(  # noqa: S603 -- our binary, our file
        [kamailio_binary(), "-c", "-f", str(path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        output = (result.stderr + result.stdout).strip().splitlines()
        errors = [line for line in output if "ERROR" in line or "CRITICAL" in line] or output[-10:]
        raise KamailioError(f"kamailio refused {path} ({result.returncode}):\n" + "\n".join(errors))


def kamailio_argv(config_path: Path, run_dir: Path) -> list[str]:
    """Foreground (-DD) with its worker processes, logging to stderr (-E), runtime files in run_dir."""
    return [kamailio_binary(), "-f", str(config_path), "-DD", "-E", "-Y", str(run_dir)]


def kamcmd(ctl_socket: Path, *command: str, timeout: float = 5.0) -> str:
    """One RPC over Kamailio's control socket; its text answer, or KamailioError."""
    try:
        result = subprocess.run(  # noqa: S603 -- our binary, arguments from our code
            [kamcmd_binary(), "-s", f"unix:{ctl_socket}", *command],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise KamailioError(f"kamcmd {' '.join(command)}: no answer in {timeout} s") from error
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip()
        raise KamailioError(f"kamcmd {' '.join(command)} failed ({result.returncode}): {message}")
    return result.stdout


def ctl_answers(ctl_socket: Path) -> bool:
    """True once Kamailio answers on its control socket (its SIP socket is bound by then)."""
    if not ctl_socket.exists():
        return False
    try:
        kamcmd(ctl_socket, "core.uptime", timeout=2.0)
    except KamailioError:
        return False
    return True


def die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn: Linux sends the child SIGTERM when the process that started it dies, even by SIGKILL
    (honcho kills `manage.py telephony` 5 s after asking it to stop), so no Kamailio or call handler
    outlives its supervisor. The supervisor starts its children from its main thread, as this requires."""
    if os.uname().sysname != "Linux":
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1

    def set_parent_death_signal() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)

    return set_parent_death_signal


class KamailioProcess:
    """One Kamailio for a written configuration: started in the foreground, stopped with SIGTERM.

    Its output goes to ``log_path`` (appended), or to our stderr when that is None. The process gets
    its own session, so a stop that times out can kill its worker processes with it.
    """

    def __init__(self, cfg: FrontDoorConfig, *, log_path: Path | None = None) -> None:
        self.cfg = cfg
        self.log_path = log_path
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def ctl_socket(self) -> Path:
        return self.cfg.ctl_socket

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    @property
    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def start(self, *, ready_timeout: float = 15.0) -> None:
        if self.running:
            raise KamailioError(f"Kamailio is already running (pid {self.pid})")
        config_path = kamailio_config_write(self.cfg)
        kamailio_config_check(config_path)
        self.ctl_socket.unlink(missing_ok=True)  # a stale socket from a killed run would look ready
        log: IO[bytes] | None = self.log_path.open("ab") if self.log_path else None
        try:
            self._popen = subprocess.Popen(  # noqa: S603 -- our binary, our config
                kamailio_argv(config_path, self.cfg.run_dir),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT if log else None,
                start_new_session=True,
                preexec_fn=die_with_parent(),  # noqa: PLW1509 -- only prctl, no locks
            )
        finally:
            if log is not None:
                log.close()
        self._wait_ready(ready_timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        popen = self._popen
        while popen is not None and not ctl_answers(self.ctl_socket):
            code = popen.poll()
            if code is not None:
                self._popen = None
                raise KamailioError(f"Kamailio exited ({code}) before it was ready{self._log_hint()}")
            if time.monotonic() > deadline:
                self.stop()
                raise KamailioError(f"Kamailio not ready after {timeout:.0f} s{self._log_hint()}")
            time.sleep(0.02)

    def _log_hint(self) -> str:
        return f"; see {self.log_path}" if self.log_path else ""

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the main process (it stops its children); SIGKILL to the group if it hangs."""
        if self._popen is None:
            return
        if self._popen.poll() is None:
            self._popen.send_signal(signal.SIGTERM)
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self._popen.pid, signal.SIGKILL)
                self._popen.wait()
        self._popen = None

    def reload_dispatcher(self) -> None:
        """Re-read dispatcher.list (rewrite it with ``kamailio_config_write`` first)."""
        kamcmd(self.ctl_socket, "dispatcher.reload")


# --- reads over the control socket ----------------------------------------------------------------


def _rpc_tree(text: str) -> list[tuple[str, object]]:
    """kamcmd's answer as nested (key, value) pairs; a value is a string or another such list.

    kamcmd prints an RPC structure as ``{`` ... ``}`` blocks of ``key: value`` lines (the same key may
    repeat, e.g. one ``Contact`` per contact), which is why this is a list and not a dict.
    """
    stack: list[list[tuple[str, object]]] = [[]]
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line == "}":
            if len(stack) > 1:
                stack.pop()
            continue
        if line == "{":
            block: list[tuple[str, object]] = []
            stack[-1].append(("", block))
            stack.append(block)
            continue
        key, _, value = line.partition(":")
        value = value.strip()
        if value == "{":
            block = []
            stack[-1].append((key.strip(), block))
            stack.append(block)
        else:
            stack[-1].append((key.strip(), value))
    return stack[0]


def _blocks(tree: list[tuple[str, object]], key: str) -> Iterator[list[tuple[str, object]]]:
    """Every block named ``key`` at any depth."""
    for name, value in tree:
        if isinstance(value, list):
            if name == key:
                yield value
            yield from _blocks(value, key)


def _field(block: list[tuple[str, object]], key: str) -> str:
    for name, value in block:
        if name == key and isinstance(value, str):
            return value
    return ""


def registrations_read(ctl_socket: Path) -> list[Registration]:
    """The agents' registered phones, from ``kamcmd ul.dump``; ``expires_at`` is computed from its
    remaining seconds at the time of the read. Ordered by extension, then contact."""
    read_at = datetime.now(tz=UTC)
    tree = _rpc_tree(kamcmd(ctl_socket, "ul.dump"))
    registrations = []
    for info in _blocks(tree, "Info"):
        aor = _field(info, "AoR")
        for contact in _blocks(info, "Contact"):
            expires = _field(contact, "Expires")
            if not expires.isdigit():  # "permanent" or "deleted": not a phone's registration
                continue
            registrations.append(
                Registration(
                    aor_user=aor,
                    contact_uri=_field(contact, "Address"),
                    expires_at=read_at + timedelta(seconds=int(expires)),
                )
            )
    return sorted(registrations, key=lambda r: (r.aor_user, r.contact_uri))


def dispatcher_state(ctl_socket: Path) -> dict[str, str]:
    """Each worker (``host:port``) as the dispatcher sees it: ``active`` (gets calls), ``probing``
    (a keepalive just failed, still gets calls) or ``inactive`` (skipped until it answers OPTIONS)."""
    tree = _rpc_tree(kamcmd(ctl_socket, "dispatcher.list"))
    states = {}
    for dest in _blocks(tree, "DEST"):
        uri = _field(dest, "URI")
        flags = _field(dest, "FLAGS")
        worker = uri.removeprefix("sip:").split(";", 1)[0]
        # FLAGS is two letters: A(ctive), T(rying), I(nactive) or D(isabled), then P(robing) or X.
        states[worker] = {"A": "active", "T": "probing"}.get(flags[:1], "inactive")
    return states
