"""What every order-history reader produces, and the parsing helpers they share.

Money is ``Decimal`` in the shop's currency (at most two decimals), never a float; times are
aware datetimes. A reader validates its whole source before the replay writes anything, so a
malformed file changes nothing.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO, TypeVar

from loyalty.models import TierBasis, TierWindow
from marketplace.services.orders import CustomerInput, OrderLineInput

GZIP_MAGIC = b"\x1f\x8b"


class ImportFormatError(ValueError):
    """A source row that cannot be read; the message names the file and the line."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message


@dataclass(frozen=True)
class ProgramSpec:
    """The loyalty program an importer creates for a new shop (tiers Bronze..Platinum).

    ``thresholds`` are the four tier thresholds in the program's basis (currency units for a
    spend basis); ``points_per_currency_unit`` is the earning rate.
    """

    name: str
    thresholds: tuple[int, int, int, int]
    points_per_currency_unit: Decimal = Decimal("1")
    tier_basis: str = TierBasis.SPEND
    tier_window: str = TierWindow.LIFETIME


@dataclass(frozen=True)
class ShopSpec:
    """A shop to find by ``external_id`` or create (with ``program`` when it has none)."""

    external_id: str
    name: str
    slug: str
    currency: str
    timezone: str
    return_window_days: int
    program: ProgramSpec


@dataclass(frozen=True)
class ImportEvent:
    """One order status change read from a source, ready to become an ``OrderEventInput``.

    ``lines`` are given on the order's first event and left out afterwards; ``shipping_amount``
    (Decimal, shop currency) never earns. ``position`` is the event's place in the file (used to
    break ties between events at the same time) and ``source`` names the file and line.
    """

    shop_external_id: str
    order_external_id: str
    status: str
    occurred_at: dt.datetime
    customer: CustomerInput
    lines: tuple[OrderLineInput, ...]
    shipping_amount: Decimal
    position: tuple[int, ...]
    source: str

    def sort_key(self) -> tuple[dt.datetime, tuple[int, ...]]:
        """Replay order: event time, then file order (so the replay is deterministic)."""
        return self.occurred_at, self.position

    def idempotency_key(self, fmt: str) -> str:
        """Deterministic key, so that importing the same file again changes nothing."""
        return f"import:{fmt}:{self.shop_external_id}:{self.order_external_id}:{self.status}"


@dataclass
class ImportBatch:
    """Everything read from one source: shops by external id, events, and data notes.

    ``orders`` counts the orders read (an Olist order split between sellers counts once per
    seller, as Patron stores it). ``notes`` are remarks on the data worth telling the operator
    (e.g. a timestamp corrected), never silently skipped rows.
    """

    format: str
    shops: dict[str, ShopSpec]
    events: list[ImportEvent]
    orders: int
    notes: list[str] = field(default_factory=list)


@contextmanager
def open_text(path: Path) -> Iterator[TextIO]:
    """Open a CSV file for the ``csv`` module, gunzipping it when it is gzip (by magic number).

    UTF-8 with an optional byte-order mark (Olist's translation table starts with one).
    """
    with open(path, "rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        binary = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        with io.TextIOWrapper(binary, encoding="utf-8-sig", newline="") as text:
            yield text


def parse_money(value: str, source: str, column: str) -> Decimal:
    """A money amount: a plain decimal >= 0 with at most two decimals (never a float)."""
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        raise ImportFormatError(source, f"{column} {value!r} is not a decimal amount") from None
    if not amount.is_finite() or amount < 0:
        raise ImportFormatError(source, f"{column} {value!r} must be zero or more")
    if amount != amount.quantize(Decimal("0.01")):
        raise ImportFormatError(source, f"{column} {value!r} has more than two decimals")
    return amount.quantize(Decimal("0.01"))


def parse_int(value: str, source: str, column: str, *, minimum: int) -> int:
    """A whole number of at least ``minimum``."""
    text = value.strip()
    if not re.fullmatch(r"[0-9]{1,9}", text) or int(text) < minimum:
        raise ImportFormatError(source, f"{column} {value!r} must be a whole number >= {minimum}")
    return int(text)


_Header = TypeVar("_Header", bound=Sequence[str])


def header_check(header: _Header | None, expected: tuple[str, ...], source: str) -> _Header:
    """Refuse a file whose header is missing or lacks one of the ``expected`` columns; else return it."""
    if header is None:
        raise ImportFormatError(source, "the file is empty (no header)")
    missing = [name for name in expected if name not in header]
    if missing:
        raise ImportFormatError(source, f"missing column(s) {', '.join(missing)}; header is {','.join(header)}")
    return header
