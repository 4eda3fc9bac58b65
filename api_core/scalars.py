"""Scalars that refuse hostile values before any resolver runs (Saleor ``saleor/graphql/core/scalars.py``).

They keep the names, serialisations and Python types of strawberry's built-in scalars (the
schema's argument types do not change), and are installed with ``StrawberryConfig(scalar_map=
SCALAR_MAP)`` in ``config/schema.py``:

- ``Decimal``: finite (no ``NaN``, ``sNaN``, ``Infinity``), below 10^12 in magnitude (what the
  widest money column, ``numeric(14, 2)``, holds) and with at most 20 decimal places (no column
  has more than 6, so a service still answers a finer value with its own coded refusal, naming
  the field); each column's own range and places stay the service's check.
- ``Date`` and ``DateTime``: years 1800 to 2999, so that no date maths (time zones, windows,
  "the day after") leaves Python's calendar.

A refused value is a GraphQL error with ``extensions.code`` ``INVALID_INPUT``; the input guard
(``api_core.input_guard``) adds ``extensions.field`` for values sent as variables.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from typing import Any

import dateutil.parser
from graphql import GraphQLError
from strawberry.types.scalar import ScalarDefinition

INVALID_INPUT = "INVALID_INPUT"

#: Largest magnitude a Decimal input may have (exclusive): 10^12, what ``numeric(14, 2)`` holds.
DECIMAL_LIMIT = decimal.Decimal(10) ** 12
#: Most decimal places a Decimal input may have.
DECIMAL_MAX_PLACES = 20
#: Years a Date or DateTime input may fall in (inclusive).
MIN_YEAR, MAX_YEAR = 1800, 2999


def invalid_input(message: str) -> GraphQLError:
    """The error a scalar raises for a refused value: ``extensions.code`` INVALID_INPUT, no field yet."""
    return GraphQLError(message, extensions={"code": INVALID_INPUT, "field": None})


def parse_decimal(value: object) -> decimal.Decimal:
    """A finite Decimal of magnitude below :data:`DECIMAL_LIMIT` with at most 20 places, from a
    string or a number; anything else raises :func:`invalid_input`."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid_input("A decimal must be a string or a number.")
    text = str(value).strip()
    if len(text) > 64:
        raise invalid_input("A decimal has at most 64 characters.")
    try:
        number = decimal.Decimal(text)
    except (decimal.InvalidOperation, ValueError):
        raise invalid_input(f"Not a decimal number: {text[:40]!r}.") from None
    if not number.is_finite():
        raise invalid_input("A decimal must be a finite number (not NaN or Infinity).")
    if abs(number) >= DECIMAL_LIMIT:
        raise invalid_input("A decimal must be below 1000000000000 in magnitude.")
    exponent = number.normalize().as_tuple().exponent  # trailing zeros (1.5000000) do not count
    if isinstance(exponent, int) and exponent < -DECIMAL_MAX_PLACES:
        raise invalid_input(f"A decimal has at most {DECIMAL_MAX_PLACES} decimal places.")
    return number


def _in_range(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise invalid_input(f"Dates must fall in the years {MIN_YEAR} to {MAX_YEAR}.")


def parse_date(value: object) -> dt.date:
    """An ISO date (``YYYY-MM-DD``) in the years 1800 to 2999; anything else raises :func:`invalid_input`."""
    if not isinstance(value, str) or len(value) > 32:
        raise invalid_input("A date must be an ISO date string (YYYY-MM-DD).")
    try:
        parsed = dt.date.fromisoformat(value)
    except ValueError:
        raise invalid_input(f"Not an ISO date: {value[:32]!r}.") from None
    _in_range(parsed.year)
    return parsed


def parse_datetime(value: object) -> dt.datetime:
    """An ISO 8601 date-time in the years 1800 to 2999; anything else raises :func:`invalid_input`."""
    if not isinstance(value, str) or len(value) > 64:
        raise invalid_input("A date-time must be an ISO 8601 string.")
    try:
        parsed = dateutil.parser.isoparse(value)
    except (ValueError, OverflowError):
        raise invalid_input(f"Not an ISO 8601 date-time: {value[:64]!r}.") from None
    _in_range(parsed.year)
    return parsed


def _isoformat(value: Any) -> str:
    return str(value.isoformat())


def _definition(name: str, description: str, origin: type, parse: Callable[[object], Any], serialize: Any) -> Any:
    return ScalarDefinition(
        name=name,
        description=description,
        specified_by_url=None,
        serialize=serialize,
        parse_value=parse,
        parse_literal=None,
        origin=origin,
    )


#: Python type -> the scalar that replaces strawberry's built-in one of the same name.
SCALAR_MAP: dict[object, ScalarDefinition] = {
    decimal.Decimal: _definition(
        "Decimal",
        "Decimal (fixed-point), as a string: finite, below 10^12 in magnitude, at most 20 decimal places "
        "(else INVALID_INPUT).",
        decimal.Decimal,
        parse_decimal,
        str,
    ),
    dt.date: _definition(
        "Date", "Date (isoformat), years 1800 to 2999 (else INVALID_INPUT).", dt.date, parse_date, _isoformat
    ),
    dt.datetime: _definition(
        "DateTime",
        "Date with time (isoformat), years 1800 to 2999 (else INVALID_INPUT).",
        dt.datetime,
        parse_datetime,
        _isoformat,
    ),
}
