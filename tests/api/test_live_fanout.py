"""Live push fan-out: every socket gets its own member's updates only, and an event costs one account read.

An account update goes to the member's group and the shop's group; a web process reads the
account once per message however many of its sockets receive it (``loyalty.api.schema``,
``_shared_account``), and not at all when no subscription selects ``account``.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext
from strawberry import relay

from loyalty.api import schema as loyalty_schema
from marketplace.models import StaffRole
from tests.api.test_subscriptions import (
    ACCOUNT_UPDATED,
    _close_thread_connections,  # noqa: F401  (autouse fixture: closes the sync thread's connection)
    _connect,
    _deliver,
    _session_cookie,
    _subscribe,
)
from tests.factories import CustomerFactory, shop_with_program, staff

pytestmark = [pytest.mark.django_db(transaction=True)]

SHOP_ACTIVITY_WITH_ACCOUNT = (
    "subscription Shop($shopId: ID!) { shopActivity(shopId: $shopId) { kind points account { id pointsPending } } }"
)
MEMBER_WITH_ID = "subscription { accountUpdated { points account { id pointsPending } } }"


@pytest.fixture
def account_reads(monkeypatch):
    """Each account read of the live payload: the SQL statements it ran (in its own thread)."""
    reads: list[int] = []
    original = loyalty_schema._account_for_event

    def counted(account_id: int):
        with CaptureQueriesContext(connection) as queries:
            account = original(account_id)
        reads.append(len(queries.captured_queries))
        return account

    monkeypatch.setattr(loyalty_schema, "_account_for_event", counted)
    return reads


async def test_two_members_each_receive_only_their_own_updates():
    shop = await sync_to_async(shop_with_program)()
    ann, bob = await sync_to_async(CustomerFactory)(), await sync_to_async(CustomerFactory)()
    ann_socket = await _connect(await sync_to_async(_session_cookie)(ann.user))
    bob_socket = await _connect(await sync_to_async(_session_cookie)(bob.user))
    await _subscribe(ann_socket, MEMBER_WITH_ID, {})
    await _subscribe(bob_socket, MEMBER_WITH_ID, {})

    await sync_to_async(_deliver)(shop, ann, "ANN-1", "21.00")
    await sync_to_async(_deliver)(shop, bob, "BOB-1", "34.00")

    ann_frame = (await ann_socket.receive_json_from(timeout=10))["payload"]["data"]["accountUpdated"]
    bob_frame = (await bob_socket.receive_json_from(timeout=10))["payload"]["data"]["accountUpdated"]
    ann_account = await sync_to_async(lambda: ann.accounts.get().pk)()
    bob_account = await sync_to_async(lambda: bob.accounts.get().pk)()
    assert ann_frame["points"] == 21
    assert ann_frame["account"] == {"id": str(relay.GlobalID("MemberAccount", str(ann_account))), "pointsPending": 21}
    assert bob_frame["points"] == 34
    assert bob_frame["account"] == {"id": str(relay.GlobalID("MemberAccount", str(bob_account))), "pointsPending": 34}
    # neither socket gets the other's update
    assert await ann_socket.receive_nothing(timeout=1.0)
    assert await bob_socket.receive_nothing(timeout=1.0)
    await ann_socket.disconnect()
    await bob_socket.disconnect()


@pytest.mark.parametrize("staff_sockets", [1, 3])
async def test_one_account_read_per_event_whatever_the_number_of_subscribers(account_reads, staff_sockets):
    shop = await sync_to_async(shop_with_program)()
    customer = await sync_to_async(CustomerFactory)()
    shop_id = str(relay.GlobalID("Shop", str(shop.pk)))
    sockets = [await _connect(await sync_to_async(_session_cookie)(customer.user))]
    await _subscribe(sockets[0], ACCOUNT_UPDATED, {})
    for _ in range(staff_sockets):
        manager = await sync_to_async(staff)(shop, StaffRole.MANAGER)
        sockets.append(await _connect(await sync_to_async(_session_cookie)(manager)))
        await _subscribe(sockets[-1], SHOP_ACTIVITY_WITH_ACCOUNT, {"shopId": shop_id})

    await sync_to_async(_deliver)(shop, customer, "FAN-1", "40.00")

    member_frame = (await sockets[0].receive_json_from(timeout=10))["payload"]["data"]["accountUpdated"]
    assert member_frame["account"]["pointsPending"] == 40
    assert member_frame["account"]["tier"] == {"name": "Bronze"}
    assert member_frame["account"]["shop"] == {"slug": shop.slug}
    for socket in sockets[1:]:
        frame = (await socket.receive_json_from(timeout=10))["payload"]["data"]["shopActivity"]
        assert frame["account"]["pointsPending"] == 40
    # one read (the account, then its program's tiers) for 1 + staff_sockets frames
    assert account_reads == [2]
    for socket in sockets:
        await socket.disconnect()


async def test_no_account_read_when_no_subscription_selects_the_account(account_reads):
    shop = await sync_to_async(shop_with_program)()
    customer = await sync_to_async(CustomerFactory)()
    manager = await sync_to_async(staff)(shop, StaffRole.MANAGER)
    member_socket = await _connect(await sync_to_async(_session_cookie)(customer.user))
    staff_socket = await _connect(await sync_to_async(_session_cookie)(manager))
    await _subscribe(member_socket, "subscription { accountUpdated { kind points } }", {})
    await _subscribe(
        staff_socket,
        "subscription S($shopId: ID!) { shopActivity(shopId: $shopId) { kind points } }",
        {"shopId": str(relay.GlobalID("Shop", str(shop.pk)))},
    )

    await sync_to_async(_deliver)(shop, customer, "BARE-1", "12.00")

    assert (await member_socket.receive_json_from(timeout=10))["payload"]["data"]["accountUpdated"] == {
        "kind": "earn",
        "points": 12,
    }
    assert (await staff_socket.receive_json_from(timeout=10))["payload"]["data"]["shopActivity"]["points"] == 12
    assert account_reads == []
    await member_socket.disconnect()
    await staff_socket.disconnect()


async def test_two_subscriptions_on_one_socket_each_get_only_their_own_updates():
    """A member who is also the shop's staff: their accountUpdated must not carry other members' updates."""
    import asyncio

    shop = await sync_to_async(shop_with_program)()
    both = await sync_to_async(CustomerFactory)()
    await sync_to_async(staff)(shop, StaffRole.MANAGER, user=both.user)
    other = await sync_to_async(CustomerFactory)()
    socket = await _connect(await sync_to_async(_session_cookie)(both.user))
    await socket.send_json_to(
        {"id": "mine", "type": "subscribe", "payload": {"query": "subscription { accountUpdated { points } }"}}
    )
    await socket.send_json_to(
        {
            "id": "shop",
            "type": "subscribe",
            "payload": {
                "query": "subscription S($s: ID!) { shopActivity(shopId: $s) { points } }",
                "variables": {"s": str(relay.GlobalID("Shop", str(shop.pk)))},
            },
        }
    )
    await asyncio.sleep(0.3)

    await sync_to_async(_deliver)(shop, other, "OTHER-1", "15.00")
    first = await socket.receive_json_from(timeout=10)
    assert await socket.receive_nothing(timeout=1.0)
    await sync_to_async(_deliver)(shop, both, "MINE-1", "25.00")
    frames = [await socket.receive_json_from(timeout=10), await socket.receive_json_from(timeout=10)]
    await socket.disconnect()

    assert (first["id"], first["payload"]["data"]) == ("shop", {"shopActivity": {"points": 15}})
    assert sorted((frame["id"], frame["payload"]["data"]) for frame in frames) == [
        ("mine", {"accountUpdated": {"points": 25}}),
        ("shop", {"shopActivity": {"points": 25}}),
    ]
