"""Applying order events to the ledger: the main flow (order delivered -> points -> tier).

The dramatiq actor ``loyalty.tasks.order_event_process_task`` and the importer both call
:func:`order_event_process`; it is idempotent three ways: the outbox row is locked and marked
processed in the same transaction, every entry has a unique idempotency key
(``order:<id>:earn``; ``order:<id>:reverse`` for an order's first reversal when it is a full
return, ``order:<id>:reverse:<event id>`` for every other), and the account row is locked while
posting. Reversals are cumulative (see :func:`_reverse`), so even a repeated one takes nothing
twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from loyalty.broadcasts import AccountUpdate, broadcast_on_commit
from loyalty.models import EntryKind, LoyaltyProgram, MemberAccount, PointsEntry, PointsLot, SourceType, TierBasis
from loyalty.services.ledger import Movement, entry_existing, points_earn, points_take_back
from loyalty.services.lifecycle import account_release_due
from loyalty.services.occasions import welcome_bonus_post
from loyalty.services.periods import lot_expires_at
from loyalty.services.rules import CENT, EarnQuote, QuoteLine, earning_quote, points_paid_shares, program_rules
from loyalty.services.tiers import account_get_or_enroll, tier_evaluate
from loyalty.signals import order_points_posted
from marketplace.models import Order, OrderEvent, OrderStatus

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


def order_quote(*, program: LoyaltyProgram, account: MemberAccount, order: Order) -> EarnQuote:
    """Points the order earns for this member now, with the earning rules that apply.

    ``floor(earn base x points per currency unit x multiplier of the tier held before the
    order)`` plus the rules' contributions (``services.rules``), where the earn base is the
    goods amount less the part paid with points (spread over the lines by
    :func:`order_earn_lines`); shipping never earns; nothing when the earn base is below the
    program's minimum order amount. Rules are read at the order's ``placed_at`` in the shop's
    time zone. Call it before the order's own qualifying value is added.
    """
    rules = program_rules(program)
    if rules:
        lines = [QuoteLine(amount=line.amount, category_id=line.category_id) for line in order_earn_lines(order)]
    else:  # no campaign: the order total is all the rule needs (saves reading the lines)
        lines = [QuoteLine(amount=order_earn_base(order))]
    return earning_quote(program=program, rules=rules, lines=lines, at=order.placed_at, tier=account.tier)


def _earn(program: LoyaltyProgram, account: MemberAccount, order: Order, at: dt.datetime) -> PointsEntry | None:
    """Post the pending earning of a delivered order (nothing for a zero-point order)."""
    quote = order_quote(program=program, account=account, order=order)
    points = quote.points
    if points == 0:
        return None
    delivered = order.delivered_at or at
    available_at = delivered + dt.timedelta(days=program.effective_pending_days)
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
    of one member serialise, and a late one finds its event processed), then the account row
    (``account_get_or_enroll``). An event parked as failed is left alone (``parked=True``).
    With ``broadcast`` an ``AccountUpdate`` goes to the member's and the shop's channel groups
    after commit. Opens its own durable transaction. Raises
    ``OrderEvent.DoesNotExist`` for an unknown id, :class:`OrderEventBlocked`, and
    :class:`OrderEventApplyError` (naming the event that failed) for any other error but a
    transient database one (``OperationalError``, ``InterfaceError``), which propagates as is.
    """
    with transaction.atomic(durable=True):
        target = OrderEvent.objects.select_related("order").filter(pk=event_id).first()
        if target is None:
            raise OrderEvent.DoesNotExist(f"order event {event_id} does not exist")
        events = list(
            member_events_pending(target)
            .select_for_update(of=("self",))
            .select_related("order__shop__program__shop", "order__customer")
        )
        if not events or events[-1].pk != event_id:
            raise OrderEvent.DoesNotExist(f"order event {event_id} does not exist")
        if events[-1].processed_at is not None:
            return OrderEventOutcome(event_id=event_id, already_processed=True)
        if events[-1].failed_at is not None:  # a stray message for a parked event: leave it parked
            return OrderEventOutcome(event_id=event_id, already_processed=False, parked=True)
        blocker = (
            OrderEvent.objects.filter(
                order_id=target.order_id, pk__lt=event_id, processed_at__isnull=True, failed_at__isnull=False
            )
            .values_list("pk", flat=True)
            .first()
        )
        if blocker is not None:
            raise OrderEventBlocked(f"waits for failed event {blocker} of the same order")
        outcome = OrderEventOutcome(event_id=event_id, already_processed=False)
        orders: dict[int, Order] = {}
        for event in events:
            # One instance per order: its status history is applied to it in turn.
            order = orders.setdefault(event.order_id, event.order)
            try:
                program = getattr(order.shop, "program", None)
                takes = program is not None and _program_takes(program, event, order)
                applied = _apply(event, order, program, broadcast) if program is not None and takes else None
            except (OperationalError, InterfaceError):
                raise
            except Exception as exc:
                raise OrderEventApplyError(event.pk, exc) from exc
            if applied is not None and event.pk == event_id:
                outcome = applied
            OrderEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now(), attempts=event.attempts + 1)
    return outcome


def _program_takes(program: LoyaltyProgram, event: OrderEvent, order: Order) -> bool:
    """Whether the program acts on the event: every event while active; while paused (inactive),
    only returns and refunds of members' orders, so points earned before the pause still go back
    with the goods. Nobody enrols and nothing is earned while paused."""
    if program.active:
        return True
    return (
        event.status in RETURN_STATUSES
        and MemberAccount.objects.filter(program=program, customer_id=order.customer_id).exists()
    )


def _apply(event: OrderEvent, order: Order, program: LoyaltyProgram, broadcast: bool) -> OrderEventOutcome:
    """Enrol, post and evaluate for one event inside ``order_event_process``'s transaction."""
    at = event.occurred_at
    account, created = account_get_or_enroll(customer=order.customer, program=program, at=at)
    account.program = program
    if created:  # the welcome bonus (once per account, its own live update)
        welcome_bonus_post(account=account, program=program, at=at, broadcast=broadcast)
    # Release on touch: lots due by now become available before this event posts, so the
    # account's entries stay in event-time order even when the release job runs late (or, in
    # a replay, not at all until the end).
    _, released = account_release_due(account=account, now=at)
    entry = None
    if event.status == OrderStatus.DELIVERED:
        entry = _earn(program, account, order, at)
    elif event.status in RETURN_STATUSES:
        entry = _reverse(program, account, order, event)
    change = None
    if entry is not None:
        if event.status in RETURN_STATUSES:
            reason = f"Order {order.external_id} {OrderStatus(event.status).label.lower()}: qualifying value fell"
            change = tier_evaluate(account=account, at=at, reason=reason, returned=True)
        else:
            change = tier_evaluate(account=account, at=at, reason=f"Qualified with order {order.external_id}")
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
        broadcast_on_commit(
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
    return OrderEventOutcome(
        event_id=event.pk,
        already_processed=False,
        account_id=account.pk,
        entry_id=entry.pk if entry else None,
        points=entry.points if entry else 0,
        tier_changed=change is not None,
    )
