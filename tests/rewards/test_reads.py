"""Rewards reads: a member's catalogue on every account of a page costs a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from loyalty.models import MemberAccount
from rewards.selectors import (
    catalogue,
    reward_unavailable,
    rewards_for_account,
    rewards_for_accounts,
    shop_catalogue,
    taken_in_period,
)
from rewards.services.redemptions import reward_redeem
from tests.api.graphql import gql, login
from tests.rewards.conftest import member_with_points, points_shop, reward

pytestmark = pytest.mark.django_db

ACCOUNTS_REWARDS = """{ viewer { accounts(first: 20) { edges { node {
  rewards { reward { name } affordable reasonUnavailable } } } } } }"""


def _member_in_shops(count: int):
    """A customer with 1,000 points in each of ``count`` shops, each offering a gift limited to
    one per member (already redeemed), a gift that costs too much and an affordable one."""
    member = None
    for _ in range(count):
        shop = points_shop()
        member = member_with_points(shop, customer=member)
        once = reward(shop, name="Once", points_cost=10, per_member_limit=1)
        reward(shop, name="Dear", points_cost=5000)
        reward(shop, name="Mug", points_cost=100)
        reward_redeem(user=member.user, reward_id=once.pk, idempotency_key=f"once-{shop.pk}")
    return member


@pytest.mark.parametrize("accounts", [1, 5, 20])
def test_account_rewards_cost_the_same_queries_whatever_the_accounts(accounts, django_assert_num_queries):
    # given a member with N shop accounts, each with a catalogue of three rewards
    member = _member_in_shops(accounts)
    client = login(member.user)
    # when the accounts page asks every account's catalogue; then always 6 queries: session,
    # user, customer, the accounts (+ program, shop, tier joined), the programs' active rewards
    # and the members' redemptions of limited rewards (both prefetched for the whole page)
    with django_assert_num_queries(6):
        body = gql(client, ACCOUNTS_REWARDS)
    assert "errors" not in body, body
    edges = body["data"]["viewer"]["accounts"]["edges"]
    assert len(edges) == accounts
    # and every account sees the same answer: redeemable first, then display order
    for edge in edges:
        assert edge["node"]["rewards"] == [
            {"reward": {"name": "Mug"}, "affordable": True, "reasonUnavailable": None},
            {"reward": {"name": "Once"}, "affordable": False, "reasonUnavailable": "LIMIT_REACHED"},
            {"reward": {"name": "Dear"}, "affordable": False, "reasonUnavailable": "INSUFFICIENT_POINTS"},
        ]


def _one_account_the_sql_way(account: MemberAccount, now: dt.datetime) -> list[tuple[int, str | None]]:
    """The availability as the catalogue query and the limit-count query give it, one account at a time."""
    rewards = list(catalogue(program_id=account.program_id, now=now))
    counts = taken_in_period(account=account, rewards=rewards, now=now)
    pairs = [(r, reward_unavailable(reward=r, account=account, now=now, taken_in_period=counts[r.pk])) for r in rewards]
    return [(r.pk, problem.code if problem else None) for r, problem in sorted(pairs, key=lambda p: p[1] is not None)]


def _codes(pairs) -> list[tuple[int, str | None]]:
    return [(r.pk, problem.code if problem else None) for r, problem in pairs]


def test_the_batch_selector_answers_like_the_catalogue_query_one_account_at_a_time(django_assert_num_queries):
    # given three accounts loaded bare (no tier, program or prefetch), a reward not offered yet,
    # one no longer offered and an archived one
    member = _member_in_shops(3)
    now = timezone.now()
    first = MemberAccount.objects.filter(customer__user=member.user).order_by("pk").first()
    reward(first.program.shop, name="Later", points_cost=1, valid_from=now + dt.timedelta(days=1))
    reward(first.program.shop, name="Gone", points_cost=1, valid_until=now)
    reward(first.program.shop, name="Archived", points_cost=1, status="archived")
    expected = {
        account.pk: _one_account_the_sql_way(account, now)
        for account in MemberAccount.objects.filter(customer__user=member.user)
    }
    accounts = list(MemberAccount.objects.filter(customer__user=member.user))
    # when the batch selector reads them: tiers, programs, active rewards, limited redemptions
    with django_assert_num_queries(4):
        batch = rewards_for_accounts(accounts=accounts, now=now)
    # then it answers exactly as the catalogue query did, account by account
    assert {pk: _codes(pairs) for pk, pairs in batch.items()} == expected
    assert [r.name for r, _ in batch[first.pk]] == ["Mug", "Once", "Dear"]
    # and the single-account form is the same read
    assert _codes(rewards_for_account(account=first, now=now)) == expected[first.pk]


def test_the_shop_catalogue_selector_narrows_by_kind_tier_and_affordability(django_assert_num_queries):
    # given a shop with a cheap gift, a dear gift and a discount for Gold (position 2) and up
    shop = points_shop()
    member = member_with_points(shop)
    program = shop.program
    gold = program.tiers.get(position=2)
    silver = program.tiers.get(position=1)
    reward(shop, name="Mug", points_cost=100)
    reward(shop, name="Dear", points_cost=5000)
    reward(shop, name="Off", kind="percentage", value="10", points_cost=10, min_tier=gold)
    now = timezone.now()

    def names(**narrowing):
        return [r.name for r in shop_catalogue(program=program, now=now, **narrowing)]

    # when it is narrowed; then only what matches, in display order
    with django_assert_num_queries(1):
        assert names() == ["Off", "Mug", "Dear"]
    assert names(kind="gift") == ["Mug", "Dear"]
    assert names(tier_id=silver.pk) == ["Mug", "Dear"]
    assert names(tier_id=gold.pk) == ["Off", "Mug", "Dear"]
    assert names(tier_id=0) == ["Mug", "Dear"]
    # and affordability is the logged-in member's (a stranger or anonymous caller affords nothing)
    tier = MemberAccount.objects.get(customer=member, program=program).tier
    expected = ["Off", "Mug"] if tier.position >= gold.position else ["Mug"]
    assert names(affordable=True, user=member.user) == expected
    assert names(affordable=False, user=member.user) == [n for n in ["Off", "Mug", "Dear"] if n not in expected]
    assert names(affordable=True, user=None) == []
    assert names(affordable=False, user=None) == ["Off", "Mug", "Dear"]
