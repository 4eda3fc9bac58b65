"""What members do with messages, and what the feed announces. Redeeming a reward within 14 days marks the
latest marketing message (all its channels) *redeemed*; older or service messages are not credited. Feed
events older than two days are history, not news; win-back writes to members who lapsed lately."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm.models import MemberStats
from engagement.models import Channel, EngagementEvent, EngagementKind
from engagement.services.delivery import deliver
from engagement.services.jobs import engagement_plan_daily, feed_follow
from engagement.services.planning import plan
from integrations.services.publishing import events_publish
from loyalty.services.adjustments import points_adjust
from loyalty.services.orders import order_event_process
from marketplace.models import StaffRole
from marketplace.services.orders import order_event_record
from rewards.services import reward_redeem
from tests.engagement.helpers import member, tehran_shop
from tests.factories import order_input, staff
from tests.rewards.conftest import reward

pytestmark = pytest.mark.django_db


def _message(account, kind: str, key: str, at: dt.datetime) -> list[EngagementEvent]:
    events = plan(
        account=account,
        kind=kind,
        key=key,
        channels=[Channel.INBOX],
        texts={"en": {"subject": key, "body": "x"}},
        variables={"days_since_visit": "1", "gifts": []},
        planned_at=at,
    ).events
    for event in events:
        deliver(event.pk, now=at)
    return events


def test_a_redemption_credits_the_latest_marketing_message_within_14_days():
    shop = tehran_shop()
    owner = staff(shop, StaffRole.OWNER)
    account = member(shop)
    points_adjust(user=owner, account_id=account.pk, points=500, reason="Seed", idempotency_key="seed")
    now = timezone.now()
    old = _message(account, EngagementKind.CAMPAIGN, "campaign:old", now - dt.timedelta(days=20))
    latest = _message(account, EngagementKind.WIN_BACK, "winback:1", now - dt.timedelta(days=2))
    service = _message(account, EngagementKind.TIER_UPGRADE, "shopevent:x", now - dt.timedelta(days=1))
    events_publish()
    feed_follow()  # the feed so far: nothing redeemed yet
    reward_redeem(user=account.customer.user, reward_id=reward(shop).pk, idempotency_key="r1")
    events_publish()
    feed_follow()
    responses = {e.key: EngagementEvent.objects.get(pk=e.pk).response for e in (*old, *latest, *service)}
    assert responses == {"campaign:old": "", "winback:1": "redeemed", "shopevent:x": ""}
    # the code issued was itself announced (a service message), and is not credited either
    issued = EngagementEvent.objects.get(kind=EngagementKind.REDEMPTION_ISSUED, channel=Channel.INBOX)
    assert issued.response == ""


def test_old_feed_events_are_history_not_news():
    """An imported history (or days of downtime) does not announce old tier moves."""
    shop = tehran_shop()
    account = member(shop)
    now = timezone.now()
    for order_id, at, amount in (("OLD", now - dt.timedelta(days=10), "150.00"), ("NEW", now, "200.00")):
        recorded = order_event_record(
            data=order_input(shop, order_id, customer=account.customer, amount=amount, at=at),
            idempotency_key=order_id,
            actor=None,
            notify=False,
        )
        order_event_process(event_id=recorded.event.pk, broadcast=False)
    events_publish()
    assert feed_follow(now=now) >= 2  # both tier changes read (Bronze -> Silver ten days ago, -> Gold now)
    upgrades = EngagementEvent.objects.filter(kind=EngagementKind.TIER_UPGRADE, channel=Channel.INBOX)
    assert [e.body.split(":")[0] for e in upgrades] == [f"Congratulations, {account.customer.display_name}"]
    assert "to Gold" in upgrades.get().body


def test_win_back_nudges_members_who_lapsed_lately_not_those_quiet_for_years():
    shop = tehran_shop()
    now = dt.datetime(2026, 9, 1, 8, 30, tzinfo=dt.UTC)
    lately, long_ago = member(shop), member(shop)
    for account, days in ((lately, 95), (long_ago, 400)):
        MemberStats.objects.create(
            account=account, visits=1, last_visit_at=now - dt.timedelta(days=days), refreshed_at=now
        )
    summary = engagement_plan_daily(now=now, shop_id=shop.pk, kinds={EngagementKind.WIN_BACK})
    assert summary.messages[EngagementKind.WIN_BACK] > 0
    assert set(EngagementEvent.objects.values_list("account_id", flat=True)) == {lately.pk}
