"""Completion reaches both members' accountUpdated and the shop's shopActivity (real channel layer)."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from strawberry import relay

from loyalty.services.orders import order_event_process
from marketplace.models import StaffRole
from marketplace.services.orders import order_event_record
from referrals.services import referral_apply
from tests.api.test_subscriptions import ACCOUNT_UPDATED, SHOP_ACTIVITY, _connect, _session_cookie, _subscribe
from tests.factories import CustomerFactory, order_input, staff
from tests.referrals.helpers import T0, member_with_code, referral_shop

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    yield
    await sync_to_async(connections.close_all)()


def _setup():
    shop = referral_shop()
    referrer, code = member_with_code(shop)
    friend = CustomerFactory()
    referral_apply(user=friend.user, shop_id=shop.pk, code=code.code, now=T0)
    return shop, referrer.customer.user, friend, friend.user, staff(shop, StaffRole.MANAGER)


def _deliver(shop, friend):
    event = order_event_record(
        data=order_input(shop, "F1", customer=friend, amount="30.00", at=T0 + dt.timedelta(days=2)),
        idempotency_key="F1",
        actor=None,
        notify=False,
    ).event
    order_event_process(event_id=event.pk, broadcast=True)


async def test_completion_is_pushed_to_both_members_and_the_shop():
    shop, referrer_user, friend, friend_user, manager = await sync_to_async(_setup)()
    ann = await _connect(await sync_to_async(_session_cookie)(referrer_user))
    await _subscribe(ann, ACCOUNT_UPDATED, {})
    bob = await _connect(await sync_to_async(_session_cookie)(friend_user))
    await _subscribe(bob, ACCOUNT_UPDATED, {})
    till = await _connect(await sync_to_async(_session_cookie)(manager))
    await _subscribe(till, SHOP_ACTIVITY, {"shopId": str(relay.GlobalID("Shop", str(shop.pk)))})

    await sync_to_async(_deliver)(shop, friend)

    ann_seen = (await ann.receive_json_from(timeout=10))["payload"]["data"]["accountUpdated"]
    assert (ann_seen["kind"], ann_seen["points"]) == ("bonus", 100)
    assert "Referral bonus" in ann_seen["reason"]
    bob_seen = [(await bob.receive_json_from(timeout=10))["payload"]["data"]["accountUpdated"] for _ in range(2)]
    assert sorted((e["kind"], e["points"]) for e in bob_seen) == [("bonus", 50), ("earn", 30)]
    shop_seen = [(await till.receive_json_from(timeout=10))["payload"]["data"]["shopActivity"] for _ in range(3)]
    assert sorted((e["kind"], e["points"]) for e in shop_seen) == [("bonus", 50), ("bonus", 100), ("earn", 30)]
    for socket in (ann, bob, till):
        await socket.disconnect()
