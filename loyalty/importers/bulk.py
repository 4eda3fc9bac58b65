"""The set-based replay of an import batch: a shop's history computed in memory, written in batches.

``batch_replay`` (``loyalty.importers.replay``) hands this module the events of *fresh* members:
customers with no account in the shop's program and no order in the shop yet, in shops whose
program is active and that no higher app needs to watch event by event (``order_replay_check``:
referrals). For them it does in memory, in the same event-time order, exactly what
``order_event_record`` + ``order_event_process`` do event by event (the per-event path):

- records the order (lines, status moves, full returns) and its outbox ``OrderEvent``, marked
  processed;
- enrols the member in the entry tier on their first event (``member.enrolled``, the enrolment
  ``TierChange``, the welcome bonus);
- releases the pending lots due by each event's time (release on touch), earns on delivery,
  takes back on a full return (``points_take_back``'s order: the order's lot, then other
  available lots, then a write-off) and evaluates the tier (``tier_evaluate``'s rules, windows
  included);
- records the shop events of every entry and tier change, with the same bodies;

then writes the rows every ``CHUNK_EVENTS`` events in one transaction per chunk
(``loyalty.importers.rows``: COPY and one UPDATE per table on PostgreSQL). The money and points
rules are the services' own functions (``earning_quote``, ``points_paid_shares``,
``lot_expires_at``, ``window_bounds``, ``tier_for_value``, and the order service's
``order_input_validate``, ``order_create_check``, ``order_move_check`` and
``order_returns_apply``), so only the bookkeeping is done here.
Primary keys are reserved ahead (:class:`IdPool`), in the order the per-event path would create
the rows, so rows can name each other (idempotency keys ``lot:<id>:release``, event bodies)
before they are written. ``tests/loyalty/test_bulk_import.py`` replays the bundled samples and
made-up histories both ways and compares every order, entry, lot, tier change and account.

What is not supported here goes through the per-event path instead (``batch_replay`` decides):
members with any earlier state, partial returns, inactive programs, programs with referrals,
and any batch in which some event would be refused (so the refusal happens exactly where the
per-event path refuses it).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, connections, models, transaction
from django.utils import timezone

from loyalty.events import (
    ENTRY_EVENTS,
    enrolled_event_data,
    entry_event_data,
    member_body,
    tier_changed_event_data,
)
from loyalty.importers.rows import rows_insert, rows_update
from loyalty.models import (
    EarningRule,
    EntryKind,
    LoyaltyProgram,
    MemberAccount,
    PointsEntry,
    PointsLot,
    PointsLotConsumption,
    SourceType,
    Tier,
    TierBasis,
    TierChange,
    TierWindow,
)
from loyalty.reasons import Reason
from loyalty.services.ledger import counter_deltas
from loyalty.services.periods import lot_expires_at
from loyalty.services.rules import CENT, QuoteLine, earning_quote, points_paid_shares, program_rules
from loyalty.services.tiers import program_tiers, tier_for_value, window_bounds
from marketplace.errors import OrderError, OrderErrorCode
from marketplace.events import event_uids, shop_event_row, shop_events_committed
from marketplace.models import (
    Category,
    Customer,
    EventType,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Product,
    Shop,
    ShopEvent,
)
from marketplace.services.orders import (
    RETURN_STATUSES,
    CustomerInput,
    OrderEventInput,
    order_create_check,
    order_input_validate,
    order_move_check,
    order_returns_apply,
)

#: Events whose rows are written in one transaction; two batches are in memory at once while one
#: is written. Measured on CDNOW (bench/import_bench.py, 2 cores): 2,500 -> 1,210 events/s and
#: 416 MB peak for the whole file; 5,000 -> 1,490 events/s, 475 MB; 10,000 -> 1,610 events/s,
#: 506 MB (over issue 15's 500 MB). Smaller batches cost more updates of rows an earlier batch
#: wrote (accounts, lots released later) and more commits.
CHUNK_EVENTS = 5000


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Reserve ``count`` primary keys of ``model``'s table, in increasing order, for explicit inserts.

    PostgreSQL: ``nextval`` of the table's identity sequence, ``count`` times in one query (the
    values are then never handed out again, whoever inserts next). SQLite: moves the table's
    ``sqlite_sequence`` (Django's SQLite ``AutoField`` is ``AUTOINCREMENT``, which never reuses a
    number at or below it) in a short transaction of its own. Unused reserved keys stay gaps.
    """
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
            )
            return sorted(row[0] for row in cursor.fetchall())
        if connection.vendor == "sqlite":
            with transaction.atomic():
                # The UPDATE first: it takes SQLite's write lock, so no other writer reads the same top.
                cursor.execute("UPDATE sqlite_sequence SET seq = seq WHERE name = %s", [table])
                top = model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
                start = max(top, row[0] if row else 0)
                if row:
                    cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [start + count, table])
                else:
                    cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, start + count])
            return list(range(start + 1, start + count + 1))
    raise NotImplementedError(f"reserve_ids: no support for {connection.vendor}")


class IdPool:
    """Primary keys handed out in creation order, reserved ``BLOCK`` at a time per model (one query)."""

    BLOCK = 2000

    def __init__(self) -> None:
        self._free: dict[type[models.Model], deque[int]] = defaultdict(deque)

    def next(self, model: type[models.Model]) -> int:
        """The next reserved key of ``model``."""
        free = self._free[model]
        if not free:
            free.extend(reserve_ids(model, self.BLOCK))
        return free.popleft()


@dataclass(slots=True)
class _Line:
    """An order line being replayed (the ``OrderLine`` columns ``_returns_resolve`` and earning read)."""

    line_no: int
    quantity: int
    unit_price: Decimal
    description: str
    pk: int = 0
    order_id: int = 0
    product_id: int | None = None
    category_id: int | None = None
    returned_quantity: int = 0

    @property
    def amount(self) -> Decimal:
        """``quantity x unit_price`` (``OrderLine.amount``)."""
        return self.unit_price * self.quantity

    def row(self) -> dict[str, Any]:
        """The ``OrderLine`` row (attribute names)."""
        return {
            "id": self.pk,
            "order_id": self.order_id,
            "line_no": self.line_no,
            "product_id": self.product_id,
            "category_id": self.category_id,
            "description": self.description,
            "quantity": self.quantity,
            "returned_quantity": self.returned_quantity,
            "unit_price": self.unit_price,
        }


@dataclass(slots=True)
class _Order:
    """An order being replayed: the ``Order`` row's fields and its lines."""

    pk: int  # 0 until the replay numbers it (never a real id)
    shop_id: int
    customer_id: int | None
    customer_external_id: str
    external_id: str
    status: str
    currency: str
    goods: Decimal
    shipping: Decimal
    points_paid: Decimal
    placed_at: dt.datetime
    delivered_at: dt.datetime | None
    status_changed_at: dt.datetime
    lines: list[_Line]
    new: bool = True

    def row(self) -> dict[str, Any]:
        """The ``Order`` row as it stands (attribute names)."""
        return {
            "id": self.pk,
            "shop_id": self.shop_id,
            "customer_id": self.customer_id,
            "external_id": self.external_id,
            "status": self.status,
            "currency": self.currency,
            "goods_amount": self.goods,
            "shipping_amount": self.shipping,
            "points_paid_amount": self.points_paid,
            "placed_at": self.placed_at,
            "delivered_at": self.delivered_at,
            "status_changed_at": self.status_changed_at,
        }


@dataclass(slots=True)
class _Lot:
    """A ``PointsLot`` being replayed, with what a release or an expiry reads of its earning."""

    pk: int
    account_id: int
    entry_id: int
    points: int
    remaining: int
    available_at: dt.datetime
    released_at: dt.datetime | None
    expires_at: dt.datetime | None
    order_id: int | None
    order_external_id: str | None
    source_type: str
    source_id: str
    new: bool = True

    def row(self) -> dict[str, Any]:
        """The ``PointsLot`` row as it stands (attribute names)."""
        return {
            "id": self.pk,
            "account_id": self.account_id,
            "entry_id": self.entry_id,
            "points": self.points,
            "remaining": self.remaining,
            "available_at": self.available_at,
            "released_at": self.released_at,
            "expires_at": self.expires_at,
        }


@dataclass(slots=True)
class _Entry:
    """A ledger entry just appended, as later steps read it (its row is already queued)."""

    pk: int
    points: int
    qualifying_delta: Decimal


@dataclass(slots=True)
class _Earning:
    """An order's EARN entry as its reversals read it."""

    points: int
    qualifying_delta: Decimal
    lot: _Lot


@dataclass(slots=True)
class _Account:
    """A member account being replayed: the cached balances and what posting reads of its history."""

    pk: int
    customer_id: int
    program: LoyaltyProgram
    member: dict
    tier: Tier | None
    enrolled_at: dt.datetime
    available: int = 0
    pending: int = 0
    lifetime: int = 0
    redeemed: int = 0
    expired: int = 0
    qualifying: Decimal = Decimal("0.00")
    last_activity_at: dt.datetime | None = None
    lots: list[_Lot] = field(default_factory=list)
    #: (created_at, qualifying_delta) of every entry, for windowed programs (the services sum them in SQL).
    qualifying_entries: list[tuple[dt.datetime, Decimal]] = field(default_factory=list)
    #: (created_at, tier id, change id) of every tier change, in creation order.
    tier_history: list[tuple[dt.datetime, int, int]] = field(default_factory=list)
    earnings: dict[int, _Earning] = field(default_factory=dict)
    #: order id -> (points, unrecovered points, qualifying delta) of its REVERSE entries.
    reversals: dict[int, list[tuple[int, int, Decimal]]] = field(default_factory=dict)
    new: bool = True

    def row(self) -> dict[str, Any]:
        """The ``MemberAccount`` row as it stands (attribute names)."""
        return {
            "id": self.pk,
            "customer_id": self.customer_id,
            "program_id": self.program.pk,
            "tier_id": self.tier.pk if self.tier is not None else None,
            "points_available": self.available,
            "points_pending": self.pending,
            "lifetime_points": self.lifetime,
            "points_redeemed": self.redeemed,
            "points_expired": self.expired,
            "qualifying_value": self.qualifying,
            "enrolled_at": self.enrolled_at,
            "last_activity_at": self.last_activity_at,
        }


@dataclass(frozen=True)
class ProgramContext:
    """What posting reads of a shop's program, read once per import: tiers lowest first, active rules."""

    program: LoyaltyProgram
    tiers: list[Tier]
    rules: list[EarningRule]

    @classmethod
    def load(cls, program: LoyaltyProgram) -> ProgramContext:
        """Read the program's tiers and rules (a few queries)."""
        return cls(program=program, tiers=program_tiers(program), rules=program_rules(program))


@dataclass(slots=True)
class BulkEvent:
    """One event of a fresh member: the service's input, its key and the source line (for errors).

    ``amounts`` are the (goods, shipping, points-paid) amounts ``order_input_validate``
    returned, once :func:`bulk_check` has run.
    """

    data: OrderEventInput
    idempotency_key: str
    shop: Shop
    customer_external_id: str
    source: str
    amounts: tuple[Decimal, Decimal, Decimal] | None = None


@dataclass
class BulkResult:
    """What :func:`bulk_replay` posted: events, points of the EARN entries, and the final release."""

    events: int = 0
    points_posted: int = 0
    release_accounts: int = 0
    release_lots: int = 0
    release_points: int = 0
    pairs: set[tuple[int, int]] = field(default_factory=set)


class BulkRefused(Exception):
    """Some event of the fresh members would be refused by the order service: replay event by event."""

    def __init__(self, source: str, error: OrderError) -> None:
        super().__init__(f"{source}: {error.code.value}: {error.message}")


def _order_step(orders: dict[tuple[int, str], _Order], event: BulkEvent) -> tuple[_Order, str, list[dict[str, int]]]:
    """Apply ``event`` to the in-memory orders as ``order_event_record`` would: ``(order, previous, returned)``.

    Raises the ``OrderError`` the service raises, at the same checks, before changing anything.
    New orders get ``pk=0`` and lines without keys: the caller numbers them.
    """
    data = event.data
    if event.amounts is None:
        event.amounts = order_input_validate(data, event.shop)
    goods, shipping, points_paid = event.amounts
    # In UTC, as the per-event path reads it back from the database: adding days to a time in the
    # shop's zone would keep its wall-clock time across a daylight-saving change, not its instant.
    at = data.occurred_at.astimezone(dt.UTC)
    order = orders.get((event.shop.pk, data.order_external_id))
    if order is None:
        customer = order_create_check(data)
        lines = [
            _Line(
                line_no=number,
                description=line.description[:200],
                quantity=line.quantity,
                unit_price=Decimal(line.unit_price).quantize(CENT),  # validated above
            )
            for number, line in enumerate(data.lines, start=1)
        ]
        order = _Order(
            pk=0,
            shop_id=event.shop.pk,
            customer_id=None,
            customer_external_id=customer.external_id,
            external_id=data.order_external_id,
            status=data.status,
            currency=data.currency,
            goods=goods,
            shipping=shipping,
            points_paid=points_paid,
            placed_at=at,
            delivered_at=at if data.status == OrderStatus.DELIVERED else None,
            status_changed_at=at,
            lines=lines,
        )
        orders[(event.shop.pk, data.order_external_id)] = order
        return order, "", []
    current = order
    order_move_check(
        status=order.status,
        customer_external_id=order.customer_external_id,
        status_changed_at=order.status_changed_at,
        points_paid_amount=order.points_paid,
        stored_lines=lambda: [(line.quantity, line.unit_price) for line in current.lines],
        data=data,
    )
    previous = order.status
    returned: list[dict[str, int]] = []
    status = data.status
    if data.status in RETURN_STATUSES:
        returned, status = order_returns_apply(order.lines, data)
    order.status = status
    order.status_changed_at = at
    if data.status == OrderStatus.DELIVERED:
        order.delivered_at = at
    return order, previous, returned


def bulk_check(events: list[BulkEvent]) -> None:
    """Run every event through the order service's checks in memory; raise :class:`BulkRefused` at the first refusal.

    Writes nothing. The events are in replay order and belong to fresh members only, so the
    in-memory orders are all the state those checks read. Keeps each event's validated amounts
    (``BulkEvent.amounts``), so the replay does not validate twice.
    """
    orders: dict[tuple[int, str], _Order] = {}
    for event in events:
        if event.data.status == OrderStatus.PARTIALLY_RETURNED:
            # Partial returns read earlier events' returned lines: left to the per-event path.
            raise BulkRefused(event.source, OrderError(OrderErrorCode.INVALID_INPUT, "partial return"))
        try:
            _order_step(orders, event)
        except OrderError as exc:
            raise BulkRefused(event.source, exc) from exc


#: Columns a later chunk may change, per model (attribute names).
_ORDER_CHANGES = ["status", "status_changed_at", "delivered_at"]
_ACCOUNT_CHANGES = [
    "tier_id",
    "points_available",
    "points_pending",
    "lifetime_points",
    "points_redeemed",
    "points_expired",
    "qualifying_value",
    "last_activity_at",
]
_LOT_CHANGES = ["remaining", "released_at"]


class _Writer:
    """Rows created or changed since the last :meth:`snapshot`, which hands them over as a :class:`_Batch`."""

    def __init__(self) -> None:
        self.created: dict[type[models.Model], list[dict[str, Any]]] = defaultdict(list)
        self.orders: dict[int, _Order] = {}
        self.accounts: dict[int, _Account] = {}
        self.lots: dict[int, _Lot] = {}
        self.lines: dict[int, _Line] = {}

    def add(self, model: type[models.Model], row: dict[str, Any]) -> None:
        """A new row of ``model`` to insert (attribute names; rows of one model keep their order)."""
        self.created[model].append(row)

    def snapshot(self) -> _Batch:
        """Take the rows created or changed since the last call, as they stand, and start afresh.

        Rows of a batch taken here are new to the database; whatever a later batch changes in
        them is an update.
        """
        orders, accounts, lots = self.orders.values(), self.accounts.values(), self.lots.values()
        created = self.created
        batch = _Batch(
            inserts=[
                (Order, [order.row() for order in orders if order.new]),
                (OrderLine, [line.row() for order in orders if order.new for line in order.lines]),
                (OrderEvent, created.pop(OrderEvent, [])),
                (MemberAccount, [account.row() for account in accounts if account.new]),
                (TierChange, created.pop(TierChange, [])),
                (PointsEntry, created.pop(PointsEntry, [])),
                (PointsLot, [lot.row() for lot in lots if lot.new]),
                (PointsLotConsumption, created.pop(PointsLotConsumption, [])),
                (ShopEvent, created.pop(ShopEvent, [])),
            ],
            updates=[
                (Order, _ORDER_CHANGES, [order.row() for order in orders if not order.new]),
                (
                    OrderLine,
                    ["returned_quantity"],
                    [{"id": line.pk, "returned_quantity": line.returned_quantity} for line in self.lines.values()],
                ),
                (MemberAccount, _ACCOUNT_CHANGES, [account.row() for account in accounts if not account.new]),
                (PointsLot, _LOT_CHANGES, [lot.row() for lot in lots if not lot.new]),
            ],
        )
        assert not created, f"rows of {list(created)} were not queued"
        for order in orders:
            order.new = False
        for account in accounts:
            account.new = False
        for lot in lots:
            lot.new = False
        self.created, self.orders, self.accounts, self.lots, self.lines = defaultdict(list), {}, {}, {}, {}
        return batch


@dataclass
class _Batch:
    """Rows to write in one transaction: inserts (parents first) and updates, per model."""

    inserts: list[tuple[type[models.Model], list[dict[str, Any]]]]
    updates: list[tuple[type[models.Model], list[str], list[dict[str, Any]]]]

    def write(self) -> None:
        """Insert, then update, in one durable transaction; announce the shop events after commit."""
        with transaction.atomic(durable=True):
            # Parents before children (SQLite checks foreign keys at once; PostgreSQL at commit).
            announced = 0
            for model, rows in self.inserts:
                written = rows_insert(model, rows)
                announced += written if model is ShopEvent else 0
            for model, fields, rows in self.updates:
                rows_update(model, fields, rows)
            if announced:
                transaction.on_commit(lambda: shop_events_committed.send(sender=ShopEvent))


class _BatchWriter:
    """Writes batches one after another, on a thread of its own when it can.

    On PostgreSQL outside any transaction, a batch is written (its own connection, its own
    transaction) while the replay computes the next one, so the database's work and Python's
    overlap; the next batch waits for the previous commit, since it may update its rows. Inside
    a transaction (tests) or on SQLite, batches are written in the caller's thread and
    connection. A failed batch raises in the caller at the next :meth:`submit` or :meth:`close`.
    """

    def __init__(self) -> None:
        threaded = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-writer") if threaded else None
        self.pending: Future[None] | None = None

    def submit(self, batch: _Batch) -> None:
        """Write ``batch`` after the previous one (at once when not threaded)."""
        if self.pool is None:
            batch.write()
            return
        self.wait()
        self.pending = self.pool.submit(batch.write)

    def wait(self) -> None:
        """Wait for the batch being written; raise its error."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def close(self) -> None:
        """Wait for the last batch, close the writer thread's connection and the thread."""
        if self.pool is None:
            return
        try:
            self.wait()
        finally:
            self.pool.submit(connections.close_all).result()
            self.pool.shutdown()


class _Replayer:
    """The per-event path's bookkeeping, in memory (see the module docstring)."""

    def __init__(self, contexts: dict[int, ProgramContext], customers: dict[str, int], now: dt.datetime) -> None:
        self.contexts = contexts  # by shop id
        self.customers = customers  # external id -> pk
        self.now = now
        self.ids = IdPool()
        self.uids: list[str] = []
        self.writer = _Writer()
        self.batches = _BatchWriter()
        self.orders: dict[tuple[int, str], _Order] = {}
        self.accounts: dict[tuple[int, int], _Account] = {}  # (customer id, program id)
        self.categories: dict[str, int] = {}
        self.products: dict[tuple[int, str], int] = {}
        self.result = BulkResult()

    # --- rows -------------------------------------------------------------------------------

    def _shop_event(self, account: _Account, type: EventType, data: dict, at: dt.datetime) -> None:
        if not self.uids:
            self.uids = event_uids(1000)
        uid = self.uids.pop()
        row = shop_event_row(shop_id=account.program.shop_id, type=type, data=data, occurred_at=at, uid=uid)
        self.writer.add(ShopEvent, row)

    def _touch(self, account: _Account) -> None:
        self.writer.accounts[account.pk] = account

    def _touch_lot(self, lot: _Lot) -> None:
        self.writer.lots[lot.pk] = lot

    def _append(
        self,
        account: _Account,
        *,
        kind: EntryKind,
        points: int,
        available_delta: int,
        pending_delta: int,
        reason: str,
        source_type: str,
        source_id: str,
        idempotency_key: str,
        at: dt.datetime,
        order_id: int | None = None,
        qualifying_delta: Decimal = Decimal("0"),
        applied_rules: tuple[dict, ...] = (),
        unrecovered_points: int = 0,
        reason_code: str = "",
        reason_params: dict | None = None,
    ) -> _Entry:
        """``ledger._append``: the entry, the cached balances, its shop event."""
        account.available += available_delta
        account.pending += pending_delta
        if account.available < 0 or account.pending < 0:  # the services raise here; never in a replay
            raise AssertionError(f"account {account.pk}: a balance would go below zero")
        lifetime, redeemed, expired = counter_deltas(kind, points)
        account.lifetime += lifetime
        account.redeemed += redeemed
        account.expired += expired
        qualifying_delta = qualifying_delta.quantize(CENT)  # as stored, and as the services read it back
        account.qualifying += qualifying_delta
        account.last_activity_at = at
        if account.program.tier_window != TierWindow.LIFETIME:
            account.qualifying_entries.append((at, qualifying_delta))
        entry = _Entry(pk=self.ids.next(PointsEntry), points=points, qualifying_delta=qualifying_delta)
        self.writer.add(
            PointsEntry,
            {
                "id": entry.pk,
                "account_id": account.pk,
                "kind": kind,
                "points": points,
                "available_delta": available_delta,
                "pending_delta": pending_delta,
                "available_after": account.available,
                "pending_after": account.pending,
                "qualifying_delta": qualifying_delta,
                "reason": reason,
                "reason_code": reason_code,
                "reason_params": reason_params or {},
                "applied_rules": list(applied_rules),
                "source_type": source_type,
                "source_id": source_id,
                "order_id": order_id,
                "staff_user_id": None,
                "unrecovered_points": unrecovered_points,
                "idempotency_key": idempotency_key,
                "created_at": at,
            },
        )
        self._touch(account)
        body = entry_event_data(
            account.member,
            entry_id=entry.pk,
            kind=kind,
            points=points,
            available_after=account.available,
            pending_after=account.pending,
            reason=reason,
            source_type=source_type,
            source_id=source_id,
            order_id=order_id,
        )
        self._shop_event(account, ENTRY_EVENTS[kind], body, at)
        return entry

    def _lot(
        self,
        account: _Account,
        entry: _Entry,
        *,
        available_at: dt.datetime,
        released_at: dt.datetime | None,
        expires_at: dt.datetime | None,
        order: _Order | None = None,
        source_type: str,
        source_id: str,
    ) -> _Lot:
        """The lot of an earning or a grant (``points_earn`` / ``points_grant``)."""
        lot = _Lot(
            pk=self.ids.next(PointsLot),
            account_id=account.pk,
            entry_id=entry.pk,
            points=entry.points,
            remaining=entry.points,
            available_at=available_at,
            released_at=released_at,
            expires_at=expires_at,
            order_id=order.pk if order is not None else None,
            order_external_id=order.external_id if order is not None else None,
            source_type=source_type,
            source_id=source_id,
        )
        account.lots.append(lot)
        self._touch_lot(lot)
        return lot

    # --- the order service ------------------------------------------------------------------

    def _record(self, event: BulkEvent) -> tuple[_Order, int]:
        """``order_event_record``: the order's change and its outbox row (processed at ``now``)."""
        order, previous, returned = _order_step(self.orders, event)
        data = event.data
        if not order.pk:
            order.pk = self.ids.next(Order)
            order.customer_id = self.customers[order.customer_external_id]
            for line, given in zip(order.lines, data.lines, strict=True):
                line.pk = self.ids.next(OrderLine)
                line.order_id = order.pk
                line.category_id = self.categories.get(given.category_slug[:120]) if given.category_slug else None
                if given.product_external_id:
                    line.product_id = self.products[(order.shop_id, given.product_external_id)]
        elif returned:
            for row in returned:
                line = order.lines[row["line_no"] - 1]
                if not order.new:  # its lines were written by an earlier chunk: update them
                    self.writer.lines[line.pk] = line
        self.writer.orders[order.pk] = order
        outbox = self.ids.next(OrderEvent)
        self.writer.add(
            OrderEvent,
            {
                "id": outbox,
                "order_id": order.pk,
                "status": data.status,
                "previous_status": previous,
                "returned_lines": returned,
                "occurred_at": data.occurred_at,
                "idempotency_key": event.idempotency_key,
                "request_fingerprint": data.fingerprint(),
                "recorded_by_id": None,
                "processed_at": self.now,
                "attempts": 1,
                "failed_at": None,
                "failure": "",
            },
        )
        return order, outbox

    # --- the loyalty services ---------------------------------------------------------------

    def _enrol(self, context: ProgramContext, customer_id: int, external_id: str, at: dt.datetime) -> _Account:
        """``account_get_or_enroll`` (a new account) and ``welcome_bonus_post``."""
        program = context.program
        entry_tier = context.tiers[0] if context.tiers else None
        pk = self.ids.next(MemberAccount)
        account = _Account(
            pk=pk,
            customer_id=customer_id,
            program=program,
            member=member_body(account_id=pk, customer_external_id=external_id),
            tier=entry_tier,
            enrolled_at=at,
        )
        self.accounts[(customer_id, program.pk)] = account
        self._touch(account)
        body = enrolled_event_data(account.member, tier_id=entry_tier.pk if entry_tier else None, enrolled_at=at)
        self._shop_event(account, EventType.MEMBER_ENROLLED, body, at)
        if entry_tier is not None:
            self._tier_change(account, None, entry_tier, Decimal("0"), "Enrolled in the program", at)
        if program.welcome_bonus_points > 0:
            points = program.welcome_bonus_points
            entry = self._append(
                account,
                kind=EntryKind.BONUS,
                points=points,
                available_delta=points,
                pending_delta=0,
                reason="Welcome bonus",
                reason_code=Reason.WELCOME_BONUS,
                source_type=SourceType.SYSTEM,
                source_id="welcome",
                idempotency_key=f"welcome:{pk}",
                at=at,
            )
            expires_at = lot_expires_at(program=program, available_at=at)
            self._lot(
                account,
                entry,
                available_at=at,
                released_at=at,
                expires_at=expires_at,
                source_type=SourceType.SYSTEM,
                source_id="welcome",
            )
        self.result.pairs.add((customer_id, program.pk))
        return account

    def _release_due(self, account: _Account, now: dt.datetime) -> tuple[int, int]:
        """``account_release_due``: release the pending lots due at ``now``, each dated at its ``available_at``."""
        due = sorted(
            (lot for lot in account.lots if lot.released_at is None and lot.available_at <= now),
            key=lambda lot: (lot.available_at, lot.pk),
        )
        moved = 0
        for lot in due:
            if lot.remaining > 0:
                self._append(
                    account,
                    kind=EntryKind.RELEASE,
                    points=lot.remaining,
                    available_delta=lot.remaining,
                    pending_delta=-lot.remaining,
                    reason=(
                        f"Points of order {lot.order_external_id} became available"
                        if lot.order_external_id is not None
                        else "Pending points became available"
                    ),
                    reason_code=(
                        Reason.ORDER_POINTS_RELEASED if lot.order_external_id is not None else Reason.POINTS_RELEASED
                    ),
                    reason_params={"order": lot.order_external_id} if lot.order_external_id is not None else {},
                    source_type=lot.source_type,
                    source_id=lot.source_id,
                    idempotency_key=f"lot:{lot.pk}:release",
                    at=lot.available_at,
                    order_id=lot.order_id,
                )
                moved += lot.remaining
            lot.released_at = lot.available_at
            self._touch_lot(lot)
        return len(due), moved

    def _earn(self, context: ProgramContext, account: _Account, order: _Order, at: dt.datetime) -> _Entry | None:
        """``orders._earn``: the pending earning of a delivered order and its lot."""
        program = context.program
        base = order.goods - order.points_paid
        if context.rules:
            shares = points_paid_shares([line.amount for line in order.lines], order.points_paid)
            lines = [
                QuoteLine(amount=line.amount - share, category_id=line.category_id)
                for line, share in zip(order.lines, shares, strict=True)
            ]
        else:
            lines = [QuoteLine(amount=base)]
        # No segments: the set-based replay takes only fresh members, who were in no segment's list
        # or snapshot (their account did not exist), exactly as member_segments_of would answer.
        quote = earning_quote(program=program, rules=context.rules, lines=lines, at=order.placed_at, tier=account.tier)
        points = quote.points
        if points == 0:
            return None
        delivered = order.delivered_at or at
        available_at = delivered + dt.timedelta(days=program.effective_pending_days)
        released = available_at <= at
        entry = self._append(
            account,
            kind=EntryKind.EARN,
            points=points,
            available_delta=points if released else 0,
            pending_delta=0 if released else points,
            reason=f"Order {order.external_id} delivered",
            reason_code=Reason.ORDER_DELIVERED,
            reason_params={"order": order.external_id},
            source_type=SourceType.ORDER,
            source_id=str(order.pk),
            idempotency_key=f"order:{order.pk}:earn",
            at=at,
            order_id=order.pk,
            qualifying_delta=base if program.tier_basis == TierBasis.SPEND else Decimal(points),
            applied_rules=tuple(rule.as_json() for rule in quote.rules),
        )
        lot = self._lot(
            account,
            entry,
            available_at=available_at,
            released_at=at if released else None,
            expires_at=lot_expires_at(program=program, available_at=available_at),
            order=order,
            source_type=SourceType.ORDER,
            source_id=str(order.pk),
        )
        account.earnings[order.pk] = _Earning(points=points, qualifying_delta=entry.qualifying_delta, lot=lot)
        self.result.points_posted += points
        return entry

    def _reverse(self, account: _Account, order: _Order, status: str, at: dt.datetime, event_id: int) -> _Entry | None:
        """``orders._reverse`` for a full return (partial returns never reach this module): event
        ``event_id`` moved the order to ``status`` at ``at`` (UTC)."""
        earn = account.earnings.get(order.pk)
        if earn is None:
            return None
        earlier = account.reversals.setdefault(order.pk, [])
        taken_before = sum(-points + unrecovered for points, unrecovered, _ in earlier)
        qualifying_before = -sum((delta for _, _, delta in earlier), Decimal("0"))
        full_first = not earlier
        points = max(earn.points - taken_before, 0)
        qualifying_delta = -max(earn.qualifying_delta - qualifying_before, Decimal("0"))
        if points == 0 and qualifying_delta == 0:
            return None
        lot = earn.lot
        own = min(points, lot.remaining)
        own_pending = lot.released_at is None
        plan, unrecovered = self._spend_plan(account, points - own, exclude=lot)
        from_others = points - own - unrecovered
        reason = f"Order {order.external_id} {status}"
        if unrecovered:
            reason = f"{reason}; {unrecovered} points already spent could not be taken back"[:300]
        entry = self._append(
            account,
            kind=EntryKind.REVERSE,
            points=-(own + from_others),
            available_delta=-from_others - (0 if own_pending else own),
            pending_delta=-own if own_pending else 0,
            reason=reason,
            reason_code=Reason.ORDER_RETURNED,
            reason_params={"order": order.external_id, "status": status}
            | ({"unrecovered": unrecovered} if unrecovered else {}),
            source_type=SourceType.ORDER,
            source_id=str(order.pk),
            idempotency_key=f"order:{order.pk}:reverse" if full_first else f"order:{order.pk}:reverse:{event_id}",
            at=at,
            order_id=order.pk,
            qualifying_delta=qualifying_delta,
            unrecovered_points=unrecovered,
        )
        if own:
            plan.insert(0, (lot, own))
        for taken, take in plan:
            taken.remaining -= take
            self._touch_lot(taken)
            self.writer.add(PointsLotConsumption, {"entry_id": entry.pk, "lot_id": taken.pk, "points": take})
        earlier.append((entry.points, unrecovered, qualifying_delta))
        return entry

    @staticmethod
    def _spend_plan(account: _Account, points: int, exclude: _Lot) -> tuple[list[tuple[_Lot, int]], int]:
        """``ledger._spend_plan``: released lots with points left, those that expire first first."""
        plan: list[tuple[_Lot, int]] = []
        left = points
        if left <= 0:
            return plan, 0
        lots = [lot for lot in account.lots if lot.released_at is not None and lot.remaining > 0 and lot is not exclude]
        far = dt.datetime.max.replace(tzinfo=dt.UTC)
        for lot in sorted(
            lots, key=lambda lot: (lot.expires_at or far, lot.expires_at is None, lot.available_at, lot.pk)
        ):
            take = min(lot.remaining, left)
            plan.append((lot, take))
            left -= take
            if left == 0:
                break
        return plan, left

    def _tier_evaluate(self, context: ProgramContext, account: _Account, at: dt.datetime, reason: str, returned: bool):
        """``tiers.tier_evaluate``: upgrade at once; after a return, down to no lower than the window's start tier."""
        program = context.program
        start, _ = window_bounds(program, at) if program.tier_window != TierWindow.LIFETIME else (None, None)
        if program.tier_window == TierWindow.LIFETIME:
            value = account.qualifying
        else:
            deltas = [
                delta
                for created_at, delta in account.qualifying_entries
                if created_at <= at and (start is None or created_at > start)
            ]
            # As ``tiers.qualifying_value`` reads its SUM: a numeric with the column's two places,
            # and ``Decimal("0")`` for NULL (no rows) and for a zero sum (``or``); the tier history's
            # text shows the difference ("0" against "75.00").
            value = sum(deltas, Decimal("0")) or Decimal("0")
        tiers = context.tiers
        target = tier_for_value(tiers, value)
        current = account.tier
        down = returned and target is not None and current is not None and target.position < current.position
        if down:
            floor = tiers[0] if tiers else None
            if start is not None:
                held = None
                for created_at, tier_id, _ in account.tier_history:  # the latest change at or before the start
                    if created_at <= start and (held is None or created_at >= held[0]):
                        held = (created_at, tier_id)
                floor = next((tier for tier in tiers if held is not None and tier.pk == held[1]), floor)
            if floor is not None and floor.position > target.position:  # type: ignore[union-attr]
                target = floor
            down = target.position < current.position  # type: ignore[union-attr]
        if target is not None and (current is None or target.position > current.position or down):
            self._tier_change(account, current, target, value, reason, at)
            body = tier_changed_event_data(
                account.member,
                change_id=account.tier_history[-1][2],
                from_tier_id=current.pk if current is not None else None,
                to_tier_id=target.pk,
                qualifying_value=value,
                reason=reason,
            )
            self._shop_event(account, EventType.TIER_CHANGED, body, at)
            account.tier = target
        account.qualifying = value.quantize(CENT)
        self._touch(account)

    def _tier_change(
        self, account: _Account, current: Tier | None, target: Tier, value: Decimal, reason: str, at: dt.datetime
    ) -> None:
        """A ``TierChange`` row, remembered in the account's tier history."""
        pk = self.ids.next(TierChange)
        self.writer.add(
            TierChange,
            {
                "id": pk,
                "account_id": account.pk,
                "from_tier_id": current.pk if current is not None else None,
                "to_tier_id": target.pk,
                "qualifying_value": value,
                "reason": reason,
                "created_at": at,
            },
        )
        account.tier_history.append((at, target.pk, pk))

    # --- one event --------------------------------------------------------------------------

    def event(self, event: BulkEvent) -> None:
        """Record and process one event: ``order_event_record`` then ``order_event_process``."""
        order, outbox = self._record(event)
        context = self.contexts[event.shop.pk]
        at = event.data.occurred_at.astimezone(dt.UTC)  # as the per-event path reads it (see _order_step)
        key = (order.customer_id, context.program.pk)
        account = self.accounts.get(key)  # type: ignore[arg-type]
        if account is None:
            account = self._enrol(context, order.customer_id, order.customer_external_id, at)  # type: ignore[arg-type]
        self._release_due(account, at)
        entry = None
        status = event.data.status
        if status == OrderStatus.DELIVERED:
            entry = self._earn(context, account, order, at)
        elif status in RETURN_STATUSES:
            entry = self._reverse(account, order, status, at, outbox)
        if entry is not None:
            if status in RETURN_STATUSES:
                label = OrderStatus(status).label.lower()
                reason = f"Order {order.external_id} {label}: qualifying value fell"
                self._tier_evaluate(context, account, at, reason, returned=True)
            else:
                self._tier_evaluate(context, account, at, f"Qualified with order {order.external_id}", returned=False)
        self.result.events += 1

    def release_all(self, now: dt.datetime) -> None:
        """``points_release_due(now)`` for the replayed accounts, in account order."""
        for account in sorted(self.accounts.values(), key=lambda account: account.pk):
            lots, points = self._release_due(account, now)
            if lots:
                self.result.release_accounts += 1
                self.result.release_lots += lots
                self.result.release_points += points


def _references(events: list[BulkEvent]) -> tuple[dict[str, int], dict[tuple[int, str], int]]:
    """Find or create the categories and products the events' lines name, as ``_lines_create`` does.

    A product created here takes the category of the first line (in replay order) that names it,
    as ``get_or_create(defaults=...)`` would. Returns ids by slug and by (shop id, external id).
    """
    slugs: dict[str, str] = {}
    products: dict[tuple[int, str], str | None] = {}
    for event in events:
        for line in event.data.lines:
            slug = line.category_slug[:120] if line.category_slug else None
            if slug is not None:
                slugs.setdefault(slug, line.category_slug.replace("_", " ")[:200])  # type: ignore[union-attr]
            if line.product_external_id:
                products.setdefault((event.shop.pk, line.product_external_id), slug)
    categories = dict(Category.objects.filter(slug__in=list(slugs)).values_list("slug", "pk")) if slugs else {}
    missing = [Category(slug=slug, name=name) for slug, name in slugs.items() if slug not in categories]
    if missing:
        Category.objects.bulk_create(missing, ignore_conflicts=True)
        categories = dict(Category.objects.filter(slug__in=list(slugs)).values_list("slug", "pk"))
    found: dict[tuple[int, str], int] = {}
    for shop_id in {shop_id for shop_id, _ in products}:
        names = [external_id for (shop, external_id) in products if shop == shop_id]
        rows = Product.objects.filter(shop_id=shop_id, external_id__in=names).values_list("external_id", "pk")
        found.update(((shop_id, external_id), pk) for external_id, pk in rows)
    create = [
        Product(shop_id=shop_id, external_id=external_id, category_id=categories.get(slug) if slug else None)
        for (shop_id, external_id), slug in products.items()
        if (shop_id, external_id) not in found
    ]
    if create:
        Product.objects.bulk_create(create, ignore_conflicts=True)
        for shop_id in {product.shop_id for product in create}:
            names = [product.external_id for product in create if product.shop_id == shop_id]
            rows = Product.objects.filter(shop_id=shop_id, external_id__in=names).values_list("external_id", "pk")
            found.update(((shop_id, external_id), pk) for external_id, pk in rows)
    return categories, found


def customer_ids(external_ids: Iterable[str]) -> dict[str, int]:
    """Ids of the customers with these external ids that exist (one query per 1,000)."""
    names = sorted(set(external_ids))
    found: dict[str, int] = {}
    for start in range(0, len(names), 1000):
        rows = Customer.objects.filter(external_id__in=names[start : start + 1000]).values_list("external_id", "pk")
        found.update((external_id, pk) for external_id, pk in rows if external_id is not None)
    return found


def _customers(events: list[BulkEvent]) -> dict[str, int]:
    """Customer ids by external id; new customers are created as ``_customer_get_or_create`` does
    (with the details of their first event)."""
    given: dict[str, CustomerInput] = {}
    for event in events:
        if event.data.customer is not None:
            given.setdefault(event.data.customer.external_id, event.data.customer)
    ids = customer_ids(given)
    new = [(external_id, customer) for external_id, customer in given.items() if external_id not in ids]
    if not new:
        return ids
    keys = reserve_ids(Customer, len(new))
    rows: list[dict[str, Any]] = [
        {
            "id": key,
            "external_id": external_id,
            "display_name": customer.display_name,
            "email": customer.email,
            "phone": customer.phone,
        }
        for key, (external_id, customer) in zip(keys, new, strict=True)
    ]
    try:
        with transaction.atomic():
            rows_insert(Customer, rows)
    except IntegrityError:  # another process created some of them meanwhile: theirs stand
        Customer.objects.bulk_create([Customer(**row) for row in rows], ignore_conflicts=True)
        ids.update(customer_ids(external_id for external_id, _ in new))
    else:
        ids.update((row["external_id"], row["id"]) for row in rows)
    return ids


def bulk_replay(
    events: list[BulkEvent],
    contexts: dict[int, ProgramContext],
    *,
    release: bool,
    progress: Callable[[list[BulkEvent]], Iterable[BulkEvent]] | None = None,
) -> BulkResult:
    """Replay fresh members' ``events`` (in replay order) in memory and write them in chunks.

    ``contexts`` are the programs of the events' shops (active, no referrals). Call
    :func:`bulk_check` first: an event the service would refuse raises ``OrderError`` here after
    earlier chunks were written. With ``release`` the replayed accounts' pending lots due now are
    released at the end, as ``points_release_due(now)`` would. One durable transaction per
    ``CHUNK_EVENTS`` events; an interrupted replay leaves whole chunks, and members whose rows
    exist are then replayed event by event by the next run.
    """
    customers = _customers(events)
    replayer = _Replayer(contexts, customers, timezone.now())
    replayer.categories, replayer.products = _references(events)
    try:
        for done, event in enumerate(progress(events) if progress is not None else events, start=1):
            replayer.event(event)
            if done % CHUNK_EVENTS == 0:
                replayer.batches.submit(replayer.writer.snapshot())
        if release:
            replayer.release_all(timezone.now())
        replayer.batches.submit(replayer.writer.snapshot())
    finally:
        replayer.batches.close()
    return replayer.result
