"""Recording orders and their status changes, with an outbox row in the same transaction.

``order_event_record`` is the only way an order is created or changes status: the GraphQL
mutation ``orderEventRecord``, the importer and (later) integrations all call it. It validates
everything before it writes, so a refused event changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Protocol

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from marketplace.errors import OrderError, OrderErrorCode
from marketplace.models import (
    MONEY_PLACES,
    Category,
    Customer,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Product,
    Shop,
)
from marketplace.money import decimal_places
from marketplace.permissions import Capability, has_capability
from marketplace.signals import order_event_committed
from marketplace.validation import NUL, text_problem

#: Largest accepted unit price and order total, in the shop's currency. Anything above is a
#: typo or an attack, not a sale; the column could hold more.
MAX_AMOUNT = Decimal("10000000")
MAX_QUANTITY = 100_000
MAX_LINES = 500
#: Earliest accepted ``occurredAt`` (UTC). Historical replays reach back to 1997 (CDNOW); the
#: worker's window maths (calendar years and rolling 12 months in the shop's zone, pending and
#: expiry periods) stays far inside Python's date range for any event from here to now.
EARLIEST_OCCURRED_AT = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: How far in the future ``occurredAt`` may be (clock skew between the shop's system and ours).
FUTURE_TOLERANCE = dt.timedelta(minutes=5)

#: Status an order may move to from each status. An order is created in any status but the
#: return/refund ones; it may skip forward (an integration may only report delivery), be
#: cancelled before delivery, and be returned or refunded after delivery: partially (line by
#: line, any number of times), then in full (``returned`` / ``refunded``: everything still
#: unreturned). A partial return that leaves nothing unreturned moves the order to RETURNED.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    OrderStatus.PLACED: {OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED},
    OrderStatus.PAID: {OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED},
    OrderStatus.SHIPPED: {OrderStatus.DELIVERED, OrderStatus.CANCELLED},
    OrderStatus.DELIVERED: {OrderStatus.PARTIALLY_RETURNED, OrderStatus.RETURNED, OrderStatus.REFUNDED},
    OrderStatus.PARTIALLY_RETURNED: {OrderStatus.PARTIALLY_RETURNED, OrderStatus.RETURNED, OrderStatus.REFUNDED},
    OrderStatus.CANCELLED: set(),
    OrderStatus.RETURNED: {OrderStatus.REFUNDED},
    OrderStatus.REFUNDED: set(),
}
#: Statuses that return goods: a partial return names its lines; a full one (RETURNED,
#: REFUNDED) returns everything still unreturned, and may name those lines (then all of them).
RETURN_STATUSES = frozenset({OrderStatus.PARTIALLY_RETURNED, OrderStatus.RETURNED, OrderStatus.REFUNDED})
FULL_RETURN_STATUSES = frozenset({OrderStatus.RETURNED, OrderStatus.REFUNDED})
#: Every status (``OrderStatus.values`` builds a new list on each read).
ORDER_STATUSES = frozenset(OrderStatus.values)
INITIAL_STATUSES = {
    OrderStatus.PLACED,
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.CANCELLED,
}


@dataclass(frozen=True)
class OrderLineInput:
    """One order line as received: ``unit_price`` in the shop's currency."""

    quantity: int
    unit_price: Decimal
    description: str = ""
    category_slug: str | None = None
    product_external_id: str | None = None


@dataclass(frozen=True)
class ReturnedLineInput:
    """Units of one order line returned by one event: ``line_no`` counts from 1."""

    line_no: int
    quantity: int


@dataclass(frozen=True)
class CustomerInput:
    """Who bought: ``external_id`` identifies the customer across the marketplace."""

    external_id: str
    display_name: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class OrderEventInput:
    """An order status change as received from staff, an integration or an importer.

    ``lines`` are required when the order is first recorded and may be left out afterwards (if
    given again they must be the same). ``shipping_amount`` never earns points.
    ``points_paid_amount`` (0 to the goods amount) is the part of the goods paid with points or
    a reward's discount; it earns nothing and is fixed when the order is first recorded.
    ``returned_lines`` are the units returned by THIS event: required for a partial return,
    optional for a full one (then they must be everything still unreturned).
    """

    shop_id: int
    order_external_id: str
    status: str
    currency: str
    occurred_at: dt.datetime
    customer: CustomerInput | None = None
    lines: tuple[OrderLineInput, ...] = field(default_factory=tuple)
    shipping_amount: Decimal = Decimal("0")
    points_paid_amount: Decimal = Decimal("0")
    returned_lines: tuple[ReturnedLineInput, ...] = field(default_factory=tuple)

    def fingerprint(self) -> str:
        """SHA-256 of the normalised input, to tell a replay from a reused key.

        ``points_paid_amount`` and ``returned_lines`` count only when given (not zero / empty),
        so events recorded before they existed keep their fingerprints.
        """
        # ``asdict`` without its deep copies (a third of an import's time): the same dict.
        data = _fields_of(self)
        data["customer"] = _fields_of(self.customer) if self.customer is not None else None
        data["lines"] = tuple(_fields_of(line) for line in self.lines)
        data["returned_lines"] = tuple(_fields_of(line) for line in self.returned_lines)
        if not data["returned_lines"]:
            del data["returned_lines"]
        if self.points_paid_amount == 0:
            del data["points_paid_amount"]
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _fields_of(instance: object) -> dict[str, object]:
    """A dataclass's fields by name, not recursing (``asdict`` for one without nested dataclasses)."""
    names = _FIELD_NAMES.get(type(instance))
    if names is None:
        names = _FIELD_NAMES[type(instance)] = tuple(f.name for f in fields(instance))  # type: ignore[arg-type]
    return {name: getattr(instance, name) for name in names}


@dataclass(frozen=True)
class OrderEventResult:
    """What ``order_event_record`` did: ``replayed`` is true when the key was seen before."""

    order: Order
    event: OrderEvent
    replayed: bool


def _money(value: Decimal, field_name: str) -> Decimal:
    """Validate a money amount: finite, >= 0, at most two decimals, below ``MAX_AMOUNT``."""
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise OrderError(OrderErrorCode.INVALID_AMOUNT, "Not a decimal amount.", field_name) from exc
    if not value.is_finite() or value < 0:
        raise OrderError(OrderErrorCode.INVALID_AMOUNT, "Amounts must be zero or more.", field_name)
    if value > MAX_AMOUNT:
        raise OrderError(OrderErrorCode.INVALID_AMOUNT, f"Amounts above {MAX_AMOUNT} are refused.", field_name)
    if decimal_places(value) > MONEY_PLACES and value != value.quantize(Decimal(1).scaleb(-MONEY_PLACES)):
        raise OrderError(OrderErrorCode.INVALID_AMOUNT, f"At most {MONEY_PLACES} decimal places.", field_name)
    return value.quantize(Decimal(1).scaleb(-MONEY_PLACES))


#: The customer's texts stored as given: (camelCase input name, ``Customer`` column).
_CUSTOMER_TEXTS = (
    ("externalId", "external_id"),
    ("displayName", "display_name"),
    ("email", "email"),
    ("phone", "phone"),
)


def _validate_texts(data: OrderEventInput) -> None:
    """Refuse (INVALID_INPUT, with the input's path) a text its column cannot hold or holding NUL.

    Line descriptions and category slugs are cut to their columns when stored, as before; the
    order id, the customer's fields and product ids are stored as given, so they are checked.
    """
    texts: list[tuple[str, str, type[models.Model], str]] = [
        ("orderId", data.order_external_id, Order, "external_id"),
        ("currency", data.currency, Order, "currency"),
    ]
    if data.customer is not None:
        texts += [
            (f"customer.{name}", getattr(data.customer, column), Customer, column) for name, column in _CUSTOMER_TEXTS
        ]
    for index, line in enumerate(data.lines):
        if line.product_external_id:
            texts.append((f"lines.{index}.productId", line.product_external_id, Product, "external_id"))
        if line.category_slug and NUL in line.category_slug:
            texts.append((f"lines.{index}.categorySlug", line.category_slug, Category, "slug"))
        if NUL in line.description:
            texts.append((f"lines.{index}.description", line.description, OrderLine, "description"))
    for path, value, model, column in texts:
        problem = text_problem(value or "", model=model, column=column)
        if problem is not None:
            raise OrderError(OrderErrorCode.INVALID_INPUT, problem, path)


def order_input_validate(data: OrderEventInput, shop: Shop) -> tuple[Decimal, Decimal, Decimal]:
    """Check the input against the shop; return (goods, shipping, points-paid amount). Writes nothing.

    Returned lines are checked here for their form (numbers, quantities, duplicates); against
    the order (lines exist, units left to return) by ``_returns_resolve`` under the order lock.
    Raises :class:`OrderError` with a code. Reads only ``shop`` (the set-based importer runs it
    on events it replays in memory).
    """
    if data.currency != shop.currency:
        raise OrderError(
            OrderErrorCode.CURRENCY_MISMATCH, f"The shop trades in {shop.currency}, not {data.currency}.", "currency"
        )
    if data.status not in ORDER_STATUSES:
        raise OrderError(OrderErrorCode.INVALID_INPUT, f"Unknown status {data.status!r}.", "status")
    if not data.order_external_id or len(data.order_external_id) > 120:
        raise OrderError(OrderErrorCode.INVALID_INPUT, "An order id of 1 to 120 characters is required.", "orderId")
    _validate_occurred_at(data.occurred_at, shop)
    _validate_texts(data)
    if len(data.lines) > MAX_LINES:
        raise OrderError(OrderErrorCode.TOO_MANY_LINES, f"At most {MAX_LINES} lines per order.", "lines")
    goods = Decimal("0")
    for index, line in enumerate(data.lines):
        if not isinstance(line.quantity, int) or not 1 <= line.quantity <= MAX_QUANTITY:
            raise OrderError(
                OrderErrorCode.INVALID_QUANTITY, f"Quantity must be 1 to {MAX_QUANTITY}.", f"lines.{index}.quantity"
            )
        goods += _money(line.unit_price, f"lines.{index}.unitPrice") * line.quantity
    if goods > MAX_AMOUNT:
        raise OrderError(OrderErrorCode.INVALID_AMOUNT, f"Order totals above {MAX_AMOUNT} are refused.", "lines")
    shipping = _money(data.shipping_amount, "shippingAmount")
    points_paid = _money(data.points_paid_amount, "pointsPaidAmount")
    if data.lines and points_paid > goods:
        raise OrderError(
            OrderErrorCode.INVALID_AMOUNT, "pointsPaidAmount cannot exceed the goods amount.", "pointsPaidAmount"
        )
    _validate_returned_lines(data)
    return goods, shipping, points_paid


def _validate_occurred_at(occurred_at: dt.datetime, shop: Shop) -> None:
    """Refuse an ``occurredAt`` the worker could not process (``INVALID_INPUT`` on ``occurredAt``).

    Aware, from ``EARLIEST_OCCURRED_AT`` (1970-01-01 UTC) to now + ``FUTURE_TOLERANCE``: the
    worker reads the event's local date in the shop's zone for tier windows (a calendar year or
    the 12 months before it), earning rules and pending/expiry periods, all of which stay inside
    Python's date range within these bounds (issue 13: ``0001-01-01T00:00:00Z`` in
    America/New_York was accepted, then raised ``OverflowError`` in the worker for ever).
    Converted to UTC first (an overflow there is a refusal too), so the check cannot overflow.
    ``shop`` is the event's shop (its zone is the one the worker uses).
    """
    if not isinstance(occurred_at, dt.datetime) or occurred_at.utcoffset() is None:
        raise OrderError(OrderErrorCode.INVALID_INPUT, "occurredAt needs a time zone.", "occurredAt")
    try:
        utc = occurred_at.astimezone(dt.UTC)
        utc.astimezone(zoneinfo.ZoneInfo(shop.timezone))
    except (OverflowError, ValueError) as exc:
        raise OrderError(OrderErrorCode.INVALID_INPUT, "occurredAt is out of range.", "occurredAt") from exc
    if utc < EARLIEST_OCCURRED_AT:
        raise OrderError(
            OrderErrorCode.INVALID_INPUT, f"occurredAt must be {EARLIEST_OCCURRED_AT.date()} or later.", "occurredAt"
        )
    if utc > timezone.now() + FUTURE_TOLERANCE:
        raise OrderError(OrderErrorCode.INVALID_INPUT, "occurredAt is in the future.", "occurredAt")


def _validate_returned_lines(data: OrderEventInput) -> None:
    """The form of ``data.returned_lines``: only on a return, line numbers >= 1, no duplicates, quantity >= 1."""
    if not data.returned_lines:
        return
    if data.status not in RETURN_STATUSES:
        raise OrderError(OrderErrorCode.INVALID_INPUT, "Returned lines come only with a return.", "returnedLines")
    if len(data.returned_lines) > MAX_LINES:
        raise OrderError(OrderErrorCode.TOO_MANY_LINES, f"At most {MAX_LINES} returned lines.", "returnedLines")
    seen: set[int] = set()
    for index, line in enumerate(data.returned_lines):
        if not isinstance(line.line_no, int) or line.line_no < 1:
            raise OrderError(
                OrderErrorCode.RETURN_LINE_NOT_FOUND, "Line numbers start at 1.", f"returnedLines.{index}.lineNo"
            )
        if line.line_no in seen:
            raise OrderError(
                OrderErrorCode.RETURN_LINE_DUPLICATE,
                f"Line {line.line_no} is named twice.",
                f"returnedLines.{index}.lineNo",
            )
        seen.add(line.line_no)
        if not isinstance(line.quantity, int) or not 1 <= line.quantity <= MAX_QUANTITY:
            raise OrderError(
                OrderErrorCode.INVALID_QUANTITY,
                f"A returned quantity must be 1 to {MAX_QUANTITY}.",
                f"returnedLines.{index}.quantity",
            )


def _customer_get_or_create(data: CustomerInput) -> Customer:
    """Find the customer by ``external_id`` or create it (safe against a concurrent create)."""
    customer = Customer.objects.filter(external_id=data.external_id).first()
    if customer is not None:
        return customer
    try:
        with transaction.atomic():
            return Customer.objects.create(
                external_id=data.external_id,
                display_name=data.display_name,
                email=data.email,
                phone=data.phone,
            )
    except IntegrityError:
        return Customer.objects.get(external_id=data.external_id)


def _lines_create(order: Order, lines: tuple[OrderLineInput, ...]) -> None:
    """Write the order's lines, creating categories and products they name."""
    rows = []
    for number, line in enumerate(lines, start=1):
        category = None
        if line.category_slug:
            category, _ = Category.objects.get_or_create(
                slug=line.category_slug[:120], defaults={"name": line.category_slug.replace("_", " ")[:200]}
            )
        product = None
        if line.product_external_id:
            product, _ = Product.objects.get_or_create(
                shop_id=order.shop_id, external_id=line.product_external_id, defaults={"category": category}
            )
        rows.append(
            OrderLine(
                order=order,
                line_no=number,
                product=product,
                category=category,
                description=line.description[:200],
                quantity=line.quantity,
                unit_price=_money(line.unit_price, "lines"),
            )
        )
    OrderLine.objects.bulk_create(rows)


def order_event_record(
    *,
    data: OrderEventInput,
    idempotency_key: str,
    actor: AbstractBaseUser | AnonymousUser | None,
    notify: bool = True,
) -> OrderEventResult:
    """Create or move an order to ``data.status`` and write its outbox event, atomically.

    ``actor`` is the calling user, who must hold ``Capability.RECORD_ORDERS`` in the shop (owner
    or manager; ``NOT_AUTHENTICATED`` when anonymous, ``PERMISSION_DENIED`` otherwise); ``None``
    means a trusted system caller (the importer). With ``notify`` the ``order_event_committed`` signal is sent
    after commit (loyalty then queues the worker); the importer processes events itself and
    passes ``notify=False``.

    Idempotent: a replay of ``idempotency_key`` with the same input returns the first result
    (``replayed=True``) and writes nothing; the same key with other input raises
    ``IDEMPOTENCY_CONFLICT``. Raises :class:`OrderError` with a code for every refusal, having
    written nothing. Takes a row lock on an existing order so that two changes of one order are
    applied one after the other. Opens its own durable transaction: do not call it inside one.
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > 200 or NUL in key:
        raise OrderError(
            OrderErrorCode.INVALID_INPUT, "An idempotency key of 1 to 200 characters is required.", "idempotencyKey"
        )
    shop = Shop.objects.filter(pk=data.shop_id).first()
    if shop is None:
        raise OrderError(OrderErrorCode.SHOP_NOT_FOUND, "No such shop.", "shopId")
    if actor is not None and not actor.is_authenticated:
        raise OrderError(OrderErrorCode.NOT_AUTHENTICATED, "Log in first.")
    if actor is not None and not has_capability(user=actor, shop_id=shop.pk, capability=Capability.RECORD_ORDERS):
        raise OrderError(
            OrderErrorCode.PERMISSION_DENIED, "Only the shop's owner or manager can record its orders.", "shopId"
        )
    fingerprint = data.fingerprint()
    replay = _replay(key, fingerprint)
    if replay is not None:
        return replay
    goods, shipping, points_paid = order_input_validate(data, shop)
    try:
        result = _record(data, shop, key, fingerprint, (goods, shipping, points_paid), actor)
    except IntegrityError:
        # A concurrent call with the same key won the race; answer as a replay of it.
        replay = _replay(key, fingerprint)
        if replay is None:
            raise
        return replay
    if notify:
        event_id = result.event.pk
        transaction.on_commit(lambda: order_event_committed.send(sender=OrderEvent, event_id=event_id))
    return result


def _replay(key: str, fingerprint: str) -> OrderEventResult | None:
    """The stored result for ``key``, or ``None``; raises on a key reused with other input."""
    event = OrderEvent.objects.select_related("order").filter(idempotency_key=key).first()
    if event is None:
        return None
    if event.request_fingerprint != fingerprint:
        raise OrderError(
            OrderErrorCode.IDEMPOTENCY_CONFLICT,
            "This idempotency key was used for a different event.",
            "idempotencyKey",
        )
    return OrderEventResult(order=event.order, event=event, replayed=True)


def _record(
    data: OrderEventInput,
    shop: Shop,
    key: str,
    fingerprint: str,
    amounts: tuple[Decimal, Decimal, Decimal],
    actor: AbstractBaseUser | AnonymousUser | None,
) -> OrderEventResult:
    """Write the order change and its outbox row in one durable transaction.

    ``amounts`` are the validated (goods, shipping, points-paid) amounts. A return also moves
    the lines' ``returned_quantity`` in this transaction and stores the units it returned on
    the event (for a full return: everything that was still unreturned).
    """
    with transaction.atomic(durable=True):
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("customer")
            .filter(shop=shop, external_id=data.order_external_id)
            .first()
        )
        returned: list[dict[str, int]] = []
        if order is None:
            order = _order_create(data, shop, *amounts)
            previous = ""
        else:
            # A concurrent call with this key may have committed while we waited for the lock:
            # answer as its replay before judging the status transition it already made.
            replay = _replay(key, fingerprint)
            if replay is not None:
                return replay
            previous = order.status
            returned = _order_move(order, data)
        event = OrderEvent.objects.create(
            order=order,
            status=data.status,
            previous_status=previous,
            returned_lines=returned,
            occurred_at=data.occurred_at,
            idempotency_key=key,
            request_fingerprint=fingerprint,
            recorded_by_id=actor.pk if actor is not None and actor.is_authenticated else None,
        )
    return OrderEventResult(order=order, event=event, replayed=False)


def order_create_check(data: OrderEventInput) -> CustomerInput:
    """Refuse an event that cannot create an order (first status, customer, lines); return its customer.

    Pure: the order service and the set-based importer (``loyalty.importers.bulk``) share it.
    Raises :class:`OrderError` (``INVALID_STATUS_TRANSITION``, ``CUSTOMER_REQUIRED``, ``LINES_REQUIRED``).
    """
    if data.status not in INITIAL_STATUSES:
        raise OrderError(
            OrderErrorCode.INVALID_STATUS_TRANSITION, f"A new order cannot start as {data.status}.", "status"
        )
    if data.customer is None or not data.customer.external_id:
        raise OrderError(OrderErrorCode.CUSTOMER_REQUIRED, "A new order needs its customer.", "customer")
    if not data.lines:
        raise OrderError(OrderErrorCode.LINES_REQUIRED, "A new order needs at least one line.", "lines")
    return data.customer


def order_move_check(
    *,
    status: str,
    customer_external_id: str | None,
    status_changed_at: dt.datetime,
    points_paid_amount: Decimal,
    stored_lines: Callable[[], list[tuple[int, Decimal]]],
    data: OrderEventInput,
) -> None:
    """Refuse an event that cannot move an order in ``status`` (last changed at ``status_changed_at``).

    ``stored_lines`` gives the order's (quantity, unit price) lines in order, read only when the
    event repeats its lines. Pure: the order service and the set-based importer share it. Raises
    :class:`OrderError` (``INVALID_STATUS_TRANSITION``, ``CUSTOMER_MISMATCH``, ``LINES_IMMUTABLE``,
    ``INVALID_INPUT``, ``POINTS_PAID_IMMUTABLE``).
    """
    if data.status not in ALLOWED_TRANSITIONS[status]:
        raise OrderError(
            OrderErrorCode.INVALID_STATUS_TRANSITION,
            f"An order cannot go from {status} to {data.status}.",
            "status",
        )
    if data.customer is not None and data.customer.external_id != customer_external_id:
        raise OrderError(OrderErrorCode.CUSTOMER_MISMATCH, "The order belongs to another customer.", "customer")
    if data.lines and stored_lines() != [(line.quantity, _money(line.unit_price, "lines")) for line in data.lines]:
        raise OrderError(OrderErrorCode.LINES_IMMUTABLE, "The order's lines cannot change.", "lines")
    if data.occurred_at < status_changed_at:
        raise OrderError(OrderErrorCode.INVALID_INPUT, "occurredAt is before the order's last change.", "occurredAt")
    if data.points_paid_amount and _money(data.points_paid_amount, "pointsPaidAmount") != points_paid_amount:
        raise OrderError(
            OrderErrorCode.POINTS_PAID_IMMUTABLE,
            "pointsPaidAmount is fixed when the order is first recorded.",
            "pointsPaidAmount",
        )


def order_returns_apply(lines: Sequence[ReturnableLine], data: OrderEventInput) -> tuple[list[dict[str, int]], str]:
    """Resolve a return against the order's ``lines`` (line-number order) and add its units to them in memory.

    Returns ``(returned units as stored on the event, the order's new status)``: a partial return
    that leaves nothing unreturned moves the order to RETURNED. Raises what :func:`_returns_resolve`
    raises, before changing anything. The caller writes the lines whose ``returned_quantity`` moved.
    """
    returned = _returns_resolve(lines, data)
    for line in lines:
        line.returned_quantity += _units(returned, line.line_no)
    status = data.status
    if data.status == OrderStatus.PARTIALLY_RETURNED and all(line.returned_quantity == line.quantity for line in lines):
        status = OrderStatus.RETURNED  # nothing is left unreturned
    return returned, status


def _order_create(data: OrderEventInput, shop: Shop, goods: Decimal, shipping: Decimal, points_paid: Decimal) -> Order:
    """Create a new order in its first status (raises before writing when that is not allowed)."""
    customer = _customer_get_or_create(order_create_check(data))
    order = Order.objects.create(
        shop=shop,
        customer=customer,
        external_id=data.order_external_id,
        status=data.status,
        currency=data.currency,
        goods_amount=goods,
        shipping_amount=shipping,
        points_paid_amount=points_paid,
        placed_at=data.occurred_at,
        delivered_at=data.occurred_at if data.status == OrderStatus.DELIVERED else None,
        status_changed_at=data.occurred_at,
    )
    _lines_create(order, data.lines)
    return order


def _order_move(order: Order, data: OrderEventInput) -> list[dict[str, int]]:
    """Move an existing, locked order to ``data.status`` (raises before writing when refused).

    For a return, also records the returned units on the lines and returns them as stored on
    the event (``[{"line_no": 1, "quantity": 2}]``); ``[]`` otherwise.
    """
    order_move_check(
        status=order.status,
        customer_external_id=order.customer.external_id,
        status_changed_at=order.status_changed_at,
        points_paid_amount=order.points_paid_amount,
        stored_lines=lambda: [(line.quantity, line.unit_price) for line in order.lines.all()],
        data=data,
    )
    returned: list[dict[str, int]] = []
    status = data.status
    if data.status in RETURN_STATUSES:
        lines = list(order.lines.order_by("line_no"))
        returned, status = order_returns_apply(lines, data)
        for line in lines:
            if _units(returned, line.line_no):
                OrderLine.objects.filter(pk=line.pk).update(returned_quantity=line.returned_quantity)
    order.status = status
    order.status_changed_at = data.occurred_at
    if data.status == OrderStatus.DELIVERED:
        order.delivered_at = data.occurred_at
    order.save(update_fields=["status", "status_changed_at", "delivered_at"])
    return returned


def _units(returned: list[dict[str, int]], line_no: int) -> int:
    """Units of line ``line_no`` in a resolved return (0 when it is not named)."""
    return next((row["quantity"] for row in returned if row["line_no"] == line_no), 0)


class ReturnableLine(Protocol):
    """What a return reads and moves of an order line (an ``OrderLine``, or the importer's copy)."""

    line_no: int
    quantity: int
    returned_quantity: int


def _returns_resolve(lines: Sequence[ReturnableLine], data: OrderEventInput) -> list[dict[str, int]]:
    """The units a return event takes back, checked against the order's (locked) lines.

    A partial return must name its lines; each must exist and have that many units still
    unreturned. A full return (RETURNED, REFUNDED) takes everything still unreturned; if it
    names lines they must be exactly that. Raises :class:`OrderError` and writes nothing.
    """
    by_no = {line.line_no: line for line in lines}
    for index, row in enumerate(data.returned_lines):
        line = by_no.get(row.line_no)
        if line is None:
            raise OrderError(
                OrderErrorCode.RETURN_LINE_NOT_FOUND,
                f"The order has no line {row.line_no}.",
                f"returnedLines.{index}.lineNo",
            )
        left = line.quantity - line.returned_quantity
        if row.quantity > left:
            raise OrderError(
                OrderErrorCode.RETURN_QUANTITY_EXCEEDED,
                f"Line {row.line_no} has {left} unit(s) left to return, not {row.quantity}.",
                f"returnedLines.{index}.quantity",
            )
    given = [{"line_no": row.line_no, "quantity": row.quantity} for row in data.returned_lines]
    if data.status not in FULL_RETURN_STATUSES:
        if not given:
            raise OrderError(OrderErrorCode.RETURN_LINES_REQUIRED, "A partial return names its lines.", "returnedLines")
        return sorted(given, key=lambda row: row["line_no"])
    remainder = [
        {"line_no": line.line_no, "quantity": line.quantity - line.returned_quantity}
        for line in lines
        if line.quantity > line.returned_quantity
    ]
    if given and sorted(given, key=lambda row: row["line_no"]) != remainder:
        raise OrderError(
            OrderErrorCode.RETURN_LINES_INCOMPLETE,
            "A full return takes back every unit still unreturned; use partially_returned for less.",
            "returnedLines",
        )
    return remainder
