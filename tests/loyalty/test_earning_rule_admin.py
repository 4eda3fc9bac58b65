"""earningRuleCreate / Update / Delete and Program.earningRules: validated, audited, owner-or-manager only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from loyalty.models import EarningRule, PointsEntry, ProgramChange, RuleKind, Tier
from loyalty.services.orders import order_event_process
from marketplace.models import Category, StaffRole
from marketplace.services.orders import order_event_record
from tests.api.graphql import gid, gql, login
from tests.factories import CustomerFactory, ShopFactory, order_input, shop_with_program, staff

pytestmark = pytest.mark.django_db

RULE_FIELDS = """id name kind multiplier bonusPoints startsAt endsAt daysOfWeek startTime endTime categorySlugs
  tiers { name } minOrderAmount priority stackable active createdAt"""
CREATE = f"""mutation($shop: ID!, $input: EarningRuleInput!) {{ earningRuleCreate(shopId: $shop, input: $input) {{
  rule {{ {RULE_FIELDS} }} errors {{ field code message }} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: EarningRuleInput!) {{ earningRuleUpdate(id: $id, input: $input) {{
  rule {{ {RULE_FIELDS} }} errors {{ field code message }} }} }}"""
DELETE = """mutation($id: ID!) { earningRuleDelete(id: $id) { deletedId errors { field code message } } }"""
RULES = """query($slug: String!) { shop(slug: $slug) { program { earningRules {
  name active priority categorySlugs tiers { name } } } } }"""
ALL_SHOPS = """{ shops(first: 10) { edges { node { slug program { earningRules { name } } } } } }"""
AT = dt.datetime(2026, 11, 16, 17, tzinfo=dt.UTC)  # a Monday, 12:00 in New York


def make_rule(shop, name="Double points", **fields) -> EarningRule:
    categories = fields.pop("categories", [])
    tiers = fields.pop("tiers", [])
    values = {"kind": RuleKind.MULTIPLIER, "multiplier": "2", **fields}
    rule = EarningRule.objects.create(program=shop.program, name=name, **values)
    rule.categories.set(categories)
    rule.tiers.set(tiers)
    return rule


def state(shop) -> tuple[list[dict], int]:
    """Every rule of the shop's program with its relations, and the number of audit records."""
    rules = []
    for rule in EarningRule.objects.filter(program__shop=shop).prefetch_related("categories", "tiers").order_by("pk"):
        values = {f.attname: getattr(rule, f.attname) for f in EarningRule._meta.concrete_fields}
        values["categories"] = sorted(c.slug for c in rule.categories.all())
        values["tiers"] = sorted(t.pk for t in rule.tiers.all())
        rules.append(values)
    return rules, ProgramChange.objects.count()


def deliver(shop, order_id: str, amount="10.00", at=AT) -> PointsEntry:
    customer = CustomerFactory()
    event = order_event_record(
        data=order_input(shop, order_id, customer=customer, amount=amount, at=at), idempotency_key=order_id, actor=None
    ).event
    order_event_process(event_id=event.pk, broadcast=False)
    return PointsEntry.objects.get(order__external_id=order_id, kind="earn")


def audit(index: int = 0) -> dict:
    return list(ProgramChange.objects.order_by("pk"))[index].changes


# --- create, update, delete --------------------------------------------------------------------------------------


def test_owner_creates_a_rule_the_next_order_earns_it_and_the_creation_is_audited():
    # given an owner and a shop earning 1 point per dollar
    shop = shop_with_program()
    owner = staff(shop, StaffRole.OWNER)
    client = login(owner)
    # when the owner creates a double-points rule
    new_rule = {"name": "  Double points ", "kind": "MULTIPLIER", "multiplier": "2"}
    body = gql(client, CREATE, {"shop": gid("Shop", shop.pk), "input": new_rule})
    payload = body["data"]["earningRuleCreate"]
    # then it is stored with its defaults and returned
    assert payload["errors"] == []
    rule = EarningRule.objects.get()
    assert payload["rule"]["id"] == gid("EarningRule", rule.pk)
    assert {k: v for k, v in payload["rule"].items() if k not in ("id", "createdAt")} == {
        "name": "Double points",
        "kind": "MULTIPLIER",
        "multiplier": "2.00",
        "bonusPoints": None,
        "startsAt": None,
        "endsAt": None,
        "daysOfWeek": [],
        "startTime": None,
        "endTime": None,
        "categorySlugs": [],
        "tiers": [],
        "minOrderAmount": None,
        "priority": 0,
        "stackable": True,
        "active": True,
    }
    # and the next delivered order earns double, naming the rule on its entry
    entry = deliver(shop, "after-create")
    assert entry.points == 20
    assert entry.applied_rules == [{"id": rule.pk, "name": "Double points", "points": 10}]
    history = gql(
        login(entry.account.customer.user),
        """{ viewer { accounts(first: 5) { edges { node { entries(first: 5) { edges { node {
           points appliedRules { ruleId name points } } } } } } } } }""",
    )["data"]["viewer"]["accounts"]["edges"][0]["node"]["entries"]["edges"]
    assert history[0]["node"] == {
        "points": 20,
        "appliedRules": [{"ruleId": gid("EarningRule", rule.pk), "name": "Double points", "points": 10}],
    }
    # and one audit record lists every field that holds a value, with old null
    change = ProgramChange.objects.get()
    assert change.changed_by == owner
    key = f"earningRule[{rule.pk}]"
    assert change.changes == {
        f"{key}.name": {"old": None, "new": "Double points"},
        f"{key}.kind": {"old": None, "new": "multiplier"},
        f"{key}.multiplier": {"old": None, "new": "2.00"},
        f"{key}.priority": {"old": None, "new": "0"},
        f"{key}.stackable": {"old": None, "new": "True"},
        f"{key}.active": {"old": None, "new": "True"},
    }


def test_a_rule_with_every_condition_is_stored_normalised():
    shop = shop_with_program()
    Category.objects.create(name="Books", slug="books")
    Category.objects.create(name="Toys", slug="toys")
    gold, silver = (Tier.objects.get(program=shop.program, name=name) for name in ("Gold", "Silver"))
    body = gql(
        login(staff(shop, StaffRole.MANAGER)),
        CREATE,
        {
            "shop": gid("Shop", shop.pk),
            "input": {
                "name": "Black Friday",
                "kind": "FIXED_BONUS",
                "bonusPoints": 200,
                "startsAt": "2026-11-27T00:00:00-05:00",
                "endsAt": "2026-11-28T00:00:00-05:00",
                "daysOfWeek": [4, 0],
                "startTime": "09:00",
                "endTime": "21:30",
                "categorySlugs": ["toys", "books"],
                "tierIds": [gid("Tier", gold.pk), gid("Tier", silver.pk)],
                "minOrderAmount": "25.50",
                "priority": -5,
                "stackable": False,
                "active": False,
            },
        },
    )
    payload = body["data"]["earningRuleCreate"]
    assert payload["errors"] == []
    rule = payload["rule"]
    assert (rule["bonusPoints"], rule["multiplier"], rule["daysOfWeek"]) == (200, None, [0, 4])
    assert (rule["startTime"], rule["endTime"], rule["minOrderAmount"]) == ("09:00:00", "21:30:00", "25.50")
    assert rule["categorySlugs"] == ["books", "toys"]
    assert rule["tiers"] == [{"name": "Silver"}, {"name": "Gold"}]
    stored = EarningRule.objects.get()
    assert stored.starts_at == dt.datetime(2026, 11, 27, 5, tzinfo=dt.UTC)
    assert (stored.priority, stored.stackable, stored.active) == (-5, False, False)
    key = f"earningRule[{stored.pk}]"
    changes = audit()
    assert changes[f"{key}.tiers"] == {"old": None, "new": "Silver, Gold"}
    assert changes[f"{key}.categorySlugs"] == {"old": None, "new": "books, toys"}
    assert changes[f"{key}.daysOfWeek"] == {"old": None, "new": "0, 4"}
    assert changes[f"{key}.startsAt"] == {"old": None, "new": "2026-11-27T05:00:00+00:00"}
    assert f"{key}.multiplier" not in changes


def test_update_changes_only_the_given_fields_and_applies_to_orders_processed_afterwards():
    shop = shop_with_program()
    owner = staff(shop)
    client = login(owner)
    rule = make_rule(shop, priority=3, days_of_week=[0])
    before = deliver(shop, "before-update")
    assert before.points == 20
    # when the multiplier and the name change
    body = gql(client, UPDATE, {"id": gid("EarningRule", rule.pk), "input": {"multiplier": "3", "name": "Triple"}})
    payload = body["data"]["earningRuleUpdate"]
    assert payload["errors"] == []
    assert (payload["rule"]["name"], payload["rule"]["multiplier"], payload["rule"]["priority"]) == (
        "Triple",
        "3.00",
        3,
    )
    assert payload["rule"]["daysOfWeek"] == [0]
    # then only those two are audited, the next order earns triple and the earlier one keeps its points
    key = f"earningRule[{rule.pk}]"
    assert audit() == {
        f"{key}.name": {"old": "Double points", "new": "Triple"},
        f"{key}.multiplier": {"old": "2.00", "new": "3.00"},
    }
    assert deliver(shop, "after-update").points == 30
    before.refresh_from_db()
    assert (before.points, before.applied_rules[0]["name"]) == (20, "Double points")
    # an update that changes nothing writes no audit record
    gql(client, UPDATE, {"id": gid("EarningRule", rule.pk), "input": {"multiplier": "3.00", "name": "Triple"}})
    assert ProgramChange.objects.count() == 1


def test_switching_kind_needs_the_other_field_sent_as_null():
    shop = shop_with_program()
    client = login(staff(shop))
    rule = make_rule(shop)
    body = gql(
        client,
        UPDATE,
        {"id": gid("EarningRule", rule.pk), "input": {"kind": "FIXED_BONUS", "bonusPoints": 50, "multiplier": None}},
    )
    payload = body["data"]["earningRuleUpdate"]
    assert payload["errors"] == []
    assert (payload["rule"]["kind"], payload["rule"]["multiplier"], payload["rule"]["bonusPoints"]) == (
        "FIXED_BONUS",
        None,
        50,
    )
    key = f"earningRule[{rule.pk}]"
    assert audit() == {
        f"{key}.kind": {"old": "multiplier", "new": "fixed_bonus"},
        f"{key}.multiplier": {"old": "2.00", "new": None},
        f"{key}.bonusPoints": {"old": None, "new": "50"},
    }
    assert deliver(shop, "bonus").points == 60


def test_update_replaces_categories_and_tiers_only_when_given():
    shop = shop_with_program()
    client = login(staff(shop))
    books = Category.objects.create(name="Books", slug="books")
    Category.objects.create(name="Toys", slug="toys")
    gold = Tier.objects.get(program=shop.program, name="Gold")
    rule = make_rule(shop, categories=[books], tiers=[gold])
    gql(client, UPDATE, {"id": gid("EarningRule", rule.pk), "input": {"priority": 7}})
    assert (sorted(c.slug for c in rule.categories.all()), list(rule.tiers.all())) == (["books"], [gold])
    body = gql(
        client, UPDATE, {"id": gid("EarningRule", rule.pk), "input": {"categorySlugs": ["toys"], "tierIds": None}}
    )
    assert body["data"]["earningRuleUpdate"]["rule"]["categorySlugs"] == ["toys"]
    assert body["data"]["earningRuleUpdate"]["rule"]["tiers"] == []
    key = f"earningRule[{rule.pk}]"
    assert audit(1) == {
        f"{key}.categorySlugs": {"old": "books", "new": "toys"},
        f"{key}.tiers": {"old": "Gold", "new": None},
    }


def test_delete_removes_the_rule_history_keeps_its_name_and_the_deletion_is_audited():
    shop = shop_with_program()
    manager = staff(shop, StaffRole.MANAGER)
    rule = make_rule(shop, name="Yalda night")
    earned = deliver(shop, "with-rule")
    body = gql(login(manager), DELETE, {"id": gid("EarningRule", rule.pk)})
    assert body["data"]["earningRuleDelete"] == {"deletedId": gid("EarningRule", rule.pk), "errors": []}
    assert not EarningRule.objects.exists()
    earned.refresh_from_db()
    assert (earned.points, earned.applied_rules) == (20, [{"id": rule.pk, "name": "Yalda night", "points": 10}])
    change = ProgramChange.objects.get()
    assert (change.changed_by, change.changes) == (
        manager,
        {f"earningRule[{rule.pk}]": {"old": "Yalda night", "new": None}},
    )
    assert deliver(shop, "without-rule").points == 10
    # deleting it again: it is gone
    again = gql(login(manager), DELETE, {"id": gid("EarningRule", rule.pk)})["data"]["earningRuleDelete"]
    assert again["deletedId"] is None
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("NOT_FOUND", "id")]


# --- validation --------------------------------------------------------------------------------------------------

MULTIPLIER = {"name": "Rule", "kind": "MULTIPLIER", "multiplier": "2"}
BONUS = {"name": "Rule", "kind": "FIXED_BONUS", "bonusPoints": 50}
OTHER_PROGRAM_TIER = "other program's tier"
SHOP_ID_AS_TIER = "a shop id as tier id"

CREATE_CASES = [
    ({"kind": "MULTIPLIER", "multiplier": "2"}, "name"),
    ({**MULTIPLIER, "name": None}, "name"),
    ({**MULTIPLIER, "name": "   "}, "name"),
    ({**MULTIPLIER, "name": "x" * 201}, "name"),
    ({"name": "Rule", "multiplier": "2"}, "kind"),
    ({**MULTIPLIER, "kind": None}, "kind"),
    ({"name": "Rule", "kind": "MULTIPLIER"}, "multiplier"),
    ({**MULTIPLIER, "multiplier": "0.99"}, "multiplier"),
    ({**MULTIPLIER, "multiplier": "20.01"}, "multiplier"),
    ({**MULTIPLIER, "multiplier": "1.555"}, "multiplier"),
    ({**MULTIPLIER, "bonusPoints": 5}, "bonusPoints"),
    ({"name": "Rule", "kind": "FIXED_BONUS"}, "bonusPoints"),
    ({**BONUS, "bonusPoints": 0}, "bonusPoints"),
    ({**BONUS, "bonusPoints": 1_000_001}, "bonusPoints"),
    ({**BONUS, "multiplier": "2"}, "multiplier"),
    ({**MULTIPLIER, "startsAt": "2026-11-27T00:00:00Z", "endsAt": "2026-11-27T00:00:00Z"}, "endsAt"),
    ({**MULTIPLIER, "startsAt": "2026-11-28T00:00:00Z", "endsAt": "2026-11-27T00:00:00Z"}, "endsAt"),
    ({**MULTIPLIER, "startsAt": "2026-11-27T00:00:00"}, "startsAt"),
    ({**MULTIPLIER, "endsAt": "2026-11-27T00:00:00"}, "endsAt"),
    ({**MULTIPLIER, "daysOfWeek": [7]}, "daysOfWeek"),
    ({**MULTIPLIER, "daysOfWeek": [-1]}, "daysOfWeek"),
    ({**MULTIPLIER, "daysOfWeek": [1, 3, 1]}, "daysOfWeek"),
    ({**MULTIPLIER, "startTime": "15:00"}, "endTime"),
    ({**MULTIPLIER, "endTime": "18:00"}, "startTime"),
    ({**MULTIPLIER, "startTime": "18:00", "endTime": "15:00"}, "endTime"),
    ({**MULTIPLIER, "startTime": "15:00", "endTime": "15:00"}, "endTime"),
    ({**MULTIPLIER, "startTime": "15:00+03:30", "endTime": "18:00+03:30"}, "startTime"),
    ({**MULTIPLIER, "minOrderAmount": "-0.01"}, "minOrderAmount"),
    ({**MULTIPLIER, "minOrderAmount": "10.005"}, "minOrderAmount"),
    ({**MULTIPLIER, "priority": 1001}, "priority"),
    ({**MULTIPLIER, "priority": -1001}, "priority"),
    ({**MULTIPLIER, "priority": None}, "priority"),
    ({**MULTIPLIER, "stackable": None}, "stackable"),
    ({**MULTIPLIER, "active": None}, "active"),
    ({**MULTIPLIER, "categorySlugs": ["books", "no-such-category"]}, "categorySlugs"),
    ({**MULTIPLIER, "tierIds": [OTHER_PROGRAM_TIER]}, "tierIds"),
    ({**MULTIPLIER, "tierIds": ["not-a-global-id"]}, "tierIds"),
    ({**MULTIPLIER, "tierIds": [SHOP_ID_AS_TIER]}, "tierIds"),
]

UPDATE_CASES = [
    ({"name": ""}, "name"),
    ({"kind": None}, "kind"),
    ({"kind": "FIXED_BONUS", "bonusPoints": 50}, "multiplier"),  # multiplier not cleared: send it as null
    ({"kind": "FIXED_BONUS", "multiplier": None}, "bonusPoints"),
    ({"bonusPoints": 5}, "bonusPoints"),
    ({"multiplier": None}, "multiplier"),
    ({"multiplier": "21"}, "multiplier"),
    ({"endsAt": "2026-11-26T00:00:00Z"}, "endsAt"),  # before the stored startsAt
    ({"startTime": "10:00"}, "endTime"),
    ({"daysOfWeek": [0, 0]}, "daysOfWeek"),
    ({"minOrderAmount": "-1"}, "minOrderAmount"),
    ({"priority": 5000}, "priority"),
    ({"categorySlugs": ["unknown"]}, "categorySlugs"),
    ({"tierIds": [OTHER_PROGRAM_TIER]}, "tierIds"),
]


def _resolve_tier_placeholders(data: dict, shop) -> dict:
    if "tierIds" not in data:
        return data
    other = shop_with_program()
    replacements = {
        OTHER_PROGRAM_TIER: gid("Tier", Tier.objects.filter(program=other.program).first().pk),
        SHOP_ID_AS_TIER: gid("Shop", shop.pk),
    }
    return {**data, "tierIds": [replacements.get(value, value) for value in data["tierIds"]]}


@pytest.mark.parametrize(("data", "field"), CREATE_CASES)
def test_invalid_create_is_refused_with_the_field_and_changes_nothing(data, field):
    shop = shop_with_program()
    Category.objects.create(name="Books", slug="books")
    make_rule(shop, name="Existing")
    data = _resolve_tier_placeholders(data, shop)
    before = state(shop)
    body = gql(login(staff(shop)), CREATE, {"shop": gid("Shop", shop.pk), "input": data})
    payload = body["data"]["earningRuleCreate"]
    assert payload["rule"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", field)]
    assert payload["errors"][0]["message"]
    assert state(shop) == before


@pytest.mark.parametrize(("data", "field"), UPDATE_CASES)
def test_invalid_update_is_refused_with_the_field_and_changes_nothing(data, field):
    shop = shop_with_program()
    books = Category.objects.create(name="Books", slug="books")
    rule = make_rule(
        shop,
        starts_at=dt.datetime(2026, 11, 27, 5, tzinfo=dt.UTC),
        ends_at=dt.datetime(2026, 11, 28, 5, tzinfo=dt.UTC),
        categories=[books],
        tiers=[Tier.objects.get(program=shop.program, name="Gold")],
    )
    data = _resolve_tier_placeholders(data, shop)
    before = state(shop)
    body = gql(login(staff(shop)), UPDATE, {"id": gid("EarningRule", rule.pk), "input": data})
    payload = body["data"]["earningRuleUpdate"]
    assert payload["rule"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", field)]
    assert state(shop) == before


def test_a_shop_without_a_program_is_not_found():
    shop = ShopFactory()
    body = gql(login(staff(shop)), CREATE, {"shop": gid("Shop", shop.pk), "input": MULTIPLIER})
    assert [(e["code"], e["field"]) for e in body["data"]["earningRuleCreate"]["errors"]] == [("NOT_FOUND", "shopId")]
    assert not EarningRule.objects.exists()
    assert not ProgramChange.objects.exists()


# --- who may ----------------------------------------------------------------------------------------------------

CALLERS = ["anonymous", "customer", "cashier", "owner of another shop", "manager", "owner"]


def _caller(name: str, shop):
    return {
        "anonymous": lambda: None,
        "customer": lambda: CustomerFactory().user,
        "cashier": lambda: staff(shop, StaffRole.CASHIER),
        "owner of another shop": lambda: staff(shop_with_program(), StaffRole.OWNER),
        "manager": lambda: staff(shop, StaffRole.MANAGER),
        "owner": lambda: staff(shop, StaffRole.OWNER),
    }[name]()


@pytest.mark.parametrize("action", ["create", "update", "delete"])
@pytest.mark.parametrize("caller", CALLERS)
def test_permission_matrix(caller, action):
    shop = shop_with_program()
    rule = make_rule(shop)
    client = login(_caller(caller, shop))
    before = state(shop)
    if action == "create":
        payload = gql(client, CREATE, {"shop": gid("Shop", shop.pk), "input": BONUS})["data"]["earningRuleCreate"]
        refused = {"anonymous": ("NOT_AUTHENTICATED", None)}.get(caller, ("PERMISSION_DENIED", "shopId"))
    elif action == "update":
        payload = gql(client, UPDATE, {"id": gid("EarningRule", rule.pk), "input": {"priority": 9}})["data"][
            "earningRuleUpdate"
        ]
        refused = {"anonymous": ("NOT_AUTHENTICATED", None)}.get(caller, ("NOT_FOUND", "id"))
    else:
        payload = gql(client, DELETE, {"id": gid("EarningRule", rule.pk)})["data"]["earningRuleDelete"]
        refused = {"anonymous": ("NOT_AUTHENTICATED", None)}.get(caller, ("NOT_FOUND", "id"))
    errors = [(e["code"], e["field"]) for e in payload["errors"]]
    if caller in ("manager", "owner"):
        assert errors == []
        assert state(shop) != before
        assert ProgramChange.objects.count() == 1
        return
    assert errors == [refused]
    assert state(shop) == before


def test_another_shops_rule_answers_exactly_like_an_unknown_one():
    shop = shop_with_program()
    owner = staff(shop)
    foreign = make_rule(shop_with_program(), name="Not yours")
    client = login(owner)
    for document, variables in [
        (UPDATE, {"input": {"name": "Mine now"}}),
        (DELETE, {}),
    ]:
        answers = [
            gql(client, document, {**variables, "id": rule_id})["data"]
            for rule_id in (gid("EarningRule", foreign.pk), gid("EarningRule", 999_999), "garbage")
        ]
        assert answers[0] == answers[1] == answers[2]
        assert next(iter(answers[0].values()))["errors"][0]["code"] == "NOT_FOUND"
    foreign.refresh_from_db()
    assert foreign.name == "Not yours"
    assert not ProgramChange.objects.exists()


# --- reading ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "sees_inactive"),
    [
        ("anonymous", False),
        ("customer", False),
        ("cashier", False),
        ("owner of another shop", False),
        ("manager", True),
        ("owner", True),
    ],
)
def test_inactive_rules_are_visible_only_to_the_owner_and_managers(caller, sees_inactive):
    shop = shop_with_program()
    make_rule(shop, name="Low", priority=-1)
    make_rule(shop, name="Paused", priority=5, active=False)
    make_rule(shop, name="High", priority=10)
    make_rule(shop, name="High too", priority=10)
    body = gql(login(_caller(caller, shop)), RULES, {"slug": shop.slug})
    names = [r["name"] for r in body["data"]["shop"]["program"]["earningRules"]]
    assert names == (["High", "High too", "Paused", "Low"] if sees_inactive else ["High", "High too", "Low"])


def test_visibility_is_per_shop_in_a_list_of_shops():
    mine, theirs = shop_with_program(), shop_with_program()
    owner = staff(mine)
    for shop in (mine, theirs):
        make_rule(shop, name=f"{shop.slug} paused", active=False)
        make_rule(shop, name=f"{shop.slug} live")
    edges = gql(login(owner), ALL_SHOPS)["data"]["shops"]["edges"]
    seen = {edge["node"]["slug"]: [r["name"] for r in edge["node"]["program"]["earningRules"]] for edge in edges}
    assert seen == {mine.slug: [f"{mine.slug} paused", f"{mine.slug} live"], theirs.slug: [f"{theirs.slug} live"]}


@pytest.mark.parametrize("count", [1, 6])
@pytest.mark.parametrize("as_owner", [False, True])
def test_listing_rules_takes_the_same_queries_whatever_their_number(count, as_owner, django_assert_num_queries):
    shop = shop_with_program()
    owner = staff(shop)
    categories = [Category.objects.create(name=f"C{i}", slug=f"c{i}") for i in range(3)]
    tiers = list(Tier.objects.filter(program=shop.program))
    for i in range(count):
        make_rule(shop, name=f"R{i}", priority=i, categories=categories[: 1 + i % 3], tiers=tiers[: 1 + i % 4])
    client = login(owner) if as_owner else Client()
    # shop, program, [session, user,] rules (visibility as one EXISTS), their categories, their tiers
    with django_assert_num_queries(7 if as_owner else 5):
        body = gql(client, RULES, {"slug": shop.slug})
    rules = body["data"]["shop"]["program"]["earningRules"]
    assert len(rules) == count
    assert all(rule["categorySlugs"] and rule["tiers"] for rule in rules)


def test_anonymous_list_of_shops_does_not_grow_with_shops(django_assert_num_queries):
    for _ in range(3):
        shop = shop_with_program()
        make_rule(shop, categories=[Category.objects.create(name=shop.slug, slug=shop.slug)])
    query = (
        """{ shops(first: 10) { edges { node { program { earningRules { name categorySlugs tiers { name } } } } } } }"""
    )
    with django_assert_num_queries(4):  # shops joined with programs, rules, categories, tiers
        body = gql(Client(), query)
    assert len(body["data"]["shops"]["edges"]) == 3


# --- concurrency ------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_serialize_on_the_program_lock(postgres):
    # given a multiplier rule, one owner switching it to a fixed bonus and another raising its multiplier
    from loyalty.services.rules_admin import EarningRuleData, earning_rule_update
    from tests.loyalty.test_concurrency import run_concurrently

    shop = shop_with_program()
    owner = staff(shop)
    rule = make_rule(shop)
    to_bonus = EarningRuleData(kind=RuleKind.FIXED_BONUS, bonus_points=50, multiplier=None)
    raise_multiplier = EarningRuleData(multiplier=3)
    # when both run at once
    results = run_concurrently(
        [
            lambda: earning_rule_update(user=owner, rule_id=rule.pk, data=to_bonus),
            lambda: earning_rule_update(user=owner, rule_id=rule.pk, data=raise_multiplier),
        ]
    )
    # then the second to take the lock validated the first one's result: either both applied in
    # order (x3, then the switch) or the raise was refused because the rule had become a bonus
    rule.refresh_from_db()
    assert (rule.kind, rule.bonus_points, rule.multiplier) == (RuleKind.FIXED_BONUS, 50, None)
    assert isinstance(results[0], EarningRule)
    if isinstance(results[1], EarningRule):
        assert ProgramChange.objects.count() == 2
    else:
        assert (results[1].code.value, results[1].field) == ("INVALID_INPUT", "multiplier")
        assert ProgramChange.objects.count() == 1
