"""Applying order events to the ledger: the main flow (order delivered -> points -> tier).

The dramatiq actor ``loyalty.tasks.order_event_process_task`` and the importer both call
:func:`order_event_process`; it is idempotent three ways: the outbox row is locked and marked
processed in the same transaction, every entry has a unique idempotency key
(``order:<id>:earn``, ``order:<id>:reverse``), and the account row is locked while posting.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone

from loyalty.broadcasts import AccountUpdate, broadcast_on_commit
from loyalty.models import EntryKind, LoyaltyProgram, MemberAccount, PointsEntry, PointsLot, SourceType, TierBasis
from loyalty.services.ledger import Movement, points_earn, points_reverse_lot
from loyalty.services.lifecycle import account_release_due
from loyalty.services.rules import EarnQuote, QuoteLine, earning_quote, program_rules
from loyalty.services.tiers import account_get_or_enroll, tier_evaluate
from marketplace.models import Order, OrderEvent, OrderStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderEventOutcome:
    """What processing one order event did (``entry`` is ``None`` when no points moved)."""

    event_id: int
    already_processed: bool
    account_id: int | None = None
    entry_id: int | None = None
    points: int = 0
    tier_changed: bool = False


def order_quote(*, program: LoyaltyProgram, account: MemberAccount, order: Order) -> EarnQuote:
    """Points the order earns for this member now, with the earning rules that apply.

    ``floor(goods amount x points per currency unit x multiplier of the tier held before the
    order)`` plus the rules' contributions (``services.rules``); shipping never earns; nothing
    below the program's minimum order amount. Rules are read at the order's ``placed_at`` in
    the shop's time zone. Call it before the order's own qualifying value is added.
    """
    rules = program_rules(program)
    if rules:
        lines = [QuoteLine(amount=line.amount, category_id=line.category_id) for line in order.lines.all()]
    else:  # no campaign: the order total is all the rule needs (saves reading the lines)
        lines = [QuoteLine(amount=order.goods_amount)]
    return earning_quote(program=program, rules=rules, lines=lines, at=order.placed_at, tier=account.tier)


def _earn(program: LoyaltyProgram, account: MemberAccount, order: Order, at: dt.datetime) -> PointsEntry | None:
    """Post the pending earning of a delivered order (nothing for a zero-point order)."""
    quote = order_quote(program=program, account=account, order=order)
    points = quote.points
    if points == 0:
        return None
    delivered = order.delivered_at or at
    available_at = delivered + dt.timedelta(days=program.effective_pending_days)
    expires_at = available_at + relativedelta(months=program.expiry_months) if program.expiry_months else None
    qualifying = order.goods_amount if program.tier_basis == TierBasis.SPEND else Decimal(points)
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


def _reverse(
    program: LoyaltyProgram, account: MemberAccount, order: Order, status: str, at: dt.datetime
) -> PointsEntry | None:
    """Take back what remains of a returned/refunded order's earning (whole order).

    Partial, line-by-line returns and the policy for points already spent come with the
    lifecycle issue; until then a return reverses the remainder of the order's lot, so no
    balance can go negative.
    """
    earn = PointsEntry.objects.filter(idempotency_key=f"order:{order.pk}:earn").first()
    if earn is None:
        return None
    lot = PointsLot.objects.get(entry=earn)
    qualifying = -earn.qualifying_delta
    return points_reverse_lot(
        account=account,
        lot=lot,
        qualifying_delta=qualifying,
        movement=Movement(
            kind=EntryKind.REVERSE,
            reason=f"Order {order.external_id} {status}",
            source_type=SourceType.ORDER,
            source_id=str(order.pk),
            idempotency_key=f"order:{order.pk}:reverse",
            at=at,
            order_id=order.pk,
        ),
    )


def order_event_process(*, event_id: int, broadcast: bool = True) -> OrderEventOutcome:
    """Apply one outbox ``OrderEvent`` to the loyalty ledger, exactly once and in order.

    Enrols the customer in the shop's program on their first order event; a DELIVERED event
    posts the pending earning (``order:<id>:earn``) and re-evaluates the tier; a RETURNED or
    REFUNDED event reverses what remains of it. Other statuses only enrol. Events of one order
    are applied in the order they were recorded: an earlier event still unprocessed (its
    message late or lost) is applied first, so a return can never overtake its delivery.
    Every applied event is marked processed in the same transaction.

    Locks: the order's unprocessed events up to this one, in primary-key order, then the
    account row (locked by ``account_get_or_enroll``). A duplicate message, a retry or a concurrent worker waits
    on those locks and then finds the event processed. With ``broadcast`` an
    ``AccountUpdate`` goes to the member's and the shop's channel groups after commit. Opens
    its own durable transaction. Raises ``OrderEvent.DoesNotExist`` for an unknown id.
    """
    with transaction.atomic(durable=True):
        events = list(
            OrderEvent.objects.select_for_update(of=("self",))
            .select_related("order__shop__program__shop", "order__customer")
            .filter(order_id=Subquery(OrderEvent.objects.filter(pk=event_id).values("order_id")), pk__lte=event_id)
            .order_by("pk")
        )
        if not events or events[-1].pk != event_id:
            raise OrderEvent.DoesNotExist(f"order event {event_id} does not exist")
        if events[-1].processed_at is not None:
            return OrderEventOutcome(event_id=event_id, already_processed=True)
        outcome = OrderEventOutcome(event_id=event_id, already_processed=False)
        for event in events:
            if event.processed_at is not None:
                continue
            order = events[-1].order  # one instance: the status history is applied to it in turn
            program = getattr(order.shop, "program", None)
            if program is not None and program.active:
                outcome = _apply(event, order, program, broadcast)
            OrderEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now(), attempts=event.attempts + 1)
    return outcome


def _apply(event: OrderEvent, order: Order, program: LoyaltyProgram, broadcast: bool) -> OrderEventOutcome:
    """Enrol, post and evaluate for one event inside ``order_event_process``'s transaction."""
    at = event.occurred_at
    account, created = account_get_or_enroll(customer=order.customer, program=program, at=at)
    account.program = program
    # Release on touch: lots due by now become available before this event posts, so the
    # account's entries stay in event-time order even when the release job runs late (or, in
    # a replay, not at all until the end).
    _, released = account_release_due(account=account, now=at)
    entry = None
    if event.status == OrderStatus.DELIVERED:
        entry = _earn(program, account, order, at)
    elif event.status in (OrderStatus.RETURNED, OrderStatus.REFUNDED):
        entry = _reverse(program, account, order, event.status, at)
    change = None
    if entry is not None:
        change = tier_evaluate(account=account, at=at, reason=f"Qualified with order {order.external_id}")
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
