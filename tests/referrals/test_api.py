"""Referrals over GraphQL: apply with coded errors, settings and analytics permissions, member views."""

from __future__ import annotations

import pytest
from django.test import Client

from loyalty.models import PointsEntry
from marketplace.models import StaffRole
from referrals.models import Referral, ReferralProgram
from tests.api.graphql import gid, gql, login
from tests.factories import CustomerFactory, ShopFactory, staff
from tests.referrals.helpers import deliver, member_with_code, referral_shop

pytestmark = [pytest.mark.django_db]

APPLY = """
mutation($shopId: ID!, $code: String!) {
  referralApply(shopId: $shopId, code: $code) { referral { status code friendName } errors { code field message } }
}"""
SETTINGS = """
mutation($shopId: ID!, $input: ReferralSettingsInputType!) {
  referralSettingsUpdate(shopId: $shopId, input: $input) {
    settings { enabled referrerBonusPoints refereeBonusPoints minOrderAmount openDays monthlyCap }
    errors { code field }
  }
}"""
SHOP = """
query($slug: String!) {
  shop(slug: $slug) {
    referralSettings { enabled referrerBonusPoints }
    referrals { status friendName code referrerPoints refereePoints }
    referralAnalytics { codesShared applied completed bonusPointsIssued referredRevenue }
  }
}"""
SHOP_PUBLIC = "query($slug: String!) { shop(slug: $slug) { referralSettings { enabled refereeBonusPoints } } }"
SHOP_LIST = "query($slug: String!) { shop(slug: $slug) { referrals { status } } }"
SHOP_ANALYTICS = "query($slug: String!) { shop(slug: $slug) { referralAnalytics { applied } } }"
VIEWER = """
{ viewer {
    referrals { pointsEarned codes { code link shopName pointsEarned referrals { status friendName } }
                received { status code shopName refereePoints } }
    accounts { edges { node { referralCode { code link } } } }
} }"""


def test_end_to_end_apply_deliver_and_both_see_the_bonus():
    shop = referral_shop()
    referrer, code = member_with_code(shop, display_name="Ann")
    friend = CustomerFactory(display_name="Bob")
    result = gql(login(friend.user), APPLY, {"shopId": gid("Shop", shop.pk), "code": code.code.lower()})
    assert result["data"]["referralApply"] == {
        "referral": {"status": "OPEN", "code": code.code, "friendName": "Bob"},
        "errors": [],
    }
    deliver(shop, friend, "F1")
    ann = gql(login(referrer.customer.user), VIEWER)["data"]["viewer"]
    assert ann["referrals"]["pointsEarned"] == 100
    [shared] = ann["referrals"]["codes"]
    assert shared["link"] == f"/r/{code.code}"
    assert shared["referrals"] == [{"status": "COMPLETED", "friendName": "Bob"}]
    assert ann["accounts"]["edges"][0]["node"]["referralCode"]["code"] == code.code
    bob = gql(login(friend.user), VIEWER)["data"]["viewer"]
    assert bob["referrals"]["received"] == [
        {"status": "COMPLETED", "code": code.code, "shopName": shop.name, "refereePoints": 50}
    ]
    owner = gql(login(staff(shop)), SHOP, {"slug": shop.slug})["data"]["shop"]
    assert owner["referrals"][0]["status"] == "COMPLETED"
    assert owner["referralAnalytics"] == {
        "codesShared": 2,  # Bob's account got a code when his viewer was read
        "applied": 1,
        "completed": 1,
        "bonusPointsIssued": 150,
        "referredRevenue": "30.00",
    }


def test_apply_refusal_is_a_coded_payload_error():
    shop = referral_shop()
    account, code = member_with_code(shop)
    result = gql(login(account.customer.user), APPLY, {"shopId": gid("Shop", shop.pk), "code": code.code})
    assert result["data"]["referralApply"]["referral"] is None
    assert result["data"]["referralApply"]["errors"][0]["code"] == "OWN_CODE"
    anonymous = gql(login(None), APPLY, {"shopId": gid("Shop", shop.pk), "code": code.code})
    assert anonymous["data"]["referralApply"]["errors"][0]["code"] == "NOT_AUTHENTICATED"
    assert not Referral.objects.exists()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(StaffRole.OWNER, True), (StaffRole.MANAGER, True), ("cashier", False), ("customer", False), (None, False)],
)
def test_settings_update_permissions(role, allowed):
    shop = referral_shop()
    if role in (StaffRole.OWNER, StaffRole.MANAGER):
        user = staff(shop, role)
    elif role == "cashier":
        user = staff(shop, StaffRole.CASHIER)
    elif role == "customer":
        user = CustomerFactory().user
    else:
        user = None
    result = gql(
        login(user),
        SETTINGS,
        {"shopId": gid("Shop", shop.pk), "input": {"referrerBonusPoints": 7, "monthlyCap": 3, "openDays": 5}},
    )["data"]["referralSettingsUpdate"]
    settings = ReferralProgram.objects.get(program=shop.program)
    if allowed:
        assert result["errors"] == []
        assert result["settings"]["referrerBonusPoints"] == 7
        assert (settings.referrer_bonus_points, settings.monthly_cap, settings.open_days) == (7, 3, 5)
    else:
        assert result["errors"][0]["code"] == ("NOT_AUTHENTICATED" if user is None else "PERMISSION_DENIED")
        assert settings.referrer_bonus_points == 100


def test_settings_update_validates():
    shop = referral_shop()
    result = gql(login(staff(shop)), SETTINGS, {"shopId": gid("Shop", shop.pk), "input": {"openDays": 0}})["data"][
        "referralSettingsUpdate"
    ]
    assert result["errors"] == [{"code": "INVALID_INPUT", "field": "openDays"}]


@pytest.mark.parametrize(
    ("role", "list_ok", "analytics_ok"),
    [
        (StaffRole.OWNER, True, True),
        (StaffRole.MANAGER, True, True),
        ("cashier", False, False),
        ("customer", False, False),
        (None, False, False),
    ],
)
def test_shop_fields_permissions(role, list_ok, analytics_ok):
    shop = referral_shop()
    if role in (StaffRole.OWNER, StaffRole.MANAGER):
        user = staff(shop, role)
    elif role == "cashier":
        user = staff(shop, StaffRole.CASHIER)
    elif role == "customer":
        user = CustomerFactory().user
    else:
        user = None
    client = login(user)
    variables = {"slug": shop.slug}
    public = gql(client, SHOP_PUBLIC, variables)
    assert public["data"]["shop"]["referralSettings"] == {"enabled": True, "refereeBonusPoints": 50}
    listed = gql(client, SHOP_LIST, variables)
    assert ("errors" not in listed) == list_ok, listed
    analytics = gql(client, SHOP_ANALYTICS, variables)
    assert ("errors" not in analytics) == analytics_ok, analytics
    if not analytics_ok:
        expected = "NOT_AUTHENTICATED" if user is None else "PERMISSION_DENIED"
        assert analytics["errors"][0]["extensions"]["code"] == expected


LOOKUP = "query($code: String!) { referralCode(code: $code) { code shop { id slug } } }"


def test_a_shared_link_names_its_shop_to_anyone_and_never_the_member():
    shop = referral_shop()
    _, code = member_with_code(shop, display_name="Ann")
    typed = code.code.lower()[:4] + "-" + code.code.lower()[4:]
    result = gql(Client(), LOOKUP, {"code": typed})
    assert result == {
        "data": {"referralCode": {"code": code.code, "shop": {"id": gid("Shop", shop.pk), "slug": shop.slug}}}
    }


@pytest.mark.parametrize("text", ["NOSUCHCD", "X" * 40, ""])
def test_an_unknown_code_looks_up_as_null(text):
    member_with_code(referral_shop())
    assert gql(Client(), LOOKUP, {"code": text}) == {"data": {"referralCode": None}}


def test_a_code_of_a_shop_with_referrals_off_looks_up_as_null():
    shop = referral_shop()
    _, code = member_with_code(shop)
    ReferralProgram.objects.filter(program__shop=shop).update(enabled=False)
    assert gql(Client(), LOOKUP, {"code": code.code}) == {"data": {"referralCode": None}}


# ---- permission matrix: every referral field and mutation x every kind of caller ------------

CALLERS = ["anonymous", "member", "friend", "cashier", "manager", "owner", "other shop's owner", "staff-only user"]
VIEWER_REFERRALS = "{ viewer { referrals { pointsEarned codes { code } } } }"


def _caller(kind, shop, referrer):
    other = referral_shop()
    return {
        "anonymous": None,
        "member": referrer.customer.user,
        "friend": CustomerFactory().user,
        "cashier": staff(shop, StaffRole.CASHIER),
        "manager": staff(shop, StaffRole.MANAGER),
        "owner": staff(shop, StaffRole.OWNER),
        "other shop's owner": staff(other, StaffRole.OWNER),
        "staff-only user": staff(other, StaffRole.CASHIER),
    }[kind]


def _snapshot(shop):
    settings = ReferralProgram.objects.filter(program=shop.program).values().get()
    return settings, list(Referral.objects.values()), PointsEntry.objects.count()


@pytest.mark.parametrize("kind", CALLERS)
def test_permission_matrix(kind):
    """Who may do what; every refusal is coded (never a silent null) and changes nothing."""
    shop = referral_shop()
    referrer, code = member_with_code(shop)
    user = _caller(kind, shop, referrer)
    client = login(user)
    anonymous = user is None
    editor = kind in ("manager", "owner")
    before = _snapshot(shop)

    # referralSettingsUpdate: the shop's owner and manager only
    result = gql(client, SETTINGS, {"shopId": gid("Shop", shop.pk), "input": {"referrerBonusPoints": 9}})
    errors = [e["code"] for e in result["data"]["referralSettingsUpdate"]["errors"]]
    assert errors == ([] if editor else ["NOT_AUTHENTICATED" if anonymous else "PERMISSION_DENIED"])
    if not editor:
        assert _snapshot(shop) == before

    # shop.referrals (members:read) and shop.referralAnalytics (analytics:read): owner and manager
    denied = "NOT_AUTHENTICATED" if anonymous else "PERMISSION_DENIED"
    listed = gql(client, SHOP_LIST, {"slug": shop.slug})
    assert ("errors" not in listed) == editor
    if not editor:
        assert listed["errors"][0]["extensions"]["code"] == denied
    analytics = gql(client, SHOP_ANALYTICS, {"slug": shop.slug})
    assert ("errors" not in analytics) == editor
    if not editor:
        assert analytics["errors"][0]["extensions"]["code"] == denied

    # viewer.referrals: the logged-in member's own codes; empty for a staff-only login
    viewer = gql(client, VIEWER_REFERRALS)
    if anonymous:
        assert viewer["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"
    elif kind == "member":
        assert viewer["data"]["viewer"]["referrals"]["codes"] == [{"code": code.code}]
    else:
        assert viewer["data"]["viewer"]["referrals"]["codes"] == []

    # referralApply: customers only (a friend succeeds; the member's own code is refused)
    before = _snapshot(shop)
    applied = gql(client, APPLY, {"shopId": gid("Shop", shop.pk), "code": code.code})["data"]["referralApply"]
    expected = {
        "anonymous": ["NOT_AUTHENTICATED"],
        "member": ["OWN_CODE"],
        "friend": [],
    }.get(kind, ["NOT_A_CUSTOMER"])
    assert [e["code"] for e in applied["errors"]] == expected
    if expected:
        assert applied["referral"] is None
        assert _snapshot(shop) == before
    else:
        assert applied["referral"]["status"] == "OPEN"


def test_settings_update_for_a_shop_without_a_program_is_not_found():
    shop = ShopFactory()
    owner = staff(shop)
    result = gql(login(owner), SETTINGS, {"shopId": gid("Shop", shop.pk), "input": {"enabled": True}})
    assert result["data"]["referralSettingsUpdate"]["errors"] == [{"code": "NOT_FOUND", "field": "shopId"}]
    assert not ReferralProgram.objects.filter(program__shop=shop).exists()
