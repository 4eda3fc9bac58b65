"""Referral reads never write and cost a fixed number of queries; codes exist before anyone reads them."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from loyalty.models import MemberAccount
from loyalty.services.tiers import account_get_or_enroll
from marketplace.models import StaffRole
from referrals.errors import ReferralError, ReferralErrorCode
from referrals.models import Referral, ReferralCode
from referrals.services import ReferralSettingsInput, referral_settings_save, referral_settings_update
from tests.api.graphql import gid, gql, login
from tests.factories import CustomerFactory, shop_with_program, staff
from tests.referrals.helpers import T0, deliver, member_with_code, referral_shop

pytestmark = pytest.mark.django_db

VIEWER_REFERRALS = """{ viewer { referrals {
  codes { code link shopId shopName pointsEarned referrals { friendName code shopName status } }
  received { code shopName status }
  pointsEarned
} } }"""
ACCOUNT_CODES = """{ viewer { accounts(first: 20) { edges { node {
  referralCode { code link shopName pointsEarned referrals { friendName status } } } } } } }"""
APPLY = "mutation($shopId: ID!, $code: String!) { referralApply(shopId: $shopId, code: $code) { errors { code } } }"
WRITES = ("INSERT", "UPDATE", "DELETE")


def _enrol(customer, shop) -> MemberAccount:
    with transaction.atomic():
        account, _ = account_get_or_enroll(customer=customer, program=shop.program, at=T0)
    return account


def _member_in_referral_shops(count: int):
    """A customer with an account in ``count`` shops with referrals on, a friend referred (and
    completed) in each, and a referral received in the first shop."""
    customer = CustomerFactory()
    for index in range(count):
        shop = referral_shop()
        account = _enrol(customer, shop)
        code = ReferralCode.objects.get(account=account)
        friend = CustomerFactory()
        gql(login(friend.user), APPLY, {"shopId": gid("Shop", shop.pk), "code": code.code})
        deliver(shop, friend, f"first-{index}")
        if index == 0:
            _, other = member_with_code(shop)
            gql(login(customer.user), APPLY, {"shopId": gid("Shop", shop.pk), "code": other.code})
    return customer


@pytest.mark.parametrize("accounts", [1, 10])
def test_viewer_referrals_cost_the_same_queries_whatever_the_accounts(accounts, django_assert_num_queries):
    # given a member with a code and a completed referral in each of N shops, and one received
    customer = _member_in_referral_shops(accounts)
    client = login(customer.user)
    # when the referrals page loads; then always 6 queries: session, user, customer, the
    # accounts with a code (+ program, shop, settings, code joined), the referrals made with
    # those codes, and the referrals received
    with django_assert_num_queries(6):
        body = gql(client, VIEWER_REFERRALS)
    assert "errors" not in body, body
    referrals = body["data"]["viewer"]["referrals"]
    assert len(referrals["codes"]) == accounts
    assert all(len(code["referrals"]) == 1 and code["pointsEarned"] == 100 for code in referrals["codes"])
    assert [r["status"] for r in referrals["received"]] == ["OPEN"]
    assert referrals["pointsEarned"] == 100 * accounts


@pytest.mark.parametrize("accounts", [1, 10])
def test_account_referral_codes_cost_the_same_queries_whatever_the_accounts(accounts, django_assert_num_queries):
    # given a member with a code and a completed referral in each of N shops
    customer = _member_in_referral_shops(accounts)
    client = login(customer.user)
    # when every account's code is asked on one page; then always 5 queries: session, user,
    # customer, the accounts (+ program, shop, settings, code joined), the referrals made
    with django_assert_num_queries(5):
        body = gql(client, ACCOUNT_CODES)
    assert "errors" not in body, body
    codes = [edge["node"]["referralCode"] for edge in body["data"]["viewer"]["accounts"]["edges"]]
    assert len(codes) == accounts
    assert all(code is not None and code["pointsEarned"] == 100 for code in codes)


def test_reading_referrals_writes_nothing_and_a_missing_code_reads_as_null():
    # given a member of two shops with referrals on, whose code in the second went missing
    customer = CustomerFactory()
    first, second = referral_shop(), referral_shop()
    _enrol(customer, first)
    lost = _enrol(customer, second)
    ReferralCode.objects.filter(account=lost).delete()
    client = login(customer.user)
    codes_before = ReferralCode.objects.count()
    # when the member reads their referrals and their accounts' codes
    with CaptureQueriesContext(connection) as captured:
        referrals = gql(client, VIEWER_REFERRALS)
        accounts = gql(client, ACCOUNT_CODES)
    # then nothing was written: no code created, no INSERT, UPDATE or DELETE sent
    assert ReferralCode.objects.count() == codes_before
    assert not ReferralCode.objects.filter(account=lost).exists()
    writes = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]
    assert writes == []
    # and the missing code reads as null (left out of the viewer's list) instead of being created
    assert [code["shopName"] for code in referrals["data"]["viewer"]["referrals"]["codes"]] == [first.name]
    by_shop = [edge["node"]["referralCode"] for edge in accounts["data"]["viewer"]["accounts"]["edges"]]
    assert by_shop[1] is None
    assert by_shop[0]["shopName"] == first.name


def test_a_new_member_of_a_program_with_referrals_on_gets_a_code():
    # given a shop with referrals on and one with referrals never set
    on, never = referral_shop(), shop_with_program()
    customer = CustomerFactory()
    # when the customer joins both programs
    member_on, member_never = _enrol(customer, on), _enrol(customer, never)
    # then only the member of the program with referrals on has a code, issued in the enrolment
    assert ReferralCode.objects.filter(account=member_on).count() == 1
    assert not ReferralCode.objects.filter(account=member_never).exists()


def test_a_new_member_of_a_program_with_referrals_off_gets_no_code():
    # given a shop whose referrals were set up and then turned off
    shop = referral_shop()
    referral_settings_update(program=shop.program, data=ReferralSettingsInput(enabled=False))
    # when a customer joins
    account = _enrol(CustomerFactory(), shop)
    # then no code is issued
    assert not ReferralCode.objects.filter(account=account).exists()


@pytest.mark.parametrize("members", [2, 20])
def test_enabling_referrals_backfills_every_members_code_in_bulk(members, django_assert_num_queries):
    # given a shop whose members joined before referrals were enabled, and its owner
    shop = shop_with_program()
    accounts = [_enrol(CustomerFactory(), shop) for _ in range(members)]
    owner = staff(shop)
    assert not ReferralCode.objects.filter(account__in=accounts).exists()
    # when the owner enables referrals; then the same 12 queries whatever the members: the
    # capability check, the program, the transaction's savepoint, the settings lock and their
    # creation (savepoint, insert, release), the save, the members without a code, one bulk
    # insert of codes, a second look that finds none missing, and the release
    with django_assert_num_queries(12):
        referral_settings_save(user=owner, shop_id=shop.pk, data=ReferralSettingsInput(enabled=True))
    # and every member has a code, all different
    codes = ReferralCode.objects.filter(account__in=accounts)
    assert codes.count() == members
    assert len(set(codes.values_list("code", flat=True))) == members


def test_a_refused_settings_change_backfills_nothing():
    # given a shop with a member and referrals never set, and one of its cashiers
    shop = shop_with_program()
    account = _enrol(CustomerFactory(), shop)
    cashier = staff(shop, StaffRole.CASHIER)
    # when the cashier tries to enable referrals
    with pytest.raises(ReferralError) as refused:
        referral_settings_save(user=cashier, shop_id=shop.pk, data=ReferralSettingsInput(enabled=True))
    assert refused.value.code == ReferralErrorCode.PERMISSION_DENIED
    # then no code was issued
    assert not ReferralCode.objects.filter(account=account).exists()


def test_the_data_migration_issues_codes_to_members_of_enabled_programs_only():
    # given members without a code in a shop with referrals on and in one with referrals off
    on, off = referral_shop(), referral_shop()
    referral_settings_update(program=off.program, data=ReferralSettingsInput(enabled=False))
    keeps, _ = member_with_code(on)
    kept_code = ReferralCode.objects.get(account=keeps).code
    lacking = [_enrol(CustomerFactory(), on) for _ in range(3)]
    ReferralCode.objects.filter(account__in=lacking).delete()
    outside = _enrol(CustomerFactory(), off)
    # when the migration's function runs
    migration = importlib.import_module("referrals.migrations.0002_backfill_referral_codes")
    migration.backfill_codes(apps, None)
    # then each member of the enabled program has exactly one code, the existing one unchanged
    assert ReferralCode.objects.filter(account__in=lacking).count() == 3
    assert ReferralCode.objects.get(account=keeps).code == kept_code
    assert not ReferralCode.objects.filter(account=outside).exists()
    assert not Referral.objects.exists()
