"""The memberships API end to end through /graphql/: an owner sells a monthly VIP plan, a member
subscribes and is Gold at once, sees their subscription and turns auto-renewal off; the shop's system
reports payments; staff see figures and run a bulk action through a real worker. Refusals are coded
and change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from loyalty.models import Tier
from marketplace.models import StaffRole
from memberships.models import IntervalUnit, MembershipPayment, MembershipPlan, Subscription, SubscriptionTransition
from memberships.services.payments import membership_payment_record
from memberships.services.subscriptions import membership_subscribe, subscription_cancel
from tests.api.graphql import gid, gql, login
from tests.factories import shop_with_program, staff
from tests.memberships.helpers import member_of, vip_shop

PLAN_CREATE = """
mutation($shop: ID!, $input: MembershipPlanInput!) {
  membershipPlanCreate(shopId: $shop, input: $input) {
    plan { name price currency intervalUnit trialDays earnMultiplier monthlyPrice tier { name }
           localizedName(language: "fa") }
    errors { code field message }
  }
}"""
SUBSCRIBE = """
mutation($plan: ID!) { membershipSubscribe(planId: $plan) {
  subscription { id status trialEnd nextChargeAt plan { name } } errors { code field } } }"""
MY_ACCOUNT = """
query($id: ID!) { viewer { account(id: $id) { tier { name }
  subscription { status autoRenew cancelAtPeriodEnd nextChargeAt currentPeriodEnd
                 transitions { fromStatus toStatus reason actorKind } } } } }"""
AUTO_RENEW = """
mutation($id: ID!, $on: Boolean!) { subscriptionAutoRenewSet(id: $id, autoRenew: $on) {
  subscription { autoRenew nextChargeAt } errors { code field } } }"""


def plan_input(tier_id: str, **changes) -> dict:
    return {
        "name": "VIP Gold",
        "price": "9.99",
        "intervalUnit": "MONTH",
        "tierId": tier_id,
        "trialDays": 7,
        "earnMultiplier": "2",
        "benefits": ["Gold while subscribed", "Double points"],
        "translations": [{"language": "fa", "name": "طلایی ویژه", "benefits": ["سطح طلایی"]}],
    } | changes


@pytest.mark.django_db
def test_the_issue_scenario_through_the_api():
    shop = shop_with_program()
    owner = staff(shop, StaffRole.OWNER)
    gold = Tier.objects.get(program=shop.program, name="Gold")
    body = gql(login(owner), PLAN_CREATE, {"shop": gid("Shop", shop.pk), "input": plan_input(gid("Tier", gold.pk))})
    plan = body["data"]["membershipPlanCreate"]["plan"]
    assert body["data"]["membershipPlanCreate"]["errors"] == []
    assert plan == {
        "name": "VIP Gold",
        "price": "9.99",
        "currency": "USD",
        "intervalUnit": "MONTH",
        "trialDays": 7,
        "earnMultiplier": "2",
        "monthlyPrice": "9.99",
        "tier": {"name": "Gold"},
        "localizedName": "طلایی ویژه",
    }
    plan_id = gid("MembershipPlan", MembershipPlan.objects.get().pk)
    public = gql(
        login(None), "query($slug: String!) { shop(slug: $slug) { membershipPlans { name } } }", {"slug": shop.slug}
    )
    assert public["data"]["shop"]["membershipPlans"] == [{"name": "VIP Gold"}]

    account = member_of(shop)
    member = login(account.customer.user)
    subscribed = gql(member, SUBSCRIBE, {"plan": plan_id})["data"]["membershipSubscribe"]
    assert subscribed["errors"] == []
    assert subscribed["subscription"]["status"] == "TRIALING"
    again = gql(member, SUBSCRIBE, {"plan": plan_id})["data"]["membershipSubscribe"]
    assert again["errors"] == [{"code": "ALREADY_SUBSCRIBED", "field": "planId"}]

    mine = gql(member, MY_ACCOUNT, {"id": gid("MemberAccount", account.pk)})["data"]["viewer"]["account"]
    assert mine["tier"] == {"name": "Gold"}
    assert mine["subscription"]["status"] == "TRIALING"
    assert mine["subscription"]["nextChargeAt"] == mine["subscription"]["currentPeriodEnd"]
    assert [t["toStatus"] for t in mine["subscription"]["transitions"]] == ["PENDING", "TRIALING"]

    subscription_id = subscribed["subscription"]["id"]
    off = gql(member, AUTO_RENEW, {"id": subscription_id, "on": False})["data"]["subscriptionAutoRenewSet"]
    assert off == {"subscription": {"autoRenew": False, "nextChargeAt": None}, "errors": []}
    # Another member cannot see or touch it: NOT_FOUND, nothing changed.
    stranger = login(member_of(shop).customer.user)
    refused = gql(stranger, AUTO_RENEW, {"id": subscription_id, "on": True})["data"]["subscriptionAutoRenewSet"]
    assert refused == {"subscription": None, "errors": [{"code": "NOT_FOUND", "field": "id"}]}
    assert Subscription.objects.get().auto_renew is False

    # The shop's system reports the first charge at the trial's end (through its API key's rights:
    # here the owner's login).
    Subscription.objects.update(auto_renew=True)
    subscription = Subscription.objects.get()
    Subscription.objects.filter(pk=subscription.pk).update(current_period_end=timezone.now() - dt.timedelta(minutes=1))
    pay = """mutation($input: MembershipPaymentInput!) { membershipPaymentRecord(input: $input) {
      payment { outcome amount points } subscription { status } replayed errors { code field } } }"""
    variables = {
        "input": {
            "subscriptionId": subscription_id,
            "outcome": "SUCCEEDED",
            "amount": "9.99",
            "idempotencyKey": "psp-1",
            "providerReference": "ch_1",
        }
    }
    paid = gql(login(owner), pay, variables)["data"]["membershipPaymentRecord"]
    assert paid == {
        "payment": {"outcome": "SUCCEEDED", "amount": "9.99", "points": 24},
        "subscription": {"status": "ACTIVE"},
        "replayed": False,
        "errors": [],
    }
    replay = gql(login(owner), pay, variables)["data"]["membershipPaymentRecord"]
    assert replay["replayed"] is True
    assert MembershipPayment.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"price": "0"}, "price"),
        ({"price": "9.999"}, "price"),
        ({"name": " "}, "name"),
        ({"intervalCount": 13}, "intervalCount"),
        ({"trialDays": 400}, "trialDays"),
        ({"earnMultiplier": "0.5"}, "earnMultiplier"),
        ({"reminderDays": 31}, "reminderDays"),
        ({"benefits": ["x" * 201]}, "benefits"),
        ({"translations": [{"language": "de", "name": "VIP"}]}, "translations"),
        ({"tierId": "other"}, "tierId"),
    ],
)
def test_a_bad_plan_is_refused_with_a_code_and_nothing_is_written(changes, field):
    shop = shop_with_program()
    owner = staff(shop, StaffRole.OWNER)
    gold = Tier.objects.get(program=shop.program, name="Gold")
    if changes.get("tierId") == "other":
        other = shop_with_program()
        changes = {"tierId": gid("Tier", Tier.objects.get(program=other.program, name="Gold").pk)}
    body = gql(
        login(owner), PLAN_CREATE, {"shop": gid("Shop", shop.pk), "input": plan_input(gid("Tier", gold.pk), **changes)}
    )
    payload = body["data"]["membershipPlanCreate"]
    assert payload["plan"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", field)]
    assert MembershipPlan.objects.count() == 0


@pytest.mark.django_db
def test_the_tier_of_a_plan_with_subscribers_cannot_change_and_archived_plans_are_not_sold():
    shop, plan, owner = vip_shop()
    account = member_of(shop)
    membership_subscribe(user=account.customer.user, plan_id=plan.pk)
    silver = Tier.objects.get(program=shop.program, name="Silver")
    update = """mutation($id: ID!, $input: MembershipPlanInput!) { membershipPlanUpdate(id: $id, input: $input) {
      plan { price } errors { code field } } }"""
    refused = gql(
        login(owner), update, {"id": gid("MembershipPlan", plan.pk), "input": plan_input(gid("Tier", silver.pk))}
    )
    assert refused["data"]["membershipPlanUpdate"]["errors"] == [{"code": "INVALID_INPUT", "field": "tierId"}]
    assert MembershipPlan.objects.get().tier_id == plan.tier_id
    archive = "mutation($id: ID!) { membershipPlanArchive(id: $id) { plan { archivedAt } errors { code } } }"
    assert (
        gql(login(owner), archive, {"id": gid("MembershipPlan", plan.pk)})["data"]["membershipPlanArchive"]["errors"]
        == []
    )
    late = login(member_of(shop).customer.user)
    body = gql(late, SUBSCRIBE, {"plan": gid("MembershipPlan", plan.pk)})["data"]["membershipSubscribe"]
    assert body["errors"] == [{"code": "PLAN_UNAVAILABLE", "field": "planId"}]
    assert Subscription.objects.count() == 1


@pytest.mark.django_db
def test_figures_mrr_churn_and_revenue_per_plan():
    shop, monthly, owner = vip_shop(trial_days=0)
    yearly = MembershipPlan.objects.create(
        shop=shop,
        name="Yearly",
        price=Decimal("99.00"),
        currency="USD",
        interval_unit=IntervalUnit.YEAR,
        tier=monthly.tier,
    )
    now = timezone.now()
    long_ago = now - dt.timedelta(days=60)

    def subscriber(plan, key, at):
        account = member_of(shop, at=at - dt.timedelta(days=1))
        subscription = membership_subscribe(user=account.customer.user, plan_id=plan.pk, at=at)
        membership_payment_record(
            user=owner,
            subscription_id=subscription.pk,
            outcome="succeeded",
            amount=plan.price,
            provider_reference="",
            idempotency_key=key,
            at=at,
        )
        return subscription

    subscriber(monthly, "m1", long_ago)
    subscriber(monthly, "m2", now - dt.timedelta(days=5))
    subscriber(yearly, "y1", long_ago)
    leaver = subscriber(monthly, "m3", long_ago)
    subscription_cancel(user=owner, subscription_id=leaver.pk, at_period_end=False)
    query = """query($slug: String!) { shop(slug: $slug) { membershipFigures(days: 30) {
      currency activeSubscribers trialing pastDue mrr churned churnRate revenue
      plans { plan { name } subscribers revenue } } } }"""
    figures = gql(login(owner), query, {"slug": shop.slug})["data"]["shop"]["membershipFigures"]
    # MRR: 2 x 9.99 + 99 / 12 = 28.23; churn: 1 ended of the 3 running 30 days ago; revenue in the
    # window: the payment 5 days ago.
    assert figures == {
        "currency": "USD",
        "activeSubscribers": 3,
        "trialing": 0,
        "pastDue": 0,
        "mrr": "28.23",
        "churned": 1,
        "churnRate": "0.3333",
        "revenue": "9.99",
        "plans": [
            {"plan": {"name": "VIP Gold"}, "subscribers": 2, "revenue": "9.99"},
            {"plan": {"name": "Yearly"}, "subscribers": 1, "revenue": "0.00"},
        ],
    }
    listed = """query($slug: String!, $statuses: [SubscriptionStatus!]) { shop(slug: $slug) {
      subscriptions(statuses: $statuses, first: 10) { totalCount edges { node { status plan { name } } } } } }"""
    cancelled = gql(login(owner), listed, {"slug": shop.slug, "statuses": ["CANCELLED"]})["data"]["shop"]
    assert cancelled["subscriptions"]["totalCount"] == 1
    assert gql(login(owner), listed, {"slug": shop.slug})["data"]["shop"]["subscriptions"]["totalCount"] == 4


@pytest.mark.django_db(transaction=True)
def test_a_bulk_action_runs_on_a_worker_with_progress_and_failures(postgres, worker):
    shop, plan, owner = vip_shop()
    subscriptions = [membership_subscribe(user=member_of(shop).customer.user, plan_id=plan.pk) for _ in range(3)]
    subscription_cancel(user=owner, subscription_id=subscriptions[2].pk, at_period_end=False)
    start = """mutation($shop: ID!, $ids: [ID!]!) { subscriptionsBulkStart(shopId: $shop, kind: DISABLE_AUTO_RENEW,
      subscriptionIds: $ids) { action { id total done } errors { code field } } }"""
    ids = [gid("MembershipSubscription", s.pk) for s in subscriptions]
    started = gql(login(owner), start, {"shop": gid("Shop", shop.pk), "ids": ids})["data"]["subscriptionsBulkStart"]
    assert started["errors"] == []
    assert started["action"]["total"] == 3
    worker.join("memberships", timeout=30_000)
    progress = """query($slug: String!, $id: ID!) { shop(slug: $slug) { subscriptionBulkAction(id: $id) {
      total done changed finishedAt failures { subscriptionId code } } } }"""
    report = gql(login(owner), progress, {"slug": shop.slug, "id": started["action"]["id"]})["data"]["shop"]
    action = report["subscriptionBulkAction"]
    assert (action["total"], action["done"], action["changed"]) == (3, 3, 2)
    assert action["finishedAt"] is not None
    assert action["failures"] == [{"subscriptionId": ids[2], "code": "INVALID_STATE"}]
    assert sorted(Subscription.objects.values_list("auto_renew", flat=True)) == [False, False, True]
    # Another shop's subscription in the list: refused before anything is queued.
    other_shop, other_plan, _ = vip_shop()
    foreign = membership_subscribe(user=member_of(other_shop).customer.user, plan_id=other_plan.pk)
    before = SubscriptionTransition.objects.count()
    refused = gql(
        login(owner), start, {"shop": gid("Shop", shop.pk), "ids": [gid("MembershipSubscription", foreign.pk)]}
    )["data"]["subscriptionsBulkStart"]
    assert refused == {"action": None, "errors": [{"code": "INVALID_INPUT", "field": "subscriptionIds"}]}
    assert SubscriptionTransition.objects.count() == before
