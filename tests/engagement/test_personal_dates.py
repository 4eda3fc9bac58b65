# ruff: noqa: RUF001  (Persian digits and letters are meant)
"""Personal dates from the shop's record (a wedding anniversary, a member's own occasion) bring a message on
their day, in the member's calendar and language, once per year."""

from __future__ import annotations

import datetime as dt

import pytest

from crm.models import MemberProfile
from engagement.models import Channel, EngagementEvent, EngagementKind
from engagement.services.jobs import engagement_plan_daily
from marketplace.models import Customer
from tests.engagement.helpers import member, tehran_shop

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 6, 15, 8, 30, tzinfo=dt.UTC)  # 15 June 2026, 13:00 in Tehran


def test_a_wedding_anniversary_and_an_own_occasion_are_greeted_on_their_day_once():
    shop = tehran_shop(name="Saffron House")
    english = member(shop, locale="en", display_name="Ada")
    persian = member(shop, locale="fa", display_name="مریم")
    MemberProfile.objects.create(
        account=english,
        personal_dates=[
            {"kind": "anniversary", "label": "", "date": "2019-06-15"},
            {"kind": "custom", "label": "Shop opening day", "date": "2026-06-15"},  # this year: not yet an occasion
        ],
    )
    # a Jalali member's date recurs on its Jalali day: 25 Khordad 1398 (15 June 2019) is 15 June 2026 too
    Customer.objects.filter(pk=persian.customer_id).update(calendar="jalali")
    MemberProfile.objects.create(
        account=persian, personal_dates=[{"kind": "anniversary", "label": "", "date": "2019-06-15"}]
    )
    engagement_plan_daily(now=NOON - dt.timedelta(days=1), shop_id=shop.pk)
    assert not EngagementEvent.objects.exists()  # the day before: nothing
    first = engagement_plan_daily(now=NOON, shop_id=shop.pk)
    again = engagement_plan_daily(now=NOON + dt.timedelta(hours=2), shop_id=shop.pk)
    assert first.messages[EngagementKind.PERSONAL_DATE] == 2 * 2  # two members, inbox and e-mail each
    assert sum(again.messages.values()) == 0
    inbox = {e.account_id: e for e in EngagementEvent.objects.filter(channel=Channel.INBOX)}
    assert inbox[english.pk].subject == "Happy wedding anniversary, Ada"
    assert "(7 years)" in inbox[english.pk].body
    assert inbox[persian.pk].subject == "سالگرد ازدواج مبارک"
    assert "(۷ سال)" in inbox[persian.pk].body
