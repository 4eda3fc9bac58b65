"""Bonuses and occasions: welcome, birthday (Gregorian and Jalali) and anniversary bonuses, consent,
``shop.upcomingOccasions`` and ``memberProfileUpdate``."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import jdatetime
import pytest
import time_machine
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.db import connections

from loyalty.models import EntryKind, LoyaltyProgram, MemberAccount, PointsEntry, PointsLot
from loyalty.selectors import ledger_discrepancies
from loyalty.services.occasions import (
    contact_channels,
    occasion_date,
    occasions_bonus_due,
    upcoming_occasions,
)
from loyalty.services.orders import order_event_process
from loyalty.tasks import occasions_bonus_task
from marketplace.errors import ProfileError, ProfileErrorCode
from marketplace.models import Customer, StaffRole
from marketplace.services.orders import order_event_record
from marketplace.services.profile import ProfileChanges, member_profile_update
from tests.api.graphql import gql, login
from tests.factories import CustomerFactory, UserFactory, order_input, shop_with_program, staff
from tests.loyalty.test_concurrency import run_concurrently

TEHRAN = zoneinfo.ZoneInfo("Asia/Tehran")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
JOINED = dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC)


def _shop(*, welcome: int = 0, birthday: int = 0, **fields):
    shop = shop_with_program(**fields)
    LoyaltyProgram.objects.filter(shop=shop).update(
        welcome_bonus_points=welcome, birthday_bonus_points=birthday, expiry_months=12
    )
    shop.refresh_from_db()
    return shop


def _enrol(shop, customer=None, *, at=JOINED, broadcast=False, **customer_fields) -> MemberAccount:
    """Enrol ``customer`` (new when None) in ``shop`` through a placed order event."""
    customer = customer or CustomerFactory(**customer_fields)
    result = order_event_record(
        data=order_input(shop, f"join-{customer.pk}-{at.timestamp()}", "placed", customer=customer, at=at),
        idempotency_key=f"join-{shop.pk}-{customer.pk}-{at.timestamp()}",
        actor=None,
    )
    order_event_process(event_id=result.event.pk, broadcast=broadcast)
    return MemberAccount.objects.get(customer=customer, program__shop=shop)


def _bonuses(account=None) -> list[tuple[str, int, str]]:
    entries = PointsEntry.objects.filter(kind=EntryKind.BONUS)
    if account is not None:
        entries = entries.filter(account=account)
    return list(entries.order_by("created_at", "pk").values_list("idempotency_key", "points", "reason"))


def _local(year, month, day, hour=9, tz=TEHRAN) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=tz)


# --- calendars -----------------------------------------------------------------------------


def test_jalali_occasion_keeps_the_jalali_month_and_day():
    born = jdatetime.date(1380, 1, 1).togregorian()
    assert born == dt.date(2001, 3, 21)
    for year in (1405, 1406):
        expected = jdatetime.date(year, 1, 1).togregorian()
        assert occasion_date(birth_or_join=born, calendar="jalali", year=year) == expected
    assert occasion_date(birth_or_join=born, calendar="jalali", year=1405) == dt.date(2026, 3, 21)
    assert occasion_date(birth_or_join=born, calendar="jalali", year=1406) == dt.date(2027, 3, 21)
    # born on 1 Farvardin 1387 = 20 March 2008: the Jalali birthday of 1405 is 21 March, not 20
    assert occasion_date(birth_or_join=dt.date(2008, 3, 20), calendar="jalali", year=1405) == dt.date(2026, 3, 21)
    assert occasion_date(birth_or_join=dt.date(2008, 3, 20), calendar="gregorian", year=2026) == dt.date(2026, 3, 20)
    assert occasion_date(birth_or_join=born, calendar="jalali", year=1379) is None


def test_leap_days_fall_on_the_last_day_of_the_month_in_common_years():
    assert occasion_date(birth_or_join=dt.date(2000, 2, 29), calendar="gregorian", year=2026) == dt.date(2026, 2, 28)
    assert occasion_date(birth_or_join=dt.date(2000, 2, 29), calendar="gregorian", year=2028) == dt.date(2028, 2, 29)
    leap_day = jdatetime.date(1399, 12, 30).togregorian()  # 30 Esfand 1399 (1399 is a Jalali leap year)
    assert (
        occasion_date(birth_or_join=leap_day, calendar="jalali", year=1404)
        == jdatetime.date(1404, 12, 29).togregorian()
    )
    assert (
        occasion_date(birth_or_join=leap_day, calendar="jalali", year=1403)
        == jdatetime.date(1403, 12, 30).togregorian()
    )
    with pytest.raises(ValueError):
        occasion_date(birth_or_join=leap_day, calendar="julian", year=2026)


# --- welcome bonus -------------------------------------------------------------------------


@pytest.mark.django_db
def test_welcome_bonus_is_paid_once_on_enrolment_and_available_at_once():
    shop, customer = _shop(welcome=50), CustomerFactory()
    account = _enrol(shop, customer)
    _enrol(shop, customer, at=JOINED + dt.timedelta(days=3))  # a second order: no second bonus
    result = order_event_record(
        data=order_input(shop, "D1", customer=customer, amount="20.00", at=JOINED + dt.timedelta(days=4)),
        idempotency_key="d1",
        actor=None,
    )
    order_event_process(event_id=result.event.pk, broadcast=False)
    order_event_process(event_id=result.event.pk, broadcast=False)  # a duplicate message
    assert _bonuses(account) == [(f"welcome:{account.pk}", 50, "Welcome bonus")]
    account.refresh_from_db()
    assert (account.points_available, account.points_pending, account.lifetime_points) == (50, 20, 70)
    lot = PointsLot.objects.get(entry__kind=EntryKind.BONUS)
    assert lot.released_at == JOINED
    assert lot.expires_at == dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)
    assert account.qualifying_value == 20  # bonuses do not count towards tiers
    assert ledger_discrepancies() == []


@pytest.mark.django_db
def test_no_welcome_bonus_when_the_program_gives_none():
    shop = _shop(welcome=0)
    _enrol(shop)
    assert _bonuses() == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_enrolling_one_member_at_once_pay_one_welcome_bonus(postgres):
    shop, customer = _shop(welcome=40), CustomerFactory()
    events = [
        order_event_record(
            data=order_input(shop, f"A{i}", "placed", customer=customer, at=JOINED + dt.timedelta(minutes=i)),
            idempotency_key=f"k{i}",
            actor=None,
        ).event
        for i in range(4)
    ]
    results = run_concurrently([lambda e=e: order_event_process(event_id=e.pk, broadcast=False) for e in events])
    assert not [r for r in results if isinstance(r, Exception)], results
    account = MemberAccount.objects.get()
    assert _bonuses() == [(f"welcome:{account.pk}", 40, "Welcome bonus")]
    assert account.points_available == 40
    assert ledger_discrepancies() == []


# --- birthdays -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_birthday_is_paid_on_the_local_day_of_the_shop():
    shop = _shop(birthday=100, timezone="Asia/Tehran")
    account = _enrol(shop, birth_date=dt.date(1990, 5, 10))
    # 23:30 on 9 May in Tehran (20:00 UTC): not yet
    with time_machine.travel(dt.datetime(2026, 5, 9, 23, 30, tzinfo=TEHRAN), tick=False):
        occasions_bonus_task.fn()
    assert _bonuses(account) == []
    # 00:30 on 10 May in Tehran, still 9 May in UTC: the birthday
    with time_machine.travel(dt.datetime(2026, 5, 10, 0, 30, tzinfo=TEHRAN), tick=False):
        occasions_bonus_task.fn()
        occasions_bonus_task.fn()
    assert _bonuses(account) == [(f"birthday:{account.pk}:2026", 100, "Birthday bonus")]
    account.refresh_from_db()
    assert account.points_available == 100
    assert ledger_discrepancies() == []


@pytest.mark.django_db
def test_jalali_birthday_of_1_farvardin_is_paid_on_nowruz_every_year():
    shop = _shop(birthday=100, timezone="Asia/Tehran")
    account = _enrol(shop, birth_date=jdatetime.date(1380, 1, 1).togregorian(), calendar="jalali")
    for year in (1405, 1406):
        nowruz = jdatetime.date(year, 1, 1).togregorian()
        assert nowruz.day == 21
        eve = nowruz - dt.timedelta(days=1)
        occasions_bonus_due(now=_local(eve.year, eve.month, eve.day), broadcast=False)
        assert [key for key, *_ in _bonuses(account)] == [f"birthday:{account.pk}:{y}" for y in range(1405, year)]
        occasions_bonus_due(now=_local(nowruz.year, nowruz.month, nowruz.day), broadcast=False)
        assert _bonuses(account)[-1] == (f"birthday:{account.pk}:{year}", 100, "Birthday bonus")
    assert len(_bonuses(account)) == 2


@pytest.mark.django_db
def test_jalali_birthday_follows_the_jalali_date_not_the_gregorian_one():
    shop = _shop(birthday=100, timezone="Asia/Tehran")
    account = _enrol(shop, birth_date=dt.date(2008, 3, 20), calendar="jalali")  # 1 Farvardin 1387
    occasions_bonus_due(now=_local(2026, 3, 20), broadcast=False)
    assert _bonuses(account) == []
    occasions_bonus_due(now=_local(2026, 3, 21), broadcast=False)
    assert _bonuses(account) == [(f"birthday:{account.pk}:1405", 100, "Birthday bonus")]


@pytest.mark.django_db
def test_29_february_birthday_is_paid_on_28_february_in_a_common_year():
    shop = _shop(birthday=100)
    account = _enrol(shop, birth_date=dt.date(2000, 2, 29))
    occasions_bonus_due(now=_local(2026, 2, 27, tz=NEW_YORK), broadcast=False)
    assert _bonuses(account) == []
    occasions_bonus_due(now=_local(2026, 2, 28, tz=NEW_YORK), broadcast=False)
    occasions_bonus_due(now=_local(2026, 3, 1, tz=NEW_YORK), broadcast=False)
    assert _bonuses(account) == [(f"birthday:{account.pk}:2026", 100, "Birthday bonus")]


@pytest.mark.django_db
def test_a_missed_day_is_caught_up_within_a_week_only():
    shop = _shop(birthday=100)
    late = _enrol(shop, birth_date=dt.date(1985, 6, 1))
    too_late = _enrol(shop, birth_date=dt.date(1985, 5, 25))
    summary = occasions_bonus_due(now=_local(2026, 6, 7, tz=NEW_YORK), broadcast=False)
    assert (summary.birthdays, summary.points) == (1, 100)
    assert [key for key, *_ in _bonuses()] == [f"birthday:{late.pk}:2026"]
    assert _bonuses(too_late) == []


@pytest.mark.django_db
def test_no_birthday_bonus_before_enrolment_or_without_a_birth_date():
    shop = _shop(birthday=100)
    before = _enrol(shop, birth_date=dt.date(1985, 1, 8), at=dt.datetime(2026, 1, 9, 17, tzinfo=dt.UTC))
    unknown = _enrol(shop, at=dt.datetime(2026, 1, 2, 17, tzinfo=dt.UTC))
    assert occasions_bonus_due(now=_local(2026, 1, 10, tz=NEW_YORK), broadcast=False).birthdays == 0
    assert _bonuses(before) == _bonuses(unknown) == []


@pytest.mark.django_db
def test_switching_calendar_or_birth_date_does_not_buy_a_second_birthday_bonus():
    shop = _shop(birthday=100)
    account = _enrol(shop, birth_date=dt.date(1990, 1, 1))
    occasions_bonus_due(now=_local(2026, 1, 1, tz=NEW_YORK), broadcast=False)
    # 1 January 1990 is 11 Dey 1368; 11 Dey 1404 is 1 January 2026 again, under another key
    Customer.objects.filter(pk=account.customer_id).update(calendar="jalali")
    occasions_bonus_due(now=_local(2026, 1, 2, tz=NEW_YORK), broadcast=False)
    Customer.objects.filter(pk=account.customer_id).update(calendar="gregorian", birth_date=dt.date(1990, 12, 31))
    occasions_bonus_due(now=_local(2026, 12, 31, tz=NEW_YORK), broadcast=False)
    assert _bonuses(account) == [(f"birthday:{account.pk}:2026", 100, "Birthday bonus")]
    occasions_bonus_due(now=_local(2027, 12, 31, tz=NEW_YORK), broadcast=False)
    assert [key for key, *_ in _bonuses(account)] == [f"birthday:{account.pk}:2026", f"birthday:{account.pk}:2027"]


# --- anniversaries -------------------------------------------------------------------------


@pytest.mark.django_db
def test_membership_anniversary_repeats_the_welcome_bonus_each_year():
    shop = _shop(welcome=30)
    joined = dt.datetime(2024, 6, 16, 2, tzinfo=dt.UTC)  # 15 June, 22:00 in New York
    account = _enrol(shop, at=joined)
    assert occasions_bonus_due(now=_local(2025, 6, 14, tz=NEW_YORK), broadcast=False).anniversaries == 0
    assert occasions_bonus_due(now=_local(2025, 6, 15, tz=NEW_YORK), broadcast=False).anniversaries == 1
    occasions_bonus_due(now=_local(2026, 6, 15, tz=NEW_YORK), broadcast=False)
    occasions_bonus_due(now=_local(2026, 6, 16, tz=NEW_YORK), broadcast=False)
    assert _bonuses(account) == [
        (f"welcome:{account.pk}", 30, "Welcome bonus"),
        (f"anniversary:{account.pk}:2025", 30, "Anniversary bonus: 1 year as a member"),
        (f"anniversary:{account.pk}:2026", 30, "Anniversary bonus: 2 years as a member"),
    ]
    assert ledger_discrepancies() == []


@pytest.mark.django_db
def test_inactive_programs_pay_nothing():
    shop = _shop(birthday=100, welcome=30)
    _enrol(shop, birth_date=dt.date(1990, 1, 10))
    LoyaltyProgram.objects.filter(shop=shop).update(active=False)
    assert occasions_bonus_due(now=_local(2026, 1, 10, tz=NEW_YORK), broadcast=False).points == 0


# --- the job: idempotent, dry run, two at once --------------------------------------------


def _birthday_crowd(count: int):
    shop = _shop(birthday=100, welcome=0)
    accounts = [_enrol(shop, birth_date=dt.date(1980 + i, 9, 1)) for i in range(count)]
    _enrol(shop, birth_date=dt.date(1980, 9, 2))  # tomorrow: not due
    return shop, accounts


@pytest.mark.django_db
def test_dry_run_writes_nothing_and_counts_what_would_be_paid():
    _birthday_crowd(3)
    now = _local(2026, 9, 1, tz=NEW_YORK)
    before = PointsEntry.objects.count()
    summary = occasions_bonus_due(now=now, dry_run=True)
    assert (summary.birthdays, summary.anniversaries, summary.points) == (3, 0, 300)
    assert PointsEntry.objects.count() == before
    call_command("bonus_occasions", "--dry-run", "--as-of", now.isoformat())
    assert PointsEntry.objects.count() == before


@pytest.mark.django_db
def test_command_pays_once_then_nothing(capsys):
    _birthday_crowd(2)
    as_of = _local(2026, 9, 1, tz=NEW_YORK).isoformat()
    call_command("bonus_occasions", "--as-of", as_of)
    call_command("bonus_occasions", "--as-of", as_of)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"bonus_occasions: birthdays=2 anniversaries=0 points=200 as_of={as_of} dry_run=no",
        f"bonus_occasions: birthdays=0 anniversaries=0 points=0 as_of={as_of} dry_run=no",
    ]


@pytest.mark.django_db(transaction=True)
def test_two_jobs_at_once_pay_each_birthday_once(postgres):
    _, accounts = _birthday_crowd(6)
    now = _local(2026, 9, 1, tz=NEW_YORK)
    results = run_concurrently([lambda: occasions_bonus_due(now=now, broadcast=False)] * 2)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.birthdays for r in results) == 6
    assert sorted(key for key, *_ in _bonuses()) == sorted(f"birthday:{a.pk}:2026" for a in accounts)
    assert occasions_bonus_due(now=now, broadcast=False).birthdays == 0
    assert PointsEntry.objects.count() == 6
    assert ledger_discrepancies() == []


# --- consent and shop.upcomingOccasions ----------------------------------------------------


def test_contact_channels_need_consent_and_an_address():
    customer = Customer(email="a@example.com", phone="", consent_email=True, consent_sms=True, consent_push=False)
    assert contact_channels(customer) == ["email"]
    customer.phone, customer.consent_push = "+98 912 000 0000", True
    assert contact_channels(customer) == ["email", "sms", "push"]
    assert contact_channels(Customer(email="a@example.com")) == []


UPCOMING = """
query Upcoming($slug: String!, $days: Int) {
  shop(slug: $slug) {
    upcomingOccasions(days: $days) {
      kind date channels yearsAsMember
      member { id pointsAvailable tier { name } member { displayName } }
    }
  }
}
"""
TODAY = dt.datetime(2026, 4, 1, 10, tzinfo=NEW_YORK)


def _occasion_members(shop, count: int) -> dict[str, MemberAccount]:
    """Members of ``shop`` with birthdays and anniversaries in April 2026, some without consent."""
    joined = dt.datetime(2024, 4, 3, 16, tzinfo=dt.UTC)  # 3 April in New York
    made = {
        "email": _enrol(shop, at=joined, birth_date=dt.date(1990, 4, 5), consent_email=True, phone=""),
        "silent": _enrol(shop, at=joined, birth_date=dt.date(1990, 4, 5)),
        "sms_no_phone": _enrol(shop, at=joined, birth_date=dt.date(1990, 4, 5), consent_sms=True, phone=""),
        "sms_push": _enrol(
            shop, birth_date=dt.date(1991, 4, 1), consent_sms=True, consent_push=True, phone="+1 555 0100"
        ),
        "later": _enrol(shop, birth_date=dt.date(1991, 6, 1), consent_email=True),
    }
    for i in range(count):
        made[f"extra{i}"] = _enrol(shop, at=joined, birth_date=dt.date(1992, 4, 10), consent_push=True)
    return made


@pytest.mark.django_db
def test_upcoming_occasions_list_consenting_members_with_their_channels():
    shop = _shop()
    members = _occasion_members(shop, 0)
    with time_machine.travel(TODAY, tick=False):
        found = upcoming_occasions(shop=shop, days=30, now=TODAY)
    rows = [(o.kind.value, o.date, o.account.pk, o.channels, o.years_as_member) for o in found]
    email, sms_push = members["email"].pk, members["sms_push"].pk
    assert rows == [
        ("birthday", dt.date(2026, 4, 1), sms_push, ("sms", "push"), None),
        ("anniversary", dt.date(2026, 4, 3), email, ("email",), 2),
        ("birthday", dt.date(2026, 4, 5), email, ("email",), None),
    ]


@pytest.mark.django_db
def test_upcoming_occasions_over_graphql_sorted_by_date():
    shop = _shop()
    members = _occasion_members(shop, 1)
    client = login(staff(shop, StaffRole.MANAGER))
    with time_machine.travel(TODAY, tick=False):
        body = gql(client, UPCOMING, {"slug": shop.slug, "days": 10})
    occasions = body["data"]["shop"]["upcomingOccasions"]
    assert [(o["kind"], o["date"], o["yearsAsMember"]) for o in occasions] == [
        ("BIRTHDAY", "2026-04-01", None),
        ("ANNIVERSARY", "2026-04-03", 2),
        ("ANNIVERSARY", "2026-04-03", 2),
        ("BIRTHDAY", "2026-04-05", None),
        ("BIRTHDAY", "2026-04-10", None),
    ]
    assert occasions[0]["member"]["member"]["displayName"] == members["sms_push"].customer.display_name
    assert occasions[0]["channels"] == ["sms", "push"]


@pytest.mark.django_db
@pytest.mark.parametrize("days", [0, 91, -5])
def test_upcoming_occasions_days_out_of_range_is_a_coded_error(days):
    shop = _shop()
    with time_machine.travel(TODAY, tick=False):
        body = gql(login(staff(shop, StaffRole.OWNER)), UPCOMING, {"slug": shop.slug, "days": days})
    assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "days"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", "NOT_AUTHENTICATED"),
        ("customer", "PERMISSION_DENIED"),
        ("other_shop_owner", "PERMISSION_DENIED"),
        ("cashier", "PERMISSION_DENIED"),  # members:read is the owner's and manager's
        ("manager", None),
        ("owner", None),
    ],
)
def test_upcoming_occasions_permissions(who, expected):
    shop = _shop()
    _occasion_members(shop, 0)
    user = {
        "anonymous": lambda: None,
        "customer": lambda: CustomerFactory().user,
        "other_shop_owner": lambda: staff(_shop(), StaffRole.OWNER),
        "cashier": lambda: staff(shop, StaffRole.CASHIER),
        "manager": lambda: staff(shop, StaffRole.MANAGER),
        "owner": lambda: staff(shop, StaffRole.OWNER),
    }[who]()
    with time_machine.travel(TODAY, tick=False):
        body = gql(login(user), UPCOMING, {"slug": shop.slug, "days": 30})
    if expected is None:
        assert "errors" not in body
        assert len(body["data"]["shop"]["upcomingOccasions"]) == 3
    else:
        assert body["errors"][0]["extensions"]["code"] == expected


@pytest.mark.django_db
@pytest.mark.parametrize("extra", [2, 25])
def test_upcoming_occasions_fixed_query_count(extra, django_assert_num_queries):
    shop = _shop()
    _occasion_members(shop, extra)
    client = login(staff(shop, StaffRole.MANAGER))
    # session, user, shop, staff role, program, accounts (customer, tier and shop joined)
    with time_machine.travel(TODAY, tick=False), django_assert_num_queries(6):
        body = gql(client, UPCOMING, {"slug": shop.slug, "days": 30})
    assert len(body["data"]["shop"]["upcomingOccasions"]) == 3 + 2 * extra


# --- memberProfileUpdate -------------------------------------------------------------------

PROFILE_UPDATE = """
mutation Update($input: MemberProfileUpdateInput!) {
  memberProfileUpdate(input: $input) {
    profile { birthDate calendar consentEmail consentSms consentPush }
    errors { field code message }
  }
}
"""
VIEWER_PROFILE = "query { viewer { profile { birthDate calendar consentEmail consentSms consentPush } } }"


def _profile(customer) -> tuple:
    customer.refresh_from_db()
    return (customer.birth_date, customer.calendar, customer.consent_email, customer.consent_sms, customer.consent_push)


@pytest.mark.django_db
def test_member_sets_birth_date_calendar_and_consents():
    customer = CustomerFactory()
    client = login(customer.user)
    body = gql(
        client,
        PROFILE_UPDATE,
        {"input": {"birthDate": "2001-03-21", "calendar": "JALALI", "consentEmail": True, "consentPush": True}},
    )
    assert body["data"]["memberProfileUpdate"] == {
        "profile": {
            "birthDate": "2001-03-21",
            "calendar": "JALALI",
            "consentEmail": True,
            "consentSms": False,
            "consentPush": True,
        },
        "errors": [],
    }
    # partial: only what is given changes; null removes the birth date
    gql(client, PROFILE_UPDATE, {"input": {"consentPush": False, "birthDate": None}})
    assert _profile(customer) == (None, "jalali", True, False, False)
    viewer = gql(client, VIEWER_PROFILE)["data"]["viewer"]["profile"]
    assert viewer == {
        "birthDate": None,
        "calendar": "JALALI",
        "consentEmail": True,
        "consentSms": False,
        "consentPush": False,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("birth_date", "code"),
    [("1899-12-31", "INVALID_BIRTH_DATE"), ("2999-01-01", "INVALID_BIRTH_DATE")],
)
def test_member_profile_update_refuses_bad_birth_dates_and_changes_nothing(birth_date, code):
    customer = CustomerFactory()
    before = _profile(customer)
    body = gql(login(customer.user), PROFILE_UPDATE, {"input": {"birthDate": birth_date, "consentSms": True}})
    assert body["data"]["memberProfileUpdate"]["profile"] is None
    assert [(e["field"], e["code"]) for e in body["data"]["memberProfileUpdate"]["errors"]] == [("birthDate", code)]
    assert _profile(customer) == before


@pytest.mark.django_db
def test_member_profile_update_needs_a_customer_login():
    anonymous = gql(login(None), PROFILE_UPDATE, {"input": {"consentSms": True}})
    assert anonymous["data"]["memberProfileUpdate"]["errors"][0]["code"] == "NOT_AUTHENTICATED"
    staff_only = gql(login(UserFactory()), PROFILE_UPDATE, {"input": {"consentSms": True}})
    assert staff_only["data"]["memberProfileUpdate"]["errors"][0]["code"] == "NOT_A_CUSTOMER"
    assert gql(login(UserFactory()), VIEWER_PROFILE)["data"]["viewer"]["profile"] is None
    assert not Customer.objects.filter(consent_sms=True).exists()


@pytest.mark.django_db
def test_member_profile_service_refuses_unknown_calendars_and_non_booleans():
    customer = CustomerFactory()
    before = _profile(customer)
    with pytest.raises(ProfileError) as refused:
        member_profile_update(user=customer.user, changes=ProfileChanges(calendar="julian", consent_email=True))
    assert (refused.value.code, refused.value.field) == (ProfileErrorCode.INVALID_CALENDAR, "calendar")
    with pytest.raises(ProfileError) as refused:
        member_profile_update(user=customer.user, changes=ProfileChanges(consent_sms=None))
    assert (refused.value.code, refused.value.field) == (ProfileErrorCode.INVALID_INPUT, "consentSms")
    assert _profile(customer) == before


# --- live updates --------------------------------------------------------------------------


@pytest.fixture
async def _close_thread_connections():
    yield
    await sync_to_async(connections.close_all)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_close_thread_connections")
async def test_bonuses_reach_the_member_live():
    from tests.api.test_subscriptions import ACCOUNT_UPDATED, _connect, _session_cookie, _subscribe

    shop = await sync_to_async(_shop)(welcome=25, birthday=100)
    customer = await sync_to_async(CustomerFactory)(birth_date=dt.date(1990, 9, 1))
    socket = await _connect(await sync_to_async(_session_cookie)(customer.user))
    await _subscribe(socket, ACCOUNT_UPDATED, {})

    await sync_to_async(_enrol)(shop, customer, broadcast=True)
    welcome = (await socket.receive_json_from(timeout=10))["payload"]["data"]["accountUpdated"]
    assert (welcome["kind"], welcome["points"], welcome["reason"]) == ("bonus", 25, "Welcome bonus")
    enrolled = (await socket.receive_json_from(timeout=10))["payload"]["data"]["accountUpdated"]
    assert enrolled["kind"] == "enrolled"

    await sync_to_async(occasions_bonus_due)(now=_local(2026, 9, 1, tz=NEW_YORK))
    birthday = (await socket.receive_json_from(timeout=10))["payload"]["data"]["accountUpdated"]
    assert (birthday["kind"], birthday["points"], birthday["reason"]) == ("bonus", 100, "Birthday bonus")
    await socket.disconnect()
