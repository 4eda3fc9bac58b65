"""An adjustment reaches the member's accountUpdated through the real channel layer."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from loyalty.models import MemberAccount
from loyalty.services.adjustments import points_adjust
from marketplace.models import StaffRole
from tests.api.test_subscriptions import ACCOUNT_UPDATED, _connect, _session_cookie, _subscribe
from tests.factories import staff
from tests.rewards.conftest import member_with_points, points_shop

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    yield
    await sync_to_async(connections.close_all)()


async def test_adjustment_is_pushed_to_the_member():
    shop = await sync_to_async(points_shop)()
    member = await sync_to_async(member_with_points)(shop)
    owner = await sync_to_async(staff)(shop, StaffRole.OWNER)
    account = await sync_to_async(MemberAccount.objects.get)(customer=member)
    socket = await _connect(await sync_to_async(_session_cookie)(member.user))
    await _subscribe(socket, ACCOUNT_UPDATED, {})

    await sync_to_async(points_adjust)(
        user=owner, account_id=account.pk, points=-40, reason="Duplicate order", idempotency_key="x"
    )

    event = (await socket.receive_json_from(timeout=10))["payload"]["data"]["accountUpdated"]
    assert (event["kind"], event["points"], event["reason"]) == ("adjust", -40, "Adjusted by staff: Duplicate order")
    await socket.disconnect()
