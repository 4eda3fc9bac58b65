"""Issue 4's "done when", end to end through GraphQL: an owner changes the earning rate, adds a tier,
creates a seasonal rule, and sees the effect on the next delivered order and in analytics.
"""

from __future__ import annotations

import pytest
from django.test import Client
from strawberry import relay

from loyalty.models import MemberAccount, PointsEntry
from loyalty.services.orders import order_event_process
from loyalty.services.tiers import tiers_reevaluate
from marketplace.models import OrderEvent, StaffRole
from tests.api.graphql import gql
from tests.factories import PASSWORD, CustomerFactory, shop_with_program, staff

pytestmark = pytest.mark.django_db

PROGRAM = """mutation($shop: ID!) { programUpdate(shopId: $shop, input: {pointsPerCurrencyUnit: "2"}) {
  errors { code } } }"""
TIER = """mutation($shop: ID!) { tierCreate(shopId: $shop, input: {name: "Silver Plus", threshold: "150",
  multiplier: "1.2"}) { tier { id } errors { code } } }"""
RULE = """mutation($shop: ID!) { earningRuleCreate(shopId: $shop, input: {name: "Black Friday 2025", kind: MULTIPLIER,
  multiplier: "3", startsAt: "2025-11-28T00:00:00-05:00", endsAt: "2025-11-29T00:00:00-05:00"}) {
  rule { id } errors { code field } } }"""
ORDER = """mutation($input: OrderEventRecordInput!, $key: String!) {
  orderEventRecord(input: $input, idempotencyKey: $key) { errors { code field } } }"""
ANALYTICS = """query($slug: String!) { shop(slug: $slug) { analytics(from: "2025-11-28", to: "2025-11-28") {
  pointsIssued membersNew tierDistribution { name members } } } }"""
MEMBER = """{ viewer { accounts(first: 1) { edges { node { pointsPending tier { name }
  entries(first: 1) { edges { node { points appliedRules { name points } } } } } } } } }"""


def test_owner_tunes_the_program_and_the_next_order_shows_it():
    shop = shop_with_program()  # USD, America/New_York, 1 point per unit, Bronze 0 / Silver 100 / Gold 250
    owner = Client()
    assert owner.login(username=staff(shop, StaffRole.OWNER).username, password=PASSWORD)
    shop_id = str(relay.GlobalID("Shop", str(shop.pk)))

    assert gql(owner, PROGRAM, {"shop": shop_id})["data"]["programUpdate"]["errors"] == []
    assert gql(owner, TIER, {"shop": shop_id})["data"]["tierCreate"]["errors"] == []
    assert gql(owner, RULE, {"shop": shop_id})["data"]["earningRuleCreate"]["errors"] == []

    member = CustomerFactory()
    order = {
        "shopId": shop_id,
        "orderId": "BF-1",
        "status": "DELIVERED",
        "currency": "USD",
        "occurredAt": "2025-11-28T10:00:00-05:00",
        "customer": {"externalId": member.external_id},
        "lines": [{"quantity": 1, "unitPrice": "80.00"}],
    }
    assert gql(owner, ORDER, {"input": order, "key": "bf-1"})["data"]["orderEventRecord"]["errors"] == []
    order_event_process(event_id=OrderEvent.objects.get().pk, broadcast=False)  # what the worker does

    viewer = Client()
    assert viewer.login(username=member.user.username, password=PASSWORD)
    account = gql(viewer, MEMBER)["data"]["viewer"]["accounts"]["edges"][0]["node"]
    # 80.00 x 2 points per unit = 160 base; Black Friday triples it: 480, of which the rule added 320.
    # The member entered at Bronze (x1.0); 80 of spend reaches no higher tier yet.
    assert account["pointsPending"] == 480
    assert account["entries"]["edges"][0]["node"] == {
        "points": 480,
        "appliedRules": [{"name": "Black Friday 2025", "points": 320}],
    }
    assert account["tier"] == {"name": "Bronze"}

    # a second order takes the member past the new tier's threshold of 150
    order = {**order, "orderId": "BF-2", "occurredAt": "2025-11-28T11:00:00-05:00"}
    order["lines"] = [{"quantity": 1, "unitPrice": "75.00"}]
    gql(owner, ORDER, {"input": order, "key": "bf-2"})
    order_event_process(event_id=OrderEvent.objects.latest("pk").pk, broadcast=False)
    assert MemberAccount.objects.get(customer=member).tier.name == "Silver Plus"
    assert tiers_reevaluate(program_id=shop.program.pk, reason="no-op").upgraded == 0

    analytics = gql(owner, ANALYTICS, {"slug": shop.slug})["data"]["shop"]["analytics"]
    issued = sum(PointsEntry.objects.filter(kind="earn").values_list("points", flat=True))
    # 75.00 x 2 x 3 (Black Friday) at Bronze (x1.0, the tier held before the order) = 450
    assert issued == 480 + 450
    assert analytics["pointsIssued"] == 930
    assert analytics["membersNew"] == 1
    assert {"name": "Silver Plus", "members": 1} in analytics["tierDistribution"]


def test_the_rule_ends_when_black_friday_ends_in_the_shops_time_zone():
    shop = shop_with_program()
    owner = Client()
    assert owner.login(username=staff(shop, StaffRole.OWNER).username, password=PASSWORD)
    shop_id = str(relay.GlobalID("Shop", str(shop.pk)))
    gql(owner, RULE, {"shop": shop_id})
    member = CustomerFactory()
    # 23:59 New York on the 28th is inside; 00:00 on the 29th is not
    for number, local in enumerate(("2025-11-28T23:59:00-05:00", "2025-11-29T00:00:00-05:00")):
        order = {
            "shopId": shop_id,
            "orderId": f"T{number}",
            "status": "DELIVERED",
            "currency": "USD",
            "occurredAt": local,
            "customer": {"externalId": member.external_id},
            "lines": [{"quantity": 1, "unitPrice": "10.00"}],
        }
        gql(owner, ORDER, {"input": order, "key": f"t{number}"})
        order_event_process(event_id=OrderEvent.objects.latest("pk").pk, broadcast=False)
    points = list(PointsEntry.objects.filter(kind="earn").order_by("created_at").values_list("points", flat=True))
    assert points == [30, 10]
