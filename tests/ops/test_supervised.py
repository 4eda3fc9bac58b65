"""Issue 13, cases 2 and 3: under the documented supervisor the service recovers by itself.

Real processes: supervisord (deploy/supervisord.conf) running web, a worker of 2 processes and
the scheduler on this run's test database and a Redis of the test's own. (a) Redis is SIGKILLed
and restarted empty: the scheduler loses its lock, exits, is restarted, holds the lock again
and sweeps the outbox. (b) One dramatiq worker child is SIGKILLed: the worker stops as a whole,
supervisord restarts it, and an order recorded through the web process is processed.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from pathlib import Path

import httpx
import pytest
import redis as redis_lib
from django.conf import settings
from django.test import Client
from django.utils import timezone
from strawberry import relay

from marketplace.health import SCHEDULER_LOCK_KEY
from marketplace.models import OrderEvent, StaffRole
from marketplace.services.orders import order_event_record
from tests.factories import CustomerFactory, order_input, shop_with_program, staff
from tests.ops.procs import wait_for
from tests.ops.supervised import supervised_stack

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RECORD = """mutation($input: OrderEventRecordInput!, $key: String!) {
  orderEventRecord(input: $input, idempotencyKey: $key) { order { externalId } errors { code message } } }"""


def _processed(event_id: int) -> bool:
    """Whether the worker applied the event."""
    return OrderEvent.objects.filter(pk=event_id, processed_at__isnull=False).exists()


def _children(pid: int) -> list[int]:
    """The child PIDs of ``pid`` (Linux /proc)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def test_scheduler_comes_back_after_a_redis_restart_and_sweeps(postgres, tmp_path):
    shop = shop_with_program()
    with supervised_stack(tmp_path) as stack:
        lock = redis_lib.Redis(port=stack.redis.port, socket_timeout=1)
        wait_for(lambda: lock.exists(SCHEDULER_LOCK_KEY), timeout=30, what="scheduler lock")
        scheduler_pid = stack.pid("scheduler")

        stack.redis.kill9()
        # An event whose message was lost (recorded while Redis was down, two minutes old): only
        # a sweep sends it.
        event = order_event_record(
            data=order_input(shop, "LOST-1", customer=CustomerFactory()),
            idempotency_key="lost-1",
            actor=None,
            notify=False,
        ).event
        OrderEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - dt.timedelta(minutes=2))
        time.sleep(2)
        stack.redis.start()  # empty: the lock key is gone
        restarted = time.monotonic()

        back = wait_for(
            lambda: stack.pid("scheduler") not in (0, scheduler_pid) and lock.exists(SCHEDULER_LOCK_KEY),
            timeout=30,
            what="a new scheduler holding the lock",
        )
        wait_for(lambda: _processed(event.pk), timeout=30, what="the swept event processed")
        swept = time.monotonic() - restarted
        print(f"scheduler back with the lock {back:.1f}s after Redis restarted; event processed at {swept:.1f}s")
        assert "lock was lost" in stack.log("scheduler")
        assert swept < 30


def test_worker_comes_back_after_a_child_is_killed(postgres, tmp_path):
    shop = shop_with_program()
    owner = staff(shop, StaffRole.OWNER)
    client = Client()
    client.force_login(owner)
    cookies = httpx.Cookies({"sessionid": client.cookies["sessionid"].value})
    with supervised_stack(tmp_path) as stack:
        wait_for(lambda: httpx.get(stack.base + "/healthz").status_code == 200, timeout=30, what="web")
        worker_pid = stack.pid("worker")
        # Both children booted and the main process watching them: each child's heartbeat is in
        # the broker and the main process logged its boot, which it does once every child said
        # it is up. (A child killed while booting is another case: dramatiq's main process first
        # waits --worker-fork-timeout, 30 s, for it.)
        heartbeats = f"{settings.DRAMATIQ_BROKER['OPTIONS']['namespace']}:__heartbeats__"
        broker_redis = redis_lib.Redis(port=stack.redis.port, socket_timeout=1)
        wait_for(lambda: broker_redis.zcard(heartbeats) >= 2, timeout=40, what="two worker children consuming")
        wait_for(lambda: "is booting up" in stack.log("worker"), timeout=40, what="dramatiq's main process watching")
        victim = _children(worker_pid)[0]

        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        restarted = wait_for(
            lambda: stack.pid("worker") not in (0, worker_pid), timeout=30, what="the worker restarted"
        )
        with httpx.Client(base_url=stack.base, cookies=cookies, timeout=30) as http:
            http.get("/graphql/", params={"query": "{ __typename }"})
            variables = {
                "input": {
                    "shopId": str(relay.GlobalID("Shop", str(shop.pk))),
                    "orderId": "AFTER-KILL",
                    "status": "DELIVERED",
                    "currency": "USD",
                    "occurredAt": "2026-03-01T10:00:00+00:00",
                    "customer": {"externalId": "cust-k", "displayName": "Ada"},
                    "lines": [{"quantity": 1, "unitPrice": "10.00", "categorySlug": "books", "productId": "P1"}],
                },
                "key": "after-kill",
            }
            body = http.post(
                "/graphql/",
                json={"query": RECORD, "variables": variables},
                headers={"X-CSRFToken": http.cookies["csrftoken"], "Referer": stack.base + "/"},
            ).json()
        assert body["data"]["orderEventRecord"]["errors"] == [], body
        event = OrderEvent.objects.get(order__external_id="AFTER-KILL")

        wait_for(lambda: _processed(event.pk), timeout=30, what="the order processed by the restarted worker")
        recovered = time.monotonic() - killed
        print(f"worker restarted {restarted:.1f}s after the kill; the new order processed {recovered:.1f}s after it")
        assert "exited unexpectedly" in stack.log("worker")
        assert recovered < 40
