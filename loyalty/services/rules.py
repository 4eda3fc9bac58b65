"""Earning rules (campaigns): which apply to an order, and the points an order earns with them.

One function, :func:`earning_quote`, serves the real earning (``services.orders``) and the
``earningPreview`` query, so a preview always equals what the order will earn. It reads no
database rows itself: callers pass the rules (with ``categories`` and ``tiers`` prefetched).

The rule, in full (docs/ledger.md, "Earning"):

1. Below the program's minimum order amount an order earns nothing and no rule applies.
2. Base = ``floor(Σ line amount x points per currency unit x tier multiplier)``.
3. Matching rules are taken by priority (highest first, then oldest); the first applies, and
   each next one applies only while it and every rule applied so far are stackable.
4. Multipliers multiply the lines they cover (all lines, or those of the rule's categories):
   ``floor(Σ line amount x rate x tier multiplier x Π covering rule multipliers)``; each
   multiplier's contribution is the increase it brings in that order. Fixed bonuses add their
   points once.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from loyalty.models import EarningRule, LoyaltyProgram, RuleKind, Tier
from loyalty.services.ledger import points_for_amount
from loyalty.services.tiers import program_config_cached
from loyalty.signals import member_segments, segments_check
from marketplace.models import MONEY_PLACES, Category
from marketplace.money import shares_in_proportion


@dataclass(frozen=True)
class QuoteLine:
    """A goods line: amount (quantity x unit price, shop currency) and its category id, if any."""

    amount: Decimal
    category_id: int | None = None


@dataclass(frozen=True)
class AppliedRule:
    """A rule that added points to an order, and how many (its contribution)."""

    rule_id: int
    name: str
    points: int

    def as_json(self) -> dict:
        """The form stored on the ledger entry (``PointsEntry.applied_rules``)."""
        return {"id": self.rule_id, "name": self.name, "points": self.points}


@dataclass(frozen=True)
class EarnQuote:
    """Points an order earns: ``base_points`` before rules, ``points`` with them."""

    base_points: int
    points: int
    rules: tuple[AppliedRule, ...]


def _covers(rule: EarningRule, line: QuoteLine) -> bool:
    """Whether a multiplier rule multiplies this line (no categories = every line)."""
    categories = {category.pk for category in rule.categories.all()}
    return not categories or line.category_id in categories


def rule_matches(
    *,
    rule: EarningRule,
    lines: list[QuoteLine],
    at: dt.datetime,
    tier: Tier | None,
    timezone: str,
    segments: frozenset[int] = frozenset(),
) -> bool:
    """Whether every condition of ``rule`` holds for an order at ``at`` (read in ``timezone``) of a
    member in ``tier`` who belongs to ``segments`` (ids, as :func:`member_segments_of` gives)."""
    if not rule.active:
        return False
    if (rule.starts_at and at < rule.starts_at) or (rule.ends_at and at >= rule.ends_at):
        return False
    local = at.astimezone(zoneinfo.ZoneInfo(timezone))
    if rule.days_of_week and local.weekday() not in rule.days_of_week:
        return False
    if rule.start_time is not None:
        assert rule.end_time is not None  # rule_hours_ordered: both times are set, or neither
        if not rule.start_time <= local.time().replace(tzinfo=None) < rule.end_time:
            return False
    categories = {category.pk for category in rule.categories.all()}
    if categories and not any(line.category_id in categories for line in lines):
        return False
    if rule.min_order_amount is not None and sum((line.amount for line in lines), Decimal("0")) < rule.min_order_amount:
        return False
    if rule.segment_ids and not segments.intersection(rule.segment_ids):
        return False
    tiers = {t.pk for t in rule.tiers.all()}
    return not tiers or (tier is not None and tier.pk in tiers)


def _points(lines: list[QuoteLine], rate: Decimal, tier_multiplier: Decimal, multipliers: list[EarningRule]) -> int:
    """``floor(Σ amount x rate x tier multiplier x Π multipliers covering the line)``."""
    total = Decimal("0")
    for line in lines:
        factor = tier_multiplier
        for rule in multipliers:
            if _covers(rule, line):
                assert rule.multiplier is not None  # rule_kind_fields: a multiplier rule has one
                factor *= rule.multiplier
        total += line.amount * factor
    return points_for_amount(amount=total, rate=rate, multiplier=Decimal("1"))


def points_paid_shares(amounts: list[Decimal], points_paid: Decimal) -> list[Decimal]:
    """Split ``points_paid`` over lines of ``amounts`` in proportion, in whole cents, summing exactly.

    Each line first gets ``paid x line / goods`` rounded down to the cent; the cents left over
    go one each to the lines with the largest remainders (then the earliest line). A share
    never exceeds its line. ``amounts`` and the result are in the shop's currency
    (``marketplace.money.shares_in_proportion`` with a quantum of one cent).
    """
    if points_paid <= 0 or sum(amounts, Decimal("0")) <= 0:
        return [Decimal("0.00")] * len(amounts)
    return shares_in_proportion(amounts, points_paid, CENT)


def earning_quote(
    *,
    program: LoyaltyProgram,
    rules: list[EarningRule],
    lines: list[QuoteLine],
    at: dt.datetime,
    tier: Tier | None,
    segments: frozenset[int] = frozenset(),
    extra_multiplier: Decimal = Decimal("1"),
) -> EarnQuote:
    """The points an order of ``lines`` placed at ``at`` earns for a member in ``tier`` who belongs
    to ``segments`` (the ids :func:`member_segments_of` gives; a rule naming segments applies only
    to their members).

    ``rules`` are the program's rules (any order; inactive or non-matching ones are skipped).
    Points are integers; amounts are ``Decimal`` in the shop's currency. ``extra_multiplier`` (a
    paid membership's, ``MemberAccount.membership_multiplier``) multiplies the tier's.
    """
    goods = sum((line.amount for line in lines), Decimal("0"))
    if goods < program.minimum_order_amount or not lines:
        return EarnQuote(base_points=0, points=0, rules=())
    rate = program.points_per_currency_unit
    tier_multiplier = (tier.multiplier if tier is not None else Decimal("1")) * extra_multiplier
    base = _points(lines, rate, tier_multiplier, [])
    matching = sorted(
        (
            r
            for r in rules
            if rule_matches(rule=r, lines=lines, at=at, tier=tier, timezone=program.shop.timezone, segments=segments)
        ),
        key=lambda r: (-r.priority, r.pk),
    )
    chosen: list[EarningRule] = []
    for rule in matching:
        if chosen and not (rule.stackable and all(r.stackable for r in chosen)):
            continue
        chosen.append(rule)
    applied: list[AppliedRule] = []
    multipliers: list[EarningRule] = []
    running = base
    bonus = 0
    for rule in chosen:
        if rule.kind == RuleKind.MULTIPLIER:
            multipliers.append(rule)
            now = _points(lines, rate, tier_multiplier, multipliers)
            applied.append(AppliedRule(rule_id=rule.pk, name=rule.name, points=now - running))
            running = now
        else:
            assert rule.bonus_points is not None  # rule_kind_fields: a fixed bonus rule has its points
            bonus += rule.bonus_points
            applied.append(AppliedRule(rule_id=rule.pk, name=rule.name, points=rule.bonus_points))
    return EarnQuote(base_points=base, points=running + bonus, rules=tuple(applied))


def member_segments_of(account_id: int | None, rules: list[EarningRule]) -> frozenset[int]:
    """The segments among those ``rules`` name (active ones) that the member ``account_id`` is in.

    No query when no rule names a segment (the common case); else one, answered by the app that
    keeps segments (crm) through ``loyalty.signals.member_segments``: a static segment's list, a
    dynamic segment's last snapshot (docs/crm.md, "Segments in earning rules"), so the points of
    an order never depend on when or in which batch the worker posts it. A member not yet enrolled
    (``None``) is in none.
    """
    named = {pk for rule in rules if rule.active for pk in rule.segment_ids}
    if not named or account_id is None:
        return frozenset()
    found: set[int] = set()
    for _, answer in member_segments.send(sender=EarningRule, account_id=account_id, segment_ids=frozenset(named)):
        found |= set(cast("Iterable[int]", answer or ()))
    return frozenset(found & named)


def shop_segments(shop_id: int, segment_ids: Sequence[int]) -> set[int]:
    """Which of ``segment_ids`` are segments of the shop (``loyalty.signals.segments_check``; one query)."""
    found: set[int] = set()
    for _, answer in segments_check.send(sender=EarningRule, shop_id=shop_id, segment_ids=frozenset(segment_ids)):
        found |= set(cast("Iterable[int]", answer or ()))
    return found


#: One cent (the smallest amount of money Patron stores).
CENT = Decimal(1).scaleb(-MONEY_PLACES)


def program_rules(program: LoyaltyProgram) -> list[EarningRule]:
    """The program's active rules with their categories and tiers (three queries)."""
    return list(
        EarningRule.objects.filter(program=program, active=True).prefetch_related("categories", "tiers").order_by("pk")
    )


def program_rules_cached(program: LoyaltyProgram) -> list[EarningRule]:
    """:func:`program_rules` from the per-process cache (``services.tiers.program_config_cached``).

    Keyed on the program's ``config_version``, which triggers bump on any change of its rules,
    their categories or tiers (and of its tiers), from any process: no query on a hit, one (or
    three with rules) on a miss. ``program`` must have been read in the current transaction,
    which has not edited rules (the posting path). Returns a new list of shared rule instances
    with their prefetches (read them, never change them).
    """
    return list(program_config_cached(program, "rules", lambda: tuple(program_rules(program))))


def earning_preview(
    *,
    shop_id: int,
    lines: list[tuple[int, Decimal, str | None]],
    placed_at: dt.datetime | None,
    tier_id: int | None,
    points_paid: Decimal = Decimal("0"),
    segment_ids: Sequence[int] = (),
) -> EarnQuote | None:
    """Quote an order of ``(quantity, unit price, category slug)`` lines for the shop's program.

    ``placed_at`` defaults to now; ``tier_id`` (one of the program's tiers) defaults to the
    entry tier; ``points_paid`` (the part of the goods paid with points, clamped to the goods)
    earns nothing, as on a real order; ``segment_ids`` are segments the member is taken to be in
    (rules naming them apply). Returns ``None`` for an unknown shop, one without a program or with its program
    paused (inactive: real orders earn nothing then either); negative
    amounts or quantities count as zero (a preview never raises for a user's typo).
    """
    from django.utils import timezone

    program = LoyaltyProgram.objects.select_related("shop").filter(shop_id=shop_id, active=True).first()
    if program is None:
        return None
    tiers = list(program.tiers.all())
    tier = next((t for t in tiers if t.pk == tier_id), None) or (
        min(tiers, key=lambda t: t.position) if tiers else None
    )
    slugs = {slug for _, _, slug in lines if slug}
    categories = dict(Category.objects.filter(slug__in=slugs).values_list("slug", "pk")) if slugs else {}
    amounts = [max(Decimal(quantity), Decimal(0)) * max(Decimal(price), Decimal(0)) for quantity, price, _ in lines]
    # The points-paid part earns nothing, spread over the lines exactly as a real order's is.
    paid = min(max(points_paid, Decimal(0)), sum(amounts, Decimal(0))).quantize(CENT)
    shares = points_paid_shares(amounts, paid)
    quote_lines = [
        QuoteLine(amount=amount - share, category_id=categories.get(slug) if slug else None)
        for amount, share, (_, _, slug) in zip(amounts, shares, lines, strict=True)
    ]
    return earning_quote(
        program=program,
        rules=program_rules(program),
        lines=quote_lines,
        at=placed_at or timezone.now(),
        tier=tier,
        segments=frozenset(segment_ids),
    )
