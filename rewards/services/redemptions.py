"""Redeeming rewards and handling redemption codes at the till.

Every entry point validates and locks first, then writes, all in one durable transaction, and
sends live updates only after commit. Lock order, always: member account (``SELECT ... FOR
UPDATE``), then the reward row (stock ``UPDATE``), then the redemption row — so no two of
these transactions can deadlock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from loyalty.broadcasts import AccountUpdate, broadcast_on_commit
from loyalty.errors import LoyaltyError
from loyalty.models import EntryKind, MemberAccount, PointsEntry, SourceType
from loyalty.reasons import Reason
from loyalty.services.ledger import Movement, points_redeem, points_refund
from marketplace.models import EventType
from marketplace.permissions import Capability, has_capability
from marketplace.selectors import customer_for_user
from marketplace.throttle import ThrottleUnavailable, throttle_hit
from marketplace.validation import column_length, text_problem
from rewards.codes import code_check, code_generate
from rewards.errors import RewardError, RewardErrorCode
from rewards.events import redemption_event_record
from rewards.models import Redemption, RedemptionStatus, Reward
from rewards.selectors import reward_unavailable, taken_in_period

logger = logging.getLogger(__name__)

#: Till attempts (validate + consume) allowed per staff member and per shop.
TILL_RATE_PER_STAFF = "30/minute"
TILL_RATE_PER_SHOP = "120/minute"

User = AbstractBaseUser | AnonymousUser


def reward_names(reward: Reward) -> dict[str, str]:
    """A reward's name and Persian name as a ledger reason's parameters (``loyalty.reasons``)."""
    name_fa = ((reward.translations or {}).get("fa") or {}).get("name") or ""
    return {"reward": reward.name, "reward_fa": name_fa} if name_fa else {"reward": reward.name}


@dataclass(frozen=True)
class RedeemResult:
    """The redemption, and whether this call replayed an earlier one with the same key."""

    redemption: Redemption
    replayed: bool


def _reward_checks(reward: Reward, account: MemberAccount, now: dt.datetime) -> None:
    """Raise the first reason ``account`` cannot redeem ``reward`` now (stock is re-checked by the write)."""
    counts = taken_in_period(account=account, rewards=[reward], now=now)
    problem = reward_unavailable(reward=reward, account=account, now=now, taken_in_period=counts[reward.pk])
    if problem is not None:
        raise problem


def _fingerprint(*parts: object) -> str:
    """SHA-256 of the request's identifying parts, to tell a replay from a reused key."""
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()


def reward_redeem(*, user: User, reward_id: int, idempotency_key: str, now: dt.datetime | None = None) -> RedeemResult:
    """Spend the member's available points on a reward and issue a redemption code.

    Checks, in order: a logged-in customer (NOT_AUTHENTICATED / PERMISSION_DENIED), the reward
    (NOT_FOUND), an account in its shop (INSUFFICIENT_POINTS when none), active and within its
    validity (REWARD_INACTIVE), tier (TIER_REQUIRED), per-member limit (LIMIT_REACHED), available
    points — pending never count (INSUFFICIENT_POINTS), stock (OUT_OF_STOCK). Then, in one
    durable transaction: the REDEEM ledger entry (lots that expire first are consumed first),
    the stock decrement (an atomic ``UPDATE ... WHERE stock > 0``) and the ISSUED redemption
    with a fresh code expiring after the reward's code lifetime.

    Idempotent per member: a replay of ``idempotency_key`` for the same reward returns the
    first redemption (``replayed=True``); the same key for another reward is
    IDEMPOTENCY_CONFLICT. Raises :class:`RewardError`, having written nothing.
    """
    now = now or timezone.now()
    customer = customer_for_user(user=user)
    if not user.is_authenticated:
        raise RewardError(RewardErrorCode.NOT_AUTHENTICATED, "Log in to redeem rewards.")
    if customer is None:
        raise RewardError(RewardErrorCode.PERMISSION_DENIED, "Only members can redeem rewards.")
    key = (idempotency_key or "").strip()
    scoped_key = f"{customer.pk}:{key}"
    # The ledger entry's key is "redeem:<customer>:<key>" in a 200-character column.
    reserve = len(f"redeem:{customer.pk}:")
    key_limit = column_length(PointsEntry, "idempotency_key") - reserve
    if not key or text_problem(key, model=PointsEntry, column="idempotency_key", reserve=reserve):
        raise RewardError(
            RewardErrorCode.INVALID_INPUT,
            f"An idempotency key of 1 to {key_limit} characters is required.",
            "idempotencyKey",
        )
    fingerprint = _fingerprint("redeem", customer.pk, reward_id)
    replay = _redeem_replay(scoped_key, fingerprint)
    if replay is not None:
        return replay
    try:
        return _redeem(customer.pk, reward_id, scoped_key, fingerprint, now)
    except IntegrityError:
        # The same member's concurrent call with this key won; answer as its replay.
        replay = _redeem_replay(scoped_key, fingerprint)
        if replay is None:
            raise
        return replay


def _redeem_replay(scoped_key: str, fingerprint: str) -> RedeemResult | None:
    """The stored redemption for a member-scoped key, or ``None``; raises on a reused key."""
    redemption = Redemption.objects.filter(idempotency_key=scoped_key).first()
    if redemption is None:
        return None
    if redemption.request_fingerprint != fingerprint:
        raise RewardError(
            RewardErrorCode.IDEMPOTENCY_CONFLICT, "This idempotency key was used for another reward.", "idempotencyKey"
        )
    return RedeemResult(redemption=redemption, replayed=True)


def _redeem(customer_id: int, reward_id: int, scoped_key: str, fingerprint: str, now: dt.datetime) -> RedeemResult:
    """The checks and writes of ``reward_redeem`` in one durable transaction."""
    with transaction.atomic(durable=True):
        reward = Reward.objects.select_related("program__shop", "min_tier").filter(pk=reward_id).first()
        if reward is None:
            raise RewardError(RewardErrorCode.NOT_FOUND, "No such reward.", "rewardId")
        account = (
            MemberAccount.objects.select_for_update(of=("self",))
            .select_related("tier")
            .filter(customer_id=customer_id, program_id=reward.program_id)
            .first()
        )
        if account is None:
            raise RewardError(RewardErrorCode.INSUFFICIENT_POINTS, "You have no points in this shop yet.", "rewardId")
        _reward_checks(reward, account, now)
        if reward.stock is not None:
            taken = Reward.objects.filter(pk=reward.pk, stock__gt=0).update(stock=F("stock") - 1)
            if not taken:
                raise RewardError(RewardErrorCode.OUT_OF_STOCK, "This reward is out of stock.", "rewardId")
        try:
            entry = points_redeem(
                account=account,
                points=reward.points_cost,
                movement=Movement(
                    kind=EntryKind.REDEEM,
                    reason=f"Redeemed: {reward.name}",
                    reason_code=Reason.REWARD_REDEEMED,
                    reason_params=reward_names(reward),
                    source_type=SourceType.REDEMPTION,
                    source_id=str(reward.pk),
                    idempotency_key=f"redeem:{scoped_key}",
                    at=now,
                ),
            )
        except LoyaltyError as error:
            raise RewardError(RewardErrorCode.INSUFFICIENT_POINTS, error.message, "rewardId") from error
        redemption = _issue(reward, account, entry, scoped_key, fingerprint, now)
        redemption_event_record(redemption, EventType.REDEMPTION_ISSUED, at=now)
        broadcast_on_commit(_update(redemption, "redemption_issued", entry.points, f"Redeemed: {reward.name}", entry))
    return RedeemResult(redemption=redemption, replayed=False)


def _issue(
    reward: Reward, account: MemberAccount, entry: PointsEntry, scoped_key: str, fingerprint: str, now: dt.datetime
) -> Redemption:
    """Create the ISSUED redemption with a unique code (a clash of 60 random bits is retried)."""
    for _ in range(5):
        try:
            with transaction.atomic():
                return Redemption.objects.create(
                    reward=reward,
                    account=account,
                    shop=reward.program.shop,
                    code=code_generate(),
                    points=reward.points_cost,
                    idempotency_key=scoped_key,
                    request_fingerprint=fingerprint,
                    redeem_entry=entry,
                    issued_at=now,
                    expires_at=now + dt.timedelta(days=reward.code_lifetime_days),
                )
        except IntegrityError:
            if Redemption.objects.filter(idempotency_key=scoped_key).exists():
                raise
    raise RuntimeError("could not draw a unique redemption code in 5 attempts")


def _update(
    redemption: Redemption, kind: str, points: int, reason: str, entry: PointsEntry | None = None
) -> AccountUpdate:
    """The live update for a change of ``redemption``, naming the ledger entry it posted, if any."""
    return AccountUpdate(
        account_id=redemption.account_id,
        customer_id=redemption.account.customer_id,
        shop_id=redemption.shop_id,
        entry_id=entry.pk if entry is not None else None,
        kind=kind,
        points=points,
        reason=reason,
    )


def _till_lookup(*, user: User, shop_id: int, code: str) -> Redemption:
    """Permission, rate limit and code lookup shared by validate and consume (no lock).

    A code of another shop answers exactly like an unknown code (CODE_INVALID). Failures are
    logged with the staff member and shop so that repeated guessing is visible.
    """
    if not user.is_authenticated:
        raise RewardError(RewardErrorCode.NOT_AUTHENTICATED, "Log in first.")
    if not has_capability(user=user, shop_id=shop_id, capability=Capability.USE_TILL):
        raise RewardError(RewardErrorCode.PERMISSION_DENIED, "Only the shop's staff can handle its codes.", "shopId")
    try:
        allowed = throttle_hit(rate=TILL_RATE_PER_STAFF, scope="till-staff", key=str(user.pk)) and throttle_hit(
            rate=TILL_RATE_PER_SHOP, scope="till-shop", key=str(shop_id)
        )
    except ThrottleUnavailable:
        raise RewardError(
            RewardErrorCode.SERVICE_UNAVAILABLE, "The till is unavailable for a moment; try again shortly."
        ) from None
    if not allowed:
        logger.warning("till rate limit hit: staff=%s shop=%s", user.pk, shop_id)
        raise RewardError(RewardErrorCode.RATE_LIMITED, "Too many attempts; wait a minute.", "code")
    canonical, problem = code_check(code or "")
    redemption = None
    if canonical is not None:
        redemption = (
            Redemption.objects.select_related("reward", "account").filter(code=canonical, shop_id=shop_id).first()
        )
    if redemption is None:
        logger.warning(
            "invalid redemption code at the till: staff=%s shop=%s problem=%s",
            user.pk,
            shop_id,
            problem.name if problem else "UNKNOWN_OR_OTHER_SHOP",
        )
        raise RewardError(RewardErrorCode.CODE_INVALID, "This code is not valid here.", "code")
    return redemption


def _usable(redemption: Redemption, now: dt.datetime) -> None:
    """Raise why an existing code cannot be used now (used, cancelled, expired, its member blocked)."""
    if redemption.account.blocked:
        raise RewardError(RewardErrorCode.MEMBER_BLOCKED, "The shop has blocked this code's member.", "code")
    if redemption.status == RedemptionStatus.USED:
        raise RewardError(RewardErrorCode.CODE_ALREADY_USED, "This code was already used.", "code")
    if redemption.status == RedemptionStatus.CANCELLED:
        raise RewardError(RewardErrorCode.CODE_CANCELLED, "This code was cancelled.", "code")
    if redemption.status == RedemptionStatus.EXPIRED or redemption.expires_at <= now:
        raise RewardError(RewardErrorCode.CODE_EXPIRED, "This code has expired.", "code")


def redemption_validate(*, user: User, shop_id: int, code: str, now: dt.datetime | None = None) -> Redemption:
    """What ``code`` is for, if it can be used now at ``shop_id``; changes nothing.

    Staff of the shop only (any role). Codes: NOT_AUTHENTICATED, PERMISSION_DENIED,
    RATE_LIMITED, CODE_INVALID (unknown, malformed, failed check character, or another
    shop's), CODE_ALREADY_USED, CODE_CANCELLED, CODE_EXPIRED, MEMBER_BLOCKED.
    """
    redemption = _till_lookup(user=user, shop_id=shop_id, code=code)
    _usable(redemption, now or timezone.now())
    return redemption


def redemption_consume(
    *, user: User, shop_id: int, code: str, order_external_id: str = "", now: dt.datetime | None = None
) -> Redemption:
    """Mark the code USED, exactly once, by a staff member of its shop.

    Same refusals as :func:`redemption_validate`. The redemption row is locked
    (``SELECT ... FOR UPDATE``) and re-checked under the lock, so of two cashiers consuming the
    same code at once exactly one succeeds and the other gets CODE_ALREADY_USED.
    """
    now = now or timezone.now()
    found = _till_lookup(user=user, shop_id=shop_id, code=code)
    with transaction.atomic(durable=True):
        redemption = (
            Redemption.objects.select_for_update(of=("self",)).select_related("reward", "account").get(pk=found.pk)
        )
        _usable(redemption, now)
        Redemption.objects.filter(pk=redemption.pk).update(
            status=RedemptionStatus.USED, used_at=now, used_by=user, order_external_id=(order_external_id or "")[:120]
        )
        redemption.refresh_from_db()
        redemption_event_record(redemption, EventType.REDEMPTION_CONSUMED, at=now)
        broadcast_on_commit(_update(redemption, "redemption_consumed", 0, f"Used: {redemption.reward.name}"))
    return redemption


def redemption_end(
    *,
    account: MemberAccount,
    redemption: Redemption,
    status: str,
    by: User | None,
    now: dt.datetime,
    refund: bool,
    note: str = "",
) -> tuple[Redemption, bool]:
    """End an ISSUED redemption as CANCELLED or EXPIRED in the caller's transaction.

    The caller holds ``account``'s lock (the redemption's account); this locks the redemption,
    refunds its points into their original lots when ``refund`` (REFUND keyed
    ``redemption:<id>:refund``; ``note`` is appended to the entry's reason), restores stock,
    records the ``redemption.*`` event and queues the live update for after commit. Returns the
    redemption as it is after and whether this call changed it (one no longer ISSUED is left alone).
    Also used by crm's erasure, which cancels codes inside its own transaction.
    """
    locked = Redemption.objects.select_for_update(of=("self",)).select_related("reward").get(pk=redemption.pk)
    if locked.status != RedemptionStatus.ISSUED:
        return locked, False
    cancelled = status == RedemptionStatus.CANCELLED
    refund_entry = None
    if refund:
        refund_entry = points_refund(
            account=account,
            redeem_entry=locked.redeem_entry,
            movement=Movement(
                kind=EntryKind.REFUND,
                reason=f"{'Cancelled' if cancelled else 'Expired'}: {locked.reward.name}{note}",
                reason_code=Reason.REDEMPTION_CANCELLED if cancelled else Reason.REDEMPTION_EXPIRED,
                reason_params={**reward_names(locked.reward), "note": note},
                source_type=SourceType.REDEMPTION,
                source_id=str(locked.pk),
                idempotency_key=f"redemption:{locked.pk}:refund",
                at=now,
            ),
        )
    if locked.reward.stock is not None:
        Reward.objects.filter(pk=locked.reward_id).update(stock=F("stock") + 1)
    fields: dict[str, object] = {"status": status, "refund_entry": refund_entry}
    fields["cancelled_at" if cancelled else "expired_at"] = now
    if cancelled:
        fields["cancelled_by"] = by
    Redemption.objects.filter(pk=locked.pk).update(**fields)
    locked.refresh_from_db()
    redemption_event_record(
        locked, EventType.REDEMPTION_CANCELLED if cancelled else EventType.REDEMPTION_EXPIRED, at=now
    )
    kind = "redemption_cancelled" if cancelled else "redemption_expired"
    reason = refund_entry.reason if refund_entry else f"Expired unused: {locked.reward.name}"
    broadcast_on_commit(_update(locked, kind, refund_entry.points if refund_entry else 0, reason, refund_entry))
    return locked, True


def _give_back(
    redemption: Redemption, *, status: str, by: User | None, now: dt.datetime, refund: bool
) -> tuple[Redemption, bool]:
    """:func:`redemption_end` in a durable transaction of its own, under the account's lock then the redemption's."""
    with transaction.atomic(durable=True):
        account = MemberAccount.objects.select_for_update(of=("self",)).get(pk=redemption.account_id)
        return redemption_end(account=account, redemption=redemption, status=status, by=by, now=now, refund=refund)


def redemption_cancel(*, user: User, redemption_id: int, now: dt.datetime | None = None) -> Redemption:
    """Cancel an ISSUED redemption: points back (REFUND into the original lots) and stock restored.

    Allowed to the member who redeemed it and to any staff member of its shop. Codes:
    NOT_AUTHENTICATED, NOT_FOUND (also for a redemption the caller may not see),
    NOT_CANCELLABLE (used, expired or already cancelled).
    """
    if not user.is_authenticated:
        raise RewardError(RewardErrorCode.NOT_AUTHENTICATED, "Log in first.")
    redemption = Redemption.objects.select_related("account").filter(pk=redemption_id).first()
    customer = customer_for_user(user=user)
    is_member = redemption is not None and customer is not None and redemption.account.customer_id == customer.pk
    is_staff = redemption is not None and has_capability(
        user=user, shop_id=redemption.shop_id, capability=Capability.USE_TILL
    )
    if redemption is None or not (is_member or is_staff):
        raise RewardError(RewardErrorCode.NOT_FOUND, "No such redemption.", "redemptionId")
    result, changed = _give_back(
        redemption, status=RedemptionStatus.CANCELLED, by=user, now=now or timezone.now(), refund=True
    )
    if not changed:
        raise RewardError(RewardErrorCode.NOT_CANCELLABLE, f"This redemption is {result.status}.", "redemptionId")
    return result


def redemptions_expire(*, now: dt.datetime | None = None) -> int:
    """Expire every ISSUED redemption whose code is past ``expires_at``; return how many.

    Points come back when the reward's ``refund_on_expiry`` says so. One short transaction per
    redemption; running it twice, or twice at once, expires nothing twice.
    """
    now = now or timezone.now()
    due = list(
        Redemption.objects.filter(status=RedemptionStatus.ISSUED, expires_at__lte=now)
        .select_related("reward")
        .order_by("expires_at", "pk")
    )
    expired = 0
    for redemption in due:
        _, changed = _give_back(
            redemption, status=RedemptionStatus.EXPIRED, by=None, now=now, refund=redemption.reward.refund_on_expiry
        )
        expired += changed
    return expired
