"""GraphQL subscriptions over graphql-transport-ws through the real ASGI app and channel layer.

With REDIS_URL set (CI) the channel layer is channels-redis: the worker's broadcast crosses
Redis to reach the socket, as between separate worker and web processes.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client
from strawberry import relay

from config.asgi import application
from loyalty.models import PointsEntry
from loyalty.services.orders import order_event_process
from marketplace.models import StaffRole
from marketplace.services.orders import order_event_record
from tests.factories import PASSWORD, CustomerFactory, UserFactory, order_input, shop_with_program, staff

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    """Close the DB connection of asgiref's sync thread so the test database can be dropped."""
    yield
    await sync_to_async(connections.close_all)()


def _error_code(message: dict) -> str:
    """The ``extensions.code`` of a refused subscription (sent as ``next`` with ``errors``)."""
    assert message["type"] in ("next", "error"), message
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert message["type"] == "error" or message["payload"]["data"] is None
    return errors[0]["extensions"]["code"]


ACCOUNT_UPDATED = """
subscription Live($shopId: ID) {
  accountUpdated(shopId: $shopId) {
    kind points reason tierChanged entryId
    account { pointsPending lifetimePoints shop { slug } tier { name } }
  }
}
"""
SHOP_ACTIVITY = (
    "subscription Shop($shopId: ID!) { shopActivity(shopId: $shopId) { kind points account { pointsPending } } }"
)


def _session_cookie(user) -> bytes:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def _connect(cookie: bytes | None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie))
    communicator = WebsocketCommunicator(
        application, "/graphql/", headers=headers, subprotocols=["graphql-transport-ws"]
    )
    connected, subprotocol = await communicator.connect(timeout=5)
    assert connected
    assert subprotocol == "graphql-transport-ws"
    await communicator.send_json_to({"type": "connection_init"})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_ack"
    return communicator


async def _subscribe(communicator: WebsocketCommunicator, query: str, variables: dict) -> None:
    await communicator.send_json_to(
        {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}
    )
    await asyncio.sleep(0.3)  # let the resolver join its channel group before the event is sent


def _deliver(shop, customer, order_id: str, amount: str) -> None:
    event = order_event_record(
        data=order_input(shop, order_id, customer=customer, amount=amount), idempotency_key=order_id, actor=None
    ).event
    order_event_process(event_id=event.pk)  # broadcasts after its transaction commits


async def test_member_receives_account_updated_after_the_worker_posts():
    shop = await sync_to_async(shop_with_program)()
    customer = await sync_to_async(CustomerFactory)()
    communicator = await _connect(await sync_to_async(_session_cookie)(customer.user))
    await _subscribe(communicator, ACCOUNT_UPDATED, {})

    await sync_to_async(_deliver)(shop, customer, "LIVE-1", "130.00")

    message = await communicator.receive_json_from(timeout=10)
    assert message["type"] == "next", message
    data = message["payload"]["data"]["accountUpdated"]
    assert data["kind"] == "earn"
    assert data["points"] == 130
    assert data["tierChanged"] is True
    assert data["account"] == {
        "pointsPending": 130,
        "lifetimePoints": 130,
        "shop": {"slug": shop.slug},
        "tier": {"name": "Silver"},
    }
    # the entry id names the ledger line the feed and history show
    earn = await sync_to_async(PointsEntry.objects.get)(account__customer=customer, kind="earn")
    assert data["entryId"] == str(relay.GlobalID("PointsEntry", str(earn.pk)))
    await communicator.disconnect()


async def test_member_never_receives_another_members_updates():
    shop = await sync_to_async(shop_with_program)()
    me, other = await sync_to_async(CustomerFactory)(), await sync_to_async(CustomerFactory)()
    communicator = await _connect(await sync_to_async(_session_cookie)(me.user))
    await _subscribe(communicator, ACCOUNT_UPDATED, {})

    await sync_to_async(_deliver)(shop, other, "OTHER-1", "10.00")
    assert await communicator.receive_nothing(timeout=1.0)
    await sync_to_async(_deliver)(shop, me, "MINE-1", "20.00")
    message = await communicator.receive_json_from(timeout=10)
    assert message["payload"]["data"]["accountUpdated"]["points"] == 20
    await communicator.disconnect()


async def test_shop_filter_keeps_other_shops_out():
    shop, other_shop = await sync_to_async(shop_with_program)(), await sync_to_async(shop_with_program)()
    customer = await sync_to_async(CustomerFactory)()
    communicator = await _connect(await sync_to_async(_session_cookie)(customer.user))
    await _subscribe(communicator, ACCOUNT_UPDATED, {"shopId": str(relay.GlobalID("Shop", str(shop.pk)))})

    await sync_to_async(_deliver)(other_shop, customer, "O-1", "10.00")
    assert await communicator.receive_nothing(timeout=1.0)
    await sync_to_async(_deliver)(shop, customer, "S-1", "11.00")
    message = await communicator.receive_json_from(timeout=10)
    assert message["payload"]["data"]["accountUpdated"]["points"] == 11
    await communicator.disconnect()


async def test_shop_staff_receive_shop_activity():
    shop = await sync_to_async(shop_with_program)()
    manager = await sync_to_async(staff)(shop, StaffRole.MANAGER)  # activity:read
    customer = await sync_to_async(CustomerFactory)()
    communicator = await _connect(await sync_to_async(_session_cookie)(manager))
    await _subscribe(communicator, SHOP_ACTIVITY, {"shopId": str(relay.GlobalID("Shop", str(shop.pk)))})

    await sync_to_async(_deliver)(shop, customer, "A-1", "15.00")
    message = await communicator.receive_json_from(timeout=10)
    assert message["payload"]["data"]["shopActivity"] == {
        "kind": "earn",
        "points": 15,
        "account": {"pointsPending": 15},
    }
    await communicator.disconnect()


@pytest.mark.parametrize("who", ["anonymous", "member", "staff_of_other_shop"])
async def test_shop_activity_refuses_outsiders_with_a_code(who):
    shop, other_shop = await sync_to_async(shop_with_program)(), await sync_to_async(shop_with_program)()
    user = None
    if who == "member":
        user = (await sync_to_async(CustomerFactory)()).user
    elif who == "staff_of_other_shop":
        user = await sync_to_async(staff)(other_shop, StaffRole.OWNER)
    cookie = await sync_to_async(_session_cookie)(user) if user else None
    communicator = await _connect(cookie)
    await communicator.send_json_to(
        {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": SHOP_ACTIVITY, "variables": {"shopId": str(relay.GlobalID("Shop", str(shop.pk)))}},
        }
    )
    message = await communicator.receive_json_from(timeout=5)
    expected = "NOT_AUTHENTICATED" if who == "anonymous" else "PERMISSION_DENIED"
    assert _error_code(message) == expected, json.dumps(message)
    await communicator.disconnect()


async def test_account_updated_refuses_anonymous_and_staff_only_logins():
    communicator = await _connect(None)
    await communicator.send_json_to({"id": "1", "type": "subscribe", "payload": {"query": ACCOUNT_UPDATED}})
    assert _error_code(await communicator.receive_json_from(timeout=5)) == "NOT_AUTHENTICATED"
    await communicator.disconnect()

    communicator = await _connect(await sync_to_async(_session_cookie)(await sync_to_async(UserFactory)()))
    await communicator.send_json_to({"id": "1", "type": "subscribe", "payload": {"query": ACCOUNT_UPDATED}})
    assert _error_code(await communicator.receive_json_from(timeout=5)) == "PERMISSION_DENIED"
    await communicator.disconnect()
