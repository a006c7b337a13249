"""Real peer servers for the test suite: a pytest plugin, loaded with ``-p tests.peers`` (pyproject addopts).

PostgreSQL: a throw-away cluster in a temporary directory on a free loopback port. It is started in
``pytest_load_initial_conftests``, before pytest-django imports the settings (they read DATABASE_URL at
import), and stopped in ``pytest_unconfigure``. It is not started when the caller set DATABASE_URL, or
with CC_TEST_DATABASE=sqlite (the smoke run).

Redis: started with PostgreSQL (REDIS_URL points at it, so Celery queues there); the session fixture
``redis_server`` returns it, and ``.stop()`` and ``.start()`` restart it on the same port.

``free_port`` and ``ManagedProcess`` are the small building blocks later peers (Dovecot, SMTP, SIPp) reuse.
A test never depends on a server left running: every peer here is started by this run and stopped by PID.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HOST = "127.0.0.1"
SETUP_HINT = "Run scripts/test, which installs the missing Debian packages, or install them with apt-get."


class PeerError(RuntimeError):
    """A peer server did not start, or did not become ready in time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int, host: str = HOST) -> bool:
    """True once something accepts TCP connections on host:port: the simplest readiness check."""
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class ManagedProcess:
    """One peer server process: started, waited for, stopped by its PID, with its log kept for errors.

    ``ready`` must return False (not raise) while the server is still starting. ``user`` runs the
    process as that OS user when we are root (PostgreSQL refuses to run as root); the process is
    started directly under that uid, so the PID we hold is the server's own, not a wrapper's
    (``runuser`` forks and keeps a parent that turns our signal into SIGTERM, then SIGKILL after 2 s).
    On Linux the kernel sends ``stop_signal`` to the server when the thread that started it ends, so a
    pytest killed before it could stop its peers (SIGKILL, a CI timeout) leaves none running; start
    peers from the main thread (fixtures do).
    """

    name: str
    argv: Sequence[str]
    log_path: Path
    ready: Callable[[], bool]
    cwd: Path | None = None
    env: Mapping[str, str] | None = None
    user: str | None = None
    stop_signal: int = signal.SIGTERM
    ready_timeout: float = 30.0
    _popen: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    @property
    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def start(self) -> None:
        if self.running:
            raise PeerError(f"{self.name} is already running (pid {self.pid})")
        with self.log_path.open("ab") as log:
            # A new session: Ctrl-C in the terminal reaches pytest only, which stops the peers in order.
            self._popen = subprocess.Popen(
                list(self.argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=dict(self.env) if self.env is not None else None,
                start_new_session=True,
                preexec_fn=_die_with_parent(self.stop_signal),  # noqa: PLW1509 -- only prctl, no locks
                **_as_user(self.user),
            )
        self.wait_ready()

    def wait_ready(self) -> None:
        started_at = time.monotonic()
        while not self.ready():
            assert self._popen is not None
            code = self._popen.poll()
            if code is not None:
                raise PeerError(f"{self.name} exited ({code}) before it was ready.\n{self.log_tail()}")
            if time.monotonic() - started_at > self.ready_timeout:
                self.stop()
                raise PeerError(f"{self.name} not ready after {self.ready_timeout:.0f} s.\n{self.log_tail()}")
            time.sleep(0.02)

    def stop(self, timeout: float = 15.0, sig: int | None = None) -> None:
        """Signal the process (``stop_signal`` unless ``sig``), wait, and SIGKILL it if it hangs."""
        if self._popen is None:
            return
        if self._popen.poll() is None:
            self._popen.send_signal(self.stop_signal if sig is None else sig)
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self._popen.kill()
                self._popen.wait()
        self._popen = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return f"(no log at {self.log_path})"
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- last lines of {self.log_path} ---\n{tail}"


def _die_with_parent(sig: int) -> Callable[[], None] | None:
    """A preexec_fn asking Linux to send ``sig`` to the child when the forking thread exits."""
    if os.uname().sysname != "Linux":
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1

    def set_parent_death_signal() -> None:
        libc.prctl(pr_set_pdeathsig, sig)  # after the uid change, which would clear it

    return set_parent_death_signal


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _as_user(user: str | None) -> dict[str, Any]:
    if user is None or os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(user)
    except KeyError as error:
        raise PeerError(f"OS user {user!r} does not exist. {SETUP_HINT}") from error
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _chown_to(path: Path, user: str | None) -> None:
    if user is not None and os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


# --- PostgreSQL -----------------------------------------------------------------------------------

PG_USER = "postgres"  # both the OS user the server runs as (when we are root) and the superuser role
PG_DIR_PREFIX = "cc-sla-pg-"
PG_OWNER_FILE = "pytest.pid"


def postgres_bin_dir() -> Path | None:
    """The newest Debian PostgreSQL (/usr/lib/postgresql/<major>/bin), else initdb/postgres on PATH."""
    found = [
        path
        for path in Path("/usr/lib/postgresql").glob("*/bin")
        if path.parent.name.isdigit() and (path / "initdb").exists() and (path / "postgres").exists()
    ]
    if found:
        return max(found, key=lambda path: int(path.parent.name))
    initdb = shutil.which("initdb")
    if initdb and shutil.which("postgres"):
        return Path(initdb).parent
    return None


def _postgres_accepts(port: int) -> bool:
    import psycopg

    try:
        with psycopg.connect(host=HOST, port=port, user=PG_USER, dbname="postgres", connect_timeout=1):
            return True
    except psycopg.OperationalError:
        return False


@dataclass
class PostgresCluster:
    root: Path
    port: int
    process: ManagedProcess

    @property
    def url(self) -> str:
        # No database is created: pytest-django creates test_cc_sla through the "postgres" database.
        return f"postgres://{PG_USER}@{HOST}:{self.port}/cc_sla"

    def stop(self) -> None:
        self.process.stop(timeout=30)  # SIGINT: fast shutdown, rolls back open transactions
        shutil.rmtree(self.root, ignore_errors=True)


def postgres_sweep_stale() -> None:
    """Delete cluster folders (~40 MB each) left by killed runs: their pytest and their server are gone."""
    for root in Path(tempfile.gettempdir()).glob(f"{PG_DIR_PREFIX}*"):
        try:
            owner = int((root / PG_OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # not ours, or not readable: leave it alone
        if _pid_alive(owner) or _pid_alive(_postmaster_pid(root / "data")):
            continue
        shutil.rmtree(root, ignore_errors=True)


def _postmaster_pid(data: Path) -> int:
    """The server's PID from postmaster.pid, or 0 when there is none (the server shut down)."""
    try:
        first_line = (data / "postmaster.pid").read_text().partition("\n")[0]
    except OSError:
        return 0
    return int(first_line) if first_line.isdigit() else 0


def postgres_start() -> PostgresCluster:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise PeerError(f"PostgreSQL server binaries (initdb, postgres) were not found. {SETUP_HINT}")
    postgres_sweep_stale()
    user = PG_USER if os.geteuid() == 0 else None  # initdb refuses root
    root = Path(tempfile.mkdtemp(prefix=PG_DIR_PREFIX))
    try:
        (root / PG_OWNER_FILE).write_text(str(os.getpid()))
        _chown_to(root, user)
        data = root / "data"
        log_path = root / "postgres.log"
        initdb_argv = [str(bin_dir / "initdb"), "-D", str(data), "-U", PG_USER, "-A", "trust"]
        initdb = subprocess.run(
            [*initdb_argv, "-E", "UTF8", "--no-sync"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            **_as_user(user),
        )
        if initdb.returncode != 0:
            raise PeerError(f"initdb failed ({initdb.returncode}):\n{initdb.stdout}\n{initdb.stderr}")
        port = free_port()
        argv = [str(bin_dir / "postgres"), "-D", str(data), "-k", str(root), "-h", HOST, "-p", str(port)]
        # A throw-away cluster: durability buys nothing and costs seconds per test run.
        for setting in ("fsync=off", "synchronous_commit=off", "full_page_writes=off"):
            argv += ["-c", setting]
        process = ManagedProcess(
            name="PostgreSQL",
            argv=argv,
            log_path=log_path,
            ready=lambda: _postgres_accepts(port),
            user=user,
            stop_signal=signal.SIGINT,
        )
        process.start()
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return PostgresCluster(root=root, port=port, process=process)


_cluster_key = pytest.StashKey[PostgresCluster]()
_report_key = pytest.StashKey[str]()


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    # tryfirst: pytest-django imports config.settings in this same hook, and the settings read DATABASE_URL.
    os.environ.setdefault("DJANGO_DEBUG", "true")  # settings refuse to load without a secret otherwise
    options = parser.parse_known_args(args)
    if options.help or options.version:
        return
    try:
        redis_start_for_session(early_config)
    except PeerError as error:
        raise pytest.UsageError(f"the Redis for the tests did not start: {error}") from error
    if os.environ.get("CC_TEST_DATABASE", "").lower() == "sqlite":
        # Forced: no DATABASE_URL (exported, or in a developer's .env) turns the smoke run into another DB.
        os.environ["DATABASE_URL"] = "sqlite://:memory:"
        return
    if os.environ.get("DATABASE_URL"):
        return  # the caller chose the database
    started_at = time.monotonic()
    try:
        cluster = postgres_start()
    except PeerError as error:
        raise pytest.UsageError(f"the throw-away PostgreSQL for the tests did not start: {error}") from error
    # pytest_unconfigure is not reached if a later start-up step fails (a settings error, say).
    atexit.register(cluster.stop)
    early_config.stash[_cluster_key] = cluster
    os.environ["DATABASE_URL"] = cluster.url
    early_config.stash[_report_key] = (
        f"peers: PostgreSQL {cluster.url} (pid {cluster.process.pid}, "
        f"ready in {time.monotonic() - started_at:.2f} s, dir {cluster.root})"
    )


def pytest_report_header(config: pytest.Config) -> str | None:
    return config.stash.get(_report_key, None)


def pytest_unconfigure(config: pytest.Config) -> None:
    cluster = config.stash.get(_cluster_key, None)
    if cluster is not None:
        cluster.stop()
        atexit.unregister(cluster.stop)
        del config.stash[_cluster_key]


def database_url() -> str:
    """The test database's URL, for the product's processes a test starts (they share its data)."""
    from django.conf import settings
    from django.db import connection

    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        pytest.fail("this test needs the PostgreSQL test database", pytrace=False)
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}"


# --- Redis ----------------------------------------------------------------------------------------


class RedisServer:
    """A redis-server on 127.0.0.1:<port> without persistence; ``stop()``/``start()`` keep the port."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise PeerError(f"redis-server was not found. {SETUP_HINT}")
        self.port = port or free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        # No persistence: every test session starts from an empty Redis.
        argv = [binary, "--bind", HOST, "--port", str(self.port), "--dir", str(directory)]
        argv += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        self.process = ManagedProcess(
            name="Redis",
            argv=argv,
            log_path=directory / "redis.log",
            ready=self.ping,
            cwd=directory,
        )

    def ping(self) -> bool:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # No retries: redis-py's default backoff would turn each "not up yet" into seconds.
        client = redis.Redis(
            host=HOST,
            port=self.port,
            socket_connect_timeout=0.5,
            socket_timeout=0.5,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
            return False
        finally:
            client.close()

    def start(self) -> None:
        self.process.start()

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server (SIGTERM; ``kill=True`` sends SIGKILL, like a crash)."""
        self.process.stop(sig=signal.SIGKILL if kill else None)


_redis_key = pytest.StashKey[RedisServer]()
REDIS_DIR_PREFIX = "cc-sla-redis-"


def redis_start_for_session(config: pytest.Config) -> RedisServer:
    """The session's Redis, started before the settings are read so that Celery's broker is this one.

    Anything the product queues during the tests (outbound mail, alerts) goes to this Redis, never to a
    developer's own; a test worker (``celery_worker``) consumes from it.
    """
    directory = Path(tempfile.mkdtemp(prefix=REDIS_DIR_PREFIX))
    server = RedisServer(directory)
    server.start()

    def stop() -> None:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)

    atexit.register(stop)
    config.stash[_redis_key] = server
    os.environ["REDIS_URL"] = server.url
    return server


@pytest.fixture(scope="session")
def redis_server(pytestconfig: pytest.Config) -> RedisServer:
    """The session's real Redis. Tests that stop it must start it again before they finish."""
    server = pytestconfig.stash.get(_redis_key, None)
    if server is None:
        pytest.fail("the session Redis was not started (is tests.peers loaded with -p?)", pytrace=False)
    if not server.process.running:
        server.start()
    return server
