"""What the till reads about a code's member: ``holder`` (name and tier), never the account.

A redemption's ``account`` carries balances, history and contact details: only its member and
the shop's staff who read members (``members:read``) get it; a cashier (``till:use`` only) gets
``PERMISSION_DENIED`` there and reads ``holder`` instead.
"""

from __future__ import annotations

import pytest

from marketplace.models import StaffRole
from rewards.services import reward_redeem
from tests.api.graphql import gid, gql, login
from tests.factories import CustomerFactory, staff
from tests.rewards.conftest import member_with_points, points_shop, reward

pytestmark = pytest.mark.django_db

VALIDATE = """mutation($input: RedemptionCodeInput!) { redemptionValidate(input: $input) {
  redemption { holder { displayName tier { name } } } errors { code } } }"""
ACCOUNT = """query($slug: String!) { shop(slug: $slug) { redemptions(first: 5) { edges { node {
  holder { displayName } account { pointsAvailable member { email } } } } } } }"""
OWN = "{ viewer { redemptions(first: 5) { edges { node { account { pointsAvailable } } } } } }"


@pytest.fixture
def issued():
    shop = points_shop()
    customer = member_with_points(shop)
    redemption = reward_redeem(user=customer.user, reward_id=reward(shop).pk, idempotency_key="h").redemption
    return shop, customer, redemption


def test_the_till_shows_the_holders_name_and_tier(issued):
    shop, customer, redemption = issued
    body = gql(
        login(staff(shop, StaffRole.CASHIER)),
        VALIDATE,
        {"input": {"shopId": gid("Shop", shop.pk), "code": redemption.code}},
    )
    payload = body["data"]["redemptionValidate"]
    assert payload["errors"] == []
    account = redemption.account
    assert payload["redemption"]["holder"] == {
        "displayName": customer.display_name,
        "tier": {"name": account.tier.name} if account.tier else None,
    }


@pytest.mark.parametrize(
    ("role", "sees_account"), [(StaffRole.OWNER, True), (StaffRole.MANAGER, True), (StaffRole.CASHIER, False)]
)
def test_the_account_behind_a_code_is_for_who_reads_members(issued, role, sees_account):
    shop, customer, _ = issued
    body = gql(login(staff(shop, role)), ACCOUNT, {"slug": shop.slug})
    if sees_account:
        node = body["data"]["shop"]["redemptions"]["edges"][0]["node"]
        assert node["account"]["member"]["email"] == customer.email
        assert node["holder"]["displayName"] == customer.display_name
    else:
        assert [error["extensions"]["code"] for error in body["errors"]] == ["PERMISSION_DENIED"]
        assert "pointsAvailable" not in str(body["data"])


def test_the_member_reads_their_own_account_through_their_codes(issued):
    _, customer, redemption = issued
    body = gql(login(customer.user), OWN)
    edges = body["data"]["viewer"]["redemptions"]["edges"]
    assert [edge["node"]["account"]["pointsAvailable"] for edge in edges] == [redemption.account.points_available]
    # another member sees none of them (their list is their own), so nothing to refuse there
    other = gql(login(CustomerFactory().user), OWN)
    assert other["data"]["viewer"]["redemptions"]["edges"] == []
