"""A member's year, with the clock frozen at each step (time-machine): earn, release, partial return,
redemption, expiry, birthdays in both calendars, requalification, with the balances after each step.

The shop is in Tehran; its program: 1 point per unit, 14 pending days, points expire 6 months
after they become available, tiers (Bronze 0 / Silver 100 / Gold 250 / Platinum 500 of spend)
qualify per calendar year and downgrade at requalification, welcome bonus 50 (repeated on the
membership anniversary), birthday bonus 100. Each job runs twice: the second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import jdatetime
import pytest
import time_machine

from loyalty.models import LoyaltyProgram, MemberAccount, TierChange
from loyalty.selectors import ledger_discrepancies
from loyalty.services.lifecycle import points_expire_due, points_release_due, tiers_requalify_due
from loyalty.services.occasions import occasions_bonus_due
from loyalty.services.orders import order_event_process
from marketplace.services.orders import order_event_record
from rewards.services.redemptions import reward_redeem
from tests.factories import CustomerFactory, order_input, shop_with_program
from tests.rewards.conftest import reward

pytestmark = pytest.mark.django_db

TEHRAN = zoneinfo.ZoneInfo("Asia/Tehran")


def at(year: int, month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=TEHRAN)


def balances(customer) -> tuple[int, int, str]:
    account = MemberAccount.objects.select_related("tier").get(customer=customer)
    return account.points_available, account.points_pending, account.tier.name


def twice(job, now: dt.datetime):
    """Run a job as of ``now`` twice; the second run must change nothing (no points, no moves)."""
    first = job(now=now, broadcast=False)
    again = job(now=now, broadcast=False)
    assert getattr(again, "points", 0) == 0
    assert getattr(again, "moved_down", 0) == 0
    return first


def record(shop, customer, order_id, status, when, **fields):
    event = order_event_record(
        data=order_input(shop, order_id, status, customer=customer, at=when, **fields),
        idempotency_key=f"{order_id}:{status}:{when.isoformat()}",
        actor=None,
    ).event
    order_event_process(event_id=event.pk, broadcast=False)


def test_a_members_year_in_both_calendars():
    shop = shop_with_program(timezone="Asia/Tehran")
    LoyaltyProgram.objects.filter(shop=shop).update(
        pending_days=14,
        expiry_months=6,
        tier_window="calendar_year",
        downgrade_policy="requalification",
        welcome_bonus_points=50,
        birthday_bonus_points=100,
    )
    sara = CustomerFactory(birth_date=dt.date(1990, 6, 15), calendar="gregorian")
    # Born 1 Farvardin 1375, which was 20 March 1996; 1 Farvardin 1404 is 21 March 2025, so a
    # Gregorian reading of his birthday would pay a day early.
    farvardin_1 = jdatetime.date(1375, 1, 1).togregorian()
    dariush = CustomerFactory(birth_date=farvardin_1, calendar="jalali")
    assert farvardin_1 == dt.date(1996, 3, 20)
    assert jdatetime.date(1404, 1, 1).togregorian() == dt.date(2025, 3, 21)

    # 10 Jan 2025: Sara's first order, 300.00 (1 x 100 + 2 x 100): welcome 50 available at once,
    # 300 pending until 24 Jan; 300 of spend makes her Gold straight away.
    with time_machine.travel(at(2025, 1, 10), tick=False):
        record(shop, sara, "S1", "delivered", at(2025, 1, 10), items=((1, "100.00"), (2, "100.00")))
    assert balances(sara) == (50, 300, "Gold")

    # 20 Jan: one unit of line 2 comes back: floor(300 x 100 / 300) = 100 points, from pending.
    # Her qualifying spend drops to 200: the return undoes the upgrade it paid for, to Silver
    # (she held Bronze when the year began, so nothing protects Gold).
    with time_machine.travel(at(2025, 1, 20), tick=False):
        record(shop, sara, "S1", "partially_returned", at(2025, 1, 20), returned=((2, 1),), lines=False)
    assert balances(sara) == (50, 200, "Silver")
    back = TierChange.objects.filter(account__customer=sara).latest("id")
    assert (back.from_tier.name, back.to_tier.name) == ("Gold", "Silver")
    assert back.reason == "Order S1 partially returned: qualifying value fell"

    # 25 Jan: the return window has passed (delivered 10 Jan + 14 days): 200 become available.
    assert twice(points_release_due, at(2025, 1, 25)).points == 200
    assert balances(sara) == (250, 0, "Silver")

    # 1 Feb: she redeems a 120-point gift: the welcome lot (expires 10 Jul) goes first, then 70
    # of the order's lot (expires 24 Jul).
    gift = reward(shop, points_cost=120)
    with time_machine.travel(at(2025, 2, 1), tick=False):
        reward_redeem(user=sara.user, reward_id=gift.pk, idempotency_key="gift-1")
    assert balances(sara) == (130, 0, "Silver")

    # 1 Mar: Dariush joins with an 80.00 order: welcome 50 now, 80 pending.
    with time_machine.travel(at(2025, 3, 1), tick=False):
        record(shop, dariush, "D1", "delivered", at(2025, 3, 1), amount="80.00")
    assert balances(dariush) == (50, 80, "Bronze")

    # His 80 pending became available on 15 Mar; his birthday is 1 Farvardin: 21 March in
    # 2025. Nothing on the 20th (his Gregorian birth date); paid on the 21st (not again on the 23rd).
    assert twice(points_release_due, at(2025, 3, 20)).points == 80
    assert twice(occasions_bonus_due, at(2025, 3, 20)).birthdays == 0
    assert twice(occasions_bonus_due, at(2025, 3, 21)).birthdays == 1
    assert twice(occasions_bonus_due, at(2025, 3, 23)).birthdays == 0
    assert balances(dariush) == (230, 0, "Bronze")
    # Sara's Gregorian birthday: 15 June.
    assert twice(occasions_bonus_due, at(2025, 6, 15)).birthdays == 1
    assert balances(sara) == (230, 0, "Silver")

    # 25 Jul: the rest of Sara's order lot expired on 24 Jul: 300 earned - 100 returned - 70
    # spent = 130. The welcome lot was spent in full; Dariush's lots expire in September.
    assert twice(points_expire_due, at(2025, 7, 25)).points == 130
    assert balances(sara) == (100, 0, "Silver")

    # 16 Dec: Sara's birthday bonus (15 Jun + 6 months) and all of Dariush's points have expired.
    assert twice(points_expire_due, at(2025, 12, 16)).points == 100 + 230
    assert balances(sara) == (0, 0, "Silver")
    assert balances(dariush) == (0, 0, "Bronze")

    # 1 Jan 2026: requalification on the year that ended. Sara spent 200 in 2025: she keeps
    # Silver into 2026 (a member carried on a past year's tier would move down here).
    requalified = twice(tiers_requalify_due, at(2026, 1, 1, 1))
    assert requalified.moved_down == 0
    assert balances(sara) == (0, 0, "Silver")
    assert balances(dariush) == (0, 0, "Bronze")

    # 10 Jan 2026: Sara's first membership anniversary repeats the welcome bonus.
    assert twice(occasions_bonus_due, at(2026, 1, 10)).anniversaries == 1
    assert balances(sara) == (50, 0, "Silver")

    expired = MemberAccount.objects.get(customer=sara).points_expired
    assert expired == 230
    accounts = list(MemberAccount.objects.filter(program__shop=shop).values_list("pk", flat=True))
    assert ledger_discrepancies(account_ids=accounts) == []
