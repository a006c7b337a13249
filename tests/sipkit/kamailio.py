"""The front door as a test peer: ``KamailioPeer`` runs telephony/kamailio.py's configuration on a free
loopback UDP port, for the line ``LINE_NUMBER`` at ``DOMAIN``."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Sequence
from pathlib import Path

from telephony.kamailio import (
    FrontDoorConfig,
    Registration,
    ctl_answers,
    dispatcher_state,
    kamailio_argv,
    kamailio_config_check,
    kamailio_config_write,
    registrations_read,
)
from tests.peers import HOST, ManagedProcess
from tests.sipkit.logs import log_read
from tests.sipkit.ports import free_udp_port, poll_until

LINE_NUMBER = "67094368"
DOMAIN = "kase.test"


class KamailioPeer:
    """The front door (telephony/kamailio.py's configuration) on a free loopback UDP port.

    Its runtime directory is a short temporary one (a unix socket path must stay under 108 bytes,
    which pytest's tmp_path does not promise); ``stop()`` deletes it. Test defaults probe the
    workers every second and give up on a silent one after one second.
    """

    def __init__(
        self,
        workers: Sequence[str],
        *,
        agent_networks: tuple[str, ...] = ("127.0.0.0/8",),
        gateway_uri: str = "",
        line_number: str = LINE_NUMBER,
        domain: str = DOMAIN,
        probe_interval_s: int = 1,
        worker_timeout_ms: int = 1000,
    ) -> None:
        self.run_dir = Path(tempfile.mkdtemp(prefix="cc-sla-kamailio-"))
        self.cfg = FrontDoorConfig(
            listen_host=HOST,
            listen_port=free_udp_port(),
            domain=domain,
            line_number=line_number,
            workers=tuple(workers),
            run_dir=self.run_dir,
            agent_networks=agent_networks,
            gateway_uri=gateway_uri,
            probe_interval_s=probe_interval_s,
            worker_timeout_ms=worker_timeout_ms,
            children=2,
        )
        self.process = ManagedProcess(
            name=f"Kamailio on {HOST}:{self.cfg.listen_port}",
            argv=kamailio_argv(self.cfg.config_path, self.run_dir),
            log_path=self.run_dir / "kamailio.log",
            ready=lambda: ctl_answers(self.cfg.ctl_socket),
            cwd=self.run_dir,
            ready_timeout=15,
        )

    @property
    def host(self) -> str:
        return self.cfg.listen_host

    @property
    def port(self) -> int:
        return self.cfg.listen_port

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def ctl_socket(self) -> Path:
        return self.cfg.ctl_socket

    def start(self) -> KamailioPeer:
        try:
            kamailio_config_check(kamailio_config_write(self.cfg))
            self.process.start()
        except BaseException:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            raise
        return self

    def stop(self) -> None:
        """SIGTERM (Kamailio stops its children); after 5 s, SIGKILL to its whole process group."""
        pid = self.process.pid
        self.process.stop(timeout=5)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)  # its own session: only its worker processes are left
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def registrations(self) -> list[Registration]:
        return registrations_read(self.ctl_socket)

    def dispatcher_state(self) -> dict[str, str]:
        return dispatcher_state(self.ctl_socket)

    def wait_worker_state(self, worker: str, state: str, timeout: float = 10.0) -> bool:
        return poll_until(lambda: self.dispatcher_state().get(worker) == state, timeout, interval=0.1)

    def log(self) -> str:
        return log_read(self.process.log_path)

    def __enter__(self) -> KamailioPeer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
