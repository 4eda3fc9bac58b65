"""Issue 13, case 1: the ASGI web process does not keep PostgreSQL connections after a burst.

daphne runs against this run's test database (services mode, a Redis of the test's own); three
rounds of 20 concurrent GETs and POSTs; then the connections to the database must fall back to a
small bound (with ``CONN_MAX_AGE=60`` they stayed: one per executor thread, for ever).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.ops.procs import PYTHON, db_connections, free_port, redis_server, service_env, start, stop, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

#: Connections the web process may keep after the burst (none are needed; headroom for one).
BOUND = 2
QUERY = "query Shops { shops { totalCount } }"


def _burst(base: str) -> None:
    """One round: 20 concurrent requests, GETs and POSTs (with the CSRF cookie) alternating."""
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/graphql/", params={"query": QUERY})
        token = client.cookies["csrftoken"]

        def one(i: int) -> int:
            if i % 2:
                response = client.get("/graphql/", params={"query": QUERY})
            else:
                response = client.post(
                    "/graphql/",
                    json={"query": QUERY, "operationName": "Shops"},
                    headers={"X-CSRFToken": token, "Referer": base + "/"},
                )
            return response.status_code

        with ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(one, range(20)))
    assert codes == [200] * 20, codes


def test_daphne_burst_leaves_no_idle_connections(postgres, tmp_path):
    with redis_server(tmp_path) as redis:
        port = free_port()
        web = start(
            [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            env=service_env(redis.port),
            log=tmp_path / "web.log",
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: httpx.get(base + "/healthz").status_code == 200, timeout=30, what="daphne")
            before = db_connections()
            peak = 0
            for _ in range(3):
                _burst(base)
                peak = max(peak, db_connections())
            print(f"connections right after the bursts: {db_connections()}")
            began = time.monotonic()
            settled = wait_for(lambda: db_connections() <= BOUND, timeout=10, interval=0.5, what="connections")
            after = db_connections()
            print(f"connections: before={before} peak={peak} after={after} settled in {settled:.1f}s")
            assert after <= BOUND
            assert time.monotonic() - began < 10
        finally:
            stop(web)
            print((tmp_path / "web.log").read_text()[-3000:])
