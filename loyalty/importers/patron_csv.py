"""Reader of Patron's own order-event CSV, for a shop that brings its order history.

One row per order line per event; the rows of one event share shop, ``order_id``, ``status``
and ``occurred_at``. The exact format, with an example, is in docs/importing.md; the bundled
``samples/orders_example.csv`` follows it. The whole file is validated before anything is
written: the first bad row raises :class:`ImportFormatError` with its line number.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.text import slugify

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
from marketplace.services.orders import MAX_QUANTITY, CustomerInput, OrderLineInput

COLUMNS = (
    "shop_external_id",
    "shop_name",
    "currency",
    "timezone",
    "order_id",
    "customer_external_id",
    "customer_name",
    "customer_email",
    "status",
    "occurred_at",
    "line_no",
    "quantity",
    "unit_price",
    "category",
    "shipping_amount",
)
#: The program a shop gets when the import creates it (docs/importing.md, "New shops").
DEFAULT_PROGRAM_THRESHOLDS = (0, 100, 250, 500)
DEFAULT_RETURN_WINDOW_DAYS = 14
_CURRENCY = re.compile(r"[A-Z]{3}")
_SLUG = re.compile(r"[-a-z0-9_]{1,120}")
_LINE_COLUMNS = ("line_no", "quantity", "unit_price")


@dataclass
class _Event:
    """Rows of one event gathered so far (``lines`` by line number)."""

    shop: str
    order_id: str
    status: str
    occurred_at: dt.datetime
    customer: CustomerInput
    shipping: Decimal
    source: str
    position: int
    status_only: bool = False
    lines: dict[int, OrderLineInput] = field(default_factory=dict)


def _shop_spec(row: dict[str, str], source: str, zones: set[str]) -> ShopSpec:
    """The shop a row names, with the default program for when it has to be created."""
    external_id = row["shop_external_id"].strip()
    name = row["shop_name"].strip()
    currency = row["currency"].strip()
    timezone = row["timezone"].strip()
    if not external_id or len(external_id) > 100:
        raise ImportFormatError(source, "shop_external_id must be 1 to 100 characters")
    if not name or len(name) > 200:
        raise ImportFormatError(source, "shop_name must be 1 to 200 characters")
    if not _CURRENCY.fullmatch(currency):
        raise ImportFormatError(source, f"currency {currency!r} is not an ISO 4217 code (three capitals)")
    if timezone not in zones:
        raise ImportFormatError(source, f"timezone {timezone!r} is not an IANA time zone")
    return ShopSpec(
        external_id=external_id,
        name=name,
        slug=(slugify(external_id) or "shop")[:80],
        currency=currency,
        timezone=timezone,
        return_window_days=DEFAULT_RETURN_WINDOW_DAYS,
        program=ProgramSpec(
            name=f"{name} Rewards",
            thresholds=DEFAULT_PROGRAM_THRESHOLDS,
            points_per_currency_unit=Decimal("1"),
            tier_basis=TierBasis.SPEND,
            tier_window=TierWindow.LIFETIME,
        ),
    )


def _occurred_at(value: str, source: str) -> dt.datetime:
    """ISO 8601 date and time with a UTC offset (``2025-03-01T10:00:00+01:00`` or ``...Z``)."""
    try:
        at = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ImportFormatError(source, f"occurred_at {value!r} is not an ISO 8601 date and time") from None
    if at.tzinfo is None:  # a date alone or a time without offset parses naive
        raise ImportFormatError(source, f"occurred_at {value!r} needs a time and a UTC offset")
    return at


def _customer(row: dict[str, str], source: str) -> CustomerInput:
    """The buying customer: ``customer_external_id`` is their identity across the marketplace."""
    external_id = row["customer_external_id"].strip()
    if not external_id or len(external_id) > 100:
        raise ImportFormatError(source, "customer_external_id must be 1 to 100 characters")
    email = row["customer_email"].strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ImportFormatError(source, f"customer_email {email!r} is not an e-mail address") from None
    return CustomerInput(external_id=external_id, display_name=row["customer_name"].strip()[:200], email=email)


def _line(row: dict[str, str], source: str) -> tuple[int, OrderLineInput] | None:
    """``(line_no, line)`` of a row, or ``None`` for a status-only row (all three line cells empty)."""
    given = [bool(row[column].strip()) for column in _LINE_COLUMNS]
    if not any(given):
        return None
    if not all(given):
        raise ImportFormatError(source, "line_no, quantity and unit_price are given together or not at all")
    category = row["category"].strip()
    if category and not _SLUG.fullmatch(category):
        raise ImportFormatError(source, f"category {category!r} must be a slug (a-z, 0-9, - and _)")
    line_no = parse_int(row["line_no"], source, "line_no", minimum=1)
    quantity = parse_int(row["quantity"], source, "quantity", minimum=1)
    if quantity > MAX_QUANTITY:
        raise ImportFormatError(source, f"quantity above {MAX_QUANTITY}")
    line = OrderLineInput(
        quantity=quantity,
        unit_price=parse_money(row["unit_price"], source, "unit_price"),
        description=category.replace("_", " ").replace("-", " "),
        category_slug=category or None,
    )
    return line_no, line


def _add_row(events: dict[tuple, _Event], row: dict[str, str], source: str, shop: str) -> None:
    """Fold one row into its event (creating it), checking it agrees with the event's other rows."""
    order_id = row["order_id"].strip()
    if not order_id or len(order_id) > 120:
        raise ImportFormatError(source, "order_id must be 1 to 120 characters")
    status = row["status"].strip()
    if status not in OrderStatus.values:
        raise ImportFormatError(source, f"status {status!r} is not one of {', '.join(OrderStatus.values)}")
    occurred_at = _occurred_at(row["occurred_at"], source)
    customer = _customer(row, source)
    shipping = parse_money(row["shipping_amount"] or "0", source, "shipping_amount")
    line = _line(row, source)
    key = (shop, order_id, status)
    event = events.get(key)
    if event is None:
        event = events[key] = _Event(
            shop=shop,
            order_id=order_id,
            status=status,
            occurred_at=occurred_at,
            customer=customer,
            shipping=shipping,
            source=source,
            position=len(events),
        )
    elif event.occurred_at != occurred_at:
        raise ImportFormatError(
            source, f"order {order_id} is {status} twice ({event.source}); an order takes each status once"
        )
    elif event.customer.external_id != customer.external_id or event.shipping != shipping:
        raise ImportFormatError(
            source, f"customer or shipping_amount differ from the event's first row ({event.source})"
        )
    if line is None:
        if event.lines:
            raise ImportFormatError(source, "a status-only row in an event that has lines")
        event.status_only = True
        return
    if event.status_only:
        raise ImportFormatError(source, "a line in an event given as a status-only row")
    number, order_line = line
    if number in event.lines:
        raise ImportFormatError(source, f"line_no {number} given twice for this event")
    event.lines[number] = order_line


def read_patron_csv(path: Path, *, limit: int | None = None) -> ImportBatch:
    """Read a Patron order-event CSV: the first ``limit`` orders (by first row) or all.

    Raises :class:`ImportFormatError` with the line number of the first row that is malformed or
    contradicts an earlier row; nothing has been written at that point.
    """
    zones = zoneinfo.available_timezones()
    name = path.name
    shops: dict[str, ShopSpec] = {}
    shop_lines: dict[str, str] = {}
    events: dict[tuple, _Event] = {}
    orders: set[tuple[str, str]] = set()
    with open_text(path) as text:
        reader = csv.DictReader(text)
        header_check(reader.fieldnames, COLUMNS, f"{name} line 1")
        extra = [column for column in reader.fieldnames or () if column not in COLUMNS]
        if extra:
            raise ImportFormatError(f"{name} line 1", f"unknown column(s) {', '.join(extra)}")
        for row in reader:
            source = f"{name} line {reader.line_num}"
            if None in row or None in row.values():
                raise ImportFormatError(source, f"expected {len(COLUMNS)} columns")
            order = (row["shop_external_id"].strip(), row["order_id"].strip())
            if order not in orders:
                if limit is not None and len(orders) >= limit:
                    continue  # beyond the first ``limit`` orders; their later rows are skipped too
                orders.add(order)
            spec = _shop_spec(row, source, zones)
            known = shops.get(spec.external_id)
            if known is None:
                shops[spec.external_id], shop_lines[spec.external_id] = spec, source
            elif (known.name, known.currency, known.timezone) != (spec.name, spec.currency, spec.timezone):
                raise ImportFormatError(
                    source,
                    f"shop {spec.external_id} has another name, currency or time zone than on "
                    f"{shop_lines[known.external_id]}",
                )
            _add_row(events, row, source, spec.external_id)
    return _batch(name, shops, events, len(orders))


def _batch(name: str, shops: dict[str, ShopSpec], gathered: dict[tuple, _Event], orders: int) -> ImportBatch:
    """Turn gathered events into the batch; each order's first event must carry its lines."""
    events: list[ImportEvent] = []
    for event in gathered.values():
        numbers = sorted(event.lines)
        if numbers and numbers != list(range(1, len(numbers) + 1)):
            raise ImportFormatError(event.source, f"line_no of order {event.order_id} must run 1, 2, ... without gaps")
        events.append(
            ImportEvent(
                shop_external_id=event.shop,
                order_external_id=event.order_id,
                status=event.status,
                occurred_at=event.occurred_at,
                customer=event.customer,
                lines=tuple(event.lines[number] for number in numbers),
                shipping_amount=event.shipping,
                position=(event.position,),
                source=event.source,
            )
        )
    first: dict[tuple[str, str], ImportEvent] = {}
    for imported in sorted(events, key=ImportEvent.sort_key):
        first.setdefault((imported.shop_external_id, imported.order_external_id), imported)
    for opening in first.values():
        if not opening.lines:
            raise ImportFormatError(
                opening.source,
                f"the first event of order {opening.order_external_id} ({opening.status}) needs its lines",
            )
    shop_ids = {event.shop_external_id for event in events}
    return ImportBatch(
        format="csv", shops={key: spec for key, spec in shops.items() if key in shop_ids}, events=events, orders=orders
    )
