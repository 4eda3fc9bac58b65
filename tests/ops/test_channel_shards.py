"""Issue 15, goal 5: the channel layer sharded over two Redis servers (``PATRON_CHANNEL_REDIS_URLS``).

channels-redis puts each group on one host by a hash of its name. Two members whose groups
hash to different servers each receive their own update through the real ASGI app, and each
group's key is on the server the hash names. The second server is a ``redis-server`` of the
test's own; settings take the list as ``CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]``
(tests/ops/test_rabbitmq.py checks that mapping in a fresh process).
"""

from __future__ import annotations

import asyncio

import pytest
import redis as redis_lib
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from channels_redis.utils import _consistent_hash
from django.conf import settings
from django.db import connections
from django.test import Client, override_settings

from config.asgi import application
from loyalty.broadcasts import member_group
from loyalty.services.orders import order_event_process
from marketplace.services.orders import order_event_record
from tests.factories import PASSWORD, CustomerFactory, order_input, shop_with_program
from tests.ops.procs import redis_server

pytestmark = [pytest.mark.django_db(transaction=True)]

ACCOUNT_UPDATED = "subscription { accountUpdated { kind points } }"


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    """Close the DB connection of asgiref's sync thread so the test database can be dropped."""
    yield
    await sync_to_async(connections.close_all)()


def _cookie(user) -> bytes:
    """A session cookie header value of ``user``."""
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def _subscribed(cookie: bytes) -> WebsocketCommunicator:
    """A graphql-transport-ws socket on the ASGI app with ``accountUpdated`` subscribed."""
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie)]
    socket = WebsocketCommunicator(application, "/graphql/", headers=headers, subprotocols=["graphql-transport-ws"])
    connected, _ = await socket.connect(timeout=5)
    assert connected
    await socket.send_json_to({"type": "connection_init"})
    assert (await socket.receive_json_from(timeout=5))["type"] == "connection_ack"
    await socket.send_json_to({"id": "1", "type": "subscribe", "payload": {"query": ACCOUNT_UPDATED}})
    await asyncio.sleep(0.3)  # let the resolver join its channel group before the update is sent
    return socket


def _deliver(shop, customer, order_id: str, amount: str) -> None:
    """Record a delivered order and process it here (the update is sent after its commit)."""
    event = order_event_record(
        data=order_input(shop, order_id, customer=customer, amount=amount), idempotency_key=order_id, actor=None
    ).event
    order_event_process(event_id=event.pk)


async def test_members_on_different_shards_each_receive_their_update(tmp_path):
    with redis_server(tmp_path) as second:
        hosts = [settings.REDIS_URL, f"redis://127.0.0.1:{second.port}/0"]
        layers = {"default": {**settings.CHANNEL_LAYERS["default"]}}
        layers["default"]["CONFIG"] = {**layers["default"]["CONFIG"], "hosts": hosts}
        with override_settings(CHANNEL_LAYERS=layers):
            prefix = layers["default"]["CONFIG"]["prefix"]

            def group_channel(group: str) -> str:
                # How RedisPubSubChannelLayer names a group's pub/sub channel and picks its shard.
                return f"{prefix}__group__{group}"

            # given two members whose groups hash to different Redis servers
            by_shard: dict[int, object] = {}
            while len(by_shard) < 2:
                customer = await sync_to_async(CustomerFactory)()
                by_shard.setdefault(_consistent_hash(group_channel(member_group(customer.pk)), 2), customer)
            shop = await sync_to_async(shop_with_program)()
            sockets = {shard: await _subscribed(await sync_to_async(_cookie)(c.user)) for shard, c in by_shard.items()}
            # each member's group (subscribed by the socket) lives on the server its hash names
            for shard, customer in by_shard.items():
                channel = group_channel(member_group(customer.pk))
                on = [bool(redis_lib.Redis.from_url(url).pubsub_numsub(channel)[0][1]) for url in hosts]
                assert on == [index == shard for index in range(2)], (channel, on)

            # when each gets points
            for shard, customer in by_shard.items():
                await sync_to_async(_deliver)(shop, customer, f"SHARD-{shard}", f"{10 + shard}.00")

            # then each socket receives its own member's update, and nothing else
            for shard, socket in sockets.items():
                message = await socket.receive_json_from(timeout=10)
                assert message["type"] == "next", message
                assert message["payload"]["data"]["accountUpdated"] == {"kind": "earn", "points": 10 + shard}
                assert await socket.receive_nothing(timeout=0.3)
                await socket.disconnect()
