"""programUpdate: validated, audited, owner-or-manager only, and effective for the next order."""

from __future__ import annotations

import datetime as dt

import pytest
from strawberry import relay

from loyalty.models import LoyaltyProgram, ProgramChange
from loyalty.services.orders import order_event_process
from marketplace.models import StaffRole
from marketplace.services.orders import order_event_record
from tests.api.graphql import gql, login
from tests.factories import CustomerFactory, UserFactory, order_input, shop_with_program, staff

pytestmark = pytest.mark.django_db

UPDATE = """mutation($shop: ID!, $input: ProgramUpdateInput!) { programUpdate(shopId: $shop, input: $input) {
  program { pointsPerCurrencyUnit expiryMonths tierWindow welcomeBonusPoints pointValue } errors { field code } } }"""
HISTORY = """query($slug: String!) { shop(slug: $slug) { program { changes(first: 5) {
  edges { node { changedBy changes { field old new } } } } } } }"""


def _settings(shop):
    return LoyaltyProgram.objects.filter(shop=shop).values().get()


def test_owner_changes_the_rate_the_next_order_earns_it_and_the_change_is_audited():
    shop = shop_with_program()
    owner = staff(shop, StaffRole.OWNER)
    client = login(owner)
    body = gql(
        client,
        UPDATE,
        {
            "shop": str(relay.GlobalID("Shop", str(shop.pk))),
            "input": {"pointsPerCurrencyUnit": "2.5", "expiryMonths": 12},
        },
    )
    assert body["data"]["programUpdate"]["errors"] == []
    assert body["data"]["programUpdate"]["program"]["pointsPerCurrencyUnit"] == "2.5000"
    customer = CustomerFactory()
    event = order_event_record(
        data=order_input(shop, "after", customer=customer, amount="10.00", at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC)),
        idempotency_key="k",
        actor=None,
    ).event
    assert order_event_process(event_id=event.pk, broadcast=False).points == 25
    history = gql(client, HISTORY, {"slug": shop.slug})["data"]["shop"]["program"]["changes"]["edges"]
    assert history[0]["node"] == {
        "changedBy": owner.username,
        "changes": [
            {"field": "expiryMonths", "old": None, "new": "12"},
            {"field": "pointsPerCurrencyUnit", "old": "1.0000", "new": "2.5000"},
        ],
    }
    # an update that changes nothing writes no audit record
    gql(client, UPDATE, {"shop": str(relay.GlobalID("Shop", str(shop.pk))), "input": {"expiryMonths": 12}})
    assert ProgramChange.objects.count() == 1


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"pointsPerCurrencyUnit": "-1"}, "pointsPerCurrencyUnit"),
        ({"minimumOrderAmount": "-0.01"}, "minimumOrderAmount"),
        ({"pendingDays": 400}, "pendingDays"),
        ({"expiryMonths": 0}, "expiryMonths"),
        ({"downgradePolicy": "sometimes"}, "downgradePolicy"),
        ({"downgradeGraceDays": -1}, "downgradeGraceDays"),
        ({"welcomeBonusPoints": -5}, "welcomeBonusPoints"),
        ({"pointValue": "-0.5"}, "pointValue"),
        ({"tierBasis": None}, "tierBasis"),
        ({"active": None}, "active"),
    ],
)
def test_invalid_settings_are_refused_with_the_field_and_change_nothing(settings, field):
    shop = shop_with_program()
    before = _settings(shop)
    body = gql(login(staff(shop)), UPDATE, {"shop": str(relay.GlobalID("Shop", str(shop.pk))), "input": settings})
    assert [(e["code"], e["field"]) for e in body["data"]["programUpdate"]["errors"]] == [("INVALID_INPUT", field)]
    assert _settings(shop) == before
    assert ProgramChange.objects.count() == 0


@pytest.mark.parametrize(
    ("caller", "code"),
    [
        ("anonymous", "NOT_AUTHENTICATED"),
        ("member", "PERMISSION_DENIED"),
        ("cashier", "PERMISSION_DENIED"),
        ("staff of another shop", "PERMISSION_DENIED"),
        ("plain user", "PERMISSION_DENIED"),
        ("manager", None),
    ],
)
def test_roles(caller, code):
    shop = shop_with_program()
    user = {
        "anonymous": None,
        "member": CustomerFactory().user,
        "cashier": staff(shop, StaffRole.CASHIER),
        "staff of another shop": staff(shop_with_program(), StaffRole.OWNER),
        "plain user": UserFactory(),
        "manager": staff(shop, StaffRole.MANAGER),
    }[caller]
    before = _settings(shop)
    body = gql(
        login(user), UPDATE, {"shop": str(relay.GlobalID("Shop", str(shop.pk))), "input": {"welcomeBonusPoints": 50}}
    )
    errors = [e["code"] for e in body["data"]["programUpdate"]["errors"]]
    if code is None:
        assert errors == []
        assert _settings(shop)["welcome_bonus_points"] == 50
        return
    assert errors == [code]
    assert _settings(shop) == before
    history = gql(login(user), HISTORY, {"slug": shop.slug})
    assert history["errors"][0]["extensions"]["code"] == code  # the same answer for the audit history
