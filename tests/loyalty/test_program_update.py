"""programUpdate: validated, audited, owner-or-manager only, and effective for the next order."""

from __future__ import annotations

import datetime as dt

import pytest
from strawberry import relay

from loyalty.models import LoyaltyProgram, MemberAccount, ProgramChange
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
        ({"tierWindow": None}, "tierWindow"),
        ({"active": None}, "active"),
        ({"birthdayBonusPoints": -1}, "birthdayBonusPoints"),
        ({"welcomeBonusPoints": 1_000_001}, "welcomeBonusPoints"),
        ({"pointsPerCurrencyUnit": "1000.5"}, "pointsPerCurrencyUnit"),
        ({"expiryMonths": 121}, "expiryMonths"),
        # more decimals than the column keeps: refused, never silently rounded
        ({"pointsPerCurrencyUnit": "0.00004"}, "pointsPerCurrencyUnit"),
        ({"minimumOrderAmount": "10.005"}, "minimumOrderAmount"),
        ({"pointValue": "0.0000001"}, "pointValue"),
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


def _update(shop, settings):
    body = gql(login(staff(shop)), UPDATE, {"shop": str(relay.GlobalID("Shop", str(shop.pk))), "input": settings})
    return body["data"]["programUpdate"]


def _deliver(shop, customer, order_id, status="delivered", day=5):
    at = dt.datetime(2026, 1, day, tzinfo=dt.UTC)
    event = order_event_record(
        data=order_input(shop, order_id, status, customer=customer, amount="10.00", at=at),
        idempotency_key=f"{order_id}:{status}",
        actor=None,
    ).event
    return order_event_process(event_id=event.pk, broadcast=False)


@pytest.mark.parametrize("settings", [{"tierBasis": "POINTS"}, {"tierWindow": "CALENDAR_YEAR"}])
def test_tier_basis_and_window_change_only_while_the_program_has_no_members(settings):
    shop = shop_with_program()
    _deliver(shop, CustomerFactory(), "A1")
    before = _settings(shop)
    payload = _update(shop, settings)
    [error] = payload["errors"]
    assert error["code"] == "INVALID_INPUT"
    assert error["field"] == next(iter(settings))
    assert _settings(shop) == before
    assert ProgramChange.objects.count() == 0
    # the same value again is no change, so it is allowed
    same = {"tierBasis": "SPEND"} if "tierBasis" in settings else {"tierWindow": before["tier_window"].upper()}
    assert _update(shop, same)["errors"] == []


def test_a_new_program_switches_basis_when_its_thresholds_are_whole_points():
    shop = shop_with_program()
    assert _update(shop, {"tierBasis": "POINTS", "tierWindow": "CALENDAR_YEAR"})["errors"] == []
    assert (_settings(shop)["tier_basis"], _settings(shop)["tier_window"]) == ("points", "calendar_year")
    other = shop_with_program()
    other.program.tiers.filter(threshold=100).update(threshold="100.50")
    before = _settings(other)
    assert [(e["code"], e["field"]) for e in _update(other, {"tierBasis": "POINTS"})["errors"]] == [
        ("INVALID_INPUT", "tierBasis")
    ]
    assert _settings(other) == before


def test_a_paused_program_earns_and_enrols_nobody_but_still_takes_back_returned_points():
    shop = shop_with_program()
    member, newcomer = CustomerFactory(), CustomerFactory()
    assert _deliver(shop, member, "A1").points == 10
    assert _update(shop, {"active": False})["errors"] == []
    # a delivery while paused earns nothing, and a newcomer is not enrolled
    assert _deliver(shop, member, "A2", day=6).points == 0
    assert _deliver(shop, newcomer, "B1", day=6).account_id is None
    assert not MemberAccount.objects.filter(customer=newcomer).exists()
    # the preview says what the real order gets: nothing (null) while paused
    preview = gql(
        login(None),
        """query($shop: ID!) { earningPreview(shopId: $shop, input: {lines: [{quantity: 1, unitPrice: "10"}]}) {
          points } }""",
        {"shop": str(relay.GlobalID("Shop", str(shop.pk)))},
    )
    assert preview["data"]["earningPreview"] is None
    # a return of an order that earned before the pause still takes its points back
    outcome = _deliver(shop, member, "A1", status="returned", day=7)
    assert outcome.points == -10
    account = MemberAccount.objects.get(customer=member)
    assert (account.points_pending, account.points_available) == (0, 0)
