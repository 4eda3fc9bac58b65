"""The shop-owner console's permission matrix: every field and mutation, every kind of caller.

Roles (the capability table, ``marketplace/permissions.py``): the owner and the manager tune the
program, read members and adjust points; a cashier only handles codes at the till (see
tests/rewards and tests/api/test_capabilities.py); nobody sees or changes another shop. Each cell
asserts the outcome: ``OK`` or the error code, from the payload (mutations) or from
``extensions.code`` (queries). Refused calls change nothing, asserted on the shop's state.
"""

from __future__ import annotations

import pytest
from django.test import Client

from loyalty.models import EarningRule, LoyaltyProgram, MemberAccount, PointsEntry, ProgramChange, RuleKind, Tier
from loyalty.services.orders import order_event_process
from marketplace.models import StaffRole
from marketplace.services.orders import order_event_record
from tests.api.graphql import gid, gql
from tests.factories import PASSWORD, CustomerFactory, order_input, shop_with_program, staff

pytestmark = pytest.mark.django_db

CALLERS = ("anonymous", "customer", "cashier", "manager", "owner", "other_owner")
EDITORS = {"manager", "owner"}


def _outcome(body: dict, path: str) -> str:
    """``OK`` or the first error code: top-level errors (queries) or the payload's (mutations)."""
    if body.get("errors"):
        return body["errors"][0]["extensions"]["code"]
    payload = body["data"][path]
    errors = payload.get("errors") if isinstance(payload, dict) else None
    return errors[0]["code"] if errors else "OK"


#: name -> (document, variables from the fixture's ids, root field, callers allowed,
#: code for the others when logged in: PERMISSION_DENIED, or NOT_FOUND where an id is guessed)
OPERATIONS = {
    "shop.members": (
        "query($slug: String!) { shop(slug: $slug) { members(first: 5) { totalCount } } }",
        lambda ids: {"slug": ids["slug"]},
        "shop",
        EDITORS,
        "PERMISSION_DENIED",
    ),
    "shop.member": (
        "query($slug: String!, $id: ID!) { shop(slug: $slug) { member(id: $id) { pointsAvailable } } }",
        lambda ids: {"slug": ids["slug"], "id": ids["account"]},
        "shop",
        EDITORS,
        "PERMISSION_DENIED",
    ),
    "shop.analytics": (
        'query($slug: String!) { shop(slug: $slug) { analytics(from: "2026-01-01", to: "2026-01-31") '
        "{ membersTotal } } }",
        lambda ids: {"slug": ids["slug"]},
        "shop",
        EDITORS,
        "PERMISSION_DENIED",
    ),
    "shop.tierPreview": (
        "query($slug: String!, $tiers: [TierPlacementInput!]!) { shop(slug: $slug) { tierPreview(tiers: $tiers) "
        "{ members } } }",
        lambda ids: {"slug": ids["slug"], "tiers": [{"tierId": ids["bronze"], "threshold": "0"}]},
        "shop",
        EDITORS,
        "PERMISSION_DENIED",
    ),
    "program.changes": (
        "query($slug: String!) { shop(slug: $slug) { program { changes(first: 5) { totalCount } } } }",
        lambda ids: {"slug": ids["slug"]},
        "shop",
        EDITORS,
        "PERMISSION_DENIED",
    ),
    "programUpdate": (
        'mutation($shop: ID!) { programUpdate(shopId: $shop, input: {pointsPerCurrencyUnit: "3"}) '
        "{ errors { code } } }",
        lambda ids: {"shop": ids["shop"]},
        "programUpdate",
        EDITORS,
        "PERMISSION_DENIED",
    ),
    "pointsAdjust": (
        'mutation($account: ID!) { pointsAdjust(idempotencyKey: "m1", input: {accountId: $account, points: 5, '
        'reason: "Goodwill"}) { errors { code } } }',
        lambda ids: {"account": ids["account"]},
        "pointsAdjust",
        EDITORS,
        "NOT_FOUND",
    ),
    "tierCreate": (
        'mutation($shop: ID!) { tierCreate(shopId: $shop, input: {name: "Copper", threshold: "50"}) '
        "{ errors { code } } }",
        lambda ids: {"shop": ids["shop"]},
        "tierCreate",
        EDITORS,
        "PERMISSION_DENIED",
    ),
    "tierUpdate": (
        'mutation($id: ID!) { tierUpdate(id: $id, input: {color: "#000000"}) { errors { code } } }',
        lambda ids: {"id": ids["gold"]},
        "tierUpdate",
        EDITORS,
        "NOT_FOUND",
    ),
    "tierDelete": (
        "mutation($id: ID!) { tierDelete(id: $id) { errors { code } } }",
        lambda ids: {"id": ids["platinum"]},
        "tierDelete",
        EDITORS,
        "NOT_FOUND",
    ),
    "tierReorder": (
        "mutation($shop: ID!, $tiers: [TierPlacementInput!]!) { tierReorder(shopId: $shop, tiers: $tiers) "
        "{ errors { code } } }",
        lambda ids: {"shop": ids["shop"], "tiers": ids["ladder"]},
        "tierReorder",
        EDITORS,
        "PERMISSION_DENIED",
    ),
    "earningRuleCreate": (
        'mutation($shop: ID!) { earningRuleCreate(shopId: $shop, input: {name: "Double", kind: MULTIPLIER, '
        'multiplier: "2"}) { errors { code } } }',
        lambda ids: {"shop": ids["shop"]},
        "earningRuleCreate",
        EDITORS,
        "PERMISSION_DENIED",
    ),
    "earningRuleUpdate": (
        'mutation($id: ID!) { earningRuleUpdate(id: $id, input: {name: "Renamed"}) { errors { code } } }',
        lambda ids: {"id": ids["rule"]},
        "earningRuleUpdate",
        EDITORS,
        "NOT_FOUND",
    ),
    "earningRuleDelete": (
        "mutation($id: ID!) { earningRuleDelete(id: $id) { errors { code } } }",
        lambda ids: {"id": ids["rule"]},
        "earningRuleDelete",
        EDITORS,
        "NOT_FOUND",
    ),
}


@pytest.fixture
def console():
    """A shop with one member (40 points pending), an earning rule, and a login per caller."""
    shop = shop_with_program()
    member = CustomerFactory()
    event = order_event_record(
        data=order_input(shop, "P1", customer=member, amount="40.00"), idempotency_key="p1", actor=None
    ).event
    order_event_process(event_id=event.pk, broadcast=False)
    rule = EarningRule.objects.create(program=shop.program, name="Happy", kind=RuleKind.MULTIPLIER, multiplier=2)
    tiers = {t.name: t for t in Tier.objects.filter(program=shop.program)}
    users = {
        "customer": member.user,
        "cashier": staff(shop, StaffRole.CASHIER),
        "manager": staff(shop, StaffRole.MANAGER),
        "owner": staff(shop, StaffRole.OWNER),
        "other_owner": staff(shop_with_program(), StaffRole.OWNER),
    }
    ids = {
        "slug": shop.slug,
        "shop": gid("Shop", shop.pk),
        "account": gid("MemberAccount", MemberAccount.objects.get(customer=member).pk),
        "rule": gid("EarningRule", rule.pk),
        "bronze": gid("Tier", tiers["Bronze"].pk),
        "gold": gid("Tier", tiers["Gold"].pk),
        "platinum": gid("Tier", tiers["Platinum"].pk),
        "ladder": [
            {"tierId": gid("Tier", tiers[name].pk), "threshold": threshold}
            for name, threshold in (("Bronze", "0"), ("Silver", "90"), ("Gold", "250"), ("Platinum", "500"))
        ],
    }
    return shop, users, ids


def _state(shop) -> tuple:
    """Everything a console mutation could change."""
    return (
        list(LoyaltyProgram.objects.filter(pk=shop.program.pk).values()),
        list(Tier.all_objects.filter(program=shop.program).order_by("pk").values()),
        list(EarningRule.objects.filter(program=shop.program).order_by("pk").values()),
        PointsEntry.objects.count(),
        ProgramChange.objects.count(),
    )


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_permission_matrix(console, operation, caller):
    shop, users, ids = console
    document, variables, path, allowed, refused = OPERATIONS[operation]
    client = Client()
    if caller != "anonymous":
        assert client.login(username=users[caller].username, password=PASSWORD)
    before = _state(shop)

    outcome = _outcome(gql(client, document, variables(ids)), path)

    if caller in allowed:
        assert outcome == "OK"
    elif caller == "anonymous":
        assert outcome == "NOT_AUTHENTICATED"
        assert _state(shop) == before
    else:
        assert outcome == refused
        assert _state(shop) == before
