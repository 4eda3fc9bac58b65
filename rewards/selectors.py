"""Reads of the rewards app: why a member can or cannot redeem a reward, catalogue lists."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, Q, QuerySet, Subquery, prefetch_related_objects

from loyalty.models import LoyaltyProgram, MemberAccount
from rewards.errors import RewardError, RewardErrorCode
from rewards.models import LimitPeriod, Redemption, RedemptionStatus, Reward, RewardStatus

#: Attribute that :func:`account_rewards_prefetches` fills on each account's *program*: its
#: active rewards in display order (validity windows are checked against the reader's ``now``).
ACTIVE_REWARDS = "active_rewards"
#: Attribute that :func:`account_rewards_prefetches` fills on each account: its redemptions
#: (cancelled ones excluded) of active rewards that have a per-member limit.
LIMITED_REDEMPTIONS = "limited_redemptions"


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

    Order of the checks: the member not blocked, active, validity window, tier, per-member limit (``taken_in_period``
    = the member's redemptions of it in the current limit period, cancelled ones excluded),
    available points (pending never count), stock. Reads nothing from the database.
    """
    if account.blocked:
        return RewardError(RewardErrorCode.MEMBER_BLOCKED, "This shop has blocked your membership.", "rewardId")
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


def _count_in_period(
    rows: Iterable[tuple[int, dt.datetime]], limited: dict[int, Reward], now: dt.datetime
) -> Counter[int]:
    """Per reward id of ``limited``, the ``(reward_id, issued_at)`` rows inside its current limit period."""
    counts: Counter[int] = Counter()
    for reward_id, issued_at in rows:
        reward = limited.get(reward_id)
        if reward is None:
            continue
        start = period_start(reward.limit_period, now)
        if start is None or issued_at >= start:
            counts[reward_id] += 1
    return counts


def taken_in_period(*, account: MemberAccount, rewards: list[Reward], now: dt.datetime) -> dict[int, int]:
    """Per reward id, the member's redemptions in that reward's current limit period (one query).

    Always reads the database (never a prefetch): the redeem service calls it under the
    account's lock, where only fresh rows will do. No query when no reward has a limit.
    """
    limited = {reward.pk: reward for reward in rewards if reward.per_member_limit is not None}
    if not limited:
        return Counter()
    rows = (
        Redemption.objects.filter(account=account, reward_id__in=list(limited))
        .exclude(status=RedemptionStatus.CANCELLED)
        .values_list("reward_id", "issued_at")
    )
    return _count_in_period(rows, limited, now)


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


def active_rewards_prefetch() -> Prefetch:
    """Prefetch of the active rewards of every account's program, in display order (``min_tier``
    joined), into ``account.program.active_rewards``: one query for any number of accounts.

    Validity windows are left to the reader (:func:`rewards_for_accounts` checks them against
    its own ``now``), so a prefetch made a moment earlier never disagrees with :func:`catalogue`.
    """
    active = (
        Reward.objects.filter(status=RewardStatus.ACTIVE)
        .select_related("min_tier")
        .order_by("sort_order", "points_cost", "pk")
    )
    return Prefetch("program__rewards", queryset=active, to_attr=ACTIVE_REWARDS)


def limited_redemptions_prefetch() -> Prefetch:
    """Prefetch of every account's non-cancelled redemptions of active rewards that have a
    per-member limit, into ``account.limited_redemptions``: one query for any number of accounts."""
    limited = (
        Redemption.objects.filter(reward__status=RewardStatus.ACTIVE, reward__per_member_limit__isnull=False)
        .exclude(status=RedemptionStatus.CANCELLED)
        .only("pk", "account_id", "reward_id", "issued_at")
    )
    return Prefetch("redemptions", queryset=limited, to_attr=LIMITED_REDEMPTIONS)


def account_rewards_prefetches() -> list[Prefetch]:
    """Both prefetches :func:`rewards_for_accounts` reads (:func:`active_rewards_prefetch`,
    :func:`limited_redemptions_prefetch`): two queries for any number of member accounts.

    The accounts' ``program`` should be joined (``select_related``), or a third query loads them.
    """
    return [active_rewards_prefetch(), limited_redemptions_prefetch()]


def _offered(reward: Reward, now: dt.datetime) -> bool:
    """Whether ``reward`` is inside its validity window at ``now`` (the test :func:`catalogue` runs in SQL)."""
    return (reward.valid_from is None or reward.valid_from <= now) and (
        reward.valid_until is None or reward.valid_until > now
    )


def rewards_for_accounts(
    *, accounts: Sequence[MemberAccount], now: dt.datetime
) -> dict[int, list[tuple[Reward, RewardError | None]]]:
    """For each account (by primary key), every catalogue reward of its program with why it is
    unavailable (``None`` = redeemable), redeemable rewards first, then in display order.

    Same answer as :func:`catalogue` plus :func:`reward_unavailable` per account, ``now`` deciding
    the validity windows and limit periods. Reads ``account.tier``, ``account.program`` and the
    data of :func:`account_rewards_prefetches`; accounts that arrive without them are loaded
    here in one batch: at most four queries (tiers, programs, rewards, redemptions) for any
    number of accounts, none when everything came prefetched (the GraphQL field's hints).
    """
    missing = [account for account in accounts if not hasattr(account, LIMITED_REDEMPTIONS)]
    if missing:
        prefetch_related_objects(missing, "tier", "program", *account_rewards_prefetches())
    result: dict[int, list[tuple[Reward, RewardError | None]]] = {}
    for account in accounts:
        rewards = [reward for reward in getattr(account.program, ACTIVE_REWARDS) if _offered(reward, now)]
        limited = {reward.pk: reward for reward in rewards if reward.per_member_limit is not None}
        rows = ((row.reward_id, row.issued_at) for row in getattr(account, LIMITED_REDEMPTIONS))
        counts = _count_in_period(rows, limited, now)
        pairs = [
            (reward, reward_unavailable(reward=reward, account=account, now=now, taken_in_period=counts[reward.pk]))
            for reward in rewards
        ]
        result[account.pk] = sorted(pairs, key=lambda pair: pair[1] is not None)
    return result


def rewards_for_account(*, account: MemberAccount, now: dt.datetime) -> list[tuple[Reward, RewardError | None]]:
    """Every catalogue reward of the account's program with why it is unavailable (``None`` = redeemable).

    Redeemable rewards come first, then by display order. :func:`rewards_for_accounts` for one
    account: no query when the account came with :func:`account_rewards_prefetches`, else at
    most four (fewer when ``tier`` and ``program`` are already joined) whatever the catalogue size.
    """
    return rewards_for_accounts(accounts=[account], now=now)[account.pk]


def shop_catalogue(
    *,
    program: LoyaltyProgram,
    now: dt.datetime,
    kind: str | None = None,
    tier_id: int | None = None,
    affordable: bool | None = None,
    user: AbstractBaseUser | AnonymousUser | None = None,
) -> list[Reward]:
    """The public catalogue of ``program`` (:func:`catalogue` at ``now``), optionally narrowed.

    - ``kind``: a :class:`~rewards.models.RewardKind` value; only rewards of that kind.
    - ``tier_id``: primary key of one of the program's tiers; only rewards that tier may redeem
      (no minimum tier, or a minimum at or below its position). An id that is not one of the
      program's (live) tiers leaves only the rewards without a minimum tier.
    - ``affordable``: ``True`` keeps the rewards the logged-in ``user`` (a member of the
      program) can redeem now, ``False`` the others. An anonymous user, a staff-only login or a
      non-member can redeem nothing. ``None`` ignores ``user``.

    Returns the rewards in display order. Queries: one without ``affordable``; with it, one
    more for the member's account (tier joined) and, for a member, the availability reads of
    :func:`rewards_for_account` (at most three more: program, rewards, limited redemptions).
    Raises nothing.
    """
    rewards = catalogue(program_id=program.pk, now=now)
    if kind is not None:
        rewards = rewards.filter(kind=kind)
    if tier_id is not None:
        position = program.tiers.filter(pk=tier_id).values_list("position", flat=True)
        rewards = rewards.filter(Q(min_tier__isnull=True) | Q(min_tier__position__lte=Subquery(position[:1])))
    listed = list(rewards)
    if affordable is None:
        return listed
    account = None
    if user is not None and user.is_authenticated:
        members = MemberAccount.objects.filter(customer__user_id=user.pk, program=program)
        account = members.select_related("tier").first()
    if account is None:
        return [] if affordable else listed
    account.program = program  # already loaded: spares the availability read a query
    redeemable = {reward.pk for reward, problem in rewards_for_account(account=account, now=now) if problem is None}
    return [reward for reward in listed if (reward.pk in redeemable) == affordable]
