"""Lot expiry and qualifying windows at the calendar's edges (``loyalty.services.periods``).

29 February, month ends, and daylight saving time in the shop's zone (America/New_York, and
Asia/Tehran, which kept +04:30 summers until 2022 and is +03:30 all year since). Months and
years are added on the UTC calendar; calendar years are the shop's. Every expected datetime
below is worked out by hand in the comment beside it.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine

from loyalty.models import LoyaltyProgram, MemberAccount, PointsLot, TierChange, TierWindow
from loyalty.services.adjustments import points_adjust
from loyalty.services.lifecycle import RequalificationSummary, tiers_requalify_due
from loyalty.services.orders import order_event_process
from loyalty.services.periods import calendar_year_bounds, lot_expires_at, year_start, years_after
from loyalty.services.tiers import window_bounds
from marketplace.models import StaffRole
from marketplace.services.orders import order_event_record
from tests.factories import CustomerFactory, ShopFactory, order_input, shop_with_program, staff

UTC = dt.UTC
NY = zoneinfo.ZoneInfo("America/New_York")
TEHRAN = zoneinfo.ZoneInfo("Asia/Tehran")


def _program(
    *, expiry_months: int | None = 12, window: str = TierWindow.ROLLING_12_MONTHS, zone: str = "America/New_York"
) -> LoyaltyProgram:
    """An unsaved program of an unsaved shop in ``zone``: enough for the pure functions (no database)."""
    return LoyaltyProgram(expiry_months=expiry_months, tier_window=window, shop=ShopFactory.build(timezone=zone))


# --- lot expiry: the rule ----------------------------------------------------------------------


@pytest.mark.parametrize("months", [None, 0])
def test_a_program_without_expiry_gives_lots_that_never_expire(months):
    # given a program whose expiry_months is empty
    program = _program(expiry_months=months)
    # when a lot becomes available
    expires = lot_expires_at(program=program, available_at=dt.datetime(2028, 2, 29, 12, tzinfo=UTC))
    # then it never expires
    assert expires is None


def test_a_naive_available_at_is_refused():
    # given a 12-month expiry, when the moment has no time zone, then it is refused
    with pytest.raises(ValueError):
        lot_expires_at(program=_program(), available_at=dt.datetime(2026, 1, 5, 12))


@pytest.mark.parametrize(
    ("months", "available_at", "expected"),
    [
        # 29 Feb 2028 + 12 months: 2029 has no 29 Feb, so its last February day
        (12, dt.datetime(2028, 2, 29, 15, 0, tzinfo=UTC), dt.datetime(2029, 2, 28, 15, 0, tzinfo=UTC)),
        # 29 Feb 2028 + 48 months: 2032 is a leap year again
        (48, dt.datetime(2028, 2, 29, 15, 0, tzinfo=UTC), dt.datetime(2032, 2, 29, 15, 0, tzinfo=UTC)),
        # 29 Feb 2028 + 1 month: an ordinary day
        (1, dt.datetime(2028, 2, 29, 15, 0, tzinfo=UTC), dt.datetime(2028, 3, 29, 15, 0, tzinfo=UTC)),
        # 28 Feb 2027 + 12 months stays on the 28th (not "the end of February")
        (12, dt.datetime(2027, 2, 28, 15, 0, tzinfo=UTC), dt.datetime(2028, 2, 28, 15, 0, tzinfo=UTC)),
    ],
    ids=["leap-day-12", "leap-day-48", "leap-day-1", "28-feb-into-leap-year"],
)
def test_lots_made_available_around_29_february(months, available_at, expected):
    # given a program expiring lots after ``months``
    program = _program(expiry_months=months)
    # when a lot becomes available at ``available_at``
    expires = lot_expires_at(program=program, available_at=available_at)
    # then it expires at the hand-computed moment, in UTC
    assert expires == expected
    assert expires.tzinfo is UTC


@pytest.mark.parametrize(
    ("months", "available_at", "expected"),
    [
        # 31 Jan + 1 month: February has 28 days in 2026 ...
        (1, dt.datetime(2026, 1, 31, 10, tzinfo=UTC), dt.datetime(2026, 2, 28, 10, tzinfo=UTC)),
        # ... and 29 in 2028
        (1, dt.datetime(2028, 1, 31, 10, tzinfo=UTC), dt.datetime(2028, 2, 29, 10, tzinfo=UTC)),
        # 30 Jan + 1 month: clipped to 28 Feb as well
        (1, dt.datetime(2026, 1, 30, 10, tzinfo=UTC), dt.datetime(2026, 2, 28, 10, tzinfo=UTC)),
        # 31 Jan + 2 months counts from the 31st: 31 March, not 28 March
        (2, dt.datetime(2026, 1, 31, 10, tzinfo=UTC), dt.datetime(2026, 3, 31, 10, tzinfo=UTC)),
        # 31 Mar + 1 month: April has 30 days
        (1, dt.datetime(2026, 3, 31, 10, tzinfo=UTC), dt.datetime(2026, 4, 30, 10, tzinfo=UTC)),
        # 31 Dec + 1 month crosses the year
        (1, dt.datetime(2026, 12, 31, 10, tzinfo=UTC), dt.datetime(2027, 1, 31, 10, tzinfo=UTC)),
    ],
    ids=["31-jan-common", "31-jan-leap", "30-jan", "31-jan-plus-2", "31-mar", "31-dec"],
)
def test_lots_made_available_on_month_ends(months, available_at, expected):
    # given a program expiring lots after ``months``
    program = _program(expiry_months=months)
    # when a lot becomes available on a month's last days
    expires = lot_expires_at(program=program, available_at=available_at)
    # then a day the target month lacks falls on its last day
    assert expires == expected


def test_the_offset_the_caller_passes_does_not_change_the_expiry():
    # given a lot available at 30 Jan 2026 21:00 in New York (EST, -05:00) = 31 Jan 02:00 UTC
    program = _program(expiry_months=1)
    local = dt.datetime(2026, 1, 30, 21, tzinfo=NY)
    # when its expiry is computed from the local and from the UTC form of the same instant
    from_local = lot_expires_at(program=program, available_at=local)
    from_utc = lot_expires_at(program=program, available_at=local.astimezone(UTC))
    # then both are 31 Jan 02:00 UTC + 1 month = 28 Feb 02:00 UTC (27 Feb 21:00 EST)
    assert from_local == from_utc == dt.datetime(2026, 2, 28, 2, tzinfo=UTC)
    assert from_local.astimezone(NY) == dt.datetime(2026, 2, 27, 21, tzinfo=NY)


# --- lot expiry: daylight saving time in the shop's zone ---------------------------------------


def test_expiry_across_the_march_change_in_new_york():
    # given a lot available 7 Mar 2026 17:00 UTC = 12:00 EST, the day before clocks go forward
    program = _program(expiry_months=1)
    # when it expires a month later
    expires = lot_expires_at(program=program, available_at=dt.datetime(2026, 3, 7, 17, tzinfo=UTC))
    # then at 7 Apr 17:00 UTC, which New York reads as 13:00 EDT (the UTC time is kept)
    assert expires == dt.datetime(2026, 4, 7, 17, tzinfo=UTC)
    assert expires.astimezone(NY).replace(tzinfo=None) == dt.datetime(2026, 4, 7, 13, 0)


def test_expiry_landing_in_the_skipped_hour_in_new_york_is_a_real_instant():
    # given a lot available 8 Feb 2026 07:30 UTC = 02:30 EST; 8 Mar 2026 02:30 does not exist in
    # New York (02:00 EST jumps to 03:00 EDT at 07:00 UTC)
    program = _program(expiry_months=1)
    # when it expires a month later
    expires = lot_expires_at(program=program, available_at=dt.datetime(2026, 2, 8, 7, 30, tzinfo=UTC))
    # then at 8 Mar 07:30 UTC, which is 03:30 EDT
    assert expires == dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    local = expires.astimezone(NY)
    assert (local.hour, local.minute, local.utcoffset()) == (3, 30, dt.timedelta(hours=-4))


def test_expiry_across_the_november_change_in_new_york():
    # given a lot available 1 Oct 2026 16:00 UTC = 12:00 EDT
    program = _program(expiry_months=1)
    # when it expires a month later, on 1 Nov 2026 when clocks went back at 02:00 EDT (06:00 UTC)
    expires = lot_expires_at(program=program, available_at=dt.datetime(2026, 10, 1, 16, tzinfo=UTC))
    # then at 1 Nov 16:00 UTC, which New York reads as 11:00 EST
    assert expires == dt.datetime(2026, 11, 1, 16, tzinfo=UTC)
    assert expires.astimezone(NY).replace(tzinfo=None) == dt.datetime(2026, 11, 1, 11, 0)


def test_expiry_in_the_repeated_hour_in_new_york_keeps_the_two_instants_apart():
    # given two lots available an hour apart, 1 Oct 2026 05:30 and 06:30 UTC (01:30 and 02:30 EDT)
    program = _program(expiry_months=1)
    first = lot_expires_at(program=program, available_at=dt.datetime(2026, 10, 1, 5, 30, tzinfo=UTC))
    second = lot_expires_at(program=program, available_at=dt.datetime(2026, 10, 1, 6, 30, tzinfo=UTC))
    # then they expire an hour apart too, both at 01:30 on 1 Nov in New York: EDT, then EST
    assert (first, second) == (dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC), dt.datetime(2026, 11, 1, 6, 30, tzinfo=UTC))
    first_local, second_local = first.astimezone(NY), second.astimezone(NY)
    assert (first_local.hour, first_local.minute, first_local.utcoffset()) == (1, 30, dt.timedelta(hours=-4))
    assert (second_local.hour, second_local.minute, second_local.utcoffset()) == (1, 30, dt.timedelta(hours=-5))


def test_expiry_in_tehran_before_and_after_daylight_saving_time_was_abolished():
    # given a Tehran shop and lots available at 08:30 UTC on 1 July 2022 (13:00 +04:30, the last
    # summer time) and on 1 July 2024 (12:00 +03:30: no summer time since 2023)
    program = _program(expiry_months=12, zone="Asia/Tehran")
    from_2022 = lot_expires_at(program=program, available_at=dt.datetime(2022, 7, 1, 8, 30, tzinfo=UTC))
    from_2024 = lot_expires_at(program=program, available_at=dt.datetime(2024, 7, 1, 8, 30, tzinfo=UTC))
    # then each expires 12 months later at 08:30 UTC, which Tehran reads as 12:00 +03:30
    assert from_2022 == dt.datetime(2023, 7, 1, 8, 30, tzinfo=UTC)
    assert from_2024 == dt.datetime(2025, 7, 1, 8, 30, tzinfo=UTC)
    assert from_2022.astimezone(TEHRAN).replace(tzinfo=None) == dt.datetime(2023, 7, 1, 12, 0)
    assert from_2024.astimezone(TEHRAN).utcoffset() == dt.timedelta(hours=3, minutes=30)


# --- qualifying windows ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "start"),
    [
        # the 12 months up to 29 Feb 2028 start on 28 Feb 2027 (2027 has no 29 Feb)
        (dt.datetime(2028, 2, 29, 12, tzinfo=UTC), dt.datetime(2027, 2, 28, 12, tzinfo=UTC)),
        # the 12 months up to 28 Feb 2029 start on 28 Feb 2028, the day before the leap day
        (dt.datetime(2029, 2, 28, 12, tzinfo=UTC), dt.datetime(2028, 2, 28, 12, tzinfo=UTC)),
        # and up to 1 Mar 2029 on 1 Mar 2028: the leap day is in the window
        (dt.datetime(2029, 3, 1, 12, tzinfo=UTC), dt.datetime(2028, 3, 1, 12, tzinfo=UTC)),
        # 31 Mar stays the 31st a year back
        (dt.datetime(2027, 3, 31, 23, 59, tzinfo=UTC), dt.datetime(2026, 3, 31, 23, 59, tzinfo=UTC)),
    ],
    ids=["leap-day", "28-feb-after-leap-year", "1-mar-after-leap-year", "31-mar"],
)
def test_rolling_window_starts_a_year_earlier(at, start):
    # given a rolling 12-month program
    program = _program(window=TierWindow.ROLLING_12_MONTHS)
    # when the window containing ``at`` is asked for
    bounds = window_bounds(program, at)
    # then it starts a year earlier and has no fixed end
    assert bounds == (start, None)


def test_rolling_window_across_daylight_saving_time_keeps_the_utc_time():
    # given a New York program and 10 Mar 2027 12:00 UTC = 07:00 EST (summer time starts 14 Mar)
    program = _program(window=TierWindow.ROLLING_12_MONTHS)
    # when the window up to it is asked for
    start, _ = window_bounds(program, dt.datetime(2027, 3, 10, 12, tzinfo=UTC))
    # then it starts 10 Mar 2026 12:00 UTC, which was 08:00 EDT (summer time began 8 Mar 2026)
    assert start == dt.datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert start.astimezone(NY).replace(tzinfo=None) == dt.datetime(2026, 3, 10, 8, 0)


def test_rolling_anniversaries_of_a_leap_day_anchor_tile_the_years():
    # given a member anchored (e.g. upgraded) on 29 Feb 2028 at 12:00 UTC
    anchor = dt.datetime(2028, 2, 29, 12, tzinfo=UTC)
    # when the requalification anniversaries are computed
    ends = [years_after(moment=anchor, years=n) for n in range(1, 5)]
    # then they fall on 28 Feb in common years and on 29 Feb in 2032
    assert ends == [
        dt.datetime(2029, 2, 28, 12, tzinfo=UTC),
        dt.datetime(2030, 2, 28, 12, tzinfo=UTC),
        dt.datetime(2031, 2, 28, 12, tzinfo=UTC),
        dt.datetime(2032, 2, 29, 12, tzinfo=UTC),
    ]
    # and each window [end - 1 year, end) starts where the previous one ended
    starts = [years_after(moment=end, years=-1) for end in ends]
    assert starts == [dt.datetime(2028, 2, 28, 12, tzinfo=UTC), *ends[:-1]]


def test_a_lifetime_window_is_unbounded():
    # given a lifetime program, when the window is asked for, then it has no bounds
    assert window_bounds(_program(window=TierWindow.LIFETIME), dt.datetime(2028, 2, 29, tzinfo=UTC)) == (None, None)


def test_the_calendar_year_of_a_leap_day_is_the_shops_year():
    # given a New York calendar-year program
    program = _program(window=TierWindow.CALENDAR_YEAR)
    # when the window containing 29 Feb 2028 is asked for
    start, end = window_bounds(program, dt.datetime(2028, 2, 29, 12, tzinfo=UTC))
    # then it is [1 Jan 2028, 1 Jan 2029) at New York midnight (05:00 UTC in winter)
    assert (start, end) == (dt.datetime(2028, 1, 1, 5, tzinfo=UTC), dt.datetime(2029, 1, 1, 5, tzinfo=UTC))
    assert start == dt.datetime(2028, 1, 1, tzinfo=NY)


@pytest.mark.parametrize(
    ("zone", "last_moment", "new_year"),
    [
        # New York: 31 Dec 2026 23:59:59 EST = 1 Jan 2027 04:59:59 UTC; the year turns at 05:00 UTC
        ("America/New_York", dt.datetime(2027, 1, 1, 4, 59, 59, tzinfo=UTC), dt.datetime(2027, 1, 1, 5, tzinfo=UTC)),
        # Tehran (+03:30 all year now): the year turns at 31 Dec 2026 20:30 UTC
        (
            "Asia/Tehran",
            dt.datetime(2026, 12, 31, 20, 29, 59, tzinfo=UTC),
            dt.datetime(2026, 12, 31, 20, 30, tzinfo=UTC),
        ),
    ],
    ids=["new-york", "tehran"],
)
def test_the_calendar_year_turns_at_the_shops_midnight(zone, last_moment, new_year):
    # given a calendar-year program in ``zone``
    program = _program(window=TierWindow.CALENDAR_YEAR, zone=zone)
    # when the years containing the last second of 2026 and the first of 2027 (local) are asked for
    before = calendar_year_bounds(program=program, at=last_moment)
    after = calendar_year_bounds(program=program, at=new_year)
    # then the first is 2026 and the second 2027, split at local midnight
    assert before == (year_start(program=program, year=2026), new_year)
    assert after == (new_year, year_start(program=program, year=2028))
    assert before[0].astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None) == dt.datetime(2026, 1, 1)


# --- the callers, through the database --------------------------------------------------------


@pytest.fixture
def _clock_in_2030():
    """Orders cannot be recorded in the future: let the wall clock run from 2030 (services take their own times)."""
    with time_machine.travel(dt.datetime(2030, 6, 1, tzinfo=UTC), tick=True):
        yield


def _deliver(shop, customer, order_id: str, amount: str, at: dt.datetime):
    """Record and process one delivered order (no broadcast)."""
    result = order_event_record(
        data=order_input(shop, order_id, customer=customer, amount=amount, at=at),
        idempotency_key=f"{shop.pk}:{order_id}",
        actor=None,
    )
    return order_event_process(event_id=result.event.pk, broadcast=False)


def _shop(**program_fields):
    shop = shop_with_program()
    LoyaltyProgram.objects.filter(shop=shop).update(**program_fields)
    return shop


@pytest.mark.django_db
@pytest.mark.usefixtures("_clock_in_2030")
def test_an_order_lot_available_on_29_february_expires_on_28_february():
    # given a 12-month expiry and an order delivered 15 Feb 2028 12:00 UTC (14 days pending)
    shop = _shop(expiry_months=12)
    # when it is processed
    _deliver(shop, CustomerFactory(), "L1", "100.00", dt.datetime(2028, 2, 15, 12, tzinfo=UTC))
    # then its lot is available on 29 Feb 2028 and expires on 28 Feb 2029, same UTC time
    lot = PointsLot.objects.get()
    assert lot.available_at == dt.datetime(2028, 2, 29, 12, tzinfo=UTC)
    assert lot.expires_at == dt.datetime(2029, 2, 28, 12, tzinfo=UTC)


@pytest.mark.django_db
@pytest.mark.usefixtures("_clock_in_2030")
def test_a_welcome_bonus_paid_on_29_february_expires_on_28_february():
    # given a welcome bonus and a 12-month expiry
    shop = _shop(expiry_months=12, welcome_bonus_points=50)
    # when a member enrols with an order delivered on 29 Feb 2028 12:00 UTC
    _deliver(shop, CustomerFactory(), "W1", "10.00", dt.datetime(2028, 2, 29, 12, tzinfo=UTC))
    # then the bonus lot is available at once and expires on 28 Feb 2029
    lot = PointsLot.objects.get(entry__idempotency_key__startswith="welcome:")
    assert lot.expires_at == dt.datetime(2029, 2, 28, 12, tzinfo=UTC)


@pytest.mark.django_db
@pytest.mark.usefixtures("_clock_in_2030")
def test_a_staff_adjustment_on_31_january_expires_at_the_end_of_february():
    # given a 1-month expiry, a member, and the shop's owner
    shop = _shop(expiry_months=1)
    customer = CustomerFactory()
    _deliver(shop, customer, "A1", "10.00", dt.datetime(2026, 1, 5, 12, tzinfo=UTC))
    account = MemberAccount.objects.get(customer=customer)
    owner = staff(shop, StaffRole.OWNER)
    # when the owner adds points on 31 Jan 2026 at 10:00 UTC
    result = points_adjust(
        user=owner,
        account_id=account.pk,
        points=25,
        reason="Goodwill",
        idempotency_key="leap-adjust",
        now=dt.datetime(2026, 1, 31, 10, tzinfo=UTC),
    )
    # then the new lot expires on 28 Feb 2026 at 10:00 UTC
    assert PointsLot.objects.get(entry=result.entry).expires_at == dt.datetime(2026, 2, 28, 10, tzinfo=UTC)


@pytest.mark.django_db
@pytest.mark.usefixtures("_clock_in_2030")
def test_a_member_upgraded_on_29_february_is_requalified_on_28_february():
    # given a rolling-window program and a member who reaches Silver on 1 Feb 2028 and Gold on
    # 29 Feb 2028 12:00 UTC (the anchor of their hold)
    shop = _shop(tier_window=TierWindow.ROLLING_12_MONTHS)
    customer = CustomerFactory()
    _deliver(shop, customer, "R1", "150.00", dt.datetime(2028, 2, 1, 12, tzinfo=UTC))
    _deliver(shop, customer, "R2", "150.00", dt.datetime(2028, 2, 29, 12, tzinfo=UTC))
    assert MemberAccount.objects.select_related("tier").get(customer=customer).tier.name == "Gold"
    anniversary = dt.datetime(2029, 2, 28, 12, tzinfo=UTC)
    # when the job runs a second before and then at the anniversary (2029 has no 29 Feb)
    before = tiers_requalify_due(now=anniversary - dt.timedelta(seconds=1), broadcast=False)
    at = tiers_requalify_due(now=anniversary, broadcast=False)
    # then nothing is due before; at it the window [28 Feb 2028 12:00, 28 Feb 2029 12:00) holds
    # only R2 (150.00), which keeps Silver but not Gold
    assert before == RequalificationSummary()
    assert at == RequalificationSummary(accounts=1, moved_down=1)
    account = MemberAccount.objects.select_related("tier").get(customer=customer)
    assert (account.tier.name, account.requalified_through) == ("Silver", anniversary)
    reason = TierChange.objects.filter(account=account).order_by("pk").last().reason
    assert reason == "Requalified on 2029-02-28: 150.00 spent in the 12 months before moves down from Gold to Silver"
