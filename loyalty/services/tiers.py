"""Enrolment and tier evaluation.

Tiers qualify on the program's basis (spend or points) summed over its window. Upgrades are
immediate; downgrades happen only at requalification (the lifecycle issue), so
:func:`tier_evaluate` never moves a member down. Every change is a :class:`TierChange` row.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum

from loyalty.models import LoyaltyProgram, MemberAccount, PointsEntry, Tier, TierChange, TierWindow
from marketplace.models import Customer


def program_tiers(program: LoyaltyProgram) -> list[Tier]:
    """The program's tiers, lowest first (uses a prefetch of ``tiers`` when there is one)."""
    return sorted(program.tiers.all(), key=lambda tier: tier.position)


def tier_for_value(tiers: list[Tier], value: Decimal) -> Tier | None:
    """The highest tier whose threshold ``value`` reaches (``tiers`` lowest first)."""
    reached = None
    for tier in tiers:
        if value >= tier.threshold:
            reached = tier
    return reached


def window_bounds(program: LoyaltyProgram, at: dt.datetime) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Start and end of the qualifying window that contains ``at`` (``None`` = unbounded).

    Calendar years are the shop's (its time zone); a rolling window is the 12 months up to
    ``at`` and has no fixed end.
    """
    if program.tier_window == TierWindow.LIFETIME:
        return None, None
    if program.tier_window == TierWindow.CALENDAR_YEAR:
        tz = zoneinfo.ZoneInfo(program.shop.timezone)
        year = at.astimezone(tz).year
        return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)
    start = (
        at.replace(year=at.year - 1) if not (at.month == 2 and at.day == 29) else at.replace(year=at.year - 1, day=28)
    )
    return start, None


def qualifying_value(*, account: MemberAccount, at: dt.datetime) -> Decimal:
    """The account's qualifying value over the window containing ``at`` (one aggregate query).

    For a lifetime window this is the sum of all entries' ``qualifying_delta``.
    """
    start, _ = window_bounds(account.program, at)
    entries = PointsEntry.objects.filter(account=account, created_at__lte=at)
    if start is not None:
        entries = entries.filter(created_at__gt=start)
    return entries.aggregate(total=Sum("qualifying_delta"))["total"] or Decimal("0")


def account_get_or_enroll(
    *, customer: Customer, program: LoyaltyProgram, at: dt.datetime
) -> tuple[MemberAccount, bool]:
    """The customer's account in the program, row-locked, created (in the entry tier) on first use.

    Returns ``(account, created)`` with ``tier`` loaded. Needs an open transaction; the
    returned account is locked (``SELECT ... FOR UPDATE``) so the caller may move points.
    Safe against a concurrent enrolment of the same member: the unique constraint decides and
    the loser locks the winner's row.
    """
    locked = MemberAccount.objects.select_for_update(of=("self",)).select_related("tier")
    account = locked.filter(customer=customer, program=program).first()
    if account is not None:
        return account, False
    tiers = program_tiers(program)
    entry_tier = tiers[0] if tiers else None
    try:
        with transaction.atomic():
            account = MemberAccount.objects.create(customer=customer, program=program, tier=entry_tier, enrolled_at=at)
            if entry_tier is not None:
                TierChange.objects.create(
                    account=account,
                    from_tier=None,
                    to_tier=entry_tier,
                    qualifying_value=Decimal("0"),
                    reason="Enrolled in the program",
                    created_at=at,
                )
    except IntegrityError:
        return locked.get(customer=customer, program=program), False
    return locked.get(pk=account.pk), True


def tier_evaluate(*, account: MemberAccount, at: dt.datetime, reason: str) -> TierChange | None:
    """Recompute the qualifying value and upgrade the account if it reached a higher tier.

    Caller holds the account lock. Stores the value on ``account.qualifying_value``; never
    downgrades (that is requalification's job). Returns the ``TierChange`` written, if any.
    """
    program = account.program
    if program.tier_window == TierWindow.LIFETIME:
        value = account.qualifying_value
    else:
        value = qualifying_value(account=account, at=at)
    tiers = program_tiers(program)
    target = tier_for_value(tiers, value)
    current = account.tier
    change = None
    if target is not None and (current is None or target.position > current.position):
        change = TierChange.objects.create(
            account=account,
            from_tier=current,
            to_tier=target,
            qualifying_value=value,
            reason=reason,
            created_at=at,
        )
        account.tier = target
    # The ledger posting already moved the cached value by the entry's delta; write only what
    # differs (a tier change, or a windowed value that dropped old entries).
    if change is not None or value != account.qualifying_value:
        account.qualifying_value = value
        MemberAccount.objects.filter(pk=account.pk).update(tier=account.tier, qualifying_value=value)
    return change
