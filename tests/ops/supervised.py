"""The documented deployment (deploy/supervisord.conf) as a test fixture: supervisord running
web, worker and scheduler on the test database and a Redis of the test's own.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.ops.procs import ROOT, RedisServer, free_port, service_env, start, stop, wait_for

SUPERVISORD = str(ROOT / ".venv" / "bin" / "supervisord")
SUPERVISORCTL = str(ROOT / ".venv" / "bin" / "supervisorctl")
CONF = str(ROOT / "deploy" / "supervisord.conf")


class Stack:
    """supervisord and its programs; ``pid(name)`` asks supervisorctl for a program's PID."""

    def __init__(self, tmp_path: Path, redis: RedisServer) -> None:
        """Prepare the environment; ``start`` runs supervisord."""
        self.redis = redis
        self.dir = tmp_path / "supervisor"
        self.dir.mkdir()
        self.port = free_port()
        self.env = service_env(
            redis.port,
            PATRON_SUPERVISOR_DIR=str(self.dir),
            HOST="127.0.0.1",
            PORT=str(self.port),
            WORKER_PROCESSES="2",
            WORKER_THREADS="2",
        )
        self.proc: subprocess.Popen | None = None
        self.seen_pids: set[int] = set()

    @property
    def base(self) -> str:
        """The web process's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Run supervisord (in the foreground, its own session) and wait for its three programs."""
        self.proc = start([SUPERVISORD, "-c", CONF], env=self.env, log=self.dir / "supervisord.out")
        for name in ("web", "worker", "scheduler"):
            wait_for(lambda name=name: self.pid(name) > 0, timeout=30, what=f"{name} running")

    def pid(self, name: str) -> int:
        """The PID of program ``name`` (0 when it is not running)."""
        result = subprocess.run(
            [SUPERVISORCTL, "-c", CONF, "pid", name], env=self.env, capture_output=True, text=True, timeout=10
        )
        try:
            pid = int(result.stdout.strip())
        except ValueError:
            return 0
        if pid:
            self.seen_pids.add(pid)
        return pid

    def log(self, name: str) -> str:
        """Program ``name``'s output so far."""
        path = self.dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop supervisord (which stops its programs), then make sure none of their PIDs is left."""
        stop(self.proc, timeout=40)
        for pid in self.seen_pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)


@contextlib.contextmanager
def supervised_stack(tmp_path: Path) -> Iterator[Stack]:
    """A Redis of its own and the supervised web/worker/scheduler on the test database."""
    redis = RedisServer(free_port(), tmp_path / "redis.log")
    redis.start()
    stack = Stack(tmp_path, redis)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        redis.stop()
