"""Time-driven movements: release of pending points, expiry by lots, tier requalification.

Every job here is an idempotent pass over due rows with one short durable transaction per
account under its row lock (``account_lock``); a second run, or two runs at once, change nothing
more than one run. Each takes ``now`` (business time, so a historical replay can run it "as of"
a past date) and ``dry_run``. Policies: docs/lifecycle.md. Occasions: ``services.occasions``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Max, Q, Sum

from loyalty.broadcasts import AccountUpdate, broadcast_on_commit, broadcast_tier_change_on_commit
from loyalty.events import tier_changed_event_record
from loyalty.models import (
    EntryKind,
    LoyaltyProgram,
    MemberAccount,
    PointsEntry,
    PointsLot,
    Tier,
    TierBasis,
    TierChange,
    TierWindow,
)
from loyalty.services.ledger import account_lock, points_expire_lot, points_release
from loyalty.services.periods import calendar_year_bounds, year_start, years_after
from loyalty.services.tiers import earned_and_floor, higher_tier, program_tiers, qualifying_value, tier_for_value


def account_release_due(*, account: MemberAccount, now: dt.datetime) -> tuple[int, int]:
    """Release the account's pending lots due at ``now``; return (lots, points released).

    Caller holds the account lock in an open transaction. Each release is dated at its lot's
    ``available_at`` (when the points really became available), so a historical replay keeps
    the account's ledger in event-time order.
    """
    pending = list(
        PointsLot.objects.select_related("entry__order")
        .filter(account_id=account.pk, released_at__isnull=True, available_at__lte=now)
        .order_by("available_at", "pk")
    )
    moved = 0
    for lot in pending:
        entry = points_release(account=account, lot=lot, at=lot.available_at)
        moved += entry.points if entry else 0
    return len(pending), moved


@dataclass(frozen=True)
class ReleaseSummary:
    """What ``points_release_due`` did: accounts touched and points made available."""

    accounts: int
    lots: int
    points: int


def points_release_due(*, now: dt.datetime, broadcast: bool = True, dry_run: bool = False) -> ReleaseSummary:
    """Release every pending lot whose ``available_at`` is at or before ``now``.

    One short durable transaction per account, under its row lock; each release is keyed
    ``lot:<id>:release`` so a second run, or two runs at once, release nothing twice. With
    ``dry_run`` nothing is written and the summary says what would be released.
    """
    due = (
        PointsLot.objects.filter(released_at__isnull=True, available_at__lte=now)
        .values_list("account_id", flat=True)
        .distinct()
        .order_by("account_id")
    )
    accounts = lots = points = 0
    for account_id in list(due):
        with transaction.atomic(durable=not dry_run):
            account = account_lock(account_ids=[account_id]).select_related("program").get()
            if dry_run:
                pending = PointsLot.objects.filter(
                    account_id=account_id, released_at__isnull=True, available_at__lte=now
                )
                accounts, lots = accounts + 1, lots + pending.count()
                points += sum(pending.values_list("remaining", flat=True))
                continue
            released, moved = account_release_due(account=account, now=now)
            accounts, lots, points = accounts + 1, lots + released, points + moved
            if broadcast and moved:
                broadcast_on_commit(
                    AccountUpdate(
                        account_id=account.pk,
                        customer_id=account.customer_id,
                        shop_id=account.program.shop_id,
                        entry_id=None,
                        kind="release",
                        points=moved,
                        reason="Pending points became available",
                    )
                )
    return ReleaseSummary(accounts=accounts, lots=lots, points=points)


# --- Expiry by lots ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpirySummary:
    """What ``points_expire_due`` did (or, in a dry run, would do): accounts, lots and points expired."""

    accounts: int
    lots: int
    points: int


def account_expire_due(*, account: MemberAccount, now: dt.datetime) -> tuple[int, int]:
    """Expire what remains of the account's lots due at ``now``; return (lots, points expired).

    Caller holds the account lock in an open transaction. Pending lots that are due for
    release are released first (a lot expires only once released, since it expires
    ``expiry_months`` after it becomes available). Each expiry is dated at its lot's
    ``expires_at``, or at the latest refund after it when a refund put points back into a lot
    that had already expired (so that the entry never precedes the points it takes).
    """
    account_release_due(account=account, now=now)
    lots = list(
        PointsLot.objects.select_related("entry__order")
        .filter(account_id=account.pk, released_at__isnull=False, remaining__gt=0, expires_at__lte=now)
        .order_by("expires_at", "pk")
    )
    if not lots:
        return 0, 0
    refunded = PointsEntry.objects.filter(
        account_id=account.pk, kind=EntryKind.REFUND, created_at__gt=lots[0].expires_at, created_at__lte=now
    ).aggregate(at=Max("created_at"))["at"]
    count = points = 0
    for lot in lots:
        assert lot.expires_at is not None  # selected by expires_at__lte above
        at = max(lot.expires_at, refunded) if refunded is not None else lot.expires_at
        entry = points_expire_lot(account=account, lot=lot, at=at)
        if entry is not None:
            count, points = count + 1, points - entry.points
    return count, points


def points_expire_due(*, now: dt.datetime, broadcast: bool = True, dry_run: bool = False) -> ExpirySummary:
    """Expire what remains of every lot whose ``expires_at`` is at or before ``now``.

    Due accounts come from one query on the ``lot_expiry_due`` index; each is then locked and
    handled in its own short durable transaction (:func:`account_expire_due`), which re-reads
    the lots under the lock: a redemption spending from the same lot at the same moment is
    serialised by that lock and never makes the job take points twice. Keys ``lot:<id>:expire``
    keep a second run, or two runs at once, from expiring anything twice. With ``dry_run``
    nothing is written (and nothing locked): the summary says what is due.
    """
    due = PointsLot.objects.filter(remaining__gt=0, expires_at__isnull=False, expires_at__lte=now)
    if dry_run:
        rows = list(due.values("account_id").annotate(lots=Count("pk"), points=Sum("remaining")))
        return ExpirySummary(
            accounts=len(rows), lots=sum(r["lots"] for r in rows), points=sum(r["points"] for r in rows)
        )
    accounts = lots = points = 0
    for account_id in list(due.values_list("account_id", flat=True).distinct().order_by("account_id")):
        with transaction.atomic(durable=True):
            account = account_lock(account_ids=[account_id]).select_related("program").get()
            expired, moved = account_expire_due(account=account, now=now)
            if not expired:
                continue
            accounts, lots, points = accounts + 1, lots + expired, points + moved
            if broadcast:
                broadcast_on_commit(
                    AccountUpdate(
                        account_id=account.pk,
                        customer_id=account.customer_id,
                        shop_id=account.program.shop_id,
                        entry_id=None,
                        kind=EntryKind.EXPIRE.value,
                        points=-moved,
                        reason=f"{moved} points expired",
                    )
                )
    return ExpirySummary(accounts=accounts, lots=lots, points=points)


# --- Tier requalification ----------------------------------------------------------------------


@dataclass(frozen=True)
class RequalificationSummary:
    """What ``tiers_requalify_due`` did (or would do in a dry run).

    ``accounts`` were requalified (each gets ``requalified_through``); of them ``kept`` stayed in
    their tier (with a history row), ``moved_down`` went down, ``marked`` only got the mark
    (programs whose policy never moves members down).
    """

    accounts: int = 0
    kept: int = 0
    moved_down: int = 0
    marked: int = 0


@dataclass(frozen=True)
class _Window:
    """A qualifying window that has ended: ``[start, end)``, settled at ``end`` + grace."""

    start: dt.datetime
    end: dt.datetime
    effective: dt.datetime


def _calendar_window(program: LoyaltyProgram, now: dt.datetime) -> _Window:
    """The last calendar year (shop's time zone) whose end plus the grace days is at or before ``now``."""
    grace = dt.timedelta(days=program.downgrade_grace_days)
    end, _ = calendar_year_bounds(program=program, at=now - grace)
    return _Window(start=year_start(program=program, year=end.year - 1), end=end, effective=end + grace)


def _rolling_window(program: LoyaltyProgram, anchor: dt.datetime, now: dt.datetime) -> _Window | None:
    """The last 12-month anniversary of ``anchor`` whose grace has passed by ``now``, or ``None``.

    Anniversaries and the window's start are ``services.periods.years_after`` (UTC calendar).
    """
    grace = dt.timedelta(days=program.downgrade_grace_days)
    years = 1
    if years_after(moment=anchor, years=1) + grace > now:
        return None
    while years_after(moment=anchor, years=years + 1) + grace <= now:
        years += 1
    end = years_after(moment=anchor, years=years)
    return _Window(start=years_after(moment=end, years=-1), end=end, effective=end + grace)


def _upgrade_q(prefix: str = "") -> Q:
    """Tier changes that count as (re)qualifying: enrolment or a move to a higher position."""
    return Q(**{f"{prefix}from_tier__isnull": True}) | Q(
        **{f"{prefix}to_tier__position__gt": F(f"{prefix}from_tier__position")}
    )


def _rolling_anchor(*, last_upgrade: dt.datetime | None, requalified: dt.datetime | None, enrolled: dt.datetime):
    """Start of the member's current 12-month hold: last upgrade (or enrolment) or last requalification."""
    return max(moment for moment in (last_upgrade, requalified, enrolled) if moment is not None)


def _window_for(account: MemberAccount, program: LoyaltyProgram, now: dt.datetime) -> _Window | None:
    """The ended window ``account`` is due to be requalified on at ``now``, or ``None`` (one query for rolling)."""
    window: _Window | None
    if program.tier_window == TierWindow.CALENDAR_YEAR:
        window = _calendar_window(program, now)
        if account.enrolled_at >= window.end:
            return None
    elif program.tier_window == TierWindow.ROLLING_12_MONTHS:
        last_upgrade = TierChange.objects.filter(_upgrade_q(), account_id=account.pk).aggregate(at=Max("created_at"))[
            "at"
        ]
        anchor = _rolling_anchor(
            last_upgrade=last_upgrade, requalified=account.requalified_through, enrolled=account.enrolled_at
        )
        window = _rolling_window(program, anchor, now)
        if window is None:
            return None
    else:
        return None
    if account.requalified_through is not None and account.requalified_through >= window.end:
        return None
    return window


def _value_text(program: LoyaltyProgram, value: Decimal) -> str:
    """``180.00 spent`` (spend basis) or ``180 points earned`` (points basis)."""
    if program.tier_basis == TierBasis.POINTS:
        return f"{int(value)} points earned"
    return f"{value:.2f} spent"


def _requalify_reason(
    program: LoyaltyProgram, window: _Window, value: Decimal, so_far: bool, old: Tier, new: Tier
) -> str:
    """E.g. ``Requalified for 2027: 180.00 spent in 2026 keeps Silver`` / ``... moves down to Bronze``."""
    outcome = f"keeps {new.name}" if new.pk == old.pk else f"moves down from {old.name} to {new.name}"
    if program.tier_window == TierWindow.CALENDAR_YEAR:
        tz = zoneinfo.ZoneInfo(program.shop.timezone)
        year = window.end.astimezone(tz).year
        period = f"in {year} so far" if so_far else f"in {year - 1}"
        return f"Requalified for {year}: {_value_text(program, value)} {period} {outcome}"
    day = window.end.astimezone(zoneinfo.ZoneInfo(program.shop.timezone)).date().isoformat()
    period = "in the last 12 months" if so_far else "in the 12 months before"
    return f"Requalified on {day}: {_value_text(program, value)} {period} {outcome}"


def _window_value(account: MemberAccount, window: _Window) -> Decimal:
    """Qualifying value of the entries dated in ``[window.start, window.end)`` (one aggregate query)."""
    total = PointsEntry.objects.filter(
        account_id=account.pk, created_at__gte=window.start, created_at__lt=window.end
    ).aggregate(total=Sum("qualifying_delta"))["total"]
    return total or Decimal("0")


@dataclass(frozen=True)
class _Decision:
    """Requalification of one account: the tier it ends in and why."""

    window: _Window
    tier: Tier
    value: Decimal
    current_value: Decimal
    reason: str | None  # None: only the mark (never-downgrade programs)
    earned: Tier | None = None  # with a paid membership's floor: the earned tier beneath ``tier``


def _decide(account: MemberAccount, program: LoyaltyProgram, tiers: list[Tier], now: dt.datetime) -> _Decision | None:
    """What requalifying ``account`` at ``now`` gives, or ``None`` when it is not due. Reads only.

    The new tier is the higher of what the window that ended earns and what the current window
    earns so far (an upgrade is immediate anyway, so a member who already qualifies again is
    never moved down), and never above the tier held: requalification only confirms or lowers.
    With a paid membership's floor this decides the earned tier, and the account holds the higher
    of it and the floor (docs/memberships.md).
    """
    current, floor = earned_and_floor(account, tiers)
    if current is None or not tiers or current.position <= tiers[0].position:
        return None
    window = _window_for(account, program, now)
    if window is None:
        return None
    closed = _window_value(account, window)
    so_far = qualifying_value(account=account, at=now)
    held = higher_tier(current, floor) or current
    if program.downgrade_policy != "requalification":
        return _Decision(window=window, tier=held, value=closed, current_value=so_far, reason=None, earned=current)
    by_closed = tier_for_value(tiers, closed) or tiers[0]
    by_now = tier_for_value(tiers, so_far) or tiers[0]
    use_now = by_now.position > by_closed.position
    earned = by_now if use_now else by_closed
    target = earned if earned.position < current.position else current
    value = so_far if use_now else closed
    reason = _requalify_reason(program, window, value, use_now, current, target)
    effective = higher_tier(target, floor) or target
    if effective.pk != target.pk:
        reason = f"{reason}; {effective.name} is held by a paid membership"
    return _Decision(window=window, tier=effective, value=value, current_value=so_far, reason=reason, earned=target)


def _requalify_account(
    account_id: int, program: LoyaltyProgram, tiers: list[Tier], now: dt.datetime, *, broadcast: bool, dry_run: bool
) -> tuple[Tier | None, _Decision | None]:
    """Lock ``account_id`` (not in a dry run), decide, and write the tier change, the mark and the value.

    Returns the tier held before and the decision (``None`` when not due).
    """
    accounts = MemberAccount.objects.filter(pk=account_id) if dry_run else account_lock(account_ids=[account_id])
    account = accounts.select_related("tier").get()
    account.program = program
    old = account.tier
    decision = _decide(account, program, tiers, now)
    if decision is None or dry_run:
        return old, decision
    if decision.reason is not None:
        change = TierChange.objects.create(
            account=account,
            from_tier=old,
            to_tier=decision.tier,
            qualifying_value=decision.value,
            reason=decision.reason,
            created_at=decision.window.effective,
        )
        if change.from_tier_id != change.to_tier_id:
            tier_changed_event_record(account, change)
    MemberAccount.objects.filter(pk=account.pk).update(
        tier=decision.tier,
        requalified_through=decision.window.end,
        qualifying_value=decision.current_value,
        tier_earned=decision.earned if account.tier_floor_id is not None else None,
    )
    assert old is not None  # _decide returns None for an account without a tier
    if broadcast and decision.reason is not None and decision.tier.pk != old.pk:
        broadcast_tier_change_on_commit(
            account_id=account.pk, customer_id=account.customer_id, shop_id=program.shop_id, reason=decision.reason
        )
    return old, decision


def _requalify_candidates(program: LoyaltyProgram, tiers: list[Tier], now: dt.datetime) -> list[int]:
    """Ids of the program's accounts above the entry tier that may be due (one query); rechecked under lock."""
    above = MemberAccount.objects.filter(program_id=program.pk, tier__position__gt=tiers[0].position)
    if program.tier_window == TierWindow.CALENDAR_YEAR:
        end = _calendar_window(program, now).end
        return list(
            above.filter(enrolled_at__lt=end)
            .filter(Q(requalified_through__isnull=True) | Q(requalified_through__lt=end))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    rows = (
        above.annotate(last_upgrade=Max("tier_changes__created_at", filter=_upgrade_q("tier_changes__")))
        .order_by("pk")
        .values_list("pk", "last_upgrade", "requalified_through", "enrolled_at")
    )
    grace = dt.timedelta(days=program.downgrade_grace_days)
    return [
        pk
        for pk, last_upgrade, requalified, enrolled in rows
        if years_after(
            moment=_rolling_anchor(last_upgrade=last_upgrade, requalified=requalified, enrolled=enrolled), years=1
        )
        + grace
        <= now
    ]


def tiers_requalify_due(*, now: dt.datetime, broadcast: bool = True, dry_run: bool = False) -> RequalificationSummary:
    """Requalify every member whose qualifying window ended (plus the program's grace) by ``now``.

    Programs with a calendar-year window requalify on the shop's local 1 January, on the year
    that ended; rolling-window programs on each 12-month anniversary of the member's last
    upgrade (or enrolment, or last requalification), on the 12 months before it. After
    ``downgrade_grace_days`` the member gets the tier that value earns — the same or lower,
    never higher (see :func:`_decide`) — as a ``TierChange`` dated at the window's end plus the
    grace, with a reason, and ``requalified_through`` = the window's end, which makes the job
    idempotent. Programs whose ``downgrade_policy`` is ``never`` only get the mark; lifetime
    windows are left alone; members in the entry tier have nothing to requalify. One short
    durable transaction per account under its row lock; ``dry_run`` writes nothing.
    """
    kept = down = marked = 0
    programs = (
        LoyaltyProgram.objects.filter(tier_window__in=(TierWindow.CALENDAR_YEAR, TierWindow.ROLLING_12_MONTHS))
        .select_related("shop")
        .prefetch_related("tiers")
        .order_by("pk")
    )
    for program in programs:
        tiers = program_tiers(program)
        if len(tiers) < 2:
            continue
        for account_id in _requalify_candidates(program, tiers, now):
            with transaction.atomic(durable=not dry_run):
                old, decision = _requalify_account(
                    account_id, program, tiers, now, broadcast=broadcast, dry_run=dry_run
                )
            if decision is None:
                continue
            if decision.reason is None:
                marked += 1
            elif old is not None and decision.tier.position < old.position:
                down += 1
            else:
                kept += 1
    return RequalificationSummary(accounts=kept + down + marked, kept=kept, moved_down=down, marked=marked)
