"""Member dashboard over HTTP: requests per second and latency with ``wrk`` against daphne.

Usage (PostgreSQL and Redis; a scratch database is created and dropped, the URL's own database
is never touched)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/patron REDIS_URL=redis://127.0.0.1:6379/15 \\
        .venv/bin/python bench/dashboard_http_bench.py [--connections 10] [--seconds 10]

Builds the member of ``dashboard_bench.py`` (20 accounts x 5 entries), starts the documented
production server (daphne, one process, services mode) on a free port, logs in over HTTP
(session and CSRF cookies, as the dashboard does), then runs ``wrk`` with ``--connections``
clients on the README's ``Dashboard`` query and on ``{ __typename }``, printing requests per
second and the latency percentiles wrk reports. Installs Debian's ``wrk`` when it is missing and
the script runs as root (as scripts/_dashboard_tests.sh does for Chromium); otherwise says how.
Issue 15's goal: >= 150 requests/s and p95 <= 100 ms at 10 clients with one process per core.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with httpx.Client(base_url=base, timeout=10) as client:
                for _ in range(100):
                    try:
                        client.get("/graphql/", headers={"Accept": "application/json"})
                        break
                    except httpx.TransportError:
                        time.sleep(0.2)
                login = 'mutation { login(input: {username: "' + username + '", password: "bench-pass"}) { username } }'
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
            dashboard = _run_wrk(wrk, base, json.dumps({"query": DASHBOARD}), cookies, args.connections, args.seconds)
            trivial = _run_wrk(
                wrk, base, json.dumps({"query": "{ __typename }"}), cookies, args.connections, args.seconds
            )
            print(
                f"server=daphne processes=1 connections={args.connections} seconds={args.seconds} cpus={os.cpu_count()}"
            )
            for name, figures in (("dashboard", dashboard), ("typename", trivial)):
                print(
                    f"{name}_http requests_per_second={figures['rps']:.1f} p50_ms={figures['p50']:.1f} "
                    f"p95_ms={figures['p95']:.1f} p99_ms={figures['p99']:.1f} non_2xx={figures['non_2xx']}"
                )
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
