"""Real processes for the operations tests: a Redis of the test's own, daphne, supervisord, and a
RabbitMQ virtual host of the test's own on the RabbitMQ at 127.0.0.1:5672.

Every helper returns the ``subprocess.Popen`` it started so that the test stops exactly that
process (by PID, its process group included) in a ``finally``; nothing is killed by name.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The URL of the test database this pytest process uses (``test_patron_<suffix>``)."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "postgres")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def service_env(redis_port: int, **extra: str) -> dict[str, str]:
    """Environment of a Patron process in services mode on the test database and ``redis_port``."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url(),
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            # The test's own key: sessions the test writes (force_login) stay valid in the process.
            "PATRON_SECRET_KEY": settings.SECRET_KEY,
            "PATRON_DEBUG": "0",
            "PATRON_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PATRON_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def start(args: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start ``args`` in a new session (its own process group), output to ``log``."""
    out = log.open("ab")
    try:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        out.close()


def stop(proc: subprocess.Popen | None, *, timeout: float = 10) -> None:
    """Stop ``proc`` and its process group: SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def wait_for(predicate: Callable[[], object], *, timeout: float, interval: float = 0.2, what: str = "") -> float:
    """Poll ``predicate`` until it is truthy; return the seconds it took, fail after ``timeout``."""
    began = time.monotonic()
    while True:
        with contextlib.suppress(Exception):
            if predicate():
                return time.monotonic() - began
        if time.monotonic() - began > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


class RedisServer:
    """A throw-away ``redis-server`` on its own port, without persistence (a restart loses all)."""

    def __init__(self, port: int, log: Path) -> None:
        """Remember the port and log file; ``start`` runs the server."""
        self.port = port
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        self.proc = start(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            env=dict(os.environ),
            log=self.log,
        )
        wait_for(self.ping, timeout=10, what=f"redis on {self.port}")

    def ping(self) -> bool:
        """Whether the server answers."""
        import redis

        return bool(redis.Redis(port=self.port, socket_timeout=1).ping())

    def kill9(self) -> None:
        """SIGKILL the server (its data is gone: no persistence)."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(5)

    def stop(self) -> None:
        """Stop the server if it runs."""
        stop(self.proc)


@contextlib.contextmanager
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A running ``RedisServer`` on a free port for the ``with`` block."""
    server = RedisServer(free_port(), tmp_path / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def db_connections(name: str | None = None) -> int:
    """Connections to the test database other than this process's own (``pg_stat_activity``)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name or connection.settings_dict["NAME"]],
        )
        return cursor.fetchone()[0]


#: The RabbitMQ the tests use (guest/guest on 127.0.0.1:5672); each test gets a vhost of its own.
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672"


def _rabbitmqctl(*args: str) -> None:
    """Run ``rabbitmqctl`` (on this machine, as a user that may administer the node); fail loudly."""
    ctl = shutil.which("rabbitmqctl")
    assert ctl, "rabbitmqctl not found: the RabbitMQ tests need RabbitMQ on this machine (docs/scaling.md)"
    result = subprocess.run([ctl, *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"rabbitmqctl {' '.join(args)}: {result.stdout}{result.stderr}"


@contextlib.contextmanager
def rabbitmq_vhost() -> Iterator[str]:
    """A RabbitMQ virtual host of this test's own (guest may use it), deleted after: yields its URL.

    RabbitMQ has no key namespace: queue names are global per vhost, so runs on one machine
    would take each other's messages (a worker applying another run's event ids to its own
    database). A vhost per test is what ``PATRON_DRAMATIQ_NAMESPACE`` is on Redis.
    """
    vhost = f"patron-test-{os.environ.get('PATRON_TEST_SUFFIX', os.getpid())}-{uuid.uuid4().hex[:8]}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"{RABBITMQ}/{quote(vhost, safe='')}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


def daphne(port: int, *, env: dict[str, str], log: Path) -> subprocess.Popen:
    """A web process (daphne serving config.asgi) on 127.0.0.1:``port``; stop it with ``stop``."""
    return start(
        [str(ROOT / ".venv" / "bin" / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        env=env,
        log=log,
    )
