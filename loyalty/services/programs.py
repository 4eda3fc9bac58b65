"""Creating shops' loyalty programs, including the presets used by the importers and the demo."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from loyalty.models import LoyaltyProgram, Tier, TierBasis, TierWindow
from marketplace.models import Shop


@dataclass(frozen=True)
class TierSpec:
    """A tier to create: ``threshold`` in the program's basis (currency or points)."""

    name: str
    threshold: Decimal
    multiplier: Decimal
    color: str
    benefits: tuple[str, ...] = ()
    discount_percent: Decimal = Decimal("0")


def standard_tiers(thresholds: tuple[int, int, int, int]) -> list[TierSpec]:
    """Bronze / Silver / Gold / Platinum at ``thresholds`` with multipliers 1.0 / 1.1 / 1.25 / 1.5."""
    names = ("Bronze", "Silver", "Gold", "Platinum")
    multipliers = ("1.0", "1.1", "1.25", "1.5")
    colors = ("#b87333", "#a8a9ad", "#d4af37", "#5b6f8a")
    benefits = (
        ("Earn 1 point per currency unit",),
        ("10% more points",),
        ("25% more points", "Free shipping"),
        ("50% more points", "Free shipping", "Priority support"),
    )
    return [
        TierSpec(name=n, threshold=Decimal(t), multiplier=Decimal(m), color=c, benefits=b)
        for n, t, m, c, b in zip(names, thresholds, multipliers, colors, benefits, strict=True)
    ]


def program_create(
    *,
    shop: Shop,
    name: str,
    tiers: list[TierSpec],
    points_per_currency_unit: Decimal = Decimal("1"),
    minimum_order_amount: Decimal = Decimal("0"),
    pending_days: int | None = None,
    expiry_months: int | None = None,
    tier_basis: str = TierBasis.SPEND,
    tier_window: str = TierWindow.LIFETIME,
    description: str = "",
) -> LoyaltyProgram:
    """Create the shop's program with its tiers (lowest first; the first must be at 0).

    Raises ``ValueError`` for tiers that are not strictly increasing from 0 (the console's tier
    mutations, ``services.tier_admin``, give coded errors for these rules). Runs in one transaction.
    """
    thresholds = [tier.threshold for tier in tiers]
    if tiers and (thresholds[0] != 0 or thresholds != sorted(set(thresholds))):
        raise ValueError("Tier thresholds must start at 0 and increase strictly.")
    with transaction.atomic():
        program = LoyaltyProgram.objects.create(
            shop=shop,
            name=name,
            description=description,
            points_per_currency_unit=points_per_currency_unit,
            minimum_order_amount=minimum_order_amount,
            pending_days=pending_days,
            expiry_months=expiry_months,
            tier_basis=tier_basis,
            tier_window=tier_window,
        )
        Tier.objects.bulk_create(
            Tier(
                program=program,
                name=spec.name,
                position=position,
                threshold=spec.threshold,
                multiplier=spec.multiplier,
                discount_percent=spec.discount_percent,
                benefits=list(spec.benefits),
                color=spec.color,
            )
            for position, spec in enumerate(tiers)
        )
    return program
