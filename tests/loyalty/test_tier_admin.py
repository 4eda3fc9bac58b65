"""Tier ladder editing: validation, audit, preview, background re-evaluation, roles and concurrency.

The standard program (tests.factories.shop_with_program) is Bronze 0 / Silver 100 / Gold 250 /
Platinum 500 on lifetime spend, so a member's qualifying value is what they spent.
"""

from __future__ import annotations

import itertools

import dramatiq
import pytest
from django.test import Client

from loyalty.models import EarningRule, MemberAccount, ProgramChange, RuleKind, Tier, TierChange
from loyalty.services.orders import order_event_process
from loyalty.services.tier_admin import TierData, tier_create
from loyalty.services.tiers import tiers_reevaluate
from marketplace.models import StaffRole
from marketplace.services.orders import order_event_record
from tests.api.graphql import gid, gql, login
from tests.factories import CustomerFactory, order_input, shop_with_program, staff
from tests.loyalty.test_concurrency import run_concurrently

pytestmark = pytest.mark.django_db

CREATE = """mutation($shop: ID!, $input: TierInput!) { tierCreate(shopId: $shop, input: $input) {
  tier { id name position threshold multiplier discountPercent benefits color nameTranslations { language text } }
  errors { field code message } } }"""
UPDATE = """mutation($id: ID!, $input: TierInput!) { tierUpdate(id: $id, input: $input) {
  tier { name threshold color } errors { field code } } }"""
DELETE = """mutation($id: ID!) { tierDelete(id: $id) { deletedId errors { field code message } } }"""
REORDER = """mutation($shop: ID!, $tiers: [TierPlacementInput!]!) { tierReorder(shopId: $shop, tiers: $tiers) {
  tiers { name position threshold } errors { field code } } }"""
PREVIEW = """query($slug: String!, $tiers: [TierPlacementInput!]!) { shop(slug: $slug) { tierPreview(tiers: $tiers) {
  members upgraded movedFromDeleted belowThreshold unchanged downgradePolicy
  tiers { name threshold membersNow membersAfter } } } }"""
MEMBER = """query($slug: String!, $id: ID!) { shop(slug: $slug) { member(id: $id) {
  member { displayName email } pointsAvailable pointsPending qualifyingValue tier { name }
  tierHistory { fromTier { name } toTier { name } reason }
  entries(first: 10) { edges { node { kind points reason } } } } } }"""

_keys = itertools.count()


def spend(shop, customer, amount: str) -> None:
    """Deliver an order of ``amount`` for ``customer`` and post it (qualifying value += amount)."""
    key = f"order-{next(_keys)}"
    event = order_event_record(
        data=order_input(shop, key, customer=customer, amount=amount), idempotency_key=key, actor=None
    ).event
    order_event_process(event_id=event.pk, broadcast=False)


def ladder(shop) -> list[tuple]:
    """The live ladder as (name, position, threshold) rows, plus every tier's full state."""
    return list(Tier.all_objects.filter(program__shop=shop).order_by("pk").values_list())


def tier(shop, name: str) -> Tier:
    return Tier.objects.get(program__shop=shop, name=name)


@pytest.fixture
def shop():
    return shop_with_program()


@pytest.fixture
def owner(shop):
    return staff(shop, StaffRole.OWNER)


def test_owner_adds_a_tier_it_takes_its_place_members_move_up_and_the_change_is_audited(shop, owner):
    near, far = CustomerFactory(), CustomerFactory()
    spend(shop, near, "180.00")  # Silver
    spend(shop, far, "120.00")  # Silver
    body = gql(
        login(owner),
        CREATE,
        {
            "shop": gid("Shop", shop.pk),
            "input": {
                "name": "Silver Plus",
                "threshold": "150",
                "multiplier": "1.2",
                "benefits": [" Early access "],
                "color": "#C0C0C0",
                "nameTranslations": [{"language": "fa", "text": "نقره‌ای پلاس"}],
            },
        },
    )["data"]["tierCreate"]
    assert body["errors"] == []
    assert body["tier"] | {"id": None} == {
        "id": None,
        "name": "Silver Plus",
        "position": 2,
        "threshold": "150.00",
        "multiplier": "1.20",
        "discountPercent": "0.00",
        "benefits": ["Early access"],
        "color": "#c0c0c0",
        "nameTranslations": [{"language": "fa", "text": "نقره‌ای پلاس"}],
    }
    assert list(Tier.objects.filter(program__shop=shop).values_list("name", "position")) == [
        ("Bronze", 0),
        ("Silver", 1),
        ("Silver Plus", 2),
        ("Gold", 3),
        ("Platinum", 4),
    ]
    change = ProgramChange.objects.get()
    assert change.changed_by == owner
    assert change.changes[f"tier[{tier(shop, 'Silver Plus').pk}].threshold"] == {"old": None, "new": "150.00"}

    summary = tiers_reevaluate(program_id=shop.program.pk, reason="New tier Silver Plus at 150.00")

    assert (summary.upgraded, summary.moved_from_deleted) == (1, 0)
    assert MemberAccount.objects.get(customer=near).tier.name == "Silver Plus"
    assert MemberAccount.objects.get(customer=far).tier.name == "Silver"
    last = TierChange.objects.filter(account__customer=near).latest("id")
    assert (last.from_tier.name, last.to_tier.name, last.reason) == (
        "Silver",
        "Silver Plus",
        "New tier Silver Plus at 150.00",
    )
    # running the job again moves nobody
    assert tiers_reevaluate(program_id=shop.program.pk, reason="again").upgraded == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": " ", "threshold": "150"}, "name"),
        ({"name": "x" * 81, "threshold": "150"}, "name"),
        ({"name": "gold", "threshold": "150"}, "name"),  # names are unique ignoring case
        ({"name": "Copper", "threshold": "-1"}, "threshold"),
        ({"name": "Copper", "threshold": "100"}, "threshold"),  # equal to Silver: not strictly increasing
        ({"name": "Copper", "threshold": "150.005"}, "threshold"),
        ({"name": "Copper", "threshold": "100000000000"}, "threshold"),
        ({"name": "Copper"}, "threshold"),
        ({"threshold": "150"}, "name"),
        ({"name": "Copper", "threshold": "150", "multiplier": "0.9"}, "multiplier"),
        ({"name": "Copper", "threshold": "150", "multiplier": "21"}, "multiplier"),
        ({"name": "Copper", "threshold": "150", "discountPercent": "100.01"}, "discountPercent"),
        ({"name": "Copper", "threshold": "150", "discountPercent": "-1"}, "discountPercent"),
        ({"name": "Copper", "threshold": "150", "benefits": ["ok", "  "]}, "benefits"),
        ({"name": "Copper", "threshold": "150", "benefits": ["b"] * 21}, "benefits"),
        ({"name": "Copper", "threshold": "150", "color": "copper"}, "color"),
        ({"name": "Copper", "threshold": "150", "color": "#12345g"}, "color"),
        (
            {"name": "Copper", "threshold": "150", "nameTranslations": [{"language": "Persian", "text": "مس"}]},
            "nameTranslations",
        ),
        (
            {
                "name": "Copper",
                "threshold": "150",
                "nameTranslations": [{"language": "fa", "text": "مس"}, {"language": "fa", "text": "مسی"}],
            },
            "nameTranslations",
        ),
    ],
)
def test_create_refuses_every_invalid_field_and_changes_nothing(shop, owner, fields, field):
    before, audits = ladder(shop), ProgramChange.objects.count()
    body = gql(login(owner), CREATE, {"shop": gid("Shop", shop.pk), "input": fields})["data"]["tierCreate"]
    assert body["tier"] is None
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, "INVALID_INPUT")]
    assert ladder(shop) == before
    assert ProgramChange.objects.count() == audits


def test_points_basis_thresholds_are_whole_points(shop, owner):
    shop.program.tier_basis = "points"
    shop.program.save()
    body = gql(login(owner), CREATE, {"shop": gid("Shop", shop.pk), "input": {"name": "Copper", "threshold": "150.5"}})[
        "data"
    ]["tierCreate"]
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("threshold", "INVALID_INPUT")]


def test_update_keeps_the_ladder_in_order_and_the_entry_tier_at_zero(shop, owner):
    client = login(owner)
    before = ladder(shop)
    for name, threshold in (("Gold", "100"), ("Gold", "500"), ("Gold", "99.999"), ("Bronze", "1")):
        body = gql(client, UPDATE, {"id": gid("Tier", tier(shop, name).pk), "input": {"threshold": threshold}})
        assert body["data"]["tierUpdate"]["errors"] == [{"field": "threshold", "code": "INVALID_INPUT"}], threshold
    body = gql(client, UPDATE, {"id": gid("Tier", tier(shop, "Silver").pk), "input": {"name": "GOLD"}})
    assert body["data"]["tierUpdate"]["errors"] == [{"field": "name", "code": "INVALID_INPUT"}]
    assert ladder(shop) == before
    assert ProgramChange.objects.count() == 0

    body = gql(
        client, UPDATE, {"id": gid("Tier", tier(shop, "Gold").pk), "input": {"threshold": "200", "color": "#FFD700"}}
    )
    assert body["data"]["tierUpdate"] == {
        "tier": {"name": "Gold", "threshold": "200.00", "color": "#ffd700"},
        "errors": [],
    }
    gold = tier(shop, "Gold")
    assert ProgramChange.objects.get().changes == {
        f"tier[{gold.pk}].threshold": {"old": "250.00", "new": "200.00"},
        f"tier[{gold.pk}].color": {"old": "#d4af37", "new": "#ffd700"},
    }


def test_raising_a_threshold_moves_nobody_down_and_lowering_it_upgrades(shop, owner):
    gold_member, silver_member = CustomerFactory(), CustomerFactory()
    spend(shop, gold_member, "260.00")
    spend(shop, silver_member, "200.00")
    client = login(owner)
    gold = gid("Tier", tier(shop, "Gold").pk)
    assert gql(client, UPDATE, {"id": gold, "input": {"threshold": "300"}})["data"]["tierUpdate"]["errors"] == []
    tiers_reevaluate(program_id=shop.program.pk, reason="Gold now starts at 300")
    assert MemberAccount.objects.get(customer=gold_member).tier.name == "Gold"  # kept until requalification

    assert gql(client, UPDATE, {"id": gold, "input": {"threshold": "200"}})["data"]["tierUpdate"]["errors"] == []
    tiers_reevaluate(program_id=shop.program.pk, reason="Gold now starts at 200")
    assert MemberAccount.objects.get(customer=silver_member).tier.name == "Gold"


def test_deleting_a_tier_archives_it_moves_its_members_and_keeps_their_history(shop, owner):
    member = CustomerFactory()
    spend(shop, member, "300.00")  # Gold
    account = MemberAccount.objects.get(customer=member)
    client = login(owner)
    gold = tier(shop, "Gold")

    body = gql(client, DELETE, {"id": gid("Tier", gold.pk)})["data"]["tierDelete"]

    assert body == {"deletedId": gid("Tier", gold.pk), "errors": []}
    assert list(Tier.objects.filter(program__shop=shop).values_list("name", "position")) == [
        ("Bronze", 0),
        ("Silver", 1),
        ("Platinum", 2),
    ]
    assert Tier.all_objects.get(pk=gold.pk).archived_at is not None
    assert tiers_reevaluate(program_id=shop.program.pk, reason="ladder changed").moved_from_deleted == 1
    detail = gql(client, MEMBER, {"slug": shop.slug, "id": gid("MemberAccount", account.pk)})["data"]["shop"]["member"]
    assert detail["tier"] == {"name": "Silver"}
    history = [(h["fromTier"], h["toTier"]["name"], h["reason"]) for h in detail["tierHistory"]]
    assert history[0] == ({"name": "Gold"}, "Silver", "Tier Gold was removed from the program")
    assert history[1][:2] == ({"name": "Bronze"}, "Gold")  # the archived tier still reads in history
    assert history[2] == (None, "Bronze", "Enrolled in the program")
    # a new tier may take the deleted one's name
    body = gql(client, CREATE, {"shop": gid("Shop", shop.pk), "input": {"name": "Gold", "threshold": "250"}})
    assert body["data"]["tierCreate"]["errors"] == []


def test_the_entry_tier_and_tiers_in_use_cannot_be_deleted(shop, owner):
    rule = EarningRule.objects.create(program=shop.program, name="Gold week", kind=RuleKind.MULTIPLIER, multiplier=2)
    rule.tiers.add(tier(shop, "Gold"))
    client = login(owner)
    before = ladder(shop)
    body = gql(client, DELETE, {"id": gid("Tier", tier(shop, "Bronze").pk)})["data"]["tierDelete"]
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("id", "INVALID_INPUT")]
    body = gql(client, DELETE, {"id": gid("Tier", tier(shop, "Gold").pk)})["data"]["tierDelete"]
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("id", "INVALID_INPUT")]
    assert "earning rule" in body["errors"][0]["message"]
    assert ladder(shop) == before
    assert ProgramChange.objects.count() == 0


def test_a_tier_a_reward_requires_cannot_be_deleted(shop, owner):
    from rewards.models import Reward

    Reward.objects.create(
        program=shop.program, name="Lounge", kind="free_shipping", points_cost=100, min_tier=tier(shop, "Platinum")
    )
    body = gql(login(owner), DELETE, {"id": gid("Tier", tier(shop, "Platinum").pk)})["data"]["tierDelete"]
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("id", "INVALID_INPUT")]
    assert "reward" in body["errors"][0]["message"]


def test_reorder_moves_tiers_with_their_thresholds_and_refuses_an_incomplete_ladder(shop, owner):
    client = login(owner)
    names = ["Bronze", "Gold", "Silver", "Platinum"]
    placements = [
        {"tierId": gid("Tier", tier(shop, name).pk), "threshold": threshold}
        for name, threshold in zip(names, ["0", "100", "250", "500"], strict=True)
    ]
    before = ladder(shop)
    for bad in (placements[:3], placements + placements[:1], [placements[1], placements[0], *placements[2:]]):
        body = gql(client, REORDER, {"shop": gid("Shop", shop.pk), "tiers": bad})["data"]["tierReorder"]
        assert body["tiers"] == []
        assert body["errors"][0]["code"] == "INVALID_INPUT"
    assert ladder(shop) == before

    body = gql(client, REORDER, {"shop": gid("Shop", shop.pk), "tiers": placements})["data"]["tierReorder"]

    assert body["errors"] == []
    assert [(t["name"], t["position"], t["threshold"]) for t in body["tiers"]] == [
        ("Bronze", 0, "0.00"),
        ("Gold", 1, "100.00"),
        ("Silver", 2, "250.00"),
        ("Platinum", 3, "500.00"),
    ]
    assert ProgramChange.objects.count() == 1


def test_preview_counts_the_moves_of_a_proposed_ladder(shop, owner, django_assert_num_queries):
    for amount in ("50.00", "120.00", "180.00", "260.00", "300.00", "600.00"):
        spend(shop, CustomerFactory(), amount)
    # Bronze: 50; Silver: 120, 180; Gold: 260, 300; Platinum: 600.
    # Proposal: Bronze 0, Silver 150, new "Silver Plus" 170, Platinum 280 (Gold dropped).
    proposal = [
        {"tierId": gid("Tier", tier(shop, "Bronze").pk), "threshold": "0"},
        {"tierId": gid("Tier", tier(shop, "Silver").pk), "threshold": "150"},
        {"name": "Silver Plus", "threshold": "170"},
        {"tierId": gid("Tier", tier(shop, "Platinum").pk), "threshold": "280"},
    ]
    client = login(owner)
    before = ladder(shop)
    with django_assert_num_queries(7):  # session, user, shop, role, program, tiers, one grouped count
        body = gql(client, PREVIEW, {"slug": shop.slug, "tiers": proposal})
    preview = body["data"]["shop"]["tierPreview"]
    # 120 is below Silver's new 150 and keeps Silver; 180 moves up to Silver Plus; Gold is dropped:
    # 260 -> Silver Plus, 300 -> Platinum; 50 and 600 stay.
    assert preview == {
        "members": 6,
        "upgraded": 1,
        "movedFromDeleted": 2,
        "belowThreshold": 1,
        "unchanged": 2,
        "downgradePolicy": "requalification",
        "tiers": [
            {"name": "Bronze", "threshold": "0", "membersNow": 1, "membersAfter": 1},
            {"name": "Silver", "threshold": "150", "membersNow": 2, "membersAfter": 1},
            {"name": "Silver Plus", "threshold": "170", "membersNow": 0, "membersAfter": 2},
            {"name": "Platinum", "threshold": "280", "membersNow": 1, "membersAfter": 2},
        ],
    }
    assert ladder(shop) == before  # a preview saves nothing

    bad = gql(client, PREVIEW, {"slug": shop.slug, "tiers": [{"name": "Solo", "threshold": "5"}]})
    assert bad["data"] == {"shop": None}
    assert bad["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "threshold"}


def test_preview_query_count_does_not_grow_with_members(shop, owner, django_assert_num_queries):
    for index in range(25):
        spend(shop, CustomerFactory(), f"{index * 30}.00")
    proposal = [{"tierId": gid("Tier", tier(shop, "Bronze").pk), "threshold": "0"}]
    client = login(owner)
    with django_assert_num_queries(7):
        body = gql(client, PREVIEW, {"slug": shop.slug, "tiers": proposal})
    # spends of 100 or more (indexes 4..24) hold a tier above Bronze, which the proposal drops
    assert body["data"]["shop"]["tierPreview"]["movedFromDeleted"] == 21


def test_member_detail_is_for_the_shops_owner_and_manager_only(shop, owner):
    member = CustomerFactory(display_name="Sara", email="sara@example.com")
    spend(shop, member, "40.00")
    account = MemberAccount.objects.get(customer=member)
    variables = {"slug": shop.slug, "id": gid("MemberAccount", account.pk)}
    for role in (StaffRole.OWNER, StaffRole.MANAGER):  # members:read
        detail = gql(login(staff(shop, role)), MEMBER, variables)["data"]["shop"]["member"]
        assert detail["member"] == {"displayName": "Sara", "email": "sara@example.com"}
        assert detail["pointsPending"] == 40
        assert detail["entries"]["edges"][0]["node"]["kind"] == "EARN"
    other_shop = shop_with_program()
    for client, code in (
        (Client(), "NOT_AUTHENTICATED"),
        (login(member.user), "PERMISSION_DENIED"),
        (login(staff(shop, StaffRole.CASHIER)), "PERMISSION_DENIED"),  # the till needs no member records
        (login(staff(other_shop, StaffRole.OWNER)), "PERMISSION_DENIED"),
    ):
        body = gql(client, MEMBER, variables)
        assert body["errors"][0]["extensions"]["code"] == code
    # staff of another shop asking their own shop for this account get null: not their member
    other_owner = staff(other_shop, StaffRole.OWNER)
    body = gql(login(other_owner), MEMBER, {**variables, "slug": other_shop.slug})
    assert body["data"]["shop"]["member"] is None


@pytest.mark.parametrize("role", [None, "customer", StaffRole.CASHIER, "other-owner"])
def test_only_the_shops_owner_or_manager_edit_tiers(shop, role):
    if role is None:
        client, create_code, code = Client(), "NOT_AUTHENTICATED", "NOT_AUTHENTICATED"
    elif role == "customer":
        client, create_code, code = login(CustomerFactory().user), "PERMISSION_DENIED", "NOT_FOUND"
    elif role == "other-owner":
        client, create_code, code = login(staff(shop_with_program(), StaffRole.OWNER)), "PERMISSION_DENIED", "NOT_FOUND"
    else:
        client, create_code, code = login(staff(shop, role)), "PERMISSION_DENIED", "NOT_FOUND"
    before = ladder(shop)
    shop_id, gold = gid("Shop", shop.pk), gid("Tier", tier(shop, "Gold").pk)
    create = gql(client, CREATE, {"shop": shop_id, "input": {"name": "Copper", "threshold": "50"}})
    assert create["data"]["tierCreate"]["errors"][0]["code"] == create_code
    update = gql(client, UPDATE, {"id": gold, "input": {"name": "Golden"}})
    assert update["data"]["tierUpdate"]["errors"][0]["code"] == code
    delete = gql(client, DELETE, {"id": gold})
    assert delete["data"]["tierDelete"]["errors"][0]["code"] == code
    reorder = gql(client, REORDER, {"shop": shop_id, "tiers": [{"tierId": gold, "threshold": "0"}]})
    assert reorder["data"]["tierReorder"]["errors"][0]["code"] == create_code
    preview = gql(client, PREVIEW, {"slug": shop.slug, "tiers": [{"tierId": gold, "threshold": "0"}]})
    assert preview["errors"][0]["extensions"]["code"] == create_code
    assert ladder(shop) == before


def test_a_manager_edits_tiers(shop):
    manager = staff(shop, StaffRole.MANAGER)
    body = gql(login(manager), CREATE, {"shop": gid("Shop", shop.pk), "input": {"name": "Copper", "threshold": "50"}})
    assert body["data"]["tierCreate"]["errors"] == []


@pytest.mark.django_db(transaction=True)
def test_two_editors_adding_the_same_tier_at_once_add_it_once(postgres):
    shop = shop_with_program()
    editors = [staff(shop, StaffRole.OWNER), staff(shop, StaffRole.MANAGER)]

    def add(user):
        return lambda: tier_create(user=user, shop_id=shop.pk, data=TierData(name="Copper", threshold="50"))

    results = run_concurrently([add(user) for user in editors])

    created = [r for r in results if isinstance(r, Tier)]
    refused = [r for r in results if not isinstance(r, Tier)]
    assert len(created) == 1, results
    assert getattr(refused[0], "field", None) == "name"
    assert list(Tier.objects.filter(program=shop.program).values_list("name", "position")) == [
        ("Bronze", 0),
        ("Copper", 1),
        ("Silver", 2),
        ("Gold", 3),
        ("Platinum", 4),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_tier_edit_reaches_members_through_the_worker(settings):
    assert settings.SERVICES_MODE, "set REDIS_URL: this test is about the real broker"
    shop = shop_with_program()
    member = CustomerFactory()
    spend(shop, member, "200.00")  # Silver
    broker = dramatiq.get_broker()
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        body = gql(
            login(staff(shop, StaffRole.OWNER)),
            UPDATE,
            {"id": gid("Tier", tier(shop, "Gold").pk), "input": {"threshold": "150"}},
        )
        assert body["data"]["tierUpdate"]["errors"] == []
        broker.join("loyalty", timeout=30_000)
    finally:
        worker.stop()
    account = MemberAccount.objects.get(customer=member)
    assert account.tier.name == "Gold"
    assert TierChange.objects.filter(account=account).latest("id").reason == "Tier Gold now starts at 150.00"
