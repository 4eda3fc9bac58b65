"""Staff adjustments of a member's points: reason required, audited, never below zero."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from loyalty.broadcasts import AccountUpdate, broadcast_on_commit
from loyalty.errors import LoyaltyError, LoyaltyErrorCode
from loyalty.models import EntryKind, MemberAccount, PointsEntry, SourceType
from loyalty.reasons import Reason
from loyalty.services.ledger import Movement, points_grant, points_spend
from loyalty.services.periods import lot_expires_at
from marketplace.permissions import Capability, has_capability
from marketplace.validation import NUL, column_length, text_problem

#: Largest single adjustment either way; anything bigger is a typo.
MAX_ADJUSTMENT = 10_000_000
#: What the ledger entry's reason starts with; the staff's reason fills the rest of the column.
ADJUSTMENT_REASON_PREFIX = "Adjusted by staff: "


@dataclass(frozen=True)
class AdjustResult:
    """The ADJUST entry, and whether this call replayed an earlier one with the same key."""

    entry: PointsEntry
    replayed: bool


def _refuse(code: LoyaltyErrorCode, message: str, field: str | None = None) -> LoyaltyError:
    return LoyaltyError(code, message, field)


def points_adjust(
    *,
    user: AbstractBaseUser | AnonymousUser,
    account_id: int,
    points: int,
    reason: str,
    idempotency_key: str,
    now: dt.datetime | None = None,
) -> AdjustResult:
    """Add (``points`` > 0) or take (< 0) points on a member account, by its shop's owner or manager.

    Added points are available at once, in a new lot expiring per the program; taken points
    come from the lots that expire first and never exceed the available balance. The entry
    records the staff member and the reason. Codes: NOT_AUTHENTICATED, NOT_FOUND (also for an
    account the caller may not adjust), INVALID_POINTS (0 or beyond 10,000,000),
    REASON_REQUIRED (3-281 characters: the entry adds "Adjusted by staff: "), INSUFFICIENT_POINTS,
    INVALID_INPUT (the key; a NUL character in the reason),
    IDEMPOTENCY_CONFLICT (the key was used for another adjustment of the shop). Locks the
    account; one durable transaction; a live update after commit.
    """
    now = now or timezone.now()
    if not user.is_authenticated:
        raise _refuse(LoyaltyErrorCode.NOT_AUTHENTICATED, "Log in first.")
    account = MemberAccount.objects.select_related("program__shop").filter(pk=account_id).first()
    if account is None or not has_capability(
        user=user, shop_id=account.program.shop_id, capability=Capability.ADJUST_POINTS
    ):
        raise _refuse(LoyaltyErrorCode.NOT_FOUND, "No such member account.", "accountId")
    key = (idempotency_key or "").strip()
    if not key or len(key) > 150 or NUL in key:
        raise _refuse(
            LoyaltyErrorCode.INVALID_INPUT, "An idempotency key of 1 to 150 characters is required.", "idempotencyKey"
        )
    reason = (reason or "").strip()
    reason_limit = column_length(PointsEntry, "reason") - len(ADJUSTMENT_REASON_PREFIX)
    if not 3 <= len(reason) <= reason_limit:
        raise _refuse(LoyaltyErrorCode.REASON_REQUIRED, f"Give a reason of 3 to {reason_limit} characters.", "reason")
    if (problem := text_problem(reason, model=PointsEntry, column="reason")) is not None:
        raise _refuse(LoyaltyErrorCode.INVALID_INPUT, problem, "reason")
    if points == 0 or abs(points) > MAX_ADJUSTMENT:
        raise _refuse(LoyaltyErrorCode.INVALID_POINTS, f"Adjust by 1 to {MAX_ADJUSTMENT} points either way.", "points")
    entry_key = f"adjust:{account.program.shop_id}:{key}"
    replay = _replay(entry_key, account_id, points, reason)
    if replay is not None:
        return replay
    try:
        with transaction.atomic(durable=True):
            locked = MemberAccount.objects.select_for_update(of=("self",)).get(pk=account_id)
            movement = Movement(
                kind=EntryKind.ADJUST,
                reason=f"{ADJUSTMENT_REASON_PREFIX}{reason}",
                reason_code=Reason.ADJUSTMENT,
                reason_params={"note": reason},
                source_type=SourceType.STAFF,
                source_id=str(user.pk),
                idempotency_key=entry_key,
                at=now,
                staff_user_id=user.pk,
            )
            if points > 0:
                expires_at = lot_expires_at(program=account.program, available_at=now)
                entry = points_grant(account=locked, points=points, expires_at=expires_at, movement=movement)
            else:
                entry = points_spend(account=locked, points=-points, movement=movement)
            broadcast_on_commit(
                AccountUpdate(
                    account_id=locked.pk,
                    customer_id=locked.customer_id,
                    shop_id=account.program.shop_id,
                    entry_id=entry.pk,
                    kind=entry.kind,
                    points=entry.points,
                    reason=entry.reason,
                )
            )
    except LoyaltyError as error:
        # LoyaltyError is only ever raised with a LoyaltyErrorCode; DomainError types ``code`` as any Enum.
        raise _refuse(cast(LoyaltyErrorCode, error.code), error.message, "points") from error
    except IntegrityError:  # a concurrent call with the same key won
        replay = _replay(entry_key, account_id, points, reason)
        if replay is None:
            raise
        return replay
    return AdjustResult(entry=entry, replayed=False)


def _replay(entry_key: str, account_id: int, points: int, reason: str) -> AdjustResult | None:
    """The stored adjustment for ``entry_key`` if it is this same request; raise on another."""
    entry = PointsEntry.objects.filter(idempotency_key=entry_key).first()
    if entry is None:
        return None
    if (entry.account_id, entry.points, entry.reason) != (account_id, points, f"Adjusted by staff: {reason}"):
        raise _refuse(
            LoyaltyErrorCode.IDEMPOTENCY_CONFLICT,
            "This idempotency key was used for another adjustment.",
            "idempotencyKey",
        )
    return AdjustResult(entry=entry, replayed=True)
