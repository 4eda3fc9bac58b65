"""Member dashboard over HTTP: requests per second and latency with ``wrk`` against daphne.

Usage (PostgreSQL and Redis; a scratch database is created and dropped, the URL's own database
is never touched)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/patron REDIS_URL=redis://127.0.0.1:6379/15 \\
        .venv/bin/python bench/dashboard_http_bench.py [--connections 10] [--seconds 10] \\
        [--processes N] [--port P]

Builds the member of ``dashboard_bench.py`` (20 accounts x 5 entries), starts the documented
production server (daphne, services mode) with ``--processes`` processes (default: one per
core) sharing one listening socket, logs in over HTTP (session and CSRF cookies, as the dashboard
does), then runs ``wrk`` with ``--connections`` clients on the README's ``Dashboard`` query and on
``{ __typename }``, printing requests per second, the latency percentiles wrk reports and each
server process's CPU seconds and RSS. Installs Debian's ``wrk`` when it is missing and the script
runs as root (as scripts/_dashboard_tests.sh does for Chromium); otherwise says how.

Several processes: the script opens the listening socket itself and hands it to every daphne as
``--fd`` (daphne's documented multi-process set-up, what supervisord's ``[fcgi-program]`` with
``numprocs`` does; docs/operations.md, "One web process per core"): the kernel spreads the
connections over the processes and wrk needs one port. Issue 15's goal: >= 150 requests/s and
p95 <= 100 ms at 10 clients with one process per core.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dashboard_bench import DASHBOARD, _build_member  # noqa: E402
from import_bench import scratch_database  # noqa: E402

#: wrk script: POST the GraphQL body with the session's cookies and CSRF header (filled in below).
WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = {cookie}
wrk.headers["X-CSRFToken"] = {csrf}
wrk.headers["Referer"] = {referer}
done = function(summary, latency, requests)
  io.write(string.format("lua_p50_ms=%.2f lua_p95_ms=%.2f lua_p99_ms=%.2f\\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def _wrk() -> str | None:
    """The wrk executable, installed with apt-get when missing and running as root; else ``None``."""
    found = shutil.which("wrk")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, capture_output=True)
        found = shutil.which("wrk")
    return found


#: PgBouncer in transaction pooling mode, as docs/operations.md ("Database connections") sets it up
#: for production; ``options`` (the statement timeout) is ignored there, as documented.
PGBOUNCER_INI = """
[databases]
* = host={host} port={port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir}/users.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 500
reserve_pool_size = 5
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
logfile = {workdir}/pgbouncer.log
pidfile = {workdir}/pgbouncer.pid
"""


@contextlib.contextmanager
def _pgbouncer(database_url: str, listen_port: int) -> Iterator[str]:
    """Run PgBouncer in front of ``database_url``'s server; yield the same URL through it. Stopped after.

    Debian's ``pgbouncer`` is installed with apt-get when missing and the script runs as root;
    PgBouncer refuses to run as root, so it then runs as the ``postgres`` user.
    """
    executable = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if executable is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "pgbouncer"], check=False, capture_output=True)
        executable = shutil.which("pgbouncer", path="/usr/sbin:/usr/bin")
    if executable is None:
        raise SystemExit("dashboard_http_bench: --pgbouncer needs pgbouncer (Debian: apt-get install -y pgbouncer)")
    parts = urlsplit(database_url)
    workdir = Path(tempfile.mkdtemp(prefix="bench-pgbouncer-"))
    (workdir / "users.txt").write_text(f'"{parts.username or "postgres"}" ""\n')
    (workdir / "pgbouncer.ini").write_text(
        PGBOUNCER_INI.format(
            host=parts.hostname or "127.0.0.1", port=parts.port or 5432, listen_port=listen_port, workdir=workdir
        )
    )
    command = [executable, str(workdir / "pgbouncer.ini")]
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for path in (workdir, *workdir.iterdir()):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        command[1:1] = ["-u", "postgres"]
    bouncer = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", listen_port)) == 0:
                    break
            time.sleep(0.1)
        netloc = f"{parts.username or 'postgres'}@127.0.0.1:{listen_port}"
        yield urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    finally:
        bouncer.send_signal(signal.SIGTERM)
        try:
            bouncer.wait(timeout=10)
        except subprocess.TimeoutExpired:
            bouncer.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listener(port: int) -> socket.socket:
    """A listening TCP socket on 127.0.0.1:``port`` (0: any free port) that child processes inherit."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    listener.set_inheritable(True)
    return listener


def _process_figures(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) and RSS in MB of a running process, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        cpu = (int(fields[11]) + int(fields[12])) / ticks
        rss_kb = next(
            int(line.split()[1])
            for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if line.startswith("VmRSS:")
        )
    except (OSError, StopIteration, IndexError, ValueError):
        return 0.0, 0.0
    return cpu, rss_kb / 1024


def _lua(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal for this text


def _run_wrk(wrk: str, base: str, body: str, cookies: dict[str, str], connections: int, seconds: int) -> dict:
    """Run wrk on /graphql/ with ``body``; return requests/s, errors and p50/p95/p99 in ms."""
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    script = WRK_SCRIPT.format(
        body=_lua(body), cookie=_lua(cookie), csrf=_lua(cookies.get("csrftoken", "")), referer=_lua(base + "/")
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        done = subprocess.run(
            [wrk, "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "-s", handle.name, f"{base}/graphql/"],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.unlink(handle.name)
    out = done.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    percentiles = re.search(r"lua_p50_ms=([\d.]+) lua_p95_ms=([\d.]+) lua_p99_ms=([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if rate is None or percentiles is None:
        raise SystemExit(f"wrk gave no figures:\n{out}\n{done.stderr}")
    return {
        "rps": float(rate.group(1)),
        "p50": float(percentiles.group(1)),
        "p95": float(percentiles.group(2)),
        "p99": float(percentiles.group(3)),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def main() -> None:
    """Build the member, start daphne, log in, run wrk on both queries, print, stop everything."""
    parser = argparse.ArgumentParser(description="Dashboard query over HTTP with wrk.")
    parser.add_argument("--connections", type=int, default=10, help="Concurrent clients (default 10).")
    parser.add_argument("--seconds", type=int, default=10, help="Seconds per wrk run (default 10).")
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="daphne processes sharing the listening socket (default: one per core).",
    )
    parser.add_argument("--port", type=int, default=0, help="Port to listen on (default: any free port).")
    parser.add_argument(
        "--pgbouncer",
        action="store_true",
        help="Put PgBouncer (transaction pooling, as docs/operations.md) between daphne and PostgreSQL.",
    )
    args = parser.parse_args()
    wrk = _wrk()
    if wrk is None:
        raise SystemExit("dashboard_http_bench: needs wrk (Debian: apt-get install -y wrk)")
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("dashboard_http_bench: set REDIS_URL (services mode, as in production)")
    with scratch_database("patron_dashboard_http") as url:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "PATRON_SECRET_KEY": os.environ.get("PATRON_SECRET_KEY", "bench-only-secret-key"),
            "PATRON_CHANNEL_PREFIX": f"bench-http-{os.getpid()}",
            "PATRON_DRAMATIQ_NAMESPACE": f"bench-http-{os.getpid()}",
            "PATRON_THROTTLE_PREFIX": f"bench-http-{os.getpid()}",
            "PATRON_LOG_LEVEL": "WARNING",
        }
        os.environ.update({key: env[key] for key in ("DATABASE_URL", "PATRON_SECRET_KEY")})
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would bury the figures
        username = _build_member()
        with contextlib.ExitStack() as stack:
            # The daphne processes connect through PgBouncer; this script's own reads go direct.
            if args.pgbouncer:
                env["DATABASE_URL"] = stack.enter_context(_pgbouncer(url, args.port + 1 if args.port else _free_port()))
                env["PATRON_DB_STATEMENT_TIMEOUT_MS"] = "0"  # PgBouncer drops ``options``: set on the role
            listener = _listener(args.port)
            base = f"http://127.0.0.1:{listener.getsockname()[1]}"
            servers = [
                subprocess.Popen(
                    [str(ROOT / ".venv/bin/daphne"), "--fd", str(listener.fileno()), "config.asgi:application"],
                    cwd=ROOT,
                    env=env,
                    pass_fds=(listener.fileno(),),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for _ in range(max(args.processes, 1))
            ]
            try:
                with httpx.Client(base_url=base, timeout=10) as client:
                    for _ in range(100):
                        try:
                            client.get("/graphql/", headers={"Accept": "application/json"})
                            break
                        except httpx.TransportError:
                            time.sleep(0.2)
                    # Every process answers before the clock starts (each imports Django and the schema).
                    time.sleep(1.0 + 0.5 * len(servers))
                    login = (
                        'mutation { login(input: {username: "' + username + '", password: "bench-pass"}) { username } }'
                    )
                    client.post(
                        "/graphql/",
                        json={"query": login},
                        headers={"X-CSRFToken": client.cookies["csrftoken"], "Referer": base + "/"},
                    ).raise_for_status()
                    cookies = {name: client.cookies[name] for name in ("csrftoken", "sessionid")}
                    check = client.post(
                        "/graphql/",
                        json={"query": DASHBOARD},
                        headers={"X-CSRFToken": cookies["csrftoken"], "Referer": base + "/"},
                    ).json()
                    assert not check.get("errors"), check
                # A short warm-up run per query: every process has parsed and validated both documents.
                _run_wrk(wrk, base, json.dumps({"query": DASHBOARD}), cookies, args.connections, 2)
                _run_wrk(wrk, base, json.dumps({"query": "{ __typename }"}), cookies, args.connections, 2)
                cpu_before = [_process_figures(server.pid)[0] for server in servers]
                dashboard = _run_wrk(
                    wrk, base, json.dumps({"query": DASHBOARD}), cookies, args.connections, args.seconds
                )
                cpu_dashboard = [_process_figures(server.pid)[0] for server in servers]
                trivial = _run_wrk(
                    wrk, base, json.dumps({"query": "{ __typename }"}), cookies, args.connections, args.seconds
                )
                figures = [_process_figures(server.pid) for server in servers]
                cpu_typename = [cpu for cpu, _ in figures]
                print(
                    f"server=daphne processes={len(servers)} connections={args.connections} seconds={args.seconds} "
                    f"cpus={os.cpu_count()} database={'pgbouncer' if args.pgbouncer else 'direct'}"
                )
                for name, result in (("dashboard", dashboard), ("typename", trivial)):
                    print(
                        f"{name}_http requests_per_second={result['rps']:.1f} p50_ms={result['p50']:.1f} "
                        f"p95_ms={result['p95']:.1f} p99_ms={result['p99']:.1f} non_2xx={result['non_2xx']}"
                    )
                # Server CPU per request: what the processes spent during a run, divided by what they answered.
                for name, result, before_run, after_run in (
                    ("dashboard", dashboard, cpu_before, cpu_dashboard),
                    ("typename", trivial, cpu_dashboard, cpu_typename),
                ):
                    spent = sum(after - before for before, after in zip(before_run, after_run, strict=True))
                    answered = result["rps"] * args.seconds
                    print(f"{name}_server_cpu_ms_per_request={1000 * spent / answered if answered else 0:.1f}")
                print("web_rss_mb=" + ",".join(f"{rss:.0f}" for _, rss in figures))
            finally:
                for server in servers:
                    server.send_signal(signal.SIGTERM)
                for server in servers:
                    try:
                        server.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        server.kill()
                listener.close()


if __name__ == "__main__":
    main()
