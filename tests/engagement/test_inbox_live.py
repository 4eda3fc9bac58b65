"""Live updates in the member's language; a new inbox message reaches the member's dashboard live
(accountUpdated, kind inbox) and never the shop's activity feed (its subject is the member's)."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction
from strawberry import relay

from engagement.models import Channel, EngagementKind
from engagement.services.delivery import deliver
from engagement.services.planning import plan
from loyalty.services.adjustments import points_adjust
from loyalty.services.tiers import account_get_or_enroll
from marketplace.models import StaffRole
from tests.api.test_subscriptions import ACCOUNT_UPDATED, SHOP_ACTIVITY, _connect, _session_cookie, _subscribe
from tests.factories import CustomerFactory, shop_with_program, staff

pytestmark = [pytest.mark.django_db(transaction=True)]


def _world():
    shop = shop_with_program()
    customer = CustomerFactory()
    with transaction.atomic():
        account, _ = account_get_or_enroll(customer=customer, program=shop.program, at=dt.datetime.now(dt.UTC))
    return shop, customer, account, staff(shop, StaffRole.MANAGER)


def _send(account) -> None:
    account = type(account).objects.select_related("customer", "tier", "program__shop").get(pk=account.pk)
    with transaction.atomic():
        event = plan(
            account=account,
            kind=EngagementKind.CAMPAIGN,
            key="live",
            channels=[Channel.INBOX],
            texts={"en": {"subject": "Saffron week", "body": "x"}},
        ).events[0]
    deliver(event.pk)  # broadcasts after its transaction commits


async def test_an_inbox_message_reaches_the_member_live_and_not_the_shop_feed():
    shop, customer, account, manager = await sync_to_async(_world)()
    member = await _connect(await sync_to_async(_session_cookie)(customer.user))
    await _subscribe(member, ACCOUNT_UPDATED, {})
    console = await _connect(await sync_to_async(_session_cookie)(manager))
    await _subscribe(console, SHOP_ACTIVITY, {"shopId": str(relay.GlobalID("Shop", str(shop.pk)))})

    await sync_to_async(_send)(account)

    message = await member.receive_json_from(timeout=10)
    assert message["payload"]["data"]["accountUpdated"]["kind"] == "inbox"
    assert await console.receive_nothing(timeout=1.0)
    await member.disconnect()
    await console.disconnect()


ACCOUNT_UPDATED_FA = (
    """subscription($language: String) { accountUpdated { kind points reason(language: $language) } }"""
)


async def test_a_live_update_reads_in_the_members_language():
    shop, customer, account, _ = await sync_to_async(_world)()
    member = await _connect(await sync_to_async(_session_cookie)(customer.user))
    await _subscribe(member, ACCOUNT_UPDATED_FA, {"language": "fa"})
    owner = await sync_to_async(staff)(shop, StaffRole.OWNER)
    await sync_to_async(points_adjust)(
        user=owner, account_id=account.pk, points=120, reason="Goodwill", idempotency_key="live-fa"
    )
    message = await member.receive_json_from(timeout=10)
    assert message["payload"]["data"]["accountUpdated"] == {
        "kind": "adjust",
        "points": 120,
        "reason": "اصلاح امتیاز از سوی فروشگاه: Goodwill",
    }
    await member.disconnect()
