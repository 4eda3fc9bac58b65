"""Issue 15, goal 5: RabbitMQ as the dramatiq broker (``BROKER_URL``), on the real RabbitMQ.

Each test gets a RabbitMQ vhost of its own (``tests.ops.procs.rabbitmq_vhost``). The settings
are checked in a fresh process (they are read once, at start); the flows run in this process
on a ``RabbitmqBroker`` built from the same settings' middleware, with every actor re-bound to
it and a real ``dramatiq.Worker`` consuming from it, as tests/loyalty/test_worker_flow.py does
on Redis. Nothing is mocked.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator

import dramatiq
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings
from django_dramatiq.apps import DjangoDramatiqConfig
from django_dramatiq.utils import load_middleware
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from standardwebhooks.webhooks import Webhook

from integrations.services.endpoints import webhook_endpoint_create
from loyalty.models import MemberAccount
from marketplace.models import OrderEvent, ShopEvent, StaffRole
from marketplace.services.orders import order_event_record
from tests.factories import CustomerFactory, order_input, shop_with_program, staff
from tests.integrations.receiver import Receiver
from tests.ops.procs import PYTHON, ROOT, free_port, rabbitmq_vhost, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

#: Prints what the settings made of the environment: broker class, its middleware, channel hosts.
SHOW_SETTINGS = """
import json, dramatiq
from django.conf import settings
broker = dramatiq.get_broker()
print(json.dumps({
    "broker": type(broker).__name__,
    "confirm_delivery": getattr(broker, "confirm_delivery", None),
    "middleware": [type(m).__name__ for m in broker.middleware],
    "channel_hosts": settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"],
    "crontab_redis": settings.DRAMATIQ_CRONTAB["REDIS_URL"],
}))
"""


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``manage.py *args`` in a fresh process with ``env`` on top of this one's environment."""
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@contextlib.contextmanager
def rabbitmq_broker(url: str) -> Iterator[RabbitmqBroker]:
    """This process's dramatiq on RabbitMQ at ``url`` for the ``with`` block: every actor re-bound.

    The broker gets the middleware of ``settings.DRAMATIQ_BROKER`` built as django-dramatiq
    builds it. Actors remember their broker (``actor.broker``), so each is declared on the new
    one and handed back to the configured broker afterwards.
    """
    original = dramatiq.get_broker()
    middleware = [
        load_middleware(path, **DjangoDramatiqConfig.get_middleware_kwargs(path))
        for path in settings.DRAMATIQ_BROKER["MIDDLEWARE"]
    ]
    broker = RabbitmqBroker(url=url, confirm_delivery=True, middleware=middleware)
    actors = [original.get_actor(name) for name in original.get_declared_actors()]
    for actor in actors:
        actor.broker = broker
        broker.declare_actor(actor)
    dramatiq.set_broker(broker)
    try:
        yield broker
    finally:
        for actor in actors:
            actor.broker = original
        dramatiq.set_broker(original)
        broker.close()


@pytest.fixture
def rabbitmq() -> Iterator[tuple[str, RabbitmqBroker]]:
    """A vhost of the test's own and this process's dramatiq on it: ``(url, broker)``."""
    with rabbitmq_vhost() as url, rabbitmq_broker(url) as broker:
        yield url, broker


def test_broker_url_selects_rabbitmq_with_the_same_middleware_and_the_channel_layer_shards():
    redis_urls = "redis://127.0.0.1:6379/13,redis://127.0.0.1:6379/14"
    shown = _manage(
        "shell",
        "-c",
        SHOW_SETTINGS,
        BROKER_URL="amqp://guest:guest@127.0.0.1:5672/",
        PATRON_CHANNEL_REDIS_URLS=redis_urls,
    )
    assert shown.returncode == 0, shown.stderr
    config = json.loads(shown.stdout.strip().splitlines()[-1])
    assert config["broker"] == "RabbitmqBroker"
    assert config["confirm_delivery"] is True
    # the same middleware as on Redis, in the same order (the configured list: a running
    # dramatiq.Worker adds its own to the broker it consumes from)
    assert config["middleware"] == [path.rsplit(".", 1)[1] for path in settings.DRAMATIQ_BROKER["MIDDLEWARE"]]
    assert config["channel_hosts"] == redis_urls.split(",")
    # Redis stays the scheduler's lock
    assert config["crontab_redis"] == settings.REDIS_URL

    default = _manage("shell", "-c", SHOW_SETTINGS, BROKER_URL="")
    assert json.loads(default.stdout.strip().splitlines()[-1])["broker"] == "RedisBroker"

    wrong = _manage("check", BROKER_URL="redis://127.0.0.1:6379/0")
    assert wrong.returncode != 0
    assert "BROKER_URL must be a RabbitMQ URL" in wrong.stderr


def test_a_delivered_order_is_posted_and_published_by_a_worker_consuming_from_rabbitmq(rabbitmq, settings):
    url, broker = rabbitmq
    settings.PATRON_WEBHOOK_ALLOW_HTTP = True  # the receiver is plain http on loopback
    shop, customer = shop_with_program(), CustomerFactory()
    owner = staff(shop, StaffRole.OWNER)
    receiver = Receiver()
    endpoint = webhook_endpoint_create(user=owner, shop_id=shop.pk, url=receiver.url, event_types=["points.earned"])

    # given an order recorded while no worker runs: its message waits in RabbitMQ
    event = order_event_record(
        data=order_input(shop, "RMQ-1", customer=customer, amount="42.00"), idempotency_key="rmq-1", actor=None
    ).event
    assert broker.get_queue_message_counts("loyalty")[0] == 1
    with override_settings(BROKER_URL=url):
        metrics = Client().get("/metrics").content.decode()
    assert 'patron_queue_messages{queue="loyalty"} 1.0' in metrics

    # when a worker consumes from RabbitMQ
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        # then the points are posted, the ledger's shop event is published (a feed position) by
        # the integrations queue on RabbitMQ, and the webhook it created is delivered, signed
        wait_for(
            lambda: OrderEvent.objects.get(pk=event.pk).processed_at is not None, timeout=30, what="event processed"
        )
        assert MemberAccount.objects.get(customer=customer).points_pending == 42
        earned = ShopEvent.objects.get(shop=shop, type="points.earned")
        wait_for(lambda: ShopEvent.objects.get(pk=earned.pk).position is not None, timeout=30, what="event published")
        wait_for(lambda: len(receiver.requests) >= 1, timeout=30, what="webhook delivered")
        payload = Webhook(endpoint.secret).verify(receiver.requests[0]["body"], receiver.requests[0]["headers"])
        assert payload["data"]["points"] == 42
        assert broker.get_queue_message_counts("loyalty") == (0, 0, 0)
    finally:
        worker.stop()
        receiver.close()


def test_health_and_readiness_probe_rabbitmq_and_redis(rabbitmq):
    url, _ = rabbitmq
    with override_settings(BROKER_URL=url):
        ready = Client().get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "redis": "ok"}
        call_command("health", "worker")
    down = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    with override_settings(BROKER_URL=down):
        ready = Client().get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["broker"] == "broker unreachable"
        assert ready.json()["checks"]["redis"] == "ok"
        assert "127.0.0.1" not in ready.content.decode()
        with pytest.raises(CommandError, match="broker unreachable"):
            call_command("health", "worker")
    # Redis down while the broker is RabbitMQ: named as Redis, not as the broker
    with override_settings(BROKER_URL=url, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
        checks = Client().get("/readyz").json()["checks"]
    assert checks == {"database": "ok", "broker": "ok", "redis": "redis unreachable"}
