"""``import_orders``: the bundled samples replay to the points an independent computation expects.

The expected figures are computed here from the raw sample files with the program's published
rules (rate 1 point per currency unit, tier multipliers 1.0/1.1/1.25/1.5, floor, tiers reached so
far never downgrade), not with Patron's code.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import zoneinfo
from collections import Counter, defaultdict
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from loyalty.models import EntryKind, MemberAccount, PointsEntry
from marketplace.models import Order, OrderEvent, OrderStatus, Shop
from marketplace.signals import order_event_committed

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
CDNOW_SAMPLE = SAMPLES / "cdnow_sample.csv.gz"
OLIST_SAMPLE = SAMPLES / "olist"
CSV_EXAMPLE = SAMPLES / "orders_example.csv"
MULTIPLIERS = {"Bronze": Decimal("1.0"), "Silver": Decimal("1.1"), "Gold": Decimal("1.25"), "Platinum": Decimal("1.5")}
ORDER = ["Bronze", "Silver", "Gold", "Platinum"]


def import_orders(*args: str, **options) -> dict[str, str]:
    """Run the command; return its summary line as a dict of key=value."""
    out = io.StringIO()
    call_command("import_orders", *args, stdout=out, stderr=io.StringIO(), **options)
    line = out.getvalue().strip().splitlines()[-1]
    assert line.startswith("imported ")
    return dict(part.split("=", 1) for part in line.split()[1:])


def tier_for(value: Decimal, thresholds: tuple[int, int, int, int]) -> str:
    """Highest tier whose threshold ``value`` reaches."""
    return [name for name, threshold in zip(ORDER, thresholds, strict=True) if value >= threshold][-1]


def floor_points(amount: Decimal, tier: str) -> int:
    """floor(amount x multiplier), in Decimal."""
    return int((amount * MULTIPLIERS[tier]).to_integral_value(rounding=ROUND_FLOOR))


def read_gz(path: Path) -> list[dict[str, str]]:
    """All rows of a gzip CSV (UTF-8, optional byte-order mark)."""
    with gzip.open(path, "rt", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def expected_cdnow() -> tuple[dict[str, int], dict[str, str]]:
    """Lifetime points and tier per customer: lifetime spend so far decides the tier held."""
    spend: dict[str, Decimal] = defaultdict(Decimal)
    points: dict[str, int] = defaultdict(int)
    for row in read_gz(CDNOW_SAMPLE):
        customer, amount = row["customer_id"], Decimal(row["dollar_value"])
        points[customer] += floor_points(amount, tier_for(spend[customer], (0, 100, 250, 500)))
        spend[customer] += amount
    tiers = {customer: tier_for(value, (0, 100, 250, 500)) for customer, value in spend.items()}
    return dict(points), tiers


def expected_olist(directory: Path = OLIST_SAMPLE) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], str]]:
    """Points and tier per (customer, seller) account, with a rolling 12-month spend window.

    Only delivered orders (with a delivery date) earn, at their delivery; the tier held before
    an order is the highest reached so far; after it, the spend of the account's deliveries in
    the 12 months up to and including this one may raise it.
    """
    tz = zoneinfo.ZoneInfo("America/Sao_Paulo")
    unique = {row["customer_id"]: row["customer_unique_id"] for row in read_gz(directory / "customers.csv.gz")}
    amounts: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for item in read_gz(directory / "order_items.csv.gz"):
        amounts[(item["order_id"], item["seller_id"])] += Decimal(item["price"])
    deliveries: dict[tuple[str, str], list[tuple[dt.datetime, Decimal]]] = defaultdict(list)
    accounts: set[tuple[str, str]] = set()
    for order in read_gz(directory / "orders.csv.gz"):
        customer = "olist:" + unique.get(order["customer_id"], order["customer_id"])
        for (order_id, seller), amount in amounts.items():
            if order_id != order["order_id"]:
                continue
            accounts.add((customer, seller))
            if order["order_status"] == "delivered" and order["order_delivered_customer_date"]:
                naive = dt.datetime.strptime(order["order_delivered_customer_date"], "%Y-%m-%d %H:%M:%S")
                at = naive.replace(tzinfo=tz).astimezone(dt.UTC)
                deliveries[(customer, seller)].append((at, amount))
    points = dict.fromkeys(accounts, 0)
    tiers = dict.fromkeys(accounts, "Bronze")
    for account, orders in deliveries.items():
        orders.sort(key=lambda pair: pair[0])
        for at, amount in orders:
            points[account] += floor_points(amount, tiers[account])
            start = at - dt.timedelta(days=366) if at.month == 2 and at.day == 29 else at.replace(year=at.year - 1)
            window = sum((value for when, value in orders if start < when <= at), Decimal("0"))
            reached = tier_for(window, (0, 500, 2000, 5000))
            tiers[account] = max(tiers[account], reached, key=ORDER.index)
    return points, tiers


def assert_ledger_clean() -> None:
    """``check_ledger`` finds nothing wrong."""
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert out.getvalue().strip().endswith(" 0 discrepancies")


def test_cdnow_sample_earns_what_the_rules_say():
    # Given the bundled CDNOW sample and the points computed from it independently
    points, tiers = expected_cdnow()

    # When it is imported
    summary = import_orders(str(CDNOW_SAMPLE), format="cdnow")

    # Then every member holds exactly those points (all released: the return windows are long past)
    accounts = {
        account.customer.external_id: account
        for account in MemberAccount.objects.select_related("customer", "tier").filter(program__shop__slug="cdnow")
    }
    assert set(accounts) == set(points)
    assert {customer: a.lifetime_points for customer, a in accounts.items()} == points
    assert {customer: a.tier.name for customer, a in accounts.items()} == tiers
    assert all(a.points_available == a.lifetime_points and a.points_pending == 0 for a in accounts.values())
    rows = len(read_gz(CDNOW_SAMPLE))
    assert summary["orders"] == summary["events"] == str(rows)
    assert summary["members"] == str(len(points))
    assert summary["shops"] == "1"
    assert summary["points_posted"] == str(sum(points.values()))
    tier_counts = Counter(tiers.values())
    assert summary["tiers"] == ",".join(f"{name}:{tier_counts[name]}" for name in ORDER)
    assert Order.objects.count() == rows
    assert_ledger_clean()


def test_cdnow_zero_orders_and_same_day_orders(tmp_path):
    # Given a CDNOW file with a 0.00 purchase and two purchases of one customer on one day
    path = tmp_path / "cdnow.csv"
    path.write_text(
        "customer_id,date,number_of_cds,dollar_value\n"
        "00007,1997-01-02,1,0.00\n"
        "00008,1997-01-03,2,30.00\n"
        "00008,1997-01-03,1,15.50\n"
    )

    # When it is imported
    summary = import_orders(str(path), format="cdnow")

    # Then every row is an order; the 0.00 one earns nothing; same-day orders are numbered in file order
    assert set(Order.objects.values_list("external_id", "goods_amount")) == {
        ("00007-1997-01-02-1", Decimal("0.00")),
        ("00008-1997-01-03-1", Decimal("30.00")),
        ("00008-1997-01-03-2", Decimal("15.50")),
    }
    assert not PointsEntry.objects.filter(order__external_id="00007-1997-01-02-1").exists()
    assert summary["points_posted"] == "45"
    assert summary["members"] == "2"
    assert Order.objects.get(external_id="00008-1997-01-03-1").lines.get().description == "2 CDs"


def test_olist_sample_earns_what_the_rules_say():
    # Given the bundled Olist sample and the points computed from it independently
    points, tiers = expected_olist()

    # When it is imported
    summary = import_orders(str(OLIST_SAMPLE), format="olist")

    # Then each (customer, seller) account holds exactly those points and that tier
    accounts = MemberAccount.objects.select_related("customer", "tier", "program__shop")
    found = {(a.customer.external_id, a.program.shop.external_id): a for a in accounts}
    assert set(found) == set(points)
    assert {key: a.lifetime_points for key, a in found.items()} == points
    assert {key: a.tier.name for key, a in found.items()} == tiers
    sellers = {seller for _, seller in points}
    assert summary["shops"] == str(len(sellers)) == str(Shop.objects.count())
    assert summary["members"] == str(len(points))
    assert summary["points_posted"] == str(sum(points.values()))
    # Several sellers have several orders (the sample is cut to make it so)
    per_shop = Counter(Order.objects.values_list("shop_id", flat=True))
    assert sum(1 for count in per_shop.values() if count >= 3) >= 3
    # Only delivered orders earn; cancelled ones were recorded and earn nothing
    cancelled = Order.objects.filter(status=OrderStatus.CANCELLED)
    assert cancelled.exists()
    assert not PointsEntry.objects.filter(order__in=cancelled).exists()
    assert set(PointsEntry.objects.filter(kind=EntryKind.EARN).values_list("order__status", flat=True)) == {
        OrderStatus.DELIVERED
    }
    # Freight is shipping and earns nothing
    assert all(order.shipping_amount >= 0 for order in Order.objects.all())
    assert_ledger_clean()


def write_gz(path: Path, header: str, rows: list[str]) -> None:
    """A gzip CSV from a header and rows."""
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        handle.write("\n".join([header, *rows]) + "\n")


def test_olist_repeat_buyer_rolling_window(tmp_path):
    # Given one customer (four Olist customer_ids, one customer_unique_id) buying from a seller over
    # two years, once also from a second seller, and another customer's cancelled order
    ts = "order_purchase_timestamp,order_approved_at,order_delivered_carrier_date,order_delivered_customer_date"
    write_gz(
        tmp_path / "orders.csv.gz",
        f"order_id,customer_id,order_status,{ts},order_estimated_delivery_date",
        [
            "o1,c1a,delivered,2017-01-10 10:00:00,,,2017-01-20 10:00:00,",
            "o2,c1b,delivered,2017-12-01 10:00:00,,,2017-12-10 10:00:00,",
            "o3,c1c,delivered,2019-02-20 10:00:00,,,2019-03-01 10:00:00,",
            "o4,c2,canceled,2017-02-01 10:00:00,2017-02-01 11:00:00,,,",
            "o5,c1d,delivered,2017-05-25 10:00:00,,,2017-06-01 10:00:00,",
        ],
    )
    item = "order_id,order_item_id,product_id,seller_id,shipping_limit_date,price,freight_value"
    write_gz(
        tmp_path / "order_items.csv.gz",
        item,
        [
            "o1,1,p1,s1,,600.00,20.00",
            "o2,1,p1,s1,,1000.00,10.00",
            "o2,2,p2,s1,,500.00,10.00",
            "o3,1,p1,s1,,100.00,5.00",
            "o4,1,p1,s1,,50.00,5.00",
            "o5,1,p1,s1,,10.00,3.00",
            "o5,2,p2,s2,,700.00,30.00",
        ],
    )
    write_gz(
        tmp_path / "customers.csv.gz",
        "customer_id,customer_unique_id,customer_zip_code_prefix,customer_city,customer_state",
        [f"{c},u1,01000,sao paulo,SP" for c in ("c1a", "c1b", "c1c", "c1d")],
    )
    write_gz(
        tmp_path / "sellers.csv.gz",
        "seller_id,seller_zip_code_prefix,seller_city,seller_state",
        ["s1,13023,campinas,SP", "s2,01000,sao paulo,SP"],
    )
    write_gz(tmp_path / "products.csv.gz", "product_id,product_category_name", ["p1,beleza_saude", "p2,"])
    write_gz(
        tmp_path / "category_translation.csv.gz",
        "product_category_name,product_category_name_english",
        ["beleza_saude,health_beauty"],
    )
    points, tiers = expected_olist(tmp_path)

    # When it is imported
    import_orders(str(tmp_path), format="olist")

    # Then the rolling window and the no-downgrade rule give what the independent computation says:
    # s1: 600 (Bronze) -> Silver; 10 x 1.1 = 11; 1500 x 1.1 = 1650 -> 2110 in 12 months: Gold;
    # 100 x 1.25 = 125 (the window holds only 100 now, but tiers never go down here)
    assert points == {("olist:u1", "s1"): 2386, ("olist:u1", "s2"): 700, ("olist:c2", "s1"): 0}
    assert tiers == {("olist:u1", "s1"): "Gold", ("olist:u1", "s2"): "Silver", ("olist:c2", "s1"): "Bronze"}
    accounts = MemberAccount.objects.select_related("customer", "tier", "program__shop")
    assert {(a.customer.external_id, a.program.shop.external_id): a.lifetime_points for a in accounts} == points
    assert {(a.customer.external_id, a.program.shop.external_id): a.tier.name for a in accounts} == tiers
    o2 = Order.objects.get(shop__external_id="s1", external_id="o2")
    assert (o2.goods_amount, o2.shipping_amount) == (Decimal("1500.00"), Decimal("20.00"))
    assert list(o2.lines.values_list("category__slug", flat=True)) == ["health_beauty", None]
    assert Shop.objects.get(external_id="s1").name == "Seller s1 (campinas/SP)"
    assert_ledger_clean()


def test_second_import_of_the_same_file_changes_nothing():
    # Given a first import
    first = import_orders(str(CDNOW_SAMPLE), format="cdnow", limit=200)
    entries = PointsEntry.objects.count()
    events = OrderEvent.objects.count()

    # When the same file is imported again
    second = import_orders(str(CDNOW_SAMPLE), format="cdnow", limit=200)

    # Then nothing new is written and the summary says so
    assert int(first["points_posted"]) > 0
    assert second["points_posted"] == "0"
    assert (PointsEntry.objects.count(), OrderEvent.objects.count()) == (entries, events)
    assert second["members"] == first["members"]
    assert second["tiers"] == first["tiers"]


def test_limit_takes_the_first_orders_in_file_order():
    # Given the samples
    rows = read_gz(CDNOW_SAMPLE)[:25]
    olist_orders = [row["order_id"] for row in read_gz(OLIST_SAMPLE / "orders.csv.gz")[:10]]

    # When only the first orders are imported
    cdnow = import_orders(str(CDNOW_SAMPLE), format="cdnow", limit=25)
    import_orders(str(OLIST_SAMPLE), format="olist", limit=10)

    # Then exactly those orders exist
    assert cdnow["orders"] == cdnow["events"] == "25"
    cdnow_ids = set(Order.objects.filter(shop__slug="cdnow").values_list("external_id", flat=True))
    assert {f"{row['customer_id']}-{row['date']}-" for row in rows} == {
        oid.rsplit("-", 1)[0] + "-" for oid in cdnow_ids
    }
    assert len(cdnow_ids) == 25
    assert set(Order.objects.exclude(shop__slug="cdnow").values_list("external_id", flat=True)) == set(olist_orders)


def test_csv_example_with_a_return_and_a_cancellation():
    # Given Patron's own CSV format with two shops, a return and a cancellation
    # When it is imported
    summary = import_orders(str(CSV_EXAMPLE), format="csv")

    # Then returned points are reversed, the cancelled order earns nothing, the rest is earned
    def account(shop: str, customer: str) -> MemberAccount:
        return MemberAccount.objects.select_related("tier").get(
            program__shop__external_id=shop, customer__external_id=customer
        )

    bob = account("BOOKS-01", "cust-bob")
    assert list(
        PointsEntry.objects.filter(account=bob, kind__in=[EntryKind.EARN, EntryKind.REVERSE])
        .order_by("created_at")
        .values_list("kind", "points")
    ) == [(EntryKind.EARN, 45), (EntryKind.REVERSE, -45), (EntryKind.EARN, 120)]
    assert (bob.lifetime_points, bob.points_available, bob.tier.name) == (120, 120, "Silver")
    assert account("BOOKS-01", "cust-alice").lifetime_points == 33  # 2 x 12.50 + 8.00; B-1003 cancelled
    assert not PointsEntry.objects.filter(order__external_id="B-1003").exists()
    assert Order.objects.get(external_id="B-1003").status == OrderStatus.CANCELLED
    assert Order.objects.get(external_id="B-1002").status == OrderStatus.RETURNED
    assert account("TEA-01", "cust-alice").lifetime_points == 44  # 4 x 6.25 + 19.99 = 44.99
    assert account("TEA-01", "cust-carol").lifetime_points == 19
    assert Shop.objects.get(external_id="TEA-01").currency == "GBP"
    assert summary["points_posted"] == str(33 + 45 + 120 + 44 + 19)
    assert (summary["orders"], summary["events"], summary["shops"], summary["members"]) == ("6", "10", "2", "4")
    assert_ledger_clean()


def test_malformed_csv_row_names_its_line_and_writes_nothing(tmp_path):
    # Given the example file with a bad quantity on line 7
    lines = CSV_EXAMPLE.read_text().splitlines()
    cells = lines[6].split(",")
    cells[11] = "two"
    lines[6] = ",".join(cells)
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")

    # When it is imported
    with pytest.raises(CommandError, match=r"bad\.csv line 7: quantity 'two'"):
        import_orders(str(path), format="csv")

    # Then nothing was written, neither from that row on nor before it
    assert (Shop.objects.count(), Order.objects.count(), OrderEvent.objects.count()) == (0, 0, 0)


def test_refused_event_stops_the_import_and_a_rerun_is_idempotent(tmp_path):
    # Given a file whose last event is refused by the service (a delivered order cannot be cancelled)
    lines = CSV_EXAMPLE.read_text().splitlines()
    bad = lines[5].replace("B-1002", "B-1001").replace("Bob Durand", "Alice Martin")
    bad = bad.replace("cust-bob", "cust-alice").replace("bob@", "alice@").replace(",returned,", ",cancelled,")
    bad = bad.replace("2025-03-10T09:00:00+01:00", "2025-05-01T09:00:00+02:00")
    path = tmp_path / "refused.csv"
    path.write_text("\n".join([*lines, bad]) + "\n")

    # When it is imported, twice
    with pytest.raises(CommandError, match=r"refused\.csv line 14: INVALID_STATUS_TRANSITION"):
        import_orders(str(path), format="csv")
    entries = PointsEntry.objects.count()
    with pytest.raises(CommandError, match="line 14"):
        import_orders(str(path), format="csv")

    # Then the events before it stay, once
    assert Order.objects.get(external_id="B-1001").status == OrderStatus.DELIVERED
    assert OrderEvent.objects.count() == 10
    assert PointsEntry.objects.count() == entries


def test_via_worker_queues_events_instead_of_processing(django_capture_on_commit_callbacks):
    # Given a listener on the signal that queues the worker
    sent: list[int] = []

    def listen(sender, event_id, **kwargs):
        sent.append(event_id)

    order_event_committed.connect(listen, dispatch_uid="test-import-listen")
    try:
        # When the example is imported through the workers
        out = io.StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command(
                "import_orders", str(CSV_EXAMPLE), format="csv", via_worker=True, stdout=out, stderr=io.StringIO()
            )
    finally:
        order_event_committed.disconnect(dispatch_uid="test-import-listen")

    # Then every event was recorded and announced, none processed here
    assert "queued 10 order events" in out.getvalue()
    assert sorted(sent) == sorted(OrderEvent.objects.values_list("pk", flat=True))
    assert not OrderEvent.objects.filter(processed_at__isnull=False).exists()
    assert not PointsEntry.objects.exists()


def test_unknown_format_and_missing_file_are_command_errors(tmp_path):
    # Given a path that does not exist / a cdnow file with a bad date
    bad = tmp_path / "cdnow.csv"
    bad.write_text("customer_id,date,number_of_cds,dollar_value\n00001,1997-01-01,1,11.77\n00002,1997-13-01,1,5.00\n")

    # When / Then
    with pytest.raises(CommandError, match="no such file"):
        import_orders(str(tmp_path / "missing.csv.gz"), format="cdnow")
    with pytest.raises(CommandError, match=r"cdnow\.csv line 3: date '1997-13-01'"):
        import_orders(str(bad), format="cdnow")
    with pytest.raises(CommandError):
        call_command("import_orders", str(bad), "--format", "xml", stdout=io.StringIO())
    assert not Order.objects.exists()
