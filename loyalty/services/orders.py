"""Applying order events to the ledger: the main flow (order delivered -> points -> tier).

The dramatiq actor ``loyalty.tasks.order_event_process_task`` and the importer both call
:func:`order_event_process`; it is idempotent three ways: the outbox row is locked and marked
processed in the same transaction, every entry has a unique idempotency key
(``order:<id>:earn``; ``order:<id>:reverse`` for an order's first reversal when it is a full
return, ``order:<id>:reverse:<event id>`` for every other), and the account row is locked while
posting. Reversals are cumulative (see :func:`_reverse`), so even a repeated one takes nothing
twice.

The worker calls :func:`order_events_process_batch`, which applies the named event and up to
``BATCH_SIZE`` other pending events claimed with ``SKIP LOCKED`` in one transaction, writing
returning members' plain deliveries in bulk, with the program's tiers and rules from a
per-process cache (docs/ledger.md, "Batches: one transaction posts many events").
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from redis.exceptions import RedisError

from loyalty.broadcasts import AccountUpdate, member_group, shop_group
from loyalty.events import ENTRY_EVENTS, entry_event_body, entry_event_record, member_ref
from loyalty.models import (
    EarningRule,
    EntryKind,
    LoyaltyProgram,
    MemberAccount,
    MemberStatus,
    PointsEntry,
    PointsLot,
    SourceType,
    TierBasis,
    TierWindow,
)
from loyalty.reasons import Reason
from loyalty.services.ledger import Movement, entry_existing, points_earn, points_take_back
from loyalty.services.lifecycle import account_release_due
from loyalty.services.occasions import welcome_bonus_post
from loyalty.services.periods import lot_expires_at
from loyalty.services.rules import (
    CENT,
    EarnQuote,
    QuoteLine,
    earning_quote,
    member_segments_of,
    points_paid_shares,
    program_rules,
    program_rules_cached,
)
from loyalty.services.tiers import account_get_or_enroll, program_tiers_cached, tier_evaluate, tier_for_value
from loyalty.signals import order_events_posted, order_points_posted
from marketplace.events import shop_event_row
from marketplace.models import Order, OrderEvent, OrderStatus, ShopEvent
from marketplace.services.order_events import order_event_failure_record

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderEventOutcome:
    """What processing one order event did (``entry`` is ``None`` when no points moved).

    ``parked``: the event is parked as failed and was left alone (it waits for ``orderEventRetry``).
    """

    event_id: int
    already_processed: bool
    account_id: int | None = None
    entry_id: int | None = None
    points: int = 0
    tier_changed: bool = False
    parked: bool = False


#: Statuses whose event takes back everything still unreturned.
FULL_RETURN_STATUSES = frozenset({OrderStatus.RETURNED, OrderStatus.REFUNDED})
RETURN_STATUSES = FULL_RETURN_STATUSES | {OrderStatus.PARTIALLY_RETURNED}


@dataclass(frozen=True)
class EarnLine:
    """One order line as it earns: ``amount`` is the line total less its share of points paid."""

    line_no: int
    quantity: int
    amount: Decimal
    category_id: int | None


def order_earn_lines(order: Order) -> list[EarnLine]:
    """The order's lines with the amount each earns on: line total less its points-paid share.

    The part of the goods paid with points (``Order.points_paid_amount``) earns nothing; it is
    spread over the lines by :func:`points_paid_shares`, so category multipliers of earning
    rules apply to each line's cash part and the amounts add up to ``goods - points paid``.
    """
    lines = list(order.lines.order_by("line_no"))
    shares = points_paid_shares([line.amount for line in lines], order.points_paid_amount)
    return [
        EarnLine(line_no=line.line_no, quantity=line.quantity, amount=line.amount - share, category_id=line.category_id)
        for line, share in zip(lines, shares, strict=True)
    ]


def order_earn_base(order: Order) -> Decimal:
    """Amount of the order that earns points and counts as spend: goods less the points-paid part."""
    return order.goods_amount - order.points_paid_amount


def order_quote(
    *, program: LoyaltyProgram, account: MemberAccount, order: Order, rules: list[EarningRule] | None = None
) -> EarnQuote:
    """Points the order earns for this member now, with the earning rules that apply.

    ``floor(earn base x points per currency unit x multiplier of the tier held before the
    order x a paid membership's extra multiplier)`` plus the rules' contributions
    (``services.rules``), where the earn base is the goods amount less the part paid with
    points (spread over the lines by :func:`order_earn_lines`); shipping never earns; nothing
    when the earn base is below the program's minimum order amount; nothing for a blocked
    member. Rules are read at the order's ``placed_at`` in the shop's time zone; a rule naming
    segments applies to their members (``member_segments_of``, one query then). Call it before
    the order's own qualifying value is added. ``rules`` (the program's active rules with their
    prefetches) spares reading them: the posting path passes
    its per-process cached ones (``program_rules_cached``).
    """
    if account.status == MemberStatus.BLOCKED:  # a blocked member earns nothing (docs/crm.md)
        return EarnQuote(base_points=0, points=0, rules=())
    if rules is None:
        rules = program_rules(program)
    if rules:
        lines = [QuoteLine(amount=line.amount, category_id=line.category_id) for line in order_earn_lines(order)]
    else:  # no campaign: the order total is all the rule needs (saves reading the lines)
        lines = [QuoteLine(amount=order_earn_base(order))]
    segments = member_segments_of(account.pk, rules)  # no query unless a rule names segments
    return earning_quote(
        program=program,
        rules=rules,
        lines=lines,
        at=order.placed_at,
        tier=account.tier,
        segments=segments,
        extra_multiplier=account.membership_multiplier,
    )


def _earn_available_at(program: LoyaltyProgram, order: Order, at: dt.datetime) -> dt.datetime:
    """When the earning of ``order`` becomes available: delivery (or ``at``) plus the pending days."""
    return (order.delivered_at or at) + dt.timedelta(days=program.effective_pending_days)


def _earn(program: LoyaltyProgram, account: MemberAccount, order: Order, at: dt.datetime) -> PointsEntry | None:
    """Post the pending earning of a delivered order (nothing for a zero-point order)."""
    quote = order_quote(program=program, account=account, order=order, rules=program_rules_cached(program))
    points = quote.points
    if points == 0:
        return None
    available_at = _earn_available_at(program, order, at)
    expires_at = lot_expires_at(program=program, available_at=available_at)
    qualifying = order_earn_base(order) if program.tier_basis == TierBasis.SPEND else Decimal(points)
    return points_earn(
        account=account,
        points=points,
        available_at=available_at,
        expires_at=expires_at,
        movement=Movement(
            kind=EntryKind.EARN,
            points=points,
            reason=f"Order {order.external_id} delivered",
            reason_code=Reason.ORDER_DELIVERED,
            reason_params={"order": order.external_id},
            source_type=SourceType.ORDER,
            source_id=str(order.pk),
            idempotency_key=f"order:{order.pk}:earn",
            at=at,
            qualifying_delta=qualifying,
            order_id=order.pk,
            applied_rules=tuple(rule.as_json() for rule in quote.rules),
        ),
    )


def returned_fraction(order: Order, event: OrderEvent) -> Fraction:
    """Share of the order's earn base returned by ``event`` and every earlier event, in [0, 1].

    A full return (RETURNED, REFUNDED) is 1. Otherwise each line's earn amount (its total less
    its points-paid share, :func:`order_earn_lines`) counts for the units returned so far out of
    its quantity: ``Σ earn amount x returned / quantity`` over the earn base, exactly (a
    ``Fraction``). The units come from the order's events up to ``event`` (not from the lines'
    ``returned_quantity``, which may already include later, unprocessed returns).
    """
    if event.status in FULL_RETURN_STATUSES:
        return Fraction(1)
    lines = order_earn_lines(order)
    base = sum((Fraction(line.amount) for line in lines), Fraction(0))
    if base == 0:
        return Fraction(0)
    returned: Counter[int] = Counter()
    for rows in OrderEvent.objects.filter(order_id=order.pk, pk__lte=event.pk).values_list("returned_lines", flat=True):
        for row in rows or ():
            returned[row["line_no"]] += row["quantity"]
    refunded = sum(
        (Fraction(line.amount) * min(returned[line.line_no], line.quantity) / line.quantity for line in lines),
        Fraction(0),
    )
    return min(refunded / base, Fraction(1))


def _reverse_reason(order: Order, event: OrderEvent) -> str:
    """What the member reads: ``Order A1 returned`` or ``Order A1 partially returned: 2 x line 1``."""
    if event.status in FULL_RETURN_STATUSES:
        return f"Order {order.external_id} {event.status}"
    lines = ", ".join(f"{row['quantity']} x line {row['line_no']}" for row in event.returned_lines)
    return f"Order {order.external_id} partially returned: {lines}"[:250]


def _reverse(program: LoyaltyProgram, account: MemberAccount, order: Order, event: OrderEvent) -> PointsEntry | None:
    """Take back the order's earning in proportion to what has been returned (one REVERSE entry).

    Cumulative, so partial returns never take more than the earning and a full return takes
    exactly the rest: ``target = floor(earned points x returned fraction)``
    (:func:`returned_fraction`); this event takes ``target`` minus what the order's earlier
    reversals took or wrote off. The qualifying value follows: to the cent (rounded down) of
    the earning's qualifying value x fraction on a spend basis, the target points on a points
    basis, all of it on a full return. ``points_take_back`` decides where the points come from
    (the order's lot, then other available points, then a recorded write-off).
    """
    earn = entry_existing(idempotency_key=f"order:{order.pk}:earn")
    if earn is None:
        return None
    earlier = list(PointsEntry.objects.filter(order_id=order.pk, kind=EntryKind.REVERSE))
    taken_before = sum(-entry.points + entry.unrecovered_points for entry in earlier)
    qualifying_before = -sum((entry.qualifying_delta for entry in earlier), Decimal("0"))
    fraction = returned_fraction(order, event)
    target = math.floor(earn.points * fraction)
    if fraction == 1:
        qualifying_target = earn.qualifying_delta
    elif program.tier_basis == TierBasis.POINTS:
        qualifying_target = min(Decimal(target), earn.qualifying_delta)
    else:
        cents = math.floor(Fraction(earn.qualifying_delta) * fraction / Fraction(CENT))  # exact, then down
        qualifying_target = Decimal(cents) * CENT
    full_first = event.status in FULL_RETURN_STATUSES and not earlier
    return points_take_back(
        account=account,
        lot=PointsLot.objects.get(entry=earn),
        points=max(target - taken_before, 0),
        qualifying_delta=-max(qualifying_target - qualifying_before, Decimal("0")),
        movement=Movement(
            kind=EntryKind.REVERSE,
            reason=_reverse_reason(order, event),
            reason_code=(
                Reason.ORDER_RETURNED if event.status in FULL_RETURN_STATUSES else Reason.ORDER_PARTIALLY_RETURNED
            ),
            reason_params=(
                {"order": order.external_id, "status": event.status}
                if event.status in FULL_RETURN_STATUSES
                else {
                    "order": order.external_id,
                    "lines": [[row["quantity"], row["line_no"]] for row in event.returned_lines],
                }
            ),
            source_type=SourceType.ORDER,
            source_id=str(order.pk),
            idempotency_key=f"order:{order.pk}:reverse" if full_first else f"order:{order.pk}:reverse:{event.pk}",
            at=event.occurred_at,
            order_id=order.pk,
        ),
    )


class OrderEventApplyError(Exception):
    """Applying event ``event_id`` raised ``cause`` (not a transient database error).

    Raised by :func:`order_event_process` so that the worker can count the failure against the
    event that failed, which may be an earlier event of the member pulled in ahead of the one
    the message named. The transaction was rolled back: nothing was applied.
    """

    def __init__(self, event_id: int, cause: BaseException) -> None:
        super().__init__(f"order event {event_id}: {type(cause).__name__}: {cause}")
        self.event_id = event_id
        self.cause = cause


class OrderEventBlocked(Exception):
    """An earlier event of the same order is parked as failed: this one must wait for its retry."""


def member_events_pending(event: OrderEvent) -> QuerySet[OrderEvent]:
    """The member's unprocessed, unparked events up to ``event``, and ``event`` itself, by primary key.

    The member is the order's customer in the order's shop (one account per customer and
    shop's program). Lazy; the caller adds ``select_for_update``.
    """
    return OrderEvent.objects.filter(
        Q(
            order__shop_id=event.order.shop_id,
            order__customer_id=event.order.customer_id,
            pk__lt=event.pk,
            processed_at__isnull=True,
            failed_at__isnull=True,
        )
        | Q(pk=event.pk)
    ).order_by("pk")


#: Events one batch transaction claims at most beside the named event's member chain (the
#: worker's default; docs/scaling.md, "Worker processes").
BATCH_SIZE = 50


class OrderEventBatchError(Exception):
    """A batch transaction failed and was rolled back: nothing of it was applied.

    ``event_ids`` are the events it held (by primary key), ``cause`` what failed: an
    :class:`OrderEventApplyError`, an :class:`OrderEventBlocked` of the named event, or a
    transient database error such as a deadlock. :func:`order_events_process_batch` then applies
    them one transaction per event.
    """

    def __init__(self, event_ids: list[int], chain_ids: list[int], cause: BaseException) -> None:
        super().__init__(f"batch of {len(event_ids)} order events failed: {type(cause).__name__}: {cause}")
        self.event_ids = event_ids
        self.chain_ids = chain_ids
        self.cause = cause


@dataclass(frozen=True)
class BatchOutcome:
    """What :func:`order_events_process_batch` did.

    ``outcome`` is the named event's; ``applied`` counts the events marked processed (the named
    one and the others the batch claimed); ``one_by_one`` says the batch failed and its events
    were applied one transaction each.
    """

    outcome: OrderEventOutcome
    applied: int = 0
    one_by_one: bool = False


#: Post the common case (a returning member's one delivered order in the batch) in bulk
#: (:func:`_earn_plan`); ``False`` applies every event through :func:`_apply`, the reference the
#: tests compare the bulk path with.
BULK_EARNINGS = True

#: ``next_due`` when it is not known: the release-due query must run.
_UNKNOWN = object()


def order_event_process(*, event_id: int, broadcast: bool = True) -> OrderEventOutcome:
    """Apply one outbox ``OrderEvent`` to the loyalty ledger, exactly once and in recorded order.

    Enrols the customer in the shop's program on their first order event; a DELIVERED event
    posts the pending earning (``order:<id>:earn``) and re-evaluates the tier; a
    PARTIALLY_RETURNED, RETURNED or REFUNDED event takes back the earning in proportion to the
    goods returned so far (:func:`_reverse`). Other statuses only enrol. Every applied event is
    marked processed in the same transaction.

    The determinism rule (docs/ledger.md, "Order of events"): a member's events (one customer
    in one shop) are applied in recorded (primary-key) order. Every unprocessed, unparked
    earlier event of the member (its message late, lost or queued behind this one) is pulled
    in and applied first, in the same transaction, so the tier multiplier, the releases and
    the reversals each event sees are those of the sequential replay, whatever the number of
    workers and the order the messages arrive in. An earlier event of the same order that is
    parked as failed blocks this one (:class:`OrderEventBlocked`): a return never overtakes
    its delivery. Parked events of other orders are skipped (they apply when retried).

    Locks: the member's pending events up to this one, in primary-key order (so two workers
    of one member serialise, and a late one finds its event processed), then the account row.
    An event parked as failed is left alone (``parked=True``). With ``broadcast`` an
    ``AccountUpdate`` goes to the member's and the shop's channel groups after commit. Opens
    its own durable transaction. Raises ``OrderEvent.DoesNotExist`` for an unknown id,
    :class:`OrderEventBlocked`, and :class:`OrderEventApplyError` (naming the event that
    failed) for any other error but a transient database one (``OperationalError``,
    ``InterfaceError``), which propagates as is. The worker uses
    :func:`order_events_process_batch`, which applies other pending events in the same
    transaction.
    """
    try:
        outcome, _ = _process(event_id=event_id, limit=0, broadcast=broadcast)
    except OrderEventBatchError as failed:  # one member's chain only: report what failed as such
        raise failed.cause from None
    return outcome


def order_events_process_batch(
    *, event_id: int, limit: int = BATCH_SIZE, max_attempts: int, broadcast: bool = True
) -> BatchOutcome:
    """Apply event ``event_id`` as :func:`order_event_process` does, and up to ``limit`` other pending events.

    The worker's entry point (``loyalty.tasks.order_event_process_task``), so that one
    transaction posts many events (docs/scaling.md, "Worker processes"). First one cheap read:
    an event already processed (by an earlier batch: the common case under load) or parked
    returns at once. Otherwise one durable transaction:

    1. locks the named event's member chain (its pending events up to it), waiting, as
       :func:`order_event_process` does;
    2. claims up to ``limit`` other unprocessed, unparked events, oldest first, with
       ``SELECT ... FOR UPDATE SKIP LOCKED`` (events another worker holds are left to it);
    3. per member of the claimed events, takes its earlier pending events too (the
       determinism rule) with ``SKIP LOCKED``; a member whose earlier event another transaction
       holds, or whose event's order has an earlier parked event, is cut before that event
       (its later events wait for their own messages): nothing ever waits here but step 1
       and the account locks, which are taken for the whole batch at once in primary-key
       order, so two batches cannot deadlock on events or accounts;
    4. applies each member's events in primary-key order and marks them all processed with
       one UPDATE.

    When the transaction fails (an event raises, the named event is blocked, or a deadlock with
    a referral's second account lock), it is rolled back and its events are applied one
    transaction each (:func:`order_event_process`): each other event that fails has one
    attempt counted against the event that failed
    (``marketplace.services.order_events.order_event_failure_record``, parked after
    ``max_attempts``), and the named event's error is raised at the end for the caller to
    count, exactly as :func:`order_event_process` raises it. So a poison event never holds
    back the others, and each failure is counted once against the right event.

    Returns a :class:`BatchOutcome`; raises what :func:`order_event_process` raises for the
    named event.
    """
    # The common case under load (an earlier batch applied it) costs this one read; plain SQL,
    # since the ORM's query building would cost more than the query.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT processed_at, failed_at FROM {OrderEvent._meta.db_table} WHERE id = %s",  # noqa: S608
            [event_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise OrderEvent.DoesNotExist(f"order event {event_id} does not exist")
    if row[0] is not None:
        return BatchOutcome(outcome=OrderEventOutcome(event_id=event_id, already_processed=True))
    if row[1] is not None:
        return BatchOutcome(outcome=OrderEventOutcome(event_id=event_id, already_processed=False, parked=True))
    try:
        outcome, applied = _process(event_id=event_id, limit=limit, broadcast=broadcast)
        return BatchOutcome(outcome=outcome, applied=applied)
    except OrderEventBatchError as failed:
        if isinstance(failed.cause, InterfaceError):  # the connection is gone: nothing one by one would do
            raise failed.cause from None
        logger.info("order event batch of %s failed, applying one by one: %s", event_id, failed.cause)
        return _one_by_one(failed, event_id=event_id, max_attempts=max_attempts, broadcast=broadcast)


def _one_by_one(failed: OrderEventBatchError, *, event_id: int, max_attempts: int, broadcast: bool) -> BatchOutcome:
    """After a failed batch: each of its events in its own transaction, in primary-key order.

    The named event's own chain (its member's events up to it) is left to the named event's
    call, which pulls them in, so an earlier poison event of that member is counted once (by
    the caller, from the error raised here) rather than twice.
    """
    named_error: BaseException | None = None
    outcome = OrderEventOutcome(event_id=event_id, already_processed=False)
    applied = 0
    chain = set(failed.chain_ids)
    for pk in sorted(failed.event_ids):
        if pk in chain and pk != event_id:
            continue
        try:
            result = order_event_process(event_id=pk, broadcast=broadcast)
        except (OrderEventApplyError, OrderEventBlocked) as exc:
            if pk == event_id:
                named_error = exc
                continue
            culprit = exc.event_id if isinstance(exc, OrderEventApplyError) else pk
            order_event_failure_record(event_id=culprit, error=str(exc), max_attempts=max_attempts)
            continue
        except OrderEvent.DoesNotExist:
            continue
        applied += not result.already_processed and not result.parked
        if pk == event_id:
            outcome = result
    if named_error is not None:
        raise named_error
    return BatchOutcome(outcome=outcome, applied=applied, one_by_one=True)


def _member_of(event: OrderEvent) -> tuple[int, int]:
    """The member an event belongs to: (shop id, customer id) of its order."""
    return event.order.shop_id, event.order.customer_id


def _process(*, event_id: int, limit: int, broadcast: bool) -> tuple[OrderEventOutcome, int]:
    """One durable transaction: the named event's chain, ``limit`` claimed others, applied; see
    :func:`order_events_process_batch`. Returns the named event's outcome and the events applied.

    Raises ``OrderEvent.DoesNotExist``; anything raised while applying is wrapped in
    :class:`OrderEventBatchError` (after the rollback), whose ``cause`` is an
    :class:`OrderEventApplyError`, :class:`OrderEventBlocked` or a database error.
    """
    held: dict[int, OrderEvent] = {}
    chain_ids: list[int] = []
    try:
        with transaction.atomic(durable=True):
            member = OrderEvent.objects.filter(pk=event_id).values_list("order__shop_id", "order__customer_id").first()
            if member is None:
                raise OrderEvent.DoesNotExist(f"order event {event_id} does not exist")
            chain = list(
                OrderEvent.objects.select_for_update(of=("self",))
                .select_related("order__customer")
                .filter(
                    Q(
                        order__shop_id=member[0],
                        order__customer_id=member[1],
                        pk__lt=event_id,
                        processed_at__isnull=True,
                        failed_at__isnull=True,
                    )
                    | Q(pk=event_id)
                )
                .order_by("pk")
            )
            if not chain or chain[-1].pk != event_id:
                raise OrderEvent.DoesNotExist(f"order event {event_id} does not exist")
            named = chain[-1]
            if named.processed_at is not None:
                return OrderEventOutcome(event_id=event_id, already_processed=True), 0
            if named.failed_at is not None:  # a stray message for a parked event: leave it parked
                return OrderEventOutcome(event_id=event_id, already_processed=False, parked=True), 0
            chain_ids = [event.pk for event in chain]
            held = {event.pk: event for event in chain}
            members = _claim(held, named, limit)
            return _apply_members(members, held, named, broadcast)
    except OrderEvent.DoesNotExist:
        raise
    except (OrderEventApplyError, OrderEventBlocked, OperationalError, InterfaceError) as exc:
        raise OrderEventBatchError(sorted(held), chain_ids, exc) from exc


def _claim(held: dict[int, OrderEvent], named: OrderEvent, limit: int) -> dict[tuple[int, int], list[OrderEvent]]:
    """Claim up to ``limit`` other pending events into ``held`` and group everything by member.

    Returns each member's events in primary-key order, each list cut before the first event
    that must not be applied now (see :func:`order_events_process_batch`, steps 2 and 3). The
    named member's chain up to the named event is never cut (it was locked, waiting).
    """
    if limit > 0:
        claimed = (
            OrderEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("order__customer")
            .filter(processed_at__isnull=True, failed_at__isnull=True)
            .order_by("created_at", "pk")[:limit]
        )
        for event in claimed:
            held.setdefault(event.pk, event)
    members: dict[tuple[int, int], list[OrderEvent]] = {}
    for pk in sorted(held):
        members.setdefault(_member_of(held[pk]), []).append(held[pk])
    named_member = _member_of(named)
    # Lowest pending event of each member we may not apply (held elsewhere, or blocked).
    cut: dict[tuple[int, int], int] = {}
    if limit > 0:
        tops = {key: events[-1].pk for key, events in members.items()}
        floors = {key: (named.pk if key == named_member else 0) for key in members}
        if any(tops[key] > floors[key] for key in members):
            earlier = (
                OrderEvent.objects.filter(
                    order__customer_id__in={key[1] for key in members},
                    processed_at__isnull=True,
                    failed_at__isnull=True,
                    pk__lt=max(tops.values()),
                )
                .exclude(pk__in=list(held))
                .values_list("pk", "order__shop_id", "order__customer_id")
            )
            missing = {
                pk: (shop_id, customer_id)
                for pk, shop_id, customer_id in earlier
                if (shop_id, customer_id) in members
                and floors[(shop_id, customer_id)] < pk < tops[(shop_id, customer_id)]
            }
            if missing:
                got = (
                    OrderEvent.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("order__customer")
                    .filter(pk__in=list(missing), processed_at__isnull=True, failed_at__isnull=True)
                )
                for event in got:
                    held[event.pk] = event
                    members[missing[event.pk]].append(event)
                for pk, key in missing.items():
                    if pk not in held:
                        cut[key] = min(cut.get(key, pk), pk)
                for events in members.values():
                    events.sort(key=lambda event: event.pk)
    # An event whose order has an earlier parked event waits for it (docs/ledger.md, "Failed events").
    parked = (
        OrderEvent.objects.filter(
            order_id__in={event.order_id for event in held.values()},
            processed_at__isnull=True,
            failed_at__isnull=False,
        )
        .order_by("pk")
        .values_list("order_id", "pk")
    )
    first_parked: dict[int, int] = {}
    for order_id, pk in parked:
        first_parked.setdefault(order_id, pk)
    if first_parked.get(named.order_id, named.pk) < named.pk:
        raise OrderEventBlocked(f"waits for failed event {first_parked[named.order_id]} of the same order")
    for key, events in members.items():
        floor = named.pk if key == named_member else 0
        for event in events:
            if event.pk > floor and first_parked.get(event.order_id, event.pk) < event.pk:
                cut[key] = min(cut.get(key, event.pk), event.pk)
                break
    return {
        key: [event for event in events if event.pk < cut.get(key, event.pk + 1)]
        for key, events in members.items()
        if events and events[0].pk < cut.get(key, events[0].pk + 1)
    }


def _apply_members(
    members: dict[tuple[int, int], list[OrderEvent]], held: dict[int, OrderEvent], named: OrderEvent, broadcast: bool
) -> tuple[OrderEventOutcome, int]:
    """Apply each member's events in order inside the batch transaction; mark them processed.

    Reads the programs of the members' shops (one query; fresh, so their ``config_version``
    keys the per-process caches of tiers and rules) and locks every existing account of the
    batch in one ``SELECT ... FOR UPDATE`` in primary-key order, with the earliest
    ``available_at`` of its pending lots, so that the release-due query runs only when a lot
    is due.
    """
    shop_ids = {key[0] for key in members}
    programs = {
        program.shop_id: program
        for program in LoyaltyProgram.objects.select_related("shop").filter(shop_id__in=shop_ids)
    }
    wanted = Q()
    for shop_id, customer_id in members:
        if shop_id in programs:
            wanted |= Q(program_id=programs[shop_id].pk, customer_id=customer_id)
    accounts: dict[tuple[int, int], MemberAccount] = {}
    if wanted:
        next_due = (
            PointsLot.objects.filter(account_id=OuterRef("pk"), released_at__isnull=True)
            .order_by("available_at")
            .values("available_at")[:1]
        )
        for locked in (
            MemberAccount.objects.select_for_update(of=("self",))
            .select_related("tier")
            .filter(wanted)
            .annotate(next_due=Subquery(next_due))
            .order_by("pk")
        ):
            accounts[(locked.program_id, locked.customer_id)] = locked
    outcome = OrderEventOutcome(event_id=named.pk, already_processed=False)
    applied: list[int] = []
    updates: list[AccountUpdate] = []
    plans: list[_EarnPlan] = []
    touched: dict[int, MemberAccount] = {}
    for (shop_id, customer_id), events in members.items():
        program = programs.get(shop_id)
        account: MemberAccount | None = accounts.get((program.pk, customer_id)) if program is not None else None
        due: object = getattr(account, "next_due", None) if account is not None else _UNKNOWN
        if BULK_EARNINGS and program is not None and account is not None and len(events) == 1:
            try:
                plan = _earn_plan(events[0], program, account, due)
            except (OperationalError, InterfaceError):
                raise
            except Exception as exc:
                raise OrderEventApplyError(events[0].pk, exc) from exc
            if plan is not None:  # posted with the others below, in bulk
                plans.append(plan)
                applied.append(events[0].pk)
                continue
        orders: dict[int, Order] = {}
        for event in events:
            # One instance per order: its status history is applied to it in turn.
            order = orders.setdefault(event.order_id, event.order)
            result = None
            try:
                takes = program is not None and (
                    program.active or (event.status in RETURN_STATUSES and account is not None)
                )
                if takes:
                    assert program is not None
                    result, account, due = _apply(
                        event, order, program, broadcast, account=account, due=due, updates=updates
                    )
            except (OperationalError, InterfaceError):
                raise
            except Exception as exc:
                raise OrderEventApplyError(event.pk, exc) from exc
            if result is not None and event.pk == named.pk:
                outcome = result
            applied.append(event.pk)
        if account is not None:
            # What the receivers of order_events_posted read, so that they need not read it again.
            assert program is not None  # an account is found or made only in a program
            account.program = program
            account.customer = events[0].order.customer
            touched[account.pk] = account
    for result in _earn_plans_post(plans, updates, broadcast):
        if result.event_id == named.pk:
            outcome = result
    touched |= {plan.account.pk: plan.account for plan in plans}
    if touched:
        try:
            order_events_posted.send(
                sender=OrderEvent,
                accounts=list(touched.values()),
                deliveries=[(plan.account, plan.order) for plan in plans if plan.bulk_posted],
            )
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:  # names no single event: the batch falls back to one by one
            raise OrderEventApplyError(named.pk, exc) from exc
    # One UPDATE for the batch, just before the commit (the bench's "posted" time).
    OrderEvent.objects.filter(pk__in=applied).update(processed_at=timezone.now(), attempts=F("attempts") + 1)
    if updates:
        transaction.on_commit(lambda: broadcast_many(updates))
    return outcome, len(applied)


@dataclass
class _EarnPlan:
    """A delivered order of a returning member, computed in memory, to be posted in bulk."""

    event: OrderEvent
    order: Order
    program: LoyaltyProgram
    account: MemberAccount
    points: int
    rules: tuple[dict, ...]
    qualifying: Decimal
    available_at: dt.datetime
    expires_at: dt.datetime | None
    key: str
    #: Set by :func:`_earn_plans_post` when the plan was posted in bulk (its key was new).
    bulk_posted: bool = False


def _earn_plan(event: OrderEvent, program: LoyaltyProgram, account: MemberAccount, due: object) -> _EarnPlan | None:
    """The bulk plan of ``event`` when it is the common case, else ``None`` (applied by :func:`_apply`).

    The common case, where :func:`_apply` would write exactly one earning and its lot and move
    the balances, and nothing else: a DELIVERED event, the only one of its member in the batch,
    of an active program with a lifetime tier window, for an existing account (locked by the
    batch) with no pending lot due at the event's time, that moves no tier. Reads nothing
    (the ladder and rules come from the per-process cache) except the order's lines when the
    program has rules, and the member's segments when a rule names any.
    """
    at = event.occurred_at
    if (
        event.status != OrderStatus.DELIVERED
        or not program.active
        or program.tier_window != TierWindow.LIFETIME
        or account.tier_floor_id is not None  # the earned tier beneath a membership moves the ordinary way
        or due is _UNKNOWN
        or (isinstance(due, dt.datetime) and due <= at)
    ):
        return None
    order = event.order
    account.program = program
    account.customer = order.customer
    quote = order_quote(program=program, account=account, order=order, rules=program_rules_cached(program))
    if quote.points <= 0:
        return None  # no entry: the ordinary path does the rest (signal only)
    qualifying = order_earn_base(order) if program.tier_basis == TierBasis.SPEND else Decimal(quote.points)
    target = tier_for_value(program_tiers_cached(program), account.qualifying_value + qualifying)
    current = account.tier
    if target is not None and (current is None or target.position > current.position):
        return None  # an upgrade: tier history, its event and update go the ordinary way
    available_at = _earn_available_at(program, order, at)
    return _EarnPlan(
        event=event,
        order=order,
        program=program,
        account=account,
        points=quote.points,
        rules=tuple(rule.as_json() for rule in quote.rules),
        qualifying=qualifying,
        available_at=available_at,
        expires_at=lot_expires_at(program=program, available_at=available_at),
        key=f"order:{order.pk}:earn",
    )


def _earn_plans_post(plans: list[_EarnPlan], updates: list[AccountUpdate], broadcast: bool) -> list[OrderEventOutcome]:
    """Post the planned earnings in bulk, exactly as ``points_earn`` posts each, and finish each event.

    One read of the idempotency keys (a plan whose key exists goes through :func:`_apply`,
    which returns the existing entry), one multi-row INSERT of the entries, one of the lots,
    one UPDATE of all the accounts' balances (``UPDATE ... FROM (VALUES ...)``), then per
    event its ``points.earned`` shop event and the ``order_points_posted`` signal (referrals),
    in event order. Every row equals what ``points_earn`` writes (kind, deltas, balances
    after, reason, rules, key, business time; tests/loyalty/test_worker_batches.py compares
    the ledgers). Each account appears in one plan at most (one event per member).
    """
    if not plans:
        return []
    existing = set(
        PointsEntry.objects.filter(idempotency_key__in=[plan.key for plan in plans]).values_list(
            "idempotency_key", flat=True
        )
    )
    results: list[OrderEventOutcome] = []
    if existing:
        for plan in [plan for plan in plans if plan.key in existing]:
            try:
                result, _, _ = _apply(
                    plan.event, plan.order, plan.program, broadcast, account=plan.account, due=None, updates=updates
                )
            except (OperationalError, InterfaceError):
                raise
            except Exception as exc:
                raise OrderEventApplyError(plan.event.pk, exc) from exc
            results.append(result)
        plans = [plan for plan in plans if plan.key not in existing]
        if not plans:
            return results
    for plan in plans:
        plan.bulk_posted = True
    try:
        entries = PointsEntry.objects.bulk_create([_earn_entry(plan) for plan in plans])
        PointsLot.objects.bulk_create(
            PointsLot(
                account=plan.account,
                entry=entry,
                points=plan.points,
                remaining=plan.points,
                available_at=plan.available_at,
                released_at=plan.event.occurred_at if plan.available_at <= plan.event.occurred_at else None,
                expires_at=plan.expires_at,
            )
            for plan, entry in zip(plans, entries, strict=True)
        )
        _accounts_move(plans, entries)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:  # a bulk write names no single event: the batch falls back to one by one
        raise OrderEventApplyError(plans[0].event.pk, exc) from exc
    try:
        _earn_events_record(plans, entries)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        raise OrderEventApplyError(plans[0].event.pk, exc) from exc
    for plan, entry in zip(plans, entries, strict=True):
        try:
            order_points_posted.send(
                sender=OrderEvent,
                order=plan.order,
                account=plan.account,
                event_status=plan.event.status,
                at=plan.event.occurred_at,
                broadcast=broadcast,
            )
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:
            raise OrderEventApplyError(plan.event.pk, exc) from exc
        if broadcast:
            updates.append(
                AccountUpdate(
                    account_id=plan.account.pk,
                    customer_id=plan.order.customer_id,
                    shop_id=plan.order.shop_id,
                    entry_id=entry.pk,
                    kind=entry.kind,
                    points=entry.points,
                    reason=entry.reason,
                )
            )
        results.append(
            OrderEventOutcome(
                event_id=plan.event.pk,
                already_processed=False,
                account_id=plan.account.pk,
                entry_id=entry.pk,
                points=entry.points,
            )
        )
    return results


def _earn_events_record(plans: list[_EarnPlan], entries: list[PointsEntry]) -> None:
    """The ``points.earned`` shop events of the bulk-posted ``entries``, in one multi-row INSERT.

    The first goes through ``entry_event_record`` itself, which also arranges the feed's
    announcement after the commit (one per transaction); the others get the same body
    (``loyalty.events.entry_event_body``) and are inserted together.
    """
    entry_event_record(plans[0].account, entries[0])
    rows = []
    for plan, entry in zip(plans[1:], entries[1:], strict=True):
        shop_id, member = member_ref(plan.account)
        data = entry_event_body(member, entry)
        row = shop_event_row(shop_id=shop_id, type=ENTRY_EVENTS[entry.kind], data=data, occurred_at=entry.created_at)
        rows.append(ShopEvent(**row))
    if rows:
        ShopEvent.objects.bulk_create(rows)


def _earn_entry(plan: _EarnPlan) -> PointsEntry:
    """The EARN entry ``points_earn`` would write for ``plan``; moves the plan's account in memory.

    Same fields as ``ledger._append`` of a ``Movement`` from :func:`_earn`: available at once
    when the pending period is over at the event's time, else pending; lifetime and
    qualifying value grow; ``last_activity_at`` is the business time.
    """
    account, at, points = plan.account, plan.event.occurred_at, plan.points
    released = plan.available_at <= at
    available_delta, pending_delta = (points, 0) if released else (0, points)
    account.points_available += available_delta
    account.points_pending += pending_delta
    account.lifetime_points += points
    account.qualifying_value += plan.qualifying
    account.last_activity_at = at
    # What the member reads, as _earn words it; the key makes a second posting impossible.
    return PointsEntry(
        account=account,
        kind=EntryKind.EARN,
        points=points,
        available_delta=available_delta,
        pending_delta=pending_delta,
        available_after=account.points_available,
        pending_after=account.points_pending,
        qualifying_delta=plan.qualifying,
        reason=f"Order {plan.order.external_id} delivered",
        reason_code=Reason.ORDER_DELIVERED,
        reason_params={"order": plan.order.external_id},
        applied_rules=list(plan.rules),
        source_type=SourceType.ORDER,
        source_id=str(plan.order.pk),
        order_id=plan.order.pk,
        idempotency_key=plan.key,
        created_at=at,
    )


def _accounts_move(plans: list[_EarnPlan], entries: list[PointsEntry]) -> None:
    """One UPDATE moving every planned account's cached balances by its entry (``ledger._append``'s
    ``F()`` update, for many accounts at once)."""
    rows = [
        (
            plan.account.pk,
            entry.available_delta,
            entry.pending_delta,
            entry.points,
            entry.qualifying_delta,
            entry.created_at,
        )
        for plan, entry in zip(plans, entries, strict=True)
    ]
    values = ", ".join(["(%s, %s, %s, %s, %s::numeric, %s::timestamptz)"] * len(rows))
    table = MemberAccount._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS a SET points_available = a.points_available + v.available, "  # noqa: S608 (no user input)
            "points_pending = a.points_pending + v.pending, lifetime_points = a.lifetime_points + v.points, "
            "qualifying_value = a.qualifying_value + v.qualifying, last_activity_at = v.at "
            f"FROM (VALUES {values}) AS v(id, available, pending, points, qualifying, at) WHERE a.id = v.id",
            [value for row in rows for value in row],
        )


def broadcast_many(updates: list[AccountUpdate]) -> None:
    """Send a batch's live updates now (call after commit): each to its member's and shop's groups.

    One event loop and Redis connection for the whole batch (``loyalty.broadcasts.broadcast``
    starts one per update: 8 ms each, a third of the worker's time before batches). Messages to
    one group keep their order (a member's updates in event order); different groups are sent
    concurrently. Best-effort like every live update: a channel-layer outage is logged and the
    posting stands (clients refetch on reconnect).
    """
    layer = get_channel_layer()
    if layer is None or not updates:
        return
    by_group: dict[str, list[dict]] = {}
    for update in updates:
        message = update.as_message()  # one message id for both groups (read once per web process)
        by_group.setdefault(member_group(update.customer_id), []).append(message)
        by_group.setdefault(shop_group(update.shop_id), []).append(message)

    async def send_in_order(group: str, messages: list[dict]) -> None:
        for message in messages:
            await layer.group_send(group, message)

    async def send_all() -> None:
        await asyncio.gather(*(send_in_order(group, messages) for group, messages in by_group.items()))

    try:
        async_to_sync(send_all)()
    except (OSError, RedisError) as exc:  # redis outage: the posting stands, clients refetch
        logger.warning("%d live updates not sent: %s", len(updates), exc)


def _apply(
    event: OrderEvent,
    order: Order,
    program: LoyaltyProgram,
    broadcast: bool,
    *,
    account: MemberAccount | None = None,
    due: object = _UNKNOWN,
    updates: list[AccountUpdate],
) -> tuple[OrderEventOutcome, MemberAccount, object]:
    """Enrol, post and evaluate for one event inside the posting transaction.

    ``account`` is the member's account already locked by the batch (``None``: enrol or lock it
    now); ``due`` the earliest ``available_at`` of its pending lots (``None``: none pending,
    ``_UNKNOWN``: ask the database). The live update (with ``broadcast``) is appended to
    ``updates``, which the batch sends after its commit. Returns the outcome, the account and
    the new ``due``.
    """
    at = event.occurred_at
    created = False
    if account is None:
        account, created = account_get_or_enroll(customer=order.customer, program=program, at=at)
        due = None if created else _UNKNOWN
    else:
        # The batch's locked row: give it the caller's program and customer (no query when read).
        account.program = program
        account.customer = order.customer
    account.program = program
    if created:  # the welcome bonus (once per account, its own live update)
        welcome_bonus_post(account=account, program=program, at=at, broadcast=broadcast)
    # Release on touch: lots due by now become available before this event posts, so the
    # account's entries stay in event-time order even when the release job runs late (or, in
    # a replay, not at all until the end). Skipped when no pending lot is due (``due`` known).
    released = 0
    if due is _UNKNOWN or (isinstance(due, dt.datetime) and due <= at):
        _, released = account_release_due(account=account, now=at)
        due = _UNKNOWN
    entry = None
    if event.status == OrderStatus.DELIVERED:
        entry = _earn(program, account, order, at)
        if entry is not None and entry.pending_delta > 0 and isinstance(due, dt.datetime | None):
            available_at = _earn_available_at(program, order, at)
            due = available_at if due is None else min(due, available_at)
    elif event.status in RETURN_STATUSES:
        entry = _reverse(program, account, order, event)
    change = None
    if entry is not None:
        tiers = program_tiers_cached(program)
        if event.status in RETURN_STATUSES:
            reason = f"Order {order.external_id} {OrderStatus(event.status).label.lower()}: qualifying value fell"
            change = tier_evaluate(account=account, at=at, reason=reason, returned=True, tiers=tiers)
        else:
            change = tier_evaluate(
                account=account, at=at, reason=f"Qualified with order {order.external_id}", tiers=tiers
            )
    # Higher apps (referrals) react inside this transaction without loyalty importing them.
    order_points_posted.send(
        sender=OrderEvent, order=order, account=account, event_status=event.status, at=at, broadcast=broadcast
    )
    if broadcast and (entry is not None or created or released):
        if entry is not None:
            kind, points, reason = entry.kind, entry.points, entry.reason
        elif released:
            kind, points, reason = EntryKind.RELEASE.value, released, "Pending points became available"
        else:
            kind, points, reason = "enrolled", 0, "Enrolled in the program"
        updates.append(
            AccountUpdate(
                account_id=account.pk,
                customer_id=order.customer_id,
                shop_id=order.shop_id,
                entry_id=entry.pk if entry else None,
                kind=kind,
                points=points,
                reason=reason,
                tier_changed=change is not None,
            )
        )
    outcome = OrderEventOutcome(
        event_id=event.pk,
        already_processed=False,
        account_id=account.pk,
        entry_id=entry.pk if entry else None,
        points=entry.points if entry else 0,
        tier_changed=change is not None,
    )
    return outcome, account, due
