"""Segments: the SQL of any criteria selects exactly what a Python reading of the same criteria selects
(property test over generated members), in one query; the API's builder, count, preview and filter."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.errors import CrmError
from crm.models import MemberStats, MemberTag, Segment, SegmentKind, TagSource
from crm.segments import criteria_clean
from crm.selectors import segment_members
from loyalty.models import MemberAccount, MemberStatus, Tier
from loyalty.services.tiers import account_get_or_enroll
from marketplace.models import StaffRole
from tests.api.graphql import gid, gql, login
from tests.factories import CustomerFactory, shop_with_program, staff

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 9, 1, 12, tzinfo=dt.UTC)
TAGS = ["vip", "dormant", "wholesale", "new"]


@pytest.fixture
def population():
    """60 members of one shop with random tiers, statuses, balances, statistics, tags, consents, birthdays."""
    rng = random.Random(17)
    shop = shop_with_program()
    tiers = list(Tier.objects.filter(program__shop=shop))
    for number in range(60):
        customer = CustomerFactory(
            consent_email=rng.random() < 0.5,
            consent_sms=rng.random() < 0.4,
            consent_push=rng.random() < 0.3,
            birth_date=dt.date(1980 + number % 20, rng.randint(1, 12), 10) if rng.random() < 0.8 else None,
        )
        account, _ = account_get_or_enroll(
            customer=customer, program=shop.program, at=NOW - dt.timedelta(days=rng.randint(0, 400))
        )
        MemberAccount.objects.filter(pk=account.pk).update(
            tier=rng.choice(tiers),
            status=rng.choice(MemberStatus.values),
            points_available=rng.randint(0, 3000),
            lifetime_points=rng.randint(0, 9000),
        )
        if rng.random() < 0.85:  # some never visited: no statistics row
            visits = rng.randint(0, 12)
            MemberStats.objects.create(
                account=account,
                visits=visits,
                total_spend=Decimal(rng.randint(0, 200000)) / 100,
                year=2026,
                year_spend=Decimal(rng.randint(0, 50000)) / 100,
                last_visit_at=NOW - dt.timedelta(days=rng.randint(0, 300), hours=rng.randint(0, 23))
                if visits
                else None,
                refreshed_at=NOW,
            )
        for tag in rng.sample(TAGS, rng.randint(0, 3)):
            MemberTag.objects.create(account=account, tag=tag, source=rng.choice(list(TagSource)), assigned_at=NOW)
    return shop, [t.pk for t in tiers]


def _python_match(account: MemberAccount, c: dict) -> bool:
    """The criteria read literally, one member at a time (docs/crm.md, "Segments")."""
    stats = getattr(account, "stats", None)
    tags = {t.tag for t in account.tags.all()}
    customer = account.customer

    def within(value, key, cast=lambda v: v):
        low, high = c.get(f"{key}Min"), c.get(f"{key}Max")
        if value is None:
            return low is None and high is None
        return (low is None or value >= cast(low)) and (high is None or value <= cast(high))

    checks = [
        "tierIds" not in c or account.tier_id in c["tierIds"],
        "statuses" not in c or account.status in c["statuses"],
        not c.get("tagsAny") or bool(tags & set(c["tagsAny"])),
        set(c.get("tagsAll", [])) <= tags,
        not (tags & set(c.get("tagsNone", []))),
        within(account.points_available, "pointsAvailable"),
        within(account.lifetime_points, "lifetimePoints"),
        within(stats.visits if stats else None, "visits"),
        within(stats.total_spend if stats else None, "totalSpend", Decimal),
        within(stats.year_spend if stats else None, "yearSpend", Decimal),
    ]
    last = stats.last_visit_at if stats else None
    if "lastVisitDaysMin" in c:
        checks.append(last is not None and last <= NOW - dt.timedelta(days=c["lastVisitDaysMin"]))
    if "lastVisitDaysMax" in c:
        checks.append(last is not None and last >= NOW - dt.timedelta(days=c["lastVisitDaysMax"]))
    if "joinedDaysMin" in c:
        checks.append(account.enrolled_at <= NOW - dt.timedelta(days=c["joinedDaysMin"]))
    if "joinedDaysMax" in c:
        checks.append(account.enrolled_at >= NOW - dt.timedelta(days=c["joinedDaysMax"]))
    for key, attr in (
        ("consentEmail", "consent_email"),
        ("consentSms", "consent_sms"),
        ("consentPush", "consent_push"),
    ):
        if key in c:
            checks.append(getattr(customer, attr) is c[key])
    if "birthdayMonth" in c:
        checks.append(customer.birth_date is not None and customer.birth_date.month == c["birthdayMonth"])
    return all(checks)


def criteria_strategy(tier_ids: list[int]):
    """Any combination of criteria with plausible values."""
    optional = {
        "tierIds": st.lists(st.sampled_from(tier_ids), min_size=1, max_size=3, unique=True),
        "statuses": st.lists(st.sampled_from(MemberStatus.values), min_size=1, max_size=2, unique=True),
        "tagsAny": st.lists(st.sampled_from(TAGS), min_size=1, max_size=2, unique=True),
        "tagsAll": st.lists(st.sampled_from(TAGS), min_size=1, max_size=2, unique=True),
        "tagsNone": st.lists(st.sampled_from(TAGS), min_size=1, max_size=2, unique=True),
        "pointsAvailableMin": st.integers(0, 3000),
        "pointsAvailableMax": st.integers(0, 3000),
        "lifetimePointsMin": st.integers(0, 9000),
        "visitsMin": st.integers(0, 12),
        "visitsMax": st.integers(0, 12),
        "totalSpendMin": st.integers(0, 2000).map(lambda v: f"{v}.00"),
        "yearSpendMax": st.integers(0, 500).map(lambda v: f"{v}.50"),
        "lastVisitDaysMin": st.integers(0, 300),
        "lastVisitDaysMax": st.integers(0, 300),
        "joinedDaysMin": st.integers(0, 400),
        "joinedDaysMax": st.integers(0, 400),
        "consentEmail": st.booleans(),
        "consentSms": st.booleans(),
        "consentPush": st.booleans(),
        "birthdayMonth": st.integers(1, 12),
    }
    return st.fixed_dictionaries({}, optional=optional)


@pytest.mark.parametrize("seed", [0])
def test_a_dynamic_segment_equals_the_python_filter_of_its_criteria(population, seed):
    shop, tier_ids = population
    accounts = list(
        MemberAccount.objects.filter(program__shop=shop).select_related("customer", "stats").prefetch_related("tags")
    )

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(criteria=criteria_strategy(tier_ids))
    def check(criteria):
        cleaned = criteria_clean(criteria)
        segment = Segment(shop=shop, kind=SegmentKind.DYNAMIC, criteria=cleaned)
        with CaptureQueriesContext(connection) as queries:
            count = segment_members(segment, now=NOW).count()
        assert len(queries) == 1  # one query, whatever the criteria
        selected = set(segment_members(segment, now=NOW).values_list("pk", flat=True))
        expected = {a.pk for a in accounts if _python_match(a, cleaned)}
        assert selected == expected, cleaned
        assert count == len(expected)

    check()


def test_bad_criteria_name_the_key():
    for criteria, key in (
        ({"colour": "red"}, "criteria.colour"),
        ({"visitsMin": -1}, "criteria.visitsMin"),
        ({"visitsMin": True}, "criteria.visitsMin"),
        ({"statuses": ["gone"]}, "criteria.statuses"),
        ({"totalSpendMin": "lots"}, "criteria.totalSpendMin"),
        ({"birthdayMonth": 13}, "criteria.birthdayMonth"),
    ):
        with pytest.raises(CrmError) as refused:
            criteria_clean(criteria)
        assert (refused.value.code.value, refused.value.field) == ("INVALID_CRITERIA", key)


SEGMENTS = """
query($slug: String!, $criteria: JSON!) {
  shop(slug: $slug) {
    segmentPreview(criteria: $criteria) { count members { id } }
    segments { name kind criteria count preview(first: 3) { id } }
  }
}
"""


def test_the_owners_question_in_the_api(population):
    # "Gold members who have not visited for 60 days and consented to SMS"
    shop, _ = population
    owner = login(staff(shop, StaffRole.OWNER))
    gold = Tier.objects.get(program__shop=shop, name="Gold")
    criteria = {"tierIds": [gid("Tier", gold.pk)], "lastVisitDaysMin": 60, "consentSms": True}
    made = gql(
        owner,
        'mutation($shop: ID!, $c: JSON!) { segmentCreate(shopId: $shop, input: {name: "Lapsed Gold SMS", '
        "kind: DYNAMIC, criteria: $c}) { segment { id count } errors { code field } } }",
        {"shop": gid("Shop", shop.pk), "c": criteria},
    )["data"]["segmentCreate"]
    assert made["errors"] == []
    expected = MemberAccount.objects.filter(
        program__shop=shop,
        tier=gold,
        customer__consent_sms=True,
        stats__last_visit_at__lte=dt.datetime.now(dt.UTC) - dt.timedelta(days=60),
    ).count()
    assert made["segment"]["count"] == expected
    body = gql(owner, SEGMENTS, {"slug": shop.slug, "criteria": criteria})["data"]["shop"]
    assert body["segmentPreview"]["count"] == expected
    assert body["segments"][0]["name"] == "Lapsed Gold SMS"
    assert body["segments"][0]["criteria"] == criteria  # tier ids shown as global ids, as given
    # the members list filters by the segment, and counts the same
    listed = gql(
        owner,
        "query($slug: String!, $s: ID!) { shop(slug: $slug) { members(filter: {segmentId: $s}, first: 100) "
        "{ totalCount } } }",
        {"slug": shop.slug, "s": made["segment"]["id"]},
    )["data"]["shop"]["members"]
    assert listed["totalCount"] == expected
    # bad criteria are refused with the key, and nothing is saved
    refused = gql(
        owner,
        'mutation($shop: ID!) { segmentCreate(shopId: $shop, input: {name: "x", kind: DYNAMIC, '
        'criteria: {visitsMin: "many"}}) { segment { id } errors { code field } } }',
        {"shop": gid("Shop", shop.pk)},
    )["data"]["segmentCreate"]
    assert refused["errors"] == [{"code": "INVALID_CRITERIA", "field": "criteria.visitsMin"}]
    assert Segment.objects.count() == 1


def test_a_static_segment_lists_its_members_and_only_the_shops(population):
    shop, _ = population
    owner = staff(shop, StaffRole.OWNER)
    some = list(MemberAccount.objects.filter(program__shop=shop).order_by("pk").values_list("pk", flat=True)[:5])
    other = account_get_or_enroll(customer=CustomerFactory(), program=shop_with_program().program, at=NOW)[0]
    client = login(owner)
    mutation = (
        'mutation($shop: ID!, $ids: [ID!]!) { segmentCreate(shopId: $shop, input: {name: "Hand-picked", '
        "kind: STATIC, accountIds: $ids}) { segment { count } errors { code field } } }"
    )
    ids = [gid("MemberAccount", pk) for pk in some]
    assert gql(client, mutation, {"shop": gid("Shop", shop.pk), "ids": ids})["data"]["segmentCreate"] == {
        "segment": {"count": 5},
        "errors": [],
    }
    foreign = gql(client, mutation, {"shop": gid("Shop", shop.pk), "ids": [gid("MemberAccount", other.pk)]})
    assert foreign["data"]["segmentCreate"]["errors"] == [{"code": "INVALID_INPUT", "field": "accountIds"}]
    assert Segment.objects.get().members.count() == 5
