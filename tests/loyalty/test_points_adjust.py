"""pointsAdjust: owners and managers correct points with a reason; never below zero; audited and replayable."""

from __future__ import annotations

import pytest
from strawberry import relay

from loyalty.models import EntryKind, MemberAccount, PointsEntry, PointsLot
from loyalty.selectors import ledger_discrepancies
from marketplace.models import StaffRole
from tests.api.graphql import gql, login
from tests.factories import UserFactory, staff
from tests.rewards.conftest import member_with_points, points_shop

pytestmark = pytest.mark.django_db

ADJUST = """mutation($input: PointsAdjustInput!, $key: String!) { pointsAdjust(input: $input, idempotencyKey: $key) {
  replayed entry { kind points reason availableAfter } account { pointsAvailable } errors { field code message } } }"""


def _setup():
    shop = points_shop()
    member = member_with_points(shop, amounts=("100.00",))
    account = MemberAccount.objects.get(customer=member)
    return shop, member, account


def _state():
    return (
        list(MemberAccount.objects.order_by("pk").values_list("points_available", flat=True)),
        PointsEntry.objects.count(),
        list(PointsLot.objects.order_by("pk").values_list("remaining", flat=True)),
    )


def _input(account, points=25, reason="Goodwill for a late delivery"):
    return {"accountId": str(relay.GlobalID("MemberAccount", str(account.pk))), "points": points, "reason": reason}


def test_owner_adds_and_manager_takes_points_with_reasons():
    shop, _, account = _setup()
    owner, manager = staff(shop, StaffRole.OWNER), staff(shop, StaffRole.MANAGER)
    added = gql(login(owner), ADJUST, {"input": _input(account, 25), "key": "a1"})["data"]["pointsAdjust"]
    assert added["errors"] == []
    assert added["entry"] == {
        "kind": "ADJUST",
        "points": 25,
        "reason": "Adjusted by staff: Goodwill for a late delivery",
        "availableAfter": 125,
    }
    taken = gql(login(manager), ADJUST, {"input": _input(account, -110, "Fraudulent order 17"), "key": "a2"})
    assert taken["data"]["pointsAdjust"]["account"] == {"pointsAvailable": 15}
    entries = PointsEntry.objects.filter(kind=EntryKind.ADJUST).order_by("pk")
    assert [(e.points, e.staff_user_id) for e in entries] == [(25, owner.pk), (-110, manager.pk)]
    # the take consumed the lot that expires first (the earned one), then the granted one
    assert list(PointsLot.objects.order_by("expires_at").values_list("remaining", flat=True)) == [0, 15]
    assert ledger_discrepancies() == []


def test_replay_and_conflict():
    shop, _, account = _setup()
    client = login(staff(shop, StaffRole.OWNER))
    gql(client, ADJUST, {"input": _input(account, 10), "key": "same"})
    before = _state()
    again = gql(client, ADJUST, {"input": _input(account, 10), "key": "same"})["data"]["pointsAdjust"]
    assert (again["replayed"], again["entry"]["points"]) == (True, 10)
    other = gql(client, ADJUST, {"input": _input(account, 11), "key": "same"})["data"]["pointsAdjust"]
    assert [e["code"] for e in other["errors"]] == ["IDEMPOTENCY_CONFLICT"]
    assert _state() == before


@pytest.mark.parametrize(
    ("points", "reason", "code", "field"),
    [
        (-101, "Too much", "INSUFFICIENT_POINTS", "points"),
        (0, "Nothing", "INVALID_POINTS", "points"),
        (10_000_001, "Typo", "INVALID_POINTS", "points"),
        (10, "", "REASON_REQUIRED", "reason"),
        (10, "  x ", "REASON_REQUIRED", "reason"),
    ],
)
def test_bad_adjustments_are_coded_and_change_nothing(points, reason, code, field):
    shop, _, account = _setup()
    before = _state()
    payload = gql(login(staff(shop)), ADJUST, {"input": _input(account, points, reason), "key": "k"})["data"][
        "pointsAdjust"
    ]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert _state() == before


@pytest.mark.parametrize(
    ("caller", "code"),
    [
        ("anonymous", "NOT_AUTHENTICATED"),
        ("the member", "NOT_FOUND"),
        ("another member", "NOT_FOUND"),
        ("cashier", "NOT_FOUND"),
        ("staff of another shop", "NOT_FOUND"),
        ("plain user", "NOT_FOUND"),
        ("unknown account", "NOT_FOUND"),
    ],
)
def test_only_owners_and_managers_of_the_shop_adjust(caller, code):
    shop, member, account = _setup()
    user = {
        "anonymous": None,
        "the member": member.user,
        "another member": member_with_points(shop).user,
        "cashier": staff(shop, StaffRole.CASHIER),
        "staff of another shop": staff(points_shop(), StaffRole.OWNER),
        "plain user": UserFactory(),
        "unknown account": staff(shop, StaffRole.OWNER),
    }[caller]
    target = _input(account)
    if caller == "unknown account":
        target["accountId"] = str(relay.GlobalID("MemberAccount", "999999"))
    before = _state()
    payload = gql(login(user), ADJUST, {"input": target, "key": "k"})["data"]["pointsAdjust"]
    assert [e["code"] for e in payload["errors"]] == [code]
    assert _state() == before


def test_the_shops_staff_see_who_adjusted_and_nobody_else_does():
    shop, member, account = _setup()
    owner = staff(shop, StaffRole.OWNER)
    gql(login(owner), ADJUST, {"input": _input(account, 25), "key": "who"})
    detail = """query($slug: String!, $id: ID!) { shop(slug: $slug) { member(id: $id) {
      entries(first: 5) { edges { node { kind adjustedBy } } } } } }"""
    variables = {"slug": shop.slug, "id": str(relay.GlobalID("MemberAccount", str(account.pk)))}
    manager_view = gql(login(staff(shop, StaffRole.MANAGER)), detail, variables)["data"]["shop"]["member"]
    rows = [edge["node"] for edge in manager_view["entries"]["edges"]]
    assert {"kind": "ADJUST", "adjustedBy": owner.username} in rows
    assert all(row["adjustedBy"] is None for row in rows if row["kind"] != "ADJUST")
    mine = "{ viewer { accounts { edges { node { entries(first: 5) { edges { node { kind adjustedBy } } } } } } } }"
    own = gql(login(member.user), mine)["data"]["viewer"]["accounts"]["edges"][0]["node"]["entries"]["edges"]
    assert [row["node"]["adjustedBy"] for row in own] == [None] * len(own)  # the member never sees staff names
    assert "ADJUST" in [row["node"]["kind"] for row in own]
