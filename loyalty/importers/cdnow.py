"""Reader of the CDNOW purchase history (Fader & Hardie): one retailer, one delivered order per row.

File: ``customer_id,date,number_of_cds,dollar_value`` (gzip or plain CSV). Every row is its own
order, delivered at noon New York time on its day; its one line is the whole amount
(``dollar_value``, USD) as quantity 1, described as "N CDs". Rows of one customer and day are
told apart by their rank that day in file order: order ``<customer_id>-<date>-<n>``.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import zoneinfo
from collections import Counter
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

COLUMNS = ("customer_id", "date", "number_of_cds", "dollar_value")
SHOP_EXTERNAL_ID = "cdnow"
TIMEZONE = "America/New_York"
SHOP = ShopSpec(
    external_id=SHOP_EXTERNAL_ID,
    name="CDNOW",
    slug="cdnow",
    currency="USD",
    timezone=TIMEZONE,
    return_window_days=14,
    program=ProgramSpec(
        name="CDNOW Rewards",
        thresholds=(0, 100, 250, 500),
        points_per_currency_unit=Decimal("1"),
        tier_basis=TierBasis.SPEND,
        tier_window=TierWindow.LIFETIME,
    ),
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CUSTOMER_ID = re.compile(r"[0-9A-Za-z_-]{1,60}")


def read_cdnow(path: Path, *, limit: int | None = None) -> ImportBatch:
    """Read the CDNOW file at ``path``: the first ``limit`` rows (orders) in file order, or all.

    Raises :class:`ImportFormatError` with the line of the first row that cannot be read; no row
    is skipped (a 0.00 row is an order too: it is recorded and earns nothing).
    """
    tz = zoneinfo.ZoneInfo(TIMEZONE)
    name = path.name
    events: list[ImportEvent] = []
    rank: Counter[tuple[str, str]] = Counter()
    noons: dict[str, dt.datetime] = {}  # one datetime per day: 54k rows share ~550 days
    customers: dict[str, CustomerInput] = {}
    zero = 0
    with open_text(path) as text:
        reader = csv.reader(text)
        header = header_check(next(reader, None), COLUMNS, f"{name} line 1")
        index = {column: header.index(column) for column in COLUMNS}
        for row in reader:
            if not row:  # a blank line holds no data (e.g. a trailing newline)
                continue
            if limit is not None and len(events) >= limit:
                break
            source = f"{name} line {reader.line_num}"
            if len(row) != len(header):
                raise ImportFormatError(source, f"expected {len(header)} columns, found {len(row)}")
            customer_id = row[index["customer_id"]].strip()
            day = row[index["date"]].strip()
            if not _CUSTOMER_ID.fullmatch(customer_id):
                raise ImportFormatError(source, f"customer_id {customer_id!r} is not an id")
            cds = parse_int(row[index["number_of_cds"]], source, "number_of_cds", minimum=0)
            amount = parse_money(row[index["dollar_value"]], source, "dollar_value")
            at = noons.get(day)
            if at is None:
                if not _DATE.fullmatch(day):
                    raise ImportFormatError(source, f"date {day!r} is not YYYY-MM-DD")
                try:
                    at = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(12), tzinfo=tz)
                except ValueError:
                    raise ImportFormatError(source, f"date {day!r} is not a calendar day") from None
                noons[day] = at
            rank[(customer_id, day)] += 1
            customer = customers.get(customer_id)
            if customer is None:
                customer = CustomerInput(external_id=customer_id, display_name=f"CDNOW customer {customer_id}")
                customers[customer_id] = customer
            zero += amount == 0
            events.append(
                ImportEvent(
                    shop_external_id=SHOP_EXTERNAL_ID,
                    order_external_id=f"{customer_id}-{day}-{rank[(customer_id, day)]}",
                    status=OrderStatus.DELIVERED,
                    occurred_at=at,
                    customer=customer,
                    # The file gives the order's total, not unit prices: one line for the whole
                    # amount keeps the money exact; the CD count goes into the description.
                    lines=(OrderLineInput(quantity=1, unit_price=amount, description=f"{cds} CDs"),),
                    shipping_amount=Decimal("0"),
                    position=(len(events),),
                    source=source,
                )
            )
    notes = []
    if zero:
        notes.append(f"{name}: {zero} orders of 0.00 USD are recorded and earn nothing")
    same_day = sum(1 for count in rank.values() if count > 1)
    if same_day:
        notes.append(f"{name}: {same_day} customer-days hold several orders (numbered -1, -2, ... in file order)")
    return ImportBatch(format="cdnow", shops={SHOP.external_id: SHOP}, events=events, orders=len(events), notes=notes)
