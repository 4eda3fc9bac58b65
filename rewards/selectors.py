"""Reads of the rewards app: why a member can or cannot redeem a reward, catalogue lists."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db.models import Q, QuerySet

from loyalty.models import MemberAccount
from rewards.errors import RewardError, RewardErrorCode
from rewards.models import LimitPeriod, Redemption, RedemptionStatus, Reward, RewardStatus


def period_start(period: str, now: dt.datetime) -> dt.datetime | None:
    """Start of the calendar period (UTC) containing ``now``; ``None`` for ever."""
    day = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == LimitPeriod.DAY:
        return day
    if period == LimitPeriod.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if period == LimitPeriod.MONTH:
        return day.replace(day=1)
    if period == LimitPeriod.YEAR:
        return day.replace(month=1, day=1)
    return None


def reward_unavailable(
    *, reward: Reward, account: MemberAccount, now: dt.datetime, taken_in_period: int
) -> RewardError | None:
    """The first reason ``account`` cannot redeem ``reward`` now, or ``None`` when it can.

    Order of the checks: active, validity window, tier, per-member limit (``taken_in_period``
    = the member's redemptions of it in the current limit period, cancelled ones excluded),
    available points (pending never count), stock. Reads nothing from the database.
    """
    if reward.status != RewardStatus.ACTIVE:
        return RewardError(RewardErrorCode.REWARD_INACTIVE, "This reward is archived.", "rewardId")
    if (reward.valid_from and now < reward.valid_from) or (reward.valid_until and now >= reward.valid_until):
        return RewardError(RewardErrorCode.REWARD_INACTIVE, "This reward is not offered at this time.", "rewardId")
    if reward.min_tier is not None and (account.tier is None or account.tier.position < reward.min_tier.position):
        return RewardError(RewardErrorCode.TIER_REQUIRED, f"This reward needs tier {reward.min_tier.name}.", "rewardId")
    if reward.per_member_limit is not None and taken_in_period >= reward.per_member_limit:
        return RewardError(RewardErrorCode.LIMIT_REACHED, "You have reached this reward's limit.", "rewardId")
    if account.points_available < reward.points_cost:
        return RewardError(
            RewardErrorCode.INSUFFICIENT_POINTS,
            f"This reward costs {reward.points_cost} points; {account.points_available} are available.",
            "rewardId",
        )
    if reward.stock is not None and reward.stock <= 0:
        return RewardError(RewardErrorCode.OUT_OF_STOCK, "This reward is out of stock.", "rewardId")
    return None


def taken_in_period(*, account: MemberAccount, rewards: list[Reward], now: dt.datetime) -> dict[int, int]:
    """Per reward id, the member's redemptions in that reward's current limit period (one query)."""
    limited = {reward.pk: reward for reward in rewards if reward.per_member_limit is not None}
    counts: Counter[int] = Counter()
    if not limited:
        return counts
    rows = (
        Redemption.objects.filter(account=account, reward_id__in=list(limited))
        .exclude(status=RedemptionStatus.CANCELLED)
        .values_list("reward_id", "issued_at")
    )
    for reward_id, issued_at in rows:
        start = period_start(limited[reward_id].limit_period, now)
        if start is None or issued_at >= start:
            counts[reward_id] += 1
    return counts


def catalogue(*, program_id: int, now: dt.datetime) -> QuerySet[Reward]:
    """The public catalogue of a program: active rewards within their validity, in display order."""
    return (
        Reward.objects.filter(program_id=program_id, status=RewardStatus.ACTIVE)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=now))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .select_related("min_tier", "program__shop")
        .order_by("sort_order", "points_cost", "pk")
    )


def catalogue_managed(*, program_id: int, status: str | None = None) -> QuerySet[Reward]:
    """Every reward of a program for its editors, archived and out-of-window ones included
    (optionally one ``status``), in display order."""
    rewards = Reward.objects.filter(program_id=program_id)
    if status is not None:
        rewards = rewards.filter(status=status)
    return rewards.select_related("min_tier", "program__shop").order_by("sort_order", "points_cost", "pk")


def rewards_for_account(*, account: MemberAccount, now: dt.datetime) -> list[tuple[Reward, RewardError | None]]:
    """Every catalogue reward of the account's program with why it is unavailable (``None`` = redeemable).

    Redeemable rewards come first, then by display order. Two queries whatever the catalogue size.
    """
    rewards = list(catalogue(program_id=account.program_id, now=now))
    counts = taken_in_period(account=account, rewards=rewards, now=now)
    pairs = [
        (reward, reward_unavailable(reward=reward, account=account, now=now, taken_in_period=counts[reward.pk]))
        for reward in rewards
    ]
    return sorted(pairs, key=lambda pair: pair[1] is not None)
