"""Cultural events dated in the Jalali calendar: Nowruz 1405 (1 Farvardin = 21 March 2026) pays its bonus
once per member, across repeated and concurrent runs, with one message per member and channel; the
next Nowruz pays again."""

from __future__ import annotations

import datetime as dt

import pytest

from engagement.models import Channel, CulturalEvent, EngagementEvent, EngagementKind, EventStatus, OccasionCalendar
from engagement.services.jobs import cultural_event_year, engagement_plan_daily
from loyalty.models import EntryKind, MemberAccount, MemberStatus, PointsEntry
from loyalty.selectors import ledger_discrepancies
from tests.engagement.helpers import member, tehran_shop
from tests.loyalty.test_concurrency import run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True)]

NOWRUZ_1405 = dt.datetime(2026, 3, 21, 6, 0, tzinfo=dt.UTC)  # 09:30 in Tehran on 1 Farvardin 1405


def _nowruz(shop) -> CulturalEvent:
    return CulturalEvent.objects.create(
        shop=shop,
        name="Nowruz",
        name_fa="نوروز",
        calendar=OccasionCalendar.JALALI,
        month=1,
        day=1,
        bonus_points=200,
    )


def test_the_jalali_dates_of_the_three_events():
    nowruz, mehregan, yalda = (
        CulturalEvent(calendar=OccasionCalendar.JALALI, month=m, day=d) for m, d in ((1, 1), (7, 16), (9, 30))
    )
    assert cultural_event_year(nowruz, dt.date(2026, 3, 21)) == 1405
    assert cultural_event_year(nowruz, dt.date(2026, 3, 20)) is None
    assert cultural_event_year(mehregan, dt.date(2026, 10, 8)) == 1405
    assert cultural_event_year(yalda, dt.date(2026, 12, 21)) == 1405
    assert cultural_event_year(nowruz, dt.date(2027, 3, 21)) == 1406


def test_nowruz_1405_pays_once_per_member_across_repeated_and_concurrent_runs(postgres):
    shop = tehran_shop()
    members = [member(shop, locale="fa", consent_email=True) for _ in range(4)]
    blocked = member(shop)
    MemberAccount.objects.filter(pk=blocked.pk).update(status=MemberStatus.BLOCKED)
    event = _nowruz(shop)
    # the day before, nothing
    assert engagement_plan_daily(now=NOWRUZ_1405 - dt.timedelta(days=1), shop_id=shop.pk).bonuses == 0
    # on the day, two runs at once, then a third
    results = run_concurrently([lambda: engagement_plan_daily(now=NOWRUZ_1405, shop_id=shop.pk)] * 2)
    assert not [r for r in results if isinstance(r, Exception)], results
    again = engagement_plan_daily(now=NOWRUZ_1405 + dt.timedelta(hours=3), shop_id=shop.pk)
    assert sum(r.bonuses for r in results) == 4
    assert again.bonuses == 0
    assert sum(again.messages.values()) == 0
    bonuses = PointsEntry.objects.filter(kind=EntryKind.BONUS, idempotency_key__startswith=f"cultural:{event.pk}:")
    assert sorted(bonuses.values_list("account_id", flat=True)) == sorted(a.pk for a in members)
    assert set(bonuses.values_list("points", "reason")) == {(200, "Nowruz 1405")}
    for account in members:
        account.refresh_from_db()
        assert account.points_available == 200
    assert ledger_discrepancies() == []
    # one message per member and channel, in Persian, inbox and e-mail (no SMS consent, so skipped)
    messages = EngagementEvent.objects.filter(kind=EngagementKind.CULTURAL_EVENT)
    assert messages.count() == 4 * 3
    assert set(messages.filter(channel=Channel.SMS).values_list("status", flat=True)) in (
        {EventStatus.SKIPPED_CONSENT},
        {EventStatus.SKIPPED_UNAVAILABLE},
    )
    assert {m.subject for m in messages.filter(channel=Channel.INBOX)} == {"نوروز مبارک"}
    assert all("۲۰۰ امتیاز" in m.body for m in messages.filter(channel=Channel.INBOX))
    # the next Nowruz (1406) pays again
    assert engagement_plan_daily(now=NOWRUZ_1405.replace(year=2027), shop_id=shop.pk).bonuses == 4
