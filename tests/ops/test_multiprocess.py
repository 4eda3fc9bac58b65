"""Issue 15, goal 5: scaled out on existing engines, as separate real processes.

Two web processes (daphne), two dramatiq worker processes consuming from RabbitMQ
(``BROKER_URL``, a vhost of the test's own) and the scheduler, on this run's test database, a
Redis of the test's own (scheduler lock, rate limits) and a channel layer sharded over two of
its databases (``PATRON_CHANNEL_REDIS_URLS``). Orders are recorded through web A's GraphQL
endpoint; a ``shopActivity`` subscription held on web B's WebSocket receives the ledger entries
the workers post; and the ledger equals the sequential in-process replay of the same script in
a twin pair of shops, entry for entry (the comparison of tests/ops/test_fault_suite.py).
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import pika
import pytest
import redis as redis_lib
from django.test import Client
from strawberry import relay
from websockets.sync.client import connect

from loyalty.models import PointsEntry
from loyalty.selectors import ledger_discrepancies
from marketplace.health import SCHEDULER_LOCK_KEY
from marketplace.models import Shop, StaffRole
from tests.factories import CustomerFactory, shop_with_program, staff
from tests.loyalty.test_determinism import Step, _ledger, _script
from tests.ops.procs import PYTHON, daphne, free_port, rabbitmq_vhost, redis_server, service_env, start, stop, wait_for
from tests.ops.test_fault_suite import Replay, _balances, _halt, _pending, _program

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

#: Order events recorded through web A (deliveries, partial and full returns).
N_EVENTS = 120
#: Customers; each buys in both shops.
MEMBERS = 8

RECORD = """mutation($input: OrderEventRecordInput!, $key: String!) {
  orderEventRecord(input: $input, idempotencyKey: $key) { order { externalId } errors { code message } } }"""
SHOP_ACTIVITY = "subscription($shopId: ID!) { shopActivity(shopId: $shopId) { kind points entryId } }"


def _variables(number: int, step: Step, shop: Shop, customers: list) -> dict:
    """The ``orderEventRecord`` variables of ``step``: the event ``tests.ops.test_fault_suite._data`` builds."""
    data: dict = {
        "shopId": str(relay.GlobalID("Shop", str(shop.pk))),
        "orderId": step.order,
        "status": step.status.upper(),
        "currency": shop.currency,
        "occurredAt": step.at.isoformat(),
    }
    if step.status == "delivered":
        data["customer"] = {"externalId": customers[step.member].external_id}
        data["lines"] = [{"quantity": 2, "unitPrice": step.amount}]
    if step.returned:
        data["returnedLines"] = [{"lineNo": line, "quantity": quantity} for line, quantity in step.returned]
    return {"input": data, "key": f"live:{number}"}


class Subscriber(threading.Thread):
    """A graphql-transport-ws client on a web process: ``shopActivity`` of each shop, messages kept."""

    def __init__(self, url: str, origin: str, cookie: str, shops: list[Shop]) -> None:
        """Remember where to connect; ``start`` connects, subscribes and reads until ``halt``."""
        super().__init__(daemon=True)
        self.url, self.origin, self.cookie, self.shops = url, origin, cookie, shops
        self.messages: list[dict] = []
        self.subscribed = threading.Event()
        self.halt = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        """Connect, subscribe to every shop, then collect ``next`` payloads."""
        try:
            with connect(
                self.url,
                origin=self.origin,
                subprotocols=["graphql-transport-ws"],
                additional_headers={"Cookie": self.cookie},
                proxy=None,
            ) as socket:
                socket.send(json.dumps({"type": "connection_init"}))
                assert json.loads(socket.recv(timeout=10))["type"] == "connection_ack"
                for index, shop in enumerate(self.shops):
                    variables = {"shopId": str(relay.GlobalID("Shop", str(shop.pk)))}
                    payload = {"query": SHOP_ACTIVITY, "variables": variables}
                    socket.send(json.dumps({"id": str(index), "type": "subscribe", "payload": payload}))
                time.sleep(0.5)  # the resolvers join their channel groups
                self.subscribed.set()
                while not self.halt.is_set():
                    try:
                        message = json.loads(socket.recv(timeout=0.5))
                    except TimeoutError:
                        continue
                    assert message["type"] == "next", message
                    self.messages.append(message["payload"]["data"]["shopActivity"])
        except BaseException as exc:  # asserted on by the test
            self.error = exc
            self.subscribed.set()

    def entry_ids(self) -> set[int]:
        """Database ids of the ledger entries received so far."""
        return {int(relay.GlobalID.from_id(m["entryId"]).node_id) for m in list(self.messages) if m["entryId"]}


def _consumers(broker_url: str, queue: str) -> int:
    """Consumers RabbitMQ counts on ``queue`` (0 while it does not exist)."""
    connection = pika.BlockingConnection(pika.URLParameters(broker_url))
    try:
        return connection.channel().queue_declare(queue=queue, passive=True).method.consumer_count
    finally:
        connection.close()


def test_two_webs_two_rabbitmq_workers_and_a_scheduler_post_the_sequential_ledger(postgres, tmp_path, request):
    started = time.monotonic()
    # given the script recorded into a twin pair of shops and replayed sequentially in-process
    customers = [CustomerFactory() for _ in range(MEMBERS)]
    live = [_program(shop_with_program()), _program(shop_with_program())]
    twin = [_program(shop_with_program()), _program(shop_with_program())]
    owner = staff(live[0], StaffRole.OWNER)
    staff(live[1], StaffRole.OWNER, user=owner)
    login = Client()
    login.force_login(owner)
    session = login.cookies["sessionid"].value
    script = _script(seed=15, steps=N_EVENTS, members=MEMBERS)
    replay = Replay(script, twin, customers, started)
    replay.start()  # meanwhile, in a thread of its own
    request.addfinalizer(lambda: _halt(replay))

    procs = []
    subscriber: Subscriber | None = None
    with rabbitmq_vhost() as broker_url, redis_server(tmp_path) as redis:
        channel_redis = f"redis://127.0.0.1:{redis.port}/1,redis://127.0.0.1:{redis.port}/2"
        env = service_env(redis.port, BROKER_URL=broker_url, PATRON_CHANNEL_REDIS_URLS=channel_redis)
        web_a, web_b = free_port(), free_port()
        try:
            procs.append(daphne(web_a, env=env, log=tmp_path / "web-a.log"))
            procs.append(daphne(web_b, env=env, log=tmp_path / "web-b.log"))
            worker = [PYTHON, "manage.py", "rundramatiq", "--processes", "1", "--threads", "2"]
            worker_env = {**env, "PATRON_DB_CONN_MAX_AGE": "60"}
            procs.append(start(worker, env=worker_env, log=tmp_path / "worker-1.log"))
            procs.append(start(worker, env=worker_env, log=tmp_path / "worker-2.log"))
            procs.append(start([PYTHON, "manage.py", "scheduler", "--no-heartbeat"], env=env, log=tmp_path / "sch.log"))
            for port in (web_a, web_b):
                wait_for(
                    lambda port=port: (
                        httpx.get(f"http://127.0.0.1:{port}/readyz").json()["checks"]
                        == {"database": "ok", "broker": "ok", "redis": "ok"}
                    ),
                    timeout=30,
                    what=f"web on {port} ready",
                )
            wait_for(lambda: _consumers(broker_url, "loyalty") == 2, timeout=40, what="two workers on RabbitMQ")
            wait_for(
                lambda: redis_lib.Redis(port=redis.port).exists(SCHEDULER_LOCK_KEY), timeout=30, what="scheduler lock"
            )
            print(f"2 webs, 2 workers and the scheduler up at {time.monotonic() - started:.1f}s")

            subscriber = Subscriber(
                f"ws://127.0.0.1:{web_b}/graphql/", f"http://127.0.0.1:{web_b}", f"sessionid={session}", live
            )
            subscriber.start()
            assert subscriber.subscribed.wait(20)
            assert subscriber.error is None, subscriber.error

            # when the live shops' orders are recorded through web A
            recording = time.monotonic()
            with httpx.Client(base_url=f"http://127.0.0.1:{web_a}", cookies={"sessionid": session}, timeout=30) as http:
                http.get("/graphql/", params={"query": "{ __typename }"})  # sets the csrftoken cookie
                headers = {"X-CSRFToken": http.cookies["csrftoken"], "Referer": f"http://127.0.0.1:{web_a}/"}
                for number, step in enumerate(script):
                    variables = _variables(number, step, live[step.pair], customers)
                    body = http.post("/graphql/", json={"query": RECORD, "variables": variables}, headers=headers)
                    assert body.json()["data"]["orderEventRecord"]["errors"] == [], body.text
            recorded = time.monotonic()
            print(f"{N_EVENTS} orders recorded through web A in {recorded - recording:.1f}s")

            # then the workers drain them, and web B's subscriber receives every entry they posted
            wait_for(lambda: _pending(live) == 0, timeout=60, interval=0.1, what="the live shops drained")
            print(f"all processed {time.monotonic() - recorded:.1f}s after the last was recorded")
            posted = set(
                PointsEntry.objects.filter(account__program__shop__in=live, order__isnull=False).values_list(
                    "pk", flat=True
                )
            )
            wait_for(lambda: posted <= subscriber.entry_ids(), timeout=20, what="web B received every entry")
            assert subscriber.error is None, subscriber.error
            print(f"web B's subscriptions received {len(subscriber.messages)} updates for {len(posted)} order entries")
            for index, name in ((2, "worker-1"), (3, "worker-2")):
                assert procs[index].poll() is None, (tmp_path / f"{name}.log").read_text()
        finally:
            if subscriber is not None:
                subscriber.halt.set()
                subscriber.join(timeout=5)
            for proc in reversed(procs):
                stop(proc, timeout=20)

    replay.join(timeout=120)
    assert not replay.is_alive()
    assert replay.error is None, replay.error
    live_ledger, twin_ledger = _ledger(live), _ledger(twin)
    assert sum(len(entries) for entries in twin_ledger.values()) >= N_EVENTS // 2
    assert live_ledger == twin_ledger
    assert _balances(live) == _balances(twin)
    assert ledger_discrepancies() == []
    print(f"total {time.monotonic() - started:.1f}s")
