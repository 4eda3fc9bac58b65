"""What members do with messages: reading marks *opened*, following the link *clicked*, and redeeming a
reward within 14 days *redeemed* on the latest marketing message (all its channels); older or service
messages are not credited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from engagement.models import Channel, EngagementEvent, EngagementKind
from engagement.services.delivery import deliver
from engagement.services.jobs import feed_follow
from engagement.services.planning import plan
from integrations.services.publishing import events_publish
from loyalty.services.adjustments import points_adjust
from marketplace.models import StaffRole
from rewards.services import reward_redeem
from tests.engagement.helpers import member, tehran_shop
from tests.factories import staff
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
