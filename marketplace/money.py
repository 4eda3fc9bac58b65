"""Money helpers shared by the apps: amounts are ``Decimal`` in the shop's ISO 4217 currency."""

from __future__ import annotations

from decimal import Decimal


def decimal_places(value: Decimal) -> int:
    """Digits after the decimal point as written: ``1.50`` -> 2, ``7`` -> 0, ``1E+2`` -> 0.

    ``value`` must be finite (check ``is_finite()`` first): NaN and infinities have no places.
    Raises ``ValueError`` otherwise.
    """
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):  # 'n', 'N' or 'F': NaN, sNaN, infinity
        raise ValueError("decimal_places needs a finite Decimal")
    return max(0, -exponent)
