"""Reader of the Olist marketplace data set (Brazil, BRL): every seller is a shop.

``PATH`` is a directory with ``orders.csv.gz``, ``order_items.csv.gz``, ``customers.csv.gz``,
``sellers.csv.gz``, ``products.csv.gz`` and ``category_translation.csv.gz``. An Olist order with
items of several sellers becomes one Patron order per seller (external id = the Olist
``order_id``, unique within each shop) holding that seller's items: each item row is one unit
(quantity 1 at ``price``); the items' ``freight_value`` is the order's shipping, which never
earns. Timestamps are naive ``YYYY-MM-DD HH:MM:SS`` in America/Sao_Paulo.

Status mapping (every order is first *placed* at ``order_purchase_timestamp``):

==========================  =========================================================
delivered                   then *delivered* at ``order_delivered_customer_date``
                            (without that date: *shipped*, see below)
shipped                     then *shipped* at ``order_delivered_carrier_date``
canceled, unavailable       then *cancelled* at the latest timestamp the order has
invoiced, processing,       then *paid* at ``order_approved_at``
approved
created                     nothing more
==========================  =========================================================

A later event whose timestamp is missing, or earlier than the purchase (the data has carrier
dates before the purchase), is dated at the purchase: an order cannot change before it exists.
Each such correction is listed in the batch notes.
"""

from __future__ import annotations

import csv
import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from loyalty.importers.base import (
    ImportBatch,
    ImportEvent,
    ImportFormatError,
    ProgramSpec,
    ShopSpec,
    header_check,
    open_text,
    parse_int,
    parse_money,
)
from loyalty.models import TierBasis, TierWindow
from marketplace.models import OrderStatus
from marketplace.services.orders import CustomerInput, OrderLineInput

TIMEZONE = "America/Sao_Paulo"
ORDERS = "orders.csv.gz"
ITEMS = "order_items.csv.gz"
CUSTOMERS = "customers.csv.gz"
SELLERS = "sellers.csv.gz"
PRODUCTS = "products.csv.gz"
CATEGORIES = "category_translation.csv.gz"

PROGRAM = ProgramSpec(
    name="Olist seller rewards",
    thresholds=(0, 500, 2000, 5000),
    points_per_currency_unit=Decimal("1"),
    tier_basis=TierBasis.SPEND,
    tier_window=TierWindow.ROLLING_12_MONTHS,
)

#: Olist ``order_status`` -> (Patron status after *placed*, Olist timestamp column it happens at).
STATUS_MAP: dict[str, tuple[str | None, str | None]] = {
    "delivered": (OrderStatus.DELIVERED, "order_delivered_customer_date"),
    "shipped": (OrderStatus.SHIPPED, "order_delivered_carrier_date"),
    "canceled": (OrderStatus.CANCELLED, None),
    "unavailable": (OrderStatus.CANCELLED, None),
    "invoiced": (OrderStatus.PAID, "order_approved_at"),
    "processing": (OrderStatus.PAID, "order_approved_at"),
    "approved": (OrderStatus.PAID, "order_approved_at"),
    "created": (None, None),
}
TIMESTAMP_COLUMNS = (
    "order_purchase_timestamp",
    "order_approved_at",
    "order_delivered_carrier_date",
    "order_delivered_customer_date",
)


@dataclass(frozen=True)
class _Item:
    """One order_items row: one unit of a product sold by ``seller_id``."""

    order_item_id: int
    product_id: str
    seller_id: str
    price: Decimal
    freight: Decimal


def _rows(directory: Path, name: str, columns: tuple[str, ...]) -> Iterator[tuple[str, dict[str, str]]]:
    """Yield ``(source, row dict)`` of one table, checking its header first."""
    path = directory / name
    if not path.is_file():
        raise ImportFormatError(str(path), "file not found")
    with open_text(path) as text:
        reader = csv.DictReader(text)
        header_check(reader.fieldnames, columns, f"{name} line 1")
        for row in reader:
            source = f"{name} line {reader.line_num}"
            if None in row or None in row.values():
                raise ImportFormatError(source, "wrong number of columns")
            yield source, row


def _timestamp(value: str, source: str, column: str, tz: zoneinfo.ZoneInfo) -> dt.datetime | None:
    """A naive ``YYYY-MM-DD HH:MM:SS`` read in São Paulo time; ``None`` when empty."""
    text = value.strip()
    if not text:
        return None
    try:
        naive = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ImportFormatError(source, f"{column} {value!r} is not YYYY-MM-DD HH:MM:SS") from None
    return naive.replace(tzinfo=tz)


def _items(directory: Path, wanted: set[str], known: set[str]) -> dict[str, list[_Item]]:
    """Items of the ``wanted`` orders; an item of an order missing from orders.csv is an error."""
    items: dict[str, list[_Item]] = defaultdict(list)
    columns = ("order_id", "order_item_id", "product_id", "seller_id", "price", "freight_value")
    for source, row in _rows(directory, ITEMS, columns):
        order_id = row["order_id"].strip()
        if order_id not in known:
            raise ImportFormatError(source, f"item of order {order_id!r}, which is not in {ORDERS}")
        if order_id not in wanted:
            continue
        items[order_id].append(
            _Item(
                order_item_id=parse_int(row["order_item_id"], source, "order_item_id", minimum=1),
                product_id=row["product_id"].strip(),
                seller_id=row["seller_id"].strip(),
                price=parse_money(row["price"], source, "price"),
                freight=parse_money(row["freight_value"], source, "freight_value"),
            )
        )
    return items


def _categories(directory: Path, product_ids: set[str]) -> tuple[dict[str, str | None], list[str]]:
    """English category slug of each product (``None`` without a category) and notes."""
    english = {
        row["product_category_name"].strip(): row["product_category_name_english"].strip()
        for _, row in _rows(directory, CATEGORIES, ("product_category_name", "product_category_name_english"))
    }
    found: dict[str, str | None] = {}
    untranslated: set[str] = set()
    for _, row in _rows(directory, PRODUCTS, ("product_id", "product_category_name")):
        product_id = row["product_id"].strip()
        if product_id in product_ids:
            name = row["product_category_name"].strip()
            if name and name not in english:
                untranslated.add(name)
            found[product_id] = english.get(name, name) or None
    notes = [f"{CATEGORIES}: no English name for {', '.join(sorted(untranslated))}; kept in Portuguese"]
    return found, notes if untranslated else []


def read_olist(path: Path, *, limit: int | None = None) -> ImportBatch:
    """Read the Olist directory ``path``: the first ``limit`` Olist orders in file order, or all.

    Raises :class:`ImportFormatError` naming file and line for anything that cannot be read: an
    unknown status, a bad timestamp or amount, an order without items, an item whose order,
    product or seller is unknown.
    """
    if not path.is_dir():
        raise ImportFormatError(str(path), "the olist format reads a directory of .csv.gz files")
    tz = zoneinfo.ZoneInfo(TIMEZONE)
    columns = ("order_id", "customer_id", "order_status", *TIMESTAMP_COLUMNS)
    known: set[str] = set()
    orders: list[tuple[str, dict[str, str]]] = []
    for source, row in _rows(path, ORDERS, columns):
        order_id = row["order_id"].strip()
        if not order_id or order_id in known:
            raise ImportFormatError(source, f"order_id {order_id!r} is empty or repeated")
        known.add(order_id)
        if limit is None or len(orders) < limit:
            orders.append((source, row))
    items = _items(path, {row["order_id"].strip() for _, row in orders}, known)
    identities = {
        row["customer_id"].strip(): row["customer_unique_id"].strip()
        for _, row in _rows(path, CUSTOMERS, ("customer_id", "customer_unique_id"))
    }
    sellers = {
        row["seller_id"].strip(): (row["seller_city"].strip(), row["seller_state"].strip())
        for _, row in _rows(path, SELLERS, ("seller_id", "seller_city", "seller_state"))
    }
    categories, notes = _categories(path, {item.product_id for lines in items.values() for item in lines})

    shops: dict[str, ShopSpec] = {}
    events: list[ImportEvent] = []
    parts = corrected = unknown_identity = 0
    for number, (source, row) in enumerate(orders):
        order_id = row["order_id"].strip()
        status = row["order_status"].strip()
        if status not in STATUS_MAP:
            raise ImportFormatError(source, f"unknown order_status {status!r}")
        stamps = {column: _timestamp(row[column], source, column, tz) for column in TIMESTAMP_COLUMNS}
        placed_at = stamps["order_purchase_timestamp"]
        if placed_at is None:
            raise ImportFormatError(source, "order_purchase_timestamp is empty")
        then, column = STATUS_MAP[status]
        if then == OrderStatus.DELIVERED and stamps["order_delivered_customer_date"] is None:
            then, column = OrderStatus.SHIPPED, "order_delivered_carrier_date"
        if then is None:
            later = None
        elif column is None:  # cancellation: Olist keeps no date for it; the last thing known
            later = max(stamp for stamp in stamps.values() if stamp is not None)
        else:
            later = stamps[column]
            if later is None or later < placed_at:
                corrected += 1
                later = placed_at
        order_items = sorted(items.get(order_id, ()), key=lambda item: item.order_item_id)
        if not order_items:
            raise ImportFormatError(source, f"order {order_id} has no items in {ITEMS}")
        raw_customer = row["customer_id"].strip()
        identity = identities.get(raw_customer)
        if identity is None:
            unknown_identity += 1
            identity = raw_customer
        customer = CustomerInput(external_id=f"olist:{identity}", display_name=f"Olist customer {identity[:8]}")
        by_seller: dict[str, list[_Item]] = {}
        for item in order_items:
            by_seller.setdefault(item.seller_id, []).append(item)
        for seller_rank, (seller_id, seller_items) in enumerate(by_seller.items()):
            if seller_id not in sellers:
                raise ImportFormatError(source, f"seller {seller_id!r} of order {order_id} is not in {SELLERS}")
            if seller_id not in shops:
                city, state = sellers[seller_id]
                shops[seller_id] = ShopSpec(
                    external_id=seller_id,
                    name=f"Seller {seller_id[:8]} ({city}/{state})",
                    slug=f"olist-{seller_id[:12]}",
                    currency="BRL",
                    timezone=TIMEZONE,
                    return_window_days=7,
                    program=PROGRAM,
                )
            for item in seller_items:
                if item.product_id not in categories:
                    raise ImportFormatError(source, f"product {item.product_id!r} is not in {PRODUCTS}")
            lines = tuple(
                OrderLineInput(
                    quantity=1,
                    unit_price=item.price,
                    description=(categories[item.product_id] or "item").replace("_", " "),
                    category_slug=categories[item.product_id],
                    product_external_id=item.product_id,
                )
                for item in seller_items
            )
            shipping = sum((item.freight for item in seller_items), Decimal("0"))
            parts += 1
            events.append(
                ImportEvent(
                    shop_external_id=seller_id,
                    order_external_id=order_id,
                    customer=customer,
                    status=OrderStatus.PLACED,
                    occurred_at=placed_at,
                    lines=lines,
                    shipping_amount=shipping,
                    position=(number, seller_rank, 0),
                    source=source,
                )
            )
            if then is not None and later is not None:  # ``later`` is known whenever ``then`` is
                events.append(
                    ImportEvent(
                        shop_external_id=seller_id,
                        order_external_id=order_id,
                        customer=customer,
                        status=then,
                        occurred_at=later,
                        lines=(),
                        shipping_amount=Decimal("0"),
                        position=(number, seller_rank, 1),
                        source=source,
                    )
                )
    if corrected:
        notes.append(f"{ORDERS}: {corrected} status changes without a usable date were dated at the purchase")
    if unknown_identity:
        notes.append(
            f"{CUSTOMERS}: {unknown_identity} orders' customers have no customer_unique_id; "
            "their customer_id is their identity"
        )
    return ImportBatch(format="olist", shops=shops, events=events, orders=parts, notes=notes)
