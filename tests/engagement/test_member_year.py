"""A member's year with the clock frozen at each step (time-machine): exactly the expected messages on the
expected channels; none on a channel without consent; nothing sent inside quiet hours."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter

import pytest
import time_machine
from django.utils import timezone

from engagement.models import (
    AttemptOutcome,
    Channel,
    CulturalEvent,
    DeliveryAttempt,
    EngagementEvent,
    EngagementKind,
    EventStatus,
    OccasionCalendar,
)
from engagement.services.delivery import deliver, due_events, in_quiet_hours
from engagement.services.jobs import engagement_plan_daily, feed_follow
from integrations.services.publishing import events_publish
from loyalty.services.orders import order_event_process
from marketplace.models import Customer
from marketplace.services.orders import order_event_record
from tests.engagement.helpers import TEHRAN, member, tehran_shop
from tests.factories import order_input

pytestmark = pytest.mark.django_db

TZ = zoneinfo.ZoneInfo(TEHRAN)


#: When the dispatcher runs in this test (UTC): after the daily job (04:40 in Tehran, quiet hours),
#: at the end of the quiet hours (09:00 in Tehran), and twice more. The real one runs every minute.
DISPATCH = (dt.time(1, 10), dt.time(5, 30), dt.time(12), dt.time(18))


def _run_day(day: dt.date) -> None:
    """The day as the schedules run it: the daily job at 01:10 UTC, then the dispatcher (feed, due
    deliveries) at each of :data:`DISPATCH`."""
    with time_machine.travel(dt.datetime.combine(day, dt.time(1, 10), dt.UTC), tick=False):
        engagement_plan_daily(now=timezone.now())
    for moment in DISPATCH:
        with time_machine.travel(dt.datetime.combine(day, moment, dt.UTC), tick=False):
            now = timezone.now()
            events_publish(now=now)
            feed_follow()
            for event_id in due_events(now=now):
                deliver(event_id, now=now)


def test_a_members_year_of_messages():
    shop = tehran_shop()
    CulturalEvent.objects.create(
        shop=shop, name="Yalda", name_fa="شب یلدا", calendar=OccasionCalendar.JALALI, month=9, day=30
    )
    # a Persian reader who agreed to e-mail only (a phone, no SMS consent), born 10 May, member since January 2025
    account = member(
        shop,
        locale="fa",
        consent_email=True,
        phone="+989121234567",
        birth_date=dt.date(1990, 5, 10),
        at=dt.datetime(2025, 1, 10, 9, tzinfo=dt.UTC),
    )
    customer = Customer.objects.get(pk=account.customer_id)
    order_day = dt.date(2026, 2, 1)
    day = dt.date(2026, 1, 1)
    while day <= dt.date(2026, 12, 31):
        if day == order_day:  # one order of 150.00: Bronze -> Silver (100)
            with time_machine.travel(dt.datetime(2026, 2, 1, 10, tzinfo=dt.UTC), tick=False):
                recorded = order_event_record(
                    data=order_input(shop, "Y1", customer=customer, amount="150.00", at=timezone.now()),
                    idempotency_key="Y1",
                    actor=None,
                    notify=False,
                )
                order_event_process(event_id=recorded.event.pk, broadcast=False)
        _run_day(day)
        day += dt.timedelta(days=1)

    events = EngagementEvent.objects.filter(account=account)
    by_kind = Counter((e.kind, e.channel, e.status) for e in events)
    sent, skipped = EventStatus.SENT, EventStatus.SKIPPED_CONSENT
    inbox, email, sms = EventStatus.DELIVERED, Channel.EMAIL, Channel.SMS
    expected = {
        # 10 January: the first anniversary
        (EngagementKind.ANNIVERSARY, Channel.INBOX, inbox): 1,
        (EngagementKind.ANNIVERSARY, email, sent): 1,
        # 1 February: the order moves them up to Silver (from the event feed)
        (EngagementKind.TIER_UPGRADE, Channel.INBOX, inbox): 1,
        (EngagementKind.TIER_UPGRADE, email, sent): 1,
        (EngagementKind.TIER_UPGRADE, Channel.PUSH, EventStatus.SKIPPED_CONSENT): 1,
        # 10 May: birthday; SMS has no consent
        (EngagementKind.BIRTHDAY, Channel.INBOX, inbox): 1,
        (EngagementKind.BIRTHDAY, email, sent): 1,
        (EngagementKind.BIRTHDAY, sms, skipped): 1,
        # 2 May (90 days after the visit): win-back, once for this dormant spell
        (EngagementKind.WIN_BACK, Channel.INBOX, inbox): 1,
        (EngagementKind.WIN_BACK, email, sent): 1,
        (EngagementKind.WIN_BACK, sms, skipped): 1,
        # 21 December (30 Azar 1405): Yalda
        (EngagementKind.CULTURAL_EVENT, Channel.INBOX, inbox): 1,
        (EngagementKind.CULTURAL_EVENT, email, sent): 1,
        (EngagementKind.CULTURAL_EVENT, sms, skipped): 1,
    }
    assert dict(by_kind) == expected
    # the right days, in the member's calendar and the shop's zone
    days = {(e.kind, e.channel): e.planned_at.astimezone(TZ).date() for e in events.filter(channel=Channel.INBOX)}
    assert days[(EngagementKind.ANNIVERSARY, Channel.INBOX)] == dt.date(2026, 1, 10)
    assert days[(EngagementKind.BIRTHDAY, Channel.INBOX)] == dt.date(2026, 5, 10)
    assert days[(EngagementKind.CULTURAL_EVENT, Channel.INBOX)] == dt.date(2026, 12, 21)
    # nothing but the inbox went out inside quiet hours (21:00-09:00 Tehran); the early ones waited
    for event in events.filter(status=sent):
        assert not in_quiet_hours(event.sent_at.astimezone(TZ).time(), dt.time(21), dt.time(9)), event
    waited = DeliveryAttempt.objects.filter(event__account=account, outcome=AttemptOutcome.DEFERRED)
    assert waited.count() >= 3  # the 04:40 daily messages by e-mail
    # in Persian
    yalda = events.get(kind=EngagementKind.CULTURAL_EVENT, channel=Channel.INBOX)
    assert yalda.subject == "شب یلدا مبارک"
