"""Member statistics equal a hand computation on a fixed history; every automatic tag at its thresholds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from crm.models import CrmSettings, MemberStats, MemberTag, TagSource
from crm.services.stats import high_value_threshold_refresh, stats_refresh, tags_refresh
from loyalty.models import MemberAccount, Tier
from loyalty.services.orders import order_event_process, order_events_process_batch
from loyalty.signals import order_events_posted
from loyalty.tasks import MAX_ATTEMPTS
from marketplace.services.orders import order_event_record
from tests.factories import CustomerFactory, order_input, shop_with_program

pytestmark = pytest.mark.django_db

UTC = dt.UTC
O1 = dt.datetime(2026, 1, 1, 4, tzinfo=UTC)  # 23:00 on 31 December 2025 in New York
O2 = dt.datetime(2026, 3, 10, 12, tzinfo=UTC)
O3 = dt.datetime(2026, 6, 1, 12, tzinfo=UTC)
O5 = dt.datetime(2026, 7, 1, 12, tzinfo=UTC)
NOW = dt.datetime(2026, 8, 1, 12, tzinfo=UTC)


def _event(shop, customer, order_id, status, at, **fields):
    fields.setdefault("lines", "items" in fields or "amount" in fields)
    result = order_event_record(
        data=order_input(shop, order_id, status, customer=customer, at=at, **fields),
        idempotency_key=f"{order_id}:{status}:{at.isoformat()}",
        actor=None,
    )
    order_event_process(event_id=result.event.pk, broadcast=False)


@pytest.fixture
def history():
    """A New York shop and one member's orders: kept, partly returned, refunded, cancelled, kept."""
    shop, customer = shop_with_program(), CustomerFactory()
    _event(shop, customer, "O1", "delivered", O1, amount="100.00")
    _event(shop, customer, "O2", "delivered", O2, items=((2, "10.00"), (1, "30.00")))
    _event(shop, customer, "O2", "partially_returned", O2 + dt.timedelta(days=2), returned=((1, 1),))
    _event(shop, customer, "O3", "delivered", O3, amount="60.00")
    _event(shop, customer, "O3", "refunded", O3 + dt.timedelta(days=3))
    _event(shop, customer, "O4", "placed", O3, amount="500.00")
    _event(shop, customer, "O5", "delivered", O5, amount="30.00")
    return (
        shop,
        customer,
        MemberAccount.objects.select_related("program__shop", "customer", "tier").get(customer=customer),
    )


def test_statistics_equal_the_hand_computation(history):
    _, _, account = history
    # the worker kept them current event by event
    assert MemberStats.objects.get(account=account).visits == 3
    # and a refresh at a fixed time gives, by hand:
    stats_refresh([account], now=NOW)
    stats = MemberStats.objects.get(account=account)
    # visits: O1, O2 (partly returned), O5; O3 refunded and O4 never delivered do not count
    assert stats.visits == 3
    # spend: 100.00 + (2 x 10.00 - 10.00 + 30.00) + 30.00
    assert stats.total_spend == Decimal("170.00")
    # 2026 in New York: O1 fell on 31 December 2025 there
    assert (stats.year, stats.year_spend) == (2026, Decimal("70.00"))
    assert stats.average_order_value == Decimal("56.67")  # 170.00 / 3
    assert (stats.first_visit_at, stats.last_visit_at) == (O1, O5)
    # (1 July 12:00 - 1 January 04:00) = 181 d 8 h, over 2 intervals
    assert stats.visit_interval_days == Decimal("90.67")
    assert stats.lifetime_value == Decimal("170.00")


def _auto(account) -> dict[str, str]:
    return dict(MemberTag.objects.filter(account=account, source=TagSource.AUTO).values_list("tag", "reason"))


def test_every_automatic_tag_at_its_thresholds(history):
    shop, customer, account = history
    stats_refresh([account], now=NOW)
    silver = Tier.objects.get(program__shop=shop, name="Silver")
    settings = CrmSettings.objects.create(
        shop=shop, new_days=30, frequent_visits=3, frequent_days=200, dormant_days=90, vip_spend=Decimal("170.00")
    )
    enrolled = account.enrolled_at

    def tags_at(moment):
        account.refresh_from_db()
        tags_refresh([account], now=moment)
        return _auto(account)

    # NEW: at 30 days exactly, not a second later
    assert "new" in tags_at(enrolled + dt.timedelta(days=30))
    assert "new" not in tags_at(enrolled + dt.timedelta(days=30, seconds=1))
    # DORMANT: more than 90 days after the last visit (O5)
    assert "dormant" not in tags_at(O5 + dt.timedelta(days=90))
    assert "dormant" in tags_at(O5 + dt.timedelta(days=90, seconds=1))
    # FREQUENT: 3 visits, 90.67 days apart: 181.34 days fit in 200, not in 180
    assert "frequent" in tags_at(NOW)
    settings.frequent_days = 180
    settings.save()
    assert "frequent" not in tags_at(NOW)
    # VIP by spend: 170.00 reaches 170.00, not 170.01; by tier: Silver and above
    assert "spent 170.00" in tags_at(NOW)["vip"]
    settings.vip_spend = Decimal("170.01")
    settings.save()
    assert "vip" not in tags_at(NOW)
    settings.vip_tier = silver
    settings.save()
    assert account.tier.position >= silver.position
    assert tags_at(NOW)["vip"].startswith("tier ")
    # BIRTHDAY_MONTH: in the shop's zone (New York): 1 August 03:00 UTC is still July there
    customer.birth_date = dt.date(1990, 7, 15)
    customer.save()
    assert "birthday_month" in tags_at(dt.datetime(2026, 8, 1, 3, tzinfo=UTC))
    assert "birthday_month" not in tags_at(dt.datetime(2026, 8, 1, 5, tzinfo=UTC))
    # manual tags are never touched by the rules
    MemberTag.objects.create(account=account, tag="wholesale", source=TagSource.MANUAL, assigned_at=NOW)
    tags_at(NOW)
    assert MemberTag.objects.filter(account=account, tag="wholesale").exists()


def test_high_value_is_the_shops_top_percentile():
    # ten members who spent 10.00, 20.00 ... 100.00
    shop = shop_with_program()
    accounts = []
    for number in range(1, 11):
        customer = CustomerFactory()
        _event(shop, customer, f"HV{number}", "delivered", O2, amount=f"{number * 10}.00")
        accounts.append(
            MemberAccount.objects.select_related("program__shop", "customer", "tier").get(customer=customer)
        )
    # the 90th percentile by nearest rank is the 9th value: 90.00
    assert high_value_threshold_refresh(shop.pk) == Decimal("90.00")
    tags_refresh(accounts, now=NOW)
    tagged = set(MemberTag.objects.filter(tag="high_value").values_list("account__customer__external_id", flat=True))
    assert tagged == {accounts[8].customer.external_id, accounts[9].customer.external_id}


def test_the_workers_running_figures_equal_a_recomputation_from_the_history():
    """The worker adds a first delivery to the stored figures (no history read); anything else it
    recomputes. After rounds of batches across the shop's new year, with first visits, returns and
    several events of one member in a batch, the stored figures equal a recomputation."""
    shop = shop_with_program()
    customers = [CustomerFactory() for _ in range(5)]
    year = dt.datetime.now(UTC).year
    added: list[int] = []

    def count_deliveries(sender, *, deliveries, **kwargs):
        added.append(len(deliveries))

    order_events_posted.connect(count_deliveries)
    try:
        # two days apart, so that no pending lot comes due meanwhile (a release is not the common case)
        moments = [dt.datetime(year - 1, 12, 26, 15, tzinfo=UTC) + dt.timedelta(days=2 * n) for n in range(6)]
        for round_number, at in enumerate(moments):
            events = []
            for number, customer in enumerate(customers):
                order_id = f"R{round_number}C{number}"
                events.append(_recorded(shop, customer, order_id, "delivered", at, items=((number + 1, "12.50"),)))
                if round_number == 3 and number == 1:  # a second event of one member in this batch
                    later, items = at + dt.timedelta(hours=1), ((2, "12.50"),)
                    events.append(
                        _recorded(
                            shop, customer, order_id, "partially_returned", later, items=items, returned=((1, 1),)
                        )
                    )
            order_events_process_batch(event_id=events[0].pk, max_attempts=MAX_ATTEMPTS, broadcast=False)
    finally:
        order_events_posted.disconnect(count_deliveries)
    # then the common case was added to the stored figures in most batches
    assert sum(added) >= 15, added
    accounts = list(MemberAccount.objects.select_related("program__shop", "customer", "tier").order_by("pk"))
    fields = [f.name for f in MemberStats._meta.concrete_fields if f.name not in ("id", "refreshed_at")]
    running = list(MemberStats.objects.filter(account__in=accounts).order_by("account_id").values(*fields))
    stats_refresh(accounts)
    recomputed = list(MemberStats.objects.filter(account__in=accounts).order_by("account_id").values(*fields))
    assert running == recomputed
    assert [row["visits"] for row in running] == [6] * 5
    assert running[1]["year_spend"] == Decimal("62.50")  # 1, 3 and 5 January of 2 x 12.50, one unit returned
    assert running[2]["year_spend"] == Decimal("112.50")  # 1, 3 and 5 January of 3 x 12.50


def _recorded(shop, customer, order_id, status, at, **fields):
    """Record (not process) one order event."""
    return order_event_record(
        data=order_input(shop, order_id, status, customer=customer, at=at, **fields),
        idempotency_key=f"{order_id}:{status}",
        actor=None,
        notify=False,
    ).event
