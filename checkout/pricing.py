"""Pricing a basket: tier discount, promotions, coupons and points as payment (pure, no database).

:func:`price` takes a snapshot of everything that decides a price (``Basket``, ``Member``,
``PromotionRule``, ``CouponState``, ``PointsPolicy``) and returns :class:`Priced`. The checkout
services load the snapshot, call it for a quote, and call it again under row locks to commit, so a
quote and its commit apply one rule. docs/checkout.md explains the rule with worked examples that
``tests/checkout/test_docs_checkout.py`` executes; in short:

1. **Candidates**: the shop's active automatic promotions, the promotions of the coupons typed
   (each coupon checked first: known, not voided, within validity, its member, uses left), and the
   member's tier discount (a PERCENTAGE on every line at priority 0).
2. **Order**: priority, highest first; at equal priority campaigns before the tier discount, then
   the oldest promotion first.
3. **Conditions** of each candidate, in this order, the first failing one being the reason it did
   not apply: dates, weekday, hours (the shop's zone), tier, segment, payment type, total and per-member
   usage limits, qualifying lines, minimum amount (the qualifying lines before any discount).
4. **Stacking**: an EXCLUSIVE promotion applies only when nothing applied before it, and nothing
   applies after it; STACKABLE ones combine. Each discount is computed on what earlier discounts
   left of each line, so a line never goes below zero.
5. **Points** pay last, on the total after discounts: at least the program's minimum, at most its
   share of the basket (fewer points are spent when over, reported as POINTS_CAPPED), worth
   ``points x point value`` rounded down to the currency's minor unit, spread over the lines in
   proportion.

Money is ``Decimal`` rounded to ``quantum`` (the currency's minor unit); points are integers.
Discounts round half up per line; shares of basket discounts and points go by largest remainder.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from babel.numbers import get_currency_precision

from checkout.errors import NotAppliedReason
from checkout.models import PromotionKind, Stacking
from marketplace.models import MONEY_PLACES
from marketplace.money import shares_in_proportion

TIER = "TIER"
PROMOTION = "PROMOTION"
COUPON = "COUPON"
POINTS = "POINTS"
HUNDRED = Decimal(100)


def currency_quantum(currency: str) -> Decimal:
    """The smallest amount of ``currency`` Patron prices in: its minor unit per CLDR (Babel),
    never finer than the two places money is stored with (USD -> 0.01, JPY and IRR -> 1)."""
    return Decimal(1).scaleb(-min(get_currency_precision(currency), MONEY_PLACES))


@dataclass(frozen=True)
class BasketLine:
    """One line of a basket: ``quantity`` units of ``unit_price`` (shop currency)."""

    line_no: int
    quantity: int
    unit_price: Decimal
    product_id: str | None = None
    category_slug: str | None = None
    brand: str | None = None


@dataclass(frozen=True)
class Member:
    """Who is buying: their customer id, tier (with its discount percent) and available points."""

    customer_id: int
    tier_id: int | None = None
    tier_name: str = ""
    tier_discount_percent: Decimal = Decimal("0")
    points_available: int = 0
    blocked: bool = False
    segment_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class PromotionRule:
    """A promotion as pricing needs it, with its unreleased uses in total and by this member."""

    id: int
    name: str
    kind: str
    value: Decimal = Decimal("0")
    buy_quantity: int = 0
    get_quantity: int = 0
    free_product_id: str = ""
    product_ids: frozenset[str] = frozenset()
    category_slugs: frozenset[str] = frozenset()
    brands: frozenset[str] = frozenset()
    tier_ids: frozenset[int] = frozenset()
    segment_ids: frozenset[int] = frozenset()
    payment_types: frozenset[str] = frozenset()
    minimum_amount: Decimal = Decimal("0")
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    weekdays: frozenset[int] = frozenset()
    hour_from: int | None = None
    hour_to: int | None = None
    priority: int = 10
    stacking: str = Stacking.STACKABLE
    usage_limit: int | None = None
    usage_limit_per_member: int | None = None
    active: bool = True
    uses: int = 0
    member_uses: int = 0

    def qualifies(self, line: BasketLine) -> bool:
        """Whether ``line`` counts for this promotion: no product, category or brand list, or on any of them."""
        if not self.product_ids and not self.category_slugs and not self.brands:
            return True
        return (
            (line.product_id is not None and line.product_id in self.product_ids)
            or (line.category_slug is not None and line.category_slug in self.category_slugs)
            or (line.brand is not None and line.brand in self.brands)
        )


@dataclass(frozen=True)
class CouponState:
    """A coupon as pricing needs it: its promotion, owner, limits, validity and current uses."""

    code: str
    promotion: PromotionRule
    customer_id: int | None = None
    max_uses: int | None = 1
    max_uses_per_member: int | None = None
    uses: int = 0
    member_uses: int = 0
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    voided: bool = False


@dataclass(frozen=True)
class PointsPolicy:
    """The program's terms for points as payment: money per point, largest share, fewest points."""

    point_value: Decimal
    max_percent: Decimal = HUNDRED
    min_points: int = 0


@dataclass(frozen=True)
class Discount:
    """Money taken off one line (or, in totals, off the basket) and where it came from."""

    source: str
    label: str
    amount: Decimal
    promotion_id: int | None = None
    coupon_code: str | None = None


@dataclass(frozen=True)
class NotApplied:
    """A coupon, promotion or the points that did not apply, with the reason code."""

    source: str
    reason: NotAppliedReason
    message: str
    promotion_id: int | None = None
    coupon_code: str | None = None


@dataclass
class PricedLine:
    """A basket line as priced: before, the discounts on it, after, and the points paying part of it."""

    line: BasketLine
    price_before: Decimal
    discounts: list[Discount] = field(default_factory=list)
    points_amount: Decimal = Decimal("0")

    @property
    def discount_total(self) -> Decimal:
        """Sum of the line's discounts."""
        return sum((d.amount for d in self.discounts), Decimal("0"))

    @property
    def price_after(self) -> Decimal:
        """Price after discounts (before points): never negative."""
        return self.price_before - self.discount_total

    @property
    def amount_due(self) -> Decimal:
        """What is paid in money for the line: after discounts and points."""
        return self.price_after - self.points_amount


@dataclass
class Priced:
    """The result of :func:`price`; :meth:`as_json` is what a quote stores and a commit compares."""

    currency: str
    lines: list[PricedLine]
    not_applied: list[NotApplied]
    applied: list[tuple[str, int | None, str | None]]
    points_spent: int = 0
    points_amount: Decimal = Decimal("0")

    @property
    def subtotal(self) -> Decimal:
        """Σ price before discounts."""
        return sum((line.price_before for line in self.lines), Decimal("0"))

    @property
    def discount_total(self) -> Decimal:
        """Σ discounts (points are payment, not a discount)."""
        return sum((line.discount_total for line in self.lines), Decimal("0"))

    @property
    def total_due(self) -> Decimal:
        """What the member pays in money: subtotal - discounts - points amount."""
        return self.subtotal - self.discount_total - self.points_amount

    def discounts(self) -> list[Discount]:
        """Discounts summed over lines per source (promotion, coupon, tier) in the order applied, points last."""
        totals: list[Discount] = []
        for source, promotion_id, code in self.applied:
            amount = sum(
                (
                    d.amount
                    for line in self.lines
                    for d in line.discounts
                    if (d.source, d.promotion_id, d.coupon_code) == (source, promotion_id, code)
                ),
                Decimal("0"),
            )
            label = next(
                d.label
                for line in self.lines
                for d in line.discounts
                if (d.source, d.promotion_id, d.coupon_code) == (source, promotion_id, code)
            )
            totals.append(
                Discount(source=source, label=label, amount=amount, promotion_id=promotion_id, coupon_code=code)
            )
        if self.points_spent:
            totals.append(Discount(source=POINTS, label=f"{self.points_spent} points", amount=self.points_amount))
        return totals

    def as_json(self) -> dict[str, Any]:
        """Plain JSON (amounts as strings) of everything the price depends on, for storage and comparison."""

        def discount(d: Discount) -> dict[str, Any]:
            return {
                "source": d.source,
                "label": d.label,
                "amount": str(d.amount),
                "promotionId": d.promotion_id,
                "couponCode": d.coupon_code,
            }

        return {
            "currency": self.currency,
            "lines": [
                {
                    "lineNo": p.line.line_no,
                    "productId": p.line.product_id,
                    "categorySlug": p.line.category_slug,
                    "brand": p.line.brand,
                    "quantity": p.line.quantity,
                    "unitPrice": str(p.line.unit_price),
                    "priceBefore": str(p.price_before),
                    "discounts": [discount(d) for d in p.discounts],
                    "discountTotal": str(p.discount_total),
                    "priceAfter": str(p.price_after),
                    "pointsAmount": str(p.points_amount),
                    "amountDue": str(p.amount_due),
                }
                for p in self.lines
            ],
            "discounts": [discount(d) for d in self.discounts()],
            "notApplied": [
                {
                    "source": n.source,
                    "reason": n.reason.value,
                    "message": n.message,
                    "promotionId": n.promotion_id,
                    "couponCode": n.coupon_code,
                }
                for n in self.not_applied
            ],
            "subtotal": str(self.subtotal),
            "discountTotal": str(self.discount_total),
            "pointsSpent": self.points_spent,
            "pointsAmount": str(self.points_amount),
            "totalDue": str(self.total_due),
        }


@dataclass(frozen=True)
class _Candidate:
    promotion: PromotionRule
    source: str
    coupon_code: str | None
    label: str

    def sort_key(self) -> tuple[int, int, int]:
        return (-self.promotion.priority, 1 if self.source == TIER else 0, self.promotion.id)


def _round(value: Fraction | Decimal, quantum: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    """``value`` as Decimal rounded to ``quantum`` (half up unless told)."""
    exact = Decimal(value.numerator) / Decimal(value.denominator) if isinstance(value, Fraction) else value
    return exact.quantize(quantum, rounding=rounding)


def _coupon_problem(coupon: CouponState, member: Member | None, at: dt.datetime) -> NotApplied | None:
    """Why ``coupon`` cannot be used by ``member`` at ``at``, or ``None``."""

    def refuse(reason: NotAppliedReason, message: str) -> NotApplied:
        return NotApplied(COUPON, reason, message, promotion_id=coupon.promotion.id, coupon_code=coupon.code)

    if coupon.voided:
        return refuse(NotAppliedReason.COUPON_VOIDED, "This coupon was voided.")
    if coupon.valid_from is not None and at < coupon.valid_from:
        return refuse(NotAppliedReason.COUPON_NOT_YET_VALID, "This coupon is not valid yet.")
    if coupon.valid_until is not None and at >= coupon.valid_until:
        return refuse(NotAppliedReason.COUPON_EXPIRED, "This coupon has expired.")
    if coupon.customer_id is not None and (member is None or member.customer_id != coupon.customer_id):
        return refuse(NotAppliedReason.COUPON_OTHER_MEMBER, "This coupon belongs to another member.")
    if coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
        return refuse(NotAppliedReason.COUPON_USED_UP, "This coupon has been used up.")
    if coupon.max_uses_per_member is not None:
        if member is None:
            return refuse(NotAppliedReason.MEMBER_REQUIRED, "This coupon needs a member.")
        if coupon.member_uses >= coupon.max_uses_per_member:
            return refuse(NotAppliedReason.COUPON_MEMBER_LIMIT, "This member has used this coupon as often as allowed.")
    if not coupon.promotion.active:
        return refuse(NotAppliedReason.PROMOTION_INACTIVE, "The coupon's promotion has ended.")
    return None


def _condition_problem(
    rule: PromotionRule, lines: list[PricedLine], member: Member | None, payment_type: str, local: dt.datetime
) -> tuple[NotAppliedReason, str] | None:
    """The first condition of ``rule`` the basket fails (step 3 of the module docstring), or ``None``."""
    at = local
    if (rule.starts_at is not None and at < rule.starts_at) or (rule.ends_at is not None and at >= rule.ends_at):
        return NotAppliedReason.OUTSIDE_DATES, "Not running at this date."
    if rule.weekdays and local.isoweekday() not in rule.weekdays:
        return NotAppliedReason.WRONG_WEEKDAY, "Not running on this day of the week."
    if rule.hour_from is not None and rule.hour_to is not None:
        hour = local.hour
        inside = (
            rule.hour_from <= hour < rule.hour_to
            if rule.hour_from < rule.hour_to
            else hour >= rule.hour_from or hour < rule.hour_to  # a window across midnight
        )
        if not inside:
            return NotAppliedReason.OUTSIDE_HOURS, "Not running at this hour."
    if rule.tier_ids and (member is None or member.tier_id not in rule.tier_ids):
        return NotAppliedReason.TIER_NOT_ELIGIBLE, "Only for members of certain tiers."
    if rule.segment_ids and (member is None or not rule.segment_ids & member.segment_ids):
        return NotAppliedReason.SEGMENT_NOT_ELIGIBLE, "Only for members of certain segments."
    if rule.payment_types and payment_type not in rule.payment_types:
        return NotAppliedReason.PAYMENT_TYPE, "Not for this payment type."
    if rule.usage_limit is not None and rule.uses >= rule.usage_limit:
        return NotAppliedReason.USAGE_LIMIT_REACHED, "This promotion has been used as often as allowed."
    if rule.usage_limit_per_member is not None:
        if member is None:
            return NotAppliedReason.MEMBER_REQUIRED, "This promotion needs a member."
        if rule.member_uses >= rule.usage_limit_per_member:
            return NotAppliedReason.MEMBER_LIMIT_REACHED, "This member has used this promotion as often as allowed."
    qualifying = [p for p in lines if rule.qualifies(p.line)]
    if not qualifying:
        return NotAppliedReason.NO_QUALIFYING_LINES, "No line of the basket qualifies."
    if sum((p.price_before for p in qualifying), Decimal("0")) < rule.minimum_amount:
        return NotAppliedReason.MINIMUM_NOT_REACHED, f"Needs qualifying items worth {rule.minimum_amount} or more."
    return None


def _units(lines: list[PricedLine], rule: PromotionRule) -> list[tuple[Fraction, int]]:
    """Every qualifying unit as (its price now, its line's index), dearest first, then in line order."""
    units = [
        (Fraction(p.price_after) / p.line.quantity, index)
        for index, p in enumerate(lines)
        if rule.qualifies(p.line)
        for _ in range(p.line.quantity)
    ]
    return sorted(units, key=lambda unit: (-unit[0], unit[1]))


def _amounts(rule: PromotionRule, lines: list[PricedLine], quantum: Decimal) -> list[Decimal]:
    """The discount of ``rule`` on each line (step 4), each between 0 and what is left of the line."""
    left = [p.price_after for p in lines]
    per_line: list[Fraction] = [Fraction(0)] * len(lines)
    value = Fraction(rule.value)
    kind = rule.kind
    if kind == PromotionKind.PERCENTAGE:
        per_line = [
            Fraction(left[i]) * value / 100 if rule.qualifies(p.line) else Fraction(0) for i, p in enumerate(lines)
        ]
    elif kind == PromotionKind.FIXED_AMOUNT:
        per_line = [value * p.line.quantity if rule.qualifies(p.line) else Fraction(0) for p in lines]
    elif kind == PromotionKind.BASKET_DISCOUNT:
        eligible = [left[i] if rule.qualifies(p.line) else Decimal("0") for i, p in enumerate(lines)]
        total = min(_round(value, quantum, ROUND_DOWN), sum(eligible, Decimal("0")))
        return shares_in_proportion(eligible, total, quantum)
    elif kind == PromotionKind.FREE_PRODUCT:
        free = max(rule.get_quantity, 1)
        for i, p in enumerate(lines):
            if free and p.line.product_id == rule.free_product_id:
                take = min(free, p.line.quantity)
                per_line[i] = Fraction(left[i]) / p.line.quantity * take
                free -= take
    elif kind == PromotionKind.BUY_X_GET_Y:
        group = rule.buy_quantity + rule.get_quantity
        units = _units(lines, rule)
        for start in range(0, len(units) - group + 1, group):
            for unit_price, index in units[start + rule.buy_quantity : start + group]:
                per_line[index] += unit_price * value / 100
    elif kind == PromotionKind.CHEAPEST_FREE:
        units = _units(lines, rule)
        if units and len(units) >= max(rule.buy_quantity, 1):
            unit_price, index = units[-1]
            per_line[index] += unit_price
    return [min(_round(amount, quantum), left[i]) for i, amount in enumerate(per_line)]


def _points(
    priced: Priced,
    member: Member | None,
    requested: int,
    policy: PointsPolicy,
    quantum: Decimal,
) -> None:
    """Step 5: spend up to ``requested`` points on what discounts left, within the program's terms."""
    if requested <= 0:
        return

    def refuse(reason: NotAppliedReason, message: str) -> None:
        priced.not_applied.append(NotApplied(POINTS, reason, message))

    if member is None:
        return refuse(NotAppliedReason.MEMBER_REQUIRED, "Only members can pay with points.")
    if member.blocked:
        return refuse(NotAppliedReason.MEMBER_BLOCKED, "The shop has blocked this member.")
    if policy.max_percent <= 0 or policy.point_value <= 0:
        return refuse(NotAppliedReason.POINTS_DISABLED, "This shop does not take points as payment.")
    if requested < policy.min_points:
        return refuse(NotAppliedReason.POINTS_BELOW_MINIMUM, f"At least {policy.min_points} points at a time.")
    if requested > member.points_available:
        return refuse(NotAppliedReason.INSUFFICIENT_POINTS, f"Only {member.points_available} points are available.")
    after = sum((p.price_after for p in priced.lines), Decimal("0"))
    cap = _round(Fraction(after) * Fraction(policy.max_percent) / 100, quantum, ROUND_DOWN)
    most = math.floor(Fraction(cap) / Fraction(policy.point_value))
    points = min(requested, most)
    if points < requested:
        refuse(NotAppliedReason.POINTS_CAPPED, f"At most {most} points can pay for this basket.")
        if points < max(policy.min_points, 1):
            return None
    amount = _round(Fraction(points) * Fraction(policy.point_value), quantum, ROUND_DOWN)
    if amount <= 0:
        return None
    shares = shares_in_proportion([p.price_after for p in priced.lines], amount, quantum)
    for line, share in zip(priced.lines, shares, strict=True):
        line.points_amount = share
    priced.points_spent, priced.points_amount = points, amount
    return None


def price(
    *,
    currency: str,
    timezone: str,
    lines: list[BasketLine],
    member: Member | None,
    promotions: list[PromotionRule],
    coupons: list[tuple[str, CouponState | None]],
    points_to_spend: int,
    payment_type: str,
    policy: PointsPolicy,
    at: dt.datetime,
) -> Priced:
    """Price ``lines`` for ``member`` (``None``: a guest) at ``at`` (aware): the module docstring's rule.

    ``promotions`` are the shop's automatic promotions (active, no coupon needed); ``coupons``
    pairs each code as typed (canonical form) with its state, ``None`` for an unknown code.
    Never raises for a coupon, promotion or points that do not apply: they are listed in
    ``not_applied`` with a :class:`NotAppliedReason`.
    """
    quantum = currency_quantum(currency)
    local = at.astimezone(zoneinfo.ZoneInfo(timezone))
    priced_lines = [
        PricedLine(line=line, price_before=_round(line.unit_price * line.quantity, quantum)) for line in lines
    ]
    priced = Priced(currency=currency, lines=priced_lines, not_applied=[], applied=[])
    candidates: list[_Candidate] = []
    seen_codes: set[str] = set()
    coupon_promotions: set[int] = set()
    for code, coupon in coupons:
        if code in seen_codes or (coupon is not None and coupon.promotion.id in coupon_promotions):
            priced.not_applied.append(
                NotApplied(COUPON, NotAppliedReason.COUPON_DUPLICATE, "Already applied.", coupon_code=code)
            )
            continue
        seen_codes.add(code)
        if coupon is None:
            priced.not_applied.append(
                NotApplied(COUPON, NotAppliedReason.COUPON_UNKNOWN, "No such coupon in this shop.", coupon_code=code)
            )
            continue
        problem = _coupon_problem(coupon, member, at)
        if problem is not None:
            priced.not_applied.append(problem)
            continue
        coupon_promotions.add(coupon.promotion.id)
        candidates.append(_Candidate(coupon.promotion, COUPON, code, f"{coupon.promotion.name} ({code})"))
    candidates += [
        _Candidate(rule, PROMOTION, None, rule.name)
        for rule in promotions
        if rule.active and rule.id not in coupon_promotions
    ]
    if member is not None and member.tier_discount_percent > 0 and not member.blocked:
        tier_rule = PromotionRule(
            id=0, name=member.tier_name, kind=PromotionKind.PERCENTAGE, value=member.tier_discount_percent, priority=0
        )
        candidates.append(_Candidate(tier_rule, TIER, None, f"{member.tier_name} tier {member.tier_discount_percent}%"))
    exclusive_applied = False
    for candidate in sorted(candidates, key=_Candidate.sort_key):
        rule = candidate.promotion
        promotion_id = rule.id if candidate.source != TIER else None
        refusal: tuple[NotAppliedReason, str] | None = _condition_problem(
            rule, priced_lines, member, payment_type, local
        )
        amounts: list[Decimal] = []
        if refusal is None and priced.applied and (exclusive_applied or rule.stacking == Stacking.EXCLUSIVE):
            refusal = NotAppliedReason.NOT_STACKABLE, "Does not combine with a discount already applied."
        if refusal is None:
            amounts = _amounts(rule, priced_lines, quantum)
            if not any(amounts):
                refusal = NotAppliedReason.NO_QUALIFYING_LINES, "The basket does not have what this promotion needs."
        if refusal is not None:
            reason, message = refusal
            priced.not_applied.append(
                NotApplied(
                    candidate.source, reason, message, promotion_id=promotion_id, coupon_code=candidate.coupon_code
                )
            )
            continue
        for line, amount in zip(priced_lines, amounts, strict=True):
            if amount:
                line.discounts.append(
                    Discount(candidate.source, candidate.label, amount, promotion_id, candidate.coupon_code)
                )
        priced.applied.append((candidate.source, promotion_id, candidate.coupon_code))
        exclusive_applied = exclusive_applied or rule.stacking == Stacking.EXCLUSIVE
    _points(priced, member, points_to_spend, policy, quantum)
    return priced
