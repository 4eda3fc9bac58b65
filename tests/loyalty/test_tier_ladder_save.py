"""Saving the whole tier ladder in one step: one transaction, one audit row, one re-evaluation.

The standard program (tests.factories.shop_with_program) is Bronze 0 / Silver 100 / Gold 250 /
Platinum 500 on lifetime spend, so a member's qualifying value is what they spent.
"""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection
from django.test import Client

from loyalty.models import EarningRule, MemberAccount, ProgramChange, RuleKind, Tier, TierChange
from loyalty.services.tier_admin import LADDER_SAVE_REASON, TierData, TierRung, tier_ladder_save
from loyalty.services.tiers import tiers_reevaluate
from loyalty.signals import tier_ladder_committed
from marketplace.models import StaffRole
from tests.api.graphql import gid, gql, login
from tests.factories import CustomerFactory, ShopFactory, shop_with_program, staff
from tests.loyalty.test_tier_admin import spend, tier

SAVE = """mutation($shop: ID!, $tiers: [TierLadderRungInput!]!) { tierLadderSave(shopId: $shop, tiers: $tiers) {
  tiers { id name position threshold multiplier color } errors { field code message } } }"""


def snapshot(shop) -> tuple:
    """Everything a ladder save may change: every tier (archived too), audit rows, tier history."""
    return (
        list(Tier.all_objects.filter(program__shop=shop).order_by("pk").values_list()),
        ProgramChange.objects.count(),
        list(TierChange.objects.order_by("pk").values_list()),
    )


def rung(shop, name: str, **fields) -> dict:
    """A ladder rung for the existing tier ``name`` with the fields to change."""
    return {"id": gid("Tier", tier(shop, name).pk), **fields}


@pytest.fixture
def shop():
    return shop_with_program()


@pytest.fixture
def owner(shop):
    return staff(shop, StaffRole.OWNER)


@pytest.fixture
def committed():
    """The re-evaluations queued after commit, as (program id, reason) in the order sent."""
    sent: list[tuple[int, str]] = []

    def receiver(sender, program_id, reason, **kwargs):
        sent.append((program_id, reason))

    tier_ladder_committed.connect(receiver, dispatch_uid="test-tier-ladder-save")
    yield sent
    tier_ladder_committed.disconnect(dispatch_uid="test-tier-ladder-save")


@pytest.mark.django_db
def test_create_update_delete_and_reorder_in_one_save_audit_once_and_move_each_member_once(
    shop, owner, committed, django_capture_on_commit_callbacks
):
    # given members on every tier: 50 Bronze, 150 Silver, 300 and 450 Gold, 600 Platinum
    members = {amount: CustomerFactory() for amount in ("50.00", "150.00", "300.00", "450.00", "600.00")}
    for amount, customer in members.items():
        spend(shop, customer, amount)
    history_before = TierChange.objects.count()
    platinum = tier(shop, "Platinum")
    # when the owner saves Bronze 0 / Gold 100 (moved down) / Silver 200 (new threshold and colour) /
    # Diamond 400 (new), leaving Platinum out (deleted)
    with django_capture_on_commit_callbacks(execute=True):
        body = gql(
            login(owner),
            SAVE,
            {
                "shop": gid("Shop", shop.pk),
                "tiers": [
                    rung(shop, "Bronze"),
                    rung(shop, "Gold", threshold="100"),
                    rung(shop, "Silver", threshold="200", color="#AAAAAA"),
                    {"name": " Diamond ", "threshold": "400", "multiplier": "3", "benefits": ["Lounge"]},
                ],
            },
        )["data"]["tierLadderSave"]

    # then the ladder is saved as sent
    assert body["errors"] == []
    assert [(t["name"], t["position"], t["threshold"], t["color"]) for t in body["tiers"]] == [
        ("Bronze", 0, "0.00", "#b87333"),
        ("Gold", 1, "100.00", "#d4af37"),
        ("Silver", 2, "200.00", "#aaaaaa"),
        ("Diamond", 3, "400.00", "#8a8a8a"),
    ]
    assert Tier.all_objects.get(pk=platinum.pk).archived_at is not None
    # with exactly one audit row naming every change, and one re-evaluation queued
    change = ProgramChange.objects.get()
    gold, silver, diamond = tier(shop, "Gold"), tier(shop, "Silver"), tier(shop, "Diamond")
    assert change.changed_by == owner
    assert change.changes == {
        f"tier[{platinum.pk}]": {"old": "Platinum", "new": None},
        f"tier[{gold.pk}].threshold": {"old": "250.00", "new": "100.00"},
        f"tier[{gold.pk}].position": {"old": "2", "new": "1"},
        f"tier[{silver.pk}].threshold": {"old": "100.00", "new": "200.00"},
        f"tier[{silver.pk}].color": {"old": "#a8a9ad", "new": "#aaaaaa"},
        f"tier[{silver.pk}].position": {"old": "1", "new": "2"},
        f"tier[{diamond.pk}].name": {"old": None, "new": "Diamond"},
        f"tier[{diamond.pk}].threshold": {"old": None, "new": "400.00"},
        f"tier[{diamond.pk}].multiplier": {"old": None, "new": "3.00"},
        f"tier[{diamond.pk}].benefits": {"old": None, "new": "Lounge"},
    }
    assert committed == [(shop.program.pk, LADDER_SAVE_REASON)]

    # when the queued re-evaluation runs
    summary = tiers_reevaluate(program_id=shop.program.pk, reason=committed[0][1])

    # then each member who moves gets exactly one tier-history row, with the one reason (members of
    # the deleted tier get the re-evaluation's own wording, which names it)
    assert (summary.upgraded, summary.moved_from_deleted) == (2, 1)
    tiers_now = {amount: MemberAccount.objects.get(customer=c).tier.name for amount, c in members.items()}
    assert tiers_now == {
        "50.00": "Bronze",
        "150.00": "Silver",  # would qualify only for Gold now, keeps Silver until requalification
        "300.00": "Silver",  # Gold moved below Silver: 300 reaches Silver, an upgrade
        "450.00": "Diamond",
        "600.00": "Diamond",  # Platinum was deleted
    }
    moves = TierChange.objects.order_by("pk")[history_before:]
    assert sorted((m.account.customer_id, m.from_tier.name, m.to_tier.name, m.reason) for m in moves) == sorted(
        [
            (members["300.00"].pk, "Gold", "Silver", LADDER_SAVE_REASON),
            (members["450.00"].pk, "Gold", "Diamond", LADDER_SAVE_REASON),
            (members["600.00"].pk, "Platinum", "Diamond", "Tier Platinum was removed from the program"),
        ]
    )


@pytest.mark.django_db
def test_names_swap_and_pass_from_a_deleted_tier_and_an_unchanged_ladder_writes_nothing(shop, owner, committed):
    client = login(owner)
    ladder = [rung(shop, name) for name in ("Bronze", "Silver", "Gold", "Platinum")]

    # saving the ladder as it is changes nothing and queues nothing
    before = snapshot(shop)
    body = gql(client, SAVE, {"shop": gid("Shop", shop.pk), "tiers": ladder})["data"]["tierLadderSave"]
    assert body["errors"] == []
    assert snapshot(shop) == before
    assert committed == []

    # swapping two names goes through (names are unique row by row in the database)
    ladder[1], ladder[2] = {**ladder[1], "name": "Gold"}, {**ladder[2], "name": "Silver"}
    body = gql(client, SAVE, {"shop": gid("Shop", shop.pk), "tiers": ladder})["data"]["tierLadderSave"]
    assert body["errors"] == []
    assert [(t["name"], t["threshold"]) for t in body["tiers"]] == [
        ("Bronze", "0.00"),
        ("Gold", "100.00"),
        ("Silver", "250.00"),
        ("Platinum", "500.00"),
    ]
    assert ProgramChange.objects.count() == 1

    # a new tier may take the name of a tier deleted in the same save
    ladder[3] = {"name": "Platinum", "threshold": "600"}
    body = gql(client, SAVE, {"shop": gid("Shop", shop.pk), "tiers": ladder})["data"]["tierLadderSave"]
    assert body["errors"] == []
    assert [(t["name"], t["threshold"]) for t in body["tiers"]][3] == ("Platinum", "600.00")
    assert Tier.all_objects.filter(program__shop=shop, name="Platinum").count() == 2


def _invalid_ladders(shop) -> list[tuple[list[dict], str, str]]:
    """(ladder, field, code) of every refusal of a well-formed call by the owner."""
    bronze, silver, gold, platinum = (rung(shop, n) for n in ("Bronze", "Silver", "Gold", "Platinum"))
    other_tier = gid("Tier", Tier.objects.filter(program__shop=shop_with_program()).first().pk)
    return [
        ([], "tiers", "INVALID_INPUT"),
        ([bronze, silver, gold, {"id": other_tier}], "tiers[3].id", "NOT_FOUND"),
        ([bronze, silver, gold, {"id": gid("Tier", 10**9)}], "tiers[3].id", "NOT_FOUND"),
        ([bronze, silver, gold, platinum, silver], "tiers[4].id", "INVALID_INPUT"),
        ([bronze, silver, gold, platinum, {"threshold": "900"}], "tiers[4].name", "INVALID_INPUT"),
        ([bronze, silver, gold, platinum, {"name": "Diamond"}], "tiers[4].threshold", "INVALID_INPUT"),
        ([bronze, silver, gold, platinum, {"name": "x" * 81, "threshold": "900"}], "tiers[4].name", "INVALID_INPUT"),
        ([bronze, silver, gold, platinum, {"name": "gold", "threshold": "900"}], "tiers[4].name", "INVALID_INPUT"),
        ([bronze, {**silver, "name": "GOLD"}, gold, platinum], "tiers[2].name", "INVALID_INPUT"),
        ([bronze, silver, {**gold, "threshold": "100"}, platinum], "tiers[2].threshold", "INVALID_INPUT"),
        ([bronze, gold, silver, platinum], "tiers[2].threshold", "INVALID_INPUT"),  # 250 then 100
        ([{**bronze, "threshold": "1"}, silver, gold, platinum], "tiers[0].threshold", "INVALID_INPUT"),
        ([bronze, {**silver, "threshold": "150.005"}, gold, platinum], "tiers[1].threshold", "INVALID_INPUT"),
        ([bronze, silver, gold, {**platinum, "threshold": "100000000000"}], "tiers[3].threshold", "INVALID_INPUT"),
        ([bronze, silver, {**gold, "multiplier": "21"}, platinum], "tiers[2].multiplier", "INVALID_INPUT"),
        ([bronze, silver, {**gold, "discountPercent": "-1"}, platinum], "tiers[2].discountPercent", "INVALID_INPUT"),
        ([bronze, silver, {**gold, "benefits": ["ok", " "]}, platinum], "tiers[2].benefits", "INVALID_INPUT"),
        ([bronze, silver, {**gold, "color": "gold"}, platinum], "tiers[2].color", "INVALID_INPUT"),
        (
            [bronze, silver, gold, {**platinum, "nameTranslations": [{"language": "Persian", "text": "x"}]}],
            "tiers[3].nameTranslations",
            "INVALID_INPUT",
        ),
        ([{**silver, "threshold": "0"}, gold, platinum], "tiers", "INVALID_INPUT"),  # the entry tier stays
        (
            [
                bronze,
                silver,
                gold,
                platinum,
                {"name": "Diamond", "threshold": "900"},
                {"name": "DIAMOND", "threshold": "950"},
            ],
            "tiers[5].name",
            "INVALID_INPUT",
        ),
        ([bronze, silver, platinum], "tiers", "INVALID_INPUT"),  # Gold is used by an earning rule
    ]


@pytest.mark.django_db
def test_every_invalid_ladder_is_refused_with_its_code_and_changes_nothing(shop, owner, committed):
    rule = EarningRule.objects.create(program=shop.program, name="Gold week", kind=RuleKind.MULTIPLIER, multiplier=2)
    rule.tiers.add(tier(shop, "Gold"))
    spend(shop, CustomerFactory(), "300.00")
    client = login(owner)
    for ladder, field, code in _invalid_ladders(shop):
        before = snapshot(shop)
        body = gql(client, SAVE, {"shop": gid("Shop", shop.pk), "tiers": ladder})["data"]["tierLadderSave"]
        assert body["tiers"] == [], field
        assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, code)], ladder
        assert snapshot(shop) == before
    assert committed == []


@pytest.mark.django_db
def test_points_basis_thresholds_are_whole_points(shop, owner):
    shop.program.tier_basis = "points"
    shop.program.save()
    ladder = [rung(shop, "Bronze"), rung(shop, "Silver", threshold="100.5")]
    body = gql(login(owner), SAVE, {"shop": gid("Shop", shop.pk), "tiers": ladder})["data"]["tierLadderSave"]
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("tiers[1].threshold", "INVALID_INPUT")]


@pytest.mark.django_db
@pytest.mark.parametrize("caller", ["anonymous", "customer", "cashier", "other-owner", "no-program"])
def test_only_the_shops_owner_or_manager_save_the_ladder(shop, caller, committed):
    # given a caller who may not edit this shop's tiers, and a valid ladder
    shop_id, code = gid("Shop", shop.pk), "PERMISSION_DENIED"
    if caller == "anonymous":
        client, code = Client(), "NOT_AUTHENTICATED"
    elif caller == "customer":
        client = login(CustomerFactory().user)
    elif caller == "cashier":
        client = login(staff(shop, StaffRole.CASHIER))
    elif caller == "other-owner":
        client = login(staff(shop_with_program(), StaffRole.OWNER))
    else:  # the owner of a shop without a program
        bare = ShopFactory()
        client, shop_id, code = login(staff(bare, StaffRole.OWNER)), gid("Shop", bare.pk), "NOT_FOUND"
    ladder = [rung(shop, "Bronze"), rung(shop, "Silver", threshold="50")]
    before = snapshot(shop)
    # when they save it
    body = gql(client, SAVE, {"shop": shop_id, "tiers": ladder})["data"]["tierLadderSave"]
    # then it is refused with its code and nothing changed
    assert body["tiers"] == []
    assert [e["code"] for e in body["errors"]] == [code]
    assert snapshot(shop) == before
    assert committed == []


@pytest.mark.django_db
def test_a_manager_saves_the_ladder(shop):
    ladder = [rung(shop, name) for name in ("Bronze", "Silver", "Gold")] + [rung(shop, "Platinum", threshold="600")]
    body = gql(login(staff(shop, StaffRole.MANAGER)), SAVE, {"shop": gid("Shop", shop.pk), "tiers": ladder})
    assert body["data"]["tierLadderSave"]["errors"] == []
    assert tier(shop, "Platinum").threshold == 600


BOOM = """
CREATE FUNCTION patron_test_tier_boom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'boom after % archived and % updated',
    (SELECT count(*) FROM {table} WHERE program_id = NEW.program_id AND archived_at IS NOT NULL),
    (SELECT count(*) FROM {table} WHERE program_id = NEW.program_id AND threshold = 120);
END $$;
CREATE TRIGGER patron_test_tier_boom BEFORE INSERT ON {table}
  FOR EACH ROW WHEN (NEW.name = 'Boom') EXECUTE FUNCTION patron_test_tier_boom();
"""
UNBOOM = """
DROP TRIGGER IF EXISTS patron_test_tier_boom ON {table};
DROP FUNCTION IF EXISTS patron_test_tier_boom();
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_save_that_fails_halfway_changes_nothing_and_queues_nothing(postgres, committed):
    # given a ladder with members and history, and a trigger that refuses to insert a tier named Boom
    shop = shop_with_program()
    owner = staff(shop, StaffRole.OWNER)
    for amount in ("150.00", "300.00", "600.00"):
        spend(shop, CustomerFactory(), amount)
    ladder = [
        TierRung(tier_id=tier(shop, "Bronze").pk, data=TierData()),
        TierRung(tier_id=tier(shop, "Gold").pk, data=TierData(threshold="120", name="Golden")),
        TierRung(tier_id=tier(shop, "Silver").pk, data=TierData(threshold="250")),
        TierRung(tier_id=None, data=TierData(name="Boom", threshold="400")),
    ]  # Platinum left out: archived before the insert
    before = snapshot(shop)
    committed.clear()
    table = connection.ops.quote_name(Tier._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(BOOM.replace("{table}", table))
    try:
        # when the save reaches the insert after it archived Platinum and updated Gold
        with pytest.raises(DatabaseError, match="boom after 1 archived and 1 updated"):
            tier_ladder_save(user=owner, shop_id=shop.pk, tiers=ladder)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(UNBOOM.replace("{table}", table))

    # then nothing changed (tiers, positions, archived flags, audit, history) and nothing was queued
    assert snapshot(shop) == before
    assert committed == []
    # and the same save without the trigger goes through, once
    saved = tier_ladder_save(user=owner, shop_id=shop.pk, tiers=ladder)
    assert [(t.name, t.position) for t in saved] == [("Bronze", 0), ("Golden", 1), ("Silver", 2), ("Boom", 3)]
    assert committed == [(shop.program.pk, LADDER_SAVE_REASON)]
