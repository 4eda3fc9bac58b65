"""Enrolment and tier evaluation.

Tiers qualify on the program's basis (spend or points) summed over its window. Upgrades are
immediate; downgrades happen only at requalification (``services.lifecycle``), so
:func:`tier_evaluate` never moves a member down. Every change is a :class:`TierChange` row.
After an owner edits the ladder, :func:`tiers_reevaluate` (run by a worker) moves members.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Q, Sum, Value, When
from django.utils import timezone

from loyalty.broadcasts import broadcast_tier_change_on_commit
from loyalty.events import enrolled_event_record, tier_changed_event_record
from loyalty.models import LoyaltyProgram, MemberAccount, PointsEntry, Tier, TierChange, TierWindow
from loyalty.services.periods import calendar_year_bounds, years_after
from marketplace.models import Customer


def program_tiers(program: LoyaltyProgram) -> list[Tier]:
    """The program's tiers, lowest first (uses a prefetch of ``tiers`` when there is one)."""
    return sorted(program.tiers.all(), key=lambda tier: tier.position)


T = TypeVar("T")

#: Per-process cache of rows that configure a program (tiers, earning rules, referral settings):
#: ``(program id, part) -> ((created_at, config_version), value)``. One entry per program and
#: part, replaced when the version moves, so it holds at most programs x parts values.
_CONFIG_CACHE: dict[tuple[int, str], tuple[tuple[Any, int], Any]] = {}


def program_config_cached(program: LoyaltyProgram, part: str, load: Callable[[], T]) -> T:
    """``load()``'s value for ``program``, computed once per process and program configuration.

    ``part`` names what is cached (``"tiers"``, ``"rules"``, ``"referrals"``). The key is the
    program's ``config_version``, which database triggers bump on every insert, update or
    delete of its tiers, earning rules (and their categories and tiers) and referral settings,
    whichever process or tool made it (loyalty migration 0008), plus its ``created_at`` so a
    re-created program that reuses an id is a different key. Correct only when ``program`` was
    read in the caller's current transaction and that transaction changed none of those rows
    (the posting path: the worker reads the program row with every batch): ``load()`` then
    runs after the version was read, so what it stores is never older than its key. The
    values are shared between the threads of the process: callers must not change them.
    Thread-safe (a race only loads twice).
    """
    stamp = (program.created_at, program.config_version)
    hit = _CONFIG_CACHE.get((program.pk, part))
    if hit is not None and hit[0] == stamp:
        return hit[1]
    value = load()
    _CONFIG_CACHE[(program.pk, part)] = (stamp, value)
    return value


def program_tiers_cached(program: LoyaltyProgram) -> list[Tier]:
    """The program's live tiers, lowest first, from the per-process cache (:func:`program_config_cached`).

    One query on a miss, none on a hit. Same conditions as the cache: ``program`` was read in the
    current transaction, which has not edited the ladder. Returns a new list of shared ``Tier``
    instances (read them, never change them).
    """
    return list(
        program_config_cached(
            program,
            "tiers",
            lambda: tuple(sorted(Tier.objects.filter(program_id=program.pk), key=lambda t: t.position)),
        )
    )


def tier_for_value(tiers: list[Tier], value: Decimal) -> Tier | None:
    """The highest tier whose threshold ``value`` reaches (``tiers`` lowest first)."""
    reached = None
    for tier in tiers:
        if value >= tier.threshold:
            reached = tier
    return reached


def window_bounds(program: LoyaltyProgram, at: dt.datetime) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Start and end of the qualifying window that contains ``at`` (``None`` = unbounded).

    Calendar years are the shop's (its time zone): ``[1 January, next 1 January)``, local
    midnights. A rolling window is the 12 months up to ``at`` and has no fixed end: it starts
    on the same UTC date and time a year earlier (29 February: 28 February). The maths lives in
    ``services.periods``. Reads ``program.shop`` for calendar years only.
    """
    if program.tier_window == TierWindow.LIFETIME:
        return None, None
    if program.tier_window == TierWindow.CALENDAR_YEAR:
        return calendar_year_bounds(program=program, at=at)
    return years_after(moment=at, years=-1), None


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

    Returns ``(account, created)`` with ``tier``, ``customer`` and ``program`` loaded (the latter two
    are the caller's rows). Needs an open transaction; the
    returned account is locked (``SELECT ... FOR UPDATE``) so the caller may move points.
    Safe against a concurrent enrolment of the same member: the unique constraint decides and
    the loser locks the winner's row.
    """
    locked = MemberAccount.objects.select_for_update(of=("self",)).select_related("tier")
    account = locked.filter(customer=customer, program=program).first()
    if account is not None:
        return _with_relations(account, customer, program), False
    tiers = program_tiers(program)
    entry_tier = tiers[0] if tiers else None
    try:
        with transaction.atomic():
            account = MemberAccount.objects.create(customer=customer, program=program, tier=entry_tier, enrolled_at=at)
            enrolled_event_record(account)
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
        return _with_relations(locked.get(customer=customer, program=program), customer, program), False
    return _with_relations(locked.get(pk=account.pk), customer, program), True


def _with_relations(account: MemberAccount, customer: Customer, program: LoyaltyProgram) -> MemberAccount:
    """``account`` with its customer and program set from the caller's rows (no query when read:
    the shop events of the posting name the member by them)."""
    account.customer = customer
    account.program = program
    return account


def _tier_at_window_start(account: MemberAccount, tiers: list[Tier], at: dt.datetime) -> Tier | None:
    """The tier the account held when the qualifying window containing ``at`` began: what it
    carried in (a requalified or kept tier), which a return in this window cannot take away.
    The entry tier for lifetime windows and for members who joined inside the window."""
    start, _ = window_bounds(account.program, at)
    entry = tiers[0] if tiers else None
    if start is None:
        return entry
    held = (
        TierChange.objects.filter(account=account, created_at__lte=start)
        .order_by("-created_at", "-id")
        .values_list("to_tier_id", flat=True)
        .first()
    )
    return next((tier for tier in tiers if tier.pk == held), entry)


def tier_by_id(tiers: list[Tier], tier_id: int | None) -> Tier | None:
    """The tier of ``tiers`` with primary key ``tier_id``, or ``None`` (no query)."""
    return next((tier for tier in tiers if tier.pk == tier_id), None) if tier_id is not None else None


def higher_tier(first: Tier | None, second: Tier | None) -> Tier | None:
    """The higher of two tiers by position (either may be ``None``)."""
    if first is None or (second is not None and second.position > first.position):
        return second
    return first


def earned_and_floor(account: MemberAccount, tiers: list[Tier]) -> tuple[Tier | None, Tier | None]:
    """``(earned tier, floor)`` of the account: with no paid-membership floor, its tier and ``None``;
    with one, ``tier_earned`` (the tier its own value holds) and ``tier_floor``. No query."""
    floor = tier_by_id(tiers, account.tier_floor_id)
    if floor is None:
        return account.tier, None
    return tier_by_id(tiers, account.tier_earned_id), floor


def tier_evaluate(
    *, account: MemberAccount, at: dt.datetime, reason: str, returned: bool = False, tiers: list[Tier] | None = None
) -> TierChange | None:
    """Recompute the qualifying value and move the account to the tier it now reaches.

    Upgrades at once. Otherwise never downgrades (that is requalification's job), except after
    a return (``returned``): a return undoes the upgrades its goods paid for, so the member
    drops to the tier the remaining value reaches, but never below the tier held when the
    current window began (docs/lifecycle.md, "Returns"). Caller holds the account lock. Stores
    the value on ``account.qualifying_value``. Returns the ``TierChange`` written, if any.
    ``tiers`` (lowest first) spares the query of the program's tiers: the posting path passes
    its per-process cached ladder (:func:`program_tiers_cached`). No query at all for a
    lifetime window without a change; one aggregate otherwise.

    With a paid membership's floor (``tier_floor``, docs/memberships.md) the rules above move the
    *earned* tier (``tier_earned``) and the account holds the higher of it and the floor.
    """
    program = account.program
    if program.tier_window == TierWindow.LIFETIME:
        value = account.qualifying_value
    else:
        value = qualifying_value(account=account, at=at)
    if tiers is None:
        tiers = program_tiers(program)
    target = tier_for_value(tiers, value)
    held = account.tier
    earned, floor = earned_and_floor(account, tiers)
    down = returned and target is not None and earned is not None and target.position < earned.position
    if down:
        start_floor = _tier_at_window_start(account, tiers, at)
        if start_floor is not None and start_floor.position > target.position:  # type: ignore[union-attr]
            target = start_floor
        down = target.position < earned.position  # type: ignore[union-attr]
    if target is not None and (earned is None or target.position > earned.position or down):
        earned = target
    effective = higher_tier(earned, floor)
    change = None
    if effective is not None and (held is None or effective.pk != held.pk):
        change = TierChange.objects.create(
            account=account,
            from_tier=held,
            to_tier=effective,
            qualifying_value=value,
            reason=reason,
            created_at=at,
        )
        tier_changed_event_record(account, change)
        account.tier = effective
    earned_moved = floor is not None and (earned.pk if earned else None) != account.tier_earned_id
    # The ledger posting already moved the cached value by the entry's delta; write only what
    # differs (a tier change, or a windowed value that dropped old entries).
    if change is not None or value != account.qualifying_value or earned_moved:
        account.qualifying_value = value
        fields: dict[str, Any] = {"tier": account.tier, "qualifying_value": value}
        if floor is not None:
            account.tier_earned = earned
            fields["tier_earned"] = earned
        MemberAccount.objects.filter(pk=account.pk).update(**fields)
    return change


def tier_floor_set(
    *, account: MemberAccount, tier: Tier, multiplier: Decimal, at: dt.datetime, reason: str
) -> TierChange | None:
    """Hold ``tier`` at least, and earn ``multiplier`` more, while a paid membership lasts.

    The account keeps the higher of its earned tier and ``tier``; the earned tier goes on moving
    beneath (:func:`tier_evaluate`, requalification) and is what :func:`tier_floor_clear` returns
    to. A move up is a ``TierChange`` marked ``membership`` with ``reason`` (e.g. "VIP Gold
    membership started"), a ``tier.changed`` event and a live update after commit. Caller holds
    the account lock (``account`` read under it, with ``program`` loaded); idempotent (setting the
    same floor again writes no change). ``multiplier`` >= 1.
    """
    if account.tier_floor_id is None:
        account.tier_earned = account.tier
    account.tier_floor = tier
    account.membership_multiplier = multiplier
    held = account.tier
    effective = higher_tier(account.tier_earned, tier)
    change = None
    if effective is not None and (held is None or effective.pk != held.pk):
        change = _membership_change(account, held, effective, reason, at)
    MemberAccount.objects.filter(pk=account.pk).update(
        tier=account.tier, tier_floor=tier, tier_earned=account.tier_earned, membership_multiplier=multiplier
    )
    return change


def tier_floor_clear(*, account: MemberAccount, at: dt.datetime, reason: str) -> TierChange | None:
    """End a paid membership's hold: the account returns to its earned tier (``tier_earned``).

    A move down is a ``TierChange`` marked ``membership`` with ``reason`` (e.g. "VIP Gold membership
    expired: the payment failed after 3 retries"), a ``tier.changed`` event and a live update after
    commit. Caller holds the account lock; does nothing without a floor (idempotent).
    """
    if account.tier_floor_id is None:
        return None
    earned = account.tier_earned
    held = account.tier
    change = None
    if earned is not None and (held is None or earned.pk != held.pk):
        change = _membership_change(account, held, earned, reason, at)
    account.tier_floor = None
    account.tier_earned = None
    account.membership_multiplier = Decimal("1")
    MemberAccount.objects.filter(pk=account.pk).update(
        tier=account.tier, tier_floor=None, tier_earned=None, membership_multiplier=Decimal("1")
    )
    return change


def _membership_change(
    account: MemberAccount, held: Tier | None, target: Tier, reason: str, at: dt.datetime
) -> TierChange:
    """Write a membership's tier move of the (locked) account, its event and its live update."""
    change = TierChange.objects.create(
        account=account,
        from_tier=held,
        to_tier=target,
        qualifying_value=account.qualifying_value,
        reason=reason,
        created_at=at,
        membership=True,
    )
    tier_changed_event_record(account, change)
    account.tier = target
    broadcast_tier_change_on_commit(
        account_id=account.pk, customer_id=account.customer_id, shop_id=account.program.shop_id, reason=reason
    )
    return change


def tier_target_case(tiers: list[Tier], value_field: str = "qualifying_value") -> Case:
    """SQL expression: the index in ``tiers`` (lowest first) of the highest tier ``value_field`` reaches.

    -1 when it reaches none. Lets one query count or find members by the tier their cached
    qualifying value earns, whatever the number of members.
    """
    whens = [When(**{f"{value_field}__gte": tier.threshold}, then=Value(index)) for index, tier in enumerate(tiers)]
    return Case(*reversed(whens), default=Value(-1), output_field=IntegerField())


@dataclass(frozen=True)
class ReevaluationSummary:
    """What ``tiers_reevaluate`` did: members moved up, and members moved off a deleted tier."""

    upgraded: int
    moved_from_deleted: int


def tiers_reevaluate(*, program_id: int, reason: str, now: dt.datetime | None = None) -> ReevaluationSummary:
    """Move the program's members to the tier their qualifying value earns after a ladder change.

    Upgrades happen now; a member whose tier was deleted moves to the highest remaining tier
    their value reaches (down if need be, since the tier is gone); members now below their
    tier's threshold keep it, because downgrades happen only at requalification under the
    program's downgrade policy. Candidates come from one query on the cached
    ``qualifying_value``; each is then locked and evaluated in its own short transaction, so
    the job is idempotent, safe beside the worker and can be re-run after a crash. Every move
    is a ``TierChange`` with ``reason`` and a live update after commit.
    """
    now = now or timezone.now()
    program = LoyaltyProgram.objects.select_related("shop").prefetch_related("tiers").get(pk=program_id)
    tiers = program_tiers(program)
    if not tiers:
        return ReevaluationSummary(upgraded=0, moved_from_deleted=0)
    positions = [tier.position for tier in tiers]
    above = Q()
    for index, position in enumerate(positions):
        above |= Q(target=index, tier__position__lt=position)
    candidates = (
        MemberAccount.objects.filter(program_id=program_id)
        .annotate(target=tier_target_case(tiers))
        .filter(Q(tier__isnull=True) | Q(tier__archived_at__isnull=False) | above)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    upgraded = moved = 0
    for account_id in candidates.iterator(chunk_size=1000):
        with transaction.atomic():
            account = (
                MemberAccount.objects.select_for_update(of=("self",))
                .select_related("tier", "program__shop")
                .get(pk=account_id)
            )
            account.program = program
            old = account.tier
            if old is None or old.archived_at is not None:
                earned = tier_for_value(tiers, account.qualifying_value) or tiers[0]
                target = higher_tier(earned, tier_by_id(tiers, account.tier_floor_id)) or earned
                moved_change = TierChange.objects.create(
                    account=account,
                    from_tier=old,
                    to_tier=target,
                    qualifying_value=account.qualifying_value,
                    reason=reason if old is None else f"Tier {old.name} was removed from the program",
                    created_at=now,
                )
                tier_changed_event_record(account, moved_change)
                MemberAccount.objects.filter(pk=account.pk).update(
                    tier=target, tier_earned=earned if account.tier_floor_id is not None else None
                )
                account.tier = target
                change = True
                moved += 1
            else:
                change = tier_evaluate(account=account, at=now, reason=reason) is not None
                upgraded += change
            if change:
                # A change always leaves a tier: ``target`` above, or the one tier_evaluate moved to.
                assert account.tier is not None
                broadcast_tier_change_on_commit(
                    account_id=account.pk,
                    customer_id=account.customer_id,
                    shop_id=program.shop_id,
                    reason=f"Now {account.tier.name}",
                )
    return ReevaluationSummary(upgraded=upgraded, moved_from_deleted=moved)
