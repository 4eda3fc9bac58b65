"""Reads of the loyalty app: tier progress and the ledger invariants."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Case, IntegerField, Max, Prefetch, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from loyalty.models import MemberAccount, PointsEntry, PointsLot, Tier, TierWindow
from loyalty.services.ledger import EXPIRED_KINDS, LIFETIME_KINDS, REDEEMED_KINDS
from loyalty.services.tiers import program_tiers, window_bounds
from marketplace.models import MONEY_PLACES


@dataclass(frozen=True)
class TierProgress:
    """Where a member stands: values in the program's basis (currency or points).

    ``next_tier`` / ``next_threshold`` / ``remaining`` are ``None`` at the top tier; ``fraction``
    is the share of the way from the current tier's threshold to the next (1.0 at the top).
    ``window_ends_at`` is the end of a calendar-year window, ``None`` for lifetime and rolling.
    """

    current_tier: Tier | None
    next_tier: Tier | None
    qualifying_value: Decimal
    next_threshold: Decimal | None
    remaining: Decimal | None
    fraction: float
    window_ends_at: dt.datetime | None


def tier_progress(*, account: MemberAccount, now: dt.datetime | None = None) -> TierProgress:
    """Progress of ``account`` towards its next tier; no query when ``program.tiers`` is prefetched."""
    tiers = program_tiers(account.program)
    current = account.tier
    value = account.qualifying_value
    above = [t for t in tiers if current is None or t.position > current.position]
    nxt = above[0] if above else None
    if nxt is None:
        fraction, remaining, threshold = 1.0, None, None
    else:
        base = current.threshold if current is not None else Decimal("0")
        span = nxt.threshold - base
        fraction = float(min(max((value - base) / span, Decimal(0)), Decimal(1))) if span > 0 else 1.0
        remaining, threshold = max(nxt.threshold - value, Decimal("0")), nxt.threshold
    _, window_end = (None, None)
    if account.program.tier_window == TierWindow.CALENDAR_YEAR:
        _, window_end = window_bounds(account.program, now or timezone.now())
    return TierProgress(
        current_tier=current,
        next_tier=nxt,
        qualifying_value=value,
        next_threshold=threshold,
        remaining=remaining,
        fraction=round(fraction, 4),
        window_ends_at=window_end,
    )


@dataclass(frozen=True)
class Discrepancy:
    """One broken ledger invariant on one account: ``expected`` (from entries/lots) vs ``cached``."""

    account_id: int
    check: str
    expected: int | Decimal
    cached: int | Decimal


def ledger_discrepancies(*, account_ids: list[int] | None = None) -> list[Discrepancy]:
    """Every broken invariant of docs/ledger.md, for all accounts or the given ones.

    Checks per account: available / pending = sums of the entries' deltas; lifetime = sum of
    earn, bonus and reverse points; redeemed / expired = sums of their entries; the last entry's
    balances-after equal the cached balances; released lots' remainders = available, pending
    lots' remainders = pending; for lifetime windows, the qualifying value = sum of the entries'
    qualifying deltas. A fixed number of aggregate queries whatever the number of accounts.
    """
    accounts = MemberAccount.objects.select_related("program")
    entries = PointsEntry.objects.all()
    lots = PointsLot.objects.all()
    if account_ids is not None:
        accounts = accounts.filter(pk__in=account_ids)
        entries = entries.filter(account_id__in=account_ids)
        lots = lots.filter(account_id__in=account_ids)
    sums = {
        row["account_id"]: row
        for row in entries.values("account_id").annotate(
            available=Sum("available_delta"),
            pending=Sum("pending_delta"),
            lifetime=Sum("points", filter=Q(kind__in=list(LIFETIME_KINDS))),
            redeemed=Sum("points", filter=Q(kind__in=list(REDEEMED_KINDS))),
            expired=Sum("points", filter=Q(kind__in=list(EXPIRED_KINDS))),
            qualifying=Sum("qualifying_delta"),
            last_id=Max("id"),
        )
    }
    last = {
        row["account_id"]: (row["available_after"], row["pending_after"])
        for row in PointsEntry.objects.filter(pk__in=[row["last_id"] for row in sums.values()]).values(
            "account_id", "available_after", "pending_after"
        )
    }
    lot_sums: dict[int, dict[str, int]] = defaultdict(lambda: {"released": 0, "pending": 0})
    for lot_row in lots.values("account_id").annotate(
        released=Sum(
            Case(When(released_at__isnull=False, then="remaining"), default=Value(0), output_field=IntegerField())
        ),
        pending=Sum(
            Case(When(released_at__isnull=True, then="remaining"), default=Value(0), output_field=IntegerField())
        ),
    ):
        lot_sums[lot_row["account_id"]] = {"released": lot_row["released"], "pending": lot_row["pending"]}
    found: list[Discrepancy] = []
    for account in accounts.iterator(chunk_size=2000):
        row: Mapping[str, Any] = sums.get(account.pk, {})
        expected: dict[str, int | Decimal] = {
            "available": row.get("available") or 0,
            "pending": row.get("pending") or 0,
            "lifetime": row.get("lifetime") or 0,
            "redeemed": -(row.get("redeemed") or 0),
            "expired": -(row.get("expired") or 0),
            "lots_available": lot_sums[account.pk]["released"] or 0,
            "lots_pending": lot_sums[account.pk]["pending"] or 0,
        }
        cached: dict[str, int | Decimal] = {
            "available": account.points_available,
            "pending": account.points_pending,
            "lifetime": account.lifetime_points,
            "redeemed": account.points_redeemed,
            "expired": account.points_expired,
            "lots_available": account.points_available,
            "lots_pending": account.points_pending,
        }
        if account.pk in last:
            expected["available_after"], expected["pending_after"] = last[account.pk]
            cached["available_after"], cached["pending_after"] = account.points_available, account.points_pending
        if account.program.tier_window == TierWindow.LIFETIME:
            # A sum of two-decimal values has two decimals; SQLite sums decimals as REAL (e.g.
            # 4378.54999999998 for 4378.55), so round before comparing. Exact on PostgreSQL.
            qualifying = Decimal(row.get("qualifying") or 0).quantize(Decimal(1).scaleb(-MONEY_PLACES))
            expected["qualifying"] = qualifying
            cached["qualifying"] = account.qualifying_value
        for check, value in expected.items():
            if value != cached[check]:
                found.append(Discrepancy(account_id=account.pk, check=check, expected=value, cached=cached[check]))
        if account.points_available < 0 or account.points_pending < 0:
            found.append(
                Discrepancy(
                    account_id=account.pk,
                    check="nonnegative",
                    expected=0,
                    cached=min(account.points_available, account.points_pending),
                )
            )
    return found


def shop_entries(*, shop_id: int) -> QuerySet[PointsEntry]:
    """The ledger entries of every account of the shop's program, newest first (by business time,
    then id), with account, customer and order joined for a feed."""
    return (
        PointsEntry.objects.filter(account__program__shop_id=shop_id)
        .select_related("account__customer", "account__program__shop", "order")
        .order_by("-created_at", "-id")
    )


def member_detail(*, shop_id: int, account_id: int) -> MemberAccount | None:
    """The member account ``account_id`` if it belongs to the shop's program, else ``None``.

    The caller checks that the reader is the shop's staff; the GraphQL optimizer adds the joins
    and prefetches (customer, tier, entries, tier history) the selection needs.
    """
    return MemberAccount.objects.filter(pk=account_id, program__shop_id=shop_id).first()


# --- Member-facing schedules: when pending points become available, when points expire ---------

#: Attribute that ``open_lots_prefetch`` fills on each account (lots with points remaining).
OPEN_LOTS = "open_lots"


@dataclass(frozen=True)
class PointsOnDate:
    """``points`` on one day (``date``, in the shop's time zone)."""

    date: dt.date
    points: int


def open_lots_prefetch() -> Prefetch:
    """Prefetch of every account's lots with points remaining into ``account.open_lots``.

    One query for all accounts of a page, whichever of :func:`pending_releases` and
    :func:`expiring_points` read it.
    """
    return Prefetch("lots", queryset=_open_lots_queryset(), to_attr=OPEN_LOTS)


def _open_lots_queryset() -> QuerySet[PointsLot]:
    """Lots with points remaining, with the fields the schedules read."""
    return PointsLot.objects.filter(remaining__gt=0).only(
        "pk", "account_id", "remaining", "available_at", "released_at", "expires_at"
    )


def _open_lots(account: MemberAccount) -> list[PointsLot]:
    """The account's lots with points remaining: from the prefetch, else one query."""
    lots = getattr(account, OPEN_LOTS, None)
    if lots is None:
        lots = list(_open_lots_queryset().filter(account_id=account.pk))
    return lots


def _by_local_date(pairs: list[tuple[dt.datetime, int]], timezone_name: str) -> list[PointsOnDate]:
    """Points summed per local date of their moment, earliest date first."""
    tz = zoneinfo.ZoneInfo(timezone_name)
    days: dict[dt.date, int] = defaultdict(int)
    for moment, points in pairs:
        days[moment.astimezone(tz).date()] += points
    return [PointsOnDate(date=day, points=days[day]) for day in sorted(days)]


def pending_releases(*, account: MemberAccount) -> list[PointsOnDate]:
    """Pending points by the day they become available (shop's time zone), soonest first.

    They add up to ``points_pending``. Reads ``account.program.shop`` and the open lots (see
    :func:`open_lots_prefetch`); no query when both are loaded.
    """
    pending = [(lot.available_at, lot.remaining) for lot in _open_lots(account) if lot.released_at is None]
    return _by_local_date(pending, account.program.shop.timezone)


def expiring_points(*, account: MemberAccount, limit: int) -> list[PointsOnDate]:
    """ "N points expire on D": available points by the day they expire (shop's time zone), for the next ``limit`` days.

    Only released points count (pending ones expire ``expiry_months`` after they become
    available, see :func:`pending_releases`); points past their expiry that the hourly job has
    not taken yet are listed on their (past) day until it runs.
    """
    expiring = [
        (lot.expires_at, lot.remaining)
        for lot in _open_lots(account)
        if lot.released_at is not None and lot.expires_at is not None
    ]
    return _by_local_date(expiring, account.program.shop.timezone)[:limit]
