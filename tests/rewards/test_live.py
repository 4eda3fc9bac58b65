"""Redemption changes reach the member's accountUpdated and the shop's shopActivity (real channel layer)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from strawberry import relay

from marketplace.models import StaffRole
from rewards.services import redemption_cancel, redemption_consume, reward_redeem
from tests.api.test_subscriptions import ACCOUNT_UPDATED, SHOP_ACTIVITY, _connect, _session_cookie, _subscribe
from tests.factories import staff
from tests.rewards.conftest import member_with_points, points_shop, reward

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    yield
    await sync_to_async(connections.close_all)()


async def test_issued_consumed_and_cancelled_redemptions_are_pushed_live():
    shop = await sync_to_async(points_shop)()
    member = await sync_to_async(member_with_points)(shop)
    cashier = await sync_to_async(staff)(shop, StaffRole.CASHIER)
    gift, other = await sync_to_async(reward)(shop), await sync_to_async(reward)(shop, name="Cap")
    mine = await _connect(await sync_to_async(_session_cookie)(member.user))
    await _subscribe(mine, ACCOUNT_UPDATED, {})
    manager = await sync_to_async(staff)(shop, StaffRole.MANAGER)  # the console's feed (activity:read)
    till = await _connect(await sync_to_async(_session_cookie)(manager))
    await _subscribe(till, SHOP_ACTIVITY, {"shopId": str(relay.GlobalID("Shop", str(shop.pk)))})

    first = await sync_to_async(reward_redeem)(user=member.user, reward_id=gift.pk, idempotency_key="a")
    second = await sync_to_async(reward_redeem)(user=member.user, reward_id=other.pk, idempotency_key="b")
    await sync_to_async(redemption_consume)(user=cashier, shop_id=shop.pk, code=first.redemption.code)
    await sync_to_async(redemption_cancel)(user=member.user, redemption_id=second.redemption.pk)

    seen = [(await mine.receive_json_from(timeout=10))["payload"]["data"]["accountUpdated"] for _ in range(4)]
    assert [(e["kind"], e["points"]) for e in seen] == [
        ("redemption_issued", -100),
        ("redemption_issued", -100),
        ("redemption_consumed", 0),
        ("redemption_cancelled", 100),
    ]
    assert seen[-1]["account"]["pointsPending"] == 0
    # each event names the ledger entry it posted: the redeem entries, none for a use, the refund
    ids = [first.redemption.redeem_entry_id, second.redemption.redeem_entry_id]
    refund_id = await sync_to_async(
        lambda: type(second.redemption).objects.get(pk=second.redemption.pk).refund_entry_id
    )()
    expected = [
        *(str(relay.GlobalID("PointsEntry", str(pk))) for pk in ids),
        None,
        str(relay.GlobalID("PointsEntry", str(refund_id))),
    ]
    assert [e["entryId"] for e in seen] == expected
    staff_seen = [
        (await till.receive_json_from(timeout=10))["payload"]["data"]["shopActivity"]["kind"] for _ in range(4)
    ]
    assert staff_seen == ["redemption_issued", "redemption_issued", "redemption_consumed", "redemption_cancelled"]
    await mine.disconnect()
    await till.disconnect()
