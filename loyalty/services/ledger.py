"""The points ledger: the one place where points move.

Every movement is a :class:`~loyalty.models.PointsEntry` with a reason and an idempotency key,
written together with the change of the account's cached balances in one transaction, under a
row lock on the account. Callers hold that lock (``account_lock``) and an open transaction.

How each kind moves the balances (``pending``, ``available``, ``lifetime``):

=========  ===========================================================================
earn       +pending (or +available when the pending period is zero), +lifetime; opens a lot
release    -pending, +available; marks a lot released
reverse    -pending or -available (the earning's lot, then other available lots), -lifetime
expire     -available (what remains of a released lot past ``expires_at``), +expired
=========  ===========================================================================

Rounding of earned points (one rule, everywhere): ``floor(goods x rate x tier multiplier)``
computed in ``Decimal``; see :func:`points_for_amount`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet

from loyalty.errors import LoyaltyError, LoyaltyErrorCode
from loyalty.events import entry_event_record
from loyalty.models import EntryKind, MemberAccount, PointsEntry, PointsLot, PointsLotConsumption, SourceType
from loyalty.reasons import Reason

#: Kinds whose points count towards ``lifetime_points`` (earnings net of their reversals).
LIFETIME_KINDS = frozenset({EntryKind.EARN, EntryKind.BONUS, EntryKind.REVERSE})
#: Kinds whose (negated) points count towards ``points_redeemed`` (redemptions net of refunds).
REDEEMED_KINDS = frozenset({EntryKind.REDEEM, EntryKind.REFUND})
#: Kinds whose (negated) points count towards ``points_expired``.
EXPIRED_KINDS = frozenset({EntryKind.EXPIRE})


def points_for_amount(*, amount: Decimal, rate: Decimal, multiplier: Decimal) -> int:
    """Points earned on ``amount`` of goods: ``floor(amount x rate x multiplier)``, never negative.

    All three are ``Decimal``; the product is exact, so the floor is the documented rule with no
    binary floating-point error (e.g. 19.99 x 1.1 = 21.989 -> 21).
    """
    points = (amount * rate * multiplier).to_integral_value(rounding=ROUND_FLOOR)
    return max(int(points), 0)


def account_lock(*, account_ids: list[int]) -> QuerySet[MemberAccount]:
    """Lock the accounts (``SELECT ... FOR UPDATE``) in primary-key order; evaluate it to lock.

    Taking locks in primary-key order means two transactions that lock the same accounts can
    never deadlock. Must run inside a transaction.
    """
    return MemberAccount.objects.select_for_update(of=("self",)).filter(pk__in=account_ids).order_by("pk")


@dataclass(frozen=True, kw_only=True)
class Movement:
    """One requested ledger movement (see the table in the module docstring).

    The posting function (``points_earn``, ``points_redeem``, ...) sets ``points`` and the
    deltas from its own arguments; callers describe the why and the where.
    """

    kind: EntryKind
    reason: str
    source_type: SourceType
    source_id: str
    idempotency_key: str
    at: dt.datetime
    points: int = 0
    available_delta: int = 0
    pending_delta: int = 0
    qualifying_delta: Decimal = Decimal("0")
    order_id: int | None = None
    staff_user_id: int | None = None
    applied_rules: tuple[dict, ...] = ()
    unrecovered_points: int = 0
    #: The reason as a code of ``loyalty.reasons`` and its parameters, rendered in the reader's language.
    reason_code: str = ""
    reason_params: Mapping[str, Any] = field(default_factory=dict)


def counter_deltas(kind: str, points: int) -> tuple[int, int, int]:
    """How an entry of ``kind`` moving ``points`` (signed) moves the account's lifetime, redeemed
    and expired counters (the module docstring's table); also used by the set-based importer."""
    return (
        points if kind in LIFETIME_KINDS else 0,
        -points if kind in REDEEMED_KINDS else 0,
        -points if kind in EXPIRED_KINDS else 0,
    )


def entry_existing(*, idempotency_key: str) -> PointsEntry | None:
    """The entry already posted under ``idempotency_key``, if any."""
    return PointsEntry.objects.filter(idempotency_key=idempotency_key).first()


def _append(account: MemberAccount, movement: Movement) -> PointsEntry:
    """Write the entry and move the cached balances of the locked ``account`` in memory and in SQL.

    Raises ``LoyaltyError(INSUFFICIENT_POINTS)`` before writing when a balance would go negative.
    """
    available = account.points_available + movement.available_delta
    pending = account.points_pending + movement.pending_delta
    if available < 0 or pending < 0:
        raise LoyaltyError(LoyaltyErrorCode.INSUFFICIENT_POINTS, "The balance cannot go below zero.")
    if not movement.reason:
        raise LoyaltyError(LoyaltyErrorCode.REASON_REQUIRED, "Every ledger entry needs a reason.")
    lifetime_delta, redeemed_delta, expired_delta = counter_deltas(movement.kind, movement.points)
    entry = PointsEntry.objects.create(
        account=account,
        kind=movement.kind,
        points=movement.points,
        available_delta=movement.available_delta,
        pending_delta=movement.pending_delta,
        available_after=available,
        pending_after=pending,
        qualifying_delta=movement.qualifying_delta,
        reason=movement.reason,
        reason_code=movement.reason_code,
        reason_params=dict(movement.reason_params),
        applied_rules=list(movement.applied_rules),
        source_type=movement.source_type,
        source_id=movement.source_id,
        order_id=movement.order_id,
        staff_user_id=movement.staff_user_id,
        unrecovered_points=movement.unrecovered_points,
        idempotency_key=movement.idempotency_key,
        created_at=movement.at,
    )
    MemberAccount.objects.filter(pk=account.pk).update(
        points_available=F("points_available") + movement.available_delta,
        points_pending=F("points_pending") + movement.pending_delta,
        lifetime_points=F("lifetime_points") + lifetime_delta,
        points_redeemed=F("points_redeemed") + redeemed_delta,
        points_expired=F("points_expired") + expired_delta,
        qualifying_value=F("qualifying_value") + movement.qualifying_delta,
        last_activity_at=movement.at,
    )
    account.points_available = available
    account.points_pending = pending
    account.lifetime_points += lifetime_delta
    account.points_redeemed += redeemed_delta
    account.points_expired += expired_delta
    account.qualifying_value += movement.qualifying_delta
    account.last_activity_at = movement.at
    entry_event_record(account, entry)
    return entry


def points_earn(
    *,
    account: MemberAccount,
    points: int,
    available_at: dt.datetime,
    expires_at: dt.datetime | None,
    movement: Movement,
) -> PointsEntry:
    """Post an earning of ``points`` (> 0) and open its lot. Caller holds the account lock.

    The points are pending until ``available_at``; when that is not after ``movement.at`` they
    are available at once. Idempotent on ``movement.idempotency_key``: a second call returns the
    first entry and changes nothing.
    """
    assert transaction.get_connection().in_atomic_block, "points_earn needs an open transaction"
    existing = entry_existing(idempotency_key=movement.idempotency_key)
    if existing is not None:
        return existing
    if points <= 0:
        raise LoyaltyError(LoyaltyErrorCode.INVALID_POINTS, "An earning must be positive.")
    released = available_at <= movement.at
    entry = _append(
        account,
        replace(
            movement,
            points=points,
            available_delta=points if released else 0,
            pending_delta=0 if released else points,
        ),
    )
    PointsLot.objects.create(
        account=account,
        entry=entry,
        points=points,
        remaining=points,
        available_at=available_at,
        released_at=movement.at if released else None,
        expires_at=expires_at,
    )
    return entry


def points_release(*, account: MemberAccount, lot: PointsLot, at: dt.datetime) -> PointsEntry | None:
    """Make what remains of a pending ``lot`` available (a RELEASE entry). Caller holds the lock.

    Idempotent: keyed ``lot:<id>:release``; a released lot is left alone. Returns the entry, or
    ``None`` when there was nothing to release (the lot was fully reversed: it is then marked
    released without an entry, since no points moved).
    """
    key = f"lot:{lot.pk}:release"
    existing = entry_existing(idempotency_key=key)
    if existing is not None or lot.released_at is not None:
        return existing
    entry = None
    if lot.remaining > 0:
        order_id = lot.entry.order_id
        order = lot.entry.order if order_id else None
        entry = _append(
            account,
            Movement(
                kind=EntryKind.RELEASE,
                points=lot.remaining,
                available_delta=lot.remaining,
                pending_delta=-lot.remaining,
                reason=(
                    f"Points of order {order.external_id} became available"
                    if order is not None
                    else "Pending points became available"
                ),
                reason_code=Reason.ORDER_POINTS_RELEASED if order is not None else Reason.POINTS_RELEASED,
                reason_params={"order": order.external_id} if order is not None else {},
                # The column only holds SourceType values (its choices), so this never raises.
                source_type=SourceType(lot.entry.source_type),
                source_id=lot.entry.source_id,
                idempotency_key=key,
                at=at,
                order_id=order_id,
            ),
        )
    PointsLot.objects.filter(pk=lot.pk).update(released_at=at)
    lot.released_at = at
    return entry


def points_take_back(
    *, account: MemberAccount, lot: PointsLot, points: int, movement: Movement, qualifying_delta: Decimal
) -> PointsEntry | None:
    """Take back ``points`` (>= 0) of the earning whose lot is ``lot`` (a REVERSE entry). Caller holds the lock.

    The points come, in this order (docs/lifecycle.md, "Returns and refunds"):

    1. from ``lot`` itself: its pending remainder while it is pending, its available remainder
       once released;
    2. when the member already spent (or lost) part of it, from their other AVAILABLE points,
       lots that expire first, exactly as spending takes them (:func:`_spend_plan`); pending
       points of other earnings are never touched: their orders may still be returned;
    3. whatever is still missing is written off: ``unrecovered_points`` on the entry and a
       sentence in its reason. No balance ever goes negative.

    The entry's ``points`` is minus what was taken; ``pending_delta`` / ``available_delta``
    say where from; every take is a :class:`PointsLotConsumption` row (so they sum to the
    points taken); ``qualifying_delta`` (<= 0) is posted as given. Idempotent on
    ``movement.idempotency_key``. Returns ``None`` when there is nothing to take and no
    qualifying value to remove.
    """
    assert transaction.get_connection().in_atomic_block, "points_take_back needs an open transaction"
    existing = entry_existing(idempotency_key=movement.idempotency_key)
    if existing is not None:
        return existing
    if points < 0:
        raise LoyaltyError(LoyaltyErrorCode.INVALID_POINTS, "The points to take back cannot be negative.")
    if points == 0 and qualifying_delta == 0:
        return None
    own = min(points, lot.remaining)
    own_pending = lot.released_at is None
    plan, unrecovered = _spend_plan(account, points - own, exclude_lot_id=lot.pk)
    from_others = points - own - unrecovered
    reason = movement.reason
    if unrecovered:
        reason = f"{reason}; {unrecovered} points already spent could not be taken back"[:300]
    entry = _append(
        account,
        replace(
            movement,
            kind=EntryKind.REVERSE,
            reason=reason,
            reason_params={**movement.reason_params, "unrecovered": unrecovered}
            if unrecovered
            else movement.reason_params,
            points=-(own + from_others),
            pending_delta=-own if own_pending else 0,
            available_delta=-from_others - (0 if own_pending else own),
            qualifying_delta=qualifying_delta,
            unrecovered_points=unrecovered,
        ),
    )
    if own:
        plan.insert(0, (lot, own))
        lot.remaining -= own
    for taken_lot, take in plan:
        PointsLot.objects.filter(pk=taken_lot.pk).update(remaining=F("remaining") - take)
    PointsLotConsumption.objects.bulk_create(
        PointsLotConsumption(entry=entry, lot=taken_lot, points=take) for taken_lot, take in plan
    )
    return entry


def _spend_plan(
    account: MemberAccount, points: int, exclude_lot_id: int | None = None
) -> tuple[list[tuple[PointsLot, int]], int]:
    """Which available lots give ``points`` and how many each: ``(plan, points left uncovered)``.

    Released lots with points remaining, those that expire first first (``expires_at``
    ascending, lots that never expire last, then oldest first); ``exclude_lot_id`` is skipped.
    Reads only; the caller holds the account lock and applies the plan.
    """
    plan: list[tuple[PointsLot, int]] = []
    left = points
    if left <= 0:
        return plan, 0
    lots = PointsLot.objects.filter(account=account, released_at__isnull=False, remaining__gt=0)
    if exclude_lot_id is not None:
        lots = lots.exclude(pk=exclude_lot_id)
    for lot in lots.order_by(F("expires_at").asc(nulls_last=True), "available_at", "pk"):
        take = min(lot.remaining, left)
        plan.append((lot, take))
        left -= take
        if left == 0:
            break
    return plan, left


def points_spend(*, account: MemberAccount, points: int, movement: Movement) -> PointsEntry:
    """Take ``points`` (> 0) from the account's available points. Caller holds the lock.

    ``movement.kind`` says why (REDEEM for a reward, ADJUST for a staff correction). Pending
    points never count. The points come from released lots that expire first (``expires_at``
    ascending, lots that never expire last, then oldest first), each take recorded as a
    :class:`PointsLotConsumption`. Idempotent on ``movement.idempotency_key``. Raises
    ``LoyaltyError(INSUFFICIENT_POINTS)`` before writing when the available balance is short,
    ``LoyaltyError(INVALID_POINTS)`` for a non-positive amount.
    """
    assert transaction.get_connection().in_atomic_block, "points_spend needs an open transaction"
    existing = entry_existing(idempotency_key=movement.idempotency_key)
    if existing is not None:
        return existing
    if points <= 0:
        raise LoyaltyError(LoyaltyErrorCode.INVALID_POINTS, "The points to take must be positive.")
    if account.points_available < points:
        raise LoyaltyError(LoyaltyErrorCode.INSUFFICIENT_POINTS, "Not enough available points.")
    plan, left = _spend_plan(account, points)
    if left:  # the cached balance and the lots disagree: refuse rather than break the invariant
        raise LoyaltyError(LoyaltyErrorCode.INSUFFICIENT_POINTS, "Available lots do not cover the balance.")
    entry = _append(account, replace(movement, points=-points, available_delta=-points, pending_delta=0))
    for lot, take in plan:
        PointsLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - take)
    PointsLotConsumption.objects.bulk_create(
        PointsLotConsumption(entry=entry, lot=lot, points=take) for lot, take in plan
    )
    return entry


def points_redeem(*, account: MemberAccount, points: int, movement: Movement) -> PointsEntry:
    """Spend ``points`` on a reward: :func:`points_spend` with kind REDEEM (same lock and errors)."""
    return points_spend(account=account, points=points, movement=replace(movement, kind=EntryKind.REDEEM))


def points_grant(
    *, account: MemberAccount, points: int, expires_at: dt.datetime | None, movement: Movement
) -> PointsEntry:
    """Add ``points`` (> 0) to the available balance at once, as a new released lot. Caller holds the lock.

    For staff adjustments (kind ADJUST) and bonuses that skip the pending period. Idempotent
    on ``movement.idempotency_key``. Raises ``LoyaltyError(INVALID_POINTS)`` for a non-positive
    amount.
    """
    assert transaction.get_connection().in_atomic_block, "points_grant needs an open transaction"
    existing = entry_existing(idempotency_key=movement.idempotency_key)
    if existing is not None:
        return existing
    if points <= 0:
        raise LoyaltyError(LoyaltyErrorCode.INVALID_POINTS, "The points to grant must be positive.")
    entry = _append(account, replace(movement, points=points, available_delta=points, pending_delta=0))
    PointsLot.objects.create(
        account=account,
        entry=entry,
        points=points,
        remaining=points,
        available_at=movement.at,
        released_at=movement.at,
        expires_at=expires_at,
    )
    return entry


def points_refund(*, account: MemberAccount, redeem_entry: PointsEntry, movement: Movement) -> PointsEntry:
    """Give back the points of a REDEEM entry (a REFUND entry). Caller holds the lock.

    The points go back into the lots they were taken from, so they keep their original expiry
    (docs/ledger.md, "Refunds"). Idempotent on ``movement.idempotency_key``.
    """
    assert transaction.get_connection().in_atomic_block, "points_refund needs an open transaction"
    existing = entry_existing(idempotency_key=movement.idempotency_key)
    if existing is not None:
        return existing
    points = -redeem_entry.points
    entry = _append(
        account,
        replace(movement, kind=EntryKind.REFUND, points=points, available_delta=points, pending_delta=0),
    )
    for consumption in PointsLotConsumption.objects.filter(entry=redeem_entry):
        PointsLot.objects.filter(pk=consumption.lot_id).update(remaining=F("remaining") + consumption.points)
    return entry


def points_expire_lot(*, account: MemberAccount, lot: PointsLot, at: dt.datetime) -> PointsEntry | None:
    """Expire what remains of a released ``lot`` (an EXPIRE entry dated ``at``). Caller holds the lock.

    The remainder is re-read under the account lock, so a redemption that took points from the
    lot a moment earlier is never expired twice. Takes from available, adds to
    ``points_expired`` and empties the lot. Keyed ``lot:<id>:expire``; points refunded into a
    lot after it expired get ``lot:<id>:expire:2``, ``:3``, ... (counted under the lock).
    Returns ``None`` when nothing remained (or the lot is still pending).
    """
    assert transaction.get_connection().in_atomic_block, "points_expire_lot needs an open transaction"
    remaining = PointsLot.objects.filter(pk=lot.pk).values_list("remaining", flat=True).get()
    lot.remaining = remaining
    if remaining <= 0 or lot.released_at is None:
        return None
    key = f"lot:{lot.pk}:expire"
    count = PointsEntry.objects.filter(account=account, kind=EntryKind.EXPIRE, source_id=f"lot:{lot.pk}").count()
    if count:
        key = f"{key}:{count + 1}"
    earning = lot.entry
    order = earning.order if earning.order_id else None
    entry = _append(
        account,
        Movement(
            kind=EntryKind.EXPIRE,
            points=-remaining,
            available_delta=-remaining,
            reason=(
                f"Points of order {order.external_id} expired" if order is not None else f"Expired: {earning.reason}"
            ),
            reason_code=Reason.ORDER_POINTS_EXPIRED if order is not None else Reason.POINTS_EXPIRED,
            reason_params={"order": order.external_id} if order is not None else {"what": earning.reason},
            source_type=SourceType.SYSTEM,
            source_id=f"lot:{lot.pk}",
            idempotency_key=key,
            at=at,
            order_id=earning.order_id,
        ),
    )
    PointsLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - remaining)
    lot.remaining = 0
    return entry
