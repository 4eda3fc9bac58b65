"""Money helpers shared by the apps: amounts are ``Decimal`` in the shop's ISO 4217 currency."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction


def decimal_places(value: Decimal) -> int:
    """Digits after the decimal point as written: ``1.50`` -> 2, ``7`` -> 0, ``1E+2`` -> 0.

    ``value`` must be finite (check ``is_finite()`` first): NaN and infinities have no places.
    Raises ``ValueError`` otherwise.
    """
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):  # 'n', 'N' or 'F': NaN, sNaN, infinity
        raise ValueError("decimal_places needs a finite Decimal")
    return max(0, -exponent)


def shares_in_proportion(amounts: list[Decimal], total: Decimal, quantum: Decimal) -> list[Decimal]:
    """Split ``total`` over ``amounts`` in proportion, in whole ``quantum`` units, summing exactly.

    Each amount first gets ``total x amount / Σ amounts`` rounded down to the quantum; the units
    left over go one each to the largest remainders (then the earliest). A share never exceeds its
    amount when ``total <= Σ amounts``. ``total`` must be a whole number of quanta (0.01, or 1 for a
    currency without minor units). Zero shares when ``total`` or the sum is not positive. Exact:
    fractions, no float. Used for points paid on an order's lines and for checkout's basket
    discounts and points (docs/checkout.md, "Rounding").
    """
    goods = sum(amounts, Decimal("0"))
    if total <= 0 or goods <= 0:
        return [Decimal("0") * quantum] * len(amounts)
    exact = [Fraction(total) * Fraction(amount) / Fraction(goods) / Fraction(quantum) for amount in amounts]
    units = [math.floor(value) for value in exact]
    left = int(total / quantum) - sum(units)
    by_remainder = sorted(range(len(amounts)), key=lambda i: (-(exact[i] - units[i]), i))
    for index in by_remainder[:left]:
        units[index] += 1
    return [Decimal(count) * quantum for count in units]
